package dev.runnel.groupcoord;

/**
 * The coordinator's settings, named after the Kafka broker properties they come from.
 *
 * @param offsetsTopicPartitions          offsets.topic.num.partitions
 * @param initialRebalanceDelayMs         group.initial.rebalance.delay.ms (Runnel defaults to 0, as Kafka's shipped
 *                                        server.properties and every test harness do; Kafka's code default is 3000)
 * @param minSessionTimeoutMs             group.min.session.timeout.ms
 * @param maxSessionTimeoutMs             group.max.session.timeout.ms
 * @param maxGroupSize                    group.max.size
 * @param newMemberJoinTimeoutMs          how long a new member's JoinGroup may wait before it is dropped (Kafka: 5 min)
 * @param offsetMetadataMaxBytes          offset.metadata.max.bytes
 * @param offsetsRetentionMs              offsets.retention.minutes, in ms
 * @param offsetsRetentionCheckIntervalMs offsets.retention.check.interval.ms
 */
public record GroupCoordinatorConfig(
        int offsetsTopicPartitions,
        int initialRebalanceDelayMs,
        int minSessionTimeoutMs,
        int maxSessionTimeoutMs,
        int maxGroupSize,
        int newMemberJoinTimeoutMs,
        int offsetMetadataMaxBytes,
        long offsetsRetentionMs,
        long offsetsRetentionCheckIntervalMs) {

    public static final int DEFAULT_INITIAL_REBALANCE_DELAY_MS = 0;
    public static final int DEFAULT_MIN_SESSION_TIMEOUT_MS = 6_000;
    public static final int DEFAULT_MAX_SESSION_TIMEOUT_MS = 1_800_000;
    public static final int DEFAULT_NEW_MEMBER_JOIN_TIMEOUT_MS = 5 * 60 * 1000;
    public static final int DEFAULT_OFFSET_METADATA_MAX_BYTES = 4096;
    public static final long DEFAULT_OFFSETS_RETENTION_MS = 7L * 24 * 60 * 60 * 1000;
    public static final long DEFAULT_OFFSETS_RETENTION_CHECK_INTERVAL_MS = 600_000L;

    public GroupCoordinatorConfig {
        if (offsetsTopicPartitions <= 0) {
            throw new IllegalArgumentException("offsets.topic.num.partitions must be positive, got " + offsetsTopicPartitions);
        }
        if (minSessionTimeoutMs > maxSessionTimeoutMs) {
            throw new IllegalArgumentException("group.min.session.timeout.ms (" + minSessionTimeoutMs
                    + ") is above group.max.session.timeout.ms (" + maxSessionTimeoutMs + ")");
        }
    }

    public static GroupCoordinatorConfig defaults() {
        return new GroupCoordinatorConfig(OffsetsTopic.DEFAULT_PARTITIONS, DEFAULT_INITIAL_REBALANCE_DELAY_MS,
                DEFAULT_MIN_SESSION_TIMEOUT_MS, DEFAULT_MAX_SESSION_TIMEOUT_MS, Integer.MAX_VALUE,
                DEFAULT_NEW_MEMBER_JOIN_TIMEOUT_MS, DEFAULT_OFFSET_METADATA_MAX_BYTES, DEFAULT_OFFSETS_RETENTION_MS,
                DEFAULT_OFFSETS_RETENTION_CHECK_INTERVAL_MS);
    }

    public GroupCoordinatorConfig withOffsetsTopicPartitions(int v) {
        return new GroupCoordinatorConfig(v, initialRebalanceDelayMs, minSessionTimeoutMs, maxSessionTimeoutMs, maxGroupSize,
                newMemberJoinTimeoutMs, offsetMetadataMaxBytes, offsetsRetentionMs, offsetsRetentionCheckIntervalMs);
    }

    public GroupCoordinatorConfig withInitialRebalanceDelayMs(int v) {
        return new GroupCoordinatorConfig(offsetsTopicPartitions, v, minSessionTimeoutMs, maxSessionTimeoutMs, maxGroupSize,
                newMemberJoinTimeoutMs, offsetMetadataMaxBytes, offsetsRetentionMs, offsetsRetentionCheckIntervalMs);
    }

    public GroupCoordinatorConfig withSessionTimeoutBounds(int min, int max) {
        return new GroupCoordinatorConfig(offsetsTopicPartitions, initialRebalanceDelayMs, min, max, maxGroupSize,
                newMemberJoinTimeoutMs, offsetMetadataMaxBytes, offsetsRetentionMs, offsetsRetentionCheckIntervalMs);
    }

    public GroupCoordinatorConfig withMaxGroupSize(int v) {
        return new GroupCoordinatorConfig(offsetsTopicPartitions, initialRebalanceDelayMs, minSessionTimeoutMs, maxSessionTimeoutMs, v,
                newMemberJoinTimeoutMs, offsetMetadataMaxBytes, offsetsRetentionMs, offsetsRetentionCheckIntervalMs);
    }

    public GroupCoordinatorConfig withOffsetsRetentionMs(long v) {
        return new GroupCoordinatorConfig(offsetsTopicPartitions, initialRebalanceDelayMs, minSessionTimeoutMs, maxSessionTimeoutMs,
                maxGroupSize, newMemberJoinTimeoutMs, offsetMetadataMaxBytes, v, offsetsRetentionCheckIntervalMs);
    }
}
