package dev.runnel.log;

import org.apache.kafka.common.record.MutableRecordBatch;
import org.apache.kafka.common.record.Record;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Readers tail the log without any lock while a writer appends and rolls segments: every read is
 * a run of whole, CRC-valid batches with contiguous offsets below the log end offset it reports.
 */
class ConcurrentReadTest {
    @TempDir
    Path tmp;

    @Test
    void readersNeverSeePartialBatches() throws Exception {
        LogConfig cfg = LogConfig.defaults().withSegmentBytes(16 * 1024).withIndexIntervalBytes(512);
        int batches = 3000;
        long expectedRecords = 0;
        for (int i = 0; i < batches; i++) {
            expectedRecords += 1 + i % 5;
        }
        final long total = expectedRecords;
        try (PartitionLog log = PartitionLog.open(tmp.resolve("c-0"), cfg)) {
            CountDownLatch start = new CountDownLatch(1);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> readers = new ArrayList<>();
            for (int r = 0; r < 3; r++) {
                final int maxBytes = 700 + r * 3000;
                Thread t = new Thread(() -> {
                    try {
                        start.await();
                        long next = 0;
                        while (next < total) {
                            LogReadResult res = log.read(next, maxBytes);
                            assertTrue(res.isOk(), "error " + res.errorCode());
                            ByteBuffer bytes = res.toByteBuffer();
                            for (MutableRecordBatch b : TestBatches.kafkaBatches(bytes)) {
                                for (Record rec : b) {
                                    if (rec.offset() >= next) {
                                        assertEquals(next, rec.offset());
                                        next++;
                                    }
                                }
                                assertTrue(b.lastOffset() < res.logEndOffset(), "batch beyond the reported end");
                            }
                            assertEquals(bytes.limit(), res.sizeInBytes());
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }, "reader-" + r);
                t.start();
                readers.add(t);
            }
            assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
                start.countDown();
                for (int i = 0; i < batches; i++) {
                    AppendResult res = log.append(TestBatches.batch(1 + i % 5, i, "x" + i + "-"), 0);
                    assertTrue(res.isOk(), res.toString());
                }
                for (Thread t : readers) {
                    t.join();
                }
            });
            if (failure.get() != null) {
                throw new AssertionError("reader failed", failure.get());
            }
            assertEquals(total, log.logEndOffset());
            assertTrue(log.segmentCount() > 10);
        }
    }
}
