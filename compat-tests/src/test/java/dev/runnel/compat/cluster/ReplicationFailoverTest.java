package dev.runnel.compat.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.support.Await;
import dev.runnel.compat.support.Clients;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Replication factor 3: an idempotent acks=all producer writes while the partition's leader is killed with
 * {@code kill -9}; a follower from the ISR takes over, the producer goes on, and every acknowledged record is read
 * back exactly once, in order, at the offset it was acknowledged with. The killed broker returns, catches up as a
 * follower and rejoins the ISR. Rounds and time are bounded; the figures are printed.
 */
@Tag("cluster")
class ReplicationFailoverTest {
    private static final int ROUNDS = Integer.getInteger("runnel.replication.rounds", 2);
    private static final int RECORDS_PER_PHASE = 200;

    @RegisterExtension
    static final ClusterProcesses cluster = ClusterProcesses.builder()
            .with("broker.session.timeout.ms", "3000")
            .with("broker.heartbeat.interval.ms", "500")
            .with("replica.lag.time.max.ms", "4000")
            .build();

    @Test
    void killingTheLeaderLosesNoAcknowledgedRecord() throws Exception {
        String topic = Clients.uniqueTopic("replicated");
        try (Admin admin = ClusterClients.admin(cluster.bootstrapServers())) {
            admin.createTopics(List.of(new NewTopic(topic, Optional.of(1), Optional.of((short) 3))
                    .configs(Map.of("min.insync.replicas", "2")))).all().get(30, TimeUnit.SECONDS);
            awaitIsr(admin, topic, 3, Duration.ofSeconds(30));
        }
        Map<Long, String> acknowledged = new HashMap<>();
        int written = 0;
        try (KafkaProducer<String, String> producer = ClusterClients.producer(cluster.bootstrapServers(), Map.of(
                "delivery.timeout.ms", 60_000, "request.timeout.ms", 5_000, "retry.backoff.ms", 100))) {
            for (int round = 0; round < ROUNDS; round++) {
                written = produce(producer, topic, written, acknowledged);
                int leader;
                try (Admin admin = ClusterClients.admin(cluster.bootstrapServers())) {
                    leader = describe(admin, topic).leader().id();
                }
                // kill -9 the leader with writes in flight.
                List<Future<RecordMetadata>> inFlight = new ArrayList<>();
                for (int i = 0; i < 50; i++) {
                    String v = "v" + (written + i);
                    inFlight.add(producer.send(new ProducerRecord<>(topic, 0, "k", v)));
                }
                long killedAt = System.nanoTime();
                cluster.kill9(leader);
                int newLeader;
                try (Admin admin = ClusterClients.admin(cluster.bootstrapServersExcept(leader))) {
                    int[] seen = new int[1];
                    Await.untilPasses(Duration.ofSeconds(30), () -> {
                        TopicPartitionInfo p = describe(admin, topic);
                        assertTrue(p.leader() != null && p.leader().id() != leader && p.leader().id() >= 0,
                                "a new leader from the ISR: " + p);
                        seen[0] = p.leader().id();
                    });
                    newLeader = seen[0];
                }
                for (int i = 0; i < inFlight.size(); i++) {
                    RecordMetadata m = inFlight.get(i).get(60, TimeUnit.SECONDS);
                    acknowledged.put(m.offset(), "v" + (written + i));
                }
                written += inFlight.size();
                long firstAckAfterKill = System.nanoTime();
                written = produce(producer, topic, written, acknowledged);
                System.out.printf("[replication] MEASURED round %d: leader %d killed; new leader %d; in-flight writes "
                                + "acknowledged %d ms after the kill%n", round, leader, newLeader,
                        (firstAckAfterKill - killedAt) / 1_000_000);
                cluster.restart(leader);
                try (Admin admin = ClusterClients.admin(cluster.bootstrapServers())) {
                    long t0 = System.nanoTime();
                    awaitIsr(admin, topic, 3, Duration.ofSeconds(60));
                    System.out.printf("[replication] MEASURED round %d: node %d back in the ISR %d ms after its restart%n",
                            round, leader, (System.nanoTime() - t0) / 1_000_000);
                }
            }
        }
        // Everything acknowledged is there, once, in order, at its offset.
        List<ConsumerRecord<String, String>> read = readAll(topic);
        Map<Long, String> byOffset = new HashMap<>();
        Set<String> values = new TreeSet<>();
        int duplicates = 0;
        for (ConsumerRecord<String, String> r : read) {
            byOffset.put(r.offset(), r.value());
            if (!values.add(r.value())) {
                duplicates++;
            }
        }
        int lost = 0;
        for (Map.Entry<Long, String> e : acknowledged.entrySet()) {
            if (!e.getValue().equals(byOffset.get(e.getKey()))) {
                lost++;
            }
        }
        System.out.printf("[replication] MEASURED %d rounds: %d acknowledged, %d read, %d lost, %d duplicated%n",
                ROUNDS, acknowledged.size(), read.size(), lost, duplicates);
        assertEquals(0, lost, "acknowledged records missing or moved");
        assertEquals(0, duplicates, "idempotent producer: no duplicates");
        // Every replica checkpoints its high watermark in Kafka's replication-offset-checkpoint.
        long committed = read.size();
        for (int node : cluster.nodeIds()) {
            java.nio.file.Path file = cluster.node(node).logDir().resolve("replication-offset-checkpoint");
            Await.untilPasses(Duration.ofSeconds(20), () -> {
                List<String> lines = java.nio.file.Files.readAllLines(file);
                assertEquals("0", lines.get(0), "version line of " + file);
                assertTrue(lines.contains(topic + " 0 " + committed), "node " + node + " checkpoints " + topic + "-0 at "
                        + committed + ": " + lines);
            });
        }
    }

    private static int produce(KafkaProducer<String, String> producer, String topic, int from, Map<Long, String> acknowledged)
            throws Exception {
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        for (int i = 0; i < RECORDS_PER_PHASE; i++) {
            sent.add(producer.send(new ProducerRecord<>(topic, 0, "k", "v" + (from + i))));
        }
        for (int i = 0; i < sent.size(); i++) {
            RecordMetadata m = sent.get(i).get(60, TimeUnit.SECONDS);
            acknowledged.put(m.offset(), "v" + (from + i));
        }
        return from + RECORDS_PER_PHASE;
    }

    private static TopicPartitionInfo describe(Admin admin, String topic) throws Exception {
        TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get(10, TimeUnit.SECONDS).get(topic);
        return d.partitions().get(0);
    }

    private static void awaitIsr(Admin admin, String topic, int size, Duration timeout) throws Exception {
        Await.untilPasses(timeout, () -> {
            TopicPartitionInfo p = describe(admin, topic);
            assertEquals(size, p.isr().size(), "ISR of " + topic + "-0: " + p);
            assertTrue(p.leader() != null && p.leader().id() >= 0, "a leader: " + p);
        });
    }

    private static List<ConsumerRecord<String, String>> readAll(String topic) throws Exception {
        List<ConsumerRecord<String, String>> out = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = ClusterClients.consumer(cluster.bootstrapServers(), Map.of())) {
            TopicPartition tp = new TopicPartition(topic, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long end = consumer.endOffsets(List.of(tp)).get(tp);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (consumer.position(tp) < end && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(500)).forEach(out::add);
            }
        }
        return out;
    }

}
