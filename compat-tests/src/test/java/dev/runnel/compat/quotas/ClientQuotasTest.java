package dev.runnel.compat.quotas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.support.Await;
import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.ChildProcess;
import dev.runnel.compat.support.Clients;
import dev.runnel.compat.support.KafkaConfigsTool;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.quota.ClientQuotaAlteration;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.apache.kafka.common.quota.ClientQuotaFilter;
import org.apache.kafka.common.quota.ClientQuotaFilterComponent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Client quotas with Kafka's own {@code kafka-configs} (over --bootstrap-server: Alter- and DescribeClientQuotas; the
 * set-and-describe test runs Kafka 4.4.0's and Kafka 3.9.1's, see {@link KafkaConfigsTool}, the throttling tests 4.4's)
 * and the stock Java clients: quotas set for client ids, users and default entities are
 * described back; a producer and a consumer held to 1 MB/s measure about that and see throttle times; removing the
 * quota lifts the limit; the quotas survive a restart.
 *
 * <p>The broker measures rates over {@code quota.window.num=2} windows of 1 s. With Kafka's default of 11 windows a
 * client that sends as fast as it may gets, as from Kafka, about 10 s worth of its quota at once (a fresh rate counts
 * as spread over 10 windows), then next to nothing until the window has caught up, and another burst when the
 * first window expires (~12 s cycles whose average is the quota; {@code QuotaRateTest} checks the long-run rate):
 * a 6 s measurement would see a burst or a pause, not the rate. Two windows make the same arithmetic settle within
 * about a second.
 */
class ClientQuotasTest {
    private static final double MB = 1024 * 1024;
    private static final int VALUE_BYTES = 10_000;

    @RegisterExtension
    static final Broker broker = Broker.create().with("quota.window.num", "2");

    /** {@code kafka-configs --bootstrap-server <broker> args...} of Kafka 4.4 (the throttling tests). */
    static ChildProcess.Result configs(String bootstrap, String... args) throws Exception {
        return KafkaConfigsTool.KAFKA_4_4.run(bootstrap, args);
    }

    /** Each version of the tool on its own client id and user, so the second run cannot pass on the first one's state. */
    @ParameterizedTest(name = "{0}")
    @EnumSource(KafkaConfigsTool.class)
    void kafkaConfigsSetsAndDescribesClientUserAndDefaultQuotas(KafkaConfigsTool tool) throws Exception {
        String b = broker.bootstrapServers();
        String app = "cli-app-" + tool.tag();
        String alice = "alice-" + tool.tag();
        ChildProcess.Result r = tool.run(b, "--alter", "--entity-type", "clients", "--entity-name", app,
                "--add-config", "producer_byte_rate=1048576,consumer_byte_rate=2097152").assertExitCode(0);
        assertTrue(r.stdout().contains("Completed updating config for client " + app + "."), r.describe());
        r = tool.run(b, "--describe", "--entity-type", "clients", "--entity-name", app).assertExitCode(0);
        assertTrue(r.stdout().contains("Quota configs for client-id '" + app + "' are ")
                && r.stdout().contains("producer_byte_rate=1048576.0") && r.stdout().contains("consumer_byte_rate=2097152.0"), r.describe());

        tool.run(b, "--alter", "--entity-type", "users", "--entity-default", "--add-config", "request_percentage=150").assertExitCode(0);
        r = tool.run(b, "--describe", "--entity-type", "users", "--entity-default").assertExitCode(0);
        assertTrue(r.stdout().contains("Quota configs for the default user-principal are request_percentage=150.0"), r.describe());

        tool.run(b, "--alter", "--entity-type", "clients", "--entity-default", "--add-config", "consumer_byte_rate=5000000").assertExitCode(0);
        r = tool.run(b, "--describe", "--entity-type", "clients", "--entity-default").assertExitCode(0);
        assertTrue(r.stdout().contains("Quota configs for the default client-id are consumer_byte_rate=5000000.0"), r.describe());

        tool.run(b, "--alter", "--entity-type", "users", "--entity-name", alice, "--entity-type", "clients", "--entity-name", app,
                "--add-config", "producer_byte_rate=4096").assertExitCode(0);
        r = tool.run(b, "--describe", "--entity-type", "users", "--entity-name", alice, "--entity-type", "clients",
                "--entity-name", app).assertExitCode(0);
        assertTrue(r.stdout().contains("Quota configs for user-principal '" + alice + "', client-id '" + app + "' are producer_byte_rate=4096.0"),
                r.describe());
        System.out.println("[quotas] kafka-configs --describe: " + r.stdout().trim());

        // --delete-config removes one key; the entity stays while it has others
        tool.run(b, "--alter", "--entity-type", "clients", "--entity-name", app, "--delete-config", "consumer_byte_rate").assertExitCode(0);
        r = tool.run(b, "--describe", "--entity-type", "clients", "--entity-name", app).assertExitCode(0);
        assertTrue(r.stdout().contains("Quota configs for client-id '" + app + "' are producer_byte_rate=1048576.0"), r.describe());

        // The Java admin sees the same, and gets Kafka's refusals
        try (Admin admin = Clients.admin(broker)) {
            Map<ClientQuotaEntity, Map<String, Double>> all = admin.describeClientQuotas(ClientQuotaFilter.all()).entities()
                    .get(20, TimeUnit.SECONDS);
            assertEquals(Map.of("producer_byte_rate", 1048576.0), all.get(new ClientQuotaEntity(Map.of("client-id", app))));
            Map<String, String> defaultUser = new java.util.HashMap<>();
            defaultUser.put("user", null);
            assertEquals(Map.of("request_percentage", 150.0), all.get(new ClientQuotaEntity(defaultUser)));
            Map<ClientQuotaEntity, Map<String, Double>> users = admin.describeClientQuotas(ClientQuotaFilter.containsOnly(
                    List.of(ClientQuotaFilterComponent.ofEntity("user", alice)))).entities().get(20, TimeUnit.SECONDS);
            assertEquals(Map.of(), users, "strict: alice alone has no quota, only alice with cli-app");

            ClientQuotaEntity bad = new ClientQuotaEntity(Map.of("client-id", "x"));
            assertRefused(admin, bad, new ClientQuotaAlteration.Op("connection_creation_rate", 10.0), "Invalid configuration key connection_creation_rate");
            assertRefused(admin, bad, new ClientQuotaAlteration.Op("producer_byte_rate", 1.5), "producer_byte_rate cannot be a fractional value.");
            assertRefused(admin, bad, new ClientQuotaAlteration.Op("producer_byte_rate", -1.0), "Quota producer_byte_rate must be greater than 0");
            assertRefused(admin, new ClientQuotaEntity(Map.of("ip", "10.0.0.1", "user", "u")),
                    new ClientQuotaAlteration.Op("connection_creation_rate", 10.0),
                    "Invalid quota entity combination, IP entity shouldnot be combined with User or ClientId");
            // validate_only changes nothing
            admin.alterClientQuotas(List.of(new ClientQuotaAlteration(bad, List.of(new ClientQuotaAlteration.Op("producer_byte_rate", 100.0)))),
                    new org.apache.kafka.clients.admin.AlterClientQuotasOptions().validateOnly(true)).all().get(20, TimeUnit.SECONDS);
            assertEquals(null, admin.describeClientQuotas(ClientQuotaFilter.all()).entities().get(20, TimeUnit.SECONDS).get(bad));
            // ip entities are stored and described (connection_creation_rate is not enforced)
            admin.alterClientQuotas(List.of(new ClientQuotaAlteration(new ClientQuotaEntity(Map.of("ip", "10.0.0.1")),
                    List.of(new ClientQuotaAlteration.Op("connection_creation_rate", 10.0))))).all().get(20, TimeUnit.SECONDS);
        }
        r = tool.run(b, "--describe", "--entity-type", "ips", "--entity-name", "10.0.0.1").assertExitCode(0);
        assertTrue(r.stdout().contains("Quota configs for ip '10.0.0.1' are connection_creation_rate=10.0"), r.describe());

        // Everything survives a restart (a single node keeps quotas next to its topic metadata)
        broker.restart();
        r = tool.run(b = broker.bootstrapServers(), "--describe", "--entity-type", "clients", "--entity-name", app).assertExitCode(0);
        assertTrue(r.stdout().contains("Quota configs for client-id '" + app + "' are producer_byte_rate=1048576.0"), r.describe());
        r = tool.run(b, "--describe", "--entity-type", "users", "--entity-default").assertExitCode(0);
        assertTrue(r.stdout().contains("Quota configs for the default user-principal are request_percentage=150.0"), r.describe());

        // clean up what would throttle the other tests (default client-id consumer quota, default user)
        tool.run(b, "--alter", "--entity-type", "clients", "--entity-default", "--delete-config", "consumer_byte_rate").assertExitCode(0);
        tool.run(b, "--alter", "--entity-type", "users", "--entity-default", "--delete-config", "request_percentage").assertExitCode(0);
    }

    private static void assertRefused(Admin admin, ClientQuotaEntity entity, ClientQuotaAlteration.Op op, String message) throws Exception {
        try {
            admin.alterClientQuotas(List.of(new ClientQuotaAlteration(entity, List.of(op)))).all().get(20, TimeUnit.SECONDS);
            throw new AssertionError("accepted: " + entity + " " + op);
        } catch (ExecutionException e) {
            assertTrue(e.getCause() instanceof InvalidRequestException, e.toString());
            assertEquals(message, e.getCause().getMessage());
        }
    }

    private static double metric(Map<MetricName, ? extends Metric> metrics, String name) {
        for (Map.Entry<MetricName, ? extends Metric> e : metrics.entrySet()) {
            if (e.getKey().name().equals(name) && e.getKey().tags().size() == 1) {
                Object v = e.getValue().metricValue();
                return v instanceof Double d && !d.isNaN() ? d : 0.0;
            }
        }
        throw new AssertionError("no metric " + name);
    }

    @Test
    void aProducerHeldToOneMegabytePerSecondMeasuresAboutThatUntilTheQuotaIsRemoved() throws Exception {
        String topic = Clients.uniqueTopic("quota-produce");
        Clients.createTopic(broker, topic, 1);
        String clientId = "quota-producer-" + topic.substring(topic.length() - 8);
        configs(broker.bootstrapServers(), "--alter", "--entity-type", "clients", "--entity-name", clientId,
                "--add-config", "producer_byte_rate=1048576").assertExitCode(0);
        String value = "v".repeat(VALUE_BYTES);
        AtomicLong acked = new AtomicLong();
        AtomicReference<Exception> failure = new AtomicReference<>();
        try (KafkaProducer<String, String> producer = Clients.producer(broker, Map.of(ProducerConfig.CLIENT_ID_CONFIG, clientId,
                ProducerConfig.ACKS_CONFIG, "1", ProducerConfig.BUFFER_MEMORY_CONFIG, 2 * 1024 * 1024,
                ProducerConfig.BATCH_SIZE_CONFIG, 64 * 1024, ProducerConfig.LINGER_MS_CONFIG, 5))) {
            Thread sender = new Thread(() -> {
                try {
                    while (!Thread.currentThread().isInterrupted()) {
                        producer.send(new ProducerRecord<>(topic, value), (md, e) -> {
                            if (e == null) {
                                acked.addAndGet(VALUE_BYTES);
                            } else {
                                failure.compareAndSet(null, e);
                            }
                        });
                    }
                } catch (org.apache.kafka.common.errors.InterruptException e) {
                    // stopped
                } catch (Exception e) {
                    failure.compareAndSet(null, e);
                }
            }, "quota-sender");
            sender.setDaemon(true);
            sender.start();
            try {
                // The first window's worth of quota goes through at once (a fresh rate counts as spread over
                // quota.window.num - 1 windows, as in Kafka); once the producer is throttled it runs at its quota.
                Await.untilPasses(Duration.ofSeconds(30), () -> assertTrue(metric(producer.metrics(), "produce-throttle-time-max") > 0,
                        "no throttle yet after " + acked.get() + " bytes"));
                double limited = measure(acked, 6_000);
                double throttleAvg = metric(producer.metrics(), "produce-throttle-time-avg");
                double throttleMax = metric(producer.metrics(), "produce-throttle-time-max");
                System.out.printf("[quotas] producer limited to 1 MB/s: %.2f MB/s over 6 s, produce-throttle-time-avg %.0f ms, max %.0f ms%n",
                        limited / MB, throttleAvg, throttleMax);
                assertTrue(limited > 0.6 * MB && limited < 1.6 * MB, "measured " + limited / MB + " MB/s");
                assertTrue(throttleMax > 0 && throttleAvg > 0);

                configs(broker.bootstrapServers(), "--alter", "--entity-type", "clients", "--entity-name", clientId,
                        "--delete-config", "producer_byte_rate").assertExitCode(0);
                measure(acked, 1_500); // the last throttle time runs out
                double free = measure(acked, 3_000);
                System.out.printf("[quotas] producer after the quota was removed: %.2f MB/s over 3 s%n", free / MB);
                assertTrue(free > 2.5 * MB, "measured " + free / MB + " MB/s without a quota");
            } finally {
                sender.interrupt();
                sender.join(10_000);
            }
            assertEquals(null, failure.get());
        }
    }

    /** Bytes per second added to {@code counter} over the next {@code ms}. */
    private static double measure(AtomicLong counter, long ms) throws InterruptedException {
        long start = System.nanoTime();
        long before = counter.get();
        Thread.sleep(ms); // the measuring interval itself, not synchronisation
        long bytes = counter.get() - before;
        return bytes / ((System.nanoTime() - start) / 1e9);
    }

    @Test
    void aConsumerHeldToOneMegabytePerSecondMeasuresAboutThat() throws Exception {
        String topic = Clients.uniqueTopic("quota-fetch");
        Clients.createTopic(broker, topic, 1);
        String value = "c".repeat(VALUE_BYTES);
        int records = 1_200; // 12 MB: the first 1 MB passes at once, then about 6 s at the quota and some left
        try (KafkaProducer<String, String> producer = Clients.producer(broker, Map.of(ProducerConfig.LINGER_MS_CONFIG, 5,
                ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024))) {
            for (int i = 0; i < records; i++) {
                producer.send(new ProducerRecord<>(topic, value));
            }
            producer.flush();
        }
        String clientId = "quota-consumer-" + topic.substring(topic.length() - 8);
        configs(broker.bootstrapServers(), "--alter", "--entity-type", "clients", "--entity-name", clientId,
                "--add-config", "consumer_byte_rate=1048576").assertExitCode(0);
        try (KafkaConsumer<String, String> consumer = Clients.consumer(broker, Map.of(ConsumerConfig.CLIENT_ID_CONFIG, clientId,
                ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 256 * 1024, ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 256 * 1024))) {
            TopicPartition tp = new TopicPartition(topic, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long bytes = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
            long measureStart = -1;
            long bytesAtStart = 0;
            double measured = -1;
            while (System.nanoTime() < deadline && measured < 0) {
                for (ConsumerRecord<String, String> rec : consumer.poll(Duration.ofMillis(200))) {
                    bytes += rec.serializedValueSize();
                }
                if (measureStart < 0 && metric(consumer.metrics(), "fetch-throttle-time-max") > 0) {
                    measureStart = System.nanoTime();
                    bytesAtStart = bytes;
                } else if (measureStart >= 0 && System.nanoTime() - measureStart >= TimeUnit.SECONDS.toNanos(6)) {
                    measured = (bytes - bytesAtStart) / ((System.nanoTime() - measureStart) / 1e9);
                }
            }
            double throttleMax = metric(consumer.metrics(), "fetch-throttle-time-max");
            System.out.printf("[quotas] consumer limited to 1 MB/s: %.2f MB/s over 6 s after the first throttle (%d MB read in all), "
                    + "fetch-throttle-time-avg %.0f ms, max %.0f ms%n", measured / MB, bytes / (1024 * 1024),
                    metric(consumer.metrics(), "fetch-throttle-time-avg"), throttleMax);
            assertTrue(measureStart >= 0, "the consumer was never throttled");
            assertTrue(measured > 0.6 * MB && measured < 1.6 * MB, "measured " + measured / MB + " MB/s");
            assertTrue(bytes < (long) records * VALUE_BYTES, "the topic was read out before the measurement ended");
        }
    }
}
