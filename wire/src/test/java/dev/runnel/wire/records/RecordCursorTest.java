package dev.runnel.wire.records;

import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MutableRecordBatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What Kafka's MemoryRecordsBuilder builds, we read: every codec. */
class RecordCursorTest {

    @ParameterizedTest
    @EnumSource(Compression.class)
    void readsKafkaBatches(Compression codec) throws Exception {
        // ~3000 records x 120 bytes: several lz4 blocks, several snappy chunks
        int n = 3000;
        ByteBuffer buf = KafkaBatches.build(codec, n, 120, 1_600_000_000_000L, 9L, (short) 0, 0, false,
                org.apache.kafka.common.record.TimestampType.CREATE_TIME, -1);
        RecordBatch batch = RecordBatch.at(buf, 0);
        assertTrue(batch.isCrcValid());
        assertEquals(codec, batch.compression());

        List<org.apache.kafka.common.record.Record> expected = new ArrayList<>();
        for (MutableRecordBatch k : MemoryRecords.readableRecords(buf.duplicate()).batches()) {
            k.forEach(expected::add);
        }
        List<Record> actual = RecordCursor.readAll(batch);
        assertEquals(expected.size(), actual.size());
        for (int i = 0; i < n; i++) {
            org.apache.kafka.common.record.Record e = expected.get(i);
            Record a = actual.get(i);
            assertEquals(e.offset(), a.offset());
            assertEquals(e.timestamp(), a.timestamp());
            if (e.key() == null) {
                assertNull(a.key());
            } else {
                assertArrayEquals(BatchBuilderTest.toArray(e.key()), a.key());
            }
            assertArrayEquals(BatchBuilderTest.toArray(e.value()), a.value());
            assertEquals(e.headers().length, a.headers().size());
            for (int h = 0; h < e.headers().length; h++) {
                assertEquals(e.headers()[h].key(), a.headers().get(h).key());
                assertArrayEquals(e.headers()[h].value(), a.headers().get(h).value());
            }
        }
    }

    @Test
    void logAppendTimeBatchesReportTheAppendTime() throws Exception {
        ByteBuffer buf = KafkaBatches.build(Compression.GZIP, 10, 5, 100L, -1L, (short) -1, -1, false,
                org.apache.kafka.common.record.TimestampType.LOG_APPEND_TIME, 777L);
        for (Record r : RecordCursor.readAll(RecordBatch.at(buf, 0))) {
            assertEquals(777L, r.timestamp());
        }
    }

    @ParameterizedTest
    @EnumSource(value = Compression.class, names = {"GZIP", "SNAPPY", "LZ4", "ZSTD"})
    void corruptCompressedDataIsAnErrorNotACrash(Compression codec) {
        ByteBuffer buf = KafkaBatches.build(codec, 200, 50, 1L, -1L, (short) -1, -1, false,
                org.apache.kafka.common.record.TimestampType.CREATE_TIME, -1);
        // scribble over the middle of the compressed payload
        for (int i = RecordBatch.RECORDS_OFFSET + 8; i < buf.limit() - 4; i += 3) {
            buf.put(i, (byte) 0x7F);
        }
        RecordsException e = assertThrows(RecordsException.class, () -> RecordCursor.readAll(RecordBatch.at(buf, 0)));
        assertTrue(e.errorCode() == ErrorCodes.CORRUPT_MESSAGE || e.errorCode() == ErrorCodes.INVALID_RECORD, e.getMessage());
    }

    @Test
    void hugeDeclaredLengthsAreBoundedByTheData() {
        // one record whose value claims 2 GB
        ByteBuffer good = new BatchBuilder().append(1L, "k", "v").build();
        int recordStart = RecordBatch.RECORDS_OFFSET;
        // record: len varint, attr, tsDelta, offsetDelta, keyLen(1 -> varint 2), 'k', valueLen ...
        int valueLenPos = recordStart + 1 + 1 + 1 + 1 + 1 + 1;
        ByteBuffer bad = ByteBuffer.allocate(good.limit() + 4);
        bad.put(good.duplicate().limit(valueLenPos));
        bad.put(new byte[] {(byte) 0xFE, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x0F}); // zigzag(Integer.MAX_VALUE)
        bad.put(good.duplicate().position(valueLenPos + 1));
        bad.flip();
        RecordBatch b = RecordBatch.at(bad, 0);
        bad.putInt(RecordBatch.LENGTH_OFFSET, bad.limit() - 12);
        RecordsException e = assertThrows(RecordsException.class, () -> RecordCursor.readAll(b));
        assertEquals(ErrorCodes.INVALID_RECORD, e.errorCode());
    }

    @Test
    void decompressionIsCapped() {
        ByteBuffer buf = KafkaBatches.build(Compression.ZSTD, 100, 1000, 1L, -1L, (short) -1, -1, false,
                org.apache.kafka.common.record.TimestampType.CREATE_TIME, -1);
        RecordsException e = assertThrows(RecordsException.class, () -> {
            try (RecordCursor c = RecordCursor.open(RecordBatch.at(buf, 0), 10_000)) {
                while (c.next()) {
                    c.value();
                }
            }
        });
        assertEquals(ErrorCodes.CORRUPT_MESSAGE, e.errorCode());
    }

    @Test
    void leftoverBytesAfterTheDeclaredCountAreInvalid() {
        ByteBuffer buf = new BatchBuilder().append(1L, "a", "1").append(2L, "b", "2").build();
        buf.putInt(RecordBatch.RECORDS_COUNT_OFFSET, 1);
        RecordsException e = assertThrows(RecordsException.class, () -> RecordCursor.readAll(RecordBatch.at(buf, 0)));
        assertEquals(ErrorCodes.INVALID_RECORD, e.errorCode());
    }
}
