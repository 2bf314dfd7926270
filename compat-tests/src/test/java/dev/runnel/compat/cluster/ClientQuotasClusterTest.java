package dev.runnel.compat.cluster;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.support.Await;
import dev.runnel.compat.support.ChildProcess.Result;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Client quotas are cluster metadata (Kafka's ClientQuotaRecords in the metadata log): a quota set with
 * {@code kafka-configs} (Kafka 3.9's ConfigCommand) through one broker is described by every other broker, and a
 * removal through another broker is seen everywhere.
 */
@Tag("cluster")
class ClientQuotasClusterTest {

    private static final String CONFIG_COMMAND = "kafka.admin.ConfigCommand";

    @RegisterExtension
    static final ClusterProcesses cluster = ClusterProcesses.threeNodes();

    @BeforeAll
    static void theThreeNodesFormOneCluster() throws Exception {
        List<String> eachNode = cluster.nodes().stream().map(ClusterProcesses.Node::bootstrap).toList();
        ClusterClients.awaitBrokers(eachNode, Set.of(1, 2, 3), Duration.ofSeconds(30));
    }

    private static Result configs(int node, String... args) throws Exception {
        String[] all = new String[args.length + 2];
        all[0] = "--bootstrap-server";
        all[1] = cluster.bootstrap(node);
        System.arraycopy(args, 0, all, 2, args.length);
        return KafkaTools.tool39(CONFIG_COMMAND, all);
    }

    @Test
    void aQuotaAlteredThroughOneBrokerIsDescribedByTheOthers() throws Exception {
        configs(1, "--alter", "--entity-type", "clients", "--entity-name", "spread-app",
                "--add-config", "producer_byte_rate=1048576").assertExitCode(0);
        configs(1, "--alter", "--entity-type", "users", "--entity-default", "--add-config", "consumer_byte_rate=2097152")
                .assertExitCode(0);
        for (int node : new int[] {2, 3}) {
            Await.untilPasses(Duration.ofSeconds(20), () -> {
                Result r = configs(node, "--describe", "--entity-type", "clients", "--entity-name", "spread-app").assertExitCode(0);
                assertTrue(r.stdout().contains("Quota configs for client-id 'spread-app' are producer_byte_rate=1048576.0"), r.describe());
                r = configs(node, "--describe", "--entity-type", "users", "--entity-default").assertExitCode(0);
                assertTrue(r.stdout().contains("Quota configs for the default user-principal are consumer_byte_rate=2097152.0"), r.describe());
            });
            System.out.println("[cluster] node " + node + " describes the quotas set through node 1");
        }
        configs(3, "--alter", "--entity-type", "clients", "--entity-name", "spread-app", "--delete-config", "producer_byte_rate")
                .assertExitCode(0);
        Await.untilPasses(Duration.ofSeconds(20), () -> {
            Result r = configs(1, "--describe", "--entity-type", "clients", "--entity-name", "spread-app").assertExitCode(0);
            assertFalse(r.stdout().contains("producer_byte_rate"), r.describe());
        });
        System.out.println("[cluster] node 1 no longer describes the quota removed through node 3");
    }
}
