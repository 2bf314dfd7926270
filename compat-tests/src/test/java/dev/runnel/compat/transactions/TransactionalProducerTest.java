package dev.runnel.compat.transactions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.support.ChildProcess;
import dev.runnel.testkit.BootstrapServers;
import dev.runnel.testkit.RunnelBroker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The end-to-end version of {@link ReadCommittedTest}'s stand-in, with the transaction coordinator: a stock
 * transactional Java producer commits one transaction and aborts another, read_committed (Java consumer and kcat)
 * sees only the committed one and read_uncommitted both; a transaction left open pins read_committed
 * {@code endOffsets} at its first record, and a read_committed poll parked there is answered by the COMMIT marker
 * the coordinator writes.
 */
@Tag("transaction-coordinator")
@RunnelBroker(topics = {"txn-e2e:1", "txn-e2e-open:1"})
class TransactionalProducerTest {
    private static final TopicPartition TP = new TopicPartition("txn-e2e", 0);
    private static final TopicPartition OPEN_TP = new TopicPartition("txn-e2e-open", 0);
    private static final Path KCAT = Path.of("/usr/bin/kcat");

    @BootstrapServers
    static String bootstrap;

    private static KafkaProducer<String, String> transactional(String id) {
        Properties pp = new Properties();
        pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        pp.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        pp.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        pp.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, id);
        pp.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 20_000);
        return new KafkaProducer<>(pp);
    }

    private static KafkaConsumer<String, String> consumer(TopicPartition tp, String isolation, int fetchMaxWaitMs) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, fetchMaxWaitMs);
        KafkaConsumer<String, String> c = new KafkaConsumer<>(p);
        c.assign(List.of(tp));
        c.seekToBeginning(List.of(tp));
        return c;
    }

    private static List<String> readUpTo(KafkaConsumer<String, String> c, TopicPartition tp, long end) {
        List<String> values = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (c.position(tp) < end) {
            assertTrue(System.nanoTime() < deadline, "position " + c.position(tp) + " never reached " + end + "; read " + values);
            for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                values.add(r.value());
            }
        }
        return values;
    }

    private static List<String> readAll(String isolation) {
        try (KafkaConsumer<String, String> c = consumer(TP, isolation, 500)) {
            return readUpTo(c, TP, c.endOffsets(List.of(TP)).get(TP));
        }
    }

    @Test
    void commitIsVisibleToReadCommittedAndAbortIsNot() throws Exception {
        try (KafkaProducer<String, String> producer = transactional("txn-e2e-producer")) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(TP.topic(), 0, "k", "committed-0"));
            producer.send(new ProducerRecord<>(TP.topic(), 0, "k", "committed-1"));
            producer.commitTransaction();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(TP.topic(), 0, "k", "aborted-0"));
            producer.flush();
            producer.abortTransaction();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(TP.topic(), 0, "k", "committed-2"));
            producer.commitTransaction();
        }
        assertEquals(List.of("committed-0", "committed-1", "committed-2"), readAll("read_committed"));
        assertEquals(List.of("committed-0", "committed-1", "aborted-0", "committed-2"), readAll("read_uncommitted"));
        if (Files.isExecutable(KCAT)) {
            ChildProcess.Result r = ChildProcess.run(List.of(KCAT.toString(), "-b", bootstrap, "-m", "15",
                    "-X", "isolation.level=read_committed", "-C", "-t", TP.topic(), "-p", "0", "-o", "beginning", "-e",
                    "-q", "-f", "%s\\n"), null, Duration.ofSeconds(30)).assertExitCode(0);
            assertEquals(List.of("committed-0", "committed-1", "committed-2"),
                    r.stdoutLines().stream().filter(l -> !l.isBlank()).toList());
        }
    }

    @Test
    void anOpenTransactionPinsTheLastStableOffsetUntilItsCommitWakesTheParkedConsumer() throws Exception {
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try (KafkaProducer<String, String> producer = transactional("txn-e2e-open-producer");
             KafkaConsumer<String, String> committed = consumer(OPEN_TP, "read_committed", 25_000)) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(OPEN_TP.topic(), 0, "k", "before")).get(20, TimeUnit.SECONDS);
            producer.commitTransaction();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(OPEN_TP.topic(), 0, "k", "in-flight")).get(20, TimeUnit.SECONDS);
            // offsets: before 0, COMMIT 1, in-flight 2 (open)
            assertEquals(2L, committed.endOffsets(List.of(OPEN_TP)).get(OPEN_TP), "pinned at the open transaction");
            assertEquals(List.of("before"), readUpTo(committed, OPEN_TP, 2));

            Future<List<String>> next = pool.submit(() -> {
                List<String> got = new ArrayList<>();
                for (ConsumerRecord<String, String> r : committed.poll(Duration.ofSeconds(28))) {
                    got.add(r.value());
                }
                return got;
            });
            long t0 = System.nanoTime();
            producer.commitTransaction();
            List<String> got = next.get(20, TimeUnit.SECONDS);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            System.out.printf("[compat] read_committed poll answered %d ms after commitTransaction() began "
                    + "(fetch.max.wait.ms=25000)%n", ms);
            assertEquals(List.of("in-flight"), got);
            assertTrue(ms < 10_000, "woken by the COMMIT marker, not by fetch.max.wait.ms: " + ms + " ms");
        } finally {
            pool.shutdownNow();
        }
    }
}
