package dev.runnel.log;

import dev.runnel.wire.records.BatchBuilder;
import dev.runnel.wire.records.Compression;
import org.apache.kafka.common.record.FileRecords;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MutableRecordBatch;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Batches for tests and Kafka-side readers of what the log stores. */
final class TestBatches {
    private TestBatches() {
    }

    /** A client batch of {@code n} records "v<first+i>" with timestamps ts, ts+1, ... */
    static ByteBuffer batch(int n, long ts, String prefix) {
        BatchBuilder b = new BatchBuilder();
        for (int i = 0; i < n; i++) {
            b.append(ts + i, "k" + i, prefix + i);
        }
        return b.build();
    }

    static ByteBuffer batch(int n, long ts) {
        return batch(n, ts, "v");
    }

    static ByteBuffer compressed(Compression c, long[] timestamps, String prefix) {
        BatchBuilder b = new BatchBuilder().compression(c);
        for (int i = 0; i < timestamps.length; i++) {
            b.append(timestamps[i], "k" + i, prefix + i);
        }
        return b.build();
    }

    static ByteBuffer producerBatch(long pid, short epoch, int seq, int n, long ts) {
        BatchBuilder b = new BatchBuilder().producer(pid, epoch, seq);
        for (int i = 0; i < n; i++) {
            b.append(ts + i, "k" + i, "p" + pid + "-" + (seq + i));
        }
        return b.build();
    }

    /** Kafka's view of a buffer of batches: every batch validated, all records. */
    static List<Record> kafkaRecords(ByteBuffer buf) {
        List<Record> out = new ArrayList<>();
        for (MutableRecordBatch b : MemoryRecords.readableRecords(buf.duplicate()).batches()) {
            b.ensureValid();
            b.forEach(out::add);
        }
        return out;
    }

    static List<MutableRecordBatch> kafkaBatches(ByteBuffer buf) {
        List<MutableRecordBatch> out = new ArrayList<>();
        for (MutableRecordBatch b : MemoryRecords.readableRecords(buf.duplicate()).batches()) {
            b.ensureValid();
            out.add(b);
        }
        return out;
    }

    /** Kafka's FileRecords reading a segment file directly: every batch valid; returns the records. */
    static List<Record> kafkaReadSegment(Path logFile) throws IOException {
        List<Record> out = new ArrayList<>();
        try (FileRecords fr = FileRecords.open(logFile.toFile(), false)) {
            for (RecordBatch b : fr.batches()) {
                b.ensureValid();
                b.forEach(out::add);
            }
        }
        return out;
    }

    static String value(Record r) {
        ByteBuffer v = r.value().duplicate();
        byte[] bytes = new byte[v.remaining()];
        v.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    static void assertContiguous(List<Record> records, long from) {
        long expected = from;
        for (Record r : records) {
            assertEquals(expected++, r.offset());
        }
    }
}
