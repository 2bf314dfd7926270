package dev.runnel.compat.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.support.Await;
import dev.runnel.compat.support.Clients;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The active controller's liveness probe: a broker whose process is gone (kill -9: its listener refuses
 * connections) is fenced, and its partitions get new leaders, long before {@code broker.session.timeout.ms} — set to
 * 30 s here, so a new leader within 10 s can only come from the probe — while a paused process (SIGSTOP: its kernel
 * still accepts connections) is left to the session timeout, as in Kafka.
 */
@Tag("cluster")
class FastFailoverTest {
    private static final long SESSION_TIMEOUT_MS = 30_000;

    @RegisterExtension
    static final ClusterProcesses cluster = ClusterProcesses.builder()
            .with("broker.session.timeout.ms", Long.toString(SESSION_TIMEOUT_MS))
            .with("broker.heartbeat.interval.ms", "500")
            .with("replica.lag.time.max.ms", "30000")
            .build();

    private static int activeController() throws Exception {
        try (Admin admin = ClusterClients.admin(cluster.bootstrapServers())) {
            return admin.describeMetadataQuorum().quorumInfo().get(30, TimeUnit.SECONDS).leaderId();
        }
    }

    private static TopicPartitionInfo describe(Admin admin, String topic) throws Exception {
        TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get(10, TimeUnit.SECONDS).get(topic);
        return d.partitions().get(0);
    }

    private static Set<Integer> liveBrokers(Admin admin) throws Exception {
        return admin.describeCluster().nodes().get(10, TimeUnit.SECONDS).stream().map(Node::id)
                .collect(Collectors.toCollection(TreeSet::new));
    }

    /** A topic led by {@code leader} (its preferred replica), replicated on all three brokers. */
    private static String topicLedBy(int leader) throws Exception {
        String topic = Clients.uniqueTopic("fast-failover");
        List<Integer> replicas = new ArrayList<>();
        replicas.add(leader);
        cluster.brokerIds().stream().filter(id -> id != leader).forEach(replicas::add);
        try (Admin admin = ClusterClients.admin(cluster.bootstrapServers())) {
            admin.createTopics(List.of(new NewTopic(topic, Map.of(0, replicas)))).all().get(30, TimeUnit.SECONDS);
            Await.untilPasses(Duration.ofSeconds(30), () -> {
                TopicPartitionInfo p = describe(admin, topic);
                assertEquals(3, p.isr().size(), "ISR: " + p);
                assertEquals(leader, p.leader().id(), "leader: " + p);
            });
        }
        return topic;
    }

    @Test
    void aKilledBrokerIsFencedAndReplacedLongBeforeItsSessionExpires() throws Exception {
        cluster.printingTailsOnFailure(() -> {
            int controller = activeController();
            int victim = cluster.brokerIds().stream().filter(id -> id != controller).findFirst().orElseThrow();
            String topic = topicLedBy(victim);
            try (KafkaProducer<String, String> producer = ClusterClients.producer(cluster.bootstrapServers(),
                    Map.of("acks", "all", "linger.ms", 0))) {
                producer.send(new ProducerRecord<>(topic, 0, "k", "before")).get(30, TimeUnit.SECONDS);
                long t0 = System.nanoTime();
                cluster.kill9(victim);
                try (Admin admin = ClusterClients.admin(cluster.bootstrapServersExcept(victim))) {
                    Await.untilPasses(Duration.ofSeconds(10), () -> {
                        TopicPartitionInfo p = describe(admin, topic);
                        assertTrue(p.leader() != null && p.leader().id() >= 0 && p.leader().id() != victim, "a new leader: " + p);
                    });
                    long newLeaderMs = (System.nanoTime() - t0) / 1_000_000;
                    producer.send(new ProducerRecord<>(topic, 0, "k", "after")).get(30, TimeUnit.SECONDS);
                    long ackMs = (System.nanoTime() - t0) / 1_000_000;
                    System.out.printf("[failover] MEASURED: broker %d killed with -9 (session timeout %d ms): new leader "
                            + "after %d ms, next acks=all write acknowledged after %d ms%n", victim, SESSION_TIMEOUT_MS,
                            newLeaderMs, ackMs);
                    assertTrue(newLeaderMs < SESSION_TIMEOUT_MS / 3, "the probe, not the session timeout, fenced it: " + newLeaderMs + " ms");
                    assertTrue(!liveBrokers(admin).contains(victim), "the killed broker is fenced (not listed)");
                }
            }
            cluster.restart(victim);
            try (Admin admin = ClusterClients.admin(cluster.bootstrapServers())) {
                Await.untilPasses(Duration.ofSeconds(60), () -> assertEquals(3, describe(admin, topic).isr().size()));
                Await.untilPasses(Duration.ofSeconds(30), () -> assertTrue(liveBrokers(admin).contains(victim), "back"));
            }
        });
    }

    @Test
    void aPausedBrokerIsNotFencedByTheProbe() throws Exception {
        cluster.printingTailsOnFailure(() -> {
            int controller = activeController();
            int paused = cluster.brokerIds().stream().filter(id -> id != controller).findFirst().orElseThrow();
            String topic = topicLedBy(paused);
            String fenced = "Fencing broker " + paused + " ";
            String refused = "Broker " + paused + " (epoch";
            int seenBefore = cluster.node(controller).outputOfThisLife().length(); // earlier tests' lines do not count
            cluster.pause(paused);
            int looks = 0;
            try {
                // 20 probe intervals (250 ms) with the process stopped: its kernel still accepts connections, so the
                // active controller's probe must not fence it (the 30 s session timeout is far away)
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (System.nanoTime() < until) {
                    String log = cluster.node(controller).outputOfThisLife().substring(seenBefore);
                    assertTrue(!log.contains(fenced) && !log.contains(refused), "the probe left the paused broker alone");
                    looks++;
                    // pacing of an observation window (nothing is awaited): look 20 times a second
                    java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
                }
            } finally {
                cluster.resume(paused);
            }
            // The first answers after SIGCONT come from a node that has just woken up; CI once saw one
            // UNKNOWN_TOPIC_OR_PARTITION here (not reproduced in 15 runs since, at loads 0-8). Every failed look is
            // printed and counted, so a transient answer shows in the output instead of hiding.
            List<String> failedLooks = new ArrayList<>();
            try (Admin admin = ClusterClients.admin(cluster.bootstrapServers())) {
                Await.untilPasses(Duration.ofSeconds(15), () -> {
                    try {
                        assertEquals(paused, describe(admin, topic).leader().id(), "the paused broker still leads");
                        assertTrue(liveBrokers(admin).contains(paused), "and is unfenced");
                    } catch (Exception | AssertionError e) {
                        failedLooks.add(e.toString());
                        System.out.printf("[failover] look after resume failed: %s%n", e);
                        throw e;
                    }
                });
            }
            String log = cluster.node(controller).outputOfThisLife().substring(seenBefore);
            assertTrue(!log.contains(fenced), "never fenced");
            System.out.printf("[failover] MEASURED: broker %d paused for 5 s (session timeout %d ms): not fenced, still "
                    + "leading (%d looks at the controller's log; %d failed looks after resume)%n", paused, SESSION_TIMEOUT_MS, looks,
                    failedLooks.size());
        });
    }
}
