package dev.runnel.broker.quota;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One kind of byte-rate quota (produce or fetch), enforced as Kafka's ClientQuotaManager does with its default
 * quota callback.
 *
 * <p><b>Which quota applies.</b> For a request of user U and client id C, the most specific entity that has this key
 * wins, in Kafka's order: (U, C), (U, default client), (U), (default user, C), (default user, default client),
 * (default user), (C), (default client). Clients that resolve to the same entity share one measured rate, exactly
 * as Kafka's metric tags group them: a quota on (U) or (default user) is shared by all of U's client ids, one on
 * (C) or (default client) by all users of C, while a (default client) quota gives each client id its own rate.
 * Without SASL every connection is Kafka's user {@code ANONYMOUS}.
 *
 * <p><b>How much to throttle.</b> Each request adds its bytes to the rate of its entity ({@link QuotaRate}:
 * {@code quota.window.num} windows of {@code quota.window.size.seconds}); when the rate then exceeds the quota the
 * throttle time is Kafka's {@code (rate - quota) / quota * window}. One lookup in a concurrent map and one
 * synchronized update per request; nothing per record.
 */
public final class ClientQuotaManager {
    /** Kafka's principal for connections without authentication. */
    public static final String ANONYMOUS = "ANONYMOUS";
    /** Client ids cached at most before the cache starts over (client ids are the client's choice). */
    static final int MAX_CACHED = 10_000;

    private final String key;
    private final int samples;
    private final long windowMs;
    private volatile Map<QuotaEntity, Double> limits = Map.of();
    private final ConcurrentHashMap<String, Resolved> resolved = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Tags, QuotaRate> rates = new ConcurrentHashMap<>();

    /** Kafka's quota metric tags: the user and client id a rate is kept for ("" for none). */
    record Tags(String user, String clientId) {
    }

    /** What a client resolves to: its quota (null for none) and the rate it counts against. */
    record Resolved(Double bound, QuotaRate rate, Tags tags) {
        static final Resolved NONE = new Resolved(null, null, null);
    }

    public ClientQuotaManager(String key, int samples, int windowSeconds) {
        this.key = key;
        this.samples = samples;
        this.windowMs = windowSeconds * 1000L;
    }

    /** The quota key this manager enforces ({@code producer_byte_rate} or {@code consumer_byte_rate}). */
    public String key() {
        return key;
    }

    /** Takes the current quotas (all keys; only this manager's key is read). Rates already measured are kept. */
    public void update(Map<QuotaEntity, Map<String, Double>> quotas) {
        Map<QuotaEntity, Double> mine = new HashMap<>();
        quotas.forEach((entity, values) -> {
            Double v = values.get(key);
            if (v != null && !entity.entries().containsKey(QuotaEntity.IP)) {
                mine.put(entity, v);
            }
        });
        limits = Map.copyOf(mine);
        resolved.clear();
    }

    /** True when some entity has this quota; when false, requests are not even measured (as Kafka). */
    public boolean enabled() {
        return !limits.isEmpty();
    }

    /** Records {@code bytes} for the client and returns how long it must be throttled, in ms (0: not at all). */
    public int recordAndGetThrottleMs(String user, String clientId, long bytes, long nowMs) {
        if (limits.isEmpty()) {
            return 0;
        }
        Resolved r = resolve(user, clientId, nowMs);
        if (r.rate == null) {
            return 0;
        }
        return (int) Math.min(Integer.MAX_VALUE, r.rate.recordAndThrottleMs(bytes, nowMs, r.bound));
    }

    /** Takes back bytes recorded for a response that was not sent (Kafka's unrecord for a throttled fetch). */
    public void unrecord(String user, String clientId, long bytes, long nowMs) {
        if (limits.isEmpty()) {
            return;
        }
        Resolved r = resolve(user, clientId, nowMs);
        if (r.rate != null) {
            r.rate.record(-bytes, nowMs);
        }
    }

    /**
     * The most one response may carry without being throttled even when nothing else was recorded: Kafka caps a
     * consumer's fetch at quota * (samples - 1) * window. {@link Integer#MAX_VALUE} without a quota.
     */
    public int maxValueInQuotaWindow(String user, String clientId, long nowMs) {
        if (limits.isEmpty()) {
            return Integer.MAX_VALUE;
        }
        Resolved r = resolve(user, clientId, nowMs);
        if (r.bound == null) {
            return Integer.MAX_VALUE;
        }
        double v = r.bound * (samples - 1) * (windowMs / 1000.0);
        return v >= Integer.MAX_VALUE ? Integer.MAX_VALUE : (int) v;
    }

    /** The quota that applies to the client, or null (for tests and logs). */
    public Double quota(String user, String clientId) {
        return resolve(user, clientId, 0).bound;
    }

    private Resolved resolve(String user, String clientId, long nowMs) {
        String u = user == null ? "" : user;
        String c = clientId == null ? "" : clientId;
        String cacheKey = u + '\u0000' + c;
        Resolved r = resolved.get(cacheKey);
        if (r != null) {
            return r;
        }
        Map<QuotaEntity, Double> l = limits;
        Tags tags = tags(l, u, c);
        Double bound = limit(l, tags);
        if (bound == null) {
            r = Resolved.NONE;
        } else {
            if (rates.size() >= MAX_CACHED) {
                expireIdle(nowMs);
            }
            r = new Resolved(bound, rates.computeIfAbsent(tags, t -> new QuotaRate(samples, windowMs)), tags);
        }
        if (resolved.size() >= MAX_CACHED) {
            resolved.clear();
        }
        resolved.put(cacheKey, r);
        return r;
    }

    /** Kafka's DefaultQuotaCallback.quotaMetricTags: which rate a (user, client id) counts against. */
    static Tags tags(Map<QuotaEntity, Double> l, String u, String c) {
        if (l.containsKey(QuotaEntity.of(QuotaEntity.USER, u, QuotaEntity.CLIENT_ID, c))
                || l.containsKey(QuotaEntity.of(QuotaEntity.USER, u, QuotaEntity.CLIENT_ID, null))) {
            return new Tags(u, c);
        }
        if (l.containsKey(QuotaEntity.of(QuotaEntity.USER, u))) {
            return new Tags(u, "");
        }
        if (l.containsKey(QuotaEntity.of(QuotaEntity.USER, null, QuotaEntity.CLIENT_ID, c))
                || l.containsKey(QuotaEntity.of(QuotaEntity.USER, null, QuotaEntity.CLIENT_ID, null))) {
            return new Tags(u, c);
        }
        if (l.containsKey(QuotaEntity.of(QuotaEntity.USER, null))) {
            return new Tags(u, "");
        }
        return new Tags("", c);
    }

    /** Kafka's DefaultQuotaCallback.quotaLimit: the quota of the most specific entity for those tags. */
    static Double limit(Map<QuotaEntity, Double> l, Tags t) {
        String u = t.user();
        String c = t.clientId();
        Double q = null;
        if (!u.isEmpty() && !c.isEmpty()) {
            q = l.get(QuotaEntity.of(QuotaEntity.USER, u, QuotaEntity.CLIENT_ID, c));
            if (q == null) {
                q = l.get(QuotaEntity.of(QuotaEntity.USER, u, QuotaEntity.CLIENT_ID, null));
            }
            if (q == null) {
                q = l.get(QuotaEntity.of(QuotaEntity.USER, null, QuotaEntity.CLIENT_ID, c));
            }
            if (q == null) {
                q = l.get(QuotaEntity.of(QuotaEntity.USER, null, QuotaEntity.CLIENT_ID, null));
            }
        } else if (!u.isEmpty()) {
            q = l.get(QuotaEntity.of(QuotaEntity.USER, u));
            if (q == null) {
                q = l.get(QuotaEntity.of(QuotaEntity.USER, null));
            }
        } else if (!c.isEmpty()) {
            q = l.get(QuotaEntity.of(QuotaEntity.CLIENT_ID, c));
            if (q == null) {
                q = l.get(QuotaEntity.of(QuotaEntity.CLIENT_ID, null));
            }
        }
        return q;
    }

    /** Forgets rates nobody recorded to for the whole measured span (Kafka expires idle quota sensors too). */
    private void expireIdle(long nowMs) {
        long span = samples * windowMs;
        rates.entrySet().removeIf(e -> nowMs - e.getValue().lastRecordMs() > span);
        resolved.clear();
    }
}
