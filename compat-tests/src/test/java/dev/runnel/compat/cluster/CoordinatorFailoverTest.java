package dev.runnel.compat.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.support.Await;
import dev.runnel.compat.support.Clients;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A consumer group of three members keeps reading while the broker that coordinates it is killed with
 * {@code kill -9}: {@code __consumer_offsets} has three replicas, so another broker leads the group's offsets
 * partition, loads the group and its committed offsets, and the members find it. Every record is read (no gap);
 * records after the last commit may be read twice (at least once), and the test prints how many.
 */
@Tag("cluster")
class CoordinatorFailoverTest {
    private static final int RECORDS = 600;

    @RegisterExtension
    static final ClusterProcesses cluster = ClusterProcesses.builder()
            .with("offsets.topic.replication.factor", "3")
            .with("offsets.topic.num.partitions", "6")
            .with("broker.session.timeout.ms", "3000")
            .with("broker.heartbeat.interval.ms", "500")
            .with("replica.lag.time.max.ms", "3000")
            .build();

    @Test
    void aGroupKeepsReadingWhenItsCoordinatorsBrokerIsKilled() throws Exception {
        String topic = Clients.uniqueTopic("coord");
        String group = "group-" + topic;
        try (Admin admin = ClusterClients.admin(cluster.bootstrapServers())) {
            admin.createTopics(List.of(new NewTopic(topic, Optional.of(6), Optional.of((short) 3))
                    .configs(Map.of("min.insync.replicas", "2")))).all().get(30, TimeUnit.SECONDS);
        }
        try (KafkaProducer<String, String> producer = ClusterClients.producer(cluster.bootstrapServers(), Map.of())) {
            List<java.util.concurrent.Future<?>> sent = new ArrayList<>();
            for (int i = 0; i < RECORDS; i++) {
                sent.add(producer.send(new ProducerRecord<>(topic, "k" + i, "v" + i)));
            }
            for (java.util.concurrent.Future<?> f : sent) {
                f.get(60, TimeUnit.SECONDS);
            }
        }
        Map<String, Integer> seen = new HashMap<>();
        List<KafkaConsumer<String, String>> members = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                KafkaConsumer<String, String> c = ClusterClients.consumer(cluster.bootstrapServers(), Map.of(
                        "group.id", group, "client.id", group + "-" + i, "max.poll.records", 20,
                        "session.timeout.ms", 10_000, "heartbeat.interval.ms", 1_000));
                c.subscribe(List.of(topic));
                members.add(c);
            }
            // Read (and commit) about half, then kill the coordinator's broker.
            pollAndCommit(members, seen, RECORDS / 2, Duration.ofSeconds(60));
            int coordinator;
            try (Admin admin = ClusterClients.admin(cluster.bootstrapServers())) {
                ConsumerGroupDescription d = admin.describeConsumerGroups(List.of(group)).all().get(30, TimeUnit.SECONDS).get(group);
                coordinator = d.coordinator().id();
            }
            long killedAt = System.nanoTime();
            cluster.kill9(coordinator);
            System.out.printf("[replication] coordinator broker %d killed after %d distinct records%n", coordinator, seen.size());
            pollAndCommit(members, seen, RECORDS, Duration.ofSeconds(90));
            int newCoordinator;
            try (Admin admin = ClusterClients.admin(cluster.bootstrapServersExcept(coordinator))) {
                int[] c = new int[1];
                Await.untilPasses(Duration.ofSeconds(30), () -> {
                    ConsumerGroupDescription d = admin.describeConsumerGroups(List.of(group)).all().get(10, TimeUnit.SECONDS).get(group);
                    assertTrue(d.coordinator().id() != coordinator && d.coordinator().id() >= 0, "a new coordinator: " + d);
                    c[0] = d.coordinator().id();
                });
                newCoordinator = c[0];
            }
            int duplicates = seen.values().stream().mapToInt(n -> n - 1).sum();
            System.out.printf("[replication] MEASURED coordinator failover: broker %d killed, broker %d coordinates; all %d records "
                            + "read %d ms after the kill, %d read twice (at least once)%n", coordinator, newCoordinator, RECORDS,
                    (System.nanoTime() - killedAt) / 1_000_000, duplicates);
            Set<String> expected = new HashSet<>();
            for (int i = 0; i < RECORDS; i++) {
                expected.add("v" + i);
            }
            assertEquals(expected, seen.keySet(), "every record read at least once");
        } finally {
            for (KafkaConsumer<String, String> c : members) {
                try {
                    c.close(Duration.ofSeconds(5));
                } catch (RuntimeException e) {
                    // a member whose coordinator is gone may fail to leave cleanly
                }
            }
        }
    }

    /** Polls the members in turn, committing after each poll, until {@code distinct} different records were seen. */
    private static void pollAndCommit(List<KafkaConsumer<String, String>> members, Map<String, Integer> seen, int distinct,
                                      Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (seen.size() < distinct) {
            assertTrue(System.nanoTime() < deadline, "only " + seen.size() + " of " + distinct + " records within " + timeout);
            for (KafkaConsumer<String, String> c : members) {
                boolean got = false;
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(100))) {
                    seen.merge(r.value(), 1, Integer::sum);
                    got = true;
                }
                if (got) {
                    try {
                        c.commitSync(Duration.ofSeconds(5));
                    } catch (RuntimeException e) {
                        // a rebalance or a moving coordinator: the records are read again later (at least once)
                    }
                }
            }
        }
    }
}
