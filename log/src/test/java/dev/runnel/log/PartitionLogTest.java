package dev.runnel.log;

import dev.runnel.wire.records.BatchBuilder;
import dev.runnel.wire.records.Compression;
import dev.runnel.wire.records.ErrorCodes;
import dev.runnel.wire.records.TimestampType;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.record.MutableRecordBatch;
import org.apache.kafka.common.record.Record;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static dev.runnel.log.TestBatches.batch;
import static dev.runnel.log.TestBatches.kafkaBatches;
import static dev.runnel.log.TestBatches.kafkaReadSegment;
import static dev.runnel.log.TestBatches.kafkaRecords;
import static dev.runnel.log.TestBatches.value;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PartitionLogTest {
    @TempDir
    Path tmp;

    private final AtomicLong clock = new AtomicLong(1_700_000_000_000L);

    private Path dir() {
        return tmp.resolve("orders.eu-0");
    }

    private PartitionLog open(LogConfig cfg) throws IOException {
        return PartitionLog.open(dir(), cfg, clock::get);
    }

    private static LogConfig small() {
        return LogConfig.defaults().withSegmentBytes(2048).withIndexIntervalBytes(200).withSegmentIndexBytes(4096);
    }

    private static List<String> segmentFiles(Path dir, String suffix) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(suffix)).sorted().collect(Collectors.toList());
        }
    }

    /** Appends {@code batches} client batches of 1..4 records; returns the total number of records. */
    private static long fill(PartitionLog log, int batches, long ts) {
        long records = 0;
        for (int i = 0; i < batches; i++) {
            int n = 1 + i % 4;
            AppendResult r = log.append(batch(n, ts + i * 10L, "b" + i + "-"), 5);
            assertTrue(r.isOk(), r.toString());
            assertEquals(records, r.firstOffset());
            assertEquals(records + n - 1, r.lastOffset());
            records += n;
        }
        return records;
    }

    @Test
    void appendAndReadBackAsKafkaDoes() throws IOException {
        try (PartitionLog log = open(LogConfig.defaults())) {
            assertEquals(0, log.logEndOffset());
            AppendResult a = log.append(batch(3, 1000L), 7);
            assertTrue(a.isOk(), a.toString());
            assertEquals(0, a.firstOffset());
            assertEquals(2, a.lastOffset());
            assertEquals(-1, a.logAppendTime());
            assertEquals(3, a.recordCount());
            AppendResult b = log.append(batch(2, 2000L, "w"), 7);
            assertEquals(3, b.firstOffset());
            assertEquals(4, b.lastOffset());
            assertEquals(5, log.logEndOffset());

            List<Record> recs = kafkaRecords(log.readBytes(0, 1 << 20));
            assertEquals(5, recs.size());
            TestBatches.assertContiguous(recs, 0);
            assertEquals("v0", value(recs.get(0)));
            assertEquals("w1", value(recs.get(4)));
            for (MutableRecordBatch kb : kafkaBatches(log.readBytes(0, 1 << 20))) {
                assertEquals(7, kb.partitionLeaderEpoch());
            }
            // reading from inside the second batch returns it whole
            List<MutableRecordBatch> fromFour = kafkaBatches(log.readBytes(4, 1 << 20));
            assertEquals(1, fromFour.size());
            assertEquals(3, fromFour.get(0).baseOffset());
        }
        List<Record> onDisk = kafkaReadSegment(dir().resolve("00000000000000000000.log"));
        assertEquals(5, onDisk.size());
    }

    @Test
    void rejectedAppendsWriteNothing() throws IOException {
        try (PartitionLog log = open(LogConfig.defaults().withMaxMessageBytes(200))) {
            assertTrue(log.append(batch(1, 1L), 0).isOk());
            long size = log.size();
            ByteBuffer corrupt = batch(2, 1L);
            corrupt.put(corrupt.limit() - 1, (byte) 42);
            assertEquals(ErrorCodes.CORRUPT_MESSAGE, log.append(corrupt, 0).errorCode());
            StringBuilder big = new StringBuilder();
            for (int i = 0; i < 300; i++) {
                big.append('x');
            }
            ByteBuffer tooBig = new BatchBuilder().append(1L, "k", big.toString()).build();
            assertEquals(ErrorCodes.MESSAGE_TOO_LARGE, log.append(tooBig, 0).errorCode());
            ByteBuffer legacy = batch(1, 1L);
            legacy.put(16, (byte) 1);
            assertEquals(ErrorCodes.UNSUPPORTED_FOR_MESSAGE_FORMAT, log.append(legacy, 0).errorCode());
            assertEquals(1, log.logEndOffset());
            assertEquals(size, log.size());
        }
    }

    @Test
    void rollsSegmentsAndReadsAcrossThem() throws IOException {
        long total;
        try (PartitionLog log = open(small())) {
            total = fill(log, 200, 1_000L);
            assertTrue(log.segmentCount() > 5, "segments: " + log.segmentCount());
            long[] bases = log.segmentBaseOffsets();
            for (int i = 1; i < bases.length; i++) {
                assertTrue(bases[i] > bases[i - 1]);
            }
            // everything, in order, across segments
            List<Record> all = kafkaRecords(log.readBytes(0, Integer.MAX_VALUE));
            assertEquals(total, all.size());
            TestBatches.assertContiguous(all, 0);
            // from every offset: the first batch returned contains it
            for (long off = 0; off < total; off++) {
                List<MutableRecordBatch> bs = kafkaBatches(log.readBytes(off, 300));
                assertFalse(bs.isEmpty());
                assertTrue(bs.get(0).baseOffset() <= off && off <= bs.get(0).lastOffset(), "offset " + off);
            }
        }
        List<String> logs = segmentFiles(dir(), ".log");
        List<String> indexes = segmentFiles(dir(), ".index");
        List<String> timeIndexes = segmentFiles(dir(), ".timeindex");
        assertEquals(logs.size(), indexes.size());
        assertEquals(logs.size(), timeIndexes.size());
        long expected = 0;
        for (String name : logs) {
            assertTrue(name.matches("\\d{20}\\.log"), name);
            assertEquals(expected, Long.parseLong(name.substring(0, 20)));
            List<Record> recs = kafkaReadSegment(dir().resolve(name));
            TestBatches.assertContiguous(recs, expected);
            expected += recs.size();
            assertTrue(Files.size(dir().resolve(name)) <= 2048);
        }
        assertEquals(total, expected);
    }

    @Test
    void readHonoursMaxBytesButAlwaysReturnsOneWholeBatch() throws IOException {
        try (PartitionLog log = open(LogConfig.defaults())) {
            int size = batch(4, 1L).remaining();
            for (int i = 0; i < 10; i++) {
                log.append(batch(4, 1L), 0);
            }
            LogReadResult tiny = log.read(0, 1);
            assertEquals(size, tiny.sizeInBytes());
            assertEquals(1, kafkaBatches(tiny.toByteBuffer()).size());
            LogReadResult three = log.read(5, size * 3 + size / 2);
            assertEquals(size * 3, three.sizeInBytes());
            assertEquals(4, kafkaBatches(three.toByteBuffer()).get(0).baseOffset());
            LogReadResult all = log.read(0, Integer.MAX_VALUE);
            assertEquals(size * 10, all.sizeInBytes());
            assertEquals(40, all.logEndOffset());
            // bounded by an offset (high watermark): only batches wholly below it
            LogReadResult bounded = log.read(0, Integer.MAX_VALUE, 10);
            List<MutableRecordBatch> bb = kafkaBatches(bounded.toByteBuffer());
            assertEquals(2, bb.size());
            assertEquals(7, bb.get(1).lastOffset());
        }
    }

    @Test
    void withoutMinOneBatchAnOversizedFirstBatchIsNotReturned() throws IOException {
        try (PartitionLog log = open(LogConfig.defaults())) {
            log.append(batch(4, 1L), 0);
            int size = log.size() > 0 ? (int) log.size() : 0;
            assertEquals(0, log.read(0, size - 1, Long.MAX_VALUE, false).sizeInBytes());
            assertEquals(size, log.read(0, size, Long.MAX_VALUE, false).sizeInBytes());
            assertEquals(size, log.read(0, size - 1, Long.MAX_VALUE, true).sizeInBytes());
        }
    }

    @Test
    void configChangesApplyToTheOpenLog() throws IOException {
        try (PartitionLog log = open(LogConfig.defaults())) {
            assertTrue(log.append(batch(3, 1L), 0).isOk());
            log.updateConfig(LogConfig.defaults().withMaxMessageBytes(100).withMessageTimestampType(TimestampType.LOG_APPEND_TIME));
            assertEquals(ErrorCodes.MESSAGE_TOO_LARGE, log.append(batch(10, 1L), 0).errorCode());
            AppendResult r = log.append(batch(1, 1L), 0);
            assertTrue(r.isOk(), r.toString());
            assertEquals(clock.get(), r.logAppendTime());
            int before = log.segmentCount();
            log.updateConfig(LogConfig.defaults().withSegmentBytes(100));
            log.append(TestBatches.batch(1, clock.get()), 0);
            assertEquals(before + 1, log.segmentCount());
        }
    }

    @Test
    void outOfRangeAndEndOfLog() throws IOException {
        try (PartitionLog log = open(LogConfig.defaults())) {
            log.append(batch(3, 1L), 0);
            assertEquals(LogErrors.OFFSET_OUT_OF_RANGE, log.read(4, 100).errorCode());
            assertEquals(LogErrors.OFFSET_OUT_OF_RANGE, log.read(-1, 100).errorCode());
            LogReadResult atEnd = log.read(3, 100);
            assertTrue(atEnd.isOk());
            assertTrue(atEnd.regions().isEmpty());
            LogException e = assertThrows(LogException.class, () -> log.readBytes(10, 100));
            assertEquals(LogErrors.OFFSET_OUT_OF_RANGE, e.errorCode());
        }
    }

    @Test
    void offsetIndexEntriesPointAtBatchStarts() throws IOException {
        try (PartitionLog log = open(small())) {
            fill(log, 120, 1L);
        }
        for (String idx : segmentFiles(dir(), ".index")) {
            long base = Long.parseLong(idx.substring(0, 20));
            ByteBuffer index = ByteBuffer.wrap(Files.readAllBytes(dir().resolve(idx)));
            ByteBuffer data = ByteBuffer.wrap(Files.readAllBytes(dir().resolve(idx.replace(".index", ".log"))));
            assertEquals(0, index.remaining() % 8);
            int entries = index.remaining() / 8;
            if (data.remaining() > 600) {
                assertTrue(entries > 0, idx + " has no entries for " + data.remaining() + " bytes");
            }
            for (int i = 0; i < entries; i++) {
                int rel = index.getInt(i * 8);
                int pos = index.getInt(i * 8 + 4);
                dev.runnel.wire.records.RecordBatch b = dev.runnel.wire.records.RecordBatch.at(data, pos);
                assertTrue(b.isCrcValid());
                assertEquals(base + rel, b.lastOffset());
            }
            // the time index: increasing timestamps, offsets in the segment
            ByteBuffer time = ByteBuffer.wrap(Files.readAllBytes(dir().resolve(idx.replace(".index", ".timeindex"))));
            assertEquals(0, time.remaining() % 12);
            assertTrue(time.remaining() >= 12);
            long prev = Long.MIN_VALUE;
            for (int i = 0; i < time.remaining() / 12; i++) {
                long ts = time.getLong(i * 12);
                assertTrue(ts > prev);
                prev = ts;
                assertTrue(time.getInt(i * 12 + 8) >= 0);
            }
        }
    }

    @Test
    void timestampLookupsMatchABruteForceScan() throws IOException {
        try (PartitionLog log = open(small())) {
            // non-monotonic timestamps inside and across batches, some compressed
            long ts = 10_000;
            for (int i = 0; i < 150; i++) {
                long[] t = {ts + 5, ts, ts + 9, ts + 3};
                ByteBuffer b = i % 3 == 0 ? TestBatches.compressed(Compression.GZIP, t, "c" + i)
                        : TestBatches.compressed(Compression.NONE, t, "u" + i);
                assertTrue(log.append(b, 1).isOk());
                ts += (i % 5 == 0) ? -20 : 10;
            }
            List<Record> all = kafkaRecords(log.readBytes(0, Integer.MAX_VALUE));
            for (long target = 9_000; target <= ts + 50; target += 7) {
                Record expected = null;
                for (Record r : all) {
                    if (r.timestamp() >= target) {
                        expected = r;
                        break;
                    }
                }
                TimestampAndOffset got = log.offsetForTimestamp(target);
                if (expected == null) {
                    assertNull(got, "target " + target);
                } else {
                    assertNotNull(got, "target " + target);
                    assertEquals(expected.offset(), got.offset(), "target " + target);
                    assertEquals(expected.timestamp(), got.timestamp());
                    assertEquals(1, got.leaderEpoch());
                }
            }
            Record max = all.get(0);
            for (Record r : all) {
                if (r.timestamp() > max.timestamp()) {
                    max = r;
                }
            }
            TimestampAndOffset m = log.offsetForTimestamp(PartitionLog.MAX_TIMESTAMP);
            assertEquals(max.offset(), m.offset());
            assertEquals(max.timestamp(), m.timestamp());
            assertEquals(0, log.offsetForTimestamp(PartitionLog.EARLIEST_TIMESTAMP).offset());
            assertEquals(all.size(), log.offsetForTimestamp(PartitionLog.LATEST_TIMESTAMP).offset());
            assertEquals(1, log.offsetForTimestamp(PartitionLog.LATEST_TIMESTAMP).leaderEpoch());
        }
    }

    @Test
    void timestampLookupOnAnEmptyLog() throws IOException {
        try (PartitionLog log = open(LogConfig.defaults())) {
            assertNull(log.offsetForTimestamp(5));
            assertNull(log.offsetForTimestamp(PartitionLog.MAX_TIMESTAMP));
            assertEquals(0, log.offsetForTimestamp(PartitionLog.LATEST_TIMESTAMP).offset());
        }
    }

    @Test
    void logAppendTimeStampsTheBrokerClock() throws IOException {
        try (PartitionLog log = open(LogConfig.defaults().withMessageTimestampType(TimestampType.LOG_APPEND_TIME))) {
            AppendResult r = log.append(batch(3, 5L), 0);
            assertEquals(clock.get(), r.logAppendTime());
            MutableRecordBatch kb = kafkaBatches(log.readBytes(0, 1000)).get(0);
            assertEquals(org.apache.kafka.common.record.TimestampType.LOG_APPEND_TIME, kb.timestampType());
            assertEquals(clock.get(), kb.maxTimestamp());
            for (Record rec : kb) {
                assertEquals(clock.get(), rec.timestamp());
            }
            assertEquals(0, log.offsetForTimestamp(clock.get()).offset());
        }
    }

    @Test
    void rollsOnSegmentMsByRecordTimestamps() throws IOException {
        try (PartitionLog log = open(LogConfig.defaults().withSegmentMs(1000))) {
            log.append(batch(1, 10_000L), 0);
            log.append(batch(1, 10_900L), 0);
            assertEquals(1, log.segmentCount());
            log.append(batch(1, 11_001L), 0);
            assertEquals(2, log.segmentCount());
            assertArrayEquals(new long[] {0, 2}, log.segmentBaseOffsets());
        }
    }

    @Test
    void cleanReopenKeepsEverything() throws IOException {
        long total;
        byte[] before;
        try (PartitionLog log = open(small())) {
            total = fill(log, 100, 1L);
            log.append(TestBatches.producerBatch(9L, (short) 0, 0, 2, 5L), 0);
            total += 2;
            before = toArray(log.readBytes(0, Integer.MAX_VALUE));
        }
        assertTrue(Files.readString(dir().resolve("runnel-log.state")).contains("clean: true"));
        try (PartitionLog log = open(small())) {
            assertEquals(total, log.logEndOffset());
            assertArrayEquals(before, toArray(log.readBytes(0, Integer.MAX_VALUE)));
            assertEquals(1, log.producerStates().size());
            assertEquals(1, log.producerStates().get(0).lastSequence());
            AppendResult r = log.append(batch(1, 1L), 0);
            assertEquals(total, r.firstOffset());
        }
    }

    @Test
    void recoversATornTail() throws IOException {
        long total;
        PartitionLog log = open(small());
        total = fill(log, 30, 1L);
        log.flush();
        long[] bases = log.segmentBaseOffsets();
        log.simulateCrash();
        Path active = dir().resolve(String.format("%020d.log", bases[bases.length - 1]));
        long len = Files.size(active);
        // cut the last batch in half
        try (var ch = java.nio.channels.FileChannel.open(active, java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(len - 10);
        }
        try (PartitionLog reopened = open(small())) {
            List<Record> recs = kafkaRecords(reopened.readBytes(0, Integer.MAX_VALUE));
            TestBatches.assertContiguous(recs, 0);
            assertTrue(recs.size() < total);
            assertEquals(recs.size(), reopened.logEndOffset());
            AppendResult r = reopened.append(batch(2, 1L), 0);
            assertEquals(recs.size(), r.firstOffset());
            assertEquals(recs.size() + 2, kafkaReadAll().size());
        }
    }

    @Test
    void recoversAZeroedTailAndUnflushedPreallocatedIndexes() throws IOException {
        PartitionLog log = open(small());
        long total = fill(log, 30, 1L);
        long[] bases = log.segmentBaseOffsets();
        log.simulateCrash();
        Path active = dir().resolve(String.format("%020d.log", bases[bases.length - 1]));
        Files.write(active, new byte[4096], java.nio.file.StandardOpenOption.APPEND);
        try (PartitionLog reopened = open(small())) {
            assertEquals(total, reopened.logEndOffset());
            TestBatches.assertContiguous(kafkaRecords(reopened.readBytes(0, Integer.MAX_VALUE)), 0);
        }
        assertEquals(total, kafkaReadAll().size());
    }

    @Test
    void recoveryCutsAtACorruptBatchAndDropsLaterSegments() throws IOException {
        PartitionLog log = open(small());
        fill(log, 100, 1L);
        long[] bases = log.segmentBaseOffsets();
        assertTrue(bases.length >= 4);
        log.simulateCrash(); // never flushed: every segment is recovered
        Path second = dir().resolve(String.format("%020d.log", bases[1]));
        ByteBuffer data = ByteBuffer.wrap(Files.readAllBytes(second));
        // flip a byte inside the third batch of the second segment
        int pos = 0;
        for (int i = 0; i < 2; i++) {
            pos += 12 + data.getInt(pos + 8);
        }
        int corruptAt = pos + 70;
        data.put(corruptAt, (byte) (data.get(corruptAt) ^ 0xFF));
        Files.write(second, data.array());
        long expectedEnd = dev.runnel.wire.records.RecordBatch.at(data, 12 + data.getInt(8)).lastOffset() + 1;
        try (PartitionLog reopened = open(small())) {
            assertEquals(expectedEnd, reopened.logEndOffset());
            assertEquals(2, reopened.segmentCount());
            TestBatches.assertContiguous(kafkaRecords(reopened.readBytes(0, Integer.MAX_VALUE)), 0);
        }
        assertEquals(2, segmentFiles(dir(), ".log").size());
    }

    @Test
    void rebuildsDeletedOrGarbageIndexesIdentically() throws IOException {
        try (PartitionLog log = open(small())) {
            fill(log, 100, 1L);
        }
        List<String> indexFiles = new ArrayList<>(segmentFiles(dir(), ".index"));
        indexFiles.addAll(segmentFiles(dir(), ".timeindex"));
        Map<String, byte[]> original = new java.util.HashMap<>();
        for (String f : indexFiles) {
            original.put(f, Files.readAllBytes(dir().resolve(f)));
        }
        // per segment, one kind of damage: both deleted, one deleted, both garbage, a valid-looking
        // prefix (last entry dropped), or an extra plausible entry
        List<String> logs = segmentFiles(dir(), ".log");
        assertTrue(logs.size() >= 5);
        for (int i = 0; i < logs.size(); i++) {
            String base = logs.get(i).substring(0, 20);
            Path index = dir().resolve(base + ".index");
            Path time = dir().resolve(base + ".timeindex");
            switch (i % 5) {
                case 0 -> {
                    Files.delete(index);
                    Files.delete(time);
                }
                case 1 -> Files.delete(time);
                case 2 -> {
                    Files.write(index, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16});
                    Files.write(time, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
                        21, 22, 23, 24});
                }
                case 3 -> {
                    byte[] t = Files.readAllBytes(time);
                    Files.write(time, java.util.Arrays.copyOf(t, t.length - 12));
                    byte[] x = Files.readAllBytes(index);
                    Files.write(index, java.util.Arrays.copyOf(x, Math.max(0, x.length - 8)));
                }
                default -> {
                    byte[] t = Files.readAllBytes(time);
                    ByteBuffer extra = ByteBuffer.allocate(t.length + 12).put(t);
                    extra.putLong(Long.MAX_VALUE - 1).putInt(1);
                    Files.write(time, extra.array());
                }
            }
        }
        try (PartitionLog log = open(small())) {
            TestBatches.assertContiguous(kafkaRecords(log.readBytes(0, Integer.MAX_VALUE)), 0);
            assertNotNull(log.offsetForTimestamp(500));
        }
        for (String f : indexFiles) {
            assertArrayEquals(original.get(f), Files.readAllBytes(dir().resolve(f)), f);
        }
    }

    @Test
    void deletesStrayEmptySegmentsAndOrphanIndexes() throws IOException {
        long total;
        try (PartitionLog log = open(small())) {
            total = fill(log, 60, 1L);
        }
        long[] bases;
        try (PartitionLog log = open(small())) {
            bases = log.segmentBaseOffsets();
        }
        // an empty segment squeezed between two others, and an index without a log
        Files.createFile(dir().resolve(String.format("%020d.log", bases[1] + 1)));
        Files.write(dir().resolve(String.format("%020d.index", 999_999L)), new byte[8]);
        try (PartitionLog log = open(small())) {
            assertArrayEquals(bases, log.segmentBaseOffsets());
            assertEquals(total, log.logEndOffset());
        }
        assertFalse(Files.exists(dir().resolve(String.format("%020d.log", bases[1] + 1))));
        assertFalse(Files.exists(dir().resolve(String.format("%020d.index", 999_999L))));
    }

    @Test
    void truncateToAcrossSegments() throws IOException {
        try (PartitionLog log = open(small())) {
            log.append(TestBatches.producerBatch(4L, (short) 0, 0, 3, 1L), 1);
            fill2(log, 80, 2);
            long[] bases = log.segmentBaseOffsets();
            long target = bases[2] + 1;
            assertTrue(log.truncateTo(target));
            long end = log.logEndOffset();
            assertTrue(end <= target && end >= bases[2], "end " + end);
            assertEquals(3, log.segmentCount());
            TestBatches.assertContiguous(kafkaRecords(log.readBytes(0, Integer.MAX_VALUE)), 0);
            assertEquals(new EpochEndOffset(1, 3), log.endOffsetForEpoch(1));
            AppendResult r = log.append(batch(2, 1L), 3);
            assertEquals(end, r.firstOffset());
            assertEquals(1, log.producerStates().size());
            assertFalse(log.truncateTo(10_000));
        }
        try (PartitionLog log = open(small())) {
            TestBatches.assertContiguous(kafkaRecords(log.readBytes(0, Integer.MAX_VALUE)), 0);
        }
    }

    private static void fill2(PartitionLog log, int batches, int epoch) {
        for (int i = 0; i < batches; i++) {
            assertTrue(log.append(batch(1 + i % 3, i, "t"), epoch).isOk());
        }
    }

    @Test
    void truncateFullyRestartsAtAnOffset() throws IOException {
        try (PartitionLog log = open(small())) {
            fill(log, 50, 1L);
            log.truncateFullyAndStartAt(1000);
            assertEquals(1000, log.logStartOffset());
            assertEquals(1000, log.logEndOffset());
            assertEquals(1, log.segmentCount());
            assertEquals(LogErrors.OFFSET_OUT_OF_RANGE, log.read(0, 100).errorCode());
            assertEquals(1000, log.append(batch(1, 1L), 0).firstOffset());
        }
        assertEquals(List.of("00000000000000001000.log"), segmentFiles(dir(), ".log"));
        try (PartitionLog log = open(small())) {
            assertEquals(1000, log.logStartOffset());
            assertEquals(1001, log.logEndOffset());
        }
    }

    @Test
    void leaderEpochCache() throws IOException {
        try (PartitionLog log = open(LogConfig.defaults())) {
            log.append(batch(2, 1L), 0);
            log.append(batch(2, 1L), 0);
            log.append(batch(3, 1L), 2);
            log.append(batch(1, 1L), 5);
            assertEquals(new EpochEndOffset(0, 4), log.endOffsetForEpoch(0));
            assertEquals(new EpochEndOffset(0, 4), log.endOffsetForEpoch(1));
            assertEquals(new EpochEndOffset(2, 7), log.endOffsetForEpoch(2));
            assertEquals(new EpochEndOffset(5, 8), log.endOffsetForEpoch(5));
            assertEquals(EpochEndOffset.UNDEFINED, log.endOffsetForEpoch(-1));
        }
        assertEquals("0\n3\n0 0\n2 4\n5 7\n", Files.readString(dir().resolve("leader-epoch-checkpoint")));
        try (PartitionLog log = open(LogConfig.defaults())) {
            assertEquals(new EpochEndOffset(2, 7), log.endOffsetForEpoch(3));
        }
    }

    @Test
    void partitionMetadataInKafkasFormat() throws IOException {
        UUID id = UUID.randomUUID();
        try (PartitionLog log = open(LogConfig.defaults())) {
            log.writePartitionMetadata(id);
            assertEquals(id, log.readPartitionMetadata());
        }
        String kafka = new Uuid(id.getMostSignificantBits(), id.getLeastSignificantBits()).toString();
        assertEquals("version: 0\ntopic_id: " + kafka,
                Files.readString(dir().resolve("partition.metadata"), StandardCharsets.UTF_8));
    }

    @Test
    void deleteAllRemovesTheDirectory() throws IOException {
        PartitionLog log = open(small());
        fill(log, 30, 1L);
        log.deleteAll();
        assertFalse(Files.exists(dir()));
        assertEquals(LogErrors.KAFKA_STORAGE_ERROR, log.append(batch(1, 1L), 0).errorCode());
    }

    @Test
    void highWatermarkIsClamped() throws IOException {
        try (PartitionLog log = open(LogConfig.defaults())) {
            log.append(batch(5, 1L), 0);
            assertEquals(0, log.highWatermark());
            assertEquals(5, log.updateHighWatermark(100));
            assertEquals(3, log.updateHighWatermark(3));
            assertEquals(3, log.read(0, 1000).highWatermark());
        }
    }

    @Test
    void flushMessagesFsyncsAndAdvancesTheRecoveryPoint() throws IOException {
        try (PartitionLog log = open(LogConfig.defaults().withFlushIntervalMessages(3))) {
            log.append(batch(2, 1L), 0);
            assertTrue(Files.readString(dir().resolve("runnel-log.state")).contains("recovery_point: 0"));
            log.append(batch(2, 1L), 0);
            assertTrue(Files.readString(dir().resolve("runnel-log.state")).contains("recovery_point: 4"));
        }
    }

    @Test
    void coordinatorAppendsMayCarrySeveralAndControlBatches() throws IOException {
        try (PartitionLog log = open(LogConfig.defaults())) {
            ByteBuffer a = batch(2, 1L);
            ByteBuffer c = new BatchBuilder().control(true).producer(3L, (short) 0, -1).transactional(true)
                    .append(2L, new byte[] {0, 0, 0, 1}, new byte[] {0, 0, 0, 0, 0, 0}).build();
            ByteBuffer both = ByteBuffer.allocate(a.remaining() + c.remaining()).put(a.duplicate()).put(c.duplicate()).flip();
            assertEquals(ErrorCodes.INVALID_RECORD, log.append(both.duplicate(), 0).errorCode());
            AppendResult r = log.append(both, 0, AppendOrigin.COORDINATOR);
            assertTrue(r.isOk(), r.toString());
            assertEquals(0, r.firstOffset());
            assertEquals(2, r.lastOffset());
            List<MutableRecordBatch> bs = kafkaBatches(log.readBytes(0, 1000));
            assertTrue(bs.get(1).isControlBatch());
        }
    }

    @Test
    void followerAppendKeepsOffsets() throws IOException {
        try (PartitionLog log = open(LogConfig.defaults())) {
            ByteBuffer b = new BatchBuilder().baseOffset(0).partitionLeaderEpoch(4).append(1L, "a", "1").append(2L, "b", "2").build();
            assertTrue(log.appendAsFollower(b).isOk());
            ByteBuffer c = new BatchBuilder().baseOffset(5).partitionLeaderEpoch(6).append(3L, "c", "3").build();
            AppendResult r = log.appendAsFollower(c);
            assertEquals(5, r.firstOffset());
            assertEquals(6, log.logEndOffset());
            ByteBuffer stale = new BatchBuilder().baseOffset(3).append(3L, "c", "3").build();
            assertFalse(log.appendAsFollower(stale).isOk());
            assertEquals(new EpochEndOffset(4, 5), log.endOffsetForEpoch(4));
        }
    }

    private List<Record> kafkaReadAll() throws IOException {
        List<Record> out = new ArrayList<>();
        for (String f : segmentFiles(dir(), ".log")) {
            out.addAll(kafkaReadSegment(dir().resolve(f)));
        }
        return out;
    }

    private static byte[] toArray(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.duplicate().order(ByteOrder.BIG_ENDIAN).get(a);
        return a;
    }
}
