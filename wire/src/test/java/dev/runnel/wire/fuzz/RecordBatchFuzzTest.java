package dev.runnel.wire.fuzz;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.runnel.wire.records.BatchCursor;
import dev.runnel.wire.records.BatchValidator;
import dev.runnel.wire.records.RecordBatch;
import dev.runnel.wire.records.RecordCursor;
import dev.runnel.wire.records.RecordsException;
import dev.runnel.wire.records.TimestampType;
import dev.runnel.wire.records.ValidationResult;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Fuzzes the record layer a produce request reaches: the {@link BatchValidator} the log runs on every
 * client append, and the {@link RecordCursor} that later reads stored records (e.g. for ListOffsets by
 * timestamp), over mutated RecordBatches of every codec. Half of the mutants get their CRC recomputed, so
 * that the mutations reach the record layout and the decompressors instead of stopping at the checksum.
 * The validator must always answer with a result; the cursor may only throw {@link RecordsException};
 * allocation stays within a constant factor of the input plus the decompression cap.
 *
 * <p>Iterations: {@code -Drunnel.fuzz.iterations} (default 20,000), seed {@code -Drunnel.fuzz.seed}.
 */
class RecordBatchFuzzTest {
    private static final int ITERATIONS = Integer.getInteger("runnel.fuzz.iterations", 20_000);
    private static final int DECOMPRESSION_CAP = 1 << 20;
    private static final int ALLOCATION_FACTOR = 64;
    private static final long ALLOCATION_SLACK = 16L << 20;
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void mutatedBatchesAreRefusedOrReadWithoutSurprises() {
        long seed = Long.getLong("runnel.fuzz.seed", System.nanoTime());
        Random random = new Random(seed);
        Mutator mutator = new Mutator(random);
        THREADS.setThreadAllocatedMemoryEnabled(true);
        BatchValidator client = BatchValidator.forClient(1 << 20, TimestampType.CREATE_TIME);
        BatchValidator trusted = BatchValidator.forTrusted(1 << 20);

        List<byte[]> seeds = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            byte[] one = RandomMessages.array(RandomMessages.batch(random));
            if (i % 4 == 3) {
                byte[] two = RandomMessages.array(RandomMessages.batch(random));
                byte[] both = new byte[one.length + two.length];
                System.arraycopy(one, 0, both, 0, one.length);
                System.arraycopy(two, 0, both, one.length, two.length);
                one = both;
            }
            seeds.add(one);
        }

        List<String> findings = new ArrayList<>();
        long accepted = 0;
        long refused = 0;
        long recordsRead = 0;
        long cursorErrors = 0;
        long started = System.nanoTime();
        for (int i = 0; i < ITERATIONS && findings.size() < 20; i++) {
            byte[] input = mutator.mutate(seeds.get(random.nextInt(seeds.size())), seeds.get(random.nextInt(seeds.size())));
            if (random.nextBoolean()) {
                fixCrcs(input);
            }
            long before = THREADS.getCurrentThreadAllocatedBytes();
            try {
                ValidationResult r1 = client.validate(ByteBuffer.wrap(input));
                ValidationResult r2 = trusted.validate(ByteBuffer.wrap(input));
                if (r1.isOk()) {
                    accepted++;
                } else {
                    refused++;
                }
                if (r1.isOk() && !r2.isOk()) {
                    findings.add("accepted from a client but refused as trusted: " + r2 + " " + hex(input));
                }
            } catch (Throwable t) {
                findings.add("validator threw " + t + " for " + hex(input));
                continue;
            }
            try {
                BatchCursor batches = new BatchCursor(ByteBuffer.wrap(input));
                int guard = 0;
                while (batches.next() && guard++ < 100) {
                    RecordBatch b = batches.batch();
                    try (RecordCursor c = RecordCursor.open(b, DECOMPRESSION_CAP)) {
                        int n = 0;
                        while (c.next() && n++ < 100_000) {
                            recordsRead++;
                        }
                    } catch (RecordsException e) {
                        cursorErrors++;
                    }
                }
            } catch (Throwable t) {
                findings.add("record cursor threw " + t + " for " + hex(input));
                continue;
            }
            long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
            if (allocated > (long) ALLOCATION_FACTOR * input.length + ALLOCATION_SLACK) {
                findings.add("allocated " + allocated + " bytes for " + input.length + " input bytes: " + hex(input));
            }
        }
        System.out.printf("[fuzz] record batches: seed %d, %d inputs in %d ms: %d accepted, %d refused by the validator; "
                        + "%d records read, %d cursor errors; %d findings%n", seed, accepted + refused,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), accepted, refused, recordsRead, cursorErrors,
                findings.size());
        assertTrue(accepted > 0 && refused > 0, "the fuzzer should reach both outcomes");
        if (!findings.isEmpty()) {
            fail("record batch fuzzing found " + findings.size() + " problem(s) (seed " + seed + "):\n  "
                    + String.join("\n  ", findings));
        }
    }

    /** Recomputes the CRC of every batch whose header and length fit in the input. */
    private static void fixCrcs(byte[] input) {
        ByteBuffer b = ByteBuffer.wrap(input);
        int pos = 0;
        while (input.length - pos >= RecordBatch.RECORD_BATCH_OVERHEAD) {
            int length = b.getInt(pos + RecordBatch.LENGTH_OFFSET);
            long end = (long) pos + RecordBatch.LOG_OVERHEAD + length;
            if (length < RecordBatch.MIN_LENGTH || end > input.length) {
                return;
            }
            CRC32C crc = new CRC32C();
            crc.update(input, pos + RecordBatch.ATTRIBUTES_OFFSET, (int) end - pos - RecordBatch.ATTRIBUTES_OFFSET);
            b.putInt(pos + RecordBatch.ATTRIBUTES_OFFSET - 4, (int) crc.getValue());
            pos = (int) end;
        }
    }

    private static String hex(byte[] b) {
        return "(" + b.length + " bytes: " + HexFormat.of().formatHex(b, 0, Math.min(b.length, 96)) + (b.length > 96 ? "...)" : ")");
    }
}
