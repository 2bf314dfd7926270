package dev.runnel.wire.fuzz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.MalformedMessageException;
import dev.runnel.wire.Readable;
import dev.runnel.wire.RequestHeader;
import dev.runnel.wire.message.ApiKeys;
import io.netty.buffer.Unpooled;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Fuzzes what the broker does with every request frame it receives: {@link RequestHeader#read} and then the
 * generated parser of the API key and version the header names. Inputs are valid requests of every API key
 * and version (built by {@link RandomMessages} from the generated classes), mutated by {@link Mutator}, plus
 * frames of pure noise behind a real header. For every input:
 * <ul>
 *   <li>nothing but {@link MalformedMessageException} escapes;</li>
 *   <li>the parse allocates at most a small constant factor of the frame's size (measured per call with the
 *       JVM's per-thread allocation counter), so no length or count in a frame can make the broker allocate
 *       for data that is not there;</li>
 *   <li>it finishes (a per-input time limit catches loops that a hostile count could make long).</li>
 * </ul>
 * Valid inputs must also survive a round trip: decode then encode gives back the same bytes.
 *
 * <p>Iterations: {@code -Drunnel.fuzz.iterations} (default 60,000, a few seconds), seed {@code -Drunnel.fuzz.seed}.
 */
class RequestCodecFuzzTest {
    private static final int ITERATIONS = Integer.getInteger("runnel.fuzz.iterations", 60_000);
    /** Allowed allocation: this many bytes per frame byte, plus a fixed allowance for the empty message objects. */
    private static final int ALLOCATION_FACTOR = 24;
    private static final int ALLOCATION_SLACK = 4 * 1024;
    private static final long MAX_NANOS_PER_INPUT = TimeUnit.SECONDS.toNanos(2);

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private record Seed(ApiKeys api, short version, byte[] frame) {
    }

    private record Finding(String what, ApiKeys api, short version, byte[] frame, Throwable error) {
        @Override
        public String toString() {
            return what + " for " + (api == null ? "?" : api.title) + " v" + version + " (" + frame.length + " bytes: "
                    + HexFormat.of().formatHex(frame, 0, Math.min(frame.length, 96)) + (frame.length > 96 ? "..." : "") + ")"
                    + (error == null ? "" : ": " + error);
        }
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void mutatedRequestsOfEveryApiAndVersionOnlyEverFailAsMalformed() {
        long seed = Long.getLong("runnel.fuzz.seed", System.nanoTime());
        Random random = new Random(seed);
        RandomMessages messages = new RandomMessages(random, 3);
        RandomMessages bigMessages = new RandomMessages(random, 60);
        Mutator mutator = new Mutator(random);
        assertTrue(THREADS.isThreadAllocatedMemorySupported(), "this JVM cannot count allocations per thread");
        THREADS.setThreadAllocatedMemoryEnabled(true);
        long meterBefore = THREADS.getCurrentThreadAllocatedBytes();
        byte[] probe = new byte[1 << 20];
        assertTrue(THREADS.getCurrentThreadAllocatedBytes() - meterBefore >= probe.length, "the allocation meter works");

        List<Seed> seeds = new ArrayList<>();
        for (ApiKeys api : ApiKeys.values()) {
            for (short v = api.lowestVersion; v <= api.highestVersion; v++) {
                for (int i = 0; i < 4; i++) {
                    byte[] frame = (i == 3 ? bigMessages : messages).requestFrame(api, v, random.nextInt());
                    assertRoundTrip(api, v, frame);
                    seeds.add(new Seed(api, v, frame));
                }
            }
        }

        List<Finding> findings = new ArrayList<>();
        long started = System.nanoTime();
        long malformed = 0;
        long parsed = 0;
        double worstRatio = 0;
        String worstRatioInput = "";
        long slowestNanos = 0;
        long bytes = 0;
        for (int i = 0; i < ITERATIONS && findings.size() < 20; i++) {
            Seed s = seeds.get(random.nextInt(seeds.size()));
            byte[] frame;
            if (i % 10 == 9) {
                // noise behind a real header of a random API and version (sometimes an unknown one)
                byte[] noise = mutator.randomBytes(random.nextInt(200));
                frame = new byte[Math.min(s.frame.length, 8) + noise.length];
                System.arraycopy(s.frame, 0, frame, 0, Math.min(s.frame.length, 8));
                System.arraycopy(noise, 0, frame, Math.min(s.frame.length, 8), noise.length);
            } else {
                frame = mutator.mutate(s.frame, seeds.get(random.nextInt(seeds.size())).frame);
            }
            bytes += frame.length;
            long allocatedBefore = THREADS.getCurrentThreadAllocatedBytes();
            long t0 = System.nanoTime();
            try {
                decode(frame);
                parsed++;
            } catch (MalformedMessageException e) {
                malformed++;
            } catch (Throwable t) {
                findings.add(new Finding("unexpected " + t.getClass().getSimpleName(), s.api, s.version, frame, t));
                continue;
            }
            long nanos = System.nanoTime() - t0;
            long allocated = THREADS.getCurrentThreadAllocatedBytes() - allocatedBefore;
            if (allocated > (long) ALLOCATION_FACTOR * frame.length + ALLOCATION_SLACK || nanos > MAX_NANOS_PER_INPUT) {
                // measure again: the first parse of a rare shape may load and initialise classes
                long[] again = measure(frame);
                allocated = again[0];
                nanos = again[1];
            }
            slowestNanos = Math.max(slowestNanos, nanos);
            if (nanos > MAX_NANOS_PER_INPUT) {
                findings.add(new Finding("slow parse (" + nanos / 1_000_000 + " ms)", s.api, s.version, frame, null));
            }
            double ratio = (double) Math.max(0, allocated - ALLOCATION_SLACK) / Math.max(1, frame.length);
            if (ratio > worstRatio) {
                worstRatio = ratio;
                worstRatioInput = s.api.title + " v" + s.version + " (" + frame.length + " bytes, " + allocated + " allocated)";
            }
            if (allocated > (long) ALLOCATION_FACTOR * frame.length + ALLOCATION_SLACK) {
                findings.add(new Finding("allocated " + allocated + " bytes", s.api, s.version, frame, null));
            }
        }
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        System.out.printf("[fuzz] request codec: seed %d, %d seeds (%d API keys, all versions), %d inputs (%d bytes) in %d ms: "
                        + "%d parsed, %d malformed, %d findings; worst allocation beyond %d bytes: %.1f bytes per frame byte (%s); "
                        + "slowest parse %d us%n",
                seed, seeds.size(), ApiKeys.values().length, parsed + malformed + findings.size(), bytes, ms, parsed, malformed,
                findings.size(), ALLOCATION_SLACK, worstRatio, worstRatioInput, slowestNanos / 1000);
        if (!findings.isEmpty()) {
            StringBuilder sb = new StringBuilder("request codec fuzzing found " + findings.size() + " problem(s) (seed " + seed + "):");
            findings.forEach(f -> sb.append("\n  ").append(f));
            findings.stream().filter(f -> f.error != null).findFirst().ifPresent(f -> f.error.printStackTrace(System.out));
            fail(sb.toString());
        }
    }

    /** Bytes allocated and nanoseconds taken by one decode of {@code frame}. */
    private static long[] measure(byte[] frame) {
        long before = THREADS.getCurrentThreadAllocatedBytes();
        long t0 = System.nanoTime();
        try {
            decode(frame);
        } catch (MalformedMessageException expected) {
            // the outcome was checked already; only the cost matters here
        }
        long nanos = System.nanoTime() - t0;
        return new long[] {THREADS.getCurrentThreadAllocatedBytes() - before, nanos};
    }

    /** What the broker does with a frame's content: the header, then the body of a known API and version. */
    static ApiMessage decode(byte[] frame) {
        Readable in = new Readable(Unpooled.wrappedBuffer(frame));
        RequestHeader header = RequestHeader.read(in);
        if (header.api() == null || !header.versionSupported()) {
            return null;
        }
        ApiMessage request = header.api().newRequest();
        request.read(in, header.apiVersion());
        return request;
    }

    private static void assertRoundTrip(ApiKeys api, short version, byte[] frame) {
        ApiMessage decoded;
        try {
            decoded = decode(frame);
        } catch (RuntimeException e) {
            throw new AssertionError("a valid " + api.title + " v" + version + " request does not parse: "
                    + HexFormat.of().formatHex(frame), e);
        }
        Readable in = new Readable(Unpooled.wrappedBuffer(frame));
        RequestHeader.read(in);
        int headerBytes = frame.length - in.remaining();
        byte[] header = java.util.Arrays.copyOf(frame, headerBytes);
        byte[] again = RandomMessages.frame(api, version, 0, decoded);
        Readable in2 = new Readable(Unpooled.wrappedBuffer(again));
        RequestHeader.read(in2);
        byte[] body = java.util.Arrays.copyOfRange(frame, headerBytes, frame.length);
        byte[] body2 = java.util.Arrays.copyOfRange(again, again.length - in2.remaining(), again.length);
        assertArrayEquals(body, body2, () -> api.title + " v" + version + " does not re-encode to the same bytes; header "
                + HexFormat.of().formatHex(header));
    }
}
