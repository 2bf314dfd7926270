package dev.runnel.log;

import dev.runnel.wire.records.BatchBuilder;
import dev.runnel.wire.records.Compression;
import org.apache.kafka.common.record.FileRecords;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Compaction: latest record per key, offsets kept, codecs kept, tombstones, producers, crash leftovers. */
class LogCleanerTest {
    private static final long T0 = 1_700_000_000_000L;

    @TempDir
    Path tmp;

    private final AtomicLong clock = new AtomicLong(T0);

    private Path dir() {
        return tmp.resolve("compacted-0");
    }

    private PartitionLog open(LogConfig cfg) throws IOException {
        return PartitionLog.open(dir(), cfg, clock::get);
    }

    private static LogConfig compacted() {
        return LogConfig.defaults().withSegmentBytes(400).withIndexIntervalBytes(100).withSegmentIndexBytes(1200)
                .withCleanup(LogConfig.Cleanup.defaults().withPolicy("compact").withDeleteRetentionMs(10_000));
    }

    private static ByteBuffer keyed(Compression c, long ts, String... keyValues) {
        BatchBuilder b = new BatchBuilder().compression(c);
        for (int i = 0; i < keyValues.length; i += 2) {
            b.append(ts, keyValues[i], keyValues[i + 1]);
        }
        return b.build();
    }

    /** Every record Kafka's FileRecords reads from all segments (CRC-checked), in offset order. */
    private List<Record> kafkaReadAll(PartitionLog log) throws IOException {
        List<Record> out = new ArrayList<>();
        for (long base : log.segmentBaseOffsets()) {
            Path f = dir().resolve(LogSegment.fileName(base, ".log"));
            try (FileRecords fr = FileRecords.open(f.toFile(), false)) {
                for (RecordBatch b : fr.batches()) {
                    b.ensureValid();
                    b.forEach(out::add);
                }
            }
        }
        return out;
    }

    private static String str(ByteBuffer b) {
        if (b == null) {
            return null;
        }
        byte[] bytes = new byte[b.remaining()];
        b.duplicate().get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** key -> value of the latest record per key (null value: tombstone), checking offsets increase. */
    private static Map<String, String> latest(List<Record> records) {
        Map<String, String> m = new LinkedHashMap<>();
        long last = -1;
        for (Record r : records) {
            assertTrue(r.offset() > last, "offsets increase: " + r.offset() + " after " + last);
            last = r.offset();
            m.put(str(r.key()), str(r.value()));
        }
        return m;
    }

    /** Writes 5 keys overwritten 8 times each (40 records, one batch of 5 per round). */
    private Map<String, String> writeOverwrites(PartitionLog log, Compression c) {
        Map<String, String> expected = new HashMap<>();
        for (int round = 0; round < 8; round++) {
            String[] kv = new String[10];
            for (int k = 0; k < 5; k++) {
                kv[2 * k] = "key" + k;
                kv[2 * k + 1] = "value" + k + "-" + round;
                expected.put("key" + k, kv[2 * k + 1]);
            }
            assertTrue(log.append(keyed(c, T0 + round, kv), 0).isOk());
        }
        return expected;
    }

    @ParameterizedTest
    @EnumSource(Compression.class)
    void keepsTheLatestRecordPerKeyWithTheSameCodecAndOffsets(Compression codec) throws IOException {
        try (PartitionLog log = open(compacted())) {
            Map<String, String> expected = writeOverwrites(log, codec);
            // a segment of its own, then the active segment
            assertTrue(log.append(keyed(codec, T0 + 99, "pad", "p".repeat(300)), 0).isOk());
            assertTrue(log.append(keyed(codec, T0 + 100, "tail", "in the active segment"), 0).isOk());
            long leo = log.logEndOffset();
            int segmentsBefore = log.segmentCount();
            assertTrue(segmentsBefore > 3, "segments " + segmentsBefore);

            LogCleaner.Result r = log.clean(false, LogCleaner.DEFAULT_MAX_MAP_ENTRIES);
            assertNotNull(r, "a log never cleaned is 100% dirty");
            assertTrue(r.recordsRemoved() > 0);
            assertEquals(leo, log.logEndOffset());

            List<Record> after = kafkaReadAll(log);
            Map<String, String> seen = latest(after);
            assertEquals("in the active segment", seen.remove("tail"));
            assertEquals("p".repeat(300), seen.remove("pad"));
            assertEquals(expected, seen);
            // each key appears once in the cleaned segments; the last round's offsets are unchanged
            assertEquals(7, after.size());
            assertEquals(35, after.get(0).offset());
            for (long base : log.segmentBaseOffsets()) {
                try (FileRecords fr = FileRecords.open(dir().resolve(LogSegment.fileName(base, ".log")).toFile(), false)) {
                    for (RecordBatch b : fr.batches()) {
                        if (b.countOrNull() != 0) {
                            assertEquals(codec.id, b.compressionType().id, "codec kept");
                        }
                    }
                }
            }
            // consumers read it through the log too, from the start, whatever the gaps
            LogReadResult read = log.read(0, 1 << 20);
            assertTrue(read.isOk());
            assertEquals(35, TestBatches.kafkaRecords(read.toByteBuffer()).get(0).offset());
            assertNull(log.clean(false, LogCleaner.DEFAULT_MAX_MAP_ENTRIES), "nothing dirty now");
        }
        // the cleaned segments and their indexes load as they are
        try (PartitionLog log = open(compacted())) {
            assertEquals(7, kafkaReadAll(log).size());
            assertEquals(35, log.offsetForTimestamp(T0 + 7).offset());
        }
    }

    @Test
    void emptyBatchesDoNotPileUpOverManyCleans() throws IOException {
        try (PartitionLog log = open(compacted())) {
            for (int round = 0; round < 6; round++) {
                writeOverwrites(log, Compression.NONE);
                assertNotNull(log.clean(true, LogCleaner.DEFAULT_MAX_MAP_ENTRIES));
            }
            int empty = 0;
            for (long base : log.segmentBaseOffsets()) {
                try (FileRecords fr = FileRecords.open(dir().resolve(LogSegment.fileName(base, ".log")).toFile(), false)) {
                    for (RecordBatch b : fr.batches()) {
                        b.ensureValid();
                        if (b.countOrNull() == 0) {
                            empty++;
                        }
                    }
                }
            }
            // at most one per segment: the header that keeps a segment's last offset
            assertTrue(empty <= log.segmentCount(), empty + " empty batches in " + log.segmentCount() + " segments");
            assertEquals(5, latest(kafkaReadAll(log)).size());
        }
    }

    @Test
    void recordsYoungerThanMinCompactionLagWait() throws IOException {
        LogConfig cfg = compacted().withCleanup(compacted().cleanup().withMinCompactionLagMs(3_600_000L));
        try (PartitionLog log = open(cfg)) {
            writeOverwrites(log, Compression.NONE); // stamped T0 .. T0+7, the clock says T0
            assertNull(log.clean(true, LogCleaner.DEFAULT_MAX_MAP_ENTRIES), "every segment is younger than the lag");
            clock.addAndGet(3_600_000L + 10);
            assertNotNull(log.clean(false, LogCleaner.DEFAULT_MAX_MAP_ENTRIES));
            assertTrue(kafkaReadAll(log).size() < 40);
        }
    }

    @Test
    void maxCompactionLagForcesACleanBelowTheDirtyRatio() throws IOException {
        LogConfig cfg = compacted().withCleanup(compacted().cleanup().withMinCleanableDirtyRatio(1.0)
                .withMaxCompactionLagMs(60_000L));
        try (PartitionLog log = open(cfg)) {
            writeOverwrites(log, Compression.NONE);
            assertNotNull(log.clean(false, LogCleaner.DEFAULT_MAX_MAP_ENTRIES), "a never-cleaned log is 100% dirty");
            writeOverwrites(log, Compression.NONE);
            assertNull(log.clean(false, LogCleaner.DEFAULT_MAX_MAP_ENTRIES), "below a ratio of 1.0");
            clock.addAndGet(60_100L); // the oldest dirty record is stamped T0 + 6
            assertNotNull(log.clean(false, LogCleaner.DEFAULT_MAX_MAP_ENTRIES), "the oldest dirty record passed the lag");
        }
    }

    @Test
    void neverTouchesTheActiveSegment() throws IOException {
        try (PartitionLog log = open(compacted().withSegmentBytes(1 << 20))) {
            writeOverwrites(log, Compression.NONE);
            assertEquals(1, log.segmentCount());
            assertNull(log.clean(true, LogCleaner.DEFAULT_MAX_MAP_ENTRIES));
            assertEquals(40, kafkaReadAll(log).size());
        }
    }

    @Test
    void waitsForTheDirtyRatioUnlessForced() throws IOException {
        LogConfig cfg = compacted().withCleanup(compacted().cleanup().withMinCleanableDirtyRatio(0.9));
        try (PartitionLog log = open(cfg)) {
            writeOverwrites(log, Compression.NONE);
            assertNotNull(log.clean(false, LogCleaner.DEFAULT_MAX_MAP_ENTRIES));
            // a little more dirt: below 90%
            assertTrue(log.append(keyed(Compression.NONE, T0, "key1", "again"), 0).isOk());
            for (int i = 0; i < 6; i++) {
                assertTrue(log.append(keyed(Compression.NONE, T0, "pad" + i, "x".repeat(100)), 0).isOk());
            }
            assertNull(log.clean(false, LogCleaner.DEFAULT_MAX_MAP_ENTRIES));
            assertNotNull(log.clean(true, LogCleaner.DEFAULT_MAX_MAP_ENTRIES));
        }
    }

    @Test
    void tombstonesStayForDeleteRetentionThenGo() throws IOException {
        try (PartitionLog log = open(compacted())) {
            writeOverwrites(log, Compression.LZ4);
            BatchBuilder tomb = new BatchBuilder().compression(Compression.LZ4);
            tomb.append(T0 + 50, "key2", null);
            assertTrue(log.append(tomb.build(), 0).isOk());
            // roll the tombstone out of the active segment
            for (int i = 0; i < 4; i++) {
                assertTrue(log.append(keyed(Compression.NONE, T0 + 60, "other" + i, "x".repeat(150)), 0).isOk());
            }
            assertNotNull(log.clean(true, LogCleaner.DEFAULT_MAX_MAP_ENTRIES));
            Map<String, String> seen = latest(kafkaReadAll(log));
            assertTrue(seen.containsKey("key2") && seen.get("key2") == null, "tombstone kept for now: " + seen);
            // Kafka's reader sees the delete horizon we stored, and the record keeps its own timestamp
            boolean horizonSeen = false;
            for (long base : log.segmentBaseOffsets()) {
                try (FileRecords fr = FileRecords.open(dir().resolve(LogSegment.fileName(base, ".log")).toFile(), false)) {
                    for (RecordBatch b : fr.batches()) {
                        for (Record r : b) {
                            if (r.value() == null) {
                                assertEquals(T0 + 10_000, b.deleteHorizonMs().getAsLong());
                                assertEquals(T0 + 50, r.timestamp());
                                horizonSeen = true;
                            }
                        }
                    }
                }
            }
            assertTrue(horizonSeen);
            assertNull(log.clean(false, LogCleaner.DEFAULT_MAX_MAP_ENTRIES), "horizon not reached");
            clock.addAndGet(10_001);
            assertNotNull(log.clean(false, LogCleaner.DEFAULT_MAX_MAP_ENTRIES), "the passed horizon triggers a clean");
            seen = latest(kafkaReadAll(log));
            assertTrue(!seen.containsKey("key2"), "tombstone gone: " + seen);
            assertEquals("value1-7", seen.get("key1"));
        }
    }

    @Test
    void aProducersLastBatchStaysAsAnEmptyBatchSoItsSequenceSurvives() throws IOException {
        LogConfig cfg = compacted();
        try (PartitionLog log = open(cfg)) {
            // producer 7: sequences 0..1 on key "p", then everything overwritten by a plain record
            assertTrue(log.append(new BatchBuilder().producer(7, (short) 0, 0).append(T0, "p", "1").build(), 0).isOk());
            assertTrue(log.append(new BatchBuilder().producer(7, (short) 0, 1).append(T0, "p", "2").build(), 0).isOk());
            for (int i = 0; i < 6; i++) {
                assertTrue(log.append(keyed(Compression.NONE, T0, "p", "x".repeat(150)), 0).isOk());
            }
            assertNotNull(log.clean(true, LogCleaner.DEFAULT_MAX_MAP_ENTRIES));
            List<ProducerStateManager.ProducerState> before = log.producerStates();
            assertEquals(1, before.size());
            assertEquals(1, before.get(0).lastSequence());
            // the first batch went, the last one stays without records
            List<RecordBatch> producerBatches = new ArrayList<>();
            for (long base : log.segmentBaseOffsets()) {
                try (FileRecords fr = FileRecords.open(dir().resolve(LogSegment.fileName(base, ".log")).toFile(), false)) {
                    for (RecordBatch b : fr.batches()) {
                        b.ensureValid();
                        if (b.producerId() == 7) {
                            producerBatches.add(b);
                        }
                    }
                }
            }
            assertEquals(1, producerBatches.size());
            assertEquals(1, producerBatches.get(0).baseOffset());
            assertEquals(1, producerBatches.get(0).lastSequence());
            assertEquals(0, producerBatches.get(0).countOrNull());
        }
        try (PartitionLog log = open(cfg)) {
            assertEquals(1, log.producerStates().get(0).lastSequence(), "rebuilt from the kept header");
            // the producer continues at sequence 2
            assertTrue(log.append(new BatchBuilder().producer(7, (short) 0, 2).append(T0, "p", "3").build(), 0).isOk());
        }
    }

    @Test
    void appendsAndReadsGoOnWhileTheCleanerRuns() throws Exception {
        try (PartitionLog log = open(compacted())) {
            int batches = 600;
            java.util.concurrent.atomic.AtomicReference<Throwable> failed = new java.util.concurrent.atomic.AtomicReference<>();
            // Half the appends, then wait (bounded) for the cleaner's first pass, then the rest: the cleaner is sure
            // to run while appends go on, however fast or slow the machine is.
            java.util.concurrent.CountDownLatch cleanedOnce = new java.util.concurrent.CountDownLatch(1);
            Thread producer = new Thread(() -> {
                try {
                    for (int i = 0; i < batches; i++) {
                        if (i == batches / 2 && !cleanedOnce.await(60, java.util.concurrent.TimeUnit.SECONDS)) {
                            throw new AssertionError("no cleaner pass within 60 s");
                        }
                        AppendResult r = log.append(keyed(Compression.SNAPPY, T0 + i, "key" + (i % 7), "v" + i), 0);
                        if (!r.isOk()) {
                            throw new AssertionError(r.toString());
                        }
                        log.updateHighWatermark(Long.MAX_VALUE);
                        LogReadResult read = log.read(log.logStartOffset(), 4096);
                        if (!read.isOk()) {
                            throw new AssertionError("read failed: " + read.errorCode());
                        }
                        read.toByteBuffer();
                    }
                } catch (Throwable t) {
                    failed.set(t);
                }
            }, "appender");
            producer.start();
            int cleans = 0;
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
            while (producer.isAlive() && System.nanoTime() < deadline) {
                if (log.clean(true, LogCleaner.DEFAULT_MAX_MAP_ENTRIES) != null) {
                    cleans++;
                    cleanedOnce.countDown();
                }
            }
            producer.join(60_000);
            assertNull(failed.get(), () -> "appender failed: " + failed.get());
            assertTrue(cleans > 0, "the cleaner ran while appending");
            log.clean(true, LogCleaner.DEFAULT_MAX_MAP_ENTRIES);
            assertEquals(batches, log.logEndOffset());
            Map<String, String> seen = latest(kafkaReadAll(log));
            for (int k = 0; k < 7; k++) {
                int last = batches - 1 - ((batches - 1 - k) % 7);
                assertEquals("v" + last, seen.get("key" + k));
            }
            assertTrue(kafkaReadAll(log).size() < 7 * 6, "compacted: " + kafkaReadAll(log).size());
        }
    }

    @Test
    void anInterruptedSwapIsCompletedOnOpenAndAnUncommittedCleanDiscarded() throws IOException {
        LogConfig cfg = compacted();
        long[] bases;
        try (PartitionLog log = open(cfg)) {
            writeOverwrites(log, Compression.NONE);
            bases = log.segmentBaseOffsets();
        }
        // a committed swap of the first two segments whose old files were not yet renamed: a copy of the
        // second segment's content stands in for the cleaned result
        Path first = dir().resolve(LogSegment.fileName(bases[0], ".log"));
        Path second = dir().resolve(LogSegment.fileName(bases[1], ".log"));
        byte[] secondBytes = Files.readAllBytes(second);
        // rewrite the second segment's batches at the first base? keep it simple: the swap holds the first segment
        Files.copy(first, dir().resolve(LogSegment.fileName(bases[0], ".log") + LogSegment.SWAP_SUFFIX));
        Files.write(dir().resolve(LogSegment.fileName(bases[2], ".log") + LogSegment.CLEANED_SUFFIX), secondBytes);
        try (PartitionLog log = open(cfg)) {
            assertEquals(40, kafkaReadAll(log).size(), "nothing lost");
            try (Stream<Path> s = Files.list(dir())) {
                assertTrue(s.noneMatch(p -> p.toString().endsWith(".swap") || p.toString().endsWith(".cleaned")));
            }
        }
    }
}
