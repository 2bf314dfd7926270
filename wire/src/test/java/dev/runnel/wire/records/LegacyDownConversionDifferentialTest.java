package dev.runnel.wire.records;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.record.EndTransactionMarker;
import org.apache.kafka.common.record.ControlRecordType;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.utils.Time;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/**
 * Down-conversion against Kafka's own ({@code MemoryRecords.downConvert} of kafka-clients 3.9): the same stored
 * batches (every legacy codec, CreateTime and LogAppendTime, with headers, a control batch in between), converted
 * to magic 0 and 1 from several fetch offsets, give byte-identical message sets.
 */
class LegacyDownConversionDifferentialTest {

    static List<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (byte magic = 0; magic <= 1; magic++) {
            for (Compression c : List.of(Compression.NONE, Compression.GZIP, Compression.SNAPPY, Compression.LZ4)) {
                for (long fetchOffset : new long[] {0, 3, 11}) {
                    out.add(Arguments.of(magic, c, fetchOffset));
                }
            }
        }
        return out;
    }

    /** Three batches: 10 records CreateTime (offsets 0-9), a commit marker (10), 5 records LogAppendTime (11-15). */
    static ByteBuffer stored(Compression c) {
        ByteBuffer a = KafkaBatches.build(c, 10, 40, 1_700_000_000_000L, -1, (short) -1, -1, false,
                org.apache.kafka.common.record.TimestampType.CREATE_TIME, -1);
        ByteBuffer marker = MemoryRecords.withEndTransactionMarker(10L, 1_700_000_000_100L, 0, 7L, (short) 0,
                new EndTransactionMarker(ControlRecordType.COMMIT, 0)).buffer();
        ByteBuffer b = KafkaBatches.build(c, 5, 40, 1_700_000_000_200L, -1, (short) -1, -1, false,
                org.apache.kafka.common.record.TimestampType.LOG_APPEND_TIME, 1_800_000_000_000L);
        b.putLong(0, 11L); // base offset (outside the CRC)
        ByteBuffer all = ByteBuffer.allocate(a.remaining() + marker.remaining() + b.remaining());
        all.put(a.duplicate()).put(marker.duplicate()).put(b.duplicate()).flip();
        return all;
    }

    @ParameterizedTest(name = "to magic {0}, {1}, from offset {2}")
    @MethodSource("cases")
    void ourDownConversionIsKafkas(byte magic, Compression c, long fetchOffset) throws Exception {
        ByteBuffer stored = stored(c);
        byte[] kafka = LegacyMessageSetDifferentialTest.bytes(
                MemoryRecords.readableRecords(stored.duplicate()).downConvert(magic, fetchOffset, Time.SYSTEM).records().buffer());

        LegacyDownConversion ours = new LegacyDownConversion(magic, fetchOffset, Integer.MAX_VALUE, 1 << 20);
        BatchCursor batches = new BatchCursor(stored.duplicate());
        while (batches.next()) {
            ours.add(batches.batch());
        }
        assertArrayEquals(kafka, ours.toByteArray());
        assertTrue(kafka.length > 0);
    }

    @Test
    void zstdCannotBeDownConvertedAndTheLimitStopsAtAWholeMessageSet() throws Exception {
        ByteBuffer zstd = KafkaBatches.build(Compression.ZSTD, 3, 10, 1L, -1, (short) -1, -1, false,
                org.apache.kafka.common.record.TimestampType.CREATE_TIME, -1);
        LegacyDownConversion conv = new LegacyDownConversion((byte) 1, 0, 1 << 20, 1 << 20);
        RecordsException e = assertThrows(RecordsException.class, () -> conv.add(RecordBatch.at(zstd, 0)));
        assertEquals(ErrorCodes.UNSUPPORTED_COMPRESSION_TYPE, e.errorCode());

        LegacyDownConversion small = new LegacyDownConversion((byte) 1, 0, 10, 1 << 20);
        BatchCursor batches = new BatchCursor(stored(Compression.GZIP));
        int added = 0;
        while (!small.full() && batches.next()) {
            small.add(batches.batch());
            added++;
        }
        assertEquals(1, added, "the first message set is kept whole, then the limit stops the conversion");
        assertEquals(10, small.recordCount());
    }
}
