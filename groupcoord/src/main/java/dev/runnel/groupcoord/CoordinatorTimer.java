package dev.runnel.groupcoord;

import java.util.function.Supplier;

/**
 * Keyed timeouts of one shard (session, join, sync, retention). Scheduling a key that is already scheduled replaces
 * it. When a timeout fires, its operation runs like a request: serialised with the shard's other operations, its
 * records appended before anything else happens.
 */
public interface CoordinatorTimer {
    void schedule(String key, long delayMs, Supplier<CoordinatorResult<Void>> operation);

    void cancel(String key);

    boolean isScheduled(String key);
}
