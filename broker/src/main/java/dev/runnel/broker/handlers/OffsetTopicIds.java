package dev.runnel.broker.handlers;

import dev.runnel.broker.state.Topic;
import dev.runnel.broker.state.TopicManager;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.OffsetCommitRequestData;
import dev.runnel.wire.message.OffsetCommitResponseData;
import dev.runnel.wire.message.OffsetFetchRequestData;
import dev.runnel.wire.message.OffsetFetchResponseData;
import dev.runnel.wire.message.TxnOffsetCommitRequestData;
import dev.runnel.wire.message.TxnOffsetCommitResponseData;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * OffsetCommit v10 and OffsetFetch v10 (KIP-848) and TxnOffsetCommit v6 (KIP-1319) address topics by id: the group
 * coordinator keeps offsets by topic name, so ids are resolved to names on the way in and names back to ids on the
 * way out. A topic id no live topic has is answered with UNKNOWN_TOPIC_ID for each of its partitions and never
 * reaches the coordinator.
 */
final class OffsetTopicIds {
    static final short FIRST_ID_VERSION = 10;
    static final short FIRST_TXN_ID_VERSION = 6;
    private static final UUID ZERO = new UUID(0L, 0L);

    private OffsetTopicIds() {
    }

    /** Resolves the commit's topic ids to names; returns the responses for the topics whose id is unknown. */
    static List<OffsetCommitResponseData.OffsetCommitResponseTopic> resolveCommit(TopicManager topics, OffsetCommitRequestData req) {
        List<OffsetCommitResponseData.OffsetCommitResponseTopic> unknown = new ArrayList<>();
        List<OffsetCommitRequestData.OffsetCommitRequestTopic> known = new ArrayList<>();
        for (OffsetCommitRequestData.OffsetCommitRequestTopic t : req.topics) {
            Topic topic = ZERO.equals(t.topicId) ? null : topics.get(t.topicId);
            if (topic == null || topic.deleted()) {
                OffsetCommitResponseData.OffsetCommitResponseTopic rt =
                        new OffsetCommitResponseData.OffsetCommitResponseTopic().setTopicId(t.topicId);
                for (OffsetCommitRequestData.OffsetCommitRequestPartition p : t.partitions) {
                    rt.partitions.add(new OffsetCommitResponseData.OffsetCommitResponsePartition()
                            .setPartitionIndex(p.partitionIndex).setErrorCode(Errors.UNKNOWN_TOPIC_ID.code()));
                }
                unknown.add(rt);
            } else {
                t.name = topic.name();
                known.add(t);
            }
        }
        req.topics = known;
        return unknown;
    }

    /** Sets the ids of the coordinator's answer (by name) and adds the unknown-id topics. */
    static void completeCommit(TopicManager topics, OffsetCommitResponseData resp,
                               List<OffsetCommitResponseData.OffsetCommitResponseTopic> unknown) {
        for (OffsetCommitResponseData.OffsetCommitResponseTopic t : resp.topics) {
            Topic topic = topics.get(t.name);
            t.topicId = topic == null ? ZERO : topic.id();
        }
        resp.topics.addAll(unknown);
    }

    /** Resolves a transactional commit's topic ids to names; returns the responses for the topics whose id is unknown. */
    static List<TxnOffsetCommitResponseData.TxnOffsetCommitResponseTopic> resolveTxnCommit(TopicManager topics,
                                                                                      TxnOffsetCommitRequestData req) {
        List<TxnOffsetCommitResponseData.TxnOffsetCommitResponseTopic> unknown = new ArrayList<>();
        List<TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic> known = new ArrayList<>();
        for (TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic t : req.topics) {
            Topic topic = ZERO.equals(t.topicId) ? null : topics.get(t.topicId);
            if (topic == null || topic.deleted()) {
                TxnOffsetCommitResponseData.TxnOffsetCommitResponseTopic rt =
                        new TxnOffsetCommitResponseData.TxnOffsetCommitResponseTopic().setTopicId(t.topicId);
                for (TxnOffsetCommitRequestData.TxnOffsetCommitRequestPartition p : t.partitions) {
                    rt.partitions.add(new TxnOffsetCommitResponseData.TxnOffsetCommitResponsePartition()
                            .setPartitionIndex(p.partitionIndex).setErrorCode(Errors.UNKNOWN_TOPIC_ID.code()));
                }
                unknown.add(rt);
            } else {
                t.name = topic.name();
                known.add(t);
            }
        }
        req.topics = known;
        return unknown;
    }

    /** Sets the ids of a transactional commit's answer (by name) and adds the unknown-id topics. */
    static void completeTxnCommit(TopicManager topics, TxnOffsetCommitResponseData resp,
                                  List<TxnOffsetCommitResponseData.TxnOffsetCommitResponseTopic> unknown) {
        for (TxnOffsetCommitResponseData.TxnOffsetCommitResponseTopic t : resp.topics) {
            Topic topic = topics.get(t.name);
            t.topicId = topic == null ? ZERO : topic.id();
        }
        resp.topics.addAll(unknown);
    }

    /**
     * Resolves the fetch's topic ids to names, group by group; returns, per group (same order), the topics whose
     * id is unknown, already answered.
     */
    static List<List<OffsetFetchResponseData.OffsetFetchResponseTopics>> resolveFetch(TopicManager topics, OffsetFetchRequestData req) {
        List<List<OffsetFetchResponseData.OffsetFetchResponseTopics>> unknownByGroup = new ArrayList<>();
        for (OffsetFetchRequestData.OffsetFetchRequestGroup g : req.groups) {
            List<OffsetFetchResponseData.OffsetFetchResponseTopics> unknown = new ArrayList<>();
            unknownByGroup.add(unknown);
            if (g.topics == null) {
                continue; // all committed offsets
            }
            List<OffsetFetchRequestData.OffsetFetchRequestTopics> known = new ArrayList<>();
            for (OffsetFetchRequestData.OffsetFetchRequestTopics t : g.topics) {
                Topic topic = ZERO.equals(t.topicId) ? null : topics.get(t.topicId);
                if (topic == null || topic.deleted()) {
                    OffsetFetchResponseData.OffsetFetchResponseTopics rt =
                            new OffsetFetchResponseData.OffsetFetchResponseTopics().setTopicId(t.topicId);
                    for (int p : t.partitionIndexes) {
                        rt.partitions.add(new OffsetFetchResponseData.OffsetFetchResponsePartitions().setPartitionIndex(p)
                                .setCommittedOffset(-1L).setCommittedLeaderEpoch(-1).setMetadata("")
                                .setErrorCode(Errors.UNKNOWN_TOPIC_ID.code()));
                    }
                    unknown.add(rt);
                } else {
                    t.name = topic.name();
                    known.add(t);
                }
            }
            g.topics = known;
        }
        return unknownByGroup;
    }

    /**
     * Sets the ids of the coordinator's answer and adds the unknown-id topics. Offsets of a topic that no longer
     * exists have no id to report: a v10 answer leaves them out.
     */
    static void completeFetch(TopicManager topics, OffsetFetchRequestData req, OffsetFetchResponseData resp,
                              List<List<OffsetFetchResponseData.OffsetFetchResponseTopics>> unknownByGroup) {
        for (OffsetFetchResponseData.OffsetFetchResponseGroup g : resp.groups) {
            List<OffsetFetchResponseData.OffsetFetchResponseTopics> kept = new ArrayList<>();
            for (OffsetFetchResponseData.OffsetFetchResponseTopics t : g.topics) {
                Topic topic = topics.get(t.name);
                if (topic != null && !topic.deleted()) {
                    t.topicId = topic.id();
                    kept.add(t);
                }
            }
            g.topics = kept;
            for (int i = 0; i < req.groups.size(); i++) {
                if (req.groups.get(i).groupId.equals(g.groupId)) {
                    g.topics.addAll(unknownByGroup.get(i));
                    break;
                }
            }
        }
    }
}
