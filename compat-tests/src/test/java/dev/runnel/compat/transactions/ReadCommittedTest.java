package dev.runnel.compat.transactions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.runnel.broker.state.Partition;
import dev.runnel.compat.support.Await;
import dev.runnel.compat.support.ChildProcess;
import dev.runnel.log.AppendOrigin;
import dev.runnel.log.AppendResult;
import dev.runnel.log.EndTxnMarker;
import dev.runnel.testkit.BootstrapServers;
import dev.runnel.testkit.EmbeddedRunnel;
import dev.runnel.testkit.InjectRunnel;
import dev.runnel.testkit.RunnelBroker;
import dev.runnel.wire.records.BatchBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeProducersResult.PartitionProducerState;
import org.apache.kafka.clients.admin.ProducerState;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * read_committed with stock clients: a partition holding committed, aborted and still-open transactions next to
 * plain records, read by the Java consumer and by kcat (librdkafka) under both isolation levels; the last stable
 * offset seen through {@code endOffsets}; a parked read_committed fetch woken by the marker that moves the last
 * stable offset; DescribeProducers through the Admin client and {@code kafka-transactions describe-producers};
 * Kafka's {@code kafka-dump-log} reading our {@code .txnindex}.
 *
 * <p><b>Stand-in:</b> the transactional batches and the COMMIT/ABORT markers are appended through the broker's
 * in-process API ({@link TxnStandIn}), exactly as the transaction coordinator appends its markers
 * ({@link AppendOrigin#COORDINATOR}), so that the test controls the interleaving of three producers to the offset.
 * Only the writing side is replaced: {@link TxnStandIn} stands for transactional {@code KafkaProducer}s
 * (beginTransaction / send / commitTransaction / abortTransaction) and their coordinator, which
 * {@link TransactionalProducerTest} runs for real; every read and assertion here would stay as it is.
 */
@RunnelBroker(topics = "txn-read:1")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReadCommittedTest {
    private static final String TOPIC = "txn-read";
    private static final TopicPartition TP = new TopicPartition(TOPIC, 0);
    private static final Path KCAT = Path.of("/usr/bin/kcat");
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private static final long COMMITTED_PID = 1000;
    private static final long ABORTED_PID = 2000;
    private static final long OPEN_PID = 3000;

    @BootstrapServers
    static String bootstrap;

    @InjectRunnel
    static EmbeddedRunnel runnel;

    /** Offset of the first record of the transaction left open by {@link #write()}. */
    static long openTxnFirstOffset;
    static long logEndAfterWrite;

    /**
     * STAND-IN for transactional producers plus the coordinator's markers: appends transactional batches and markers
     * to the partition's leader in this JVM.
     */
    static final class TxnStandIn {
        private final Map<Long, Integer> sequences = new HashMap<>();

        Partition partition() {
            return runnel.server().broker().topics().partition(TOPIC, 0);
        }

        long send(long producerId, String... values) {
            int seq = sequences.getOrDefault(producerId, 0);
            BatchBuilder b = new BatchBuilder().producer(producerId, (short) 0, seq).transactional(true);
            for (String v : values) {
                b.append(System.currentTimeMillis(), "key-" + v, v);
            }
            sequences.put(producerId, seq + values.length);
            AppendResult r = partition().appendAsLeader(b.build());
            assertTrue(r.isOk(), r.toString());
            return r.firstOffset();
        }

        long end(long producerId, boolean commit) {
            AppendResult r = partition().appendAsLeader(
                    EndTxnMarker.batch(producerId, (short) 0, 0, commit, System.currentTimeMillis()), AppendOrigin.COORDINATOR);
            assertTrue(r.isOk(), r.toString());
            return r.firstOffset();
        }
    }

    static final TxnStandIn txn = new TxnStandIn();

    private static KafkaProducer<String, String> plainProducer() {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 20_000);
        return new KafkaProducer<>(p);
    }

    private static KafkaConsumer<String, String> consumer(String isolation, Map<String, Object> more) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.putAll(more);
        KafkaConsumer<String, String> c = new KafkaConsumer<>(p);
        c.assign(List.of(TP));
        c.seekToBeginning(List.of(TP));
        return c;
    }

    /** Everything the consumer returns until its position reaches {@code end}. */
    private static List<String> readUpTo(KafkaConsumer<String, String> c, long end) throws Exception {
        List<String> values = new ArrayList<>();
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (c.position(TP) < end) {
            assertTrue(System.nanoTime() < deadline, "position " + c.position(TP) + " never reached " + end + "; read " + values);
            for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                values.add(r.value());
            }
        }
        return values;
    }

    @BeforeAll
    static void write() throws Exception {
        try (KafkaProducer<String, String> plain = plainProducer()) {
            plain.send(new ProducerRecord<>(TOPIC, 0, "p", "plain-0")).get(20, TimeUnit.SECONDS);
            txn.send(COMMITTED_PID, "committed-0", "committed-1");
            txn.send(ABORTED_PID, "aborted-0", "aborted-1", "aborted-2");
            txn.send(COMMITTED_PID, "committed-2");
            plain.send(new ProducerRecord<>(TOPIC, 0, "p", "plain-1")).get(20, TimeUnit.SECONDS);
            txn.send(ABORTED_PID, "aborted-3");
            txn.end(COMMITTED_PID, true);
            txn.end(ABORTED_PID, false);
            openTxnFirstOffset = txn.send(OPEN_PID, "open-0", "open-1");
            plain.send(new ProducerRecord<>(TOPIC, 0, "p", "plain-2")).get(20, TimeUnit.SECONDS);
        }
        logEndAfterWrite = txn.partition().logEndOffset();
    }

    @Test
    @Order(1)
    void readUncommittedSeesEverythingAndReadCommittedOnlyCommittedDataBelowTheOpenTransaction() throws Exception {
        try (KafkaConsumer<String, String> uncommitted = consumer("read_uncommitted", Map.of());
             KafkaConsumer<String, String> committed = consumer("read_committed", Map.of())) {
            assertEquals(logEndAfterWrite, uncommitted.endOffsets(List.of(TP)).get(TP), "read_uncommitted: the high watermark");
            assertEquals(openTxnFirstOffset, committed.endOffsets(List.of(TP)).get(TP),
                    "read_committed: the last stable offset, pinned at the open transaction's first record");

            assertEquals(List.of("plain-0", "committed-0", "committed-1", "aborted-0", "aborted-1", "aborted-2",
                    "committed-2", "plain-1", "aborted-3", "open-0", "open-1", "plain-2"),
                    readUpTo(uncommitted, logEndAfterWrite));
            assertEquals(List.of("plain-0", "committed-0", "committed-1", "committed-2", "plain-1"),
                    readUpTo(committed, openTxnFirstOffset), "aborted records hidden, nothing at or past the LSO");
            // nothing more comes while the transaction is open, though plain-2 is below the high watermark
            assertTrue(committed.poll(Duration.ofMillis(500)).isEmpty());
            assertEquals(openTxnFirstOffset, committed.position(TP));
        }
    }

    @Test
    @Order(2)
    void kcatHidesAbortedRecordsUnderReadCommitted() throws Exception {
        assumeTrue(Files.isExecutable(KCAT), "kcat is not installed at " + KCAT);
        List<String> uncommitted = kcat("read_uncommitted");
        List<String> committed = kcat("read_committed");
        assertTrue(uncommitted.containsAll(List.of("aborted-0", "aborted-3", "open-0", "plain-2")), uncommitted.toString());
        assertEquals(List.of("plain-0", "committed-0", "committed-1", "committed-2", "plain-1"), committed);
    }

    private static List<String> kcat(String isolation) throws Exception {
        ChildProcess.Result r = ChildProcess.run(List.of(KCAT.toString(), "-b", bootstrap, "-m", "15",
                "-X", "isolation.level=" + isolation, "-C", "-t", TOPIC, "-p", "0", "-o", "beginning", "-e", "-q",
                "-f", "%s\\n"), null, TIMEOUT).assertExitCode(0);
        return r.stdoutLines().stream().filter(l -> !l.isBlank()).toList();
    }

    @Test
    @Order(3)
    void describeProducersShowsTheOpenTransaction() throws Exception {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(p)) {
            PartitionProducerState state = admin.describeProducers(List.of(TP)).partitionResult(TP)
                    .get(20, TimeUnit.SECONDS);
            Map<Long, ProducerState> byId = new HashMap<>();
            state.activeProducers().forEach(s -> byId.put(s.producerId(), s));
            assertTrue(byId.keySet().containsAll(List.of(COMMITTED_PID, ABORTED_PID, OPEN_PID)), byId.toString());
            assertEquals(openTxnFirstOffset, byId.get(OPEN_PID).currentTransactionStartOffset().getAsLong());
            assertFalse(byId.get(COMMITTED_PID).currentTransactionStartOffset().isPresent());
            assertEquals(3, byId.get(ABORTED_PID).lastSequence());
            assertEquals(0, byId.get(ABORTED_PID).coordinatorEpoch().getAsInt());
        }
        ChildProcess.Result cli = ChildProcess.kafkaTool("org.apache.kafka.tools.TransactionsCommand", null,
                "--bootstrap-server", bootstrap, "describe-producers", "--topic", TOPIC, "--partition", "0")
                .assertExitCode(0);
        String openRow = cli.stdoutLines().stream().filter(l -> l.trim().startsWith(Long.toString(OPEN_PID)))
                .findFirst().orElseThrow(() -> new AssertionError(cli.describe()));
        assertTrue(openRow.trim().endsWith(Long.toString(openTxnFirstOffset)), cli.describe());
    }

    @Test
    @Order(4)
    void kafkaDumpLogReadsTheTransactionIndex() throws Exception {
        Path index = runnel.dataDir().resolve(TOPIC + "-0").resolve("00000000000000000000.txnindex");
        assertTrue(Files.isRegularFile(index), "the ABORT wrote " + index);
        assertEquals(34, Files.size(index));
        ChildProcess.Result r = ChildProcess.kafkaTool("org.apache.kafka.tools.DumpLogSegments", null, "--files",
                index.toString()).assertExitCode(0);
        // offsets: plain-0 0, committed 1-2, aborted 3-5, committed-2 6, plain-1 7, aborted-3 8, COMMIT 9, ABORT 10
        assertTrue(r.stdoutLines().contains("version: 0 producerId: " + ABORTED_PID
                + " firstOffset: 3 lastOffset: 10 lastStableOffset: 11"), r.describe());
    }

    @Test
    @Order(5)
    void aParkedReadCommittedFetchWakesWhenTheMarkerMovesTheLastStableOffset() throws Exception {
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try (KafkaConsumer<String, String> committed = consumer("read_committed",
                Map.of(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 25_000))) {
            assertEquals(List.of("plain-0", "committed-0", "committed-1", "committed-2", "plain-1"),
                    readUpTo(committed, openTxnFirstOffset));
            Future<List<String>> next = pool.submit(() -> {
                List<String> got = new ArrayList<>();
                for (ConsumerRecord<String, String> r : committed.poll(Duration.ofSeconds(28))) {
                    got.add(r.value());
                }
                return got;
            });
            Partition partition = txn.partition();
            // the consumer's fetch is parked at the last stable offset
            Await.untilPasses(TIMEOUT, () -> assertEquals(1, partition.listenerCount()));
            // more data of an open transaction is not readable: the fetch stays parked
            txn.send(OPEN_PID + 1, "other-open-0");
            assertEquals(1, partition.listenerCount(), "an open transaction's data woke a read_committed fetch");
            long marker = System.nanoTime();
            txn.end(OPEN_PID, true);
            List<String> got = next.get(20, TimeUnit.SECONDS);
            long ms = (System.nanoTime() - marker) / 1_000_000;
            System.out.printf("[compat] read_committed fetch answered %d ms after the COMMIT marker (fetch.max.wait.ms=25000)%n", ms);
            assertEquals(List.of("open-0", "open-1", "plain-2"), got);
            assertTrue(ms < 10_000, "woken by the marker, not by fetch.max.wait.ms: " + ms + " ms");
            txn.end(OPEN_PID + 1, false);
        } finally {
            pool.shutdownNow();
        }
    }
}
