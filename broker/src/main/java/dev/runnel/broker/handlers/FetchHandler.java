package dev.runnel.broker.handlers;

import dev.runnel.broker.Broker;
import dev.runnel.broker.fetch.FetchOperation;
import dev.runnel.broker.fetch.FetchSessionCache;
import dev.runnel.broker.fetch.LegacyFetch;
import dev.runnel.broker.network.RequestContext;
import dev.runnel.broker.state.Partition;
import dev.runnel.broker.state.Topic;
import dev.runnel.replication.leader.ReplicaFetchCheck;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.FetchRequestData;
import dev.runnel.wire.message.FetchResponseData;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * Fetch (1): record batches from the requested partitions, sent zero-copy from the segment files, with
 * Kafka's long-poll ({@code max_wait_ms}/{@code min_bytes}, see {@link FetchOperation}).
 * <p>
 * <b>Versions 0-17.</b> Fetch v0-3 (clients before Kafka 0.11) carry the legacy message formats: after the
 * same reads and long-poll, their records are down-converted to magic 0 (v0-1) or 1 (v2-3) by
 * {@link LegacyFetch}, as Kafka 3.x does (Kafka 4 dropped those versions). v4+ stay zero-copy.
 * v13+ address topics by id (Metadata returns them), unknown ids get UNKNOWN_TOPIC_ID.
 * <p>
 * <b>Sessions (KIP-227, v7+).</b> A full fetch with epoch 0 gets a session id when the cache
 * ({@link FetchSessionCache}, {@code max.incremental.fetch.session.cache.slots}) has room; the client's incremental
 * fetches then name only changed partitions and forgotten ones, and get only the partitions with news. A full
 * fetch naming a session closes it; epoch -1 is sessionless; an unknown session gets FETCH_SESSION_ID_NOT_FOUND and
 * a wrong epoch INVALID_FETCH_SESSION_EPOCH, as Kafka answers. A full response holds exactly the requested
 * partitions, in request order; an incremental one the session's partitions with news, in session order.
 * <p>
 * Fetches from a replica id &gt;= 0 read up to the log end offset. read_committed (isolation level 1) consumers read
 * below the last stable offset and get the aborted transactions of the range they fetched (see
 * {@link dev.runnel.broker.fetch.FetchOperation}).
 */
public final class FetchHandler implements ApiHandler {
    /** Kafka's {@code fetch.max.bytes} default: the cap on a response's record bytes. */
    static final int DEFAULT_FETCH_MAX_BYTES = 55 * 1024 * 1024;
    private static final UUID ZERO_UUID = new UUID(0L, 0L);
    private static final int FINAL_EPOCH = -1;
    private static final int INITIAL_EPOCH = 0;

    @Override
    public ApiKeys api() {
        return ApiKeys.FETCH;
    }

    @Override
    public short highestVersion() {
        // v18 adds a follower's tagged HighWatermark per partition (KIP-1166), which lets a Kafka leader answer a
        // follower early when its high watermark is behind; it is ignorable and not used here.
        return 18;
    }

    private final FetchSessionCache sessions;
    private final dev.runnel.broker.quota.ClientQuotas quotas;

    FetchHandler(FetchSessionCache sessions, dev.runnel.broker.quota.ClientQuotas quotas) {
        this.sessions = sessions;
        this.quotas = quotas;
    }

    /** With {@code max.incremental.fetch.session.cache.slots} sessions at most (Kafka's default 1000; 0: none). */
    public static FetchHandler create(Broker broker) {
        String v = broker.config().get("max.incremental.fetch.session.cache.slots");
        int slots = FetchSessionCache.DEFAULT_SLOTS;
        if (v != null && !v.isBlank()) {
            slots = Integer.parseInt(v.trim());
        }
        return new FetchHandler(new FetchSessionCache(slots, FetchSessionCache.EVICTION_MS, System::currentTimeMillis),
                dev.runnel.broker.quota.ClientQuotas.forBroker(broker));
    }

    public FetchSessionCache sessions() {
        return sessions;
    }

    /** A partition to read: where it is named (by id from v13, else by name) and its fetch parameters. */
    private record Wanted(FetchSessionCache.Key key, FetchRequestData.FetchPartition request) {
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        FetchRequestData req = (FetchRequestData) request;
        short version = ctx.apiVersion();
        Broker broker = ctx.broker();
        FetchResponseData resp = new FetchResponseData().setSessionId(0);
        boolean byId = version >= 13;
        int replicaId = version >= 15 ? req.replicaState.replicaId : req.replicaId;

        List<Map.Entry<FetchSessionCache.Key, FetchRequestData.FetchPartition>> requested = new ArrayList<>();
        for (FetchRequestData.FetchTopic ft : req.topics) {
            for (FetchRequestData.FetchPartition fp : ft.partitions) {
                requested.add(Map.entry(FetchSessionCache.Key.of(byId, ft.topicId == null ? ZERO_UUID : ft.topicId, ft.topic,
                        fp.partition), fp));
            }
        }
        // Kafka's FetchManager.newContext: sessionless, full (maybe creating a session) or incremental
        FetchSessionCache.Session session = null;
        boolean createSession = false;
        List<Wanted> wanted = new ArrayList<>(requested.size());
        if (version >= 7 && req.sessionEpoch != FINAL_EPOCH && req.sessionEpoch != INITIAL_EPOCH) {
            session = sessions.get(req.sessionId);
            if (session == null) {
                return CompletableFuture.completedFuture(resp.setErrorCode(Errors.FETCH_SESSION_ID_NOT_FOUND.code()));
            }
            int size;
            synchronized (session) {
                if (session.epoch() != req.sessionEpoch) {
                    return CompletableFuture.completedFuture(resp.setErrorCode(Errors.INVALID_FETCH_SESSION_EPOCH.code()));
                }
                if (session.byTopicId() != byId) {
                    return CompletableFuture.completedFuture(resp.setErrorCode(Errors.FETCH_SESSION_TOPIC_ID_ERROR.code()));
                }
                List<FetchSessionCache.Key> forgotten = new ArrayList<>();
                for (FetchRequestData.ForgottenTopic t : req.forgottenTopicsData) {
                    for (int p : t.partitions) {
                        forgotten.add(FetchSessionCache.Key.of(byId, t.topicId == null ? ZERO_UUID : t.topicId, t.topic, p));
                    }
                }
                session.update(requested, forgotten);
                List<FetchSessionCache.Cached> all = session.partitions();
                size = all.size();
                if (!all.isEmpty()) {
                    session.advanceEpoch();
                    for (FetchSessionCache.Cached c : all) {
                        wanted.add(new Wanted(c.key(), c.request()));
                    }
                }
            }
            if (size == 0) {
                // Nothing left in the session: Kafka closes it and answers the request sessionless.
                sessions.remove(session.id());
                session = null;
            } else {
                sessions.touch(session, size);
            }
        } else if (version >= 7) {
            if (req.sessionId != FetchSessionCache.INVALID_SESSION_ID) {
                sessions.remove(req.sessionId); // a full request closes the session it names
            }
            createSession = req.sessionEpoch == INITIAL_EPOCH && sessions.enabled();
        }
        if (session == null) {
            for (Map.Entry<FetchSessionCache.Key, FetchRequestData.FetchPartition> e : requested) {
                wanted.add(new Wanted(e.getKey(), e.getValue()));
            }
        }

        List<FetchOperation.Slot> slots = new ArrayList<>(wanted.size());
        FetchResponseData.FetchableTopicResponse tr = null;
        FetchSessionCache.Key trKey = null;
        Topic topic = null;
        for (Wanted w : wanted) {
            FetchSessionCache.Key k = w.key();
            if (tr == null || !sameTopic(trKey, k)) {
                if (byId) {
                    topic = ZERO_UUID.equals(k.topicId()) ? null : broker.topics().get(k.topicId());
                } else {
                    topic = broker.topics().get(k.topic());
                }
                if (topic != null && topic.deleted()) {
                    topic = null;
                }
                tr = new FetchResponseData.FetchableTopicResponse()
                        .setTopic(topic != null ? topic.name() : (k.topic() == null ? "" : k.topic()))
                        .setTopicId(topic != null ? topic.id() : (k.topicId() == null ? ZERO_UUID : k.topicId()));
                tr.partitions = new ArrayList<>();
                resp.responses.add(tr);
                trKey = k;
            }
            FetchRequestData.FetchPartition fp = w.request();
            FetchResponseData.PartitionData pd = new FetchResponseData.PartitionData().setPartitionIndex(fp.partition);
            tr.partitions.add(pd);
            Partition p = topic == null ? null : topic.partition(fp.partition);
            Errors error = topic == null ? (byId ? Errors.UNKNOWN_TOPIC_ID : Errors.UNKNOWN_TOPIC_OR_PARTITION)
                    : (p == null ? Errors.UNKNOWN_TOPIC_OR_PARTITION : p.isLeader() ? Errors.NONE : Errors.NOT_LEADER_OR_FOLLOWER);
            slots.add(new FetchOperation.Slot(fp, p, error, pd));
        }

        if (replicaId >= 0 && broker.cluster() != null) {
            // A follower's fetch offset is its log end offset: the leader's bookkeeping (and high watermark) moves —
            // for a fetch that will be answered with records only (not fenced, in range, not diverging).
            for (FetchOperation.Slot s : slots) {
                Partition p = s.partition();
                if (s.error() == Errors.NONE && p != null && ReplicaFetchCheck.countsAsProgress(
                        s.request().currentLeaderEpoch, p.leaderEpoch(), s.fetchOffset(),
                        version >= 12 ? s.request().lastFetchedEpoch : -1, p.logStartOffset(), p.logEndOffset(),
                        p::endOffsetForEpoch)) {
                    broker.cluster().replicaManager().onFollowerFetch(s.partition(), replicaId, s.fetchOffset());
                }
            }
        }
        int maxBytes = Math.min(req.maxBytes, fetchMaxBytes(broker));
        if (replicaId < 0) {
            // Kafka caps a consumer's fetch at what its quota allows in one measured span.
            maxBytes = Math.min(maxBytes, quotas.maxFetchBytes(ctx));
        }
        FetchOperation op = new FetchOperation(resp, slots, version, replicaId >= 0, req.isolationLevel == 1,
                req.maxWaitMs, req.minBytes, maxBytes, broker.metrics());
        boolean redirect = broker.cluster() != null && version >= 12
                && slots.stream().anyMatch(s -> s.error() == Errors.NOT_LEADER_OR_FOLLOWER);
        CompletableFuture<ApiMessage> answer = op.run(ctx.channel(), broker.timer());
        // Consumer byte-rate quota (replica fetches are exempt): a throttled fetch is answered empty (KIP-219).
        boolean[] throttled = {false};
        if (replicaId < 0 && quotas.fetch().enabled()) {
            answer = answer.thenApply(m -> {
                throttled[0] = m != null && quotas.throttleFetch(ctx, resp);
                return m;
            });
        }
        if (LegacyFetch.applies(version)) {
            // v0-3 know no sessions: a full response, converted once it is read
            answer = answer.thenApply(m -> {
                if (m != null) {
                    LegacyFetch.downConvert(req, resp, version, broker.topics(), broker.config());
                }
                return m;
            });
        }
        if (session != null) {
            FetchSessionCache.Session incremental = session;
            int expectedEpoch = FetchSessionCache.nextEpoch(req.sessionEpoch);
            answer = answer.thenApply(m -> {
                answerIncremental(incremental, expectedEpoch, resp, byId);
                return m;
            });
        } else if (createSession) {
            answer = answer.thenApply(m -> {
                Map<FetchSessionCache.Key, FetchResponseData.PartitionData> sent = new HashMap<>();
                for (int i = 0; i < slots.size(); i++) {
                    sent.put(wanted.get(i).key(), slots.get(i).response());
                }
                if (throttled[0]) {
                    return m; // Kafka's throttled full response: no session, no partitions
                }
                FetchSessionCache.Session created = sessions.create(replicaId >= 0, byId, requested, sent);
                if (created != null) {
                    resp.setSessionId(created.id());
                }
                return m;
            });
        }
        return redirect ? answer.thenApply(m -> {
            dev.runnel.broker.cluster.LeaderHints.addTo(broker.cluster(), resp, version);
            return m;
        }) : answer;
    }

    /**
     * An incremental response holds only the partitions with news (Kafka's IncrementalFetchContext); a request that
     * raced another with the same epoch gets INVALID_FETCH_SESSION_EPOCH and no partitions.
     */
    private static void answerIncremental(FetchSessionCache.Session session, int expectedEpoch, FetchResponseData resp,
                                          boolean byId) {
        synchronized (session) {
            if (session.epoch() != expectedEpoch) {
                resp.responses.clear();
                resp.setErrorCode(Errors.INVALID_FETCH_SESSION_EPOCH.code());
                resp.setSessionId(session.id());
                return;
            }
            FetchSessionCache.prune(resp, (t, pd) -> session.mustRespond(
                    FetchSessionCache.Key.of(byId, t.topicId, t.topic, pd.partitionIndex), pd));
            resp.setSessionId(session.id());
        }
    }

    private static boolean sameTopic(FetchSessionCache.Key a, FetchSessionCache.Key b) {
        return java.util.Objects.equals(a.topicId(), b.topicId()) && java.util.Objects.equals(a.topic(), b.topic());
    }

    private static int fetchMaxBytes(Broker broker) {
        String v = broker.config().get("fetch.max.bytes");
        if (v == null) {
            return DEFAULT_FETCH_MAX_BYTES;
        }
        try {
            return Math.max(0, Integer.parseInt(v.trim()));
        } catch (NumberFormatException e) {
            return DEFAULT_FETCH_MAX_BYTES;
        }
    }
}
