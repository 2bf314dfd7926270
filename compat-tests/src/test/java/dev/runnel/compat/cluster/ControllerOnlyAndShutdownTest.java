package dev.runnel.compat.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.cluster.KafkaTools.QuorumStatus;
import dev.runnel.compat.cluster.KafkaTools.TopicDescribe;
import dev.runnel.compat.support.Clients;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The production shape of a Kafka cluster: a controller that serves no clients ({@code process.roles=controller}),
 * two combined nodes, and a broker that does not vote. The controller-only node is a voter that tools reach with
 * {@code --bootstrap-controller} and that clients never see as a broker; a broker stopped with SIGTERM leaves in a
 * controlled shutdown (its partitions lose their leader at once, it is gone from the broker list before its session
 * would have expired) and takes its partitions back when it returns.
 */
@Tag("cluster")
class ControllerOnlyAndShutdownTest {
    private static final int CONTROLLER_ONLY = 1;
    private static final int BROKER_ONLY = 4;

    @RegisterExtension
    static final ClusterProcesses cluster = ClusterProcesses.builder()
            .roles(ClusterProcesses.CONTROLLER, ClusterProcesses.COMBINED, ClusterProcesses.COMBINED, ClusterProcesses.BROKER)
            .with("broker.session.timeout.ms", "30000")
            .build();

    @Test
    void aControllerOnlyVoterAndAControlledShutdownOfABroker() throws Exception {
        List<String> brokers = List.of(cluster.bootstrap(2), cluster.bootstrap(3), cluster.bootstrap(BROKER_ONLY));
        ClusterClients.awaitBrokers(brokers, Set.of(2, 3, BROKER_ONLY), Duration.ofSeconds(30));

        // The controller-only node answers kafka-metadata-quorum on its CONTROLLER listener and is a voter.
        QuorumStatus status = KafkaTools.parseStatus(KafkaTools.quorumThroughControllers(
                cluster.node(CONTROLLER_ONLY).controllerEndpoint(), "describe", "--status").assertExitCode(0));
        System.out.println("[cluster] describe --status through the controller-only node:\n" + status.raw());
        assertEquals(List.of(1, 2, 3), status.voterIds().stream().sorted().toList(), "voters: " + status.raw());
        assertEquals(List.of(BROKER_ONLY), status.observerIds(), "the broker-only node observes: " + status.raw());

        String topic = Clients.uniqueTopic("shutdown");
        KafkaTools.topics(cluster.bootstrap(2), "--create", "--topic", topic, "--partitions", "3", "--replication-factor", "1")
                .assertExitCode(0);
        TopicDescribe before = KafkaTools.describeTopicOnceItHas(cluster.bootstrap(2), topic, 3, Duration.ofSeconds(15));
        assertEquals(Map.of("2", 1, "3", 1, "4", 1), before.leaderCounts(), "one leader per broker, none on the controller:\n" + before.raw());

        // SIGTERM: a controlled shutdown. The session timeout is 30 s here, so a quick departure from the broker
        // list can only come from the controlled shutdown.
        long t0 = System.nanoTime();
        int exit = cluster.terminate(BROKER_ONLY);
        long stopMs = (System.nanoTime() - t0) / 1_000_000;
        System.out.printf("[cluster] MEASURED: broker %d stopped %d ms after SIGTERM (exit code %d)%n", BROKER_ONLY, stopMs, exit);
        assertTrue(cluster.node(BROKER_ONLY).outputOfThisLife().contains("Controlled shutdown of broker " + BROKER_ONLY + " completed"),
                "the broker's log reports its controlled shutdown:\n" + cluster.node(BROKER_ONLY).tail(20));
        ClusterClients.awaitBrokers(List.of(cluster.bootstrap(2), cluster.bootstrap(3)), Set.of(2, 3), Duration.ofSeconds(10));
        TopicDescribe during = KafkaTools.describeTopic(cluster.bootstrap(3), topic);
        String orphan = before.partitions().entrySet().stream().filter(e -> e.getValue().leader().equals("4"))
                .map(e -> e.getKey()).findFirst().map(String::valueOf).orElseThrow();
        assertEquals("none", during.partitions().get(Integer.parseInt(orphan)).leader(),
                "its only replica is gone, so the partition has no leader (no unclean election):\n" + during.raw());

        // It comes back: registered again, unfenced, and its partition has its leader again.
        cluster.restart(BROKER_ONLY);
        ClusterClients.awaitBrokers(brokers, Set.of(2, 3, BROKER_ONLY), Duration.ofSeconds(30));
        TopicDescribe after = KafkaTools.describeTopicOnceItHas(cluster.bootstrap(BROKER_ONLY), topic, 3, Duration.ofSeconds(15));
        dev.runnel.compat.support.Await.untilPasses(Duration.ofSeconds(20), () -> assertEquals(before.leaderCounts(),
                KafkaTools.describeTopic(cluster.bootstrap(2), topic).leaderCounts(), "leaders as before the restart"));
        System.out.println("[cluster] after the restart:\n" + after.raw());
    }
}
