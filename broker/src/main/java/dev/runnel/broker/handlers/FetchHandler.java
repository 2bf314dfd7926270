package dev.runnel.broker.handlers;

import dev.runnel.broker.Broker;
import dev.runnel.broker.fetch.FetchOperation;
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
import java.util.List;
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
 * <b>Sessions.</b> Every fetch is answered as a full, sessionless one with session id 0. A client asking to
 * create a session (epoch 0) therefore stays sessionless and keeps sending full requests, which Kafka's
 * clients handle; an incremental request (epoch &gt; 0) can only name a session we never created and gets
 * FETCH_SESSION_ID_NOT_FOUND, as Kafka answers for an evicted session. A full response holds exactly the
 * requested partitions, in request order.
 * <p>
 * Fetches from a replica id &gt;= 0 are served like a consumer's (there are no followers yet). The isolation
 * level changes nothing until transactions exist (last stable offset = high watermark).
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
        return 17;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        FetchRequestData req = (FetchRequestData) request;
        short version = ctx.apiVersion();
        Broker broker = ctx.broker();
        FetchResponseData resp = new FetchResponseData().setSessionId(0);

        if (version >= 7 && req.sessionEpoch != FINAL_EPOCH && req.sessionEpoch != INITIAL_EPOCH) {
            return CompletableFuture.completedFuture(resp.setErrorCode(Errors.FETCH_SESSION_ID_NOT_FOUND.code()));
        }

        List<FetchOperation.Slot> slots = new ArrayList<>();
        for (FetchRequestData.FetchTopic ft : req.topics) {
            Topic topic;
            Errors topicError;
            if (version >= 13) {
                topic = ft.topicId == null || ZERO_UUID.equals(ft.topicId) ? null : broker.topics().get(ft.topicId);
                topicError = Errors.UNKNOWN_TOPIC_ID;
            } else {
                topic = broker.topics().get(ft.topic);
                topicError = Errors.UNKNOWN_TOPIC_OR_PARTITION;
            }
            if (topic != null && topic.deleted()) {
                topic = null;
            }
            FetchResponseData.FetchableTopicResponse tr = new FetchResponseData.FetchableTopicResponse()
                    .setTopic(topic != null ? topic.name() : ft.topic)
                    .setTopicId(topic != null ? topic.id() : (ft.topicId == null ? ZERO_UUID : ft.topicId));
            tr.partitions = new ArrayList<>(ft.partitions.size());
            for (FetchRequestData.FetchPartition fp : ft.partitions) {
                FetchResponseData.PartitionData pd = new FetchResponseData.PartitionData().setPartitionIndex(fp.partition);
                tr.partitions.add(pd);
                Partition p = topic == null ? null : topic.partition(fp.partition);
                Errors error = topic == null ? topicError : (p == null ? Errors.UNKNOWN_TOPIC_OR_PARTITION
                        : p.isLeader() ? Errors.NONE : Errors.NOT_LEADER_OR_FOLLOWER);
                slots.add(new FetchOperation.Slot(fp, p, error, pd));
            }
            resp.responses.add(tr);
        }

        int replicaId = version >= 15 ? req.replicaState.replicaId : req.replicaId;
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
        FetchOperation op = new FetchOperation(resp, slots, version, replicaId >= 0, req.isolationLevel == 1,
                req.maxWaitMs, req.minBytes, maxBytes, broker.metrics());
        boolean redirect = broker.cluster() != null && version >= 12
                && slots.stream().anyMatch(s -> s.error() == Errors.NOT_LEADER_OR_FOLLOWER);
        CompletableFuture<ApiMessage> answer = op.run(ctx.channel(), broker.timer());
        if (LegacyFetch.applies(version)) {
            answer = answer.thenApply(m -> {
                if (m != null) {
                    LegacyFetch.downConvert(req, resp, version, broker.topics(), broker.config());
                }
                return m;
            });
        }
        return redirect ? answer.thenApply(m -> {
            dev.runnel.broker.cluster.LeaderHints.addTo(broker.cluster(), resp, version);
            return m;
        }) : answer;
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
