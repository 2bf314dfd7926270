package dev.runnel.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedded broker API, driven by stock kafka-clients. */
class EmbeddedRunnelTest {

    @Test
    void topicsDeclaredUpFrontExistAndCarryRecords() throws Exception {
        try (EmbeddedRunnel kafka = EmbeddedRunnel.builder()
                .topic("orders", 3)
                .topic("compacted", 1, Map.of("cleanup.policy", "compact"))
                .start()) {
            assertTrue(kafka.bootstrapServers().startsWith("127.0.0.1:"), kafka.bootstrapServers());
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
                TopicDescription orders = admin.describeTopics(List.of("orders")).allTopicNames().get().get("orders");
                assertEquals(3, orders.partitions().size());
            }
            KafkaClients.send(kafka.bootstrapServers(), "orders", "a", "b");
            KafkaClients.sendKeyed(kafka.bootstrapServers(), "compacted", "x", "y");
            assertEquals(List.of("x", "y"), KafkaClients.read(kafka.bootstrapServers(), "compacted", 2));
        }
    }

    @Test
    void temporaryDataDirectoryIsDeletedOnClose() throws Exception {
        Path dir;
        try (EmbeddedRunnel kafka = EmbeddedRunnel.builder().topic("t").start()) {
            dir = kafka.dataDir();
            KafkaClients.send(kafka.bootstrapServers(), "t", "v");
            assertTrue(Files.isDirectory(dir.resolve("t-0")), "partition directory in " + dir);
        }
        assertFalse(Files.exists(dir), dir + " should be gone");
    }

    @Test
    void givenDataDirectoryIsKeptAndSurvivesRestart(@TempDir Path dir) throws Exception {
        Path data = dir.resolve("kafka-data");
        try (EmbeddedRunnel kafka = EmbeddedRunnel.builder().dataDir(data).topic("t").start()) {
            KafkaClients.send(kafka.bootstrapServers(), "t", "before");
            kafka.restart();
            KafkaClients.send(kafka.bootstrapServers(), "t", "after");
            assertEquals(List.of("before", "after"), KafkaClients.read(kafka.bootstrapServers(), "t", 2));
        }
        assertTrue(Files.isDirectory(data.resolve("t-0")));
        try (EmbeddedRunnel again = EmbeddedRunnel.builder().dataDir(data).start()) {
            assertEquals(List.of("before", "after"), KafkaClients.read(again.bootstrapServers(), "t", 2));
        }
    }

    @Test
    void fixedPortAndPropertyOverrides() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        try (EmbeddedRunnel kafka = EmbeddedRunnel.builder().port(port)
                .property("auto.create.topics.enable", "false")
                .property("num.partitions", "2")
                .start()) {
            assertEquals("127.0.0.1:" + port, kafka.bootstrapServers());
            assertEquals(port, kafka.port());
            kafka.createTopic("made-by-hand", -1);
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
                assertEquals(2, admin.describeTopics(List.of("made-by-hand")).allTopicNames().get()
                        .get("made-by-hand").partitions().size());
                assertFalse(admin.listTopics().names().get().contains("never-created"));
            }
        }
    }

    @Test
    void badTopicsAndPortsAreRefusedWithAReason() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> EmbeddedRunnel.builder().topic("bad name!").start());
        assertTrue(e.getMessage().contains("bad name!"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> EmbeddedRunnel.builder().port(70000));
    }

    @Test
    void stoppedBrokerSaysSo() {
        EmbeddedRunnel kafka = EmbeddedRunnel.start();
        assertTrue(kafka.isRunning());
        kafka.close();
        kafka.close(); // idempotent
        IllegalStateException e = assertThrows(IllegalStateException.class, kafka::bootstrapServers);
        assertTrue(e.getMessage().contains("not running"));
    }

    @Test
    void metricsEndpointOnlyWhenAskedFor() throws Exception {
        try (EmbeddedRunnel plain = EmbeddedRunnel.start()) {
            assertNull(plain.metricsUrl());
        }
        try (EmbeddedRunnel kafka = EmbeddedRunnel.builder().metrics().topic("m").start()) {
            KafkaClients.send(kafka.bootstrapServers(), "m", "one", "two");
            assertNotNull(kafka.metricsUrl());
            HttpURLConnection c = (HttpURLConnection) URI.create(kafka.metricsUrl()).toURL().openConnection();
            c.setConnectTimeout(5_000);
            c.setReadTimeout(5_000);
            String body;
            try (InputStream in = c.getInputStream()) {
                body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new AssertionError("scraping " + kafka.metricsUrl(), e);
            }
            assertEquals(200, c.getResponseCode());
            assertTrue(body.contains("runnel_topic_records_in_total{topic=\"m\"} 2.0"), body);
        }
    }
}
