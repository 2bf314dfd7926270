package dev.runnel.wire.records;

import java.nio.ByteBuffer;

/**
 * What Kafka's log does with a legacy (magic 0/1) message set from an old producer when its log format is
 * v2: validate it and convert it into one RecordBatch v2, which the log then appends like any other (offsets,
 * LogAppendTime and the size limit are the log's). Checks, in Kafka 3.9's order and with its error codes:
 * <ol>
 *   <li>per shallow message: larger than {@code max.message.bytes} → MESSAGE_TOO_LARGE; bad framing or CRC,
 *       unknown magic or codec → CORRUPT_MESSAGE</li>
 *   <li>a compressed wrapper together with any other shallow message → INVALID_RECORD ("more than one
 *       batch"); a wrapper's inner messages: wrong magic, nested compression, none at all → INVALID_RECORD;
 *       bad inner CRC → CORRUPT_MESSAGE</li>
 *   <li>per record: a key-less record on a compacted topic → INVALID_RECORD; on a CreateTime topic a
 *       timestamp (other than magic 0's none) outside [now - before, now + after] → INVALID_TIMESTAMP; a
 *       producer-set LogAppendTime → INVALID_TIMESTAMP</li>
 * </ol>
 * The v2 batch keeps the source codec ({@code compression.type=producer}), offset deltas 0..n-1, the
 * records' timestamps (magic 0: {@link RecordBatch#NO_TIMESTAMP}), no producer id and no headers.
 */
public final class LegacyUpConversion {

    /**
     * The topic's settings that apply.
     *
     * @param maxMessageBytes      {@code max.message.bytes}
     * @param topicTimestampType   {@code message.timestamp.type}
     * @param now                  the broker's clock
     * @param timestampBeforeMaxMs how far in the past a CreateTime timestamp may be
     * @param timestampAfterMaxMs  how far in the future
     * @param compacted            {@code cleanup.policy} contains compact: every record needs a key
     * @param maxDecompressedBytes cap on one wrapper's decompressed size
     */
    public record Settings(int maxMessageBytes, TimestampType topicTimestampType, long now, long timestampBeforeMaxMs,
                           long timestampAfterMaxMs, boolean compacted, long maxDecompressedBytes) {
    }

    private LegacyUpConversion() {
    }

    /** Whether the first entry of {@code records} (from its position) is a legacy message (magic 0 or 1). */
    public static boolean isLegacy(ByteBuffer records) {
        int p = records.position();
        if (records.limit() - p <= LegacyMessageCursor.MAGIC_OFFSET) {
            return false;
        }
        byte magic = records.get(p + LegacyMessageCursor.MAGIC_OFFSET);
        return magic == LegacyMessageCursor.MAGIC_V0 || magic == LegacyMessageCursor.MAGIC_V1;
    }

    /** Validates {@code messageSet} (position to limit) and returns it as one v2 batch (base offset 0). */
    public static ByteBuffer toBatch(ByteBuffer messageSet, Settings s) throws RecordsException {
        int start = messageSet.position();
        int end = messageSet.limit();
        if (end == start) {
            throw new RecordsException(ErrorCodes.INVALID_RECORD, "The records contain no message");
        }
        int shallow = 0;
        boolean compressed = false;
        for (int p = start; p < end; shallow++) {
            if (end - p >= LegacyMessageCursor.LOG_OVERHEAD) {
                int size = messageSet.getInt(p + 8);
                if (size >= LegacyMessageCursor.RECORD_OVERHEAD_V0 && size <= end - p - LegacyMessageCursor.LOG_OVERHEAD
                        && LegacyMessageCursor.LOG_OVERHEAD + size > s.maxMessageBytes()) {
                    throw new RecordsException(ErrorCodes.MESSAGE_TOO_LARGE, "The message size is "
                            + (LegacyMessageCursor.LOG_OVERHEAD + size) + " bytes which exceeds the maximum configured value of "
                            + s.maxMessageBytes());
                }
            }
            int size = LegacyMessageCursor.checkEntry(messageSet, p, end, shallow);
            compressed |= (messageSet.get(p + LegacyMessageCursor.ATTRIBUTES_OFFSET) & LegacyMessageCursor.COMPRESSION_CODEC_MASK) != 0;
            p += LegacyMessageCursor.LOG_OVERHEAD + size;
        }
        if (compressed && shallow > 1) {
            throw new RecordsException(ErrorCodes.INVALID_RECORD, "Compressed outer record has more than one batch");
        }

        LegacyMessageCursor c = LegacyMessageCursor.open(messageSet, s.maxDecompressedBytes());
        BatchBuilder out = null;
        while (c.next()) {
            if (out == null) {
                out = new BatchBuilder().compression(c.compression());
            }
            if (s.compacted() && c.key() == null) {
                throw new RecordsException(ErrorCodes.INVALID_RECORD, "Compacted topic cannot accept message without key");
            }
            long ts = c.timestamp();
            if (s.topicTimestampType() == TimestampType.CREATE_TIME && ts != RecordBatch.NO_TIMESTAMP
                    && (ts < subtract(s.now(), s.timestampBeforeMaxMs()) || ts > add(s.now(), s.timestampAfterMaxMs()))) {
                throw new RecordsException(ErrorCodes.INVALID_TIMESTAMP, "Timestamp " + ts + " of message with offset "
                        + c.offset() + " is out of range. The timestamp should be within ["
                        + subtract(s.now(), s.timestampBeforeMaxMs()) + ", " + add(s.now(), s.timestampAfterMaxMs()) + "]");
            }
            if (c.timestampType() == TimestampType.LOG_APPEND_TIME) {
                throw new RecordsException(ErrorCodes.INVALID_TIMESTAMP, "Invalid timestamp type in message with offset "
                        + c.offset() + ". Producer should not set timestamp type to LogAppendTime.");
            }
            out.append(ts, c.key(), c.value());
        }
        return out.build();
    }

    private static long subtract(long now, long ms) {
        long r = now - ms;
        return ms > 0 && r > now ? Long.MIN_VALUE : r;
    }

    private static long add(long now, long ms) {
        long r = now + ms;
        return ms > 0 && r < now ? Long.MAX_VALUE : r;
    }
}
