package dev.runnel.broker.handlers;

import dev.runnel.broker.Broker;
import dev.runnel.broker.network.RequestContext;
import dev.runnel.broker.state.Topic;
import dev.runnel.broker.state.TopicManager;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.DeleteTopicsRequestData;
import dev.runnel.wire.message.DeleteTopicsResponseData;
import dev.runnel.wire.message.DeleteTopicsResponseData.DeletableTopicResult;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * DeleteTopics (20), v0-6: topics by name (v0-5: {@code topic_names}; v6: {@code topics} entries with a name) or,
 * in v6, by topic id. Unknown names get UNKNOWN_TOPIC_OR_PARTITION, unknown ids UNKNOWN_TOPIC_ID; a name or id
 * given twice, an entry with both or neither, gets INVALID_REQUEST, as in Kafka. With
 * {@code delete.topic.enable=false} every topic gets TOPIC_DELETION_DISABLED (INVALID_REQUEST before v3).
 * Like a KRaft Kafka broker, Runnel lets internal topics be deleted too. Results come in request order.
 */
public final class DeleteTopicsHandler implements ApiHandler {
    private static final Logger LOG = LoggerFactory.getLogger(DeleteTopicsHandler.class);
    private static final UUID ZERO = new UUID(0L, 0L);

    @Override
    public ApiKeys api() {
        return ApiKeys.DELETE_TOPICS;
    }

    @Override
    public short highestVersion() {
        return 6;
    }

    /** One entry of the request: a name or an id. */
    private record Ref(String name, UUID id) {
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        DeleteTopicsRequestData req = (DeleteTopicsRequestData) request;
        Broker broker = ctx.broker();
        short version = ctx.apiVersion();

        List<Ref> refs = new ArrayList<>();
        if (version >= 6) {
            for (DeleteTopicsRequestData.DeleteTopicState s : req.topics) {
                refs.add(new Ref(s.name, s.topicId == null ? ZERO : s.topicId));
            }
        } else {
            for (String name : req.topicNames) {
                refs.add(new Ref(name, ZERO));
            }
        }

        if (broker.cluster() != null && Boolean.parseBoolean(broker.config().get("delete.topic.enable"))) {
            // The active controller deletes; every node then drops its logs as it applies the record.
            DeleteTopicsRequestData forward = new DeleteTopicsRequestData().setTimeoutMs(req.timeoutMs);
            for (Ref r : refs) {
                forward.topics.add(new DeleteTopicsRequestData.DeleteTopicState().setName(r.name())
                        .setTopicId(r.name() != null ? ZERO : r.id()));
            }
            return dev.runnel.broker.cluster.ClusterTopicAdmin.deleteTopics(broker.cluster(), forward).thenApply(r -> (ApiMessage) r);
        }
        DeleteTopicsResponseData resp = new DeleteTopicsResponseData();
        if (!Boolean.parseBoolean(broker.config().get("delete.topic.enable"))) {
            Errors e = version < 3 ? Errors.INVALID_REQUEST : Errors.TOPIC_DELETION_DISABLED;
            for (Ref r : refs) {
                resp.responses.add(result(r.name(), r.id(), e, "Topic deletion is disabled."));
            }
            return CompletableFuture.completedFuture(resp);
        }

        Map<String, Integer> nameCounts = new HashMap<>();
        Map<UUID, Integer> idCounts = new HashMap<>();
        for (Ref r : refs) {
            if (r.name() != null && r.id().equals(ZERO)) {
                nameCounts.merge(r.name(), 1, Integer::sum);
            } else if (r.name() == null && !r.id().equals(ZERO)) {
                idCounts.merge(r.id(), 1, Integer::sum);
            }
        }
        TopicManager topics = broker.topics();
        // A topic named by one entry and given by id in another is refused in both, and deleted by neither.
        Set<UUID> namedAndById = new HashSet<>();
        for (String name : nameCounts.keySet()) {
            Topic t = topics.get(name);
            if (t != null && idCounts.containsKey(t.id())) {
                namedAndById.add(t.id());
            }
        }
        Set<String> answeredNames = new HashSet<>();
        Set<UUID> answeredIds = new HashSet<>();
        for (Ref r : refs) {
            if (r.name() == null && r.id().equals(ZERO)) {
                resp.responses.add(result(null, ZERO, Errors.INVALID_REQUEST, "Neither topic name nor id were specified."));
            } else if (r.name() != null && !r.id().equals(ZERO)) {
                resp.responses.add(result(r.name(), r.id(), Errors.INVALID_REQUEST, "You may not specify both topic name and topic id."));
            } else if (r.name() != null) {
                if (!answeredNames.add(r.name())) {
                    continue;
                }
                if (nameCounts.get(r.name()) > 1) {
                    resp.responses.add(result(r.name(), ZERO, Errors.INVALID_REQUEST, "Duplicate topic name."));
                    continue;
                }
                Topic t = topics.get(r.name());
                if (t == null) {
                    resp.responses.add(result(r.name(), ZERO, Errors.UNKNOWN_TOPIC_OR_PARTITION, "This server does not host this topic-partition."));
                } else if (namedAndById.contains(t.id())) {
                    resp.responses.add(result(r.name(), t.id(), Errors.INVALID_REQUEST, "The provided topic name maps to an ID that was already supplied."));
                } else {
                    resp.responses.add(delete(topics, t));
                }
            } else {
                if (!answeredIds.add(r.id())) {
                    continue;
                }
                if (idCounts.get(r.id()) > 1) {
                    resp.responses.add(result(null, r.id(), Errors.INVALID_REQUEST, "Duplicate topic id."));
                    continue;
                }
                Topic t = topics.get(r.id());
                if (t == null) {
                    resp.responses.add(result(null, r.id(), Errors.UNKNOWN_TOPIC_ID, "This server does not host this topic ID."));
                } else if (namedAndById.contains(t.id())) {
                    resp.responses.add(result(t.name(), r.id(), Errors.INVALID_REQUEST, "The provided topic name maps to an ID that was already supplied."));
                } else {
                    resp.responses.add(delete(topics, t));
                }
            }
        }
        return CompletableFuture.completedFuture(resp);
    }

    private static DeletableTopicResult delete(TopicManager topics, Topic t) {
        TopicManager.Result r;
        try {
            r = topics.delete(t.name());
        } catch (RuntimeException e) {
            LOG.error("Cannot delete topic {}", t.name(), e);
            return result(t.name(), t.id(), Errors.UNKNOWN_SERVER_ERROR, "Cannot delete topic " + t.name() + ": " + e.getMessage());
        }
        if (r.error() != Errors.NONE) {
            return result(t.name(), t.id(), r.error(), r.message());
        }
        return result(t.name(), t.id(), Errors.NONE, null);
    }

    private static DeletableTopicResult result(String name, UUID id, Errors error, String message) {
        return new DeletableTopicResult()
                .setName(name)
                .setTopicId(id)
                .setErrorCode(error.code())
                .setErrorMessage(message);
    }
}
