package dev.runnel.compat.durability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A broker process started as an operator starts it ({@code java ... dev.runnel.broker.Main server.properties},
 * with no logging flags: what {@code bin/runnel-server-start.sh} and the distribution run) with a wrong setting:
 * it must stop at once with exit code 1 and exactly one line that names the key and the value (or the address, or
 * the path) and what to do, open nothing in its data directory and print no stack trace. Each case is what Kafka
 * refuses to start with too.
 */
class StartupFailuresTest {
    private static final Pattern TIMESTAMPED = Pattern.compile("^\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2},\\d{3} .*");
    private Path home;
    private Path data;
    private int port;

    @BeforeEach
    void setUp() throws IOException {
        home = Files.createTempDirectory("runnel-startup-");
        data = home.resolve("data");
        Files.createDirectories(data);
        port = BrokerProcess.freePort();
    }

    @AfterEach
    void tearDown() {
        BrokerProcess.deleteRecursively(home);
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = '|', value = {
            "num.partitions|abc|Not a number of type INT",
            "log.segment.bytes|1GB|Not a number of type INT",
            "num.partitions|-3|Value must be at least 1",
            "auto.create.topics.enable|maybe|Expected value to be either true or false",
            "node.id|abc|Not a number of type INT",
            "listeners|PLAINTEXT://localhost:notaport|port 'notaport' of 'PLAINTEXT://localhost:notaport' is not a number",
            "log.cleanup.policy|shred|String must be one of: compact, delete",
            "metrics.port|70000|Value must be no more than 65535",
    })
    void aBadValueStopsTheStartWithOneLine(String key, String value, String reason) throws Exception {
        Run run = runBroker(Map.of(key, value), Map.of());
        assertEquals(1, run.exitCode, run.output);
        String line = run.onlyErrorLine();
        assertTrue(line.contains("Runnel cannot start: Invalid value " + value + " for configuration " + key + ": " + reason
                + " (accepted: "), line);
        run.assertNoStackTrace();
        try (Stream<Path> files = Files.list(data)) {
            assertEquals(List.of(), files.toList(), "the broker opened its data directory before checking its config");
        }
    }

    @Test
    void aPortInUseNamesTheAddress() throws Exception {
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress("127.0.0.1", port));
            Run run = runBroker(Map.of(), Map.of());
            assertEquals(1, run.exitCode, run.output);
            String line = run.onlyErrorLine();
            assertTrue(line.contains("Runnel cannot start: Cannot listen on 127.0.0.1:" + port + " (listeners=PLAINTEXT://127.0.0.1:"
                    + port + "): address already in use; stop whatever holds port " + port), line);
            run.assertNoStackTrace();
        }
    }

    @Test
    void aMissingConfigFileALogDirThatIsAFileOrOfAnotherNodeIsOneLine() throws Exception {
        Path missing = home.resolve("no-such.properties");
        Run run = run(List.of(missing.toString()), Map.of());
        assertEquals(1, run.exitCode, run.output);
        assertTrue(run.onlyErrorLine().contains("Config file " + missing + " does not exist"), run.output);
        run.assertNoStackTrace();

        Path file = home.resolve("not-a-dir");
        Files.writeString(file, "x");
        Run onFile = runBroker(Map.of("log.dirs", file.toString()), Map.of());
        assertEquals(1, onFile.exitCode, onFile.output);
        assertTrue(onFile.onlyErrorLine().contains("log.dirs: " + file + " is a file, not a directory"), onFile.output);
        onFile.assertNoStackTrace();

        Run under = runBroker(Map.of("log.dirs", file.resolve("sub").toString()), Map.of());
        assertEquals(1, under.exitCode, under.output);
        assertTrue(under.onlyErrorLine().contains("log.dirs: cannot create " + file.resolve("sub")
                + " (Not a directory): create it for this user or set log.dirs to a writable directory"), under.output);
        under.assertNoStackTrace();

        // a directory Kafka (or another Runnel node) formatted for node 2
        Files.writeString(data.resolve("meta.properties"), "version=1\ncluster.id=abcdefghijklmnopqrstuv\nnode.id=2\n");
        Run foreign = runBroker(Map.of(), Map.of());
        assertEquals(1, foreign.exitCode, foreign.output);
        assertTrue(foreign.onlyErrorLine().contains("The log directory " + data + " belongs to node 2 (its meta.properties says "
                + "node.id=2), but this node is configured with node.id=1"), foreign.output);
        foreign.assertNoStackTrace();
    }

    @Test
    void aTypoIsAWarningWithTheNearestKeyAndTheBrokerServes() throws Exception {
        Map<String, String> config = new HashMap<>(Map.of("listners", "PLAINTEXT://127.0.0.1:1", "num.network.threads", "3"));
        try (BrokerProcess broker = BrokerProcess.create()) {
            config.forEach(broker::with);
            broker.start();
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
                assertEquals(1, admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).size());
            }
            String out = broker.outputOfThisLife();
            assertTrue(out.contains("WARN BrokerConfig - Config key listners is not known to Runnel (did you mean listeners?)"), out);
            assertTrue(out.contains("Kafka config keys Runnel accepts but does not use: num.network.threads"), out);
            broker.stop();
        }
    }

    @Test
    void logLinesAreTimestampedAndGoToRunnelLogFile() throws Exception {
        Path logFile = home.resolve("logs-here.log");
        Run run = runBroker(Map.of("num.partitions", "abc"), Map.of("RUNNEL_LOG_FILE", logFile.toString()));
        assertEquals(1, run.exitCode, run.output);
        assertFalse(run.output.contains("Runnel cannot start"), "logged to stderr, not to the file:\n" + run.output);
        String logged = Files.readString(logFile, StandardCharsets.UTF_8);
        assertTrue(logged.contains("ERROR Main - Runnel cannot start: Invalid value abc for configuration num.partitions"), logged);
        for (String line : logged.split("\n")) {
            assertTrue(TIMESTAMPED.matcher(line).matches(), "no timestamp: " + line);
        }

        Run badLevel = runBroker(Map.of(), Map.of("RUNNEL_LOG_LEVEL", "loud"));
        assertEquals(1, badLevel.exitCode, badLevel.output);
        assertTrue(badLevel.output.contains("RUNNEL_LOG_LEVEL=loud is not a level"), badLevel.output);
    }

    @Test
    void helpConfigListsEveryKeyWithItsTypeAndDefault() throws Exception {
        Run run = run(List.of("--help-config"), Map.of());
        assertEquals(0, run.exitCode, run.output);
        assertTrue(run.output.contains("| `num.partitions` | INT | `1` | at least 1 |"), run.output);
        assertTrue(run.output.contains("| `log.segment.bytes` | INT | `1073741824` | at least 14 (as topic config segment.bytes) |"), run.output);
        assertTrue(run.output.contains("| `num.network.threads` | INT | `3` |"), run.output);
    }

    private Run runBroker(Map<String, String> overrides, Map<String, String> env) throws Exception {
        Map<String, String> props = new HashMap<>();
        props.put("node.id", "1");
        props.put("listeners", "PLAINTEXT://127.0.0.1:" + port);
        props.put("log.dirs", data.toString());
        props.putAll(overrides);
        StringBuilder sb = new StringBuilder();
        props.forEach((k, v) -> sb.append(k).append('=').append(v).append('\n'));
        Path config = home.resolve("server.properties");
        Files.writeString(config, sb.toString(), StandardCharsets.UTF_8);
        return run(List.of(config.toString()), env);
    }

    /** Runs Main as the start scripts do (no logging flags) and waits for it to exit. */
    private Run run(List<String> args, Map<String, String> env) throws Exception {
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-cp", classpath, "dev.runnel.broker.Main"));
        command.addAll(args);
        Path out = home.resolve("out-" + System.nanoTime() + ".txt");
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(out.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().remove("RUNNEL_LOG_LEVEL");
        pb.environment().remove("RUNNEL_LOG_FILE");
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            throw new AssertionError("broker still running 60 s after a start that should fail:\n" + Files.readString(out));
        }
        return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
    }

    private record Run(int exitCode, String output) {
        String onlyErrorLine() {
            List<String> errors = output.lines().filter(l -> l.contains("ERROR") || l.contains("cannot start")).toList();
            assertEquals(1, errors.size(), "exactly one error line expected:\n" + output);
            assertTrue(TIMESTAMPED.matcher(errors.get(0)).matches(), "no timestamp: " + errors.get(0));
            return errors.get(0);
        }

        void assertNoStackTrace() {
            assertFalse(output.lines().anyMatch(l -> l.startsWith("\tat ") || l.contains("Exception:") || l.startsWith("Caused by")),
                    "a stack trace:\n" + output);
        }
    }
}
