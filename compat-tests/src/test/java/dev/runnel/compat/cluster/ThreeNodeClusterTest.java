package dev.runnel.compat.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.cluster.ClusterClients.ClusterView;
import dev.runnel.compat.cluster.KafkaTools.PartitionLine;
import dev.runnel.compat.cluster.KafkaTools.QuorumStatus;
import dev.runnel.compat.cluster.KafkaTools.ReplicationRow;
import dev.runnel.compat.cluster.KafkaTools.TopicDescribe;
import dev.runnel.compat.support.Await;
import dev.runnel.compat.support.ChildProcess.Result;
import dev.runnel.compat.support.Clients;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.QuorumInfo;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InvalidReplicationFactorException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Three Runnel nodes on loopback, each {@code process.roles=broker,controller} with the same
 * {@code controller.quorum.voters}, form one cluster that Kafka's own tools and the Java clients treat as a Kafka
 * cluster: shared metadata whichever node is asked, partition leaders spread, Kafka's error for a replication
 * factor the cluster cannot reach, a metadata quorum with a leader and three voters, and clients whose work is
 * shared by the three brokers (issue 9).
 */
@Tag("cluster")
class ThreeNodeClusterTest {

    private static final Set<Integer> ALL = Set.of(1, 2, 3);

    @RegisterExtension
    static final ClusterProcesses cluster = ClusterProcesses.threeNodes();

    private static String clusterId;

    @BeforeAll
    static void theThreeNodesFormOneCluster() throws Exception {
        List<String> eachNode = cluster.nodes().stream().map(ClusterProcesses.Node::bootstrap).toList();
        Map<String, ClusterView> views = ClusterClients.awaitBrokers(eachNode, ALL, Duration.ofSeconds(30));
        clusterId = views.values().iterator().next().clusterId();
        System.out.println("[cluster] cluster id " + clusterId + ", " + cluster.describe());
    }

    /** (a) A topic created through node 1 is described alike through each node, its six leaders spread 2/2/2. */
    @Test
    void topicCreatedThroughNodeOneIsDescribedAlikeThroughEveryNodeWithLeadersSpread() throws Exception {
        String topic = Clients.uniqueTopic("spread");
        Result created = KafkaTools.topics(cluster.bootstrap(1),
                "--create", "--topic", topic, "--partitions", "6", "--replication-factor", "1").assertExitCode(0);
        assertTrue(created.stdout().contains("Created topic " + topic + "."), created.describe());

        Map<Integer, TopicDescribe> byNode = new TreeMap<>();
        for (int node : ALL) {
            byNode.put(node, KafkaTools.describeTopicOnceItHas(cluster.bootstrap(node), topic, 6, Duration.ofSeconds(15)));
        }
        TopicDescribe first = byNode.get(1);
        System.out.println("[cluster] --describe through node 1:\n" + first.raw());
        assertEquals(1, first.replicationFactor(), "ReplicationFactor in\n" + first.raw());
        for (PartitionLine p : first.partitions().values()) {
            assertEquals(p.leader(), p.replicas(), "RF 1: the leader is the only replica, partition " + p.partition());
            assertEquals(p.leader(), p.isr(), "RF 1: the leader is the ISR, partition " + p.partition());
        }
        for (int node : List.of(2, 3)) {
            TopicDescribe other = byNode.get(node);
            assertEquals(first.topicId(), other.topicId(), "TopicId through node " + node);
            assertEquals(first.partitions(), other.partitions(),
                    "Leader/Replicas/Isr through node " + node + ":\n" + other.raw() + "\nvs node 1:\n" + first.raw());
        }
        Map<String, Integer> leaderCounts = first.leaderCounts();
        System.out.println("[cluster] partitions led per broker: " + leaderCounts);
        assertEquals(Map.of("1", 2, "2", 2, "3", 2), leaderCounts, "each of the three brokers leads two of six partitions");
    }

    /** (b) --replication-factor 4 on three brokers fails with Kafka's InvalidReplicationFactorException and message. */
    @Test
    void replicationFactorLargerThanTheClusterFailsWithKafkasMessage() throws Exception {
        String topic = Clients.uniqueTopic("rf4");
        Result result = KafkaTools.topics(cluster.bootstrap(2),
                "--create", "--topic", topic, "--partitions", "1", "--replication-factor", "4");
        String output = KafkaTools.allOutput(result);
        assertNotEquals(0, result.exitCode(), result.describe());
        assertTrue(output.contains("InvalidReplicationFactorException"), "the error class: " + result.describe());
        // Kafka: "Unable to replicate the partition 4 time(s): The target replication factor of 4 cannot be reached
        // because only 3 broker(s) are registered."
        assertTrue(output.contains("replication factor of 4"), "Kafka's message: " + result.describe());

        // The Java admin client gets the same error class and message.
        try (Admin admin = ClusterClients.admin(cluster.bootstrapServers())) {
            ExecutionException e = assertThrows(ExecutionException.class, () -> admin.createTopics(List.of(
                            new NewTopic(topic, Optional.of(1), Optional.of((short) 4))))
                    .all().get(ClusterClients.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS));
            System.out.println("[cluster] Admin.createTopics with RF 4: " + e.getCause());
            assertInstanceOf(InvalidReplicationFactorException.class, e.getCause());
            assertTrue(e.getCause().getMessage().contains("replication factor of 4"), e.getCause().getMessage());
        }
        List<String> listed = KafkaTools.topics(cluster.bootstrap(3), "--list").assertExitCode(0).stdoutLines();
        assertFalse(listed.contains(topic), "not created: " + listed);
    }

    /**
     * (c) kafka-metadata-quorum describe --status shows a leader, one of the three, the voters 1, 2 and 3 and the
     * cluster's id; DescribeQuorum through every node names the same leader; describe --replication has a row per
     * voter, the leader's marked Leader.
     */
    @Test
    void metadataQuorumToolShowsOneLeaderAndThreeVoters() throws Exception {
        QuorumStatus[] seen = new QuorumStatus[1];
        Await.untilPasses(Duration.ofSeconds(30), () -> {
            seen[0] = KafkaTools.parseStatus(KafkaTools.quorum(cluster.bootstrap(2), "describe", "--status").assertExitCode(0));
            assertTrue(ALL.contains(seen[0].leaderId()), "LeaderId is one of the nodes: " + seen[0].raw());
        });
        QuorumStatus status = seen[0];
        System.out.println("[cluster] describe --status through node 2:\n" + status.raw());
        assertTrue(status.leaderEpoch() > 0, "LeaderEpoch after an election: " + status.raw());
        assertEquals(List.of(1, 2, 3), status.voterIds().stream().sorted().toList(), "CurrentVoters: " + status.raw());
        assertEquals(clusterId, status.clusterId(), "ClusterId is DescribeCluster's: " + status.raw());

        // The Java admin client's DescribeQuorum agrees, and (as the issue specifies: Metadata's and
        // DescribeCluster's controller is the active controller) so does describeCluster().controller().
        for (int node : ALL) {
            try (Admin admin = ClusterClients.admin(cluster.bootstrap(node))) {
                QuorumInfo q = ClusterClients.quorum(admin);
                ClusterView view = ClusterClients.clusterView(admin);
                System.out.println("[cluster] through node " + node + ": " + ClusterClients.describeQuorum(q)
                        + "; DescribeCluster " + view);
                assertEquals(status.leaderId(), q.leaderId(), "Admin.describeMetadataQuorum leader through node " + node);
                assertEquals(ALL, ClusterClients.voterIds(q), "voters through node " + node);
                assertEquals(status.leaderId(), view.controllerId(), "describeCluster().controller() through node " + node);
            }
        }

        Result replication = KafkaTools.quorum(cluster.bootstrap(1), "describe", "--replication").assertExitCode(0);
        System.out.println("[cluster] describe --replication:\n" + replication.stdout());
        List<ReplicationRow> rows = KafkaTools.parseReplication(replication);
        Map<Integer, String> statusByNode = new TreeMap<>();
        rows.forEach(r -> statusByNode.put(r.nodeId(), r.status()));
        assertEquals(Map.of(1, status.leaderId() == 1 ? "Leader" : "Follower",
                        2, status.leaderId() == 2 ? "Leader" : "Follower",
                        3, status.leaderId() == 3 ? "Leader" : "Follower"),
                statusByNode, "one row per voter, the LeaderId's marked Leader: " + replication.stdout());
        for (ReplicationRow r : rows) {
            assertTrue(r.logEndOffset() >= 0 && r.lag() >= 0, "LogEndOffset and Lag of " + r);
        }
    }

    /** (c') The same tool through the controllers' own listener ({@code --bootstrap-controller}), as Kafka 3.7+ allows. */
    @Test
    void kcatSeesThreeBrokersAndProducesAndConsumesAcrossThem() throws Exception {
        java.nio.file.Path kcat = java.nio.file.Path.of("/usr/bin/kcat");
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.isExecutable(kcat),
                "kcat is not installed at " + kcat + " (Debian package 'kcat'); skipping");
        String topic = Clients.uniqueTopic("kcat3");
        KafkaTools.topics(cluster.bootstrap(1), "--create", "--topic", topic, "--partitions", "3", "--replication-factor", "1")
                .assertExitCode(0);
        KafkaTools.describeTopicOnceItHas(cluster.bootstrap(2), topic, 3, Duration.ofSeconds(15));
        Duration timeout = Duration.ofSeconds(30);
        // librdkafka's view of the cluster, bootstrapped from one node.
        Result meta = dev.runnel.compat.support.ChildProcess.run(List.of(kcat.toString(), "-b", cluster.bootstrap(1), "-L", "-J", "-t", topic),
                null, timeout).assertExitCode(0);
        com.fasterxml.jackson.databind.JsonNode json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(meta.stdout());
        Set<Integer> brokers = new TreeSet<>();
        json.get("brokers").forEach(b -> brokers.add(b.get("id").asInt()));
        assertEquals(Set.of(1, 2, 3), brokers, "kcat -L lists the three brokers: " + meta.stdout());
        Set<Integer> leaders = new TreeSet<>();
        json.get("topics").get(0).get("partitions").forEach(p -> leaders.add(p.get("leader").asInt()));
        assertEquals(Set.of(1, 2, 3), leaders, "one partition led by each broker: " + meta.stdout());
        // Keyed produce through node 2 (librdkafka sends each partition's batches to its leader), read back through node 3.
        StringBuilder input = new StringBuilder();
        for (int i = 0; i < 30; i++) {
            input.append("k").append(i).append(':').append("v").append(i).append('\n');
        }
        dev.runnel.compat.support.ChildProcess.run(List.of(kcat.toString(), "-b", cluster.bootstrap(2), "-P", "-t", topic, "-K:"),
                input.toString(), timeout).assertExitCode(0);
        Result consumed = dev.runnel.compat.support.ChildProcess.run(List.of(kcat.toString(), "-b", cluster.bootstrap(3), "-C", "-t", topic,
                "-o", "beginning", "-e", "-f", "%k=%s\\n"), null, timeout).assertExitCode(0);
        Set<String> got = new TreeSet<>(consumed.stdoutLines());
        Set<String> expected = new TreeSet<>();
        for (int i = 0; i < 30; i++) {
            expected.add("k" + i + "=v" + i);
        }
        assertEquals(expected, got, "every record once, from the three leaders: " + consumed.describe());
    }

    @Test
    void produceToABrokerThatIsNotTheLeaderNamesTheLeader() throws Exception {
        String topic = Clients.uniqueTopic("redirect");
        KafkaTools.topics(cluster.bootstrap(1), "--create", "--topic", topic, "--partitions", "3", "--replication-factor", "1")
                .assertExitCode(0);
        TopicDescribe d = KafkaTools.describeTopicOnceItHas(cluster.bootstrap(1), topic, 3, Duration.ofSeconds(15));
        int partition = d.partitions().keySet().iterator().next();
        int leader = Integer.parseInt(d.partitions().get(partition).leader());
        int other = leader == 1 ? 2 : 1;
        String[] hostPort = cluster.bootstrap(other).split(":");
        try (dev.runnel.compat.support.RawKafkaConnection c = dev.runnel.compat.support.RawKafkaConnection.open(hostPort[0],
                Integer.parseInt(hostPort[1]), Duration.ofSeconds(10))) {
            org.apache.kafka.common.message.ProduceResponseData resp = dev.runnel.compat.support.RawProduce.produce(c, (short) 11, topic,
                    Map.of(partition, dev.runnel.compat.support.RawProduce.batchOf("v")));
            org.apache.kafka.common.message.ProduceResponseData.PartitionProduceResponse p =
                    resp.responses().iterator().next().partitionResponses().get(0);
            assertEquals(org.apache.kafka.common.protocol.Errors.NOT_LEADER_OR_FOLLOWER.code(), p.errorCode(), resp.toString());
            assertEquals(leader, p.currentLeader().leaderId(), "KIP-951: the current leader is named: " + resp);
            assertEquals(1, resp.nodeEndpoints().size(), "and its endpoint: " + resp);
            assertEquals(leader, resp.nodeEndpoints().iterator().next().nodeId(), resp.toString());
            assertEquals(cluster.node(leader).clientPort(), resp.nodeEndpoints().iterator().next().port(), resp.toString());
        }
    }

    @Test
    void kafkaLogDirsDescribesEachBrokersReplicas() throws Exception {
        String topic = Clients.uniqueTopic("logdirs");
        KafkaTools.topics(cluster.bootstrap(1), "--create", "--topic", topic, "--partitions", "3", "--replication-factor", "1")
                .assertExitCode(0);
        KafkaTools.describeTopicOnceItHas(cluster.bootstrap(1), topic, 3, Duration.ofSeconds(15));
        try (org.apache.kafka.clients.producer.KafkaProducer<String, String> producer = ClusterClients.producer(cluster.bootstrapServers(), Map.of())) {
            for (int i = 0; i < 30; i++) {
                producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(topic, i % 3, "k", "v" + i)).get(30, TimeUnit.SECONDS);
            }
        }
        Result r = dev.runnel.compat.support.ChildProcess.kafkaTool("org.apache.kafka.tools.LogDirsCommand", null,
                "--bootstrap-server", cluster.bootstrap(2), "--describe", "--topic-list", topic).assertExitCode(0);
        String json = r.stdoutLines().stream().filter(l -> l.startsWith("{")).findFirst().orElseThrow(() -> new AssertionError(r.describe()));
        com.fasterxml.jackson.databind.JsonNode root = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json);
        Map<Integer, Integer> partitionsPerBroker = new TreeMap<>();
        long bytes = 0;
        for (com.fasterxml.jackson.databind.JsonNode b : root.get("brokers")) {
            for (com.fasterxml.jackson.databind.JsonNode d : b.get("logDirs")) {
                assertTrue(d.get("error").isNull(), "no log dir error: " + json);
                for (com.fasterxml.jackson.databind.JsonNode p : d.get("partitions")) {
                    partitionsPerBroker.merge(b.get("broker").asInt(), 1, Integer::sum);
                    bytes += p.get("size").asLong();
                }
            }
        }
        assertEquals(Map.of(1, 1, 2, 1, 3, 1), partitionsPerBroker, "each broker holds its one replica: " + json);
        assertTrue(bytes > 0, "the replicas have data: " + json);
    }

    @Test
    void kafka39ToolsSeeTheSameCluster() throws Exception {
        // Kafka 3.9's kafka-topics (Metadata for --describe, no DescribeTopicPartitions) and kafka-metadata-quorum.
        String topic = Clients.uniqueTopic("tools39");
        Result created = KafkaTools.tool39(KafkaTools.TOPIC_COMMAND, "--bootstrap-server", cluster.bootstrap(3),
                "--create", "--topic", topic, "--partitions", "3", "--replication-factor", "1").assertExitCode(0);
        assertTrue(created.stdout().contains("Created topic " + topic + "."), created.describe());
        Await.untilPasses(Duration.ofSeconds(15), () -> {
            Result d = KafkaTools.tool39(KafkaTools.TOPIC_COMMAND, "--bootstrap-server", cluster.bootstrap(1), "--describe",
                    "--topic", topic).assertExitCode(0);
            for (String leader : List.of("1", "2", "3")) {
                assertTrue(d.stdout().contains("Leader: " + leader + "\t"), "leaders spread over the three brokers: " + d.describe());
            }
        });
        QuorumStatus status = KafkaTools.parseStatus(KafkaTools.tool39(KafkaTools.METADATA_QUORUM_COMMAND,
                "--bootstrap-server", cluster.bootstrap(2), "describe", "--status").assertExitCode(0));
        assertEquals(List.of(1, 2, 3), status.voterIds().stream().sorted().toList(), "3.9's view of the voters: " + status.raw());
        Result rf4 = KafkaTools.tool39(KafkaTools.TOPIC_COMMAND, "--bootstrap-server", cluster.bootstrap(1), "--create", "--topic",
                Clients.uniqueTopic("rf4-39"), "--partitions", "1", "--replication-factor", "4");
        assertTrue(KafkaTools.allOutput(rf4).contains("replication factor of 4"), rf4.describe());
    }

    @Test
    void metadataQuorumToolThroughTheControllerListener() throws Exception {
        Result result = KafkaTools.quorumThroughControllers(cluster.controllerBootstrap(), "describe", "--status")
                .assertExitCode(0);
        QuorumStatus status = KafkaTools.parseStatus(result);
        System.out.println("[cluster] describe --status through --bootstrap-controller " + cluster.controllerBootstrap()
                + ":\n" + status.raw());
        assertTrue(ALL.contains(status.leaderId()), "LeaderId: " + status.raw());
        assertEquals(List.of(1, 2, 3), status.voterIds().stream().sorted().toList(), "CurrentVoters: " + status.raw());
        assertEquals(clusterId, status.clusterId(), "ClusterId: " + status.raw());
    }

    /**
     * (d) An idempotent acks=all producer writes 600 keyed records to six partitions through a bootstrap list of all
     * three nodes; a group of three consumers reads each exactly once. Each partition's records are stored by the
     * broker Metadata names as its leader, and the leaders are on all three nodes.
     */
    @Test
    void producerAndAGroupOfThreeConsumersShareTheWorkOfTheThreeBrokers() throws Exception {
        String topic = Clients.uniqueTopic("group600");
        String group = "group-" + topic;
        int partitions = 6;
        int records = 600;
        String bootstrap = cluster.bootstrapServers();
        Map<Integer, Integer> leaders;
        try (Admin admin = ClusterClients.admin(bootstrap)) {
            admin.createTopics(List.of(new NewTopic(topic, Optional.of(partitions), Optional.of((short) 1))))
                    .all().get(ClusterClients.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            TopicDescription d = ClusterClients.awaitTopic(admin, topic, partitions);
            leaders = ClusterClients.leaders(d);
        }
        System.out.println("[cluster] leaders of " + topic + ": " + leaders);
        assertEquals(ALL, new HashSet<>(leaders.values()), "leaders on all three nodes: " + leaders);

        try (KafkaConsumer<String, String> a = ClusterClients.groupConsumer(bootstrap, group, "a");
             KafkaConsumer<String, String> b = ClusterClients.groupConsumer(bootstrap, group, "b");
             KafkaConsumer<String, String> c = ClusterClients.groupConsumer(bootstrap, group, "c")) {
            List<KafkaConsumer<String, String>> members = List.of(a, b, c);
            members.forEach(k -> k.subscribe(List.of(topic)));
            long t0 = System.nanoTime();
            // The group settles before anything is produced, so no record is read twice across a rebalance.
            Await.untilPasses(Duration.ofSeconds(60), () -> {
                for (KafkaConsumer<String, String> k : members) {
                    assertTrue(k.poll(Duration.ofMillis(100)).isEmpty(), "nothing produced yet");
                }
                assertSettled(members, partitions);
            });
            System.out.printf("[cluster] group %s settled in %d ms: a=%s b=%s c=%s%n", group,
                    (System.nanoTime() - t0) / 1_000_000, a.assignment(), b.assignment(), c.assignment());

            Map<Integer, Integer> producedPerPartition = new TreeMap<>();
            Set<String> produced = new TreeSet<>();
            long p0 = System.nanoTime();
            try (KafkaProducer<String, String> producer = ClusterClients.producer(bootstrap, Map.of())) {
                List<Future<RecordMetadata>> acks = new ArrayList<>();
                for (int i = 0; i < records; i++) {
                    acks.add(producer.send(new ProducerRecord<>(topic, "key-" + i, "value-" + i)));
                    produced.add("value-" + i);
                }
                producer.flush();
                for (Future<RecordMetadata> ack : acks) {
                    RecordMetadata m = ack.get(ClusterClients.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                    producedPerPartition.merge(m.partition(), 1, Integer::sum);
                }
            }
            System.out.printf("[cluster] %d records acknowledged in %d ms, per partition %s%n", records,
                    (System.nanoTime() - p0) / 1_000_000, producedPerPartition);

            long c0 = System.nanoTime();
            List<ConsumerRecord<String, String>> seen = ClusterClients.pollTogether(records, Duration.ofSeconds(30), a, b, c);
            // One more round: nothing beyond the 600.
            for (KafkaConsumer<String, String> k : members) {
                k.poll(Duration.ofMillis(200)).forEach(seen::add);
            }
            System.out.printf("[cluster] the group read %d records in %d ms%n", seen.size(), (System.nanoTime() - c0) / 1_000_000);
            Set<String> values = new TreeSet<>();
            Map<Integer, Integer> consumedPerPartition = new TreeMap<>();
            for (ConsumerRecord<String, String> r : seen) {
                values.add(r.value());
                consumedPerPartition.merge(r.partition(), 1, Integer::sum);
            }
            assertEquals(records, seen.size(), "exactly " + records + " records read");
            assertEquals(produced, values, "every record, none twice");
            assertEquals(producedPerPartition, consumedPerPartition, "per partition");

            for (KafkaConsumer<String, String> k : members) {
                k.commitSync();
            }
            try (Admin admin = ClusterClients.admin(bootstrap)) {
                Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                        .partitionsToOffsetAndMetadata().get(ClusterClients.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                Map<Integer, Long> committedPerPartition = new TreeMap<>();
                committed.forEach((tp, om) -> committedPerPartition.put(tp.partition(), om.offset()));
                Map<Integer, Long> expected = new TreeMap<>();
                producedPerPartition.forEach((p, n) -> expected.put(p, (long) n));
                assertEquals(expected, committedPerPartition, "committed offsets, through the group's coordinator");
            }
        }

        // Each partition's records live on its leader, and on no other node (replication factor 1).
        for (Map.Entry<Integer, Integer> e : leaders.entrySet()) {
            int partition = e.getKey();
            Map<Integer, Long> bytesByNode = new TreeMap<>();
            for (ClusterProcesses.Node n : cluster.nodes()) {
                bytesByNode.put(n.id(), ClusterClients.partitionLogBytes(n.logDir(), topic, partition));
            }
            System.out.println("[cluster] " + topic + "-" + partition + " (leader " + e.getValue() + ") .log bytes by node "
                    + "(-1: no directory): " + bytesByNode);
            assertTrue(bytesByNode.get(e.getValue()) > 0, "the leader stores partition " + partition + ": " + bytesByNode);
            for (Map.Entry<Integer, Long> other : bytesByNode.entrySet()) {
                if (other.getKey() != e.getValue().intValue()) {
                    assertTrue(other.getValue() <= 0, "node " + other.getKey() + " is no replica of partition "
                            + partition + " and stores none of it: " + bytesByNode);
                }
            }
        }
    }

    /** The members agree on the generation and share every partition, each member at least one, none twice. */
    private static void assertSettled(List<KafkaConsumer<String, String>> members, int partitions) {
        Set<Integer> generations = new HashSet<>();
        Set<TopicPartition> all = new HashSet<>();
        int total = 0;
        Map<Integer, Set<TopicPartition>> byMember = new TreeMap<>();
        for (int i = 0; i < members.size(); i++) {
            KafkaConsumer<String, String> k = members.get(i);
            generations.add(k.groupMetadata().generationId());
            byMember.put(i, k.assignment());
            all.addAll(k.assignment());
            total += k.assignment().size();
        }
        for (Set<TopicPartition> assigned : byMember.values()) {
            assertFalse(assigned.isEmpty(), "a member without partitions: " + byMember);
        }
        assertEquals(1, generations.size(), "generations " + generations);
        assertEquals(partitions, all.size(), "assigned " + byMember);
        assertEquals(partitions, total, "a partition assigned twice: " + byMember);
    }
}
