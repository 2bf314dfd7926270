package dev.runnel.compat.javaclient;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.support.Await;
import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.Clients;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.CreateTopicsOptions;
import org.apache.kafka.clients.admin.CreateTopicsResult;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.InvalidPartitionsException;
import org.apache.kafka.common.errors.InvalidReplicationFactorException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * An operator manages topics with the Java AdminClient: create (explicit and broker-default
 * partitions and replication factor, validate-only, impossible replication factor, duplicates),
 * list, describe, grow and (fail to) shrink partitions, delete.
 */
@Tag("java-client")
class AdminTopicsTest {

    /** Not Kafka's default of 1, so a topic created with defaults visibly gets the broker's value. */
    private static final int DEFAULT_PARTITIONS = 2;

    @RegisterExtension
    static final Broker broker = Broker.create().with("num.partitions", Integer.toString(DEFAULT_PARTITIONS));

    private static Admin admin;

    @BeforeAll
    static void connect() {
        System.out.println("[compat] " + Clients.describeVersion());
        admin = Clients.admin(broker);
    }

    @AfterAll
    static void disconnect() {
        if (admin != null) {
            admin.close();
        }
    }

    @Test
    void createWithExplicitPartitionsAndReplicationFactorThenDescribe() throws Exception {
        String topic = Clients.uniqueTopic("explicit");
        CreateTopicsResult result = admin.createTopics(List.of(new NewTopic(topic, 3, (short) 1)));
        result.all().get(20, TimeUnit.SECONDS);
        assertEquals(3, result.numPartitions(topic).get());
        assertEquals(1, result.replicationFactor(topic).get());

        Await.untilPasses(Clients.TIMEOUT, () -> assertTrue(
                admin.listTopics().names().get(20, TimeUnit.SECONDS).contains(topic), "listTopics shows it"));

        TopicDescription description = describeOnceItHas(topic, 3);
        assertEquals(topic, description.name());
        assertFalse(description.isInternal());
        assertEquals(3, description.partitions().size());
        for (int p = 0; p < 3; p++) {
            TopicPartitionInfo info = description.partitions().get(p);
            assertEquals(p, info.partition(), "partitions are described in order");
            assertOnlyReplicaIsThisNode(info);
        }
    }

    @Test
    void createWithBrokerDefaults() throws Exception {
        String topic = Clients.uniqueTopic("defaults");
        // Optional.empty() sends -1 for both, asking the broker for num.partitions and
        // default.replication.factor.
        CreateTopicsResult result = admin.createTopics(List.of(new NewTopic(topic, Optional.empty(), Optional.empty())));
        result.all().get(20, TimeUnit.SECONDS);
        assertEquals(DEFAULT_PARTITIONS, result.numPartitions(topic).get(), "num.partitions from server.properties");
        assertEquals(1, result.replicationFactor(topic).get(), "default.replication.factor is 1");

        TopicDescription description = describeOnceItHas(topic, DEFAULT_PARTITIONS);
        description.partitions().forEach(AdminTopicsTest::assertOnlyReplicaIsThisNode);
    }

    @Test
    void replicationFactorThreeOnOneNodeIsRefused() throws Exception {
        String topic = Clients.uniqueTopic("rf3");
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> admin.createTopics(List.of(new NewTopic(topic, 1, (short) 3))).all().get(20, TimeUnit.SECONDS));
        assertInstanceOf(InvalidReplicationFactorException.class, e.getCause(), e.toString());
        assertFalse(admin.listTopics().names().get(20, TimeUnit.SECONDS).contains(topic), "nothing was created");
    }

    @Test
    void validateOnlyChecksButCreatesNothing() throws Exception {
        String topic = Clients.uniqueTopic("validate");
        CreateTopicsOptions validateOnly = new CreateTopicsOptions().validateOnly(true);
        admin.createTopics(List.of(new NewTopic(topic, 4, (short) 1)), validateOnly).all().get(20, TimeUnit.SECONDS);
        assertFalse(admin.listTopics().names().get(20, TimeUnit.SECONDS).contains(topic),
                "a validate-only create leaves no topic behind");

        ExecutionException e = assertThrows(ExecutionException.class, () -> admin.createTopics(
                List.of(new NewTopic(topic, 1, (short) 3)), validateOnly).all().get(20, TimeUnit.SECONDS));
        assertInstanceOf(InvalidReplicationFactorException.class, e.getCause(), "validation still rejects: " + e);

        // And the real create afterwards works.
        admin.createTopics(List.of(new NewTopic(topic, 4, (short) 1))).all().get(20, TimeUnit.SECONDS);
        describeOnceItHas(topic, 4);
    }

    @Test
    void creatingAnExistingTopicFails() throws Exception {
        String topic = Clients.uniqueTopic("twice");
        admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(20, TimeUnit.SECONDS);
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(20, TimeUnit.SECONDS));
        assertInstanceOf(TopicExistsException.class, e.getCause(), e.toString());
    }

    @Test
    void partitionsGrowButNeverShrink() throws Exception {
        String topic = Clients.uniqueTopic("grow");
        admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1))).all().get(20, TimeUnit.SECONDS);

        admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(5))).all().get(20, TimeUnit.SECONDS);
        TopicDescription grown = describeOnceItHas(topic, 5);
        grown.partitions().forEach(AdminTopicsTest::assertOnlyReplicaIsThisNode);

        // A new partition takes writes.
        try (KafkaProducer<String, String> producer = Clients.producer(broker)) {
            assertEquals(0, producer.send(new ProducerRecord<>(topic, 4, "k", "v")).get(30, TimeUnit.SECONDS).offset());
        }

        ExecutionException shrink = assertThrows(ExecutionException.class, () -> admin.createPartitions(
                Map.of(topic, NewPartitions.increaseTo(3))).all().get(20, TimeUnit.SECONDS));
        assertInstanceOf(InvalidPartitionsException.class, shrink.getCause(), shrink.toString());

        ExecutionException same = assertThrows(ExecutionException.class, () -> admin.createPartitions(
                Map.of(topic, NewPartitions.increaseTo(5))).all().get(20, TimeUnit.SECONDS));
        assertInstanceOf(InvalidPartitionsException.class, same.getCause(), same.toString());

        assertEquals(5, describe(topic).partitions().size(), "still 5 partitions");
    }

    @Test
    void deletedTopicIsGone() throws Exception {
        String topic = Clients.uniqueTopic("delete");
        String survivor = Clients.uniqueTopic("survivor");
        admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1), new NewTopic(survivor, 1, (short) 1)))
                .all().get(20, TimeUnit.SECONDS);
        try (KafkaProducer<String, String> producer = Clients.producer(broker)) {
            producer.send(new ProducerRecord<>(topic, 0, "k", "v")).get(30, TimeUnit.SECONDS);
        }

        admin.deleteTopics(List.of(topic)).all().get(20, TimeUnit.SECONDS);

        // Kafka propagates a deletion to the brokers' metadata asynchronously; allow it a moment.
        Await.untilPasses(Clients.TIMEOUT, () -> {
            Set<String> names = admin.listTopics().names().get(20, TimeUnit.SECONDS);
            assertFalse(names.contains(topic), "deleted topic no longer listed: " + names);
            assertTrue(names.contains(survivor), "other topics stay: " + names);
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> admin.describeTopics(List.of(topic)).allTopicNames().get(20, TimeUnit.SECONDS));
            assertInstanceOf(UnknownTopicOrPartitionException.class, e.getCause(), e.toString());
        });

        ExecutionException again = assertThrows(ExecutionException.class,
                () -> admin.deleteTopics(List.of(topic)).all().get(20, TimeUnit.SECONDS));
        assertInstanceOf(UnknownTopicOrPartitionException.class, again.getCause(), "deleting twice: " + again);
    }

    /**
     * Describes the topic, re-checking until it shows {@code partitions} partitions: Kafka makes a
     * create or a partition change visible to describe/list requests asynchronously.
     */
    private static TopicDescription describeOnceItHas(String topic, int partitions) throws Exception {
        TopicDescription[] seen = new TopicDescription[1];
        Await.untilPasses(Clients.TIMEOUT, () -> {
            seen[0] = describe(topic);
            assertEquals(partitions, seen[0].partitions().size(), "partitions of " + seen[0]);
        });
        return seen[0];
    }

    private static TopicDescription describe(String topic) throws Exception {
        KafkaFuture<Map<String, TopicDescription>> future = admin.describeTopics(List.of(topic)).allTopicNames();
        return future.get(20, TimeUnit.SECONDS).get(topic);
    }

    private static void assertOnlyReplicaIsThisNode(TopicPartitionInfo info) {
        Node leader = info.leader();
        assertEquals(Broker.NODE_ID, leader == null ? -1 : leader.id(), "leader of partition " + info.partition());
        assertEquals(broker.port(), leader.port(), "leader's advertised port");
        assertEquals(List.of(Broker.NODE_ID), info.replicas().stream().map(Node::id).toList(), "replicas");
        assertEquals(List.of(Broker.NODE_ID), info.isr().stream().map(Node::id).toList(), "isr");
    }
}
