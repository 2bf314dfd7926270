package dev.runnel.compat.support;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.runnel.compat.support.ChildProcess.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Kafka's {@code kafka-configs} in the two versions the quota and dynamic-config tests run:
 * <ul>
 *   <li>{@link #KAFKA_4_4}: {@code org.apache.kafka.tools.ConfigCommand} of kafka-tools 4.4.0, the class Kafka 4.4's
 *       {@code bin/kafka-configs.sh} starts (4.x moved it out of the Scala core into kafka-tools; kafka_2.13 4.4.0
 *       has no {@code kafka.admin.ConfigCommand}). It is on this module's test classpath, run like every other 4.4
 *       tool through {@link ChildProcess#kafkaTool}. For brokers it sends IncrementalAlterConfigs.</li>
 *   <li>{@link #KAFKA_3_9}: Kafka 3.9.1's Scala {@code kafka.admin.ConfigCommand} (kafka_2.13 3.9.1, from the
 *       classpath file the compat-tests/kafka-3.9-tools module writes). For brokers it sends the legacy
 *       AlterConfigs.</li>
 * </ul>
 * The first use of each checks, with the tool's own {@code --version}, that the expected release runs, and prints it.
 */
public enum KafkaConfigsTool {
    KAFKA_4_4("4.4.0", "org.apache.kafka.tools.ConfigCommand"),
    KAFKA_3_9("3.9.1", "kafka.admin.ConfigCommand");

    private static final Map<KafkaConfigsTool, String> CHECKED = new ConcurrentHashMap<>();

    private final String version;
    private final String mainClass;

    KafkaConfigsTool(String version, String mainClass) {
        this.version = version;
        this.mainClass = mainClass;
    }

    public String version() {
        return version;
    }

    /** A short tag for names that must not collide between the runs of a parametrized test ("44", "39"). */
    public String tag() {
        return version.substring(0, version.lastIndexOf('.')).replace(".", "");
    }

    @Override
    public String toString() {
        return "kafka-configs " + version;
    }

    /** {@code kafka-configs --bootstrap-server <bootstrap> args...} */
    public Result run(String bootstrap, String... args) throws Exception {
        checkVersion();
        List<String> all = new ArrayList<>(List.of("--bootstrap-server", bootstrap));
        all.addAll(List.of(args));
        return launch(all.toArray(String[]::new));
    }

    private void checkVersion() throws Exception {
        if (CHECKED.containsKey(this)) {
            return;
        }
        Result r = launch("--version").assertExitCode(0);
        String printed = r.stdoutLines().stream().map(String::trim).filter(l -> l.matches("\\d+\\.\\d+\\.\\d+.*"))
                .findFirst().orElse(r.stdout().trim());
        if (!printed.startsWith(version)) {
            throw new AssertionError("expected kafka-configs " + version + " (" + mainClass + "), --version printed: " + r.describe());
        }
        CHECKED.put(this, printed);
        System.out.println("[kafka-configs] running Kafka " + printed + "'s " + mainClass);
    }

    private Result launch(String... args) throws Exception {
        if (this == KAFKA_4_4) {
            return ChildProcess.kafkaTool(mainClass, null, args);
        }
        String file = System.getProperty("runnel.kafka39ToolsClasspathFile");
        assumeTrue(file != null && Files.isRegularFile(Path.of(file)),
                "Kafka 3.9's kafka-configs needs the classpath file of the compat-tests/kafka-3.9-tools module; got " + file);
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx256m", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-cp", Files.readString(Path.of(file)).trim(), mainClass));
        command.addAll(List.of(args));
        return ChildProcess.run(command, null, ChildProcess.DEFAULT_TIMEOUT);
    }
}
