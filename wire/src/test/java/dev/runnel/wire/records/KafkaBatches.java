package dev.runnel.wire.records;

import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MemoryRecordsBuilder;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.TimestampType;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** Builds reference batches with Kafka's own MemoryRecordsBuilder. */
final class KafkaBatches {
    private KafkaBatches() {
    }

    static Compression kafkaCompression(dev.runnel.wire.records.Compression c) {
        return switch (c) {
            case NONE -> Compression.NONE;
            case GZIP -> Compression.gzip().build();
            case SNAPPY -> Compression.snappy().build();
            case LZ4 -> Compression.lz4().build();
            case ZSTD -> Compression.zstd().build();
        };
    }

    static byte[] bytes(String s) {
        return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * {@code n} records, record i: timestamp base + (i % 7) * 10 (not monotonic), key "k<i>" (null
     * every 5th), value of {@code valueSize} pseudo-random-ish bytes, header "h"= i when i is even.
     */
    static ByteBuffer build(dev.runnel.wire.records.Compression codec, int n, int valueSize, long baseTimestamp,
                            long producerId, short epoch, int baseSeq, boolean transactional, TimestampType type,
                            long logAppendTime) {
        ByteBuffer buf = ByteBuffer.allocate(1024 + n * (valueSize + 64));
        MemoryRecordsBuilder b = MemoryRecords.builder(buf, RecordBatch.MAGIC_VALUE_V2, kafkaCompression(codec), type,
                0L, logAppendTime, producerId, epoch, baseSeq, transactional, 7);
        for (int i = 0; i < n; i++) {
            byte[] key = i % 5 == 4 ? null : bytes("k" + i);
            byte[] value = value(i, valueSize);
            org.apache.kafka.common.header.Header[] hs = i % 2 == 0
                    ? new org.apache.kafka.common.header.Header[] {new RecordHeader("h", bytes(Integer.toString(i)))}
                    : new org.apache.kafka.common.header.Header[0];
            b.append(baseTimestamp + (i % 7) * 10, key, value, hs);
        }
        return b.build().buffer();
    }

    static byte[] value(int i, int size) {
        byte[] v = new byte[size];
        for (int j = 0; j < size; j++) {
            v[j] = (byte) ("abcdefgh".charAt((i + j) % 8) + (j % 13 == 0 ? i : 0));
        }
        return v;
    }
}
