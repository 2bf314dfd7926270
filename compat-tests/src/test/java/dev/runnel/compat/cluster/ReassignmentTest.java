package dev.runnel.compat.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.support.Await;
import dev.runnel.compat.support.ChildProcess;
import dev.runnel.compat.support.ChildProcess.Result;
import dev.runnel.compat.support.Clients;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code kafka-reassign-partitions} moves a partition's replicas from brokers 1 and 2 to brokers 2 and 3 while it
 * holds data: the new replica catches up, joins the ISR, the old one leaves, the leadership moves off broker 1, and
 * every record is still there, now also in broker 3's log.
 */
@Tag("cluster")
class ReassignmentTest {

    @RegisterExtension
    static final ClusterProcesses cluster = ClusterProcesses.threeNodes();

    @Test
    void kafkaReassignPartitionsMovesAReplicaWithItsData() throws Exception {
        String topic = Clients.uniqueTopic("moved");
        try (Admin admin = ClusterClients.admin(cluster.bootstrapServers())) {
            admin.createTopics(List.of(new NewTopic(topic, Map.of(0, List.of(1, 2))))).all().get(30, TimeUnit.SECONDS);
            Await.untilPasses(Duration.ofSeconds(30), () -> assertEquals(2, partition(admin, topic).isr().size()));
        }
        try (KafkaProducer<String, String> producer = ClusterClients.producer(cluster.bootstrapServers(), Map.of())) {
            for (int i = 0; i < 100; i++) {
                producer.send(new ProducerRecord<>(topic, 0, "k", "m" + i)).get(30, TimeUnit.SECONDS);
            }
        }
        Path plan = Files.createTempFile("reassign-", ".json");
        Files.writeString(plan, "{\"version\":1,\"partitions\":[{\"topic\":\"" + topic + "\",\"partition\":0,\"replicas\":[2,3]}]}");
        Result started = ChildProcess.kafkaTool("org.apache.kafka.tools.reassign.ReassignPartitionsCommand", null,
                "--bootstrap-server", cluster.bootstrapServers(), "--reassignment-json-file", plan.toString(), "--execute")
                .assertExitCode(0);
        System.out.println("[cluster] kafka-reassign-partitions --execute:\n" + started.stdout());
        assertTrue(started.stdout().contains("Successfully started partition reassignment"), started.describe());
        long t0 = System.nanoTime();
        Await.untilPasses(Duration.ofSeconds(60), () -> {
            Result verify = ChildProcess.kafkaTool("org.apache.kafka.tools.reassign.ReassignPartitionsCommand", null,
                    "--bootstrap-server", cluster.bootstrapServers(), "--reassignment-json-file", plan.toString(), "--verify");
            assertEquals(0, verify.exitCode(), verify.describe());
            assertTrue(verify.stdout().contains("Reassignment of partition " + topic + "-0 is completed"), verify.describe());
        });
        System.out.printf("[cluster] MEASURED: reassignment of %s-0 verified complete %d ms after --execute%n", topic,
                (System.nanoTime() - t0) / 1_000_000);
        try (Admin admin = ClusterClients.admin(cluster.bootstrapServers())) {
            Await.untilPasses(Duration.ofSeconds(30), () -> {
                TopicPartitionInfo p = partition(admin, topic);
                assertEquals(List.of(2, 3), p.replicas().stream().map(Node::id).toList(), "replicas: " + p);
                assertEquals(List.of(2, 3), p.isr().stream().map(Node::id).sorted().toList(), "ISR: " + p);
                assertTrue(p.leader().id() == 2 || p.leader().id() == 3, "led by a new replica: " + p);
            });
        }
        List<String> read = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = ClusterClients.consumer(cluster.bootstrapServers(), Map.of())) {
            TopicPartition tp = new TopicPartition(topic, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (read.size() < 100 && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    read.add(r.value());
                }
            }
        }
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            expected.add("m" + i);
        }
        assertEquals(expected, read, "every record, in order, after the move");
        assertTrue(ClusterClients.partitionLogBytes(cluster.node(3).logDir(), topic, 0) > 0, "broker 3 now holds the data");
    }

    private static TopicPartitionInfo partition(Admin admin, String topic) throws Exception {
        return admin.describeTopics(List.of(topic)).allTopicNames().get(10, TimeUnit.SECONDS).get(topic).partitions().get(0);
    }
}
