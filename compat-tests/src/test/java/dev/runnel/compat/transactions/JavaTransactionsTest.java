package dev.runnel.compat.transactions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.support.Await;
import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.Clients;
import dev.runnel.compat.support.StoredBatches;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The Java producer's transactional API against Runnel's transaction coordinator: commit, abort, fencing of a zombie,
 * the coordinator's timeout abort, and what a read_uncommitted reader and the admin client see of it.
 */
@Tag("java-client")
class JavaTransactionsTest {
    private static final int CONTROL = 0x20;
    private static final int TRANSACTIONAL = 0x10;

    @RegisterExtension
    static final Broker broker = Broker.create()
            .with("transaction.abort.timed.out.transaction.cleanup.interval.ms", "200");

    /**
     * Kafka 4.x clients run transactions V2 (KIP-890) against Runnel, whose transaction.version is 2 by default as on
     * a new Kafka 4.x cluster: every commit or abort bumps the producer epoch. 3.x clients run V1.
     */
    static boolean clientUsesTransactionsV2() {
        String v = System.getProperty("runnel.kafkaClientsVersion", "");
        return !v.isEmpty() && Integer.parseInt(v.split("\\.")[0]) >= 4;
    }

    static String clientDescription() {
        return "kafka-clients " + System.getProperty("runnel.kafkaClientsVersion", "?");
    }

    static KafkaProducer<String, String> transactional(String id, Map<String, Object> more) {
        Map<String, Object> config = new HashMap<>(Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG, id));
        config.putAll(more);
        return Clients.producer(broker, config);
    }

    /** Every record of the partition, read_uncommitted, up to its end offset. */
    static List<ConsumerRecord<String, String>> readAll(String topic, int partition) {
        return readAll(topic, partition, "read_uncommitted");
    }

    /** The values of {@link #readAll(String, int, String)} on any broker. */
    static List<String> readAll(Broker broker, String topic, int partition, String isolation) {
        return records(broker, topic, partition, isolation).stream().map(ConsumerRecord::value).toList();
    }

    /** Every record of the partition that the isolation level shows, up to its end offset (the LSO for read_committed). */
    static List<ConsumerRecord<String, String>> readAll(String topic, int partition, String isolation) {
        return records(broker, topic, partition, isolation);
    }

    private static List<ConsumerRecord<String, String>> records(Broker broker, String topic, int partition, String isolation) {
        List<ConsumerRecord<String, String>> out = new ArrayList<>();
        try (KafkaConsumer<String, String> c = Clients.consumer(broker, Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation))) {
            TopicPartition tp = new TopicPartition(topic, partition);
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            long end = c.endOffsets(List.of(tp)).get(tp);
            long deadline = System.nanoTime() + Clients.TIMEOUT.toNanos();
            while (c.position(tp) < end) {
                assertTrue(System.nanoTime() < deadline, "read " + out.size() + " records up to " + c.position(tp) + " of " + end);
                c.poll(Duration.ofMillis(100)).forEach(out::add);
            }
        }
        return out;
    }

    @Test
    void committedAndAbortedTransactionsLeaveTheirRecordsAndOneMarkerPerPartition() throws Exception {
        String topic = Clients.uniqueTopic("txn");
        Clients.createTopic(broker, topic, 2);
        try (KafkaProducer<String, String> p = transactional("tx-commit-abort", Map.of())) {
            long start = System.nanoTime();
            p.initTransactions();
            System.out.printf("[compat] initTransactions took %d ms%n", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
            p.beginTransaction();
            for (int i = 0; i < 3; i++) {
                p.send(new ProducerRecord<>(topic, 0, "k", "c1-p0-" + i));
                p.send(new ProducerRecord<>(topic, 1, "k", "c1-p1-" + i));
            }
            p.commitTransaction();
            p.beginTransaction();
            p.send(new ProducerRecord<>(topic, 0, "k", "a-p0-0"));
            p.send(new ProducerRecord<>(topic, 0, "k", "a-p0-1"));
            p.flush(); // else the client drops the unsent records itself and the broker never sees them
            p.abortTransaction();
            p.beginTransaction();
            p.send(new ProducerRecord<>(topic, 1, "k", "c2-p1-0"));
            start = System.nanoTime();
            p.commitTransaction();
            System.out.printf("[compat] commitTransaction of one record took %d ms%n",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
        }

        // read_uncommitted sees every data record, aborted ones included, and never a control record
        List<ConsumerRecord<String, String>> p0 = readAll(topic, 0);
        List<ConsumerRecord<String, String>> p1 = readAll(topic, 1);
        assertEquals(List.of("c1-p0-0", "c1-p0-1", "c1-p0-2", "a-p0-0", "a-p0-1"), p0.stream().map(ConsumerRecord::value).toList());
        assertEquals(List.of(0L, 1L, 2L, 4L, 5L), p0.stream().map(ConsumerRecord::offset).toList(), "offset 3 is the COMMIT marker");
        assertEquals(List.of("c1-p1-0", "c1-p1-1", "c1-p1-2", "c2-p1-0"), p1.stream().map(ConsumerRecord::value).toList());
        assertEquals(List.of(0L, 1L, 2L, 4L), p1.stream().map(ConsumerRecord::offset).toList());
        // read_committed (the log side's last stable offset and aborted-transaction index) hides the aborted ones
        assertEquals(List.of("c1-p0-0", "c1-p0-1", "c1-p0-2"), readAll(topic, 0, "read_committed").stream()
                .map(ConsumerRecord::value).toList());
        assertEquals(List.of("c1-p1-0", "c1-p1-1", "c1-p1-2", "c2-p1-0"), readAll(topic, 1, "read_committed").stream()
                .map(ConsumerRecord::value).toList());

        // the log holds Kafka's layout: transactional data batches, then one control batch per partition per transaction
        List<StoredBatches.Batch> b0 = StoredBatches.fetchFromStart(broker, topic, 0);
        List<StoredBatches.Batch> markers0 = b0.stream().filter(b -> (b.attributes() & CONTROL) != 0).toList();
        assertEquals(List.of(3L, 6L), markers0.stream().map(StoredBatches.Batch::baseOffset).toList(), "markers of p0: " + b0);
        for (StoredBatches.Batch b : b0) {
            assertTrue((b.attributes() & TRANSACTIONAL) != 0, "every batch is transactional: " + b);
            assertTrue(b.crcValid(), "CRC of " + b);
        }
        List<StoredBatches.Batch> b1 = StoredBatches.fetchFromStart(broker, topic, 1);
        assertEquals(List.of(3L, 5L), b1.stream().filter(b -> (b.attributes() & CONTROL) != 0)
                .map(StoredBatches.Batch::baseOffset).toList(), "markers of p1: " + b1);

        try (Admin admin = Clients.admin(broker)) {
            TransactionDescription d = admin.describeTransactions(List.of("tx-commit-abort")).description("tx-commit-abort")
                    .get(Clients.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            assertEquals(TransactionState.COMPLETE_COMMIT, d.state());
            assertTrue(d.topicPartitions().isEmpty());
            // V1 keeps epoch 0; V2 bumped it with each of the three ends
            assertEquals(clientUsesTransactionsV2() ? 3 : 0, d.producerEpoch());
        }
    }

    @Test
    void aSecondProducerWithTheSameTransactionalIdFencesTheFirst() throws Exception {
        String topic = Clients.uniqueTopic("zombie");
        Clients.createTopic(broker, topic, 1);
        try (KafkaProducer<String, String> zombie = transactional("tx-zombie", Map.of());
             KafkaProducer<String, String> successor = transactional("tx-zombie", Map.of())) {
            zombie.initTransactions();
            zombie.beginTransaction();
            zombie.send(new ProducerRecord<>(topic, 0, "k", "from-zombie")).get();

            // the successor's initTransactions aborts the zombie's open transaction and bumps the epoch
            successor.initTransactions();
            successor.beginTransaction();
            successor.send(new ProducerRecord<>(topic, 0, "k", "from-successor"));
            successor.commitTransaction();

            KafkaException e = assertThrows(KafkaException.class, zombie::commitTransaction);
            assertTrue(e instanceof ProducerFencedException || e.getCause() instanceof ProducerFencedException,
                    "the zombie is fenced: " + e);
        }
        try (Admin admin = Clients.admin(broker)) {
            TransactionDescription d = admin.describeTransactions(List.of("tx-zombie")).description("tx-zombie")
                    .get(Clients.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            assertEquals(TransactionState.COMPLETE_COMMIT, d.state());
            // epoch 0 for the zombie; the fencing abort bumps twice on a transaction.version 2 broker (as Kafka 4.x):
            // 2; the successor's InitProducerId: 3; a V2 client's commit bumps once more: 4
            assertEquals(clientUsesTransactionsV2() ? 4 : 3, d.producerEpoch(), "the successor's epoch");
        }
        List<StoredBatches.Batch> batches = StoredBatches.fetchFromStart(broker, topic, 0);
        assertEquals(2, batches.stream().filter(b -> (b.attributes() & CONTROL) != 0).count(),
                "an ABORT marker for the zombie's transaction and a COMMIT for the successor's: " + batches);
        assertEquals(List.of("from-successor"), readAll(topic, 0, "read_committed").stream().map(ConsumerRecord::value).toList(),
                "the zombie's record was aborted");
    }

    @Test
    void theCoordinatorAbortsATransactionOpenLongerThanItsTimeout() throws Exception {
        String topic = Clients.uniqueTopic("timeout");
        Clients.createTopic(broker, topic, 1);
        try (KafkaProducer<String, String> p = transactional("tx-timeout", Map.of(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 1000));
             Admin admin = Clients.admin(broker)) {
            p.initTransactions();
            p.beginTransaction();
            p.send(new ProducerRecord<>(topic, 0, "k", "too-slow")).get();
            long opened = System.nanoTime();
            Await.untilPasses(Clients.TIMEOUT, () -> assertEquals(TransactionState.COMPLETE_ABORT,
                    admin.describeTransactions(List.of("tx-timeout")).description("tx-timeout").get().state()));
            System.out.printf("[compat] a 1000 ms transaction was aborted by the coordinator %d ms after its first record%n",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - opened));
            KafkaException e = assertThrows(KafkaException.class, p::commitTransaction);
            assertTrue(e instanceof ProducerFencedException || e.getCause() instanceof ProducerFencedException,
                    "the late producer is fenced: " + e);
        }
        List<StoredBatches.Batch> batches = StoredBatches.fetchFromStart(broker, topic, 0);
        assertEquals(2, batches.size(), "the record and the ABORT marker: " + batches);
        assertTrue((batches.get(1).attributes() & CONTROL) != 0);
        assertEquals(List.of(), readAll(topic, 0, "read_committed"), "the timed-out transaction's record is hidden");
    }

    @Test
    void aTransactionTimeoutAboveTheBrokerMaximumIsRefused() {
        try (KafkaProducer<String, String> p = transactional("tx-too-long", Map.of(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 900_001))) {
            KafkaException e = assertThrows(KafkaException.class, p::initTransactions);
            assertTrue(String.valueOf(e.getMessage()).contains("transaction timeout")
                            || e.getClass().getSimpleName().equals("InvalidTxnTimeoutException")
                            || (e.getCause() != null && e.getCause().getClass().getSimpleName().equals("InvalidTxnTimeoutException")),
                    "INVALID_TRANSACTION_TIMEOUT reaches the client: " + e);
        }
    }

    @Test
    void consumeTransformProduceOffsetsBecomeVisibleOnlyWhenTheTransactionCommits() throws Exception {
        String in = Clients.uniqueTopic("ctp-in");
        String out = Clients.uniqueTopic("ctp-out");
        String group = "ctp-" + in;
        Clients.createTopic(broker, in, 1);
        Clients.createTopic(broker, out, 1);
        try (KafkaProducer<String, String> plain = Clients.producer(broker)) {
            for (int i = 0; i < 6; i++) {
                plain.send(new ProducerRecord<>(in, 0, "k" + i, "v" + i)).get();
            }
        }
        TopicPartition inTp = new TopicPartition(in, 0);
        Map<String, Object> consumerConfig = Map.of(ConsumerConfig.GROUP_ID_CONFIG, group,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        try (KafkaConsumer<String, String> consumer = Clients.consumer(broker, consumerConfig);
             KafkaProducer<String, String> producer = transactional("tx-ctp", Map.of());
             Admin admin = Clients.admin(broker)) {
            producer.initTransactions();
            consumer.subscribe(List.of(in));
            List<ConsumerRecord<String, String>> batch = new ArrayList<>();
            long deadline = System.nanoTime() + Clients.TIMEOUT.toNanos();
            while (batch.size() < 4) {
                assertTrue(System.nanoTime() < deadline, "consumed " + batch.size());
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(100))) {
                    if (batch.size() < 4) {
                        batch.add(r);
                    }
                }
            }
            producer.beginTransaction();
            for (ConsumerRecord<String, String> r : batch) {
                producer.send(new ProducerRecord<>(out, 0, r.key(), r.value().toUpperCase()));
            }
            producer.sendOffsetsToTransaction(Map.of(inTp, new OffsetAndMetadata(4)), consumer.groupMetadata());
            assertEquals(Map.of(), committed(admin, group), "offsets of an open transaction are not visible");
            producer.commitTransaction();
            Await.untilPasses(Clients.TIMEOUT, () -> assertEquals(Map.of(inTp, 4L), committed(admin, group)));

            // an aborted transaction's offsets never show
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(out, 0, "k4", "V4"));
            producer.sendOffsetsToTransaction(Map.of(inTp, new OffsetAndMetadata(6)), consumer.groupMetadata());
            producer.abortTransaction();
            producer.beginTransaction(); // the next transaction starts only once the abort is complete
            producer.send(new ProducerRecord<>(out, 0, "k5", "V5"));
            producer.sendOffsetsToTransaction(Map.of(inTp, new OffsetAndMetadata(5)), consumer.groupMetadata());
            producer.commitTransaction();
            Await.untilPasses(Clients.TIMEOUT, () -> assertEquals(Map.of(inTp, 5L), committed(admin, group)));
        }
        assertEquals(List.of("V0", "V1", "V2", "V3", "V5"), readAll(out, 0, "read_committed").stream()
                .map(ConsumerRecord::value).toList(), "the aborted transaction's output is hidden");
        // a new member of the group resumes at the committed offset
        try (KafkaConsumer<String, String> next = Clients.consumer(broker, Map.of(ConsumerConfig.GROUP_ID_CONFIG, group))) {
            next.subscribe(List.of(in));
            List<ConsumerRecord<String, String>> rest = Clients.pollAtLeast(next, 1);
            assertEquals("v5", rest.get(0).value());
        }
    }

    private static Map<TopicPartition, Long> committed(Admin admin, String group) throws Exception {
        Map<TopicPartition, Long> out = new HashMap<>();
        admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(Clients.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                .forEach((tp, o) -> {
                    if (o != null) {
                        out.put(tp, o.offset());
                    }
                });
        return out;
    }

    @Test
    void adminListsTransactionsByState() throws Exception {
        String topic = Clients.uniqueTopic("listed");
        Clients.createTopic(broker, topic, 1);
        try (KafkaProducer<String, String> p = transactional("tx-listed-open", Map.of());
             Admin admin = Clients.admin(broker)) {
            p.initTransactions();
            p.beginTransaction();
            p.send(new ProducerRecord<>(topic, 0, "k", "v")).get();
            List<String> ongoing = admin.listTransactions(new org.apache.kafka.clients.admin.ListTransactionsOptions()
                            .filterStates(List.of(TransactionState.ONGOING))).all().get().stream()
                    .map(TransactionListing::transactionalId).toList();
            assertTrue(ongoing.contains("tx-listed-open"), "ongoing: " + ongoing);
            p.commitTransaction();
            Await.untilPasses(Clients.TIMEOUT, () -> assertTrue(admin.listTransactions().all().get().stream()
                    .anyMatch(l -> l.transactionalId().equals("tx-listed-open") && l.state() == TransactionState.COMPLETE_COMMIT)));
        }
    }
}
