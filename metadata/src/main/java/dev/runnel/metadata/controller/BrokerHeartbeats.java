package dev.runnel.metadata.controller;

import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The active controller's memory of when each broker last sent a heartbeat (not in the log: a new controller starts
 * every session afresh, as Kafka's does). Time is injected.
 */
public final class BrokerHeartbeats {
    private final LongSupplier clock;
    private final long sessionTimeoutMs;
    private final Map<Integer, Long> lastContact = new HashMap<>();
    /** The metadata offset a broker must have applied before it is caught up (its registration's offset). */
    private final Map<Integer, Long> caughtUpAt = new HashMap<>();

    public BrokerHeartbeats(LongSupplier clock, long sessionTimeoutMs) {
        this.clock = clock;
        this.sessionTimeoutMs = sessionTimeoutMs;
    }

    public void touch(int brokerId) {
        lastContact.put(brokerId, clock.getAsLong());
    }

    public void registered(int brokerId, long registrationOffset) {
        caughtUpAt.put(brokerId, registrationOffset);
        touch(brokerId);
    }

    /** With no registration offset known (registered under an earlier controller): {@code fallbackOffset}. */
    public boolean caughtUp(int brokerId, long brokerOffset, long fallbackOffset) {
        return brokerOffset >= caughtUpAt.getOrDefault(brokerId, fallbackOffset);
    }

    /** Whether the broker's session has expired (a broker never heard from counts from {@link #touch}). */
    public boolean expired(int brokerId) {
        Long last = lastContact.get(brokerId);
        if (last == null) {
            touch(brokerId);
            return false;
        }
        return clock.getAsLong() - last > sessionTimeoutMs;
    }

    public void forget(int brokerId) {
        lastContact.remove(brokerId);
        caughtUpAt.remove(brokerId);
    }

    public void clear() {
        lastContact.clear();
        caughtUpAt.clear();
    }
}
