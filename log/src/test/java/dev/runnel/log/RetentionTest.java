package dev.runnel.log;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import static dev.runnel.log.TestBatches.batch;
import static dev.runnel.log.TestBatches.kafkaRecords;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Time and size retention, the log start offset (DeleteRecords) and delayed deletion of removed segments. */
class RetentionTest {
    private static final long T0 = 1_700_000_000_000L;

    @TempDir
    Path tmp;

    private final AtomicLong clock = new AtomicLong(T0);

    private PartitionLog open(LogConfig cfg) throws IOException {
        return PartitionLog.open(tmp.resolve("t-0"), cfg, clock::get);
    }

    /** Segments of 2 batches of 10 records (191 bytes each). */
    private static LogConfig small() {
        return LogConfig.defaults().withSegmentBytes(500).withIndexIntervalBytes(100).withSegmentIndexBytes(1200);
    }

    /** Appends {@code n} batches of 10 records, batch i stamped {@code ts(i)}; returns the log end offset. */
    private static long fill(PartitionLog log, int n, long firstTs, long step) {
        for (int i = 0; i < n; i++) {
            AppendResult r = log.append(batch(10, firstTs + i * step, "v" + i + "-"), 0);
            assertTrue(r.isOk(), r.toString());
        }
        log.updateHighWatermark(Long.MAX_VALUE); // the broker's job: everything is committed
        return log.logEndOffset();
    }

    private long files(String suffix) throws IOException {
        try (Stream<Path> s = Files.list(tmp.resolve("t-0"))) {
            return s.filter(p -> p.getFileName().toString().endsWith(suffix)).count();
        }
    }

    @Test
    void timeRetentionDeletesWholeSegmentsByTheirLargestTimestamp() throws IOException {
        LogConfig cfg = small().withRetentionMs(60_000);
        try (PartitionLog log = open(cfg)) {
            // 12 batches, one a minute apart starting two hours ago, then nothing
            long leo = fill(log, 12, T0 - 120 * 60_000L, 60_000L);
            long[] bases = log.segmentBaseOffsets();
            assertTrue(bases.length >= 4, "several segments: " + bases.length);
            // the newest batch is 109 minutes old: every segment expired; the active one is rolled first
            int removed = log.deleteOldSegments();
            assertEquals(bases.length, removed);
            assertEquals(1, log.segmentCount());
            assertEquals(leo, log.logStartOffset());
            assertEquals(leo, log.logEndOffset());
            assertEquals(leo, log.segmentBaseOffsets()[0]);
            assertEquals(LogErrors.OFFSET_OUT_OF_RANGE, log.read(0, 1000).errorCode());
            // appends go on from the same offset
            assertEquals(leo, log.append(batch(1, T0, "new"), 0).firstOffset());
        }
    }

    @Test
    void timeRetentionStopsAtTheFirstSegmentToKeep() throws IOException {
        LogConfig cfg = small().withRetentionMs(30 * 60_000L);
        try (PartitionLog log = open(cfg)) {
            // batches one minute apart: the first 30 minutes' worth expire
            fill(log, 40, T0 - 60 * 60_000L, 60_000L);
            long[] before = log.segmentBaseOffsets();
            int removed = log.deleteOldSegments();
            assertTrue(removed > 0 && removed < before.length, removed + " of " + before.length);
            long start = log.logStartOffset();
            assertEquals(before[removed], start);
            // the first kept segment's largest timestamp is within retention, the last removed one's was not
            assertTrue(log.offsetForTimestamp(PartitionLog.EARLIEST_TIMESTAMP).offset() == start);
            assertEquals(0, log.deleteOldSegments(), "idempotent");
        }
    }

    @Test
    void sizeRetentionKeepsTheLogUnderRetentionBytes() throws IOException {
        try (PartitionLog log = open(small().withRetentionBytes(1500))) {
            fill(log, 20, T0, 1);
            long sizeBefore = log.size();
            assertTrue(sizeBefore > 3000);
            int removed = log.deleteOldSegments();
            assertTrue(removed > 0);
            // Kafka's rule: delete the oldest segments while the rest stays at or above retention.bytes
            assertTrue(log.size() >= 1500, "size " + log.size());
            assertTrue(log.size() - 382 < 1500, "one segment more would have gone: size " + log.size());
            assertEquals(log.segmentBaseOffsets()[0], log.logStartOffset());
        }
    }

    @Test
    void compactOnlyTopicsKeepOldSegments() throws IOException {
        LogConfig cfg = small().withRetentionMs(1).withRetentionBytes(1)
                .withCleanup(LogConfig.Cleanup.defaults().withPolicy("compact"));
        try (PartitionLog log = open(cfg)) {
            fill(log, 12, T0 - 3_600_000L, 1000);
            assertEquals(0, log.deleteOldSegments());
            assertEquals(0, log.logStartOffset());
        }
    }

    @Test
    void removedSegmentsStayReadableUntilFileDeleteDelay() throws Exception {
        LogConfig cfg = small().withRetentionMs(60_000)
                .withCleanup(LogConfig.Cleanup.defaults().withFileDeleteDelayMs(5000));
        try (PartitionLog log = open(cfg)) {
            fill(log, 12, T0 - 3_600_000L, 1);
            // a fetch that already holds the file regions of the first segments
            LogReadResult inFlight = log.read(0, 600);
            assertTrue(inFlight.sizeInBytes() > 0);
            assertTrue(log.deleteOldSegments() > 0);
            assertEquals(0, files(".log") - 1, "only the new active segment keeps its name");
            assertTrue(files(".log.deleted") > 0);
            // the in-flight read still sends its bytes
            ByteBuffer bytes = inFlight.toByteBuffer();
            assertEquals(0, kafkaRecords(bytes).get(0).offset());
            assertEquals(0, log.deleteExpiredSegmentFiles(), "not due yet");
            clock.addAndGet(5000);
            assertTrue(log.deleteExpiredSegmentFiles() > 0);
            assertEquals(0, files(".deleted"));
            assertEquals(0, log.pendingDeletionCount());
        }
    }

    @Test
    void logStartOffsetMovesUpPersistsAndRemovesSegmentsBelowIt() throws IOException {
        long leo;
        long target;
        try (PartitionLog log = open(small())) {
            leo = fill(log, 12, T0, 1);
            target = log.segmentBaseOffsets()[2] + 5; // inside the third segment
            assertEquals(target, log.maybeIncrementLogStartOffset(target));
            assertEquals(target, log.maybeIncrementLogStartOffset(3), "never moves down");
            LogException tooFar = assertThrows(LogException.class, () -> log.maybeIncrementLogStartOffset(leo + 1));
            assertEquals(LogErrors.OFFSET_OUT_OF_RANGE, tooFar.errorCode());
            assertEquals(target, log.offsetForTimestamp(PartitionLog.EARLIEST_TIMESTAMP).offset());
            assertEquals(LogErrors.OFFSET_OUT_OF_RANGE, log.read(target - 1, 1000).errorCode());
            LogReadResult r = log.read(target, 1000);
            assertTrue(r.isOk());
            assertEquals(target, r.logStartOffset());
            assertEquals(2, log.deleteOldSegments(), "the two segments wholly below it");
            assertEquals(target, log.logStartOffset());
        }
        // persisted at once, even through a crash-like reopen of the files
        try (PartitionLog log = open(small())) {
            assertEquals(target, log.logStartOffset());
            assertEquals(leo, log.logEndOffset());
        }
    }

    @Test
    void maybeIncrementLogStartOffsetToTheEndEmptiesTheLogForReaders() throws IOException {
        try (PartitionLog log = open(small())) {
            long leo = fill(log, 5, T0, 1);
            assertEquals(leo, log.maybeIncrementLogStartOffset(leo));
            log.deleteOldSegments();
            assertEquals(leo, log.logStartOffset());
            assertTrue(log.read(leo, 100).isOk());
            assertEquals(0, log.read(leo, 100).sizeInBytes());
        }
    }

    @Test
    void leftoverDeletedFilesAreRemovedOnOpen() throws IOException {
        LogConfig cfg = small().withRetentionMs(60_000);
        PartitionLog log = open(cfg);
        fill(log, 12, T0 - 3_600_000L, 1);
        log.deleteOldSegments();
        assertTrue(files(".deleted") > 0);
        log.simulateCrash();
        try (PartitionLog reopened = open(cfg)) {
            assertEquals(0, files(".deleted"));
            assertFalse(reopened.read(reopened.logStartOffset(), 100).sizeInBytes() < 0);
            assertEquals(List.of(reopened.logEndOffset()), List.of(reopened.logStartOffset()));
        }
    }
}
