package dev.runnel.broker.quota;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Kafka's rate and throttle arithmetic, with time as a number. */
class QuotaRateTest {
    private static final double MB = 1024 * 1024;

    @Test
    void aFreshRateIsMeasuredOverAtLeastSamplesMinusOneWindows() {
        QuotaRate r = new QuotaRate(11, 1000);
        // 10 MB at once: over the minimum span of 10 windows that is exactly 1 MB/s, within a 1 MB/s quota.
        assertEquals(0, r.recordAndThrottleMs(10 * MB, 1_000, MB));
        assertEquals(10_000, r.windowSizeMs(1_000));
        assertEquals(MB, r.rate(1_000), 1e-6);
        // One more byte is over the quota: throttled (O - T) / T * W, where (O - T) * W is the excess.
        long t = r.recordAndThrottleMs(512 * 1024, 1_000, MB);
        assertEquals(500, t); // 0.5 MB over at 1 MB/s
    }

    @Test
    void throttleTimeIsKafkasFormula() {
        QuotaRate r = new QuotaRate(11, 1000);
        long now = 50_000;
        r.record(15 * MB, now);
        // span 10 s, rate 1.5 MB/s against 1 MB/s: (1.5 - 1) / 1 * 10000 ms
        assertEquals(5_000, r.throttleMs(now, MB));
        // against 3 MB/s: within
        assertEquals(0, r.throttleMs(now, 3 * MB));
    }

    @Test
    void theSpanGrowsPastTheMinimumAndOldWindowsAgeOut() {
        QuotaRate r = new QuotaRate(11, 1000);
        for (int s = 0; s < 30; s++) {
            r.record(MB, s * 1000L); // exactly 1 MB per second for 30 s
        }
        long now = 29_500;
        // 11 windows (plus the overlapping one) are kept: the span is from the oldest kept window's start
        long span = r.windowSizeMs(now);
        assertTrue(span >= 10_000 && span <= 12_000, "span " + span);
        assertEquals(MB, r.rate(now), MB * 0.15);
        // after the whole span with nothing recorded every sample is obsolete: the rate is 0
        assertEquals(0.0, r.rate(29_000 + 11_000), 1e-9);
    }

    @Test
    void unrecordTakesBackWhatWasRecorded() {
        QuotaRate r = new QuotaRate(11, 1000);
        r.record(4 * MB, 0);
        long t = r.recordAndThrottleMs(8 * MB, 100, MB);
        assertEquals(1_900, t); // 12 MB over 10.1 s against 1 MB/s: the excess 1.9 MB takes 1.9 s
        r.record(-8 * MB, 100);
        assertEquals(0, r.throttleMs(100, MB));
    }

    @Test
    void aClientThrottledAsToldConvergesOnItsQuota() {
        // A client that sends 100 KB batches as fast as it is allowed: it waits out each throttle time.
        QuotaRate r = new QuotaRate(11, 1000);
        double quota = MB;
        long now = 0;
        double sent = 0;
        long measureFrom = -1;
        double sentAtMeasureStart = 0;
        while (now < 60_000) {
            long t = r.recordAndThrottleMs(100 * 1024, now, quota);
            sent += 100 * 1024;
            if (t > 0 && measureFrom < 0) {
                measureFrom = now;
                sentAtMeasureStart = sent;
            }
            now += Math.max(t, 5); // 5 ms per round trip
        }
        double rate = (sent - sentAtMeasureStart) / ((now - measureFrom) / 1000.0);
        assertEquals(quota, rate, quota * 0.1, "steady rate " + rate);
    }
}
