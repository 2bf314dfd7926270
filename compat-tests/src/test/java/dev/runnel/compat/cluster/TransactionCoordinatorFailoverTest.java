package dev.runnel.compat.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.support.Await;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Three broker processes, {@code __transaction_state} with three replicas: a transactional producer writes one record
 * to each of three partitions (led by different brokers) per transaction while the broker that coordinates its
 * transactional id is killed with {@code kill -9}. Another broker leads the id's {@code __transaction_state}
 * partition, replays it and finishes or aborts the interrupted transaction; the producer (re-created with the same
 * transactional id when the client gives up, as an exactly-once application does) goes on. Afterwards read_committed
 * sees every transaction in all three partitions or in none, and every acknowledged commit.
 */
@Tag("cluster")
class TransactionCoordinatorFailoverTest {
    private static final String TXN_ID = "failover-tx";

    @RegisterExtension
    static final ClusterProcesses cluster = ClusterProcesses.builder()
            .with("transaction.state.log.replication.factor", "3")
            .with("transaction.state.log.num.partitions", "6")
            .with("offsets.topic.replication.factor", "3")
            .with("broker.session.timeout.ms", "3000")
            .with("broker.heartbeat.interval.ms", "500")
            .with("replica.lag.time.max.ms", "3000")
            .build();

    @Test
    void transactionsGoOnWhenTheCoordinatorsBrokerIsKilled() throws Exception {
        String topic = "txn-failover";
        try (Admin admin = ClusterClients.admin(cluster.bootstrapServers())) {
            admin.createTopics(List.of(new NewTopic(topic, Optional.of(3), Optional.of((short) 3))
                    .configs(Map.of("min.insync.replicas", "2")))).all().get(30, TimeUnit.SECONDS);
        }
        List<String> acknowledged = Collections.synchronizedList(new ArrayList<>());
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong lastCommitNanos = new AtomicLong();
        int[] producersCreated = new int[1];
        Thread writer = new Thread(() -> {
            int i = 0;
            while (!stop.get()) {
                KafkaProducer<String, String> p = ClusterClients.producer(cluster.bootstrapServers(), Map.of(
                        ProducerConfig.TRANSACTIONAL_ID_CONFIG, TXN_ID, ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 10_000));
                producersCreated[0]++;
                try {
                    p.initTransactions();
                    while (!stop.get()) {
                        p.beginTransaction();
                        for (int part = 0; part < 3; part++) {
                            p.send(new ProducerRecord<>(topic, part, "t" + i, "t" + i));
                        }
                        p.commitTransaction();
                        acknowledged.add("t" + i);
                        lastCommitNanos.set(System.nanoTime());
                        i++;
                    }
                } catch (RuntimeException e) {
                    // the coordinator or a leader went away under this producer: start over with the same id
                    i++;
                } finally {
                    p.close(Duration.ZERO);
                }
            }
        }, "txn-failover-writer");
        cluster.printingTailsOnFailure(() -> {
            writer.start();
            try {
                Await.untilPasses(Duration.ofSeconds(60), () -> assertTrue(acknowledged.size() >= 20, "commits: " + acknowledged.size()));
                int coordinator;
                try (Admin admin = ClusterClients.admin(cluster.bootstrapServers())) {
                    coordinator = admin.describeTransactions(List.of(TXN_ID)).description(TXN_ID).get(10, TimeUnit.SECONDS).coordinatorId();
                }
                int atKill = acknowledged.size();
                long killedAt = System.nanoTime();
                cluster.kill9(coordinator);
                Await.untilPasses(Duration.ofSeconds(90), () -> assertTrue(acknowledged.size() >= atKill + 20,
                        "commits after the kill: " + (acknowledged.size() - atKill)));
                stop.set(true);
                writer.join(TimeUnit.SECONDS.toMillis(60));
                assertTrue(!writer.isAlive(), "the writer stopped");
                String survivors = cluster.bootstrapServersExcept(coordinator);
                int newCoordinator;
                try (Admin admin = ClusterClients.admin(survivors)) {
                    newCoordinator = admin.describeTransactions(List.of(TXN_ID)).description(TXN_ID).get(10, TimeUnit.SECONDS)
                            .coordinatorId();
                }
                assertTrue(newCoordinator != coordinator, "a new coordinator");
                // settle whatever the last producer left: a new producer's initTransactions completes or aborts it
                try (KafkaProducer<String, String> p = ClusterClients.producer(survivors, Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG, TXN_ID))) {
                    p.initTransactions();
                }
                List<Set<String>> perPartition = new ArrayList<>();
                for (int part = 0; part < 3; part++) {
                    perPartition.add(readCommitted(survivors, new TopicPartition(topic, part)));
                }
                assertEquals(perPartition.get(0), perPartition.get(1), "every transaction in all partitions or none");
                assertEquals(perPartition.get(0), perPartition.get(2), "every transaction in all partitions or none");
                List<String> missing = new ArrayList<>(acknowledged);
                missing.removeAll(perPartition.get(0));
                assertEquals(List.of(), missing, "acknowledged commits that are not visible");
                System.out.printf("[replication] MEASURED transaction coordinator failover: broker %d killed, broker %d coordinates; "
                                + "%d commits before the kill, %d after (%d producers), the 20th commit after the kill %d ms after it, "
                                + "%d transactions visible to read_committed%n", coordinator, newCoordinator, atKill,
                        acknowledged.size() - atKill, producersCreated[0], (lastCommitNanos.get() - killedAt) / 1_000_000,
                        perPartition.get(0).size());
            } finally {
                stop.set(true);
                writer.join(TimeUnit.SECONDS.toMillis(60));
            }
        });
    }

    private static Set<String> readCommitted(String bootstrap, TopicPartition tp) {
        Set<String> values = new TreeSet<>();
        try (KafkaConsumer<String, String> c = ClusterClients.consumer(bootstrap, Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"))) {
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            long end = c.endOffsets(List.of(tp)).get(tp);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (c.position(tp) < end) {
                assertTrue(System.nanoTime() < deadline, "read_committed reached " + c.position(tp) + " of " + end + " in " + tp);
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                    assertTrue(values.add(r.value()), "no record twice in " + tp + ": " + r.value());
                }
            }
        }
        return values;
    }
}
