package dev.runnel.replication.leader;

import dev.runnel.log.EpochEndOffset;

/**
 * The leader's check of a fetch that names the last leader epoch the fetcher saw (Fetch v12+ {@code LastFetchedEpoch};
 * Kafka's truncation on fetch): when the fetcher's log cannot be a prefix of the leader's, the answer is the
 * {@code DivergingEpoch} (the leader's largest epoch &lt;= the fetcher's and where it ends) instead of records. The fetch
 * path and the replication simulation tests both decide with it.
 */
public final class ReplicaFetchCheck {
    public enum Kind { READ, OUT_OF_RANGE, DIVERGING }

    /** What to answer; {@code epoch}/{@code endOffset} are the diverging epoch's, for {@link Kind#DIVERGING}. */
    public record Verdict(Kind kind, int epoch, long endOffset) {
    }

    private static final Verdict READ = new Verdict(Kind.READ, -1, -1L);
    private static final Verdict OUT_OF_RANGE = new Verdict(Kind.OUT_OF_RANGE, -1, -1L);

    private ReplicaFetchCheck() {
    }

    /**
     * @param endOfLastFetchedEpoch the leader's answer to "end offset of epoch {@code lastFetchedEpoch}" (its largest
     *                              epoch &lt;= it and that epoch's end offset; negative when it has none)
     */
    public static Verdict check(long fetchOffset, int lastFetchedEpoch, long logStartOffset,
                                EpochEndOffset endOfLastFetchedEpoch) {
        if (lastFetchedEpoch < 0) {
            return READ;
        }
        EpochEndOffset eo = endOfLastFetchedEpoch;
        if (eo.endOffset() < 0 || eo.leaderEpoch() < 0 || fetchOffset < logStartOffset) {
            return OUT_OF_RANGE;
        }
        if (eo.leaderEpoch() < lastFetchedEpoch || eo.endOffset() < fetchOffset) {
            return new Verdict(Kind.DIVERGING, eo.leaderEpoch(), eo.endOffset());
        }
        return READ;
    }

    /**
     * Whether a replica's fetch moves its log end offset in the leader's books ({@link LeaderState#onFollowerFetch}):
     * as Kafka's leader, only a fetch it answers with records counts — in the leader's epoch (or one that names none),
     * inside the log, and not diverging. A diverged follower fetching at offset N does not have the leader's
     * records below N, so counting it could commit (and acknowledge) records it lacks.
     */
    public static boolean countsAsProgress(int currentLeaderEpoch, int leaderEpoch, long fetchOffset, int lastFetchedEpoch,
                                           long logStartOffset, long logEndOffset,
                                           java.util.function.IntFunction<EpochEndOffset> endOffsetForEpoch) {
        if (currentLeaderEpoch >= 0 && currentLeaderEpoch != leaderEpoch) {
            return false;
        }
        if (fetchOffset < logStartOffset || fetchOffset > logEndOffset) {
            return false;
        }
        return lastFetchedEpoch < 0
                || check(fetchOffset, lastFetchedEpoch, logStartOffset, endOffsetForEpoch.apply(lastFetchedEpoch)).kind() == Kind.READ;
    }
}
