package dev.runnel.wire.records;

import org.apache.kafka.common.record.DefaultRecordBatch;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MutableRecordBatch;
import org.apache.kafka.common.record.Record;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Iterator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RecordBatchTest {

    private static MutableRecordBatch kafkaView(ByteBuffer buf) {
        Iterator<MutableRecordBatch> it = MemoryRecords.readableRecords(buf.duplicate()).batches().iterator();
        MutableRecordBatch b = it.next();
        assertFalse(it.hasNext());
        return b;
    }

    @Test
    void readsEveryHeaderFieldLikeKafka() {
        for (Compression codec : Compression.values()) {
            ByteBuffer buf = KafkaBatches.build(codec, 20, 30, 1_700_000_000_000L, 4242L, (short) 3, 17, true,
                    org.apache.kafka.common.record.TimestampType.CREATE_TIME, -1);
            MutableRecordBatch k = kafkaView(buf);
            RecordBatch b = RecordBatch.at(buf, 0);
            assertEquals(k.baseOffset(), b.baseOffset());
            assertEquals(k.sizeInBytes(), b.sizeInBytes());
            assertEquals(k.sizeInBytes() - 12, b.batchLength());
            assertEquals(k.partitionLeaderEpoch(), b.partitionLeaderEpoch());
            assertEquals(k.magic(), b.magic());
            assertEquals(k.checksum(), b.crc());
            assertEquals(k.compressionType().id, b.compressionType());
            assertEquals(codec, b.compression());
            assertEquals(TimestampType.CREATE_TIME, b.timestampType());
            assertEquals(k.isTransactional(), b.isTransactional());
            assertEquals(k.isControlBatch(), b.isControl());
            assertEquals(k.lastOffset(), b.lastOffset());
            assertEquals(19, b.lastOffsetDelta());
            assertEquals(((DefaultRecordBatch) k).baseTimestamp(), b.baseTimestamp());
            assertEquals(k.maxTimestamp(), b.maxTimestamp());
            assertEquals(k.producerId(), b.producerId());
            assertEquals(k.producerEpoch(), b.producerEpoch());
            assertEquals(k.baseSequence(), b.baseSequence());
            assertEquals(k.lastSequence(), b.lastSequence());
            assertEquals(k.countOrNull(), b.recordsCount());
            assertTrue(b.isComplete());
            assertTrue(b.isCrcValid());
            assertEquals(b.crc(), b.computeChecksum());
        }
    }

    @Test
    void lastSequenceWrapsLikeKafka() {
        ByteBuffer buf = new BatchBuilder().producer(1L, (short) 0, Integer.MAX_VALUE - 1)
                .append(1L, "a", "1").append(2L, "b", "2").append(3L, "c", "3").build();
        RecordBatch b = RecordBatch.at(buf, 0);
        assertEquals(0, b.lastSequence());
        assertEquals(kafkaView(buf).lastSequence(), b.lastSequence());
        assertEquals(Integer.MAX_VALUE - 1, RecordBatch.decrementSequence(0, 2));
        assertEquals(5, RecordBatch.incrementSequence(3, 2));
    }

    @Test
    void rewritesOffsetAndEpochInPlaceWithoutTouchingCrc() {
        ByteBuffer buf = KafkaBatches.build(Compression.LZ4, 5, 10, 1000L, -1L, (short) -1, -1, false,
                org.apache.kafka.common.record.TimestampType.CREATE_TIME, -1);
        RecordBatch b = RecordBatch.at(buf, 0);
        long crc = b.crc();
        b.setBaseOffset(123_456_789_012L);
        b.setPartitionLeaderEpoch(99);
        assertEquals(crc, b.crc());
        assertTrue(b.isCrcValid());
        MutableRecordBatch k = kafkaView(buf);
        k.ensureValid();
        assertEquals(123_456_789_012L, k.baseOffset());
        assertEquals(123_456_789_016L, k.lastOffset());
        assertEquals(99, k.partitionLeaderEpoch());
        long expected = 123_456_789_012L;
        for (Record r : k) {
            assertEquals(expected++, r.offset());
        }
    }

    @Test
    void logAppendTimeRewriteRecomputesCrc() {
        ByteBuffer buf = KafkaBatches.build(Compression.NONE, 4, 10, 1000L, -1L, (short) -1, -1, false,
                org.apache.kafka.common.record.TimestampType.CREATE_TIME, -1);
        RecordBatch b = RecordBatch.at(buf, 0);
        b.setMaxTimestampAndLogAppendTime(5555L);
        assertTrue(b.isCrcValid());
        assertEquals(TimestampType.LOG_APPEND_TIME, b.timestampType());
        MutableRecordBatch k = kafkaView(buf);
        k.ensureValid();
        assertEquals(org.apache.kafka.common.record.TimestampType.LOG_APPEND_TIME, k.timestampType());
        assertEquals(5555L, k.maxTimestamp());
        for (Record r : k) {
            assertEquals(5555L, r.timestamp());
        }
    }

    @Test
    void worksAtAnOffsetInsideDirectAndLittleEndianBuffers() {
        ByteBuffer one = new BatchBuilder().producer(7L, (short) 1, 0).append(10L, "k", "v").build();
        ByteBuffer direct = ByteBuffer.allocateDirect(one.remaining() + 5).order(ByteOrder.LITTLE_ENDIAN);
        direct.position(5);
        direct.put(one.duplicate());
        direct.position(5);
        RecordBatch b = RecordBatch.at(direct, 5);
        assertTrue(b.isCrcValid());
        assertEquals(7L, b.producerId());
        assertEquals(10L, b.maxTimestamp());
        assertEquals(5, direct.position());
        b.setBaseOffset(42);
        assertEquals(42L, b.baseOffset());
        assertTrue(b.isCrcValid());
        assertEquals(42L, kafkaView(b.slice()).baseOffset());
    }

    @Test
    void detectsCorruption() {
        ByteBuffer buf = new BatchBuilder().append(10L, "k", "value").build();
        RecordBatch b = RecordBatch.at(buf, 0);
        assertTrue(b.isCrcValid());
        buf.put(buf.limit() - 1, (byte) (buf.get(buf.limit() - 1) ^ 1));
        assertFalse(b.isCrcValid());
        ByteBuffer truncated = buf.duplicate().limit(buf.limit() - 1);
        assertFalse(RecordBatch.at(truncated, 0).isComplete());
        assertFalse(RecordBatch.at(truncated, 0).isCrcValid());
    }

    @Test
    void cursorWalksConcatenatedBatchesAndStopsAtPartialTail() {
        ByteBuffer a = new BatchBuilder().append(1L, "a", "1").build();
        ByteBuffer b = new BatchBuilder().baseOffset(1).append(2L, "b", "2").append(3L, "c", "3").build();
        ByteBuffer all = ByteBuffer.allocate(a.remaining() + b.remaining() + 20);
        all.put(a.duplicate()).put(b.duplicate()).put(new byte[] {0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 1, 0});
        all.flip();
        BatchCursor c = new BatchCursor(all);
        assertTrue(c.next());
        assertEquals(0L, c.batch().baseOffset());
        assertTrue(c.next());
        assertEquals(2L, c.batch().lastOffset());
        assertFalse(c.next());
        assertEquals(12, c.trailingBytes());
        assertEquals(0, all.position());
    }
}
