package dev.runnel.compat.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.ChildProcess.Result;
import dev.runnel.compat.support.Clients;
import dev.runnel.compat.support.KafkaConfigsTool;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Topic configs with Kafka's own {@code kafka-configs --entity-type topics} (Kafka 4.4.0's and 3.9.1's, see
 * {@link KafkaConfigsTool}; both send IncrementalAlterConfigs for topics): {@code --add-config} sets overrides that
 * {@code --describe} and the stock Java admin show as DYNAMIC_TOPIC_CONFIG, {@code --delete-config} removes one,
 * {@code --all} lists the defaults too, and an invalid value is refused with Kafka's message.
 */
class TopicConfigsCliTest {

    @RegisterExtension
    static final Broker broker = Broker.create();

    @ParameterizedTest(name = "{0}")
    @EnumSource(KafkaConfigsTool.class)
    void kafkaConfigsAltersDescribesAndDeletesTopicOverrides(KafkaConfigsTool tool) throws Exception {
        String b = broker.bootstrapServers();
        String topic = Clients.uniqueTopic("topic-configs-" + tool.tag());
        Clients.createTopic(broker, topic, 1);

        Result r = tool.run(b, "--alter", "--entity-type", "topics", "--entity-name", topic,
                "--add-config", "retention.ms=3600000,max.message.bytes=200000").assertExitCode(0);
        assertTrue(r.stdout().contains("Completed updating config for topic " + topic + "."), r.describe());

        r = tool.run(b, "--describe", "--entity-type", "topics", "--entity-name", topic).assertExitCode(0);
        System.out.println("[topic-configs] " + tool + " --describe printed:\n" + r.stdout().trim());
        List<String> lines = r.stdoutLines().stream().filter(l -> !l.isBlank()).toList();
        assertEquals("Dynamic configs for topic " + topic + " are:", lines.get(0), r.describe());
        // Kafka's ConfigHelper keeps the broker synonyms from the first one named like the topic key's own broker key
        // (log.retention.ms, unset) on: log.retention.hours' default is dropped, message.max.bytes' is kept.
        assertTrue(lines.contains("  retention.ms=3600000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=3600000}"),
                r.describe());
        assertTrue(lines.contains("  max.message.bytes=200000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:max.message.bytes=200000, "
                + "DEFAULT_CONFIG:message.max.bytes=1048588}"), r.describe());
        assertEquals(3, lines.size(), "the two overrides only: " + r.describe());

        try (Admin admin = Clients.admin(broker)) {
            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
            ConfigEntry retention = admin.describeConfigs(List.of(resource)).all().get(10, TimeUnit.SECONDS).get(resource).get("retention.ms");
            assertEquals("3600000", retention.value());
            assertEquals(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG, retention.source());
        }

        tool.run(b, "--alter", "--entity-type", "topics", "--entity-name", topic, "--delete-config", "retention.ms").assertExitCode(0);
        r = tool.run(b, "--describe", "--entity-type", "topics", "--entity-name", topic).assertExitCode(0);
        assertFalse(r.stdout().contains("retention.ms"), r.describe());
        assertTrue(r.stdout().contains("  max.message.bytes=200000 "), r.describe());

        r = tool.run(b, "--describe", "--entity-type", "topics", "--entity-name", topic, "--all").assertExitCode(0);
        assertTrue(r.stdout().contains("All configs for topic " + topic + " are:"), r.describe());
        assertTrue(r.stdout().contains("  retention.ms=604800000 sensitive=false synonyms={}"),
                r.describe());

        r = tool.run(b, "--alter", "--entity-type", "topics", "--entity-name", topic, "--add-config", "retention.ms=soon");
        assertNotEquals(0, r.exitCode(), r.describe());
        assertTrue((r.stdout() + r.stderr()).contains("Invalid value soon for configuration retention.ms: Not a number of type LONG"),
                r.describe());
    }
}
