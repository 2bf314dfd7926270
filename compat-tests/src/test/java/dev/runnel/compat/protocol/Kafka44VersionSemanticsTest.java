package dev.runnel.compat.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.Clients;
import dev.runnel.compat.support.RawKafkaConnection;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.common.Uuid;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.DescribeGroupsRequestData;
import org.apache.kafka.common.message.DescribeGroupsResponseData;
import org.apache.kafka.common.message.ListOffsetsRequestData;
import org.apache.kafka.common.message.ListOffsetsResponseData;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetCommitResponseData;
import org.apache.kafka.common.message.OffsetFetchRequestData;
import org.apache.kafka.common.message.OffsetFetchResponseData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.message.TxnOffsetCommitRequestData;
import org.apache.kafka.common.message.TxnOffsetCommitResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What Kafka 4.4's new versions mean, each request built and each answer parsed by kafka-clients 4.4.0: topic ids
 * in Produce v13 and OffsetCommit/OffsetFetch v10, ListOffsets v11's earliest-pending-upload timestamp, DescribeGroups
 * v6's GROUP_ID_NOT_FOUND and ApiVersions v5's cluster check; the unknown-id cases are what no stock client sends.
 */
class Kafka44VersionSemanticsTest {
    @RegisterExtension
    static final Broker broker = Broker.create();

    private static String topic;
    private static Uuid topicId;

    @BeforeAll
    static void topicWithOneRecord() throws Exception {
        assumeTrue(Clients.clientsVersion().startsWith("4.4"), "needs kafka-clients 4.4, found " + Clients.describeVersion());
        topic = Clients.uniqueTopic("v44");
        Clients.createTopic(broker, topic, 1);
        try (KafkaProducer<String, String> producer = Clients.producer(broker)) {
            producer.send(new ProducerRecord<>(topic, "k", "v")).get(20, TimeUnit.SECONDS);
        }
        try (Admin admin = Clients.admin(broker)) {
            topicId = admin.describeTopics(List.of(topic)).allTopicNames().get(20, TimeUnit.SECONDS).get(topic).topicId();
        }
        assertNotNull(topicId);
    }

    private static <T> T exchange(org.apache.kafka.common.protocol.ApiMessage request, short version,
                                  java.util.function.BiFunction<ByteBufferAccessor, Short, T> parse) throws Exception {
        try (RawKafkaConnection connection = RawKafkaConnection.open(broker, Duration.ofSeconds(10))) {
            ApiKeys api = ApiKeys.forId(request.apiKey());
            int id = connection.send(request, version);
            ByteBuffer body = connection.receive(id, api, version);
            T response = parse.apply(new ByteBufferAccessor(body), version);
            assertEquals(0, body.remaining(), "trailing bytes after " + api.name + " v" + version);
            return response;
        }
    }

    @Test
    void produceV13ToAnUnknownTopicIdIsUnknownTopicIdPerPartition() throws Exception {
        Uuid unknown = Uuid.randomUuid();
        ProduceRequestData request = new ProduceRequestData().setAcks((short) 1).setTimeoutMs(5000);
        ProduceRequestData.TopicProduceData td = new ProduceRequestData.TopicProduceData().setTopicId(unknown);
        td.partitionData().add(new ProduceRequestData.PartitionProduceData().setIndex(0).setRecords(null));
        td.partitionData().add(new ProduceRequestData.PartitionProduceData().setIndex(3).setRecords(null));
        // A collection built from an iterator, not add(): this class must stay loadable where 3.9's kafka-clients
        // is on the class path (the java-client-3.9 run discovers it when a single test is selected with -Dtest).
        request.setTopicData(new ProduceRequestData.TopicProduceDataCollection(List.of(td).iterator()));
        ProduceResponseData response = exchange(request, (short) 13, ProduceResponseData::new);
        ProduceResponseData.TopicProduceResponse tr = response.responses().iterator().next();
        assertEquals(unknown, tr.topicId());
        assertEquals(2, tr.partitionResponses().size());
        for (ProduceResponseData.PartitionProduceResponse pr : tr.partitionResponses()) {
            assertEquals(Errors.UNKNOWN_TOPIC_ID.code(), pr.errorCode(), "partition " + pr.index());
            assertEquals(-1L, pr.baseOffset());
        }
    }

    /**
     * TxnOffsetCommit v6 (KIP-1319) names topics by id. A stock producer only sends ids it learned from metadata, so
     * unknown (and zero) ids are sent here: each of their partitions gets UNKNOWN_TOPIC_ID, answered by the same id,
     * before any transaction check (the producer id below has no transaction at all).
     */
    @Test
    void txnOffsetCommitV6WithUnknownTopicIdsIsUnknownTopicIdPerPartition() throws Exception {
        Uuid unknown = Uuid.randomUuid();
        TxnOffsetCommitRequestData request = new TxnOffsetCommitRequestData().setTransactionalId("no-such-txn")
                .setGroupId("txn-v6-" + UUID.randomUUID()).setProducerId(123_456L).setProducerEpoch((short) 0)
                .setTopics(List.of(
                        new TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic().setTopicId(unknown).setPartitions(List.of(
                                new TxnOffsetCommitRequestData.TxnOffsetCommitRequestPartition().setPartitionIndex(0)
                                        .setCommittedOffset(1L),
                                new TxnOffsetCommitRequestData.TxnOffsetCommitRequestPartition().setPartitionIndex(2)
                                        .setCommittedOffset(7L))),
                        new TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic().setTopicId(Uuid.ZERO_UUID).setPartitions(List.of(
                                new TxnOffsetCommitRequestData.TxnOffsetCommitRequestPartition().setPartitionIndex(0)
                                        .setCommittedOffset(1L)))));
        TxnOffsetCommitResponseData response = exchange(request, (short) 6, TxnOffsetCommitResponseData::new);
        System.out.println("[compat] TxnOffsetCommit v6 with unknown ids: " + response);
        assertEquals(2, response.topics().size());
        assertEquals(unknown, response.topics().get(0).topicId());
        assertEquals(List.of(0, 2), response.topics().get(0).partitions().stream()
                .map(TxnOffsetCommitResponseData.TxnOffsetCommitResponsePartition::partitionIndex).toList());
        assertEquals(Uuid.ZERO_UUID, response.topics().get(1).topicId());
        for (TxnOffsetCommitResponseData.TxnOffsetCommitResponseTopic t : response.topics()) {
            for (TxnOffsetCommitResponseData.TxnOffsetCommitResponsePartition p : t.partitions()) {
                assertEquals(Errors.UNKNOWN_TOPIC_ID.code(), p.errorCode(), t.topicId() + "-" + p.partitionIndex());
            }
        }
    }

    @Test
    void offsetCommitAndFetchV10AddressTopicsById() throws Exception {
        String group = "v10-" + UUID.randomUUID();
        Uuid unknown = Uuid.randomUuid();
        OffsetCommitRequestData commit = new OffsetCommitRequestData().setGroupId(group).setGenerationIdOrMemberEpoch(-1)
                .setMemberId("");
        commit.topics().add(new OffsetCommitRequestData.OffsetCommitRequestTopic().setTopicId(topicId).setPartitions(List.of(
                new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(0).setCommittedOffset(1L)
                        .setCommittedMetadata("by id"))));
        commit.topics().add(new OffsetCommitRequestData.OffsetCommitRequestTopic().setTopicId(unknown).setPartitions(List.of(
                new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(0).setCommittedOffset(5L))));
        OffsetCommitResponseData committed = exchange(commit, (short) 10, OffsetCommitResponseData::new);
        assertEquals(2, committed.topics().size(), committed.toString());
        for (OffsetCommitResponseData.OffsetCommitResponseTopic t : committed.topics()) {
            short expected = t.topicId().equals(topicId) ? Errors.NONE.code() : Errors.UNKNOWN_TOPIC_ID.code();
            assertEquals(expected, t.partitions().get(0).errorCode(), "commit to " + t.topicId());
        }

        // The Java admin (OffsetFetch by name or id, whatever it negotiates) sees the commit made by id.
        try (Admin admin = Clients.admin(broker)) {
            Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata()
                    .get(20, TimeUnit.SECONDS);
            assertEquals(new OffsetAndMetadata(1L, "by id"), offsets.get(new TopicPartition(topic, 0)), offsets.toString());
        }

        OffsetFetchRequestData fetch = new OffsetFetchRequestData();
        fetch.groups().add(new OffsetFetchRequestData.OffsetFetchRequestGroup().setGroupId(group).setTopics(List.of(
                new OffsetFetchRequestData.OffsetFetchRequestTopics().setTopicId(topicId).setPartitionIndexes(List.of(0)),
                new OffsetFetchRequestData.OffsetFetchRequestTopics().setTopicId(unknown).setPartitionIndexes(List.of(0)))));
        OffsetFetchResponseData fetched = exchange(fetch, (short) 10, OffsetFetchResponseData::new);
        OffsetFetchResponseData.OffsetFetchResponseGroup g = fetched.groups().get(0);
        assertEquals(Errors.NONE.code(), g.errorCode());
        assertEquals(2, g.topics().size(), g.toString());
        for (OffsetFetchResponseData.OffsetFetchResponseTopics t : g.topics()) {
            OffsetFetchResponseData.OffsetFetchResponsePartitions p = t.partitions().get(0);
            if (t.topicId().equals(topicId)) {
                assertEquals(Errors.NONE.code(), p.errorCode());
                assertEquals(1L, p.committedOffset());
                assertEquals("by id", p.metadata());
            } else {
                assertEquals(unknown, t.topicId());
                assertEquals(Errors.UNKNOWN_TOPIC_ID.code(), p.errorCode());
                assertEquals(-1L, p.committedOffset());
            }
        }

        // All offsets of the group (Topics null): reported with the topic's id.
        OffsetFetchRequestData all = new OffsetFetchRequestData();
        all.groups().add(new OffsetFetchRequestData.OffsetFetchRequestGroup().setGroupId(group).setTopics(null));
        OffsetFetchResponseData allFetched = exchange(all, (short) 10, OffsetFetchResponseData::new);
        assertEquals(1, allFetched.groups().get(0).topics().size(), allFetched.toString());
        assertEquals(topicId, allFetched.groups().get(0).topics().get(0).topicId());
    }

    private static ListOffsetsResponseData.ListOffsetsPartitionResponse listOffsets(long timestamp, short version) throws Exception {
        ListOffsetsRequestData request = new ListOffsetsRequestData().setReplicaId(-1).setTimeoutMs(5000);
        request.topics().add(new ListOffsetsRequestData.ListOffsetsTopic().setName(topic).setPartitions(List.of(
                new ListOffsetsRequestData.ListOffsetsPartition().setPartitionIndex(0).setTimestamp(timestamp))));
        return exchange(request, version, ListOffsetsResponseData::new).topics().get(0).partitions().get(0);
    }

    @Test
    void listOffsetsV11AnswersEarliestPendingUploadAsKafkaWithoutTieredStorage() throws Exception {
        ListOffsetsResponseData.ListOffsetsPartitionResponse pending = listOffsets(-6L, (short) 11);
        assertEquals(Errors.NONE.code(), pending.errorCode());
        assertEquals(-1L, pending.offset());
        assertEquals(-1L, pending.timestamp());
        assertEquals(-1, pending.leaderEpoch());
        assertEquals(Errors.UNSUPPORTED_VERSION.code(), listOffsets(-6L, (short) 10).errorCode(), "-6 needs v11");
        ListOffsetsResponseData.ListOffsetsPartitionResponse latest = listOffsets(-1L, (short) 11);
        assertEquals(1L, latest.offset(), "latest after one record");
    }

    @Test
    void describeGroupsV6SaysAGroupDoesNotExistWhereV5SaysDead() throws Exception {
        String group = "absent-" + UUID.randomUUID();
        DescribeGroupsRequestData request = new DescribeGroupsRequestData().setGroups(List.of(group));
        DescribeGroupsResponseData.DescribedGroup v6 = exchange(request, (short) 6, DescribeGroupsResponseData::new).groups().get(0);
        assertEquals(Errors.GROUP_ID_NOT_FOUND.code(), v6.errorCode());
        assertEquals("Group " + group + " not found.", v6.errorMessage());
        assertEquals("Dead", v6.groupState());
        DescribeGroupsResponseData.DescribedGroup v5 = exchange(request, (short) 5, DescribeGroupsResponseData::new).groups().get(0);
        assertEquals(Errors.NONE.code(), v5.errorCode());
        assertEquals("Dead", v5.groupState());
    }

    @Test
    void theJavaAdminListsTransactionsByATransactionalIdPattern() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        List<String> ids = List.of("orders-" + run + "-1", "orders-" + run + "-2", "payments-" + run);
        List<KafkaProducer<String, String>> producers = new java.util.ArrayList<>();
        try (Admin admin = Clients.admin(broker)) {
            for (String id : ids) {
                KafkaProducer<String, String> p = Clients.producer(broker, Map.of("transactional.id", id));
                producers.add(p);
                p.initTransactions();
            }
            // ListTransactions v2 (KIP-1152): the whole id must match the pattern
            java.util.Set<String> listed = new java.util.TreeSet<>();
            admin.listTransactions(new org.apache.kafka.clients.admin.ListTransactionsOptions()
                            .filterOnTransactionalIdPattern("orders-" + run + "-.*"))
                    .all().get(20, TimeUnit.SECONDS).forEach(t -> listed.add(t.transactionalId()));
            assertEquals(new java.util.TreeSet<>(ids.subList(0, 2)), listed);
            java.util.Set<String> partial = new java.util.TreeSet<>();
            admin.listTransactions(new org.apache.kafka.clients.admin.ListTransactionsOptions()
                            .filterOnTransactionalIdPattern("orders"))
                    .all().get(20, TimeUnit.SECONDS).forEach(t -> partial.add(t.transactionalId()));
            assertEquals(java.util.Set.of(), partial, "a pattern matching only a prefix lists nothing");
            java.util.concurrent.ExecutionException bad = org.junit.jupiter.api.Assertions.assertThrows(
                    java.util.concurrent.ExecutionException.class, () -> admin.listTransactions(
                            new org.apache.kafka.clients.admin.ListTransactionsOptions().filterOnTransactionalIdPattern("orders-("))
                            .all().get(20, TimeUnit.SECONDS));
            assertTrue(bad.getCause() instanceof org.apache.kafka.common.errors.InvalidRegularExpression, bad.toString());
        } finally {
            producers.forEach(KafkaProducer::close);
        }
    }

    @Test
    void apiVersionsV5ChecksTheClusterAndNodeTheClientExpects() throws Exception {
        String clusterId;
        try (Admin admin = Clients.admin(broker)) {
            clusterId = admin.describeCluster().clusterId().get(20, TimeUnit.SECONDS);
        }
        short v5 = 5;
        ApiVersionsResponseData same = exchange(versions().setClusterId(clusterId).setNodeId(Broker.NODE_ID), v5,
                ApiVersionsResponseData::new);
        assertEquals(Errors.NONE.code(), same.errorCode());
        assertTrue(same.apiKeys().size() > 30);

        ApiVersionsResponseData otherCluster = exchange(versions().setClusterId("another-cluster").setNodeId(Broker.NODE_ID), v5,
                ApiVersionsResponseData::new);
        assertEquals(Errors.REBOOTSTRAP_REQUIRED.code(), otherCluster.errorCode());
        ApiVersionsResponseData otherNode = exchange(versions().setClusterId(clusterId).setNodeId(Broker.NODE_ID + 7), v5,
                ApiVersionsResponseData::new);
        assertEquals(Errors.REBOOTSTRAP_REQUIRED.code(), otherNode.errorCode());

        ApiVersionsResponseData half = exchange(versions().setClusterId(clusterId), v5, ApiVersionsResponseData::new);
        assertEquals(Errors.INVALID_REQUEST.code(), half.errorCode(), "ClusterId without NodeId");
    }

    private static ApiVersionsRequestData versions() {
        return new ApiVersionsRequestData().setClientSoftwareName("runnel-compat").setClientSoftwareVersion("4.4.0");
    }
}
