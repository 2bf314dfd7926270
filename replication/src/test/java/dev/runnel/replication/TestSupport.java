package dev.runnel.replication;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.runnel.log.LogConfig;
import dev.runnel.log.PartitionLog;
import dev.runnel.wire.records.BatchBuilder;
import dev.runnel.wire.records.BatchCursor;
import dev.runnel.wire.records.RecordBatch;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

final class TestSupport {
    static final long TS = 1_700_000_000_000L;
    static final LogConfig LOG_CONFIG = LogConfig.defaults().withSegmentBytes(64 * 1024).withSegmentIndexBytes(64 * 1024);
    private static final long AWAIT_MS = 20_000;

    private TestSupport() {
    }

    static PartitionLog open(Path dir) throws IOException {
        return PartitionLog.open(dir, LOG_CONFIG);
    }

    /** A batch of {@code records} records (offsets from 0, no leader epoch: the log stamps both). */
    static ByteBuffer batch(int records, String prefix) {
        BatchBuilder b = new BatchBuilder();
        for (int i = 0; i < records; i++) {
            b.append(TS + i, prefix + "-k" + i, prefix + "-value-" + i + "-" + "x".repeat(40));
        }
        return b.build();
    }

    /** A batch that already carries its offsets and epoch (as a follower would receive it). */
    static ByteBuffer batchAt(long baseOffset, int epoch, int records, String prefix) {
        BatchBuilder b = new BatchBuilder().baseOffset(baseOffset).partitionLeaderEpoch(epoch);
        for (int i = 0; i < records; i++) {
            b.append(TS + i, prefix + "-k" + i, prefix + "-v" + i);
        }
        return b.build();
    }

    record Batch(long baseOffset, long lastOffset, int epoch, byte[] bytes) {
    }

    /** Every whole batch from the one holding {@code from} to the log end. */
    static List<Batch> batches(PartitionLog log, long from) throws IOException {
        ByteBuffer buf = log.read(from, Integer.MAX_VALUE).toByteBuffer();
        List<Batch> out = new ArrayList<>();
        BatchCursor c = new BatchCursor(buf);
        while (c.next()) {
            RecordBatch b = c.batch();
            byte[] bytes = new byte[b.sizeInBytes()];
            buf.duplicate().position(b.position()).get(bytes);
            out.add(new Batch(b.baseOffset(), b.lastOffset(), b.partitionLeaderEpoch(), bytes));
        }
        return out;
    }

    /** Compares two logs batch by batch, bytes included. */
    static void assertSameBatches(PartitionLog expected, PartitionLog actual, long from) throws IOException {
        List<Batch> e = batches(expected, from);
        List<Batch> a = batches(actual, from);
        assertEquals(e.size(), a.size(), "batch count from offset " + from);
        for (int i = 0; i < e.size(); i++) {
            assertEquals(e.get(i).baseOffset(), a.get(i).baseOffset(), "base offset of batch " + i);
            assertEquals(e.get(i).lastOffset(), a.get(i).lastOffset(), "last offset of batch " + i);
            assertEquals(e.get(i).epoch(), a.get(i).epoch(), "leader epoch of batch " + i);
            assertArrayEquals(e.get(i).bytes(), a.get(i).bytes(), "bytes of batch " + i);
        }
    }

    /** Polls {@code condition} until it holds, failing with {@code state} after the deadline. */
    static void await(String what, BooleanSupplier condition, Supplier<String> state) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(AWAIT_MS);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("Timed out after " + AWAIT_MS + " ms waiting for " + what + "; " + state.get());
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
        }
    }

    static void await(String what, BooleanSupplier condition) {
        await(what, condition, () -> "");
    }

    /** Live threads whose name starts with {@code prefix}. */
    static List<Thread> threads(String prefix) {
        List<Thread> out = new ArrayList<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.isAlive() && t.getName().startsWith(prefix)) {
                out.add(t);
            }
        }
        return out;
    }
}
