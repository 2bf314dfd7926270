package dev.runnel.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The embedded broker's log lines in a user's project, whichever SLF4J wins there: kafka-clients 3.x and 4.x bring
 * slf4j-api 1.7.36, which Maven prefers to the testkit's 2.0.x unless the project declares its own. A child JVM gets
 * this module's test classpath with its SLF4J jars replaced, starts an {@link EmbeddedRunnel} with a topic, stops it,
 * and must have printed the broker's start and stop lines.
 */
class LoggingWithEitherSlf4jTest {

    /** Starts and stops a broker; run in a child JVM. */
    public static void main(String[] args) {
        try (EmbeddedRunnel kafka = EmbeddedRunnel.builder().topic("logged", 1).start()) {
            System.out.println("bootstrap " + kafka.bootstrapServers());
        }
    }

    @Test
    void slf4j17AsKafkaClientsBringsItWithA17Backend() throws Exception {
        Path dir = Path.of("target", "slf4j-1.7");
        String out = run(List.of(dir.resolve("slf4j-api-1.7.36.jar"), dir.resolve("slf4j-simple-1.7.36.jar")));
        assertTrue(out.contains("Runnel node 1 started"), out);
        assertTrue(out.contains("Runnel node 1 stopped"), out);
        assertFalse(out.contains("StaticLoggerBinder"), out);
    }

    @Test
    void slf4j2WithA2Backend() throws Exception {
        String out = run(List.of());
        assertTrue(out.contains("Runnel node 1 started"), out);
        assertTrue(out.contains("Runnel node 1 stopped"), out);
    }

    @Test
    void aBackendThatDoesNotMatchTheApiIsTheDocumentedSilence() throws Exception {
        // what users see when kafka-clients' 1.7 API meets a 2.x backend (the README says how to fix it)
        Path dir = Path.of("target", "slf4j-1.7");
        List<Path> jars = new ArrayList<>(List.of(dir.resolve("slf4j-api-1.7.36.jar")));
        for (String e : testClasspath()) {
            if (e.contains("slf4j-simple-2")) {
                jars.add(Path.of(e));
            }
        }
        String out = run(jars);
        assertTrue(out.contains("StaticLoggerBinder"), out);
        assertFalse(out.contains("Runnel node 1 started"), out);
    }

    /** This module's test classpath without its SLF4J jars when {@code slf4j} is given, plus those. */
    private static String run(List<Path> slf4j) throws Exception {
        List<String> cp = new ArrayList<>();
        for (Path p : slf4j) {
            assertTrue(Files.exists(p), "missing " + p.toAbsolutePath());
            cp.add(p.toAbsolutePath().toString());
        }
        for (String e : testClasspath()) {
            if (slf4j.isEmpty() || !e.contains(File.separator + "slf4j-")) {
                cp.add(e);
            }
        }
        Path out = Files.createTempFile("runnel-slf4j-", ".txt");
        try {
            Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", String.join(File.pathSeparator, cp),
                    LoggingWithEitherSlf4jTest.class.getName())
                    .redirectErrorStream(true).redirectOutput(out.toFile()).start();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM still running after 60 s");
            String text = Files.readString(out, StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), text);
            return text;
        } finally {
            Files.deleteIfExists(out);
        }
    }

    private static List<String> testClasspath() {
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        return List.of(cp.split(File.pathSeparator));
    }
}
