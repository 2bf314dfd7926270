package dev.runnel.compat.cluster;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.support.Await;
import dev.runnel.compat.support.ChildProcess.Result;
import dev.runnel.compat.support.KafkaConfigsTool;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Client quotas are cluster metadata (Kafka's ClientQuotaRecords in the metadata log): a quota set with
 * {@code kafka-configs} (Kafka 4.4.0's and 3.9.1's) through one broker is described by every other broker, and a
 * removal through another broker is seen everywhere.
 */
@Tag("cluster")
class ClientQuotasClusterTest {

    @RegisterExtension
    static final ClusterProcesses cluster = ClusterProcesses.threeNodes();

    @BeforeAll
    static void theThreeNodesFormOneCluster() throws Exception {
        List<String> eachNode = cluster.nodes().stream().map(ClusterProcesses.Node::bootstrap).toList();
        ClusterClients.awaitBrokers(eachNode, Set.of(1, 2, 3), Duration.ofSeconds(30));
    }

    private static Result configs(KafkaConfigsTool tool, int node, String... args) throws Exception {
        return tool.run(cluster.bootstrap(node), args);
    }

    /** Kafka 4.4.0's and 3.9.1's kafka-configs, each on its own client id; the default user is set by both. */
    @ParameterizedTest(name = "{0}")
    @EnumSource(KafkaConfigsTool.class)
    void aQuotaAlteredThroughOneBrokerIsDescribedByTheOthers(KafkaConfigsTool tool) throws Exception {
        String app = "spread-app-" + tool.tag();
        configs(tool, 1, "--alter", "--entity-type", "clients", "--entity-name", app,
                "--add-config", "producer_byte_rate=1048576").assertExitCode(0);
        configs(tool, 1, "--alter", "--entity-type", "users", "--entity-default", "--add-config", "consumer_byte_rate=2097152")
                .assertExitCode(0);
        for (int node : new int[] {2, 3}) {
            Await.untilPasses(Duration.ofSeconds(20), () -> {
                Result r = configs(tool, node, "--describe", "--entity-type", "clients", "--entity-name", app).assertExitCode(0);
                assertTrue(r.stdout().contains("Quota configs for client-id '" + app + "' are producer_byte_rate=1048576.0"), r.describe());
                r = configs(tool, node, "--describe", "--entity-type", "users", "--entity-default").assertExitCode(0);
                assertTrue(r.stdout().contains("Quota configs for the default user-principal are consumer_byte_rate=2097152.0"), r.describe());
            });
            System.out.println("[cluster] " + tool + ": node " + node + " describes the quotas set through node 1");
        }
        configs(tool, 3, "--alter", "--entity-type", "clients", "--entity-name", app, "--delete-config", "producer_byte_rate")
                .assertExitCode(0);
        Await.untilPasses(Duration.ofSeconds(20), () -> {
            Result r = configs(tool, 1, "--describe", "--entity-type", "clients", "--entity-name", app).assertExitCode(0);
            assertFalse(r.stdout().contains("producer_byte_rate"), r.describe());
        });
        System.out.println("[cluster] " + tool + ": node 1 no longer describes the quota removed through node 3");
    }
}
