package dev.runnel.broker.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.broker.BrokerConfig;
import dev.runnel.broker.state.TopicConfigs;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class BrokerConfigKeysTest {

    @Test
    void everyDefaultIsAcceptedByItsOwnRule() {
        for (ConfigDef.Key k : BrokerConfigKeys.def().keys()) {
            if (k.defaultValue() != null) {
                ConfigDef.parse(k, k.defaultValue());
            }
        }
        assertEquals(BrokerConfig.defaults().all(), BrokerConfigKeys.presetDefaults());
    }

    @Test
    void brokerDefaultsOfTopicConfigsHaveTheTopicConfigsTypeAndRule() {
        for (TopicConfigs.Def topic : TopicConfigs.defs().values()) {
            for (TopicConfigs.BrokerSynonym s : topic.synonyms()) {
                ConfigDef.Key k = BrokerConfigKeys.key(s.key());
                assertNotNull(k, s.key() + " (broker default of " + topic.name() + ") has no definition");
                String expected = s.factor() == 1 ? topic.type().name() : "INT";
                assertEquals(expected, k.type().name(), s.key());
            }
        }
        // one rule for both: what a topic override refuses, the broker key refuses with the same reason
        String topicProblem = TopicConfigs.valueProblem("segment.bytes", "13");
        ConfigDef.ConfigException e = assertThrows(ConfigDef.ConfigException.class,
                () -> ConfigDef.parse(BrokerConfigKeys.key("log.segment.bytes"), "13"));
        assertTrue(e.getMessage().startsWith(topicProblem.replace("segment.bytes", "log.segment.bytes")), e.getMessage());
    }

    @Test
    void aBadValueIsOneLineWithKeyValueAndWhatIsAccepted() {
        ConfigDef.ConfigException e = assertThrows(ConfigDef.ConfigException.class, () -> config("num.partitions", "abc"));
        assertEquals("Invalid value abc for configuration num.partitions: Not a number of type INT "
                + "(accepted: an integer (INT), at least 1; default 1)", e.getMessage());
        e = assertThrows(ConfigDef.ConfigException.class, () -> config("auto.create.topics.enable", "maybe"));
        assertEquals("Invalid value maybe for configuration auto.create.topics.enable: Expected value to be either true or false "
                + "(accepted: true or false; default true)", e.getMessage());
        e = assertThrows(ConfigDef.ConfigException.class, () -> config("listeners", "PLAINTEXT://localhost:99999"));
        assertTrue(e.getMessage().contains("port 99999 of 'PLAINTEXT://localhost:99999' is not between 0 and 65535"), e.getMessage());
        e = assertThrows(ConfigDef.ConfigException.class, () -> config("controller.quorum.voters", "1@localhost:9093,two@x:1"));
        assertTrue(e.getMessage().contains("'two@x:1' is not id@host:port entries"), e.getMessage());
        e = assertThrows(ConfigDef.ConfigException.class, () -> config("process.roles", "broker,leader"));
        assertTrue(e.getMessage().contains("'leader' is not one of: broker, controller"), e.getMessage());
        assertThrows(ConfigDef.ConfigException.class, () -> config("num.network.threads", "many"), "ignored keys are still typed");
    }

    @Test
    void valuesTestsAndToolsUseAreAccepted() {
        // blank means unset for keys without a default, as before
        config("metrics.port", "", "process.roles", "", "advertised.listeners", "PLAINTEXT://127.0.0.1:0");
        config("listeners", "PLAINTEXT://:9092,CONTROLLER://[::1]:9093", "controller.listener.names", "CONTROLLER",
                "controller.quorum.voters", "1@localhost:9093,2@[::1]:9095", "listener.security.protocol.map",
                "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT", "max.connections.per.ip.overrides", "127.0.0.1:4,localhost:4",
                "log.retention.hours", "-1", "log.segment.bytes", "14", "auto.create.topics.enable", "FALSE",
                "log.cleanup.policy", "compact,delete", "compression.type", "zstd", "transaction.state.log.min.isr", "2");
    }

    @Test
    void aTypoSuggestsTheNearestKey() {
        ConfigDef def = BrokerConfigKeys.def();
        assertEquals("listeners", def.nearest("listners", List.of()));
        assertEquals("log.segment.bytes", def.nearest("log.segment.byte", List.of()));
        assertEquals("num.partitions", def.nearest("num.partitoins", List.of()));
        assertEquals("advertised.listeners", def.nearest("advertized.listeners", List.of()));
        assertNull(def.nearest("foo", List.of()));
        assertNull(def.nearest("my.own.setting", List.of()));
    }

    /**
     * Every key the code reads from a BrokerConfig ({@code config.get("k")}, {@code c.get("k")}, {@code intOr(c, "k")},
     * {@code longOr(config, "k")}, {@code getInt("k")} ...) in the modules' main sources is in the table, so it is
     * typed, checked at start-up and documented. A new key: one line in BrokerConfigKeys.
     */
    @Test
    void everyKeyTheCodeReadsIsDefined() throws Exception {
        Pattern read = Pattern.compile("(?:(?:config\\(\\)|config|c|values|brokerConfig|broker)\\.(?:get|getInt|getLong)"
                + "|(?:intOr|longOr)\\(\\w+,\\s*)\\(?\\s*\"([a-z]+(?:\\.[a-z0-9]+)+)\"");
        Set<String> missing = new TreeSet<>();
        int reads = 0;
        List<Path> sources;
        try (Stream<Path> modules = Files.list(Path.of(".."))) {
            sources = modules.map(m -> m.resolve("src/main/java")).filter(Files::isDirectory).toList();
        }
        for (Path root : sources) {
            try (Stream<Path> files = Files.walk(root)) {
                for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                    Matcher m = read.matcher(Files.readString(f, StandardCharsets.UTF_8));
                    while (m.find()) {
                        reads++;
                        if (BrokerConfigKeys.key(m.group(1)) == null && TopicConfigs.def(m.group(1)) == null) {
                            missing.add(m.group(1) + " (" + f.getFileName() + ")");
                        }
                    }
                }
            }
        }
        assertTrue(reads > 30, "the pattern found only " + reads + " reads: has the code changed shape?");
        assertEquals(Set.of(), missing, "keys read in code but not defined in BrokerConfigKeys");
    }

    @Test
    void docsConfigurationMdIsGeneratedFromTheTable() throws Exception {
        Path doc = Path.of("..", "docs", "configuration.md");
        String expected = BrokerConfigKeys.markdown();
        if (Boolean.getBoolean("runnel.docs.write")) {
            Files.createDirectories(doc.getParent());
            Files.writeString(doc, expected, StandardCharsets.UTF_8);
        }
        assertTrue(Files.exists(doc), "docs/configuration.md is missing: run this test with -Drunnel.docs.write=true");
        assertEquals(expected, Files.readString(doc, StandardCharsets.UTF_8),
                "docs/configuration.md is out of date: run this test with -Drunnel.docs.write=true");
    }

    private static BrokerConfig config(String... keyValues) {
        Properties p = new Properties();
        for (int i = 0; i + 1 < keyValues.length; i += 2) {
            p.setProperty(keyValues[i], keyValues[i + 1]);
        }
        return BrokerConfig.fromProperties(p);
    }
}
