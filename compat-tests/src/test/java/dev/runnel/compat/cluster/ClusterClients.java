package dev.runnel.compat.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.runnel.compat.support.Await;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.QuorumInfo;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Stock Java clients pointed at a bootstrap list of cluster nodes, with short timeouts, and the cluster-level
 * questions the tests ask through them (which brokers are registered, who leads the quorum, who leads each
 * partition). Only API present in both kafka-clients 3.9.x and 4.x.
 */
final class ClusterClients {

    /** How long any single client wait may take before a test fails. */
    static final Duration TIMEOUT = Duration.ofSeconds(20);

    private ClusterClients() {
    }

    static Admin admin(String bootstrap) {
        Map<String, Object> config = new HashMap<>();
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) TIMEOUT.toMillis());
        return Admin.create(config);
    }

    /**
     * An admin client for polling while nodes die: short timeouts and back-offs, so a request that went to a dead
     * node fails fast and the next poll tries again.
     */
    static Admin probeAdmin(String bootstrap) {
        Map<String, Object> config = new HashMap<>();
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2_000);
        config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 3_000);
        config.put(AdminClientConfig.RETRY_BACKOFF_MS_CONFIG, 50);
        config.put(AdminClientConfig.RECONNECT_BACKOFF_MS_CONFIG, 50);
        config.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 200);
        config.put(AdminClientConfig.SOCKET_CONNECTION_SETUP_TIMEOUT_MS_CONFIG, 1_000);
        config.put(AdminClientConfig.SOCKET_CONNECTION_SETUP_TIMEOUT_MAX_MS_CONFIG, 1_000);
        return Admin.create(config);
    }

    static KafkaProducer<String, String> producer(String bootstrap, Map<String, Object> overrides) {
        Map<String, Object> config = new HashMap<>();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) TIMEOUT.toMillis());
        config.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) TIMEOUT.toMillis());
        config.putAll(overrides);
        return new KafkaProducer<>(config);
    }

    /** A consumer without a group: assign()/seek() only. */
    static KafkaConsumer<String, String> consumer(String bootstrap, Map<String, Object> overrides) {
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) TIMEOUT.toMillis());
        config.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        config.putAll(overrides);
        return new KafkaConsumer<>(config);
    }

    /** A member of a consumer group (subscribe), manual commits. */
    static KafkaConsumer<String, String> groupConsumer(String bootstrap, String group, String clientId) {
        return consumer(bootstrap, Map.of(
                ConsumerConfig.GROUP_ID_CONFIG, group,
                ConsumerConfig.CLIENT_ID_CONFIG, clientId,
                ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 10_000,
                ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 1_000));
    }

    /** The ids of the brokers a DescribeCluster through {@code admin} lists. */
    static Set<Integer> brokerIds(Admin admin) throws Exception {
        return ids(admin.describeCluster().nodes().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS));
    }

    static Set<Integer> ids(Collection<Node> nodes) {
        return nodes.stream().map(Node::id).collect(Collectors.toCollection(TreeSet::new));
    }

    /** What DescribeCluster through one bootstrap list says: brokers, controller id (-1 if none), cluster id. */
    record ClusterView(Set<Integer> brokers, int controllerId, String clusterId) {
    }

    static ClusterView clusterView(Admin admin) throws Exception {
        DescribeClusterResult r = admin.describeCluster();
        Node controller = r.controller().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        return new ClusterView(ids(r.nodes().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)),
                controller == null || controller.isEmpty() ? -1 : controller.id(),
                r.clusterId().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS));
    }

    /**
     * Waits until DescribeCluster through each given bootstrap server lists exactly {@code expected}; returns the
     * views (all with the same cluster id, which is checked) and prints how long it took.
     */
    static Map<String, ClusterView> awaitBrokers(Collection<String> bootstrapEach, Set<Integer> expected,
                                                 Duration timeout) throws Exception {
        long t0 = System.nanoTime();
        Map<String, ClusterView> views = new TreeMap<>();
        Await.untilPasses(timeout, () -> {
            views.clear();
            for (String bootstrap : bootstrapEach) {
                try (Admin admin = probeAdmin(bootstrap)) {
                    views.put(bootstrap, clusterView(admin));
                }
                assertEquals(new TreeSet<>(expected), views.get(bootstrap).brokers(),
                        "brokers DescribeCluster lists through " + bootstrap + " (all views so far: " + views + ")");
            }
        });
        Set<String> clusterIds = views.values().stream().map(ClusterView::clusterId).collect(Collectors.toSet());
        assertEquals(1, clusterIds.size(), "one cluster id through every node: " + views);
        System.out.printf("[cluster] DescribeCluster lists brokers %s through each of %s after %d ms: %s%n", expected,
                bootstrapEach, (System.nanoTime() - t0) / 1_000_000, views);
        return views;
    }

    /** DescribeQuorum (API 55) through {@code admin}: what kafka-metadata-quorum shows. */
    static QuorumInfo quorum(Admin admin) throws Exception {
        return admin.describeMetadataQuorum().quorumInfo().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    }

    static Set<Integer> voterIds(QuorumInfo quorum) {
        return quorum.voters().stream().map(QuorumInfo.ReplicaState::replicaId).collect(Collectors.toCollection(TreeSet::new));
    }

    static String describeQuorum(QuorumInfo q) {
        return "leader " + q.leaderId() + " epoch " + q.leaderEpoch() + " high watermark " + q.highWatermark()
                + " voters " + q.voters().stream().map(v -> v.replicaId() + "@leo" + v.logEndOffset()).toList()
                + " observers " + q.observers().stream().map(v -> v.replicaId() + "@leo" + v.logEndOffset()).toList();
    }

    /** Waits until the topic is described with {@code partitions} partitions, each with a leader. */
    static TopicDescription awaitTopic(Admin admin, String topic, int partitions) throws Exception {
        TopicDescription[] seen = new TopicDescription[1];
        Await.untilPasses(TIMEOUT, () -> {
            TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames()
                    .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).get(topic);
            assertEquals(partitions, d.partitions().size(), "partitions of " + d);
            for (TopicPartitionInfo p : d.partitions()) {
                if (p.leader() == null || p.leader().isEmpty()) {
                    fail("no leader yet: " + d);
                }
            }
            seen[0] = d;
        });
        return seen[0];
    }

    /** Partition to leader id. */
    static Map<Integer, Integer> leaders(TopicDescription d) {
        Map<Integer, Integer> leaders = new TreeMap<>();
        for (TopicPartitionInfo p : d.partitions()) {
            leaders.put(p.partition(), p.leader() == null || p.leader().isEmpty() ? -1 : p.leader().id());
        }
        return leaders;
    }

    /** Leader id to the number of partitions it leads. */
    static Map<Integer, Integer> leaderCounts(Map<Integer, Integer> leaders) {
        Map<Integer, Integer> counts = new TreeMap<>();
        leaders.values().forEach(l -> counts.merge(l, 1, Integer::sum));
        return counts;
    }

    /**
     * Polls all consumers in turn (one thread) until {@code expected} records arrived in total, or fails after
     * {@code timeout} with what did arrive.
     */
    @SafeVarargs
    static List<ConsumerRecord<String, String>> pollTogether(int expected, Duration timeout,
                                                             KafkaConsumer<String, String>... consumers) {
        List<ConsumerRecord<String, String>> records = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        long maxRounds = timeout.toMillis() / 50 + 10;
        for (long round = 0; records.size() < expected; round++) {
            if (System.nanoTime() - deadline > 0 || round > maxRounds) {
                fail("expected " + expected + " records within " + timeout + " but got " + records.size());
            }
            for (KafkaConsumer<String, String> c : consumers) {
                c.poll(Duration.ofMillis(50)).forEach(records::add);
            }
        }
        return records;
    }

    /** Bytes in the {@code .log} segments of {@code <logDir>/<topic>-<partition>}; -1 if that directory does not exist. */
    static long partitionLogBytes(Path logDir, String topic, int partition) throws IOException {
        Path dir = logDir.resolve(topic + "-" + partition);
        if (!Files.isDirectory(dir)) {
            return -1;
        }
        try (Stream<Path> files = Files.list(dir)) {
            long total = 0;
            for (Path f : files.filter(f -> f.getFileName().toString().endsWith(".log")).toList()) {
                total += Files.size(f);
            }
            return total;
        }
    }
}
