package dev.runnel.compat.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.support.Await;
import dev.runnel.compat.support.ChildProcess;
import dev.runnel.compat.support.ChildProcess.Result;
import dev.runnel.compat.support.Clients;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.TopicPartitionInfo;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * After a failover the leaders pile up on the brokers that stayed; {@code kafka-leader-election --election-type
 * PREFERRED} moves each partition's leadership back to its first replica once that replica is in sync again
 * (automatic rebalancing is off here, so only the tool can do it).
 */
@Tag("cluster")
class LeaderElectionTest {

    @RegisterExtension
    static final ClusterProcesses cluster = ClusterProcesses.builder()
            .with("broker.session.timeout.ms", "3000")
            .with("broker.heartbeat.interval.ms", "500")
            .with("auto.leader.rebalance.enable", "false")
            .build();

    @Test
    void preferredLeaderElectionWithKafkasToolRestoresTheLeadersAfterAFailover() throws Exception {
        String topic = Clients.uniqueTopic("preferred");
        try (Admin admin = ClusterClients.admin(cluster.bootstrapServers())) {
            admin.createTopics(List.of(new NewTopic(topic, Optional.of(3), Optional.of((short) 3)))).all().get(30, TimeUnit.SECONDS);
            Await.untilPasses(Duration.ofSeconds(30), () -> assertAllPreferred(admin, topic));
        }
        cluster.kill9(1);
        try (Admin admin = ClusterClients.admin(cluster.bootstrapServersExcept(1))) {
            Await.untilPasses(Duration.ofSeconds(30), () -> {
                for (TopicPartitionInfo p : partitions(admin, topic)) {
                    assertTrue(p.leader() != null && p.leader().id() != 1 && p.leader().id() >= 0, "failed over: " + p);
                }
            });
        }
        cluster.restart(1);
        try (Admin admin = ClusterClients.admin(cluster.bootstrapServers())) {
            Await.untilPasses(Duration.ofSeconds(60), () -> {
                for (TopicPartitionInfo p : partitions(admin, topic)) {
                    assertEquals(3, p.isr().size(), "node 1 back in sync: " + p);
                }
            });
            long notPreferred = partitions(admin, topic).stream().filter(p -> p.leader().id() != p.replicas().get(0).id()).count();
            assertEquals(1, notPreferred, "the partition node 1 preferred is led elsewhere until an election");
        }
        Result r = ChildProcess.kafkaTool("org.apache.kafka.tools.LeaderElectionCommand", null, "--bootstrap-server",
                cluster.bootstrapServers(), "--election-type", "PREFERRED", "--all-topic-partitions").assertExitCode(0);
        System.out.println("[cluster] kafka-leader-election:\n" + r.stdout());
        assertTrue(r.stdout().contains("Successfully completed leader election (PREFERRED)"), r.describe());
        try (Admin admin = ClusterClients.admin(cluster.bootstrapServers())) {
            Await.untilPasses(Duration.ofSeconds(15), () -> assertAllPreferred(admin, topic));
        }
    }

    private static List<TopicPartitionInfo> partitions(Admin admin, String topic) throws Exception {
        return admin.describeTopics(List.of(topic)).allTopicNames().get(10, TimeUnit.SECONDS).get(topic).partitions();
    }

    private static void assertAllPreferred(Admin admin, String topic) throws Exception {
        for (TopicPartitionInfo p : partitions(admin, topic)) {
            assertTrue(p.leader() != null && p.leader().id() == p.replicas().get(0).id(), "led by its preferred replica: " + p);
        }
    }

}
