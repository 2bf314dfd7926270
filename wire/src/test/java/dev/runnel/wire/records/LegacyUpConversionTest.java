package dev.runnel.wire.records;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** An old producer's message set becomes one v2 batch, or is refused with Kafka 3.9's error. */
class LegacyUpConversionTest {
    private static final long NOW = 1_800_000_000_000L;
    private static final LegacyUpConversion.Settings DEFAULTS = new LegacyUpConversion.Settings(1048588,
            TimestampType.CREATE_TIME, NOW, Long.MAX_VALUE, Long.MAX_VALUE, false, 1 << 20);

    private static ByteBuffer set(byte magic, Compression c, long... timestamps) {
        LegacyMessageSetBuilder b = new LegacyMessageSetBuilder(magic, c);
        for (int i = 0; i < timestamps.length; i++) {
            b.append(i, timestamps[i], KafkaBatches.bytes("k" + i), KafkaBatches.bytes("v" + i));
        }
        return b.build();
    }

    @Test
    void everyCodecAndMagicBecomesOneBatchWithTheSameRecords() throws Exception {
        for (byte magic = 0; magic <= 1; magic++) {
            for (Compression c : List.of(Compression.NONE, Compression.GZIP, Compression.SNAPPY, Compression.LZ4)) {
                ByteBuffer batch = LegacyUpConversion.toBatch(set(magic, c, NOW - 5, NOW - 1, NOW - 3), DEFAULTS);
                assertTrue(BatchValidator.forClient(1 << 20, TimestampType.CREATE_TIME).validate(batch.duplicate()).isOk());
                RecordBatch b = RecordBatch.at(batch, 0);
                assertEquals(c, b.compression());
                assertEquals(2, b.lastOffsetDelta());
                assertEquals(magic == 0 ? RecordBatch.NO_TIMESTAMP : NOW - 1, b.maxTimestamp());
                List<Record> records = RecordCursor.readAll(b);
                for (int i = 0; i < 3; i++) {
                    assertEquals(i, records.get(i).offset());
                    assertEquals(magic == 0 ? RecordBatch.NO_TIMESTAMP : new long[] {NOW - 5, NOW - 1, NOW - 3}[i],
                            records.get(i).timestamp());
                    assertArrayEquals(KafkaBatches.bytes("v" + i), records.get(i).value());
                    assertTrue(records.get(i).headers().isEmpty());
                }
            }
        }
    }

    @Test
    void refusalsCarryKafkasErrorCodes() {
        assertEquals(ErrorCodes.MESSAGE_TOO_LARGE, code(set((byte) 1, Compression.NONE, NOW),
                new LegacyUpConversion.Settings(20, TimestampType.CREATE_TIME, NOW, Long.MAX_VALUE, Long.MAX_VALUE, false, 1 << 20)));
        LegacyUpConversion.Settings hourBothWays = new LegacyUpConversion.Settings(1048588, TimestampType.CREATE_TIME, NOW,
                3_600_000, 3_600_000, false, 1 << 20);
        assertEquals(ErrorCodes.INVALID_TIMESTAMP, code(set((byte) 1, Compression.NONE, NOW - 3_600_001), hourBothWays));
        assertEquals(ErrorCodes.INVALID_TIMESTAMP, code(set((byte) 1, Compression.GZIP, NOW, NOW + 3_600_001), hourBothWays));
        assertEquals(ErrorCodes.NONE, code(set((byte) 1, Compression.NONE, NOW + 3_600_000), hourBothWays));
        assertEquals(ErrorCodes.NONE, code(set((byte) 0, Compression.NONE, 1), hourBothWays), "magic 0 has no timestamp to check");
        assertEquals(ErrorCodes.NONE, code(set((byte) 1, Compression.NONE, 1),
                new LegacyUpConversion.Settings(1048588, TimestampType.LOG_APPEND_TIME, NOW, 1, 1, false, 1 << 20)),
                "LogAppendTime topics do not check the producer's timestamps");

        ByteBuffer lat = new LegacyMessageSetBuilder((byte) 1, Compression.NONE, TimestampType.LOG_APPEND_TIME, NOW)
                .append(0, NOW, null, KafkaBatches.bytes("v")).build();
        assertEquals(ErrorCodes.INVALID_TIMESTAMP, code(lat, DEFAULTS), "a producer may not set LogAppendTime");

        ByteBuffer keyless = new LegacyMessageSetBuilder((byte) 0, Compression.NONE).append(0, 0, null, KafkaBatches.bytes("v")).build();
        assertEquals(ErrorCodes.INVALID_RECORD, code(keyless,
                new LegacyUpConversion.Settings(1048588, TimestampType.CREATE_TIME, NOW, Long.MAX_VALUE, Long.MAX_VALUE, true, 1 << 20)));

        ByteBuffer a = set((byte) 1, Compression.GZIP, NOW);
        ByteBuffer b = set((byte) 1, Compression.NONE, NOW);
        ByteBuffer two = ByteBuffer.allocate(a.remaining() + b.remaining()).put(a).put(b).flip();
        assertEquals(ErrorCodes.INVALID_RECORD, code(two, DEFAULTS), "a wrapper must come alone");

        ByteBuffer corrupt = set((byte) 0, Compression.NONE, 0, 0);
        corrupt.put(corrupt.limit() - 1, (byte) 'x');
        assertEquals(ErrorCodes.CORRUPT_MESSAGE, code(corrupt, DEFAULTS));
        assertEquals(ErrorCodes.INVALID_RECORD, code(ByteBuffer.allocate(0), DEFAULTS));
    }

    private static int code(ByteBuffer set, LegacyUpConversion.Settings s) {
        try {
            LegacyUpConversion.toBatch(set, s);
            return ErrorCodes.NONE;
        } catch (RecordsException e) {
            return e.errorCode();
        }
    }
}
