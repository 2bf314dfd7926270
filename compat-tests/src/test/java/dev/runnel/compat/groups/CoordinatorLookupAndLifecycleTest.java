package dev.runnel.compat.groups;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.support.Await;
import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.Clients;
import dev.runnel.compat.support.RawKafkaConnection;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.TopicListing;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.FindCoordinatorResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * FindCoordinator in every version, the internal __consumer_offsets topic it creates, static members that come
 * back without a rebalance, and offsets that go away with their topic.
 */
class CoordinatorLookupAndLifecycleTest {
    @RegisterExtension
    static final Broker broker = Broker.create();

    private static FindCoordinatorResponseData findCoordinator(FindCoordinatorRequestData request, short version) throws Exception {
        try (RawKafkaConnection c = RawKafkaConnection.open(broker, Duration.ofSeconds(10))) {
            int id = c.send(request, version);
            ByteBuffer body = c.receive(id, ApiKeys.FIND_COORDINATOR, version);
            return new FindCoordinatorResponseData(new ByteBufferAccessor(body), version);
        }
    }

    @Test
    void findCoordinatorAnswersThisNodeForGroupsInEveryVersion() throws Exception {
        for (short v = 0; v <= 3; v++) {
            FindCoordinatorRequestData r = new FindCoordinatorRequestData().setKey("group-" + v);
            FindCoordinatorResponseData resp = findCoordinator(r, v);
            assertEquals(Errors.NONE.code(), resp.errorCode(), "v" + v);
            assertEquals(Broker.NODE_ID, resp.nodeId());
            assertEquals(broker.port(), resp.port());
            assertEquals(broker.host(), resp.host());
        }
        for (short v = 4; v <= 6; v++) {
            FindCoordinatorRequestData r = new FindCoordinatorRequestData().setKeyType((byte) 0)
                    .setCoordinatorKeys(List.of("a", "b", "c"));
            FindCoordinatorResponseData resp = findCoordinator(r, v);
            assertEquals(List.of("a", "b", "c"), resp.coordinators().stream().map(FindCoordinatorResponseData.Coordinator::key).toList());
            for (FindCoordinatorResponseData.Coordinator c : resp.coordinators()) {
                assertEquals(Errors.NONE.code(), c.errorCode());
                assertEquals(Broker.NODE_ID, c.nodeId());
                assertEquals(broker.port(), c.port());
            }
        }
        // A transactional id's coordinator is this node too (the lookup creates __transaction_state); share groups
        // only from v6, and not served.
        FindCoordinatorResponseData txn = findCoordinator(new FindCoordinatorRequestData().setKeyType((byte) 1)
                .setCoordinatorKeys(List.of("my-txn")), (short) 4);
        assertEquals(Errors.NONE.code(), txn.coordinators().get(0).errorCode());
        assertEquals(broker.port(), txn.coordinators().get(0).port());
        FindCoordinatorResponseData shareV5 = findCoordinator(new FindCoordinatorRequestData().setKeyType((byte) 2)
                .setCoordinatorKeys(List.of("g:t:0")), (short) 5);
        assertEquals(Errors.INVALID_REQUEST.code(), shareV5.coordinators().get(0).errorCode());
        FindCoordinatorResponseData txnV0 = findCoordinator(new FindCoordinatorRequestData().setKeyType((byte) 1).setKey("t"), (short) 1);
        assertEquals(Errors.NONE.code(), txnV0.errorCode());
        assertEquals(Broker.NODE_ID, txnV0.nodeId());

        // The lookups created the offsets topic, internal as in Kafka: hidden unless internal topics are asked for.
        try (Admin admin = Clients.admin(broker)) {
            Map<String, TopicListing> all = admin.listTopics(new ListTopicsOptions().listInternal(true)).namesToListings()
                    .get(Clients.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            assertTrue(all.get("__consumer_offsets").isInternal());
            assertTrue(!admin.listTopics().names().get(Clients.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).contains("__consumer_offsets"));
            int partitions = admin.describeTopics(List.of("__consumer_offsets")).allTopicNames()
                    .get(Clients.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).get("__consumer_offsets").partitions().size();
            assertEquals(50, partitions);
            assertTrue(all.get("__transaction_state").isInternal());
            assertEquals(50, admin.describeTopics(List.of("__transaction_state")).allTopicNames()
                    .get(Clients.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).get("__transaction_state").partitions().size());
        }
    }

    @Test
    void aStaticMemberThatRestartsQuicklyKeepsItsPartitionsWithoutARebalance() throws Exception {
        String topic = Clients.uniqueTopic("static");
        String group = "static-" + topic;
        Clients.createTopic(broker, topic, 2);
        Map<String, Object> config = Map.of(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, "pod-0",
                ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 30_000);
        int generation;
        try (KafkaConsumer<String, String> c = GroupClients.groupConsumer(broker, group, "pod-0", config)) {
            c.subscribe(List.of(topic));
            Await.untilPasses(Clients.TIMEOUT, () -> {
                c.poll(Duration.ofMillis(100));
                assertEquals(2, c.assignment().size());
            });
            generation = c.groupMetadata().generationId();
        } // a static member does not leave the group on close
        try (KafkaConsumer<String, String> c = GroupClients.groupConsumer(broker, group, "pod-0", config)) {
            c.subscribe(List.of(topic));
            Await.untilPasses(Clients.TIMEOUT, () -> {
                c.poll(Duration.ofMillis(100));
                assertEquals(2, c.assignment().size());
            });
            assertEquals(generation, c.groupMetadata().generationId(), "same generation: no rebalance");
        }
    }

    @Test
    void deletingATopicDeletesTheOffsetsCommittedForIt() throws Exception {
        String topic = Clients.uniqueTopic("doomed-topic");
        String keep = Clients.uniqueTopic("kept-topic");
        String group = "deleted-topic-group";
        Clients.createTopic(broker, topic, 1);
        Clients.createTopic(broker, keep, 1);
        try (Admin admin = Clients.admin(broker)) {
            admin.alterConsumerGroupOffsets(group, Map.of(new TopicPartition(topic, 0), new OffsetAndMetadata(0),
                    new TopicPartition(keep, 0), new OffsetAndMetadata(0))).all().get(Clients.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            admin.deleteTopics(List.of(topic)).all().get(Clients.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            Await.untilPasses(Clients.TIMEOUT, () -> {
                Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group)
                        .partitionsToOffsetAndMetadata().get(Clients.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                assertEquals(List.of(new TopicPartition(keep, 0)), List.copyOf(offsets.keySet()));
            });
        }
    }
}
