package dev.runnel.compat.durability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
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
 * The broker process is killed with SIGKILL at random moments — while it starts and recovers, while it
 * appends, while it rolls segments — and started again on the same port and log directory, at least 20
 * times, while a stock idempotent Java producer (acks=all) writes numbered records through it all. Then a
 * stock consumer reads the partition from the start: every record the producer saw acknowledged is there,
 * exactly once, at the offset it was acknowledged with, in the order it was sent; no record at all is
 * duplicated or corrupt.
 *
 * <p>A kill is a process crash, not a power loss: what the broker wrote to the page cache survives it even
 * without fsync. That is why the default settings pass this test too; see the README's Durability section
 * for what needs {@code log.flush.interval.messages=1} (the second test).
 *
 * <p>Rounds: {@code -Drunnel.killLoop.rounds} (default 20), random seed: {@code -Drunnel.killLoop.seed}.
 */
class KillNineLoopTest {
    private static final int ROUNDS = Integer.getInteger("runnel.killLoop.rounds", 20);
    private static final int MAX_RECORDS = 2_000_000;
    private static final Duration DRAIN_DEADLINE = Duration.ofSeconds(120);

    @Test
    void acknowledgedRecordsSurviveRepeatedKillNine() throws Exception {
        runLoop(Map.of());
    }

    @Test
    void acknowledgedRecordsSurviveRepeatedKillNineWithAnFsyncPerMessage() throws Exception {
        runLoop(Map.of("log.flush.interval.messages", "1"));
    }

    private void runLoop(Map<String, String> brokerConfig) throws Exception {
        long seed = Long.getLong("runnel.killLoop.seed", System.nanoTime());
        Random random = new Random(seed);
        System.out.printf("[durability] kill -9 loop: %d rounds, seed %d (-Drunnel.killLoop.seed=%d to replay), config %s%n",
                ROUNDS, seed, seed, brokerConfig);
        String topic = "kill9";
        TopicPartition tp = new TopicPartition(topic, 0);
        long started = System.nanoTime();
        try (BrokerProcess broker = BrokerProcess.create()) {
            // Small segments: the loop also kills the broker around segment rolls and recovers several segments.
            broker.with("log.segment.bytes", Integer.toString(256 * 1024));
            brokerConfig.forEach(broker::with);
            broker.start();
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
                admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            }

            AtomicLongArray ackedOffset = new AtomicLongArray(MAX_RECORDS);
            Map<Integer, Exception> failures = new ConcurrentHashMap<>();
            AtomicInteger acked = new AtomicInteger();
            AtomicInteger sent = new AtomicInteger();
            AtomicBoolean stop = new AtomicBoolean();
            Semaphore outstanding = new Semaphore(2000);
            for (int i = 0; i < MAX_RECORDS; i++) {
                ackedOffset.set(i, -1);
            }
            KafkaProducer<String, String> producer = new KafkaProducer<>(producerConfig(broker));
            Thread sender = new Thread(() -> {
                try {
                    for (int i = 0; i < MAX_RECORDS && !stop.get(); i++) {
                        while (!outstanding.tryAcquire(50, TimeUnit.MILLISECONDS)) {
                            if (stop.get()) {
                                return;
                            }
                        }
                        final int n = i;
                        producer.send(new ProducerRecord<>(topic, 0, key(n), value(n)), (md, e) -> {
                            outstanding.release();
                            if (e == null) {
                                ackedOffset.set(n, md.offset());
                                acked.incrementAndGet();
                            } else {
                                failures.put(n, e);
                            }
                        });
                        sent.set(i + 1);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (RuntimeException e) {
                    System.out.println("[durability] sender stopped: " + e);
                }
            }, "kill9-sender");
            sender.start();

            int killedBeforeListening = 0;
            try {
                for (int round = 1; round <= ROUNDS; round++) {
                    long roundStart = System.nanoTime();
                    boolean duringStartUp = false;
                    if (!broker.isAlive()) {
                        broker.spawn();
                        duringStartUp = random.nextInt(4) == 0;
                    }
                    long killAt;
                    int ackTarget;
                    if (duringStartUp) {
                        // somewhere in JVM start-up, log recovery or the first requests
                        killAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(random.nextInt(1500));
                        ackTarget = Integer.MAX_VALUE;
                    } else {
                        // while serving: after a random number of further acknowledgements or a random
                        // time, whichever comes first
                        broker.awaitListening();
                        // the producer reconnects on its own; let it get going again (at most 10 s)
                        int resumed = acked.get() + 1;
                        long resumeDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                        while (acked.get() < resumed && System.nanoTime() - resumeDeadline < 0) {
                            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
                        }
                        killAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(random.nextInt(1000));
                        ackTarget = acked.get() + 1 + random.nextInt(800);
                    }
                    while (acked.get() < ackTarget && System.nanoTime() - killAt < 0) {
                        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
                    }
                    boolean listening = broker.outputOfThisLife().contains("started in");
                    if (!listening) {
                        killedBeforeListening++;
                    }
                    broker.kill();
                    System.out.printf("[durability] round %d: SIGKILL %s after %d ms; sent %d, acknowledged %d%n", round,
                            listening ? "while serving" : "during start-up",
                            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - roundStart), sent.get(), acked.get());
                }
                broker.start();
                // Give the producer a last stretch of live broker, then let it drain what it holds.
                int ackTarget = acked.get() + 500;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (acked.get() < ackTarget && System.nanoTime() - deadline < 0) {
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
                }
            } finally {
                stop.set(true);
                sender.join(TimeUnit.SECONDS.toMillis(30));
            }
            Thread flusher = new Thread(producer::flush, "kill9-flush");
            flusher.start();
            flusher.join(DRAIN_DEADLINE.toMillis());
            boolean drained = !flusher.isAlive();
            producer.close(Duration.ofSeconds(10));
            int total = sent.get();
            System.out.printf("[durability] producer sent %d, acknowledged %d, failed %d (drained: %s); %d kill(s) during start-up%n",
                    total, acked.get(), failures.size(), drained, killedBeforeListening);
            failures.entrySet().stream().limit(5).forEach(e ->
                    System.out.println("[durability] record " + e.getKey() + " failed: " + e.getValue()));
            assertTrue(drained, "the producer did not drain within " + DRAIN_DEADLINE);
            assertTrue(acked.get() >= 1000, "the producer made too little progress to prove anything: " + acked.get());

            List<ConsumerRecord<String, String>> records = readAll(broker, tp);
            verify(records, ackedOffset, total, failures.keySet());
            String output = broker.output();
            long recoveries = output.lines().filter(l -> l.contains("Loaded log " + topic + "-0") && l.contains("unclean shutdown")).count();
            System.out.printf("[durability] %d records verified in %d s; the broker recovered %s-0 after an unclean shutdown %d time(s)%n",
                    records.size(), TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started), topic, recoveries);
            assertTrue(recoveries >= ROUNDS - killedBeforeListening,
                    "each restart after a kill recovers the log (logged " + recoveries + " times)");
            broker.stop();
        }
    }

    private static Map<String, Object> producerConfig(BrokerProcess broker) {
        Map<String, Object> config = new HashMap<>();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        config.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5);
        config.put(ProducerConfig.RETRIES_CONFIG, Integer.MAX_VALUE);
        config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 600_000);
        config.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
        config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 120_000);
        config.put(ProducerConfig.LINGER_MS_CONFIG, 2);
        config.put(ProducerConfig.BATCH_SIZE_CONFIG, 8 * 1024);
        config.put(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, 20);
        config.put(ProducerConfig.RECONNECT_BACKOFF_MS_CONFIG, 20);
        config.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 200);
        config.put(ProducerConfig.SOCKET_CONNECTION_SETUP_TIMEOUT_MS_CONFIG, 1_000);
        config.put(ProducerConfig.SOCKET_CONNECTION_SETUP_TIMEOUT_MAX_MS_CONFIG, 2_000);
        return config;
    }

    static String key(int n) {
        return "k" + n;
    }

    /** A value whose every byte depends on the record's number, so any damage shows. */
    static String value(int n) {
        Random r = new Random(n * 0x9E3779B97F4A7C15L);
        int len = 20 + r.nextInt(300);
        StringBuilder sb = new StringBuilder(len + 12);
        sb.append(n).append(':');
        for (int i = 0; i < len; i++) {
            sb.append((char) ('a' + r.nextInt(26)));
        }
        return sb.toString();
    }

    private static List<ConsumerRecord<String, String>> readAll(BrokerProcess broker, TopicPartition tp) {
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.CHECK_CRCS_CONFIG, true);
        config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000);
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config)) {
            consumer.assign(Set.of(tp));
            consumer.seekToBeginning(Set.of(tp));
            long end = consumer.endOffsets(Set.of(tp), Duration.ofSeconds(30)).get(tp);
            List<ConsumerRecord<String, String>> records = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (consumer.position(tp, Duration.ofSeconds(30)) < end) {
                if (System.nanoTime() - deadline > 0) {
                    fail("read only up to offset " + consumer.position(tp) + " of " + end + " within 120 s");
                }
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
            return records;
        }
    }

    private static void verify(List<ConsumerRecord<String, String>> records, AtomicLongArray ackedOffset, int sent,
                               Set<Integer> failed) {
        int previous = -1;
        long expectedOffset = records.isEmpty() ? 0 : records.get(0).offset();
        assertEquals(0, expectedOffset, "the partition starts at offset 0");
        int[] offsetOf = new int[sent];
        java.util.Arrays.fill(offsetOf, -1);
        for (ConsumerRecord<String, String> r : records) {
            assertEquals(expectedOffset, r.offset(), "offsets are dense");
            expectedOffset++;
            String v = r.value();
            int colon = v == null ? -1 : v.indexOf(':');
            assertTrue(colon > 0, "corrupt record at offset " + r.offset() + ": " + v);
            int n = Integer.parseInt(v.substring(0, colon));
            assertTrue(n >= 0 && n < sent, "record number " + n + " at offset " + r.offset() + " was never sent");
            assertEquals(value(n), v, "corrupt value at offset " + r.offset());
            assertEquals(key(n), r.key(), "corrupt key at offset " + r.offset());
            assertTrue(n > previous, "record " + n + " at offset " + r.offset() + " is out of order or duplicated (after " + previous + ")");
            previous = n;
            offsetOf[n] = (int) r.offset();
        }
        int missing = 0;
        int checked = 0;
        StringBuilder firstMissing = new StringBuilder();
        for (int n = 0; n < sent; n++) {
            long acked = ackedOffset.get(n);
            if (acked < 0) {
                continue;
            }
            checked++;
            if (offsetOf[n] != acked) {
                missing++;
                if (missing <= 5) {
                    firstMissing.append(" record ").append(n).append(" acknowledged at offset ").append(acked)
                            .append(" but found at ").append(offsetOf[n]).append(';');
                }
            }
        }
        long unacknowledgedPresent = 0;
        for (int n = 0; n < sent; n++) {
            if (ackedOffset.get(n) < 0 && offsetOf[n] >= 0) {
                unacknowledgedPresent++;
            }
        }
        System.out.printf("[durability] %d acknowledged records checked, %d unacknowledged (of %d failed) present and intact%n",
                checked, unacknowledgedPresent, failed.size());
        assertEquals(0, missing, "acknowledged records lost or moved:" + firstMissing);
    }
}
