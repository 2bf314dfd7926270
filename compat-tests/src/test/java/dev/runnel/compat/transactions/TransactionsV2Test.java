package dev.runnel.compat.transactions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.testkit.EmbeddedRunnel;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ProducerState;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Transactions V2 (KIP-890) as a stock Java client runs it: Runnel finalizes transaction.version 2 (as a new Kafka 4.x
 * cluster), so a Kafka 4.x producer sends no AddPartitionsToTxn or AddOffsetsToTxn (the partition leaders and the group
 * coordinator add the partitions for it), ends every transaction with EndTxn v5, which bumps its epoch, and the
 * markers carry the bumped epoch. A 3.x producer keeps to V1 on the same broker; with runnel.transaction.version=1 a
 * 4.x producer does too.
 */
@Tag("java-client")
class TransactionsV2Test {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static EmbeddedRunnel v2;
    private static EmbeddedRunnel v1;

    @BeforeAll
    static void start() {
        v2 = EmbeddedRunnel.builder().metrics().topic("orders", 2).topic("audit", 1).topic("out", 1).topic("zombies", 1)
                .topic("ctp-in", 1).topic("ids-in", 1).topic("ids-out", 1).start();
        v1 = EmbeddedRunnel.builder().metrics().property("runnel.transaction.version", "1").topic("orders", 2).start();
    }

    @AfterAll
    static void stop() {
        if (v2 != null) {
            v2.close();
        }
        if (v1 != null) {
            v1.close();
        }
    }

    static boolean clientSupportsTransactionsV2() {
        return JavaTransactionsTest.clientUsesTransactionsV2();
    }

    @Test
    void aProducerEndsEachTransactionWithABumpedEpochAndAddsNoPartitionsItself() throws Exception {
        double addsBefore = requests(v2, "AddPartitionsToTxn");
        int firstEpoch;
        try (KafkaProducer<String, String> p = producer(v2, "v2-orders");
             Admin admin = admin(v2)) {
            System.out.println("[txn-v2] features: " + admin.describeFeatures().featureMetadata().get(20, TimeUnit.SECONDS));
            p.initTransactions();
            firstEpoch = admin.describeTransactions(List.of("v2-orders")).description("v2-orders").get(20, TimeUnit.SECONDS)
                    .producerEpoch();
            for (int t = 0; t < 3; t++) {
                p.beginTransaction();
                p.send(new ProducerRecord<>("orders", t % 2, "k", "c" + t));
                p.send(new ProducerRecord<>("audit", 0, "k", "a" + t));
                if (t == 1) {
                    p.abortTransaction();
                } else {
                    p.commitTransaction();
                }
            }
            TransactionDescription d = admin.describeTransactions(List.of("v2-orders")).description("v2-orders")
                    .get(20, TimeUnit.SECONDS);
            double adds = requests(v2, "AddPartitionsToTxn") - addsBefore;
            List<ProducerState> producers = admin.describeProducers(List.of(new TopicPartition("audit", 0))).all()
                    .get(20, TimeUnit.SECONDS).get(new TopicPartition("audit", 0)).activeProducers();
            System.out.printf("[txn-v2] %s: epoch %d after initTransactions, %d after 3 ends; AddPartitionsToTxn requests "
                    + "from the client: %.0f; audit-0's producer epoch %d%n", JavaTransactionsTest.clientDescription(),
                    firstEpoch, d.producerEpoch(), adds, producers.get(0).producerEpoch());
            if (clientSupportsTransactionsV2()) {
                assertEquals(firstEpoch + 3, d.producerEpoch(), "every end bumped the epoch");
                assertEquals(0.0, adds, "the client added no partitions itself");
                assertEquals(firstEpoch + 3, producers.get(0).producerEpoch(), "the last marker carries the bumped epoch");
            } else {
                assertEquals(firstEpoch, d.producerEpoch(), "V1 keeps the epoch");
                assertTrue(adds >= 3, "a V1 client adds its partitions: " + adds);
            }
        }
        assertEquals(List.of("c0", "c2"), values(v2, "orders", "read_committed"));
        assertEquals(List.of("a0", "a2"), values(v2, "audit", "read_committed"));
    }

    @Test
    void consumeTransformProduceCommitsOffsetsWithoutAddOffsetsToTxn() throws Exception {
        try (KafkaProducer<String, String> seed = new KafkaProducer<>(props(v2, Map.of()), new StringSerializer(),
                new StringSerializer())) {
            for (int i = 0; i < 4; i++) {
                seed.send(new ProducerRecord<>("ctp-in", 0, "k", "in" + i)).get(20, TimeUnit.SECONDS);
            }
        }
        double addOffsetsBefore = requests(v2, "AddOffsetsToTxn");
        TopicPartition in = new TopicPartition("ctp-in", 0);
        try (KafkaProducer<String, String> p = producer(v2, "v2-ctp");
             Admin admin = admin(v2)) {
            p.initTransactions();
            p.beginTransaction();
            p.send(new ProducerRecord<>("out", 0, "k", "transformed"));
            p.sendOffsetsToTransaction(Map.of(in, new OffsetAndMetadata(4)),
                    new org.apache.kafka.clients.consumer.ConsumerGroupMetadata("v2-ctp-group"));
            // not visible before the commit
            assertTrue(admin.listConsumerGroupOffsets("v2-ctp-group").partitionsToOffsetAndMetadata().get(20, TimeUnit.SECONDS)
                    .isEmpty(), "offsets hidden until the commit");
            p.commitTransaction();
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets("v2-ctp-group")
                    .partitionsToOffsetAndMetadata().get(20, TimeUnit.SECONDS);
            assertEquals(4L, committed.get(in).offset());
        }
        double addOffsets = requests(v2, "AddOffsetsToTxn") - addOffsetsBefore;
        System.out.printf("[txn-v2] %s: AddOffsetsToTxn requests for sendOffsetsToTransaction: %.0f%n",
                JavaTransactionsTest.clientDescription(), addOffsets);
        assertEquals(clientSupportsTransactionsV2() ? 0.0 : 1.0, addOffsets);
        assertEquals(List.of("transformed"), values(v2, "out", "read_committed"));
    }

    /**
     * Consume-transform-produce where the producer knows the input topic's id (it has the topic in its metadata): a
     * Kafka 4.4 producer then sends TxnOffsetCommit v6, naming the input topic by id (KIP-1319); older clients send
     * names. An aborted transaction's offsets stay hidden, a committed one's become the group's position.
     */
    @Test
    void offsetsSentByTopicIdAreHiddenOnAbortAndVisibleOnCommit() throws Exception {
        try (KafkaProducer<String, String> seed = new KafkaProducer<>(props(v2, Map.of()), new StringSerializer(),
                new StringSerializer())) {
            for (int i = 0; i < 6; i++) {
                seed.send(new ProducerRecord<>("ids-in", 0, "k", "in" + i)).get(20, TimeUnit.SECONDS);
            }
        }
        String group = "v2-ids-group";
        TopicPartition in = new TopicPartition("ids-in", 0);
        try (KafkaProducer<String, String> p = producer(v2, "v2-ids");
             KafkaConsumer<String, String> c = new KafkaConsumer<>(props(v2, Map.of("group.id", group,
                     "enable.auto.commit", "false", "isolation.level", "read_committed")), new StringDeserializer(),
                     new StringDeserializer());
             Admin admin = admin(v2)) {
            p.initTransactions();
            // Puts ids-in, with its topic id, into the producer's metadata: the 4.4 client then commits by id.
            p.partitionsFor("ids-in");
            c.assign(List.of(in));
            c.seekToBeginning(List.of(in));
            List<String> batch = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (batch.size() < 6) {
                assertTrue(System.nanoTime() < deadline, "read " + batch);
                c.poll(Duration.ofMillis(100)).forEach(r -> batch.add(r.value()));
            }

            p.beginTransaction();
            p.send(new ProducerRecord<>("ids-out", 0, "k", "aborted:" + batch.get(0)));
            p.sendOffsetsToTransaction(Map.of(in, new OffsetAndMetadata(3, "first half")), c.groupMetadata());
            p.abortTransaction();
            assertTrue(admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(20, TimeUnit.SECONDS)
                    .isEmpty(), "an aborted transaction's offsets stay hidden");

            p.beginTransaction();
            for (String v : batch) {
                p.send(new ProducerRecord<>("ids-out", 0, "k", "out:" + v));
            }
            p.sendOffsetsToTransaction(Map.of(in, new OffsetAndMetadata(6, "all six")), c.groupMetadata());
            assertTrue(admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(20, TimeUnit.SECONDS)
                    .isEmpty(), "offsets hidden until the commit");
            p.commitTransaction();
            OffsetAndMetadata committed = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata()
                    .get(20, TimeUnit.SECONDS).get(in);
            System.out.printf("[txn-v2] %s: offsets by %s; after abort none, after commit %s%n",
                    JavaTransactionsTest.clientDescription(), clientCommitsOffsetsByTopicId() ? "topic id (TxnOffsetCommit v6)"
                            : "topic name", committed);
            assertEquals(6L, committed.offset());
            assertEquals("all six", committed.metadata());
        }
        try (KafkaConsumer<String, String> next = new KafkaConsumer<>(props(v2, Map.of("group.id", group,
                "isolation.level", "read_committed")), new StringDeserializer(), new StringDeserializer())) {
            next.assign(List.of(in));
            assertEquals(6L, next.position(in), "the group resumes after the committed offsets");
        }
        List<String> out = values(v2, "ids-out", "read_committed");
        assertEquals(List.of("out:in0", "out:in1", "out:in2", "out:in3", "out:in4", "out:in5"), out);
    }

    /** kafka-clients 4.4 builds TxnOffsetCommit with topic ids (v6) when the producer knows every topic's id. */
    static boolean clientCommitsOffsetsByTopicId() {
        return org.apache.kafka.common.protocol.ApiKeys.TXN_OFFSET_COMMIT.latestVersion() >= 6;
    }

    @Test
    void aZombieIsFencedAndItsRecordsAborted() throws Exception {
        try (KafkaProducer<String, String> zombie = producer(v2, "v2-zombie");
             KafkaProducer<String, String> successor = producer(v2, "v2-zombie")) {
            zombie.initTransactions();
            zombie.beginTransaction();
            zombie.send(new ProducerRecord<>("zombies", 0, "k", "zombie")).get(20, TimeUnit.SECONDS);
            successor.initTransactions();
            successor.beginTransaction();
            successor.send(new ProducerRecord<>("zombies", 0, "k", "successor"));
            successor.commitTransaction();
            Exception e = assertThrows(Exception.class, () -> {
                zombie.send(new ProducerRecord<>("zombies", 0, "k", "zombie-2")).get(20, TimeUnit.SECONDS);
                zombie.commitTransaction();
            });
            boolean fenced = false;
            for (Throwable t = e; t != null; t = t.getCause()) {
                fenced |= t instanceof ProducerFencedException || t instanceof org.apache.kafka.common.errors.InvalidProducerEpochException;
            }
            assertTrue(fenced, "the zombie is fenced: " + e);
        }
        List<String> committed = values(v2, "zombies", "read_committed");
        assertTrue(committed.contains("successor") && !committed.contains("zombie") && !committed.contains("zombie-2"),
                "read_committed: " + committed);
    }

    @Test
    void withTransactionVersionOneEveryClientKeepsToV1() throws Exception {
        double addsBefore = requests(v1, "AddPartitionsToTxn");
        try (KafkaProducer<String, String> p = producer(v1, "v1-orders");
             Admin admin = admin(v1)) {
            p.initTransactions();
            int first = admin.describeTransactions(List.of("v1-orders")).description("v1-orders").get(20, TimeUnit.SECONDS)
                    .producerEpoch();
            for (int t = 0; t < 2; t++) {
                p.beginTransaction();
                p.send(new ProducerRecord<>("orders", 0, "k", "v1-" + t));
                p.commitTransaction();
            }
            assertEquals(first, admin.describeTransactions(List.of("v1-orders")).description("v1-orders")
                    .get(20, TimeUnit.SECONDS).producerEpoch(), "no bump with V1");
        }
        assertTrue(requests(v1, "AddPartitionsToTxn") - addsBefore >= 2, "the client added its partitions");
        assertEquals(List.of("v1-0", "v1-1"), values(v1, "orders", "read_committed"));
    }

    // ------------------------------------------------------------------ helpers

    private static Properties props(EmbeddedRunnel broker, Map<String, Object> extra) {
        Properties p = new Properties();
        p.put("bootstrap.servers", broker.bootstrapServers());
        p.put("request.timeout.ms", "10000");
        p.put("delivery.timeout.ms", "20000");
        p.put("default.api.timeout.ms", "20000");
        p.put("max.block.ms", "20000");
        extra.forEach(p::put);
        return p;
    }

    private static KafkaProducer<String, String> producer(EmbeddedRunnel broker, String transactionalId) {
        return new KafkaProducer<>(props(broker, Map.of("transactional.id", transactionalId)), new StringSerializer(),
                new StringSerializer());
    }

    private static Admin admin(EmbeddedRunnel broker) {
        return Admin.create(props(broker, Map.of()));
    }

    private static List<String> values(EmbeddedRunnel broker, String topic, String isolation) {
        Map<String, Object> extra = new HashMap<>(Map.of("isolation.level", isolation, "group.id", "reader-" + System.nanoTime()));
        List<String> out = new ArrayList<>();
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(props(broker, extra), new StringDeserializer(),
                new StringDeserializer())) {
            List<TopicPartition> tps = new ArrayList<>();
            c.partitionsFor(topic).forEach(pi -> tps.add(new TopicPartition(topic, pi.partition())));
            c.assign(tps);
            c.seekToBeginning(tps);
            Map<TopicPartition, Long> end = c.endOffsets(tps);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (tps.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
                assertTrue(System.nanoTime() < deadline, "read " + out + " of " + topic);
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(100))) {
                    out.add(r.value());
                }
            }
        }
        return out;
    }

    /** Requests of the API the broker has answered so far (its /metrics). */
    private static double requests(EmbeddedRunnel broker, String api) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(broker.metricsUrl()))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        Matcher m = Pattern.compile("(?m)^runnel_requests_seconds_count\\{request=\"" + Pattern.quote(api) + "\"} (\\S+)$")
                .matcher(r.body());
        return m.find() ? Double.parseDouble(m.group(1)) : 0.0;
    }
}
