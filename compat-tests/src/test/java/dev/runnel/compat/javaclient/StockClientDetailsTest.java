package dev.runnel.compat.javaclient;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.support.Await;
import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.Clients;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.MemberToRemove;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.RemoveMembersFromConsumerGroupOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.errors.GroupNotEmptyException;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Details a stock client's own test suite trips over, each as Kafka answers it: key-less records refused by a
 * compacted topic one by one (record_errors), the authorized operations Kafka reports without an authorizer, and
 * DeleteGroups around static members.
 */
@Tag("java-client")
class StockClientDetailsTest {

    @RegisterExtension
    static final Broker broker = Broker.create();

    @Test
    void aCompactedTopicRefusesTheRecordWithoutAKeyAndTheRestOfItsBatch() throws Exception {
        String topic = Clients.uniqueTopic("compacted-keyless");
        try (Admin admin = Clients.admin(broker)) {
            admin.createTopics(List.of(new NewTopic(topic, Optional.of(1), Optional.of((short) 1))
                    .configs(Map.of("cleanup.policy", "compact")))).all().get(30, TimeUnit.SECONDS);
        }
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        // One batch of three (a long linger, then flush), the middle record without a key.
        try (KafkaProducer<String, String> producer = Clients.producer(broker, Map.of(ProducerConfig.LINGER_MS_CONFIG, 5_000))) {
            Clients.awaitPartitions(producer, topic, 1);
            sent.add(producer.send(new ProducerRecord<>(topic, 0, "a", "1")));
            sent.add(producer.send(new ProducerRecord<>(topic, 0, null, "2")));
            sent.add(producer.send(new ProducerRecord<>(topic, 0, "c", "3")));
            producer.flush();
        }
        ExecutionException keyless = assertThrows(ExecutionException.class, () -> sent.get(1).get(30, TimeUnit.SECONDS));
        assertInstanceOf(InvalidRecordException.class, keyless.getCause(), keyless.toString());
        assertEquals("Compacted topic cannot accept message without key in topic partition " + topic + "-0",
                keyless.getCause().getMessage(), "the record's own error (record_errors, batch index 1)");
        for (int i : new int[] {0, 2}) {
            ExecutionException other = assertThrows(ExecutionException.class, () -> sent.get(i).get(30, TimeUnit.SECONDS));
            // The client's own wording ("one more more invalid records"), a plain KafkaException.
            assertInstanceOf(KafkaException.class, other.getCause(), other.toString());
            assertTrue(other.getCause().getMessage().startsWith("Failed to append record because it was part of a batch which had one"),
                    "record " + i + " fails with its batch: " + other.getCause().getMessage());
        }
        // Nothing was appended: a keyed record afterwards is the partition's first.
        try (KafkaProducer<String, String> producer = Clients.producer(broker)) {
            assertEquals(0L, producer.send(new ProducerRecord<>(topic, 0, "d", "4")).get(30, TimeUnit.SECONDS).offset());
        }
        try (KafkaConsumer<String, String> consumer = Clients.consumer(broker)) {
            consumer.assign(List.of(new TopicPartition(topic, 0)));
            List<ConsumerRecord<String, String>> read = Clients.pollAtLeast(consumer, 1);
            assertEquals(List.of("d"), read.stream().map(ConsumerRecord::key).toList());
        }
    }

    @Test
    void authorizedOperationsAreEveryOperationTheResourceSupportsAsWithoutAnAuthorizer() throws Exception {
        String topic = Clients.uniqueTopic("authorized-ops");
        Clients.createTopic(broker, topic, 1);
        try (Admin admin = Clients.admin(broker)) {
            Set<AclOperation> topicOps = admin.describeTopics(List.of(topic), new DescribeTopicsOptions().includeAuthorizedOperations(true))
                    .allTopicNames().get(30, TimeUnit.SECONDS).get(topic).authorizedOperations();
            assertEquals(EnumSet.of(AclOperation.READ, AclOperation.WRITE, AclOperation.CREATE, AclOperation.DELETE, AclOperation.ALTER,
                    AclOperation.DESCRIBE, AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS), topicOps);
            assertNull(admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic).authorizedOperations(),
                    "not asked, not answered");

            Set<AclOperation> clusterOps = admin.describeCluster(new DescribeClusterOptions().includeAuthorizedOperations(true))
                    .authorizedOperations().get(30, TimeUnit.SECONDS);
            assertEquals(EnumSet.of(AclOperation.CREATE, AclOperation.ALTER, AclOperation.DESCRIBE, AclOperation.CLUSTER_ACTION,
                    AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS, AclOperation.IDEMPOTENT_WRITE), clusterOps);
        }
    }

    @Test
    void deleteGroupsAfterStaticMembersLeft() throws Exception {
        String topic = Clients.uniqueTopic("static-members");
        Clients.createTopic(broker, topic, 2);
        String group = Clients.uniqueTopic("static-group");
        List<KafkaConsumer<String, String>> members = new ArrayList<>();
        for (String instance : List.of("static-1", "static-2")) {
            members.add(Clients.consumer(broker, Map.of(ConsumerConfig.GROUP_ID_CONFIG, group,
                    ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, instance, ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 45_000)));
        }
        for (KafkaConsumer<String, String> member : members) {
            member.subscribe(List.of(topic));
        }
        // each member holds one partition: both joins are complete (two partitions held by the first member alone can
        // be the state before the second member's join finished)
        Await.untilPasses(Clients.TIMEOUT, () -> {
            for (KafkaConsumer<String, String> member : members) {
                member.poll(Duration.ofMillis(100));
            }
            for (KafkaConsumer<String, String> member : members) {
                assertEquals(1, member.assignment().size(), "one partition per static member: " + member.assignment());
            }
        });
        // A static member's close does not leave the group (its session keeps its place), so, as with Kafka, the
        // group is not empty yet.
        for (KafkaConsumer<String, String> member : members) {
            member.close(Duration.ofSeconds(10));
        }
        try (Admin admin = Clients.admin(broker)) {
            ExecutionException notEmpty = assertThrows(ExecutionException.class,
                    () -> admin.deleteConsumerGroups(List.of(group)).all().get(30, TimeUnit.SECONDS));
            assertInstanceOf(GroupNotEmptyException.class, notEmpty.getCause(), notEmpty.toString());

            // The static members leave by their instance ids (LeaveGroup v3+); right after, the group is empty and
            // DeleteGroups removes it.
            admin.removeMembersFromConsumerGroup(group, new RemoveMembersFromConsumerGroupOptions(Set.of(
                    new MemberToRemove("static-1"), new MemberToRemove("static-2")))).all().get(30, TimeUnit.SECONDS);
            admin.deleteConsumerGroups(List.of(group)).all().get(30, TimeUnit.SECONDS);
            ExecutionException gone = assertThrows(ExecutionException.class,
                    () -> admin.deleteConsumerGroups(List.of(group)).all().get(30, TimeUnit.SECONDS));
            assertInstanceOf(GroupIdNotFoundException.class, gone.getCause(), gone.toString());
        }
    }
}
