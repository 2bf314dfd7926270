package dev.runnel.compat.transactions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.broker.state.Partition;
import dev.runnel.compat.support.Await;
import dev.runnel.log.AppendOrigin;
import dev.runnel.log.AppendResult;
import dev.runnel.log.EndTxnMarker;
import dev.runnel.testkit.EmbeddedRunnel;
import dev.runnel.testkit.EmbeddedRunnelCluster;
import dev.runnel.wire.records.BatchBuilder;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * Transactions across replicas: the leader of a partition with three replicas gets committed, aborted and open
 * transactions; the followers copy the batches and markers with Kafka's Fetch and build the same aborted-transaction
 * index and open transactions from what they copied. After the leader stops, the new leader serves read_committed
 * consumers exactly as the old one did: aborted records hidden, the last stable offset pinned at the open one.
 *
 * <p><b>Stand-in:</b> the transactional batches and markers are appended in-process on the leader (as the transaction
 * coordinator appends its markers); the replication and every read are the real thing.
 */
class ReplicatedTransactionsTest {
    private static final String TOPIC = "txn-replicated";
    private static final TopicPartition TP = new TopicPartition(TOPIC, 0);
    private static final Duration WAIT = Duration.ofSeconds(30);

    private final Map<Long, Integer> sequences = new HashMap<>();

    private long append(Partition leader, ByteBuffer batch, AppendOrigin origin) {
        AppendResult r = leader.appendAsLeader(batch, origin);
        assertTrue(r.isOk(), r.toString());
        return r.firstOffset();
    }

    /** STAND-IN for a transactional producer's send. */
    private long send(Partition leader, long pid, String value) {
        int seq = sequences.getOrDefault(pid, 0);
        sequences.put(pid, seq + 1);
        return append(leader, new BatchBuilder().producer(pid, (short) 0, seq).transactional(true)
                .append(System.currentTimeMillis(), "k", value).build(), AppendOrigin.CLIENT);
    }

    /** STAND-IN for the coordinator's WriteTxnMarkers. */
    private long end(Partition leader, long pid, boolean commit) {
        return append(leader, EndTxnMarker.batch(pid, (short) 0, 0, commit, System.currentTimeMillis()), AppendOrigin.COORDINATOR);
    }

    private static int leaderOf(String bootstrap) {
        Map<String, Object> p = Map.of("bootstrap.servers", bootstrap, "max.block.ms", 20_000);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            for (PartitionInfo info : producer.partitionsFor(TOPIC)) {
                if (info.partition() == 0 && info.leader() != null) {
                    return info.leader().id();
                }
            }
        }
        return -1;
    }

    @Test
    void followersBuildTheSameIndexAndTheNewLeaderServesReadCommitted() throws Exception {
        try (EmbeddedRunnelCluster cluster = EmbeddedRunnel.cluster(3).start()) {
            cluster.createTopic(TOPIC, 1, 3, Map.of());
            int[] leaderId = {-1};
            Await.untilPasses(WAIT, () -> {
                leaderId[0] = leaderOf(cluster.bootstrapServers());
                assertTrue(leaderId[0] > 0);
                assertTrue(cluster.node(leaderId[0]).broker().topics().partition(TOPIC, 0).isLeader());
            });
            Partition leader = cluster.node(leaderId[0]).broker().topics().partition(TOPIC, 0);

            send(leader, 10, "committed-0");            // 0
            send(leader, 20, "aborted-0");              // 1
            send(leader, 10, "committed-1");            // 2
            end(leader, 10, true);                      // 3
            end(leader, 20, false);                     // 4
            long open = send(leader, 30, "open-0");     // 5
            long logEnd = leader.logEndOffset();

            // every replica copies the batches and derives the same index and open transaction
            for (int node : cluster.nodeIds()) {
                Partition replica = cluster.node(node).broker().topics().partition(TOPIC, 0);
                Path index = cluster.dataDir(node).resolve(TOPIC + "-0").resolve("00000000000000000000.txnindex");
                Await.untilPasses(WAIT, () -> {
                    assertEquals(logEnd, replica.logEndOffset(), "node " + node);
                    assertTrue(Files.isRegularFile(index) && Files.size(index) == 34, "node " + node + ": " + index);
                });
                ByteBuffer entry = ByteBuffer.wrap(Files.readAllBytes(index));
                assertEquals(20L, entry.getLong(2), "producer id on node " + node);
                assertEquals(1L, entry.getLong(10), "first offset on node " + node);
                assertEquals(4L, entry.getLong(18), "last offset on node " + node);
                assertEquals(open, replica.log().openTransactions().get(0)[1], "open transaction on node " + node);
            }
            Await.untilPasses(WAIT, () -> assertEquals(open, leader.lastStableOffset()));

            cluster.stop(leaderId[0]);
            String survivors = cluster.runningBootstrapServers();
            int[] next = {-1};
            Await.untilPasses(WAIT, () -> {
                next[0] = leaderOf(survivors);
                assertTrue(next[0] > 0);
                assertNotEquals(leaderId[0], next[0]);
            });
            Map<String, Object> p = new HashMap<>();
            p.put("bootstrap.servers", survivors);
            p.put("isolation.level", "read_committed");
            p.put("default.api.timeout.ms", 20_000);
            try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
                c.assign(List.of(TP));
                c.seekToBeginning(List.of(TP));
                Await.untilPasses(WAIT, () -> assertEquals(open, c.endOffsets(List.of(TP)).get(TP)));
                List<String> values = new ArrayList<>();
                long deadline = System.nanoTime() + WAIT.toNanos();
                while (c.position(TP) < open) {
                    assertTrue(System.nanoTime() < deadline, "read " + values);
                    for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                        values.add(r.value());
                    }
                }
                assertEquals(List.of("committed-0", "committed-1"), values);
            }
        }
    }
}
