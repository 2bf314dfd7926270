package dev.runnel.replication;

import dev.runnel.log.AppendResult;
import dev.runnel.log.EpochEndOffset;
import dev.runnel.wire.Errors;
import dev.runnel.wire.records.BatchCursor;
import dev.runnel.wire.records.RecordBatch;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a follower does with its leader's answers (Kafka's AbstractFetcherThread rules), apart from the network: append
 * fetched batches, truncate on a diverging epoch or an out-of-range fetch offset, and truncate a log without leader
 * epochs to its high watermark before its first fetch. The fetcher thread calls it with the answers it received; the
 * replication simulation tests call it with answers computed in memory, so both run the same decisions.
 *
 * <p>A refusal (the answer does not fit the log) is a {@link Problem}; the caller backs the partition off.
 */
final class FollowerFetchLogic {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicaFetcherThread.class);

    /** The answer does not fit the local log; the message says why. */
    static final class Problem extends Exception {
        final boolean warn;

        Problem(boolean warn, String message) {
            super(message, null, false, false);
            this.warn = warn;
        }
    }

    private FollowerFetchLogic() {
    }

    /**
     * Before a partition's first fetch: a log that has records but no leader epoch cannot be checked against the
     * leader's epochs (a Fetch without LastFetchedEpoch gets no DivergingEpoch), so, as Kafka's fetcher does for a
     * partition without a latest epoch, it is truncated to its high watermark; what lies above it is fetched again.
     * Returns whether it truncated.
     */
    static boolean truncateIfWithoutEpoch(FollowerPartition p, String name, int leaderId) throws IOException {
        long logEnd = p.logEndOffset();
        long hw = Math.max(p.logStartOffset(), p.highWatermark());
        if (p.lastFetchedEpoch() >= 0 || logEnd <= hw) {
            return false;
        }
        LOG.info("Truncating {} from log end offset {} to its high watermark {} before following leader {}: the log "
                + "has no leader epoch to compare with the leader's", name, logEnd, hw, leaderId);
        p.truncateTo(hw);
        return true;
    }

    /**
     * Appends the whole batches of a fetch response made at {@code fetchOffset} (the log end offset) and takes the
     * leader's high watermark and log start offset. Returns the bytes appended.
     */
    static int appendFetched(FollowerPartition p, String name, int leaderId, long fetchOffset, ByteBuffer buffer,
                             long leaderHighWatermark, long leaderLogStartOffset) throws IOException, Problem {
        BatchCursor cursor = new BatchCursor(buffer);
        long firstBase = -1L;
        long firstLast = -1L;
        while (cursor.next()) {
            if (firstBase < 0) {
                RecordBatch b = cursor.batch();
                firstBase = b.baseOffset();
                firstLast = b.lastOffset();
            }
        }
        // whole batches only: a leader may cut the last batch of a response short (Kafka's followers ignore the rest)
        int validBytes = firstBase < 0 ? 0 : cursor.nextPosition() - buffer.position();
        if (validBytes == 0 && buffer.hasRemaining()) {
            throw new Problem(true, "leader " + leaderId + " sent " + buffer.remaining() + " bytes at offset "
                    + fetchOffset + " without one complete batch");
        }
        if (validBytes > 0) {
            if (firstBase < fetchOffset) {
                if (firstLast >= fetchOffset && p.logStartOffset() == fetchOffset) {
                    // The leader's log start is inside a batch (DeleteRecords) and our log is empty there: Kafka's
                    // follower restarts its log at the batch's base offset and appends the whole batch.
                    LOG.info("Truncating {} fully to restart it at offset {}: the first batch from leader {} starts there, "
                            + "below our empty log's start offset {}", name, firstBase, leaderId, fetchOffset);
                    p.truncateFullyAndStartAt(firstBase);
                } else {
                    throw new Problem(true, "leader " + leaderId + " sent a batch at offsets [" + firstBase + ", "
                            + firstLast + "] for fetch offset " + fetchOffset);
                }
            }
            ByteBuffer batches = buffer.duplicate();
            batches.limit(buffer.position() + validBytes);
            AppendResult result = p.appendAsFollower(batches.slice());
            if (!result.isOk()) {
                throw new Problem(true, "appending " + validBytes + " bytes fetched at offset " + fetchOffset
                        + " failed: " + Errors.forCode((short) result.errorCode()) + " " + result.errorMessage());
            }
        }
        p.updateHighWatermark(leaderHighWatermark);
        if (leaderLogStartOffset >= 0) {
            p.maybeIncrementLogStartOffset(leaderLogStartOffset);
        }
        return validBytes;
    }

    /**
     * The leader says our log diverges (Kafka's truncation on fetch, KIP-595/AbstractFetcherThread): truncate to
     * min(leader's end offset of the epoch, our end offset of the largest epoch &lt;= it, our log end). When our largest
     * such epoch is a smaller one, this is an intermediate point: the next fetch, with our new last epoch, may get
     * another DivergingEpoch.
     */
    static void truncateToDivergingEpoch(FollowerPartition p, String name, int leaderId, int divergingEpoch,
                                         long divergingEndOffset) throws IOException, Problem {
        long logEnd = p.logEndOffset();
        if (divergingEndOffset < 0) {
            throw new Problem(true, "leader " + leaderId + " sent a diverging epoch " + divergingEpoch
                    + " without an end offset");
        }
        EpochEndOffset local = p.endOffsetForEpoch(divergingEpoch);
        long target;
        String reason;
        if (local == null || local.leaderEpoch() < 0 || local.endOffset() < 0) {
            target = Math.min(divergingEndOffset, logEnd);
            reason = "we track no epoch <= " + divergingEpoch;
        } else if (local.leaderEpoch() != divergingEpoch) {
            target = Math.min(local.endOffset(), logEnd);
            reason = "our largest epoch <= " + divergingEpoch + " is " + local.leaderEpoch() + ", ending at "
                    + local.endOffset() + " (intermediate truncation)";
        } else {
            target = Math.min(Math.min(local.endOffset(), divergingEndOffset), logEnd);
            reason = "our epoch " + local.leaderEpoch() + " ends at " + local.endOffset();
        }
        if (target >= logEnd) {
            // No record to remove, but our leader-epoch cache names an epoch the leader never had (one this replica
            // started as a leader without writing in it): truncating at the log end drops it, as Kafka's
            // truncateFromEnd does, so the next fetch's LastFetchedEpoch agrees with the leader.
            LOG.info("{}: dropping leader epochs from offset {} on (the log end): leader {} reports diverging epoch {} ending at {}",
                    name, logEnd, leaderId, divergingEpoch, divergingEndOffset);
            p.truncateTo(logEnd);
            return;
        }
        LOG.info("Truncating {} from log end offset {} to {}: leader {} reports diverging epoch {} ending at {}; {}",
                name, logEnd, target, leaderId, divergingEpoch, divergingEndOffset, reason);
        p.truncateTo(target);
    }

    /**
     * OFFSET_OUT_OF_RANGE (Kafka's fetchOffsetAndTruncate), with the leader's log end offset and, when it asked, its
     * log start offset (-1 when not asked): if we are ahead, truncate to the leader's end; if our log ends before the
     * leader's start, empty it and restart it there.
     */
    static void truncateOutOfRange(FollowerPartition p, String name, int leaderId, long fetchOffset, long leaderStart,
                                   long leaderEnd) throws IOException, Problem {
        long logEnd = p.logEndOffset();
        if (leaderEnd < logEnd) {
            // e.g. after an unclean election: the new leader's log is shorter than ours
            LOG.info("Truncating {} from log end offset {} to {}: fetch offset {} is out of range and leader {}'s "
                    + "log ends at {}", name, logEnd, leaderEnd, fetchOffset, leaderId, leaderEnd);
            p.truncateTo(leaderEnd);
        } else if (leaderStart > logEnd) {
            LOG.info("Truncating {} fully and restarting it at offset {}: fetch offset {} is out of range and "
                    + "leader {}'s log starts at {}, after our log end offset {}", name, leaderStart, fetchOffset,
                    leaderId, leaderStart, logEnd);
            p.truncateFullyAndStartAt(leaderStart);
        } else {
            throw new Problem(false, "fetch offset " + fetchOffset + " out of range, yet within leader "
                    + leaderId + "'s log [" + leaderStart + ", " + leaderEnd + ")");
        }
    }
}
