package dev.runnel.broker.quota;

/**
 * A rate measured as Kafka's client quotas measure it (its {@code Rate} over a {@code WindowedSum}): the sum of the
 * values recorded in the last {@code samples} windows of {@code windowMs}, divided by the time they span, where that
 * span counts as at least {@code samples - 1} full windows (so a client's first burst is not measured over a few
 * milliseconds). The throttle time is Kafka's: the delay X that brings the observed rate O back to the quota T over
 * the measured window W, {@code X = (O - T) / T * W}, rounded to milliseconds.
 *
 * <p>Time is passed in (milliseconds), so tests drive it. Fixed arrays, no allocation per record; one instance is
 * shared by the connections of one quota entity, hence synchronized.
 */
public final class QuotaRate {
    private final int samples;
    private final long windowMs;
    // One extra slot, as Kafka keeps one for the sample that overlaps the start of the monitored window.
    private final double[] value;
    private final long[] startMs;
    private final long[] lastEventMs;
    private final long[] events;
    private int used;
    private int current;

    public QuotaRate(int samples, long windowMs) {
        if (samples < 1 || windowMs < 1) {
            throw new IllegalArgumentException("samples and windowMs must be positive");
        }
        this.samples = samples;
        this.windowMs = windowMs;
        int slots = samples + 1;
        value = new double[slots];
        startMs = new long[slots];
        lastEventMs = new long[slots];
        events = new long[slots];
    }

    /**
     * Adds {@code v} at {@code nowMs} and returns the throttle time in ms if the rate then exceeds {@code bound}
     * (0 if it does not). A negative {@code v} takes back what was recorded (Kafka "unrecords" a throttled fetch).
     */
    public synchronized long recordAndThrottleMs(double v, long nowMs, double bound) {
        record(v, nowMs);
        return throttleMs(nowMs, bound);
    }

    /** Adds {@code v} without checking the bound. */
    public synchronized void record(double v, long nowMs) {
        if (used == 0) {
            reset(0, nowMs);
            used = 1;
        }
        if (nowMs - startMs[current] >= windowMs) {
            current = (current + 1) % value.length;
            if (current >= used) {
                used = current + 1;
            }
            reset(current, nowMs);
        }
        value[current] += v;
        events[current]++;
        lastEventMs[current] = nowMs;
    }

    /** The delay that brings the measured rate back to {@code bound}; 0 when it is within it. */
    public synchronized long throttleMs(long nowMs, double bound) {
        double observed = rate(nowMs);
        if (observed <= bound) {
            return 0;
        }
        return Math.round((observed - bound) / bound * windowSizeMs(nowMs));
    }

    /** The measured rate, per second. */
    public synchronized double rate(long nowMs) {
        long window = windowSizeMs(nowMs);
        double sum = 0;
        for (int i = 0; i < used; i++) {
            sum += value[i];
        }
        return sum / (window / 1000.0);
    }

    /** The span the rate is measured over: from the oldest live sample, at least {@code samples - 1} windows. */
    synchronized long windowSizeMs(long nowMs) {
        purgeObsolete(nowMs);
        long oldest = Long.MAX_VALUE;
        if (used == 0) {
            oldest = nowMs;
        }
        for (int i = 0; i < used; i++) {
            oldest = Math.min(oldest, startMs[i]);
        }
        long elapsed = nowMs - oldest;
        int fullWindows = (int) (elapsed / windowMs);
        int minFullWindows = samples - 1;
        if (fullWindows < minFullWindows) {
            elapsed += (minFullWindows - fullWindows) * windowMs;
        }
        return Math.max(elapsed, 1);
    }

    /** Samples whose last event is older than the whole monitored span count for nothing. */
    private void purgeObsolete(long nowMs) {
        long expireAge = samples * windowMs;
        for (int i = 0; i < used; i++) {
            if (nowMs - lastEventMs[i] >= expireAge) {
                reset(i, nowMs);
            }
        }
    }

    /** The time of the last record, for expiring idle rates. */
    synchronized long lastRecordMs() {
        return used == 0 ? Long.MIN_VALUE : lastEventMs[current];
    }

    private void reset(int i, long nowMs) {
        value[i] = 0;
        startMs[i] = nowMs;
        lastEventMs[i] = nowMs;
        events[i] = 0;
    }
}
