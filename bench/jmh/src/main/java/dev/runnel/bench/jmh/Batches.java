package dev.runnel.bench.jmh;

import dev.runnel.wire.records.BatchBuilder;
import java.nio.ByteBuffer;
import java.util.Random;

/** The batches the benchmarks work on: what a Java producer sends for 1 KB records (16 KB batch.size). */
final class Batches {
    private Batches() {
    }

    /** A batch of {@code count} uncompressed records of {@code valueSize} random bytes, in a direct buffer. */
    static ByteBuffer direct(int count, int valueSize) {
        Random r = new Random(42);
        BatchBuilder b = new BatchBuilder();
        long now = System.currentTimeMillis();
        for (int i = 0; i < count; i++) {
            byte[] v = new byte[valueSize];
            r.nextBytes(v);
            b.append(now + i, null, v);
        }
        ByteBuffer heap = b.build();
        ByteBuffer d = ByteBuffer.allocateDirect(heap.remaining());
        d.put(heap.duplicate()).flip();
        return d;
    }

    /** 15 records of 1 KB: about 15.5 KB, what fits the producer's default 16 KB batch. */
    static ByteBuffer sixteenKb() {
        return direct(15, 1024);
    }
}
