package dev.runnel.compat.durability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.support.Await;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TransactionState;
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
 * kill -9 while a stock transactional producer's transaction is open: after the restart the log replays the
 * transactional batches (no clean-shutdown state to trust), so read_committed consumers are held at the open
 * transaction's first record; the transaction coordinator then aborts it when it times out, its ABORT marker goes
 * into the aborted-transaction index, and read_committed consumers read on past it without ever seeing its records.
 */
class KillNineMidTransactionTest {
    private static final String TOPIC = "txn-kill9";
    private static final TopicPartition TP = new TopicPartition(TOPIC, 0);
    private static final int TXN_TIMEOUT_MS = 20_000;

    private static KafkaConsumer<String, String> readCommitted(BrokerProcess broker) {
        Map<String, Object> c = new HashMap<>();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000);
        KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c);
        consumer.assign(Set.of(TP));
        consumer.seekToBeginning(Set.of(TP));
        return consumer;
    }

    @Test
    void anOpenTransactionStaysInvisibleAcrossKillNineAndIsAbortedByItsTimeout() throws Exception {
        try (BrokerProcess broker = BrokerProcess.create()) {
            // Kafka's 50 __transaction_state partitions (and 50 of __consumer_offsets), reopened after the kill.
            broker.with("transaction.abort.timed.out.transaction.cleanup.interval.ms", "200")
                    .start();
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
                admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            }
            Map<String, Object> p = new HashMap<>();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
            p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
            p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
            p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "kill9-txn");
            p.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, TXN_TIMEOUT_MS);
            p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 20_000);
            KafkaProducer<String, String> producer = new KafkaProducer<>(p);
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(TOPIC, 0, "k", "committed-0"));
            producer.send(new ProducerRecord<>(TOPIC, 0, "k", "committed-1"));
            producer.commitTransaction();                      // offsets 0, 1, COMMIT 2
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(TOPIC, 0, "k", "in-doubt-0")).get(20, TimeUnit.SECONDS); // 3
            producer.send(new ProducerRecord<>(TOPIC, 0, "k", "in-doubt-1")).get(20, TimeUnit.SECONDS); // 4
            try (KafkaConsumer<String, String> c = readCommitted(broker)) {
                assertEquals(3L, c.endOffsets(Set.of(TP)).get(TP));
            }

            broker.kill();
            producer.close(Duration.ZERO); // no abort from the client: the broker is gone and a forced close sends nothing
            long restartedAt = System.nanoTime();
            broker.start();
            System.out.printf("[durability] broker restarted after kill -9 in %d ms%n", (System.nanoTime() - restartedAt) / 1_000_000);
            assertTrue(broker.outputOfThisLife().contains("Loaded log " + TOPIC + "-0 (unclean shutdown)"), broker.tail(20));

            try (KafkaConsumer<String, String> c = readCommitted(broker)) {
                long pinned = c.endOffsets(Set.of(TP)).get(TP);
                // Read after the offsets: a transaction still Ongoing then was open when they were read (states only
                // move on), so no ABORT marker can have moved the last stable offset yet.
                try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
                    TransactionState state = admin.describeTransactions(List.of("kill9-txn")).description("kill9-txn")
                            .get(30, TimeUnit.SECONDS).state();
                    assertEquals(TransactionState.ONGOING, state, "checked before the coordinator's timeout abort");
                }
                assertEquals(3L, pinned, "replayed after kill -9: the open transaction still pins the last stable offset");

                // the coordinator aborts the timed-out transaction: marker at 5, the LSO moves past it
                Await.untilPasses(Duration.ofSeconds(TXN_TIMEOUT_MS / 1000 + 20),
                        () -> assertEquals(6L, c.endOffsets(Set.of(TP)).get(TP)));
                System.out.printf("[durability] the coordinator aborted the in-doubt transaction %d ms after the restart%n",
                        (System.nanoTime() - restartedAt) / 1_000_000);
                List<String> values = new ArrayList<>();
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (c.position(TP) < 6) {
                    assertTrue(System.nanoTime() < deadline, "read " + values);
                    for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                        values.add(r.value());
                    }
                }
                assertEquals(List.of("committed-0", "committed-1"), values);
            }
            Path index = broker.partitionDir(TOPIC, 0).resolve("00000000000000000000.txnindex");
            ByteBuffer entry = ByteBuffer.wrap(Files.readAllBytes(index));
            assertEquals(34, entry.remaining());
            assertEquals(3L, entry.getLong(10), "first offset");
            assertEquals(5L, entry.getLong(18), "the ABORT marker");
            broker.stop();
        }
    }
}
