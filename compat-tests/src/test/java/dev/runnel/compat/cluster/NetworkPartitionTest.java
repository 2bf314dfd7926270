package dev.runnel.compat.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.support.Await;
import dev.runnel.compat.support.Clients;
import java.io.File;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.QuorumInfo;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.opentest4j.TestAbortedException;

/**
 * Network partitions (issue 10, proof item 4). Three {@code broker,controller} processes, each in a network namespace
 * this test creates ({@code runnel-np-<random>-1..3}), joined by veth pairs to a bridge in the root namespace on a
 * private {@code 10.213.<x>.0/24}; every broker binds and advertises its namespace address, the test process (root
 * namespace) reaches each through the bridge. A partition is the node's veth brought down on the bridge's side: the
 * node can reach neither the other brokers nor the clients, and nothing reaches it (packets are dropped, no
 * connection is refused), until the link comes up again. A partial one (scenario 2) is blackhole routes between the
 * node and the other nodes in their namespaces: the brokers cannot reach each other, the clients reach all three.
 *
 * <ol>
 *   <li>The leader of a replicated partition (replication factor 3, {@code min.insync.replicas=2}, a node that is not
 *       the active controller) is cut off for ~10 s under an idempotent {@code acks=all} producer: the other two elect
 *       a new leader, the producer goes on against it; healed, the old leader truncates, follows and rejoins the ISR.
 *   <li>The same leader cut off from the other brokers only: the producer still reaches it (the "zombie leader" that
 *       believes it leads), but it cannot replicate, so it must acknowledge nothing; the others elect a new leader, the
 *       producer goes on against it; healed, the old leader truncates what it appended alone and rejoins the ISR.
 *   <li>The active controller (quorum leader, which also leads the producer's partition) is cut off: the other two
 *       elect another controller, fence the cut-off broker, create a topic through a connected broker; healed, the old
 *       controller is a caught-up voter again and every node lists three brokers.
 * </ol>
 *
 * Both check what a client can check: every acknowledged record is read back once, at the offset it was acknowledged
 * with, in order (nothing lost), and no two different records were acknowledged at one offset (which two leaders
 * acknowledging writes for the same partition would produce). The replicas' logs converge to the same bytes.
 *
 * <p>Needs root and iproute2's {@code ip}; when network namespaces cannot be made (not root, no {@code ip}, or
 * {@code ip netns add} fails, as in a restricted container) the class is skipped with the reason. Everything it
 * creates (processes, namespaces, veths, bridge) is removed in {@link #tearDown()} (and by a shutdown hook should the
 * JVM be stopped before). Loops are bounded in count and time; the figures are printed ({@code MEASURED}).
 */
@Tag("cluster")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NetworkPartitionTest {

    private static final int NODES = 3;
    private static final Set<Integer> ALL = Set.of(1, 2, 3);
    /** How long a node stays cut off at least (then until the producer has gone on against the new leader). */
    private static final Duration CUT_FOR = Duration.ofSeconds(10);
    private static final Duration ELECTION_DEADLINE = Duration.ofSeconds(30);
    private static final Duration REJOIN_DEADLINE = Duration.ofSeconds(60);
    /** Acknowledgements the producer must get from the new leader while the old one is cut off. */
    private static final int ACKS_DURING_CUT = 100;

    private static Network net;
    private static ClusterProcesses cluster;
    /** Why this machine cannot run the test (no root, no ip, no namespaces), or null. */
    private static String skipReason;

    @BeforeAll
    static void setUp() throws Exception {
        try {
            net = Network.create(NODES);
        } catch (TestAbortedException e) {
            // Reported by each test (see skipUnlessNetwork): surefire drops the message of a class-level abort.
            skipReason = String.valueOf(e.getMessage()).replaceFirst("^Assumption failed: ", "");
            System.out.println("[network] SKIPPED: " + skipReason);
            return;
        }
        try {
            ClusterProcesses.Builder builder = ClusterProcesses.builder()
                    .with("broker.session.timeout.ms", "3000")
                    .with("broker.heartbeat.interval.ms", "500")
                    .with("replica.lag.time.max.ms", "3000");
            // -Drunnel.partition.debug=<logger>,...: those loggers at DEBUG in every node (e.g. dev.runnel.broker.cluster.ClusterNode).
            for (String logger : System.getProperty("runnel.partition.debug", "").split(",")) {
                if (!logger.isBlank()) {
                    builder.jvmOption("-Dorg.slf4j.simpleLogger.log." + logger.strip() + "=debug");
                }
            }
            for (int id = 1; id <= NODES; id++) {
                builder.host(id, net.address(id)).commandPrefix(id, net.ip, "netns", "exec", net.namespace(id));
            }
            cluster = builder.build();
            cluster.start();
            List<String> eachNode = cluster.nodes().stream().map(ClusterProcesses.Node::bootstrap).toList();
            ClusterClients.awaitBrokers(eachNode, ALL, Duration.ofSeconds(30));
        } catch (Exception | AssertionError e) {
            if (cluster != null) {
                cluster.printTails();
            }
            tearDown();
            throw e;
        }
    }

    @BeforeEach
    void skipUnlessNetwork() {
        Assumptions.assumeTrue(skipReason == null, skipReason);
    }

    @AfterAll
    static void tearDown() {
        try {
            if (cluster != null) {
                cluster.close();
            }
        } finally {
            cluster = null;
            if (net != null) {
                net.close();
                net = null;
            }
        }
    }

    // ------------------------------------------------------------------ scenario 1: the partition leader cut off

    @Test
    @Order(1)
    void aPartitionLeaderCutOffIsReplacedAndRejoinsWithoutLosingAcknowledgedRecords() throws Exception {
        scenario(() -> {
            awaitWholeCluster();
            int controller = activeController(cluster.bootstrapServers());
            List<Integer> others = ALL.stream().filter(id -> id != controller).sorted().toList();
            int leader = others.get(0);
            // The first replica is the preferred leader: a node that is not the active controller, so that this case
            // is the partition leader alone.
            String topic = createTopic("np-leader", List.of(leader, others.get(1), controller));
            assertEquals(leader, leaderOf(cluster.bootstrapServers(), topic), "the preferred replica leads");
            System.out.printf("[partition] %s-0 led by node %d (%s), active controller node %d%n", topic, leader,
                    net.address(leader), controller);

            Load load = new Load(topic, "a");
            try (load) {
                load.start();
                load.awaitAcks(200, Duration.ofSeconds(30));

                Map<Integer, Integer> marks = outputMarks();
                long cutAt = System.nanoTime();
                net.cut(leader);
                int newLeader = awaitNewLeader(topic, leader);
                long electedAt = System.nanoTime();
                System.out.printf("[partition] MEASURED: leader %d cut off; node %d leads %s-0 %d ms later%n", leader,
                        newLeader, topic, ms(electedAt - cutAt));
                holdCut(cutAt, electedAt, load);
                long healAt = System.nanoTime();
                load.printStall("leader " + leader + " cut off", cutAt, healAt);
                System.out.printf("[partition] MEASURED: %d writes acknowledged by the new leader %d while node %d was cut "
                        + "off (%d ms)%n", load.acksBetween(electedAt, healAt), newLeader, leader, ms(healAt - cutAt));
                int outputMark = cluster.node(leader).output().length();
                net.heal(leader);

                awaitIsr(topic, 3, healAt, "the old leader " + leader + " back in the ISR");
                List<String> eachNode = cluster.nodes().stream().map(ClusterProcesses.Node::bootstrap).toList();
                ClusterClients.awaitBrokers(eachNode, ALL, REJOIN_DEADLINE);
                System.out.printf("[partition] MEASURED: every node lists broker %d again %d ms after the heal%n", leader,
                        ms(System.nanoTime() - healAt));
                printTruncation(leader, topic, outputMark);

                load.awaitAcks(load.ackCount() + 200, Duration.ofSeconds(30));
                load.stop();
                verify(topic, load);
                assertOnlyFenced(leader, marks);
            }
        });
    }

    // ------------------------------------------------------------------ scenario 2: cut off from its peers, not from clients

    @Test
    @Order(2)
    void aLeaderCutOffFromTheOtherBrokersButNotFromClientsAcknowledgesNothingAfterItsReplacement() throws Exception {
        scenario(() -> {
            awaitWholeCluster();
            int controller = activeController(cluster.bootstrapServers());
            List<Integer> others = ALL.stream().filter(id -> id != controller).sorted().toList();
            int leader = others.get(1);
            String topic = createTopic("np-zombie", List.of(leader, others.get(0), controller));
            assertEquals(leader, leaderOf(cluster.bootstrapServers(), topic), "the preferred replica leads");
            System.out.printf("[partition] %s-0 led by node %d (%s), active controller node %d%n", topic, leader,
                    net.address(leader), controller);

            Load load = new Load(topic, "z");
            try (load) {
                load.start();
                load.awaitAcks(200, Duration.ofSeconds(30));

                Map<Integer, Integer> marks = outputMarks();
                long cutAt = System.nanoTime();
                net.isolateFromPeers(leader);
                int newLeader = awaitNewLeader(topic, leader);
                long electedAt = System.nanoTime();
                System.out.printf("[partition] MEASURED: leader %d cut off from the other brokers (clients still reach it); "
                        + "node %d leads %s-0 %d ms later%n", leader, newLeader, topic, ms(electedAt - cutAt));
                holdCut(cutAt, electedAt, load);
                long healAt = System.nanoTime();
                load.printStall("leader " + leader + " cut off from its peers", cutAt, healAt);
                System.out.printf("[partition] MEASURED: %d writes acknowledged by the new leader %d while node %d was cut "
                        + "off from its peers (%d ms)%n", load.acksBetween(electedAt, healAt), newLeader, leader,
                        ms(healAt - cutAt));
                int outputMark = cluster.node(leader).output().length();
                net.rejoinPeers(leader);

                awaitIsr(topic, 3, healAt, "the old leader " + leader + " back in the ISR");
                List<String> eachNode = cluster.nodes().stream().map(ClusterProcesses.Node::bootstrap).toList();
                ClusterClients.awaitBrokers(eachNode, ALL, REJOIN_DEADLINE);
                System.out.printf("[partition] MEASURED: every node lists broker %d again %d ms after the heal%n", leader,
                        ms(System.nanoTime() - healAt));
                printTruncation(leader, topic, outputMark);

                load.awaitAcks(load.ackCount() + 200, Duration.ofSeconds(30));
                load.stop();
                verify(topic, load);
                assertOnlyFenced(leader, marks);
            }
        });
    }

    // ------------------------------------------------------------------ scenario 3: the active controller cut off

    @Test
    @Order(3)
    void theActiveControllerCutOffIsReplacedAndRejoins() throws Exception {
        scenario(() -> {
            awaitWholeCluster();
            QuorumInfo before = quorumWithLeader(cluster.bootstrapServers(), -1);
            int controller = before.leaderId();
            List<Integer> others = ALL.stream().filter(id -> id != controller).sorted().toList();
            String connected = cluster.bootstrapServers(others.stream().mapToInt(Integer::intValue).toArray());
            // The controller's node also leads the producer's partition, as it may well in a real cluster.
            String topic = createTopic("np-controller", List.of(controller, others.get(0), others.get(1)));
            assertEquals(controller, leaderOf(cluster.bootstrapServers(), topic), "the preferred replica leads");
            System.out.printf("[partition] active controller node %d (%s), %s%n", controller, net.address(controller),
                    ClusterClients.describeQuorum(before));

            Load load = new Load(topic, "c");
            try (load) {
                load.start();
                load.awaitAcks(200, Duration.ofSeconds(30));

                Map<Integer, Integer> marks = outputMarks();
                long cutAt = System.nanoTime();
                net.cut(controller);

                // The election among the connected nodes, as the winner announces it in its output.
                String[] announced = new String[1];
                Await.untilPasses(ELECTION_DEADLINE, () -> {
                    for (int id : others) {
                        String line = linesSince(id, marks, "is the active controller").stream().findFirst().orElse(null);
                        if (line != null) {
                            announced[0] = "node " + id + ": " + line;
                            return;
                        }
                    }
                    throw new AssertionError("no connected node announced itself active controller yet");
                });
                System.out.printf("[partition] MEASURED: controller %d cut off; a new active controller announced %d ms later "
                        + "(%s)%n", controller, ms(System.nanoTime() - cutAt), announced[0].strip());

                // The cut-off broker misses its heartbeats and is fenced; the connected ones are not (their heartbeats
                // reach the new controller). Checked before any DescribeQuorum: a broker forwards DescribeQuorum to the
                // active controller along the path its heartbeats take, so asking it first could repair that path.
                awaitFencedAlone(controller, others, cutAt, marks);

                // Both connected nodes name the same new controller, in a later epoch (what kafka-metadata-quorum shows).
                Map<Integer, QuorumInfo> after = new TreeMap<>();
                Await.untilPasses(ELECTION_DEADLINE, () -> {
                    for (int id : others) {
                        try (Admin probe = ClusterClients.probeAdmin(cluster.bootstrap(id))) {
                            QuorumInfo q = ClusterClients.quorum(probe);
                            after.put(id, q);
                            assertTrue(others.contains(q.leaderId()), "node " + id + " names a connected controller: "
                                    + ClusterClients.describeQuorum(q));
                            assertTrue(q.leaderEpoch() > before.leaderEpoch(), "a later epoch through node " + id + ": "
                                    + ClusterClients.describeQuorum(q) + " (before: " + before.leaderEpoch() + ")");
                        }
                    }
                    assertEquals(after.get(others.get(0)).leaderId(), after.get(others.get(1)).leaderId(),
                            "both connected nodes name the same controller: " + after);
                });
                int newController = after.get(others.get(0)).leaderId();
                System.out.printf("[partition] MEASURED: controller %d cut off; DescribeQuorum through each connected node "
                                + "names node %d (epoch %d, was %d) %d ms later%n", controller, newController,
                        after.get(others.get(0)).leaderEpoch(),
                        before.leaderEpoch(), ms(System.nanoTime() - cutAt));

                // Topic creation through a connected broker, and a write and a read on the new topic.
                String created = Clients.uniqueTopic("np-created");
                long createAt = System.nanoTime();
                try (Admin admin = ClusterClients.admin(cluster.bootstrap(others.get(0)))) {
                    admin.createTopics(List.of(new NewTopic(created, 2, (short) 2))).all()
                            .get(ClusterClients.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                }
                long createMs = ms(System.nanoTime() - createAt);
                for (int id : others) {
                    try (Admin admin = ClusterClients.probeAdmin(cluster.bootstrap(id))) {
                        TopicDescription d = ClusterClients.awaitTopic(admin, created, 2);
                        for (TopicPartitionInfo p : d.partitions()) {
                            assertTrue(others.contains(p.leader().id()) && p.replicas().stream().noneMatch(
                                    n -> n.id() == controller), "only connected brokers hold " + created + ": " + d);
                        }
                    }
                }
                writeAndRead(connected, created);
                System.out.printf("[partition] MEASURED: topic %s created through node %d in %d ms while controller %d is cut "
                                + "off; visible through nodes %s, written and read%n", created, others.get(0), createMs,
                        controller, others);

                int newLeader = awaitNewLeader(topic, controller);
                long electedAt = System.nanoTime();
                System.out.printf("[partition] MEASURED: node %d leads %s-0 %d ms after the cut%n", newLeader, topic,
                        ms(electedAt - cutAt));
                holdCut(cutAt, electedAt, load);
                long healAt = System.nanoTime();
                load.printStall("controller " + controller + " cut off", cutAt, healAt);
                System.out.printf("[partition] MEASURED: %d writes acknowledged by the new leader %d while node %d was cut "
                        + "off (%d ms)%n", load.acksBetween(electedAt, healAt), newLeader, controller, ms(healAt - cutAt));
                long highWatermarkAtHeal;
                try (Admin admin = ClusterClients.probeAdmin(connected)) {
                    highWatermarkAtHeal = ClusterClients.quorum(admin).highWatermark();
                }
                int outputMark = cluster.node(controller).output().length();
                net.heal(controller);

                List<String> eachNode = cluster.nodes().stream().map(ClusterProcesses.Node::bootstrap).toList();
                ClusterClients.awaitBrokers(eachNode, ALL, REJOIN_DEADLINE);
                System.out.printf("[partition] MEASURED: every node lists the 3 brokers again %d ms after the heal%n",
                        ms(System.nanoTime() - healAt));
                // A voter again, caught up with what was committed while it was away, and it knows the new topic.
                QuorumInfo[] healed = new QuorumInfo[1];
                try (Admin admin = ClusterClients.probeAdmin(cluster.bootstrap(controller))) {
                    Await.untilPasses(REJOIN_DEADLINE, () -> {
                        QuorumInfo q = ClusterClients.quorum(admin);
                        healed[0] = q;
                        assertEquals(ALL, ClusterClients.voterIds(q), "voters: " + ClusterClients.describeQuorum(q));
                        assertTrue(ALL.contains(q.leaderId()), "a leader: " + ClusterClients.describeQuorum(q));
                        QuorumInfo.ReplicaState back = q.voters().stream().filter(v -> v.replicaId() == controller)
                                .findFirst().orElseThrow();
                        assertTrue(back.logEndOffset() >= highWatermarkAtHeal, "node " + controller + " caught up to "
                                + highWatermarkAtHeal + ": " + ClusterClients.describeQuorum(q));
                    });
                    ClusterClients.awaitTopic(admin, created, 2);
                }
                System.out.printf("[partition] MEASURED: node %d a caught-up voter again, and describes %s, %d ms after the "
                        + "heal: %s%n", controller, created, ms(System.nanoTime() - healAt),
                        ClusterClients.describeQuorum(healed[0]));
                if (healed[0].leaderEpoch() != after.get(others.get(0)).leaderEpoch()) {
                    System.out.printf("[partition] note: the quorum changed epoch on the heal (%d during the cut, %d after; "
                                    + "leader %d)%n", after.get(others.get(0)).leaderEpoch(), healed[0].leaderEpoch(),
                            healed[0].leaderId());
                }
                awaitIsr(topic, 3, healAt, "the old controller " + controller + " back in the ISR of " + topic + "-0");
                printTruncation(controller, topic, outputMark);

                load.awaitAcks(load.ackCount() + 200, Duration.ofSeconds(30));
                load.stop();
                verify(topic, load);
                assertOnlyFenced(controller, marks);
            }
        });
    }

    // ------------------------------------------------------------------ steps

    /** Runs a scenario; on failure prints each node's last output; whatever happens, every cut is healed after it. */
    private static void scenario(ClusterProcesses.Body body) throws Exception {
        try {
            cluster.printingTailsOnFailure(body);
        } finally {
            net.healAll();
        }
    }

    /** Every link up, every node lists the three brokers, every node names the same quorum leader. */
    private static void awaitWholeCluster() throws Exception {
        for (int id : ALL) {
            assertTrue(net.isUp(id), "node " + id + "'s link is up");
            assertTrue(cluster.node(id).isAlive(), "node " + id + " runs");
        }
        List<String> eachNode = cluster.nodes().stream().map(ClusterProcesses.Node::bootstrap).toList();
        ClusterClients.awaitBrokers(eachNode, ALL, Duration.ofSeconds(30));
        Await.untilPasses(Duration.ofSeconds(30), () -> {
            Set<Integer> leaders = new HashSet<>();
            for (int id : ALL) {
                try (Admin admin = ClusterClients.probeAdmin(cluster.bootstrap(id))) {
                    leaders.add(ClusterClients.quorum(admin).leaderId());
                }
            }
            assertEquals(1, leaders.size(), "one quorum leader named by every node: " + leaders);
            assertTrue(ALL.containsAll(leaders), "a quorum leader: " + leaders);
        });
    }

    /**
     * Waits until the connected nodes no longer list the cut-off broker, then checks that they still list each other
     * (their heartbeats reach the new controller): a connected broker fenced as well is a failure, named as such.
     */
    private static void awaitFencedAlone(int cutOff, List<Integer> connected, long cutAt, Map<Integer, Integer> marks)
            throws Exception {
        Map<Integer, Set<Integer>> views = new TreeMap<>();
        Await.untilPasses(ELECTION_DEADLINE, () -> {
            for (int id : connected) {
                try (Admin admin = ClusterClients.probeAdmin(cluster.bootstrap(id))) {
                    views.put(id, ClusterClients.brokerIds(admin));
                }
            }
            assertTrue(views.values().stream().noneMatch(v -> v.contains(cutOff)), "broker " + cutOff
                    + " fenced, as seen through nodes " + connected + ": " + views);
        });
        System.out.printf("[partition] MEASURED: broker %d fenced (no longer listed by nodes %s) %d ms after the cut; they "
                + "list %s%n", cutOff, connected, ms(System.nanoTime() - cutAt), views);
        Await.untilPasses(Duration.ofSeconds(10), () -> {
            for (int id : connected) {
                try (Admin admin = ClusterClients.probeAdmin(cluster.bootstrap(id))) {
                    views.put(id, ClusterClients.brokerIds(admin));
                }
            }
            for (Map.Entry<Integer, Set<Integer>> v : views.entrySet()) {
                assertEquals(new HashSet<>(connected), v.getValue(), "only broker " + cutOff + " was cut off, yet node "
                        + v.getKey() + " lists " + v.getValue() + ": a connected broker was fenced (its heartbeats did not "
                        + "reach the new active controller); all views " + views + "; the connected nodes said: "
                        + connected.stream().flatMap(id -> linesSince(id, marks, "Fencing broker ").stream()
                                .map(l -> "node " + id + ": " + l.strip())).toList());
            }
        });
    }

    /** Each node's output length now: what it says after this point is {@link #linesSince} the mark. */
    private static Map<Integer, Integer> outputMarks() {
        Map<Integer, Integer> marks = new TreeMap<>();
        for (int id : ALL) {
            marks.put(id, cluster.node(id).output().length());
        }
        return marks;
    }

    private static List<String> linesSince(int id, Map<Integer, Integer> marks, String containing) {
        String output = cluster.node(id).output();
        return output.substring(Math.min(marks.get(id), output.length())).lines().filter(l -> l.contains(containing)).toList();
    }

    /**
     * Since {@code marks}, no node that stayed connected fenced a broker other than the cut-off one (the cut-off node's
     * own controller, if it was one, may try to fence the others: it cannot commit that). A connected broker fenced even
     * for a moment drops out of every ISR and may refuse writes with NOT_ENOUGH_REPLICAS.
     */
    private static void assertOnlyFenced(int cutOff, Map<Integer, Integer> marks) {
        List<String> wrong = new ArrayList<>();
        for (int id : ALL) {
            if (id == cutOff) {
                continue;
            }
            for (String line : linesSince(id, marks, "Fencing broker ")) {
                if (!line.contains("Fencing broker " + cutOff + " ")) {
                    wrong.add("node " + id + ": " + line.strip());
                }
            }
            // Its unfencing, for the report.
            if (!wrong.isEmpty()) {
                linesSince(id, marks, "Unfenced broker ").forEach(l -> wrong.add("node " + id + ": " + l.strip()));
            }
        }
        assertEquals(List.of(), wrong, "only broker " + cutOff + " was cut off, yet a connected broker was fenced: its "
                + "heartbeats did not reach the active controller");
    }

    private static int activeController(String bootstrap) throws Exception {
        return quorumWithLeader(bootstrap, -1).leaderId();
    }

    /** The quorum as seen through {@code bootstrap} once it has a leader other than {@code notThis}. */
    private static QuorumInfo quorumWithLeader(String bootstrap, int notThis) throws Exception {
        QuorumInfo[] q = new QuorumInfo[1];
        try (Admin admin = ClusterClients.probeAdmin(bootstrap)) {
            Await.untilPasses(ELECTION_DEADLINE, () -> {
                q[0] = ClusterClients.quorum(admin);
                assertTrue(ALL.contains(q[0].leaderId()) && q[0].leaderId() != notThis,
                        "a leader: " + ClusterClients.describeQuorum(q[0]));
            });
        }
        return q[0];
    }

    /** One partition on the given replicas (the first is the preferred leader), min.insync.replicas=2, ISR of 3 everywhere. */
    private static String createTopic(String prefix, List<Integer> replicas) throws Exception {
        String topic = Clients.uniqueTopic(prefix);
        try (Admin admin = ClusterClients.admin(cluster.bootstrapServers())) {
            admin.createTopics(List.of(new NewTopic(topic, Map.of(0, replicas))
                    .configs(Map.of("min.insync.replicas", "2")))).all()
                    .get(ClusterClients.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        }
        for (int id : ALL) {
            try (Admin admin = ClusterClients.probeAdmin(cluster.bootstrap(id))) {
                Await.untilPasses(Duration.ofSeconds(30), () -> {
                    TopicPartitionInfo p = describe(admin, topic);
                    assertEquals(3, p.isr().size(), "ISR of " + topic + "-0 through node " + id + ": " + p);
                    assertEquals(replicas.get(0), p.leader() == null ? null : p.leader().id(), "leader: " + p);
                });
            }
        }
        return topic;
    }

    private static TopicPartitionInfo describe(Admin admin, String topic) throws Exception {
        TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get(5, TimeUnit.SECONDS).get(topic);
        return d.partitions().get(0);
    }

    private static int leaderOf(String bootstrap, String topic) throws Exception {
        try (Admin admin = ClusterClients.probeAdmin(bootstrap)) {
            TopicPartitionInfo p = describe(admin, topic);
            return p.leader() == null || p.leader().isEmpty() ? -1 : p.leader().id();
        }
    }

    /**
     * Polls the nodes other than {@code old} until one names another leader of {@code topic}-0 (with {@code old} out of
     * the ISR). A fresh admin client per poll, bootstrapped at one of them: an admin client keeps asking the first broker
     * it connected to, which may be {@code old} itself when clients still reach it, answering from its stale metadata.
     */
    private static int awaitNewLeader(String topic, int old) throws Exception {
        int[] seen = new int[1];
        List<Integer> others = ALL.stream().filter(id -> id != old).sorted().toList();
        int[] poll = new int[1];
        Await.untilPasses(ELECTION_DEADLINE, () -> {
            int through = others.get(poll[0]++ % others.size());
            try (Admin admin = ClusterClients.probeAdmin(cluster.bootstrap(through))) {
                TopicPartitionInfo p = describe(admin, topic);
                assertTrue(p.leader() != null && !p.leader().isEmpty() && p.leader().id() != old,
                        "a new leader of " + topic + "-0 (asked through node " + through + "): " + p);
                assertTrue(p.isr().stream().noneMatch(n -> n.id() == old), "node " + old + " out of the ISR: " + p);
                seen[0] = p.leader().id();
            }
        });
        return seen[0];
    }

    /** Keeps the node cut off for at least {@link #CUT_FOR}, and until the producer got acknowledgements from the new leader. */
    private static void holdCut(long cutAt, long electedAt, Load load) throws Exception {
        Await.untilPasses(CUT_FOR.plusSeconds(30), () -> {
            load.assertHealthy();
            assertTrue(System.nanoTime() - cutAt >= CUT_FOR.toNanos(), "cut off for " + CUT_FOR);
            assertTrue(load.acksBetween(electedAt, Long.MAX_VALUE) >= ACKS_DURING_CUT, "the producer goes on against "
                    + "the new leader: " + load.acksBetween(electedAt, Long.MAX_VALUE) + " acknowledged since the election");
        });
    }

    /** Waits until every node describes an ISR of {@code size} for {@code topic}-0, and prints how long after {@code since}. */
    private static void awaitIsr(String topic, int size, long since, String what) throws Exception {
        for (int id : ALL) {
            try (Admin admin = ClusterClients.probeAdmin(cluster.bootstrap(id))) {
                Await.untilPasses(REJOIN_DEADLINE, () -> {
                    TopicPartitionInfo p = describe(admin, topic);
                    assertEquals(size, p.isr().size(), "ISR of " + topic + "-0 through node " + id + ": " + p);
                });
            }
        }
        System.out.printf("[partition] MEASURED: %s %d ms after the heal%n", what, ms(System.nanoTime() - since));
    }

    /** What the node said about truncating {@code topic}-0 since {@code outputMark} (it depends on timing whether it had to). */
    private static void printTruncation(int id, String topic, int outputMark) {
        String output = cluster.node(id).output();
        List<String> lines = output.substring(Math.min(outputMark, output.length())).lines()
                .filter(l -> l.contains(topic + "-0") && (l.contains("Truncat") || l.contains("following leader")
                        || l.contains("Leading") || l.contains("Following")))
                .toList();
        System.out.println("[partition] node " + id + " after the heal, about " + topic + "-0:"
                + (lines.isEmpty() ? " nothing" : "\n  " + String.join("\n  ", lines)));
    }

    /** One record to each partition of {@code topic} (acks=all) and both read back, through {@code bootstrap}. */
    private static void writeAndRead(String bootstrap, String topic) throws Exception {
        Map<Integer, String> written = new TreeMap<>();
        try (KafkaProducer<String, String> producer = ClusterClients.producer(bootstrap, Map.of())) {
            for (int p = 0; p < 2; p++) {
                String v = "during-cut-" + p;
                producer.send(new ProducerRecord<>(topic, p, "k", v)).get(ClusterClients.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                written.put(p, v);
            }
        }
        try (KafkaConsumer<String, String> consumer = ClusterClients.consumer(bootstrap, Map.of())) {
            List<TopicPartition> tps = List.of(new TopicPartition(topic, 0), new TopicPartition(topic, 1));
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            Map<Integer, String> read = new TreeMap<>();
            ClusterClients.pollTogether(2, ClusterClients.TIMEOUT, consumer).forEach(r -> read.put(r.partition(), r.value()));
            assertEquals(written, read, "written and read on " + topic);
        }
    }

    /**
     * Reads {@code topic}-0 from the start and checks the producer's acknowledgements against it: each at its offset
     * with its value (none lost or moved), no offset acknowledged for two values, no value twice in the log, the
     * acknowledged values in the order they were sent; then that the three replicas' logs converge.
     */
    private static void verify(String topic, Load load) throws Exception {
        List<ConsumerRecord<String, String>> read = readAll(topic);
        Map<Long, String> byOffset = new HashMap<>();
        Map<String, Integer> seen = new HashMap<>();
        for (ConsumerRecord<String, String> r : read) {
            byOffset.put(r.offset(), r.value());
            seen.merge(r.value(), 1, Integer::sum);
        }
        long lost = 0;
        List<String> lostExamples = new ArrayList<>();
        for (Map.Entry<Long, String> e : load.ackedByOffset.entrySet()) {
            if (!e.getValue().equals(byOffset.get(e.getKey()))) {
                lost++;
                if (lostExamples.size() < 10) {
                    lostExamples.add(e.getValue() + "@" + e.getKey() + " (read " + byOffset.get(e.getKey()) + ")");
                }
            }
        }
        long duplicated = seen.values().stream().filter(n -> n > 1).count();
        List<Load.Ack> inSendOrder = new ArrayList<>(load.acks);
        inSendOrder.sort((a, b) -> Integer.compare(a.index(), b.index()));
        long outOfOrder = 0;
        for (int i = 1; i < inSendOrder.size(); i++) {
            if (inSendOrder.get(i).offset() <= inSendOrder.get(i - 1).offset()) {
                outOfOrder++;
            }
        }
        System.out.printf("[partition] MEASURED %s-0: %d sent, %d acknowledged, %d not acknowledged (%s), %d read, %d lost, "
                        + "%d duplicated, %d offsets acknowledged for two different records, %d acknowledged out of order%n",
                topic, load.sent.get(), load.acks.size(), load.failed.get(), load.lastError.get(), read.size(), lost,
                duplicated, load.conflicts.size(), outOfOrder);
        assertEquals(List.of(), load.conflicts, "no offset acknowledged for two different records (two leaders)");
        assertEquals(0, lost, "acknowledged records lost or moved, e.g. " + lostExamples);
        assertEquals(0, duplicated, "idempotent producer: no record twice in the log");
        assertEquals(0, outOfOrder, "acknowledged in the order sent");
        assertEquals(load.acks.size(), load.ackedByOffset.size(), "one acknowledgement per record");

        // The replicas converge: the same bytes in each node's log of the partition.
        Map<Integer, Long> sizes = new TreeMap<>();
        Await.untilPasses(Duration.ofSeconds(30), () -> {
            for (int id : ALL) {
                sizes.put(id, ClusterClients.partitionLogBytes(cluster.node(id).logDir(), topic, 0));
            }
            assertEquals(1, new HashSet<>(sizes.values()).size(), "the replicas' .log bytes of " + topic + "-0: " + sizes);
        });
        System.out.printf("[partition] the three replicas of %s-0 hold the same %d bytes of log%n", topic, sizes.get(1));
    }

    private static List<ConsumerRecord<String, String>> readAll(String topic) {
        List<ConsumerRecord<String, String>> out = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = ClusterClients.consumer(cluster.bootstrapServers(), Map.of())) {
            TopicPartition tp = new TopicPartition(topic, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long end = consumer.endOffsets(List.of(tp)).get(tp);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            for (int polls = 0; consumer.position(tp) < end && System.nanoTime() < deadline && polls < 10_000; polls++) {
                consumer.poll(Duration.ofMillis(500)).forEach(out::add);
            }
            assertEquals(end, consumer.position(tp), "read " + topic + "-0 to its end offset within 60 s");
        }
        return out;
    }

    private static long ms(long nanos) {
        return nanos / 1_000_000;
    }

    // ------------------------------------------------------------------ the producer

    /**
     * An idempotent acks=all producer writing {@code <prefix><n>} to partition 0 as fast as a window of
     * {@value #WINDOW} unacknowledged records allows, from its own thread, until stopped (or {@link #MAX_RECORDS}, or
     * {@link #MAX_RUN}). Every acknowledgement is kept with its offset and time.
     */
    private static final class Load implements AutoCloseable {
        static final int WINDOW = 10;
        static final int MAX_RECORDS = 500_000;
        static final Duration MAX_RUN = Duration.ofSeconds(150);

        record Ack(int index, long offset, long nanos) {
        }

        final String topic;
        final String prefix;
        final KafkaProducer<String, String> producer;
        final Semaphore window = new Semaphore(WINDOW);
        final ConcurrentLinkedQueue<Ack> acks = new ConcurrentLinkedQueue<>();
        final Map<Long, String> ackedByOffset = new ConcurrentHashMap<>();
        final List<String> conflicts = Collections.synchronizedList(new ArrayList<>());
        final AtomicLong sent = new AtomicLong();
        final AtomicLong failed = new AtomicLong();
        final AtomicReference<String> lastError = new AtomicReference<>("none");
        final AtomicReference<Throwable> crashed = new AtomicReference<>();
        volatile boolean stopping;
        Thread thread;

        Load(String topic, String prefix) {
            this.topic = topic;
            this.prefix = prefix;
            this.producer = ClusterClients.producer(cluster.bootstrapServers(), Map.of(
                    "enable.idempotence", true,
                    "max.in.flight.requests.per.connection", 5,
                    "linger.ms", 1,
                    "request.timeout.ms", 3_000,
                    "delivery.timeout.ms", 90_000,
                    "retry.backoff.ms", 100,
                    "reconnect.backoff.max.ms", 500,
                    "socket.connection.setup.timeout.ms", 1_000,
                    "socket.connection.setup.timeout.max.ms", 2_000));
        }

        void start() {
            thread = new Thread(this::run, "np-load-" + prefix);
            thread.setDaemon(true);
            thread.start();
        }

        private void run() {
            long deadline = System.nanoTime() + MAX_RUN.toNanos();
            try {
                for (int i = 0; i < MAX_RECORDS && !stopping && System.nanoTime() - deadline < 0; ) {
                    if (!window.tryAcquire(200, TimeUnit.MILLISECONDS)) {
                        continue;
                    }
                    int index = i++;
                    String value = prefix + index;
                    sent.incrementAndGet();
                    try {
                        producer.send(new ProducerRecord<>(topic, 0, "k", value), (m, e) -> acknowledged(index, value, m, e));
                    } catch (RuntimeException e) {
                        acknowledged(index, value, null, e);
                    }
                }
            } catch (Throwable t) {
                crashed.set(t);
            }
        }

        private void acknowledged(int index, String value, RecordMetadata m, Exception e) {
            try {
                if (e != null) {
                    failed.incrementAndGet();
                    lastError.set(e.toString());
                    return;
                }
                acks.add(new Ack(index, m.offset(), System.nanoTime()));
                String before = ackedByOffset.putIfAbsent(m.offset(), value);
                if (before != null && !before.equals(value)) {
                    conflicts.add("offset " + m.offset() + " acknowledged for " + before + " and for " + value);
                }
            } finally {
                window.release();
            }
        }

        int ackCount() {
            return acks.size();
        }

        long acksBetween(long fromNanos, long toNanos) {
            return acks.stream().filter(a -> a.nanos() - fromNanos >= 0 && a.nanos() - toNanos < 0).count();
        }

        void assertHealthy() {
            if (crashed.get() != null) {
                throw new AssertionError("the producer thread failed", crashed.get());
            }
            assertTrue(thread.isAlive(), "the producer thread runs");
        }

        void awaitAcks(int count, Duration timeout) throws Exception {
            long t0 = System.nanoTime();
            Await.untilPasses(timeout, () -> {
                assertHealthy();
                assertTrue(acks.size() >= count, acks.size() + " of " + count + " acknowledged (" + failed.get()
                        + " failed, last error " + lastError.get() + ")");
            });
            System.out.printf("[partition] %d writes acknowledged on %s (%d ms waited)%n", acks.size(), topic,
                    ms(System.nanoTime() - t0));
        }

        /** The producer's longest wait for an acknowledgement that overlaps [from, to), relative to {@code from}. */
        void printStall(String what, long from, long to) {
            List<Long> times = acks.stream().map(Ack::nanos).sorted().toList();
            long bestGap = -1;
            long gapStart = 0;
            long gapEnd = 0;
            for (int i = 1; i < times.size(); i++) {
                long a = times.get(i - 1);
                long b = times.get(i);
                if (b - from > 0 && a - to < 0 && b - a > bestGap) {
                    bestGap = b - a;
                    gapStart = a;
                    gapEnd = b;
                }
            }
            if (bestGap < 0) {
                System.out.printf("[partition] MEASURED %s: no acknowledgement around the cut%n", what);
                return;
            }
            System.out.printf("[partition] MEASURED %s: the producer's longest wait was %d ms, from the last acknowledgement "
                            + "%+d ms to the next %+d ms relative to the cut%n", what, ms(bestGap), ms(gapStart - from),
                    ms(gapEnd - from));
        }

        /** Stops sending and waits (bounded) for every outstanding record's outcome. */
        void stop() throws InterruptedException {
            stopping = true;
            thread.join(TimeUnit.SECONDS.toMillis(10));
            producer.close(Duration.ofSeconds(95));
            assertTrue(!thread.isAlive(), "the producer thread stopped");
            if (crashed.get() != null) {
                throw new AssertionError("the producer thread failed", crashed.get());
            }
        }

        @Override
        public void close() throws InterruptedException {
            stopping = true;
            if (thread != null) {
                thread.join(TimeUnit.SECONDS.toMillis(10));
            }
            producer.close(Duration.ofSeconds(5));
        }
    }

    // ------------------------------------------------------------------ the network

    /**
     * Network namespaces {@code runnel-np-<tag>-<i>}, each with a veth whose other end is a port of the bridge
     * {@code rnp<tag>br} in the root namespace; node i is {@code 10.213.<x>.i/24}, the bridge (the test process's side)
     * {@code 10.213.<x>.254}. {@link #cut(int)} brings node i's bridge-side veth down; {@link #heal(int)} brings it up;
     * {@link #isolateFromPeers(int)} and {@link #rejoinPeers(int)} add and remove blackhole routes between node i and
     * the others.
     * {@link #close()} removes exactly what {@link #create(int)} made.
     */
    static final class Network implements AutoCloseable {
        private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(15);

        final String ip;
        private final String tag;
        private final int subnet;
        private final int nodes;
        private final List<String> namespaces = new ArrayList<>();
        private final List<String> links = new ArrayList<>();
        private final Set<Integer> linkDown = ConcurrentHashMap.newKeySet();
        private final Set<Integer> isolated = ConcurrentHashMap.newKeySet();
        private final Thread cleanupOnExit;
        private boolean closed;

        private Network(String ip, String tag, int subnet, int nodes) {
            this.ip = ip;
            this.tag = tag;
            this.subnet = subnet;
            this.nodes = nodes;
            this.cleanupOnExit = new Thread(this::removeAll, "np-network-cleanup");
        }

        /** Creates the namespaces and links, or skips the test class (JUnit assumption) saying why it cannot. */
        static Network create(int nodes) throws Exception {
            String uid = effectiveUid();
            Assumptions.assumeTrue("0".equals(uid), "network namespaces need root: this JVM runs with effective uid "
                    + uid + " (from /proc/self/status)");
            String ip = findIp();
            Assumptions.assumeTrue(ip != null, "network namespaces need iproute2's 'ip': not found on PATH ("
                    + System.getenv("PATH") + ") nor in /usr/sbin, /sbin, /usr/bin, /bin");
            String tag = String.format("%04x", ThreadLocalRandom.current().nextInt(0x10000));
            int subnet = freeSubnet(ip);
            Network net = new Network(ip, tag, subnet, nodes);
            Runtime.getRuntime().addShutdownHook(net.cleanupOnExit);
            try {
                // The first namespace on its own: whether namespaces can be made at all here.
                String first = net.namespace(1);
                Result probe = run(ip, "netns", "add", first);
                Assumptions.assumeTrue(probe.exit() == 0, "'" + ip + " netns add " + first + "' failed (exit "
                        + probe.exit() + "): " + probe.output().strip() + " -- network namespaces cannot be created here");
                net.namespaces.add(first);
                net.setUp();
                net.checkReachable();
            } catch (Throwable t) {
                net.close();
                throw t;
            }
            System.out.printf("[network] namespaces %s on bridge %s (%s.254/24), nodes at %s%n", net.namespaces,
                    net.bridge(), net.prefix(), net.addresses());
            return net;
        }

        private void setUp() throws Exception {
            String bridge = bridge();
            setup("create the bridge", ip, "link", "add", "name", bridge, "type", "bridge", "forward_delay", "0");
            links.add(bridge);
            setup("address the bridge", ip, "addr", "add", prefix() + ".254/24", "dev", bridge);
            setup("bring the bridge up", ip, "link", "set", bridge, "up");
            for (int i = 1; i <= nodes; i++) {
                String ns = namespace(i);
                if (!namespaces.contains(ns)) {
                    setup("create namespace " + ns, ip, "netns", "add", ns);
                    namespaces.add(ns);
                }
                String outside = hostVeth(i);
                String inside = "rnp" + tag + "n" + i;
                setup("create veth pair " + outside + "/" + inside, ip, "link", "add", outside, "type", "veth", "peer",
                        "name", inside);
                links.add(outside);
                setup("move " + inside + " into " + ns, ip, "link", "set", inside, "netns", ns);
                setup("attach " + outside + " to " + bridge, ip, "link", "set", outside, "master", bridge);
                setup("bring " + outside + " up", ip, "link", "set", outside, "up");
                setup("bring lo up in " + ns, ip, "netns", "exec", ns, ip, "link", "set", "lo", "up");
                setup("address " + inside + " in " + ns, ip, "netns", "exec", ns, ip, "addr", "add", address(i) + "/24",
                        "dev", inside);
                setup("bring " + inside + " up in " + ns, ip, "netns", "exec", ns, ip, "link", "set", inside, "up");
            }
        }

        /** One setup step; if it fails the environment does not allow the network, and the test is skipped saying so. */
        private static void setup(String what, String... command) throws Exception {
            Result r = run(command);
            Assumptions.assumeTrue(r.exit() == 0, "cannot " + what + ": '" + String.join(" ", command) + "' exited "
                    + r.exit() + ": " + r.output().strip());
        }

        /**
         * Each node's address answers from the root namespace: a connection to a closed port is refused (the kernel of
         * the namespace answers), rather than timing out.
         */
        private void checkReachable() {
            for (int i = 1; i <= nodes; i++) {
                String what;
                long t0 = System.nanoTime();
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(address(i), 9), 3_000);
                    what = null;
                } catch (ConnectException refused) {
                    what = null;
                } catch (IOException e) {
                    what = e.toString();
                }
                Assumptions.assumeTrue(what == null, "node address " + address(i) + " in namespace " + namespace(i)
                        + " does not answer from the root namespace through bridge " + bridge() + " (" + what
                        + "); bridged traffic may be filtered here");
                System.out.printf("[network] %s answers from the root namespace in %d ms%n", address(i),
                        ms(System.nanoTime() - t0));
            }
        }

        String namespace(int node) {
            return "runnel-np-" + tag + "-" + node;
        }

        String address(int node) {
            return prefix() + "." + node;
        }

        private List<String> addresses() {
            List<String> out = new ArrayList<>();
            for (int i = 1; i <= nodes; i++) {
                out.add(address(i));
            }
            return out;
        }

        private String prefix() {
            return "10.213." + subnet;
        }

        private String bridge() {
            return "rnp" + tag + "br";
        }

        private String hostVeth(int node) {
            return "rnp" + tag + "h" + node;
        }

        boolean isUp(int node) {
            return !linkDown.contains(node) && !isolated.contains(node);
        }

        /** Heals whatever is still cut (after a failed scenario). */
        void healAll() throws IOException, InterruptedException {
            for (int node : List.copyOf(linkDown)) {
                heal(node);
            }
            for (int node : List.copyOf(isolated)) {
                rejoinPeers(node);
            }
        }

        /** Node {@code node} can reach nothing and nothing reaches it: its bridge-side veth goes down. */
        void cut(int node) throws IOException, InterruptedException {
            linkDown.add(node);
            mustRun(ip, "link", "set", hostVeth(node), "down");
            System.out.printf("[network] node %d (%s, namespace %s) cut off: %s down%n", node, address(node),
                    namespace(node), hostVeth(node));
        }

        void heal(int node) throws IOException, InterruptedException {
            mustRun(ip, "link", "set", hostVeth(node), "up");
            linkDown.remove(node);
            System.out.printf("[network] node %d (%s) healed: %s up%n", node, address(node), hostVeth(node));
        }

        /**
         * Node {@code node} and the other nodes can no longer reach each other (blackhole routes on both sides, in their
         * namespaces), while the root namespace (the clients) still reaches every node.
         */
        void isolateFromPeers(int node) throws IOException, InterruptedException {
            isolated.add(node);
            for (int other = 1; other <= nodes; other++) {
                if (other != node) {
                    mustRun(ip, "netns", "exec", namespace(node), ip, "route", "add", "blackhole", address(other) + "/32");
                    mustRun(ip, "netns", "exec", namespace(other), ip, "route", "add", "blackhole", address(node) + "/32");
                }
            }
            System.out.printf("[network] node %d (%s) cut off from the other nodes (blackhole routes both ways); the root "
                    + "namespace still reaches it%n", node, address(node));
        }

        void rejoinPeers(int node) throws IOException, InterruptedException {
            for (int other = 1; other <= nodes; other++) {
                if (other != node) {
                    deleteRoute(namespace(node), address(other));
                    deleteRoute(namespace(other), address(node));
                }
            }
            isolated.remove(node);
            System.out.printf("[network] node %d (%s) reaches the other nodes again%n", node, address(node));
        }

        /** Removes a blackhole route; one that is not there (an isolation that failed half-way) is fine. */
        private void deleteRoute(String ns, String address) throws IOException, InterruptedException {
            String[] command = {ip, "netns", "exec", ns, ip, "route", "del", "blackhole", address + "/32"};
            Result r = run(command);
            if (r.exit() != 0 && !r.output().contains("No such process") && !r.output().contains("does not exist")) {
                throw new IOException("'" + String.join(" ", command) + "' exited " + r.exit() + ": " + r.output());
            }
        }

        private static void mustRun(String... command) throws IOException, InterruptedException {
            Result r = run(command);
            if (r.exit() != 0) {
                throw new IOException("'" + String.join(" ", command) + "' exited " + r.exit() + ": " + r.output());
            }
        }

        /** Removes the namespaces, veths and bridge made by {@link #create(int)}; the processes must be gone already. */
        @Override
        public synchronized void close() {
            removeAll();
            try {
                Runtime.getRuntime().removeShutdownHook(cleanupOnExit);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs (or ran) anyway
            }
        }

        private synchronized void removeAll() {
            if (closed) {
                return;
            }
            closed = true;
            List<String> left = new ArrayList<>();
            for (String ns : namespaces) {
                Result r = quietly(ip, "netns", "del", ns);
                if (r.exit() != 0) {
                    left.add("namespace " + ns + ": " + r.output().strip());
                }
            }
            // Deleting a namespace deletes the veth inside it and so its peer; delete what is left, bridge last.
            List<String> reversed = new ArrayList<>(links);
            Collections.reverse(reversed);
            for (String link : reversed) {
                if (quietly(ip, "link", "show", link).exit() == 0) {
                    Result r = quietly(ip, "link", "del", link);
                    // A veth can vanish between the two commands (its namespace's deletion completes asynchronously).
                    if (r.exit() != 0 && !r.output().contains("Cannot find device")) {
                        left.add("link " + link + ": " + r.output().strip());
                    }
                }
            }
            System.out.println("[network] removed namespaces " + namespaces + " and links " + links
                    + (left.isEmpty() ? "" : "; could not remove " + left));
        }

        private static Result quietly(String... command) {
            try {
                return run(command);
            } catch (IOException | InterruptedException e) {
                return new Result(-1, e.toString());
            }
        }

        record Result(int exit, String output) {
        }

        static Result run(String... command) throws IOException, InterruptedException {
            Process p = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            if (!p.waitFor(COMMAND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                return new Result(-1, "'" + String.join(" ", command) + "' did not return within " + COMMAND_TIMEOUT);
            }
            return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        }

        private static String effectiveUid() {
            try {
                for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                    if (line.startsWith("Uid:")) {
                        return line.split("\\s+")[2];
                    }
                }
                return "unknown (no Uid line in /proc/self/status)";
            } catch (IOException | RuntimeException e) {
                return "unknown (" + e + ")";
            }
        }

        private static String findIp() {
            List<String> dirs = new ArrayList<>();
            String path = System.getenv("PATH");
            if (path != null) {
                dirs.addAll(List.of(path.split(File.pathSeparator)));
            }
            dirs.addAll(List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin"));
            for (String dir : dirs) {
                Path candidate = Path.of(dir.isEmpty() ? "." : dir, "ip");
                if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                    return candidate.toString();
                }
            }
            return null;
        }

        /** A third octet x whose 10.213.x.0/24 no address or route of the root namespace touches (20 random tries). */
        private static int freeSubnet(String ip) throws Exception {
            Result addrs = run(ip, "-4", "-o", "addr", "show");
            Result routes = run(ip, "-4", "route", "show", "table", "all");
            String used = addrs.output() + "\n" + routes.output();
            for (int attempt = 0; attempt < 20; attempt++) {
                int x = 1 + ThreadLocalRandom.current().nextInt(254);
                if (!used.contains("10.213." + x + ".") && !used.contains("10.213.0.0/16") && !used.contains("10.0.0.0/8")) {
                    return x;
                }
            }
            Assumptions.abort("no free 10.213.x.0/24 in 20 tries; addresses and routes here:\n" + used);
            return -1;
        }
    }
}
