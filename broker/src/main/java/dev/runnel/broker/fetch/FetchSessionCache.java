package dev.runnel.broker.fetch;

import dev.runnel.wire.message.FetchRequestData;
import dev.runnel.wire.message.FetchResponseData;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongSupplier;

/**
 * Incremental fetch sessions (KIP-227), Kafka's rules: a full fetch with epoch 0 asks for a session; the broker
 * remembers the partitions and their fetch parameters under a new session id, and later requests (epoch 1, 2, ...)
 * name only the partitions whose parameters changed, plus those to forget; the answer holds only the partitions that
 * have news (records, a changed high watermark / log start offset / last stable offset, an error, a diverging epoch).
 *
 * <p>At most {@code max.incremental.fetch.session.cache.slots} sessions (Kafka's default 1000; 0 turns sessions off).
 * When it is full, a new session may take the place of one unused for {@link #EVICTION_MS}, or of a smaller one
 * older than that (a follower's session, "privileged", only by another follower's), as Kafka's cache decides.
 * Sessions are keyed by topic id when created by Fetch v13+ and by topic name before.
 *
 * <p>Thread safety: the cache's methods are synchronized; a session's contents are guarded by the session's own
 * monitor, never taken while holding the cache's (Kafka's lock order).
 */
public final class FetchSessionCache {
    public static final int INVALID_SESSION_ID = 0;
    public static final int INITIAL_EPOCH = 0;
    public static final int FINAL_EPOCH = -1;
    /** Kafka's minimum idle time before a session may be evicted (MIN_INCREMENTAL_FETCH_SESSION_EVICTION_MS). */
    public static final long EVICTION_MS = 120_000;
    public static final int DEFAULT_SLOTS = 1000;

    /** A partition of a session: by topic id (v13+) or by name. */
    public record Key(UUID topicId, String topic, int partition) {
        public static Key of(boolean byId, UUID topicId, String topic, int partition) {
            return byId ? new Key(topicId, null, partition) : new Key(null, topic, partition);
        }
    }

    /** What a session remembers of one partition: the last request parameters and what was last sent. */
    public static final class Cached {
        final Key key;
        FetchRequestData.FetchPartition request;
        long highWatermark = -1;
        long logStartOffset = -1;
        long lastStableOffset = -1;

        Cached(Key key, FetchRequestData.FetchPartition request) {
            this.key = key;
            this.request = copy(request);
        }

        public Key key() {
            return key;
        }

        /** The request parameters to fetch with (a copy: the fetch may not change the cache). */
        public FetchRequestData.FetchPartition request() {
            return copy(request);
        }
    }

    public static final class Session {
        final int id;
        final boolean privileged;
        final boolean byTopicId;
        final long creationMs;
        long lastUsedMs;
        int epoch;
        int cachedSize;
        final LinkedHashMap<Key, Cached> partitions = new LinkedHashMap<>();

        Session(int id, boolean privileged, boolean byTopicId, long now) {
            this.id = id;
            this.privileged = privileged;
            this.byTopicId = byTopicId;
            this.creationMs = now;
            this.lastUsedMs = now;
            this.epoch = nextEpoch(INITIAL_EPOCH);
        }

        public int id() {
            return id;
        }

        public boolean byTopicId() {
            return byTopicId;
        }

        /** Moves to the epoch the next request must carry. Call under the session's lock. */
        public void advanceEpoch() {
            epoch = nextEpoch(epoch);
        }

        /** The epoch the next incremental request must carry. */
        public synchronized int epoch() {
            return epoch;
        }

        /** The partitions in session order (those answered last time at the end). Call under the session's lock. */
        public List<Cached> partitions() {
            return new ArrayList<>(partitions.values());
        }

        /** Adds or updates the request's partitions and forgets the forgotten ones. Call under the session's lock. */
        public void update(List<Map.Entry<Key, FetchRequestData.FetchPartition>> fetched, List<Key> forgotten) {
            for (Map.Entry<Key, FetchRequestData.FetchPartition> e : fetched) {
                Cached c = partitions.get(e.getKey());
                if (c == null) {
                    partitions.put(e.getKey(), new Cached(e.getKey(), e.getValue()));
                } else {
                    c.request = copy(e.getValue());
                }
            }
            for (Key k : forgotten) {
                partitions.remove(k);
            }
        }

        /**
         * Whether an incremental response must carry this partition, remembering what it carries (Kafka's
         * {@code maybeUpdateResponseData}); a partition that is answered moves to the end of the session's order.
         * Call under the session's lock.
         */
        public boolean mustRespond(Key key, FetchResponseData.PartitionData pd) {
            Cached c = partitions.get(key);
            if (c == null) {
                return true;
            }
            boolean must = pd.records != null && pd.records.sizeInBytes() > 0;
            if (c.highWatermark != pd.highWatermark) {
                must = true;
                c.highWatermark = pd.highWatermark;
            }
            if (c.logStartOffset != pd.logStartOffset) {
                must = true;
                c.logStartOffset = pd.logStartOffset;
            }
            if (c.lastStableOffset != pd.lastStableOffset) {
                must = true;
                c.lastStableOffset = pd.lastStableOffset;
            }
            if (pd.preferredReadReplica >= 0) {
                must = true;
            }
            if (pd.divergingEpoch != null && (pd.divergingEpoch.epoch >= 0 || pd.divergingEpoch.endOffset >= 0)) {
                must = true;
            }
            if (pd.currentLeader != null && pd.currentLeader.leaderId >= 0) {
                must = true;
            }
            if (pd.errorCode != 0) {
                // answered with every error; the next good answer is sent even when nothing else changed
                c.highWatermark = -1;
                must = true;
            }
            if (must) {
                partitions.remove(key);
                partitions.put(key, c);
            }
            return must;
        }

        /** Remembers what a full response sent (the session starts from it). Call under the session's lock. */
        void sent(Key key, FetchResponseData.PartitionData pd) {
            Cached c = partitions.get(key);
            if (c != null) {
                c.highWatermark = pd.errorCode != 0 ? -1 : pd.highWatermark;
                c.logStartOffset = pd.logStartOffset;
                c.lastStableOffset = pd.lastStableOffset;
            }
        }
    }

    private final int maxEntries;
    private final long evictionMs;
    private final LongSupplier clock;
    private final Map<Integer, Session> sessions = new HashMap<>();
    private long evictions;

    public FetchSessionCache(int maxEntries, long evictionMs, LongSupplier clock) {
        this.maxEntries = Math.max(0, maxEntries);
        this.evictionMs = evictionMs;
        this.clock = clock;
    }

    /** Kafka's {@code FetchMetadata.nextEpoch}. */
    public static int nextEpoch(int epoch) {
        if (epoch < 0) {
            return FINAL_EPOCH;
        }
        return epoch == Integer.MAX_VALUE ? 1 : epoch + 1;
    }

    public boolean enabled() {
        return maxEntries > 0;
    }

    public synchronized Session get(int id) {
        return sessions.get(id);
    }

    public synchronized boolean remove(int id) {
        return sessions.remove(id) != null;
    }

    public synchronized int size() {
        return sessions.size();
    }

    public synchronized long totalPartitions() {
        long n = 0;
        for (Session s : sessions.values()) {
            n += s.cachedSize;
        }
        return n;
    }

    public synchronized long evictions() {
        return evictions;
    }

    /**
     * A new session holding {@code partitions} with what the full response sent, or null when the cache is full and
     * nothing may be evicted (the client then keeps sending full requests, which is correct).
     */
    public Session create(boolean privileged, boolean byTopicId, List<Map.Entry<Key, FetchRequestData.FetchPartition>> partitions,
                          Map<Key, FetchResponseData.PartitionData> sent) {
        Session s;
        synchronized (this) {
            long now = clock.getAsLong();
            if (maxEntries == 0 || (sessions.size() >= maxEntries && !tryEvict(privileged, partitions.size(), now))) {
                return null;
            }
            int id;
            do {
                id = ThreadLocalRandom.current().nextInt(1, Integer.MAX_VALUE);
            } while (sessions.containsKey(id));
            s = new Session(id, privileged, byTopicId, now);
            s.cachedSize = partitions.size();
            sessions.put(id, s);
        }
        synchronized (s) {
            s.update(partitions, List.of());
            sent.forEach(s::sent);
        }
        return s;
    }

    /** Marks the session used now (for eviction); records its size. */
    public synchronized void touch(Session s, int size) {
        s.lastUsedMs = clock.getAsLong();
        s.cachedSize = size;
    }

    /**
     * Kafka's eviction: a session unused for the eviction time goes first; otherwise the least valuable session
     * older than the eviction time (unprivileged before privileged, then smaller) if the new one is worth more.
     */
    private boolean tryEvict(boolean privileged, int size, long now) {
        Session stalest = null;
        for (Session s : sessions.values()) {
            if (stalest == null || s.lastUsedMs < stalest.lastUsedMs
                    || (s.lastUsedMs == stalest.lastUsedMs && s.id < stalest.id)) {
                stalest = s;
            }
        }
        if (stalest == null) {
            return false;
        }
        if (now - stalest.lastUsedMs > evictionMs) {
            sessions.remove(stalest.id);
            evictions++;
            return true;
        }
        Session cheapest = null;
        for (Session s : sessions.values()) {
            boolean evictable = now - s.creationMs > evictionMs && (privileged || !s.privileged);
            if (evictable && (cheapest == null || compare(s, cheapest) < 0)) {
                cheapest = s;
            }
        }
        if (cheapest == null || compare(privileged, size, Integer.MAX_VALUE, cheapest) < 0) {
            return false;
        }
        sessions.remove(cheapest.id);
        evictions++;
        return true;
    }

    private static int compare(Session a, Session b) {
        return compare(a.privileged, a.cachedSize, a.id, b);
    }

    private static int compare(boolean privileged, int size, int id, Session b) {
        if (privileged != b.privileged) {
            return privileged ? 1 : -1;
        }
        if (size != b.cachedSize) {
            return Integer.compare(size, b.cachedSize);
        }
        return Integer.compare(id, b.id);
    }

    static FetchRequestData.FetchPartition copy(FetchRequestData.FetchPartition p) {
        return new FetchRequestData.FetchPartition().setPartition(p.partition).setCurrentLeaderEpoch(p.currentLeaderEpoch)
                .setFetchOffset(p.fetchOffset).setLastFetchedEpoch(p.lastFetchedEpoch).setLogStartOffset(p.logStartOffset)
                .setPartitionMaxBytes(p.partitionMaxBytes);
    }

    /** Removes the entries of {@code response} that {@code keep} rejects, and topics left empty. */
    public static void prune(FetchResponseData response, java.util.function.BiPredicate<FetchResponseData.FetchableTopicResponse,
            FetchResponseData.PartitionData> keep) {
        Iterator<FetchResponseData.FetchableTopicResponse> topics = response.responses.iterator();
        while (topics.hasNext()) {
            FetchResponseData.FetchableTopicResponse t = topics.next();
            t.partitions.removeIf(pd -> !keep.test(t, pd));
            if (t.partitions.isEmpty()) {
                topics.remove();
            }
        }
    }

}
