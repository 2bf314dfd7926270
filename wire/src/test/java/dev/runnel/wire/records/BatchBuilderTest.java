package dev.runnel.wire.records;

import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MutableRecordBatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What we build, Kafka reads and validates. */
class BatchBuilderTest {

    private static List<org.apache.kafka.common.record.Record> kafkaRecords(MutableRecordBatch batch) {
        List<org.apache.kafka.common.record.Record> out = new ArrayList<>();
        batch.forEach(out::add);
        return out;
    }

    private static MutableRecordBatch onlyBatch(ByteBuffer buf) {
        Iterator<MutableRecordBatch> it = MemoryRecords.readableRecords(buf.duplicate()).batches().iterator();
        MutableRecordBatch b = it.next();
        assertFalse(it.hasNext());
        b.ensureValid();
        return b;
    }

    @ParameterizedTest
    @EnumSource(Compression.class)
    void kafkaReadsWhatWeBuild(Compression codec) {
        BatchBuilder builder = new BatchBuilder().compression(codec).baseOffset(100).partitionLeaderEpoch(4)
                .producer(77L, (short) 2, 10);
        int n = 500;
        for (int i = 0; i < n; i++) {
            byte[] key = i % 3 == 0 ? null : KafkaBatches.bytes("key-" + i);
            byte[] value = i % 11 == 0 ? null : KafkaBatches.value(i, 200);
            Header[] hs = i % 4 == 0 ? new Header[] {new Header("a", KafkaBatches.bytes("x" + i)), new Header("nul", null)}
                    : new Header[0];
            builder.append(1_000L + (i * 37L) % 101, key, value, hs);
        }
        ByteBuffer buf = builder.build();
        MutableRecordBatch k = onlyBatch(buf);
        assertEquals(codec.id, k.compressionType().id);
        assertEquals(100L, k.baseOffset());
        assertEquals(100L + n - 1, k.lastOffset());
        assertEquals(4, k.partitionLeaderEpoch());
        assertEquals(77L, k.producerId());
        assertEquals((short) 2, k.producerEpoch());
        assertEquals(10, k.baseSequence());
        assertEquals(10 + n - 1, k.lastSequence());
        assertEquals(1_100L, k.maxTimestamp());
        List<org.apache.kafka.common.record.Record> recs = kafkaRecords(k);
        assertEquals(n, recs.size());
        for (int i = 0; i < n; i++) {
            org.apache.kafka.common.record.Record r = recs.get(i);
            assertEquals(100L + i, r.offset());
            assertEquals(1_000L + (i * 37L) % 101, r.timestamp());
            if (i % 3 == 0) {
                assertNull(r.key());
            } else {
                assertEquals("key-" + i, new String(toArray(r.key())));
            }
            if (i % 11 == 0) {
                assertNull(r.value());
            } else {
                assertArrayEquals(KafkaBatches.value(i, 200), toArray(r.value()));
            }
            assertEquals(i % 4 == 0 ? 2 : 0, r.headers().length);
            if (i % 4 == 0) {
                assertEquals("a", r.headers()[0].key());
                assertArrayEquals(KafkaBatches.bytes("x" + i), r.headers()[0].value());
                assertNull(r.headers()[1].value());
            }
        }
        // and our own reader agrees
        RecordBatch ours = RecordBatch.at(buf, 0);
        assertTrue(ours.isCrcValid());
        try {
            List<Record> mine = RecordCursor.readAll(ours);
            assertEquals(n, mine.size());
            assertEquals(recs.get(n - 1).offset(), mine.get(n - 1).offset());
        } catch (RecordsException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void flagsAndLogAppendTime() {
        ByteBuffer buf = new BatchBuilder().transactional(true).control(true).producer(5L, (short) 1, 0)
                .logAppendTime(9_999L).append(3L, new byte[] {0, 0, 0, 1}, new byte[] {0, 0, 0, 0, 0, 0}).build();
        MutableRecordBatch k = onlyBatch(buf);
        assertTrue(k.isTransactional());
        assertTrue(k.isControlBatch());
        assertEquals(org.apache.kafka.common.record.TimestampType.LOG_APPEND_TIME, k.timestampType());
        assertEquals(9_999L, k.maxTimestamp());
        assertEquals(9_999L, kafkaRecords(k).get(0).timestamp());
    }

    @Test
    void refusesEmptyBatch() {
        assertThrows(IllegalStateException.class, () -> new BatchBuilder().build());
    }

    static byte[] toArray(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }
}
