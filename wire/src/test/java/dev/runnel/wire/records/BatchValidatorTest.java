package dev.runnel.wire.records;

import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.SimpleRecord;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BatchValidatorTest {
    private static final BatchValidator CLIENT = BatchValidator.forClient(1_048_588, TimestampType.CREATE_TIME);
    private static final BatchValidator TRUSTED = BatchValidator.forTrusted(1_048_588);

    private static ByteBuffer simple() {
        return new BatchBuilder().producer(1L, (short) 0, 0).append(1L, "k1", "v1").append(2L, "k2", "v2").build();
    }

    private static void fixCrc(ByteBuffer buf, int pos) {
        RecordBatch b = RecordBatch.at(buf, pos);
        buf.putInt(pos + RecordBatch.CRC_OFFSET, (int) b.computeChecksum());
    }

    private static ByteBuffer concat(ByteBuffer... parts) {
        int n = 0;
        for (ByteBuffer p : parts) {
            n += p.remaining();
        }
        ByteBuffer all = ByteBuffer.allocate(n);
        for (ByteBuffer p : parts) {
            all.put(p.duplicate());
        }
        return all.flip();
    }

    private static void assertError(int code, ValidationResult r) {
        assertEquals(code, r.errorCode(), r.toString());
        assertTrue(r.message() != null && !r.message().isEmpty());
    }

    @Test
    void acceptsKafkaBatchesOfEveryCodec() {
        for (dev.runnel.wire.records.Compression c : dev.runnel.wire.records.Compression.values()) {
            ByteBuffer buf = KafkaBatches.build(c, 50, 40, 10L, 3L, (short) 0, 0, false,
                    org.apache.kafka.common.record.TimestampType.CREATE_TIME, -1);
            ValidationResult r = CLIENT.validate(buf);
            assertTrue(r.isOk(), r.toString());
            assertEquals(1, r.batchCount());
            assertEquals(50, r.recordCount());
            assertEquals(buf.remaining(), r.validBytes());
        }
    }

    @Test
    void respectsThePositionOfTheBuffer() {
        ByteBuffer one = simple();
        ByteBuffer buf = ByteBuffer.allocate(one.remaining() + 10);
        buf.position(10);
        buf.put(one.duplicate());
        buf.position(10);
        assertTrue(CLIENT.validate(buf).isOk());
        assertEquals(10, buf.position());
    }

    @Test
    void emptyAndTruncated() {
        assertError(ErrorCodes.INVALID_RECORD, CLIENT.validate(ByteBuffer.allocate(0)));
        ByteBuffer buf = simple();
        assertError(ErrorCodes.CORRUPT_MESSAGE, CLIENT.validate(buf.duplicate().limit(10)));
        ValidationResult r = CLIENT.validate(buf.duplicate().limit(buf.limit() - 1));
        assertError(ErrorCodes.CORRUPT_MESSAGE, r);
        assertTrue(r.message().contains("Truncated"), r.message());
        // a good batch followed by half a batch: the second one is reported
        ValidationResult two = TRUSTED.validate(concat(buf, buf.duplicate().limit(30)));
        assertError(ErrorCodes.CORRUPT_MESSAGE, two);
        assertEquals(1, two.batchIndex());
        assertEquals(buf.remaining(), two.errorPosition());
    }

    @Test
    void legacyMagicIsUnsupportedOtherMagicIsCorrupt() {
        ByteBuffer v1 = MemoryRecords.withRecords((byte) 1, 0L, Compression.NONE,
                new SimpleRecord(1L, "k".getBytes(), "v".getBytes())).buffer();
        assertError(ErrorCodes.UNSUPPORTED_FOR_MESSAGE_FORMAT, CLIENT.validate(v1));
        ByteBuffer v0 = MemoryRecords.withRecords((byte) 0, 0L, Compression.NONE,
                new SimpleRecord("k".getBytes(), "v".getBytes())).buffer();
        assertError(ErrorCodes.UNSUPPORTED_FOR_MESSAGE_FORMAT, CLIENT.validate(v0));
        ByteBuffer buf = simple();
        buf.put(RecordBatch.MAGIC_OFFSET, (byte) 3);
        assertError(ErrorCodes.CORRUPT_MESSAGE, CLIENT.validate(buf));
    }

    @Test
    void lengthBelowHeaderIsCorrupt() {
        ByteBuffer buf = simple();
        buf.putInt(RecordBatch.LENGTH_OFFSET, RecordBatch.MIN_LENGTH - 1);
        assertError(ErrorCodes.CORRUPT_MESSAGE, CLIENT.validate(buf));
        buf.putInt(RecordBatch.LENGTH_OFFSET, -5);
        assertError(ErrorCodes.CORRUPT_MESSAGE, CLIENT.validate(buf));
    }

    @Test
    void tooLarge() {
        ByteBuffer buf = simple();
        assertError(ErrorCodes.MESSAGE_TOO_LARGE, BatchValidator.forClient(buf.remaining() - 1, TimestampType.CREATE_TIME).validate(buf));
        assertTrue(BatchValidator.forClient(buf.remaining(), TimestampType.CREATE_TIME).validate(buf).isOk());
    }

    @Test
    void crcMismatch() {
        ByteBuffer buf = simple();
        buf.put(buf.limit() - 2, (byte) (buf.get(buf.limit() - 2) ^ 0x40));
        assertError(ErrorCodes.CORRUPT_MESSAGE, CLIENT.validate(buf));
        assertError(ErrorCodes.CORRUPT_MESSAGE, TRUSTED.validate(buf));
    }

    @Test
    void clientRulesFromKafkasLogValidator() {
        ByteBuffer buf = simple();
        assertError(ErrorCodes.INVALID_RECORD, CLIENT.validate(concat(buf, buf)));
        assertTrue(TRUSTED.validate(concat(buf, buf)).isOk());

        ByteBuffer offset = simple();
        RecordBatch.at(offset, 0).setBaseOffset(5);
        assertError(ErrorCodes.INVALID_RECORD, CLIENT.validate(offset));

        ByteBuffer count = simple();
        count.putInt(RecordBatch.RECORDS_COUNT_OFFSET, 3);
        fixCrc(count, 0);
        assertError(ErrorCodes.INVALID_RECORD, CLIENT.validate(count));
        count.putInt(RecordBatch.RECORDS_COUNT_OFFSET, 0);
        fixCrc(count, 0);
        assertError(ErrorCodes.INVALID_RECORD, CLIENT.validate(count));
        count.putInt(RecordBatch.RECORDS_COUNT_OFFSET, -1);
        fixCrc(count, 0);
        assertError(ErrorCodes.INVALID_RECORD, TRUSTED.validate(count));

        ByteBuffer control = new BatchBuilder().control(true).producer(1L, (short) 0, 0).append(1L, "k", "v").build();
        assertError(ErrorCodes.INVALID_RECORD, CLIENT.validate(control));
        assertTrue(TRUSTED.validate(control).isOk());

        ByteBuffer noSeq = new BatchBuilder().producer(1L, (short) 0, -1).append(1L, "k", "v").build();
        assertError(ErrorCodes.INVALID_RECORD, CLIENT.validate(noSeq));

        ByteBuffer lat = new BatchBuilder().logAppendTime(5L).append(1L, "k", "v").build();
        assertError(ErrorCodes.INVALID_TIMESTAMP, CLIENT.validate(lat));
        assertTrue(BatchValidator.forClient(1000, TimestampType.LOG_APPEND_TIME).validate(lat).isOk());
    }

    @Test
    void uncompressedRecordLayoutIsChecked() {
        ByteBuffer buf = simple();
        // first record's length varint: claim one byte more than it has
        int first = RecordBatch.RECORDS_OFFSET;
        int zig = buf.get(first) & 0xFF;
        buf.put(first, (byte) (zig + 2));
        fixCrc(buf, 0);
        ValidationResult r = CLIENT.validate(buf);
        assertError(ErrorCodes.INVALID_RECORD, r);

        // bytes left over after the declared records
        ByteBuffer good = simple();
        ByteBuffer longer = ByteBuffer.allocate(good.remaining() + 3);
        longer.put(good.duplicate()).put(new byte[] {0, 0, 0}).flip();
        longer.putInt(RecordBatch.LENGTH_OFFSET, longer.limit() - 12);
        fixCrc(longer, 0);
        assertError(ErrorCodes.INVALID_RECORD, CLIENT.validate(longer));
        assertTrue(TRUSTED.validate(longer).isOk());
    }
}
