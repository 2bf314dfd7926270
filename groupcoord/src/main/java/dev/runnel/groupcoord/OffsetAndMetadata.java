package dev.runnel.groupcoord;

import dev.runnel.groupcoord.generated.OffsetCommitValue;

/**
 * A committed offset as the coordinator keeps it.
 *
 * @param committedOffset   the offset of the next record to consume
 * @param leaderEpoch       the leader epoch of the last consumed record, or -1
 * @param metadata          the client's metadata string (never null)
 * @param commitTimestampMs when it was committed
 * @param expireTimestampMs the explicit expiry asked for by OffsetCommit v2-v4 retention time, or -1
 * @param recordOffset      where its record sits in __consumer_offsets (-1 before it is written)
 */
public record OffsetAndMetadata(long committedOffset, int leaderEpoch, String metadata, long commitTimestampMs,
                                long expireTimestampMs, long recordOffset) {
    public static final String NO_METADATA = "";

    public OffsetAndMetadata {
        metadata = metadata == null ? NO_METADATA : metadata;
    }

    public boolean hasExpireTimestamp() {
        return expireTimestampMs >= 0;
    }

    static OffsetAndMetadata fromRecord(long recordOffset, OffsetCommitValue value) {
        return new OffsetAndMetadata(value.offset, value.leaderEpoch < 0 ? -1 : value.leaderEpoch, value.metadata,
                value.commitTimestamp, value.expireTimestamp, recordOffset);
    }
}
