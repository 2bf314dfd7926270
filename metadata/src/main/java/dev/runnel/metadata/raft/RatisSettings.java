package dev.runnel.metadata.raft;

/**
 * Tuning of the Ratis-backed metadata log ({@link RatisMetadataLog}). All times are milliseconds.
 *
 * <p>Mapping from Kafka's controller settings: {@code controller.quorum.election.timeout.ms} (1000) is the lower bound
 * of Ratis' randomized election timeout ({@code raft.server.rpc.timeout.min}); the upper bound is twice that, as Kafka
 * also randomizes up to 2x. The leader heartbeats every {@code electionTimeoutMinMs / 2}. With 1000/2000 a killed
 * leader is replaced after roughly 1.5-2.5 s (detection + pre-vote + vote); halving both halves that but makes a
 * GC pause of ~1 s on the leader enough to lose leadership.
 *
 * @param electionTimeoutMinMs      lower bound of the randomized election timeout
 * @param electionTimeoutMaxMs      upper bound of the randomized election timeout
 * @param firstElectionTimeoutMinMs lower bound of the timeout before the first election after start-up (lets a
 *                                  single voter, or a cluster started at once, elect a leader quickly)
 * @param firstElectionTimeoutMaxMs upper bound of that first timeout
 * @param requestTimeoutMs          timeout of one Raft RPC attempt (server and client side); a controller call or an
 *                                  observer fetch to a dead or partitioned leader is retried elsewhere after it
 * @param snapshotThreshold         take a snapshot after this many applied log entries since the last one
 * @param snapshotIntervalMs        also take a snapshot this often if anything was applied since the last one, so
 *                                  that the log is purged even at a low write rate; 0 disables the timer
 * @param snapshotRetention         snapshot files kept on disk (older ones are deleted)
 * @param logSegmentBytes           size of one Raft log segment file; only whole closed segments below the latest
 *                                  snapshot are purged, so this bounds how much log outlives a snapshot
 * @param maxBatchBytes             largest batch {@link RatisMetadataLog#append} accepts (Ratis' per-entry limit)
 * @param observerTailEntries       committed batches kept in memory on every voter for observers to fetch
 * @param observerTailBytes         byte bound of that in-memory tail
 * @param observerFetchWaitMs       how long the leader parks an observer's fetch when nothing new was committed
 * @param observerFetchMaxBytes     soft byte bound of one fetch response (at least one batch is always returned)
 */
public record RatisSettings(
        long electionTimeoutMinMs,
        long electionTimeoutMaxMs,
        long firstElectionTimeoutMinMs,
        long firstElectionTimeoutMaxMs,
        long requestTimeoutMs,
        long snapshotThreshold,
        long snapshotIntervalMs,
        int snapshotRetention,
        int logSegmentBytes,
        int maxBatchBytes,
        int observerTailEntries,
        long observerTailBytes,
        long observerFetchWaitMs,
        int observerFetchMaxBytes) {

    public RatisSettings {
        if (electionTimeoutMinMs <= 0 || electionTimeoutMaxMs < electionTimeoutMinMs) {
            throw new IllegalArgumentException("election timeout must satisfy 0 < min <= max: "
                    + electionTimeoutMinMs + "/" + electionTimeoutMaxMs);
        }
        if (firstElectionTimeoutMinMs <= 0 || firstElectionTimeoutMaxMs < firstElectionTimeoutMinMs) {
            throw new IllegalArgumentException("first election timeout must satisfy 0 < min <= max: "
                    + firstElectionTimeoutMinMs + "/" + firstElectionTimeoutMaxMs);
        }
        if (requestTimeoutMs <= 0) {
            throw new IllegalArgumentException("requestTimeoutMs must be > 0");
        }
        if (snapshotThreshold <= 0 || snapshotIntervalMs < 0 || snapshotRetention < 1) {
            throw new IllegalArgumentException("bad snapshot settings: threshold=" + snapshotThreshold
                    + " intervalMs=" + snapshotIntervalMs + " retention=" + snapshotRetention);
        }
        if (maxBatchBytes < 1024 || logSegmentBytes < 4096) {
            throw new IllegalArgumentException("maxBatchBytes must be >= 1 KiB and logSegmentBytes >= 4 KiB");
        }
        if (observerTailEntries < 1 || observerTailBytes < 1 || observerFetchWaitMs < 0 || observerFetchMaxBytes < 1) {
            throw new IllegalArgumentException("bad observer settings");
        }
    }

    /** Production defaults: election 1000-2000 ms, first election 50-150 ms, snapshots every 10,000 entries or 10 min. */
    public static RatisSettings defaults() {
        return new RatisSettings(
                1000, 2000,
                50, 150,
                3000,
                10_000, 10 * 60_000L, 2,
                8 << 20, 4 << 20,
                10_000, 64L << 20, 500, 4 << 20);
    }

    public RatisSettings withElectionTimeout(long minMs, long maxMs) {
        return new RatisSettings(minMs, maxMs, firstElectionTimeoutMinMs, firstElectionTimeoutMaxMs, requestTimeoutMs,
                snapshotThreshold, snapshotIntervalMs, snapshotRetention, logSegmentBytes, maxBatchBytes,
                observerTailEntries, observerTailBytes, observerFetchWaitMs, observerFetchMaxBytes);
    }

    public RatisSettings withFirstElectionTimeout(long minMs, long maxMs) {
        return new RatisSettings(electionTimeoutMinMs, electionTimeoutMaxMs, minMs, maxMs, requestTimeoutMs,
                snapshotThreshold, snapshotIntervalMs, snapshotRetention, logSegmentBytes, maxBatchBytes,
                observerTailEntries, observerTailBytes, observerFetchWaitMs, observerFetchMaxBytes);
    }

    public RatisSettings withRequestTimeout(long ms) {
        return new RatisSettings(electionTimeoutMinMs, electionTimeoutMaxMs, firstElectionTimeoutMinMs,
                firstElectionTimeoutMaxMs, ms, snapshotThreshold, snapshotIntervalMs, snapshotRetention,
                logSegmentBytes, maxBatchBytes, observerTailEntries, observerTailBytes, observerFetchWaitMs,
                observerFetchMaxBytes);
    }

    public RatisSettings withSnapshots(long threshold, long intervalMs) {
        return new RatisSettings(electionTimeoutMinMs, electionTimeoutMaxMs, firstElectionTimeoutMinMs,
                firstElectionTimeoutMaxMs, requestTimeoutMs, threshold, intervalMs, snapshotRetention,
                logSegmentBytes, maxBatchBytes, observerTailEntries, observerTailBytes, observerFetchWaitMs,
                observerFetchMaxBytes);
    }

    public RatisSettings withLogSegmentBytes(int bytes) {
        return new RatisSettings(electionTimeoutMinMs, electionTimeoutMaxMs, firstElectionTimeoutMinMs,
                firstElectionTimeoutMaxMs, requestTimeoutMs, snapshotThreshold, snapshotIntervalMs, snapshotRetention,
                bytes, maxBatchBytes, observerTailEntries, observerTailBytes, observerFetchWaitMs,
                observerFetchMaxBytes);
    }

    public RatisSettings withObserverTail(int entries, long bytes) {
        return new RatisSettings(electionTimeoutMinMs, electionTimeoutMaxMs, firstElectionTimeoutMinMs,
                firstElectionTimeoutMaxMs, requestTimeoutMs, snapshotThreshold, snapshotIntervalMs, snapshotRetention,
                logSegmentBytes, maxBatchBytes, entries, bytes, observerFetchWaitMs, observerFetchMaxBytes);
    }

    public RatisSettings withObserverFetch(long waitMs, int maxBytes) {
        return new RatisSettings(electionTimeoutMinMs, electionTimeoutMaxMs, firstElectionTimeoutMinMs,
                firstElectionTimeoutMaxMs, requestTimeoutMs, snapshotThreshold, snapshotIntervalMs, snapshotRetention,
                logSegmentBytes, maxBatchBytes, observerTailEntries, observerTailBytes, waitMs, maxBytes);
    }
}
