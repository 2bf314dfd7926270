package dev.runnel.replication.leader;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What a partition's leader knows about its followers, and the decisions Kafka's leader makes from it
 * ({@code Partition.scala}: updateFollowerFetchState, maybeExpandIsr, maybeShrinkIsr, maybeIncrementLeaderHW). Pure:
 * the caller passes the time and the leader's log end offset, and sends the proposed ISR changes to the controller.
 *
 * <ul>
 *   <li>A follower's log end offset is the offset it fetches from. It is caught up ({@code lastCaughtUpMs} moves)
 *       when it fetches at or past the leader's log end offset, or at or past the leader's log end offset at its
 *       previous fetch.</li>
 *   <li>The high watermark is the smallest log end offset of the "maximal ISR" (the committed ISR plus replicas a
 *       pending expansion adds), and it does not move at all while that ISR is smaller than
 *       {@code min(min.insync.replicas, replication factor)} (KAFKA-15583).</li>
 *   <li>A follower joins the ISR once its log end offset reaches the high watermark and the start offset of the
 *       leader's epoch; one leaves it when it has not been caught up for {@code replica.lag.time.max.ms}. One
 *       change in flight at a time.</li>
 * </ul>
 */
public final class LeaderState {
    private final int self;
    private final List<Integer> replicas;
    private final int leaderEpoch;
    private final long epochStartOffset;
    private final long lagTimeMaxMs;
    private final int minIsr;
    private final Map<Integer, Follower> followers = new HashMap<>();
    private List<Integer> isr;
    private int partitionEpoch;
    private List<Integer> pendingIsr;
    private long highWatermark;

    private static final class Follower {
        long logEndOffset = -1;
        long lastCaughtUpMs;
        long lastFetchMs = -1;
        long leaderEndAtPreviousFetch = -1;
    }

    /**
     * @param epochStartOffset the leader's log end offset when it became leader in this epoch
     * @param highWatermark    the high watermark it starts with (what the log had)
     * @param minInsyncReplicas {@code min.insync.replicas} (capped at the replication factor here)
     */
    public LeaderState(int self, List<Integer> replicas, List<Integer> isr, int leaderEpoch, int partitionEpoch,
                       long epochStartOffset, long highWatermark, long nowMs, long lagTimeMaxMs, int minInsyncReplicas) {
        this.self = self;
        this.replicas = List.copyOf(replicas);
        this.isr = List.copyOf(isr);
        this.leaderEpoch = leaderEpoch;
        this.partitionEpoch = partitionEpoch;
        this.epochStartOffset = epochStartOffset;
        this.highWatermark = highWatermark;
        this.lagTimeMaxMs = lagTimeMaxMs;
        this.minIsr = Math.max(1, Math.min(minInsyncReplicas, replicas.size()));
        for (int r : replicas) {
            if (r != self) {
                Follower f = new Follower();
                // As Kafka: a replica in the ISR when this leader starts counts as caught up now.
                f.lastCaughtUpMs = isr.contains(r) ? nowMs : 0;
                followers.put(r, f);
            }
        }
    }

    public int leaderEpoch() {
        return leaderEpoch;
    }

    public int partitionEpoch() {
        return partitionEpoch;
    }

    public synchronized List<Integer> isr() {
        return isr;
    }

    public List<Integer> replicas() {
        return replicas;
    }

    public synchronized long highWatermark() {
        return highWatermark;
    }

    /** The ISR the high watermark and acks=all count: the committed one, or the larger one a pending change proposes. */
    public synchronized List<Integer> maximalIsr() {
        if (pendingIsr == null || pendingIsr.size() <= isr.size()) {
            return isr;
        }
        return pendingIsr;
    }

    /** Whether acks=all writes are refused before the append (NOT_ENOUGH_REPLICAS). */
    public synchronized boolean underMinIsr() {
        return isr.size() < minIsr;
    }

    /** Records a follower's fetch; returns true when the caller should recompute the high watermark. */
    public synchronized boolean onFollowerFetch(int replica, long fetchOffset, long leaderLogEnd, long nowMs) {
        Follower f = followers.get(replica);
        if (f == null) {
            return false;
        }
        if (fetchOffset >= leaderLogEnd || (f.leaderEndAtPreviousFetch >= 0 && fetchOffset >= f.leaderEndAtPreviousFetch)) {
            f.lastCaughtUpMs = Math.max(f.lastCaughtUpMs, nowMs);
        }
        f.logEndOffset = fetchOffset;
        f.lastFetchMs = nowMs;
        f.leaderEndAtPreviousFetch = leaderLogEnd;
        return true;
    }

    /**
     * The new high watermark for a leader whose log ends at {@code leaderLogEnd}, or -1 when it does not move
     * (never backwards; not at all while the ISR is under min.insync.replicas).
     */
    public synchronized long maybeIncrementHighWatermark(long leaderLogEnd) {
        List<Integer> counted = maximalIsr();
        if (counted.size() < minIsr) {
            return -1;
        }
        long min = leaderLogEnd;
        for (int r : counted) {
            if (r == self) {
                continue;
            }
            Follower f = followers.get(r);
            long leo = f == null ? -1 : f.logEndOffset;
            min = Math.min(min, leo);
        }
        if (min > highWatermark) {
            highWatermark = min;
            return min;
        }
        return -1;
    }

    /** A follower that may join the ISR now (caught up to the high watermark and this epoch's start), or null. */
    public synchronized List<Integer> isrExpansion() {
        return isrExpansion(id -> true);
    }

    /** As {@link #isrExpansion()}, for followers {@code eligible} accepts (registered, unfenced, not shutting down). */
    public synchronized List<Integer> isrExpansion(java.util.function.IntPredicate eligible) {
        if (pendingIsr != null) {
            return null;
        }
        for (int r : replicas) {
            if (r == self || isr.contains(r)) {
                continue;
            }
            Follower f = followers.get(r);
            if (f != null && eligible.test(r) && f.logEndOffset >= highWatermark && f.logEndOffset >= epochStartOffset) {
                List<Integer> next = new ArrayList<>(isr);
                next.add(r);
                pendingIsr = List.copyOf(next);
                return pendingIsr;
            }
        }
        return null;
    }

    /** The ISR without the followers that lagged longer than replica.lag.time.max.ms, or null when none did. */
    public synchronized List<Integer> isrShrink(long nowMs, long leaderLogEnd) {
        if (pendingIsr != null) {
            return null;
        }
        List<Integer> next = new ArrayList<>(isr);
        boolean changed = false;
        for (int r : isr) {
            if (r == self) {
                continue;
            }
            Follower f = followers.get(r);
            boolean caughtUp = f != null && (f.logEndOffset >= leaderLogEnd || nowMs - f.lastCaughtUpMs <= lagTimeMaxMs);
            if (!caughtUp) {
                next.remove(Integer.valueOf(r));
                changed = true;
            }
        }
        if (!changed) {
            return null;
        }
        pendingIsr = List.copyOf(next);
        return pendingIsr;
    }

    /**
     * The controller committed an ISR (the answer to a proposal, or a change it made itself). Only a newer partition
     * epoch changes anything: the same epoch again (metadata that changed elsewhere, or the image and the answer both
     * reporting one change) must not drop a proposal in flight, or the high watermark would stop counting a replica
     * the controller may still add (and later elect) — found by the replication simulation.
     */
    public synchronized void isrCommitted(List<Integer> newIsr, int newPartitionEpoch) {
        if (newPartitionEpoch <= partitionEpoch) {
            return;
        }
        isr = List.copyOf(newIsr);
        partitionEpoch = newPartitionEpoch;
        pendingIsr = null;
    }

    /** The proposal failed (or was answered with another state): allow a new one. */
    public synchronized void isrProposalFailed() {
        pendingIsr = null;
    }

    public synchronized boolean changeInFlight() {
        return pendingIsr != null;
    }

    /** A follower's last known log end offset (-1 unknown). */
    public synchronized long followerLogEnd(int replica) {
        Follower f = followers.get(replica);
        return f == null ? -1 : f.logEndOffset;
    }
}
