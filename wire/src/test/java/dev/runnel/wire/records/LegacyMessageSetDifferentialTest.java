package dev.runnel.wire.records;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MemoryRecordsBuilder;
import org.apache.kafka.common.record.MutableRecordBatch;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/**
 * The legacy message-set reader and writer against kafka-clients 3.9's own legacy classes
 * ({@code MemoryRecordsBuilder}/{@code MemoryRecords} with magic 0 and 1): Kafka's bytes read by us give
 * Kafka's records, our bytes read by Kafka give ours, and for every codec our bytes are Kafka's bytes.
 */
class LegacyMessageSetDifferentialTest {

    record Rec(long offset, long timestamp, byte[] key, byte[] value) {
    }

    static List<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (byte magic = 0; magic <= 1; magic++) {
            for (Compression c : List.of(Compression.NONE, Compression.GZIP, Compression.SNAPPY, Compression.LZ4)) {
                for (TimestampType t : TimestampType.values()) {
                    if (magic == 0 && t == TimestampType.LOG_APPEND_TIME) {
                        continue;
                    }
                    for (int n : new int[] {1, 7, 300}) {
                        out.add(Arguments.of(magic, c, t, n));
                    }
                }
            }
        }
        return out;
    }

    static List<Rec> records(long seed, int n, long baseOffset) {
        Random r = new Random(seed);
        List<Rec> recs = new ArrayList<>();
        long offset = baseOffset;
        for (int i = 0; i < n; i++) {
            byte[] key = r.nextInt(4) == 0 ? null : KafkaBatches.bytes("key-" + r.nextInt(1000));
            byte[] value = r.nextInt(10) == 0 ? null : KafkaBatches.value(i, r.nextInt(i % 50 == 0 ? 3000 : 200));
            recs.add(new Rec(offset, 1_700_000_000_000L + r.nextInt(100_000), key, value));
            offset += 1;
        }
        return recs;
    }

    static ByteBuffer kafkaBuild(byte magic, Compression c, TimestampType t, List<Rec> recs, long logAppendTime) {
        MemoryRecordsBuilder b = MemoryRecords.builder(ByteBuffer.allocate(1024), magic, KafkaBatches.kafkaCompression(c),
                t == TimestampType.LOG_APPEND_TIME ? org.apache.kafka.common.record.TimestampType.LOG_APPEND_TIME
                        : org.apache.kafka.common.record.TimestampType.CREATE_TIME,
                recs.get(0).offset(), logAppendTime);
        for (Rec rec : recs) {
            b.appendWithOffset(rec.offset(), rec.timestamp(), rec.key(), rec.value());
        }
        return b.build().buffer();
    }

    static ByteBuffer ourBuild(byte magic, Compression c, TimestampType t, List<Rec> recs, long logAppendTime) {
        LegacyMessageSetBuilder b = new LegacyMessageSetBuilder(magic, c, t, logAppendTime);
        for (Rec rec : recs) {
            b.append(rec.offset(), rec.timestamp(), rec.key(), rec.value());
        }
        return b.build();
    }

    static long expectedTimestamp(byte magic, Compression c, TimestampType t, Rec rec, long logAppendTime) {
        if (magic == 0) {
            return RecordBatch.NO_TIMESTAMP;
        }
        return t == TimestampType.LOG_APPEND_TIME ? logAppendTime : rec.timestamp();
    }

    @ParameterizedTest(name = "magic {0} {1} {2} x{3}")
    @MethodSource("cases")
    void kafkasBytesReadByUsAndOursByKafkaAndTheyAreTheSame(byte magic, Compression c, TimestampType t, int n) throws Exception {
        long lat = 1_800_000_000_000L;
        List<Rec> recs = records(n * 31L + magic * 7 + c.id, n, 1000L * n);
        ByteBuffer kafka = kafkaBuild(magic, c, t, recs, lat);
        ByteBuffer ours = ourBuild(magic, c, t, recs, lat);

        // Kafka's bytes, read by us
        LegacyMessageCursor cursor = LegacyMessageCursor.open(kafka.duplicate());
        for (Rec rec : recs) {
            assertTrue(cursor.next(), "record at " + rec.offset());
            assertEquals(rec.offset(), cursor.offset());
            assertEquals(magic, cursor.magic());
            assertEquals(expectedTimestamp(magic, c, t, rec, lat), cursor.timestamp(), "timestamp at " + rec.offset());
            assertEquals(magic == 0 ? null : t, cursor.timestampType());
            assertArrayEquals(rec.key(), cursor.key());
            assertArrayEquals(rec.value(), cursor.value());
            assertEquals(c, cursor.compression());
        }
        assertFalse(cursor.next());

        // our bytes, read by Kafka (which checks every CRC it meets)
        MemoryRecords read = MemoryRecords.readableRecords(ours.duplicate());
        int batches = 0;
        for (MutableRecordBatch batch : read.batches()) {
            batch.ensureValid();
            assertEquals(magic, batch.magic());
            assertEquals(c.id, batch.compressionType().id);
            batches++;
        }
        assertEquals(c == Compression.NONE ? n : 1, batches);
        Iterator<org.apache.kafka.common.record.Record> it = read.records().iterator();
        for (Rec rec : recs) {
            org.apache.kafka.common.record.Record k = it.next();
            k.ensureValid();
            assertEquals(rec.offset(), k.offset());
            assertEquals(expectedTimestamp(magic, c, t, rec, lat), k.timestamp());
            assertArrayEquals(rec.key(), k.key() == null ? null : bytes(k.key()));
            assertArrayEquals(rec.value(), k.value() == null ? null : bytes(k.value()));
        }
        assertFalse(it.hasNext());

        // and the bytes are the same
        assertArrayEquals(bytes(kafka), bytes(ours), "our message set differs from Kafka's");
    }

    @Test
    void magicZeroLz4HasTheBrokenHeaderChecksumAndMagicOneTheRightOne() throws Exception {
        List<Rec> recs = records(5, 3, 0);
        byte[] v0 = wrapperValue(ourBuild((byte) 0, Compression.LZ4, TimestampType.CREATE_TIME, recs, -1));
        byte[] v1 = wrapperValue(ourBuild((byte) 1, Compression.LZ4, TimestampType.CREATE_TIME, recs, -1));
        // lz4-java's standard frame reader checks the header checksum: it takes magic 1's frame, not magic 0's
        new net.jpountz.lz4.LZ4FrameInputStream(new java.io.ByteArrayInputStream(v1)).readAllBytes();
        assertThrows(java.io.IOException.class,
                () -> new net.jpountz.lz4.LZ4FrameInputStream(new java.io.ByteArrayInputStream(v0)).readAllBytes());
        // and a magic 1 wrapper holding magic 0's frame is refused
        assertThrows(RecordsException.class, () -> LegacyLz4.decompress(v0, 0, v0.length, false, 1 << 20));
        assertEquals(3 * 8, LegacyLz4.decompress(v1, 0, v1.length, false, 1 << 20).length
                - LegacyLz4.decompress(v0, 0, v0.length, true, 1 << 20).length, "magic 1 adds a timestamp per message");
    }

    @Test
    void corruptMessagesAreRefusedWithKafkasErrors() {
        List<Rec> recs = records(9, 4, 0);
        byte[] good = bytes(ourBuild((byte) 1, Compression.NONE, TimestampType.CREATE_TIME, recs, -1));
        byte[] flipped = good.clone();
        flipped[good.length - 1] ^= 1;
        assertEquals(ErrorCodes.CORRUPT_MESSAGE, readAll(flipped));
        byte[] truncated = java.util.Arrays.copyOf(good, good.length - 3);
        assertEquals(ErrorCodes.CORRUPT_MESSAGE, readAll(truncated));
        byte[] tooSmall = good.clone();
        ByteBuffer.wrap(tooSmall).putInt(8, 13);
        assertEquals(ErrorCodes.CORRUPT_MESSAGE, readAll(tooSmall));
        byte[] badMagic = good.clone();
        badMagic[16] = 3;
        assertEquals(ErrorCodes.CORRUPT_MESSAGE, readAll(badMagic));

        // a wrapper of magic 1 around magic 0 messages: Kafka's "does not match wrapper magic"
        byte[] mixed = wrapper((byte) 1, bytes(ourBuild((byte) 0, Compression.NONE, TimestampType.CREATE_TIME, recs, -1)));
        assertEquals(ErrorCodes.INVALID_RECORD, readAll(mixed));
        // nested compression
        byte[] nested = wrapper((byte) 1, bytes(ourBuild((byte) 1, Compression.GZIP, TimestampType.CREATE_TIME, recs, -1)));
        assertEquals(ErrorCodes.INVALID_RECORD, readAll(nested));
        // a wrapper whose value is no gzip at all
        byte[] garbage = wrapperRaw((byte) 1, Compression.GZIP, new byte[] {1, 2, 3, 4, 5});
        assertEquals(ErrorCodes.CORRUPT_MESSAGE, readAll(garbage));
    }

    @Test
    void aDecompressionBombStopsAtTheCap() {
        byte[] zeros = new byte[4 << 20];
        List<Rec> recs = List.of(new Rec(0, 1, null, zeros));
        byte[] bomb = bytes(ourBuild((byte) 1, Compression.GZIP, TimestampType.CREATE_TIME, recs, -1));
        assertTrue(bomb.length < 100_000);
        RecordsException e = assertThrows(RecordsException.class, () -> {
            LegacyMessageCursor c = LegacyMessageCursor.open(ByteBuffer.wrap(bomb), 1 << 20);
            while (c.next()) {
                // read
            }
        });
        assertEquals(ErrorCodes.CORRUPT_MESSAGE, e.errorCode());
    }

    @Test
    void magicZeroRecordsHaveNoTimestampType() throws Exception {
        LegacyMessageCursor c = LegacyMessageCursor.open(
                ourBuild((byte) 0, Compression.NONE, TimestampType.CREATE_TIME, records(1, 1, 42), -1));
        assertTrue(c.next());
        assertNull(c.timestampType());
        assertEquals(42, c.offset());
    }

    private static int readAll(byte[] set) {
        try {
            LegacyMessageCursor c = LegacyMessageCursor.open(ByteBuffer.wrap(set), 1 << 20);
            while (c.next()) {
                // read
            }
            return ErrorCodes.NONE;
        } catch (RecordsException e) {
            return e.errorCode();
        }
    }

    /** A gzip wrapper (magic {@code magic}) around arbitrary inner bytes, with a correct CRC. */
    private static byte[] wrapper(byte magic, byte[] innerSet) {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.util.zip.GZIPOutputStream gz = new java.util.zip.GZIPOutputStream(bytes)) {
            gz.write(innerSet);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return wrapperRaw(magic, Compression.GZIP, bytes.toByteArray());
    }

    private static byte[] wrapperRaw(byte magic, Compression codec, byte[] value) {
        int size = (magic == 0 ? 14 : 22) + value.length;
        ByteBuffer b = ByteBuffer.allocate(12 + size);
        b.putLong(3).putInt(size).putInt(0).put(magic).put((byte) codec.id);
        if (magic == 1) {
            b.putLong(5);
        }
        b.putInt(-1).putInt(value.length).put(value);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(b.array(), 16, size - 4);
        b.putInt(12, (int) crc.getValue());
        return b.array();
    }

    private static byte[] wrapperValue(ByteBuffer set) {
        ByteBuffer b = set.duplicate();
        int keyLenAt = b.get(16) == 0 ? 18 : 26;
        int valueLenAt = keyLenAt + 4; // the wrapper's key is null
        byte[] v = new byte[b.getInt(valueLenAt)];
        b.get(valueLenAt + 4, v);
        return v;
    }

    static byte[] bytes(ByteBuffer b) {
        ByteBuffer d = b.duplicate();
        byte[] out = new byte[d.remaining()];
        d.get(out);
        return out;
    }
}
