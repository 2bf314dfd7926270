package dev.runnel.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged distribution, as a user gets it: unpacked from target/runnel-VERSION.tar.gz into a fresh directory
 * outside the source tree, started with its own bin/ script (and once through the Docker image's entrypoint, which
 * turns RUNNEL_CFG_* variables into configuration) as a child process, then driven by stock kafka-clients and
 * scraped at /metrics, and stopped with SIGTERM. Each broker start costs a JVM start (1-3 s).
 */
class DistributionIT {
    private static final Duration STARTUP = Duration.ofSeconds(60);

    @TempDir
    Path work;
    private Process broker;
    private Path output;

    @AfterEach
    void stop() throws Exception {
        if (broker != null && broker.isAlive()) {
            broker.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void unpackedDistributionServesStockClientsAndStopsOnSigterm() throws Exception {
        Path home = unpack();
        for (String f : List.of("bin/runnel-server-start.sh", "config/server.properties", "README.txt")) {
            assertTrue(Files.exists(home.resolve(f)), f + " missing from the distribution");
        }
        assertTrue(Files.isExecutable(home.resolve("bin/runnel-server-start.sh")));
        try (var jars = Files.list(home.resolve("lib"))) {
            assertTrue(jars.anyMatch(j -> j.getFileName().toString().startsWith("runnel-broker-")), "lib/ holds the broker");
        }
        int port = freePort();
        int metricsPort = freePort();
        // The shipped config, with the listener, data directory and metrics port a test can use.
        String config = Files.readString(home.resolve("config/server.properties"))
                .replace("listeners=PLAINTEXT://localhost:9092", "listeners=PLAINTEXT://127.0.0.1:" + port)
                .replace("log.dirs=./data", "log.dirs=" + work.resolve("data"))
                .replace("#metrics.port=9404", "metrics.port=" + metricsPort);
        Path configFile = work.resolve("server.properties");
        Files.writeString(configFile, config);

        start(new ProcessBuilder(home.resolve("bin/runnel-server-start.sh").toString(), configFile.toString()), Map.of());
        String bootstrap = "127.0.0.1:" + port;
        roundTrip(bootstrap, "dist-topic");
        String metrics = scrape(metricsPort);
        assertTrue(metrics.contains("runnel_topic_records_in_total{topic=\"dist-topic\"} 3.0"), metrics);
        assertTrue(metrics.contains("runnel_requests_seconds_count{request=\"Produce\"}"), metrics);

        // The default log level says what happened to the broker, not to each request: a start line (plus the
        // log maintenance settings) and one line for the topic that the producer created, after 3 produce
        // requests, a consumer's fetches, metadata and offset lookups.
        List<String> lines = Files.readAllLines(output).stream().filter(l -> !l.isBlank()).toList();
        assertTrue(lines.size() <= 4 && lines.stream().anyMatch(l -> l.contains("Created topic dist-topic")),
                "expected a handful of lines at INFO, got:\n" + String.join("\n", lines));

        broker.destroy(); // SIGTERM: the shutdown hook closes the broker
        assertTrue(broker.waitFor(30, TimeUnit.SECONDS), "broker did not stop on SIGTERM");
        awaitOutput("Runnel node 1 stopped", Duration.ofSeconds(5));
        assertTrue(Files.isDirectory(work.resolve("data/dist-topic-0")), "data kept in log.dirs");
    }

    @Test
    void dockerEntrypointTurnsEnvironmentVariablesIntoConfiguration() throws Exception {
        Path home = unpack();
        Path entrypoint = Path.of(System.getProperty("runnel.dockerEntrypoint"));
        assertTrue(Files.isRegularFile(entrypoint), "no entrypoint at " + entrypoint);
        int port = freePort();
        int metricsPort = freePort();
        Path baseConfig = work.resolve("mounted.properties");
        Files.writeString(baseConfig, "listeners=PLAINTEXT://0.0.0.0:9092\nnum.partitions=1\n");
        Path effective = work.resolve("effective.properties");
        start(new ProcessBuilder("sh", entrypoint.toString()), Map.of(
                "RUNNEL_HOME", home.toString(),
                "RUNNEL_CONFIG", baseConfig.toString(),
                "RUNNEL_EFFECTIVE_CONFIG", effective.toString(),
                "RUNNEL_CFG_LISTENERS", "PLAINTEXT://127.0.0.1:" + port,
                "RUNNEL_CFG_LOG_DIRS", work.resolve("data").toString(),
                "RUNNEL_CFG_NUM_PARTITIONS", "3",
                "RUNNEL_CFG_METRICS_PORT", Integer.toString(metricsPort),
                "RUNNEL_CFG_GROUP_INITIAL_REBALANCE_DELAY_MS", "0"));
        Properties p = new Properties();
        try (var r = Files.newBufferedReader(effective)) {
            p.load(r);
        }
        assertEquals("PLAINTEXT://127.0.0.1:" + port, p.getProperty("listeners"), "variables override the mounted file");
        assertEquals("3", p.getProperty("num.partitions"));
        assertEquals("0", p.getProperty("group.initial.rebalance.delay.ms"));
        roundTrip("127.0.0.1:" + port, "from-env");
        assertTrue(Files.isDirectory(work.resolve("data/from-env-2")), "num.partitions=3 from RUNNEL_CFG_NUM_PARTITIONS");
        assertTrue(scrape(metricsPort).contains("runnel_partitions 3.0"));
    }

    // ------------------------------------------------------------------ helpers

    private Path unpack() throws Exception {
        Path archive = Path.of(System.getProperty("runnel.distArchive"));
        assertTrue(Files.isRegularFile(archive), "no distribution at " + archive + " (run `mvn verify`, which packages it first)");
        Path into = Files.createDirectories(work.resolve("install"));
        Process tar = new ProcessBuilder("tar", "-xzf", archive.toString(), "-C", into.toString()).inheritIO().start();
        assertTrue(tar.waitFor(60, TimeUnit.SECONDS) && tar.exitValue() == 0, "tar failed");
        try (var dirs = Files.list(into)) {
            return dirs.findFirst().orElseThrow();
        }
    }

    private void start(ProcessBuilder pb, Map<String, String> env) throws Exception {
        output = work.resolve("broker.out");
        pb.environment().putAll(env);
        pb.environment().put("RUNNEL_HEAP_OPTS", "-Xmx256m");
        pb.directory(work.toFile()).redirectErrorStream(true).redirectOutput(output.toFile());
        broker = pb.start();
        awaitOutput("started in", STARTUP);
    }

    private void awaitOutput(String text, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            String out = Files.readString(output, StandardCharsets.UTF_8);
            if (out.contains(text)) {
                System.out.println("[dist] broker output so far:\n" + out);
                return;
            }
            if (System.nanoTime() > deadline || (!broker.isAlive() && !out.contains(text))) {
                fail("no \"" + text + "\" from the broker (alive: " + broker.isAlive() + "); its output:\n" + out);
            }
            LockSupport.parkNanos(Duration.ofMillis(50).toNanos());
        }
    }

    private static void roundTrip(String bootstrap, String topic) throws Exception {
        Properties pp = new Properties();
        pp.put("bootstrap.servers", bootstrap);
        pp.put("max.block.ms", 20_000);
        pp.put("delivery.timeout.ms", 20_000);
        pp.put("request.timeout.ms", 10_000);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(pp, new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < 3; i++) {
                producer.send(new ProducerRecord<>(topic, 0, "k", "v" + i)).get(20, TimeUnit.SECONDS);
            }
        }
        Properties cp = new Properties();
        cp.put("bootstrap.servers", bootstrap);
        cp.put("default.api.timeout.ms", 20_000);
        cp.put("request.timeout.ms", 10_000);
        List<String> got = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(cp, new StringDeserializer(), new StringDeserializer())) {
            TopicPartition tp = new TopicPartition(topic, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (got.size() < 3 && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    got.add(r.value());
                }
            }
        }
        assertEquals(List.of("v0", "v1", "v2"), got);
    }

    private static String scrape(int port) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"));
        try (InputStream in = r.body()) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
