package dev.runnel.compat.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.support.Await;
import dev.runnel.testkit.EmbeddedRunnel;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * /metrics scraped after real traffic from stock kafka-clients: a producer writes ten records, a consumer group
 * reads them and commits four, a consumer long-polls an empty topic. What the operator reads must match what the
 * clients did.
 */
class MetricsEndpointTest {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static EmbeddedRunnel kafka;

    @BeforeAll
    static void start() {
        kafka = EmbeddedRunnel.builder().metrics().topic("metered", 1).topic("idle", 1).start();
    }

    @AfterAll
    static void stop() {
        if (kafka != null) {
            kafka.close();
        }
    }

    @Test
    void trafficShowsUpPerTopicPerApiAndPerGroup() throws Exception {
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(clientProps(Map.of()), new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < 10; i++) {
                producer.send(new ProducerRecord<>("metered", 0, "k" + i, "value-" + i)).get(20, TimeUnit.SECONDS);
            }
        }
        Map<String, Object> groupConfig = Map.of("group.id", "metered-group", "enable.auto.commit", "false",
                "auto.offset.reset", "earliest");
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(clientProps(groupConfig), new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of("metered"));
            int seen = 0;
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (seen < 10 && System.nanoTime() < deadline) {
                ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(200));
                seen += records.count();
            }
            assertEquals(10, seen, "the group consumer read everything");
            // Commit only the first four: the group lags six behind the high watermark.
            consumer.commitSync(Map.of(new TopicPartition("metered", 0), new OffsetAndMetadata(4)));

            Await.untilPasses(Duration.ofSeconds(10), () -> {
                String m = scrape();
                assertEquals(10.0, value(m, "runnel_topic_records_in_total{topic=\"metered\"}"));
                assertTrue(value(m, "runnel_topic_bytes_in_total{topic=\"metered\"}") > 10 * "value-0".length());
                assertTrue(value(m, "runnel_topic_records_out_total{topic=\"metered\"}") >= 10.0, "records out");
                assertTrue(value(m, "runnel_topic_bytes_out_total{topic=\"metered\"}") > 0, "bytes out");
                assertTrue(value(m, "runnel_log_size_bytes{topic=\"metered\"}") > 0, "log size");
                for (String api : List.of("Produce", "Fetch", "Metadata", "ApiVersions", "FindCoordinator", "JoinGroup",
                        "SyncGroup", "OffsetCommit", "OffsetFetch")) {
                    assertTrue(value(m, "runnel_requests_seconds_count{request=\"" + api + "\"}") >= 1, api + " requests");
                }
                assertEquals(1.0, value(m, "runnel_consumer_groups{state=\"Stable\"}"), "one stable group");
                assertEquals(6.0, value(m, "runnel_consumer_group_lag{group=\"metered-group\",topic=\"metered\"}"), "lag");
                assertTrue(value(m, "runnel_partitions") >= 2 + 50, "metered, idle and __consumer_offsets");
                assertTrue(value(m, "runnel_connections_open") >= 1, "the consumer's connections");
            });
        }
        // The group is empty once its member left; its committed offsets (and so its lag) remain.
        Await.untilPasses(Duration.ofSeconds(10), () -> {
            String m = scrape();
            assertEquals(1.0, value(m, "runnel_consumer_groups{state=\"Empty\"}"));
            assertEquals(0.0, value(m, "runnel_consumer_groups{state=\"Stable\"}"));
            assertEquals(6.0, value(m, "runnel_consumer_group_lag{group=\"metered-group\",topic=\"metered\"}"));
        });
    }

    @Test
    void aLongPollingFetchSitsInThePurgatoryUntilItsConsumerLeaves() throws Exception {
        ExecutorService poller = Executors.newSingleThreadExecutor();
        KafkaConsumer<String, String> consumer = new KafkaConsumer<>(clientProps(Map.of("fetch.max.wait.ms", "30000",
                "request.timeout.ms", "40000", "default.api.timeout.ms", "40000")), new StringDeserializer(), new StringDeserializer());
        try {
            consumer.assign(List.of(new TopicPartition("idle", 0)));
            consumer.seekToBeginning(List.of(new TopicPartition("idle", 0)));
            Future<?> polling = poller.submit(() -> {
                try {
                    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                    while (System.nanoTime() < deadline) {
                        consumer.poll(Duration.ofSeconds(1));
                    }
                } catch (WakeupException e) {
                    // told to stop
                }
            });
            Await.untilPasses(Duration.ofSeconds(20), () ->
                    assertEquals(1.0, value(scrape(), "runnel_purgatory_size{delayedOperation=\"Fetch\"}"), "parked fetches"));
            assertEquals(0.0, value(scrape(), "runnel_purgatory_size{delayedOperation=\"Produce\"}"));
            consumer.wakeup();
            polling.get(30, TimeUnit.SECONDS);
        } finally {
            consumer.close(Duration.ofSeconds(5));
            poller.shutdownNow();
        }
        // Closing the connection takes the parked fetch out.
        Await.untilPasses(Duration.ofSeconds(20), () ->
                assertEquals(0.0, value(scrape(), "runnel_purgatory_size{delayedOperation=\"Fetch\"}")));
    }

    @Test
    void jvmAndProcessSeriesAreServedBesideTheBrokers() throws Exception {
        String before = scrape();
        assertTrue(value(before, "jvm_memory_used_bytes{area=\"heap\",id=\"" + heapPool(before) + "\"}") > 0, before);
        value(before, "process_cpu_usage"); // present (the JVM may report -1 before it has measured)
        assertTrue(value(before, "jvm_threads_live_threads") > 0, before);
        assertTrue(value(before, "jvm_classes_loaded_classes") > 0, before);
        assertTrue(value(before, "process_uptime_seconds") > 0, before);
        if (before.contains("process_files_open_files")) { // Unix only
            assertTrue(value(before, "process_files_open_files") > 0, before);
        }
        assertTrue(value(before, "runnel_topics") >= 2, before);
        // A collection is reported through the JVM's GC notifications, asynchronously: ask for one, then wait for it.
        System.gc();
        Await.untilPasses(Duration.ofSeconds(20), () -> {
            String after = scrape();
            Matcher pauses = Pattern.compile("(?m)^jvm_gc_pause_seconds_count\\{[^}]*} (\\S+)$").matcher(after);
            assertTrue(pauses.find() && Double.parseDouble(pauses.group(1)) >= 1, "no jvm_gc_pause_seconds in:\n" + after);
        });
    }

    /** The id of one heap memory pool the JVM reports (its names depend on the collector). */
    private static String heapPool(String metrics) {
        Matcher m = Pattern.compile("(?m)^jvm_memory_used_bytes\\{area=\"heap\",id=\"([^\"]+)\"}").matcher(metrics);
        if (!m.find()) {
            throw new AssertionError("no heap jvm_memory_used_bytes in:\n" + metrics);
        }
        return m.group(1);
    }

    @Test
    void onlyGetOfMetricsIsServed() throws Exception {
        URI base = URI.create(kafka.metricsUrl());
        HttpResponse<String> notFound = HTTP.send(HttpRequest.newBuilder(base.resolve("/other")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(404, notFound.statusCode());
        HttpResponse<String> post = HTTP.send(HttpRequest.newBuilder(base).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(405, post.statusCode());
    }

    private static Properties clientProps(Map<String, Object> extra) {
        Properties p = new Properties();
        p.put("bootstrap.servers", kafka.bootstrapServers());
        p.put("max.block.ms", "20000");
        p.put("delivery.timeout.ms", "20000");
        p.put("request.timeout.ms", "10000");
        p.put("default.api.timeout.ms", "20000");
        Map<String, Object> all = new HashMap<>(extra);
        all.forEach(p::put);
        return p;
    }

    private static String scrape() throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(kafka.metricsUrl()))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"));
        return r.body();
    }

    /** The value of the sample {@code series} (name plus labels exactly as exposed), or an assertion error. */
    private static double value(String metrics, String series) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(metrics);
        if (!m.find()) {
            throw new AssertionError("no series " + series + " in:\n" + metrics);
        }
        return Double.parseDouble(m.group(1));
    }
}
