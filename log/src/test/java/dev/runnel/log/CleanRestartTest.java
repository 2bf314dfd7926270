package dev.runnel.log;

import static dev.runnel.log.TestBatches.batch;
import static dev.runnel.log.TestBatches.kafkaRecords;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * After a clean close the next open trusts the recovery point, the shutdown snapshot (leader epochs and
 * producer state) and the indexes instead of reading every batch header — and ends up exactly where a full scan
 * would: same log end offset, same bookkeeping, same producer dedup, same lookups. Whatever makes the files
 * disagree with the clean shutdown record (a truncated or zero-filled tail, damaged or missing indexes, a
 * missing or stale snapshot) sends the open down the full path instead.
 */
class CleanRestartTest {
    @TempDir
    Path tmp;

    private final AtomicLong clock = new AtomicLong(1_700_000_000_000L);

    private Path dir() {
        return tmp.resolve("t-0");
    }

    private static LogConfig small() {
        return LogConfig.defaults().withSegmentBytes(2048).withIndexIntervalBytes(300).withSegmentIndexBytes(4096);
    }

    private PartitionLog open() throws IOException {
        return PartitionLog.open(dir(), small(), clock::get);
    }

    /** 60 client batches and 12 batches of producer 7 (sequences 0..23); returns the log end offset. */
    private long fill(PartitionLog log) {
        int seq = 0;
        for (int i = 0; i < 60; i++) {
            assertTrue(log.append(batch(1 + i % 3, 1_000L + i * 10, "v" + i + "-"), 0).isOk());
            if (i % 5 == 0) {
                assertTrue(log.append(TestBatches.producerBatch(7L, (short) 0, seq, 2, 2_000L + i), 0).isOk());
                seq += 2;
            }
        }
        return log.logEndOffset();
    }

    private static byte[] all(PartitionLog log) throws IOException {
        ByteBuffer b = log.readBytes(log.logStartOffset(), Integer.MAX_VALUE);
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    private Path lastSegment(PartitionLog log, String suffix) {
        long[] bases = log.segmentBaseOffsets();
        return dir().resolve(String.format("%020d%s", bases[bases.length - 1], suffix));
    }

    @Test
    void aCleanRestartTrustsWhatCloseWroteAndBehavesLikeAFullScan() throws IOException {
        long end;
        byte[] data;
        List<ProducerStateManager.ProducerState> producers;
        TimestampAndOffset byTime;
        TimestampAndOffset maxTime;
        int segments;
        try (PartitionLog log = open()) {
            end = fill(log);
            data = all(log);
            producers = log.producerStates();
            byTime = log.offsetForTimestamp(1_250L);
            maxTime = log.offsetForTimestamp(PartitionLog.MAX_TIMESTAMP);
            segments = log.segmentCount();
        }
        assertTrue(segments >= 3, "several segments: " + segments);
        assertTrue(Files.exists(dir().resolve(ShutdownSnapshot.FILE)), "close writes the producer state snapshot");
        try (PartitionLog log = open()) {
            assertFalse(Files.exists(dir().resolve(ShutdownSnapshot.FILE)), "a used snapshot is removed");
            assertEquals(end, log.logEndOffset());
            assertEquals(segments, log.segmentCount());
            assertArrayEquals(data, all(log));
            assertEquals(producers, log.producerStates());
            assertEquals(byTime, log.offsetForTimestamp(1_250L));
            assertEquals(maxTime, log.offsetForTimestamp(PartitionLog.MAX_TIMESTAMP));
            // a retry of one of the producer's last five batches is still recognised
            AppendResult dup = log.append(TestBatches.producerBatch(7L, (short) 0, 20, 2, 2_100L), 0);
            assertTrue(dup.duplicate(), dup.toString());
            // and its next batch continues its sequence
            AppendResult next = log.append(TestBatches.producerBatch(7L, (short) 0, 24, 2, 2_200L), 0);
            assertTrue(next.isOk() && !next.duplicate(), next.toString());
            assertEquals(end, next.firstOffset());
            // the active segment rolls at the same size as before the restart
            for (int i = 0; i < 40; i++) {
                assertTrue(log.append(batch(2, 3_000L + i, "after" + i + "-"), 0).isOk());
            }
            assertTrue(log.segmentCount() > segments);
        }
        try (PartitionLog log = open()) {
            TestBatches.assertContiguous(kafkaRecords(log.readBytes(0, Integer.MAX_VALUE)), 0);
        }
    }

    @Test
    void aTailTruncatedAfterACleanShutdownIsNoticedAndCut() throws IOException {
        long end;
        Path last;
        try (PartitionLog log = open()) {
            end = fill(log);
            last = lastSegment(log, ".log");
        }
        try (FileChannel ch = FileChannel.open(last, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() - 5);
        }
        try (PartitionLog log = open()) {
            assertTrue(log.logEndOffset() < end, "the torn batch is gone");
            List<org.apache.kafka.common.record.Record> records = kafkaRecords(log.readBytes(0, Integer.MAX_VALUE));
            TestBatches.assertContiguous(records, 0);
            assertEquals(records.size(), log.logEndOffset());
        }
    }

    @Test
    void aZeroFilledTailAfterACleanShutdownIsNoticedAndCut() throws IOException {
        long end;
        Path last;
        try (PartitionLog log = open()) {
            end = fill(log);
            last = lastSegment(log, ".log");
        }
        long size = Files.size(last);
        Files.write(last, new byte[500], StandardOpenOption.APPEND);
        try (PartitionLog log = open()) {
            assertEquals(end, log.logEndOffset());
            assertEquals(size, Files.size(last), "the zeros are cut");
            assertTrue(log.append(batch(1, 5_000L), 0).isOk());
        }
        try (PartitionLog log = open()) {
            TestBatches.assertContiguous(kafkaRecords(log.readBytes(0, Integer.MAX_VALUE)), 0);
            assertEquals(end + 1, log.logEndOffset());
        }
    }

    @Test
    void damagedOrMissingIndexesAfterACleanShutdownAreRebuilt() throws IOException {
        long end;
        TimestampAndOffset byTime;
        long[] bases;
        try (PartitionLog log = open()) {
            end = fill(log);
            byTime = log.offsetForTimestamp(1_250L);
            bases = log.segmentBaseOffsets();
        }
        Path index = dir().resolve(String.format("%020d.index", bases[1]));
        byte[] garbage = new byte[(int) Files.size(index)];
        new java.util.Random(3).nextBytes(garbage);
        Files.write(index, garbage);
        Files.delete(dir().resolve(String.format("%020d.timeindex", bases[0])));
        try (PartitionLog log = open()) {
            assertEquals(end, log.logEndOffset());
            assertEquals(byTime, log.offsetForTimestamp(1_250L));
            for (long offset = 0; offset < end; offset += 7) {
                List<org.apache.kafka.common.record.Record> batch = kafkaRecords(log.readBytes(offset, 1));
                long first = batch.get(0).offset();
                long lastOffset = batch.get(batch.size() - 1).offset();
                assertTrue(first <= offset && offset <= lastOffset, "the batch read for " + offset + " holds " + first + ".." + lastOffset);
            }
        }
    }

    @Test
    void withoutASnapshotTheProducerStateIsRebuiltFromTheLog() throws IOException {
        List<ProducerStateManager.ProducerState> producers;
        try (PartitionLog log = open()) {
            fill(log);
            producers = log.producerStates();
        }
        Files.delete(dir().resolve(ShutdownSnapshot.FILE));
        try (PartitionLog log = open()) {
            assertEquals(producers, log.producerStates());
            assertTrue(log.append(TestBatches.producerBatch(7L, (short) 0, 20, 2, 2_100L), 0).duplicate());
        }
    }

    @Test
    void aTornSnapshotIsNotTrusted() throws IOException {
        List<ProducerStateManager.ProducerState> producers;
        long end;
        try (PartitionLog log = open()) {
            end = fill(log);
            producers = log.producerStates();
        }
        Path snapshot = dir().resolve(ShutdownSnapshot.FILE);
        byte[] bytes = Files.readAllBytes(snapshot);
        bytes[bytes.length / 2] ^= 0x10;
        Files.write(snapshot, bytes);
        try (PartitionLog log = open()) {
            assertEquals(end, log.logEndOffset());
            assertEquals(producers, log.producerStates(), "rebuilt from the log instead");
            assertEquals(0, log.leaderEpochCache().latestEpoch());
        }
    }

    @Test
    void aSnapshotFromAnotherOffsetIsNotTrusted() throws IOException {
        byte[] stale;
        try (PartitionLog log = open()) {
            fill(log);
        }
        stale = Files.readAllBytes(dir().resolve(ShutdownSnapshot.FILE));
        List<ProducerStateManager.ProducerState> producers;
        try (PartitionLog log = open()) {
            assertTrue(log.append(TestBatches.producerBatch(7L, (short) 0, 24, 2, 2_300L), 0).isOk());
            producers = log.producerStates();
        }
        Files.write(dir().resolve(ShutdownSnapshot.FILE), stale);
        try (PartitionLog log = open()) {
            assertEquals(producers, log.producerStates(), "the older snapshot is ignored");
            assertNotNull(log.producerStates().get(0));
            assertEquals(25, log.producerStates().get(0).lastSequence());
        }
    }
}
