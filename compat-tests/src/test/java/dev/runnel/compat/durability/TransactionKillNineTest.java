package dev.runnel.compat.durability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.support.Await;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * The broker process is killed with SIGKILL while a stock transactional Java producer commits transactions that each
 * write one record to each of two partitions, and started again, several times (the kill lands wherever the producer
 * is: between AddPartitionsToTxn and EndTxn, between PrepareCommit and the markers, between the two markers...).
 * After the last restart a read_committed consumer sees, for every transaction, both of its records or neither: never
 * half a transaction; and every transaction whose commit was acknowledged is there.
 *
 * <p>Rounds: {@code -Drunnel.txnKill.rounds} (default 4).
 */
class TransactionKillNineTest {
    private static final int ROUNDS = Integer.getInteger("runnel.txnKill.rounds", 4);
    private static final String TOPIC = "txn-kill";
    private static final Duration DEADLINE = Duration.ofSeconds(60);

    @Test
    void aKilledBrokerNeverLeavesHalfATransaction() throws Exception {
        Random random = new Random(Long.getLong("runnel.txnKill.seed", System.nanoTime()));
        List<String> acknowledged = Collections.synchronizedList(new ArrayList<>());
        try (BrokerProcess broker = BrokerProcess.create()
                .with("transaction.abort.timed.out.transaction.cleanup.interval.ms", "500")
                .start()) {
            try (Admin admin = admin(broker)) {
                admin.createTopics(List.of(new NewTopic(TOPIC, 2, (short) 1))).all().get(30, TimeUnit.SECONDS);
            }
            int next = 0;
            for (int round = 0; round < ROUNDS; round++) {
                AtomicBoolean stop = new AtomicBoolean();
                int first = next;
                int base = acknowledged.size();
                int commitsBeforeKill = 3 + random.nextInt(20);
                Thread writer = new Thread(() -> {
                    KafkaProducer<String, String> p = producer(broker);
                    try {
                        p.initTransactions();
                        for (int i = first; !stop.get(); i++) {
                            p.beginTransaction();
                            p.send(new ProducerRecord<>(TOPIC, 0, "t" + i, "t" + i));
                            p.send(new ProducerRecord<>(TOPIC, 1, "t" + i, "t" + i));
                            p.commitTransaction();
                            acknowledged.add("t" + i);
                        }
                    } catch (RuntimeException e) {
                        // the broker died under the producer: expected once per round
                    } finally {
                        p.close(Duration.ZERO);
                    }
                }, "txn-writer-" + round);
                writer.start();
                Await.untilPasses(DEADLINE, () -> assertTrue(acknowledged.size() >= base + commitsBeforeKill,
                        "commits this round: " + (acknowledged.size() - base)));
                broker.kill();
                stop.set(true);
                broker.start();
                writer.join(TimeUnit.SECONDS.toMillis(90));
                assertTrue(!writer.isAlive(), "the writer stopped");
                next = first + 10_000;
            }
            // A new producer with the same transactional id: its initTransactions returns once the coordinator has
            // completed or aborted whatever the last kill interrupted.
            try (KafkaProducer<String, String> p = producer(broker)) {
                p.initTransactions();
            }
            Set<String> p0 = readCommitted(broker, 0);
            Set<String> p1 = readCommitted(broker, 1);
            assertEquals(p0, p1, "every transaction is in both partitions or in neither");
            assertTrue(p0.containsAll(acknowledged), "every acknowledged commit survived: missing "
                    + missing(acknowledged, p0));
            System.out.printf("[compat] %d kills, %d transactions acknowledged, %d visible to read_committed%n",
                    ROUNDS, acknowledged.size(), p0.size());
        }
    }

    private static List<String> missing(List<String> acknowledged, Set<String> seen) {
        List<String> out = new ArrayList<>(acknowledged);
        out.removeAll(seen);
        return out;
    }

    private static KafkaProducer<String, String> producer(BrokerProcess broker) {
        Map<String, Object> c = new HashMap<>();
        c.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        c.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        c.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        c.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "txn-kill-writer");
        c.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 5_000);
        c.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 30_000);
        c.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 10_000);
        c.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
        return new KafkaProducer<>(c);
    }

    private static Admin admin(BrokerProcess broker) {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()));
    }

    private static Set<String> readCommitted(BrokerProcess broker, int partition) {
        Map<String, Object> c = new HashMap<>();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        Set<String> values = new TreeSet<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c)) {
            TopicPartition tp = new TopicPartition(TOPIC, partition);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long end = consumer.endOffsets(List.of(tp)).get(tp);
            long deadline = System.nanoTime() + DEADLINE.toNanos();
            while (consumer.position(tp) < end) {
                assertTrue(System.nanoTime() < deadline, "read_committed reached " + consumer.position(tp) + " of " + end);
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    assertTrue(values.add(r.value()), "no record twice: " + r.value());
                }
            }
        }
        return values;
    }
}
