package dev.runnel.compat.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.cluster.KafkaTools.QuorumStatus;
import dev.runnel.compat.cluster.KafkaTools.TopicDescribe;
import dev.runnel.compat.support.Await;
import dev.runnel.compat.support.ChildProcess.Result;
import dev.runnel.compat.support.Clients;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.QuorumInfo;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two {@code broker,controller} nodes (the voters) and one {@code process.roles=broker} node (not a voter, same
 * {@code controller.quorum.voters}, no CONTROLLER listener): all three are brokers of one cluster, a new topic's
 * leaders include the broker-only node, and clients that only know the broker-only node work.
 */
@Tag("cluster")
class MixedRolesTest {

    private static final int BROKER_ONLY = 3;
    private static final Set<Integer> ALL = Set.of(1, 2, 3);
    private static final Set<Integer> VOTERS = Set.of(1, 2);

    @RegisterExtension
    static final ClusterProcesses cluster = ClusterProcesses.builder()
            .roles(ClusterProcesses.COMBINED, ClusterProcesses.COMBINED, ClusterProcesses.BROKER).build();

    @Test
    void twoVotersAndABrokerOnlyNodeAreThreeBrokersAndTheBrokerOnlyNodeServesClients() throws Exception {
        assertEquals(VOTERS, cluster.voterIds(), "the harness's voters");
        assertFalse(cluster.node(BROKER_ONLY).config().getProperty("listeners").contains("CONTROLLER"),
                "no CONTROLLER listener on the broker-only node");
        List<String> eachNode = cluster.nodes().stream().map(ClusterProcesses.Node::bootstrap).toList();
        ClusterClients.awaitBrokers(eachNode, ALL, Duration.ofSeconds(30));

        // The quorum is the two voters; the broker-only node is not one of them.
        try (Admin admin = ClusterClients.admin(cluster.bootstrap(BROKER_ONLY))) {
            QuorumInfo[] q = new QuorumInfo[1];
            Await.untilPasses(Duration.ofSeconds(20), () -> {
                q[0] = ClusterClients.quorum(admin);
                assertTrue(VOTERS.contains(q[0].leaderId()), "a voter leads: " + ClusterClients.describeQuorum(q[0]));
            });
            System.out.println("[cluster] DescribeQuorum through the broker-only node: " + ClusterClients.describeQuorum(q[0]));
            assertEquals(VOTERS, ClusterClients.voterIds(q[0]), "voters");
        }
        QuorumStatus status = KafkaTools.parseStatus(
                KafkaTools.quorum(cluster.bootstrap(BROKER_ONLY), "describe", "--status").assertExitCode(0));
        System.out.println("[cluster] describe --status through the broker-only node:\n" + status.raw());
        assertEquals(List.of(1, 2), status.voterIds().stream().sorted().toList(), "CurrentVoters: " + status.raw());
        assertTrue(VOTERS.contains(status.leaderId()), "LeaderId: " + status.raw());

        // kafka-topics through the broker-only node (the request reaches the active controller from there).
        String topic = Clients.uniqueTopic("mixed");
        Result created = KafkaTools.topics(cluster.bootstrap(BROKER_ONLY),
                "--create", "--topic", topic, "--partitions", "3", "--replication-factor", "1").assertExitCode(0);
        assertTrue(created.stdout().contains("Created topic " + topic + "."), created.describe());
        TopicDescribe d = KafkaTools.describeTopicOnceItHas(cluster.bootstrap(BROKER_ONLY), topic, 3, Duration.ofSeconds(15));
        System.out.println("[cluster] --describe through the broker-only node:\n" + d.raw());
        assertEquals(Map.of("1", 1, "2", 1, "3", 1), d.leaderCounts(), "one leader per broker, the broker-only node too");

        // A producer and a consumer group that only know the broker-only node.
        String bootstrap = cluster.bootstrap(BROKER_ONLY);
        List<String> written = new ArrayList<>();
        Map<Integer, Integer> perPartition = new TreeMap<>();
        try (KafkaProducer<String, String> producer = ClusterClients.producer(bootstrap, Map.of())) {
            List<java.util.concurrent.Future<RecordMetadata>> acks = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                acks.add(producer.send(new ProducerRecord<>(topic, i % 3, "k" + i, "v" + i)));
                written.add("v" + i);
            }
            for (var ack : acks) {
                perPartition.merge(ack.get(ClusterClients.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).partition(), 1, Integer::sum);
            }
        }
        System.out.println("[cluster] 30 records acknowledged through node " + BROKER_ONLY + ", per partition " + perPartition);
        assertEquals(Map.of(0, 10, 1, 10, 2, 10), perPartition);
        try (KafkaConsumer<String, String> consumer = ClusterClients.groupConsumer(bootstrap, "group-" + topic, "only")) {
            consumer.subscribe(List.of(topic));
            List<ConsumerRecord<String, String>> read = ClusterClients.pollTogether(30, Duration.ofSeconds(30), consumer);
            consumer.poll(Duration.ofMillis(200)).forEach(read::add);
            Set<String> values = new TreeSet<>();
            read.forEach(r -> values.add(r.value()));
            System.out.println("[cluster] the group member read " + read.size() + " records through node " + BROKER_ONLY);
            assertEquals(30, read.size(), "each record once");
            assertEquals(new TreeSet<>(written), values);
            consumer.commitSync();
        }
    }
}
