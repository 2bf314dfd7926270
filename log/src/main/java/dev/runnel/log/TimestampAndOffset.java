package dev.runnel.log;

/**
 * A ListOffsets answer.
 *
 * @param timestamp   the record's timestamp (-1 for the earliest/latest special lookups)
 * @param offset      the offset
 * @param leaderEpoch the partition leader epoch of that offset, or -1 if unknown
 */
public record TimestampAndOffset(long timestamp, long offset, int leaderEpoch) {
}
