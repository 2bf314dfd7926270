package dev.runnel.wire.fuzz;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.runnel.wire.records.Compression;
import dev.runnel.wire.records.LegacyMessageCursor;
import dev.runnel.wire.records.LegacyMessageSetBuilder;
import dev.runnel.wire.records.RecordsException;
import dev.runnel.wire.records.TimestampType;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Fuzzes the legacy (magic 0/1) message-set reader an old producer's request reaches: mutated message sets
 * of every legacy codec, half of them with their CRC-32s recomputed so the mutations get past the checksum,
 * and a quarter of them mutated <em>inside</em> a compressed wrapper (mutate the inner set, then wrap it with
 * a correct CRC) so that the inner framing is reached too. The reader may only answer with records or a
 * {@link RecordsException}; allocation stays within a constant factor of the input plus the decompression cap.
 *
 * <p>Iterations: {@code -Drunnel.fuzz.iterations} (default 20,000), seed {@code -Drunnel.fuzz.seed}.
 */
class LegacyMessageSetFuzzTest {
    private static final int ITERATIONS = Integer.getInteger("runnel.fuzz.iterations", 20_000);
    private static final int DECOMPRESSION_CAP = 1 << 20;
    private static final int ALLOCATION_FACTOR = 64;
    private static final long ALLOCATION_SLACK = 16L << 20;
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private static final Compression[] CODECS = {Compression.NONE, Compression.GZIP, Compression.SNAPPY, Compression.LZ4};

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void mutatedMessageSetsAreRefusedOrReadWithoutSurprises() {
        long seed = Long.getLong("runnel.fuzz.seed", System.nanoTime());
        Random random = new Random(seed);
        Mutator mutator = new Mutator(random);
        THREADS.setThreadAllocatedMemoryEnabled(true);

        List<byte[]> seeds = new ArrayList<>();
        List<byte[]> plainSeeds = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            byte magic = (byte) random.nextInt(2);
            Compression codec = CODECS[random.nextInt(CODECS.length)];
            byte[] set = messageSet(random, magic, codec);
            seeds.add(set);
            if (codec == Compression.NONE) {
                plainSeeds.add(set);
            }
        }

        List<String> findings = new ArrayList<>();
        long read = 0;
        long refused = 0;
        long records = 0;
        long started = System.nanoTime();
        for (int i = 0; i < ITERATIONS && findings.size() < 20; i++) {
            byte[] input;
            if (random.nextInt(4) == 0 && !plainSeeds.isEmpty()) {
                byte[] innerSet = mutator.mutate(plainSeeds.get(random.nextInt(plainSeeds.size())),
                        plainSeeds.get(random.nextInt(plainSeeds.size())));
                if (random.nextBoolean()) {
                    fixCrcs(innerSet);
                }
                byte magic = innerSet.length > 16 ? (byte) (innerSet[16] & 1) : 1;
                input = wrap(magic, CODECS[1 + random.nextInt(3)], innerSet);
            } else {
                input = mutator.mutate(seeds.get(random.nextInt(seeds.size())), seeds.get(random.nextInt(seeds.size())));
                if (random.nextBoolean()) {
                    fixCrcs(input);
                }
            }
            long before = THREADS.getCurrentThreadAllocatedBytes();
            try {
                LegacyMessageCursor c = LegacyMessageCursor.open(ByteBuffer.wrap(input), DECOMPRESSION_CAP);
                int n = 0;
                while (c.next() && n++ < 100_000) {
                    records++;
                }
                read++;
            } catch (RecordsException e) {
                refused++;
            } catch (Throwable t) {
                findings.add("legacy reader threw " + t + " for " + hex(input));
                continue;
            }
            long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
            if (allocated > (long) ALLOCATION_FACTOR * input.length + ALLOCATION_SLACK) {
                findings.add("allocated " + allocated + " bytes for " + input.length + " input bytes: " + hex(input));
            }
        }
        System.out.printf("[fuzz] legacy message sets: seed %d, %d inputs in %d ms: %d read (%d records), %d refused; "
                        + "%d findings%n", seed, read + refused, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started),
                read, records, refused, findings.size());
        assertTrue(read > 0 && refused > 0, "the fuzzer should reach both outcomes");
        if (!findings.isEmpty()) {
            fail("legacy message-set fuzzing found " + findings.size() + " problem(s) (seed " + seed + "):\n  "
                    + String.join("\n  ", findings));
        }
    }

    private static byte[] messageSet(Random random, byte magic, Compression codec) {
        LegacyMessageSetBuilder b = new LegacyMessageSetBuilder(magic, codec,
                magic == 1 && random.nextInt(4) == 0 ? TimestampType.LOG_APPEND_TIME : TimestampType.CREATE_TIME,
                1_700_000_000_000L);
        int n = 1 + random.nextInt(6);
        long offset = random.nextInt(100);
        for (int i = 0; i < n; i++) {
            byte[] key = random.nextInt(3) == 0 ? null : randomBytes(random, random.nextInt(12));
            byte[] value = random.nextInt(6) == 0 ? null : randomBytes(random, random.nextInt(64));
            b.append(offset++, 1_600_000_000_000L + random.nextInt(1000), key, value);
        }
        ByteBuffer out = b.build();
        byte[] a = new byte[out.remaining()];
        out.get(a);
        return a;
    }

    private static byte[] randomBytes(Random random, int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) ("legacy-".charAt(i % 7) + random.nextInt(3));
        }
        return b;
    }

    /** A compressed wrapper of the given codec around {@code innerSet} (however broken), with a correct CRC. */
    private static byte[] wrap(byte magic, Compression codec, byte[] innerSet) {
        byte[] compressed = switch (codec) {
            case GZIP -> gzip(innerSet);
            case SNAPPY -> snappy(innerSet);
            default -> dev.runnel.wire.records.LegacyLz4.compress(innerSet, 0, innerSet.length, magic == 0);
        };
        int size = (magic == 0 ? 14 : 22) + compressed.length;
        ByteBuffer b = ByteBuffer.allocate(12 + size);
        b.putLong(0).putInt(size).putInt(0).put(magic).put((byte) codec.id);
        if (magic == 1) {
            b.putLong(1_700_000_000_000L);
        }
        b.putInt(-1).putInt(compressed.length).put(compressed);
        CRC32 crc = new CRC32();
        crc.update(b.array(), 16, size - 4);
        b.putInt(12, (int) crc.getValue());
        return b.array();
    }

    private static byte[] gzip(byte[] data) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        try (java.util.zip.GZIPOutputStream gz = new java.util.zip.GZIPOutputStream(out)) {
            gz.write(data);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static byte[] snappy(byte[] data) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        try (org.xerial.snappy.SnappyOutputStream s = new org.xerial.snappy.SnappyOutputStream(out)) {
            s.write(data);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** Recomputes the CRC-32 of every shallow message whose header and size fit in the input. */
    private static void fixCrcs(byte[] input) {
        ByteBuffer b = ByteBuffer.wrap(input);
        int pos = 0;
        while (input.length - pos >= LegacyMessageCursor.LOG_OVERHEAD + LegacyMessageCursor.RECORD_OVERHEAD_V0) {
            int size = b.getInt(pos + 8);
            long end = (long) pos + LegacyMessageCursor.LOG_OVERHEAD + size;
            if (size < LegacyMessageCursor.RECORD_OVERHEAD_V0 || end > input.length) {
                return;
            }
            CRC32 crc = new CRC32();
            crc.update(input, pos + LegacyMessageCursor.MAGIC_OFFSET, size - 4);
            b.putInt(pos + LegacyMessageCursor.CRC_OFFSET, (int) crc.getValue());
            pos = (int) end;
        }
    }

    private static String hex(byte[] b) {
        return "(" + b.length + " bytes: " + HexFormat.of().formatHex(b, 0, Math.min(b.length, 96)) + (b.length > 96 ? "...)" : ")");
    }
}
