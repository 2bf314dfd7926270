package dev.runnel.compat.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.support.Await;
import dev.runnel.compat.support.Clients;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
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
import org.apache.kafka.common.errors.NotEnoughReplicasException;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Faults a replicated partition must survive without losing an acknowledged record: the ISR too small for
 * min.insync.replicas (writes refused, none acknowledged and lost), a leader paused with SIGSTOP past its session
 * (the "zombie leader": a new leader takes over; the old one, resumed, follows and truncates what was never
 * committed), and a rolling restart with SIGTERM under load (controlled shutdowns; the producer's stall per node is
 * measured). Every loop is bounded in time; the figures are printed.
 */
@Tag("cluster")
class ReplicationFaultsTest {

    @RegisterExtension
    static final ClusterProcesses cluster = ClusterProcesses.builder()
            .with("broker.session.timeout.ms", "3000")
            .with("broker.heartbeat.interval.ms", "500")
            .with("replica.lag.time.max.ms", "3000")
            .with("metrics.port", "0")
            .build();

    /** A gauge of a node's /metrics (its port is in the node's start-up line). */
    private static double metric(int node, String series) throws Exception {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("metrics on port (\\d+)").matcher(cluster.node(node).outputOfThisLife());
        assertTrue(m.find(), "node " + node + " serves /metrics");
        String body = new String(java.net.URI.create("http://127.0.0.1:" + m.group(1) + "/metrics").toURL().openStream().readAllBytes(),
                java.nio.charset.StandardCharsets.UTF_8);
        for (String line : body.split("\n")) {
            if (line.startsWith(series + " ")) {
                return Double.parseDouble(line.substring(series.length() + 1).trim());
            }
        }
        throw new AssertionError(series + " not in /metrics of node " + node);
    }

    private static String createTopic(String prefix, int minIsr) throws Exception {
        String topic = Clients.uniqueTopic(prefix);
        try (Admin admin = ClusterClients.admin(cluster.bootstrapServers())) {
            admin.createTopics(List.of(new NewTopic(topic, Optional.of(1), Optional.of((short) 3))
                    .configs(Map.of("min.insync.replicas", Integer.toString(minIsr))))).all().get(30, TimeUnit.SECONDS);
        }
        // Every broker applies the new topic on its own: wait until each of them describes it.
        for (int node : cluster.nodeIds()) {
            try (Admin admin = ClusterClients.admin(cluster.bootstrap(node))) {
                awaitIsr(admin, topic, 3, Duration.ofSeconds(30));
            }
        }
        return topic;
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

    private static int leaderOf(String topic) throws Exception {
        try (Admin admin = ClusterClients.admin(cluster.bootstrapServers())) {
            return describe(admin, topic).leader().id();
        }
    }

    @Test
    void anIsrBelowMinInsyncReplicasRefusesAcksAllWritesAndLosesNothing() throws Exception {
        String topic = createTopic("min-isr", 3);
        Map<Long, String> acked = new HashMap<>();
        try (KafkaProducer<String, String> producer = ClusterClients.producer(cluster.bootstrapServers(),
                Map.of("enable.idempotence", false, "retries", 0, "request.timeout.ms", 5_000, "delivery.timeout.ms", 10_000,
                        "linger.ms", 0))) {
            RecordMetadata first = producer.send(new ProducerRecord<>(topic, 0, "k", "before")).get(30, TimeUnit.SECONDS);
            acked.put(first.offset(), "before");
            int leader = leaderOf(topic);
            int follower = cluster.nodeIds().stream().filter(id -> id != leader).findFirst().orElseThrow();
            cluster.kill9(follower);
            try (Admin admin = ClusterClients.admin(cluster.bootstrapServersExcept(follower))) {
                long t0 = System.nanoTime();
                awaitIsr(admin, topic, 2, Duration.ofSeconds(30));
                System.out.printf("[replication] MEASURED: follower %d left the ISR %d ms after kill -9%n", follower,
                        (System.nanoTime() - t0) / 1_000_000);
            }
            Await.untilPasses(Duration.ofSeconds(10), () -> assertTrue(metric(leader, "runnel_partitions_under_replicated") >= 1,
                    "the leader reports an under-replicated partition"));
            ExecutionException refused = assertThrows(ExecutionException.class,
                    () -> producer.send(new ProducerRecord<>(topic, 0, "k", "refused")).get(30, TimeUnit.SECONDS));
            assertInstanceOf(NotEnoughReplicasException.class, refused.getCause(), "Kafka's error: " + refused);
            cluster.restart(follower);
            try (Admin admin = ClusterClients.admin(cluster.bootstrapServers())) {
                awaitIsr(admin, topic, 3, Duration.ofSeconds(60));
            }
            RecordMetadata after = producer.send(new ProducerRecord<>(topic, 0, "k", "after")).get(30, TimeUnit.SECONDS);
            acked.put(after.offset(), "after");
        }
        Map<Long, String> read = readAll(topic);
        assertTrue(read.entrySet().containsAll(acked.entrySet()), "acknowledged " + acked + ", read " + read);
        assertTrue(!read.containsValue("refused"), "the refused write was never appended: " + read);
    }

    @Test
    void aPausedLeaderIsReplacedAndAfterResumingItFollowsWithoutLosingAcknowledgedRecords() throws Exception {
        String topic = createTopic("zombie", 2);
        Map<Long, String> acked = new ConcurrentHashMap<>();
        try (KafkaProducer<String, String> producer = ClusterClients.producer(cluster.bootstrapServers(),
                Map.of("request.timeout.ms", 3_000, "delivery.timeout.ms", 60_000, "retry.backoff.ms", 100))) {
            List<Future<RecordMetadata>> sent = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                sent.add(producer.send(new ProducerRecord<>(topic, 0, "k", "a" + i)));
            }
            for (int i = 0; i < sent.size(); i++) {
                acked.put(sent.get(i).get(60, TimeUnit.SECONDS).offset(), "a" + i);
            }
            int leader = leaderOf(topic);
            long pausedAt = System.nanoTime();
            cluster.pause(leader);
            // Writes while the leader is frozen: they are acknowledged only once a new leader has them.
            sent.clear();
            for (int i = 0; i < 100; i++) {
                sent.add(producer.send(new ProducerRecord<>(topic, 0, "k", "b" + i)));
            }
            int newLeader;
            try (Admin admin = ClusterClients.admin(cluster.bootstrapServersExcept(leader))) {
                int[] seen = new int[1];
                Await.untilPasses(Duration.ofSeconds(30), () -> {
                    TopicPartitionInfo p = describe(admin, topic);
                    assertTrue(p.leader() != null && p.leader().id() >= 0 && p.leader().id() != leader, "a new leader: " + p);
                    seen[0] = p.leader().id();
                });
                newLeader = seen[0];
            }
            System.out.printf("[replication] MEASURED: leader %d paused; node %d leads %d ms later%n", leader, newLeader,
                    (System.nanoTime() - pausedAt) / 1_000_000);
            cluster.resume(leader);
            for (int i = 0; i < sent.size(); i++) {
                acked.put(sent.get(i).get(60, TimeUnit.SECONDS).offset(), "b" + i);
            }
            try (Admin admin = ClusterClients.admin(cluster.bootstrapServers())) {
                long t0 = System.nanoTime();
                awaitIsr(admin, topic, 3, Duration.ofSeconds(60));
                System.out.printf("[replication] MEASURED: the resumed node %d is back in the ISR %d ms after SIGCONT%n", leader,
                        (System.nanoTime() - t0) / 1_000_000);
            }
        }
        Map<Long, String> read = readAll(topic);
        long lost = acked.entrySet().stream().filter(e -> !e.getValue().equals(read.get(e.getKey()))).count();
        System.out.printf("[replication] MEASURED zombie leader: %d acknowledged, %d read, %d lost%n", acked.size(), read.size(), lost);
        assertEquals(0, lost, "acknowledged records lost or moved");
        assertEquals(read.size(), new java.util.HashSet<>(read.values()).size(), "no duplicates: " + read);
    }

    @Test
    void aRollingRestartUnderLoadLosesNothing() throws Exception {
        String topic = createTopic("rolling", 2);
        Map<Long, String> acked = new ConcurrentHashMap<>();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong lastAckNanos = new AtomicLong(System.nanoTime());
        AtomicLong longestStallMs = new AtomicLong();
        Thread load;
        try (KafkaProducer<String, String> producer = ClusterClients.producer(cluster.bootstrapServers(),
                Map.of("request.timeout.ms", 5_000, "delivery.timeout.ms", 120_000, "retry.backoff.ms", 50, "linger.ms", 1))) {
            load = new Thread(() -> {
                int i = 0;
                long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
                while (!stop.get() && System.nanoTime() < deadline) {
                    String v = "r" + i++;
                    try {
                        RecordMetadata m = producer.send(new ProducerRecord<>(topic, 0, "k", v)).get(120, TimeUnit.SECONDS);
                        long now = System.nanoTime();
                        longestStallMs.accumulateAndGet((now - lastAckNanos.getAndSet(now)) / 1_000_000, Math::max);
                        acked.put(m.offset(), v);
                    } catch (Exception e) {
                        // not acknowledged: allowed to be missing
                    }
                }
            }, "rolling-restart-load");
            load.start();
            for (int node : cluster.nodeIds()) {
                Await.untilPasses(Duration.ofSeconds(30), () -> assertTrue(acked.size() > 50, "load running"));
                longestStallMs.set(0);
                int ackedBefore = acked.size();
                cluster.terminate(node);
                cluster.restart(node);
                try (Admin admin = ClusterClients.admin(cluster.bootstrapServers())) {
                    awaitIsr(admin, topic, 3, Duration.ofSeconds(60));
                }
                System.out.printf("[replication] MEASURED rolling restart of node %d: longest producer stall %d ms, %d writes "
                        + "acknowledged meanwhile%n", node, longestStallMs.get(), acked.size() - ackedBefore);
            }
            stop.set(true);
            load.join(TimeUnit.MINUTES.toMillis(3));
        }
        Map<Long, String> read = readAll(topic);
        long lost = acked.entrySet().stream().filter(e -> !e.getValue().equals(read.get(e.getKey()))).count();
        System.out.printf("[replication] MEASURED rolling restart: %d acknowledged, %d read, %d lost%n", acked.size(), read.size(), lost);
        assertEquals(0, lost, "acknowledged records lost or moved");
    }

    @Test
    void killingTheActiveControllerThatAlsoLeadsThePartitionLosesNothing() throws Exception {
        int controller;
        try (Admin admin = ClusterClients.admin(cluster.bootstrapServers())) {
            controller = ClusterClients.quorum(admin).leaderId();
        }
        // The partition's preferred (first) replica is the active controller's broker: it leads the partition.
        List<Integer> replicas = new ArrayList<>(List.of(controller));
        cluster.nodeIds().stream().filter(id -> id != controller).forEach(replicas::add);
        String topic = Clients.uniqueTopic("both");
        try (Admin admin = ClusterClients.admin(cluster.bootstrapServers())) {
            admin.createTopics(List.of(new NewTopic(topic, Map.of(0, replicas)).configs(Map.of("min.insync.replicas", "2"))))
                    .all().get(30, TimeUnit.SECONDS);
        }
        for (int node : cluster.nodeIds()) {
            try (Admin admin = ClusterClients.admin(cluster.bootstrap(node))) {
                awaitIsr(admin, topic, 3, Duration.ofSeconds(30));
            }
        }
        assertEquals(controller, leaderOf(topic), "the controller's broker leads the partition");
        Map<Long, String> acked = new ConcurrentHashMap<>();
        try (KafkaProducer<String, String> producer = ClusterClients.producer(cluster.bootstrapServers(),
                Map.of("request.timeout.ms", 3_000, "delivery.timeout.ms", 60_000, "retry.backoff.ms", 100))) {
            List<Future<RecordMetadata>> sent = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                sent.add(producer.send(new ProducerRecord<>(topic, 0, "k", "c" + i)));
                if (i == 150) {
                    cluster.kill9(controller);
                }
            }
            long t0 = System.nanoTime();
            for (int i = 0; i < sent.size(); i++) {
                acked.put(sent.get(i).get(60, TimeUnit.SECONDS).offset(), "c" + i);
            }
            try (Admin admin = ClusterClients.admin(cluster.bootstrapServersExcept(controller))) {
                int newController = ClusterClients.quorum(admin).leaderId();
                System.out.printf("[replication] MEASURED: node %d (active controller and partition leader) killed; node %d is "
                        + "the controller, node %d leads; the last in-flight write acknowledged %d ms after%n", controller,
                        newController, describe(admin, topic).leader().id(), (System.nanoTime() - t0) / 1_000_000);
                assertTrue(newController != controller, "a new controller");
            }
            cluster.restart(controller);
            try (Admin admin = ClusterClients.admin(cluster.bootstrapServers())) {
                awaitIsr(admin, topic, 3, Duration.ofSeconds(60));
            }
        }
        Map<Long, String> read = readAll(topic);
        long lost = acked.entrySet().stream().filter(e -> !e.getValue().equals(read.get(e.getKey()))).count();
        System.out.printf("[replication] MEASURED controller+leader kill: %d acknowledged, %d read, %d lost%n", acked.size(), read.size(), lost);
        assertEquals(0, lost, "acknowledged records lost or moved");
    }

    private static Map<Long, String> readAll(String topic) throws Exception {
        Map<Long, String> out = new HashMap<>();
        try (KafkaConsumer<String, String> consumer = ClusterClients.consumer(cluster.bootstrapServers(), Map.of())) {
            TopicPartition tp = new TopicPartition(topic, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long end = consumer.endOffsets(List.of(tp)).get(tp);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (consumer.position(tp) < end && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    out.put(r.offset(), r.value());
                }
            }
        }
        return out;
    }
}
