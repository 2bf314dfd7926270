package dev.runnel.compat.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.ChildProcess;
import dev.runnel.compat.support.ChildProcess.Result;
import dev.runnel.compat.support.Clients;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Kafka's own tools (kafka-tools, the version of the default run: 4.4) that read the broker's features, log
 * directories and client metrics resources: {@code kafka-features describe/upgrade/downgrade} (ApiVersions'
 * feature fields, UpdateFeatures), {@code kafka-log-dirs --describe} (DescribeLogDirs),
 * {@code kafka-client-metrics --list} and {@code kafka-configs --describe --entity-type client-metrics}
 * (ListClientMetricsResources / ListConfigResources v0). Each checks what the tool printed.
 */
class FeaturesLogDirsClientMetricsCliTest {

    private static final String FEATURES = "org.apache.kafka.tools.FeatureCommand";
    private static final String LOG_DIRS = "org.apache.kafka.tools.LogDirsCommand";
    private static final String CLIENT_METRICS = "org.apache.kafka.tools.ClientMetricsCommand";
    private static final String CONFIGS = "org.apache.kafka.tools.ConfigCommand";

    @RegisterExtension
    static final Broker broker = Broker.create();

    private static final Pattern FEATURE_LINE = Pattern.compile(
            "^Feature: (\\S+)\\s+SupportedMinVersion: (\\S+)\\s+SupportedMaxVersion: (\\S+)\\s+FinalizedVersionLevel: (\\S+)\\s+Epoch: (\\S+)$");

    @Test
    void featuresDescribeShowsMetadataVersion44AndTheOtherFeaturesAtTheLevelsRunnelHas() throws Exception {
        Map<String, List<String>> features = describeFeatures();
        // metadata.version: Kafka 4.4's whole range, in force at 4.4-IV2.
        assertEquals(List.of("3.3-IV3", "4.4-IV2", "4.4-IV2", "0"), features.get("metadata.version"), "metadata.version: " + features);
        // transaction.version 2 (runnel.transaction.version's default), so 4.x producers use transactions V2
        assertEquals(List.of("0", "2", "2", "0"), features.get("transaction.version"), "transaction.version: " + features);
        for (String off : List.of("group.version", "share.version", "streams.version", "eligible.leader.replicas.version",
                "kraft.version")) {
            assertEquals(List.of("0", "0", "0", "0"), features.get(off), off + ": " + features);
        }
        assertEquals(7, features.size(), "the features a Kafka 4.4 broker reports: " + features);
    }

    @Test
    void featuresDryRunsAndRealUpdatesGetKafkasAnswers() throws Exception {
        Result sameLevel = features("upgrade", "--feature", "metadata.version=33", "--dry-run").assertExitCode(0);
        assertEquals(List.of("metadata.version can be upgraded to 33."), sameLevel.stdoutLines(), sameLevel.describe());

        Result tv1 = features("downgrade", "--feature", "transaction.version=1", "--dry-run");
        assertNotEquals(0, tv1.exitCode(), tv1.describe());
        assertEquals(List.of("Can not downgrade transaction.version to 1. The update failed for all features since the following "
                + "feature had an error: Invalid update version 1 for feature transaction.version. Runnel's feature levels are "
                + "fixed; it cannot change transaction.version."), tv1.stdoutLines(), tv1.describe());

        Result downgrade = features("downgrade", "--feature", "metadata.version=30", "--dry-run");
        assertNotEquals(0, downgrade.exitCode(), downgrade.describe());
        assertEquals(List.of("Can not downgrade metadata.version to 30. The update failed for all features since the following "
                + "feature had an error: Unsupported metadata.version downgrade from 33 to 30. Refusing to perform the "
                + "requested downgrade because it might delete metadata information."), downgrade.stdoutLines(), downgrade.describe());

        Result release = features("upgrade", "--release-version", "4.4", "--dry-run");
        assertNotEquals(0, release.exitCode(), "4.4's defaults include group.version 1 and transaction.version 2: " + release.describe());
        assertTrue(release.stdout().contains("Can not upgrade group.version to 1."), release.describe());

        // Real requests: a refused change changes nothing; a request that keeps the level succeeds.
        Result group = features("upgrade", "--feature", "group.version=1");
        assertNotEquals(0, group.exitCode(), group.describe());
        assertTrue(group.stdout().startsWith("Could not upgrade group.version to 1."), group.describe());
        Result confirm = features("upgrade", "--feature", "metadata.version=33").assertExitCode(0);
        assertEquals(List.of("metadata.version was upgraded to 33."), confirm.stdoutLines(), confirm.describe());
        Map<String, List<String>> after = describeFeatures();
        assertEquals("0", after.get("group.version").get(2), "group.version still off: " + after);
        assertEquals("4.4-IV2", after.get("metadata.version").get(2), "metadata.version unchanged: " + after);
    }

    @Test
    void logDirsDescribeListsThePartitionWithItsSizeOnDisk() throws Exception {
        String topic = Clients.uniqueTopic("log-dirs");
        Clients.createTopic(broker, topic, 2);
        try (KafkaProducer<String, String> producer = Clients.producer(broker)) {
            for (int i = 0; i < 10; i++) {
                producer.send(new ProducerRecord<>(topic, 0, "k" + i, "value-" + i)).get(30, TimeUnit.SECONDS);
            }
        }
        Result r = ChildProcess.kafkaTool(LOG_DIRS, null, "--bootstrap-server", broker.bootstrapServers(), "--describe",
                "--topic-list", topic).assertExitCode(0);
        List<String> lines = r.stdoutLines();
        assertEquals("Received log directory information from brokers " + Broker.NODE_ID, lines.get(1), r.describe());
        String json = lines.get(2);
        assertTrue(json.contains("\"broker\":" + Broker.NODE_ID), r.describe());
        assertTrue(json.contains("\"logDir\":\"" + broker.logDir() + "\""), "the broker's log.dirs: " + r.describe());
        long onDisk = segmentBytes(broker.logDir().resolve(topic + "-0"));
        assertTrue(onDisk > 0, "records on disk");
        assertTrue(json.contains("{\"partition\":\"" + topic + "-0\",\"size\":" + onDisk + ","),
                "partition 0 with its " + onDisk + " bytes of segments: " + r.describe());
        assertTrue(json.contains("{\"partition\":\"" + topic + "-1\",\"size\":0,"), "empty partition 1: " + r.describe());
    }

    @Test
    void clientMetricsResourcesListIsEmpty() throws Exception {
        Result list = ChildProcess.kafkaTool(CLIENT_METRICS, null, "--bootstrap-server", broker.bootstrapServers(), "--list")
                .assertExitCode(0);
        assertTrue(list.stdout().isBlank(), "no client metrics resources: " + list.describe());
        assertTrue(list.stderr().isBlank(), list.describe());

        Result all = ChildProcess.kafkaTool(CONFIGS, null, "--bootstrap-server", broker.bootstrapServers(), "--describe",
                "--entity-type", "client-metrics").assertExitCode(0);
        assertTrue(all.stdout().isBlank() && all.stderr().isBlank(), all.describe());

        Result one = ChildProcess.kafkaTool(CONFIGS, null, "--bootstrap-server", broker.bootstrapServers(), "--describe",
                "--entity-type", "client-metrics", "--entity-name", "m1").assertExitCode(0);
        assertEquals(List.of("The client-metric 'm1' doesn't exist and doesn't have dynamic config."), one.stdoutLines(),
                one.describe());
    }

    /** {@code kafka-features describe}: feature → [min, max, finalized, epoch] as printed. */
    private static Map<String, List<String>> describeFeatures() throws Exception {
        Result r = features("describe").assertExitCode(0);
        Map<String, List<String>> features = new TreeMap<>();
        for (String line : r.stdoutLines()) {
            Matcher m = FEATURE_LINE.matcher(line.trim());
            assertTrue(m.matches(), "a feature line: '" + line + "' in " + r.describe());
            features.put(m.group(1), List.of(m.group(2), m.group(3), m.group(4), m.group(5)));
        }
        return features;
    }

    private static Result features(String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("--bootstrap-server", broker.bootstrapServers()));
        all.addAll(List.of(args));
        return ChildProcess.kafkaTool(FEATURES, null, all.toArray(String[]::new));
    }

    private static long segmentBytes(Path partitionDir) throws Exception {
        try (Stream<Path> files = Files.list(partitionDir)) {
            long total = 0;
            for (Path f : files.filter(p -> p.getFileName().toString().endsWith(".log")).toList()) {
                total += Files.size(f);
            }
            return total;
        }
    }
}
