package dev.runnel.compat.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * What a user does with the testkit, as the README says: a project of their own with {@code runnel-testkit}, the newest
 * kafka-clients, JUnit 5 and an SLF4J backend, whose test uses {@code @RunnelBroker}. It is built with Maven (this
 * repository's wrapper, offline, on the same local repository), so it needs the testkit installed: run it after
 * {@code ./mvnw -B -DskipTests install} with {@code -Drunnel.userProject=true} (skipped otherwise, saying so; it costs
 * two Maven builds). Both set-ups of the README: SLF4J 2 declared by the project, and kafka-clients' SLF4J 1.7.36
 * with a 1.7 backend. Either way the broker's own log lines must show in the build output.
 */
class TestkitInUserProjectTest {
    private static final String TEST = """
            package example;

            import static org.junit.jupiter.api.Assertions.assertEquals;

            import dev.runnel.testkit.BootstrapServers;
            import dev.runnel.testkit.RunnelBroker;
            import java.util.Map;
            import org.apache.kafka.clients.producer.KafkaProducer;
            import org.apache.kafka.clients.producer.ProducerRecord;
            import org.apache.kafka.common.serialization.StringSerializer;
            import org.junit.jupiter.api.Test;

            @RunnelBroker(topics = "orders:3")
            class OrderServiceTest {
                @BootstrapServers
                static String bootstrapServers;

                @Test
                void ordersArePublished() throws Exception {
                    try (var producer = new KafkaProducer<>(Map.<String, Object>of("bootstrap.servers", bootstrapServers),
                            new StringSerializer(), new StringSerializer())) {
                        assertEquals("orders", producer.send(new ProducerRecord<>("orders", "o-1", "created")).get().topic());
                    }
                }
            }
            """;

    @Test
    void slf4j2DeclaredByTheProject() throws Exception {
        String out = build("""
                <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>2.0.13</version><scope>test</scope></dependency>
                <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-simple</artifactId><version>2.0.13</version><scope>test</scope></dependency>
                """);
        assertTrue(out.contains("Runnel node 1 started"), out);
    }

    @Test
    void slf4j17AsKafkaClientsBringsItWithA17Backend() throws Exception {
        String out = build("""
                <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-simple</artifactId><version>1.7.36</version><scope>test</scope></dependency>
                """);
        assertTrue(out.contains("Runnel node 1 started"), out);
        assertFalse(out.contains("StaticLoggerBinder"), out);
    }

    private static String build(String loggingDependencies) throws Exception {
        Assumptions.assumeTrue(Boolean.getBoolean("runnel.userProject"),
                "builds a user project with Maven against the installed testkit: run after ./mvnw install with -Drunnel.userProject=true");
        Path repo = localRepository();
        Path root = Path.of("..").toAbsolutePath().normalize();
        String version = System.getProperty("runnel.kafkaClientsVersion", "4.3.0");
        Path project = Files.createTempDirectory("runnel-user-project-");
        try {
            Path src = project.resolve("src/test/java/example");
            Files.createDirectories(src);
            Files.writeString(src.resolve("OrderServiceTest.java"), TEST);
            Files.writeString(project.resolve("pom.xml"), """
                    <project xmlns="http://maven.apache.org/POM/4.0.0">
                      <modelVersion>4.0.0</modelVersion>
                      <groupId>example</groupId><artifactId>orders</artifactId><version>1</version>
                      <properties><maven.compiler.release>17</maven.compiler.release><project.build.sourceEncoding>UTF-8</project.build.sourceEncoding></properties>
                      <dependencies>
                        <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-clients</artifactId><version>%s</version></dependency>
                        <dependency><groupId>dev.runnel</groupId><artifactId>runnel-testkit</artifactId><version>0.1.0-SNAPSHOT</version><scope>test</scope></dependency>
                        <dependency><groupId>org.junit.jupiter</groupId><artifactId>junit-jupiter</artifactId><version>5.10.2</version><scope>test</scope></dependency>
                        %s
                      </dependencies>
                      <build><plugins>
                        <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-compiler-plugin</artifactId><version>3.13.0</version></plugin>
                        <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-resources-plugin</artifactId><version>3.3.1</version></plugin>
                        <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-surefire-plugin</artifactId><version>3.2.5</version></plugin>
                      </plugins></build>
                    </project>
                    """.formatted(version, loggingDependencies));
            List<String> command = new ArrayList<>(List.of(root.resolve("mvnw").toString(), "-B", "-o",
                    "-Dmaven.repo.local=" + repo, "test"));
            Path out = project.resolve("build.txt");
            Process p = new ProcessBuilder(command).directory(project.toFile()).redirectErrorStream(true)
                    .redirectOutput(out.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            assertTrue(p.waitFor(10, TimeUnit.MINUTES), "the user project's build took more than 10 minutes");
            String text = Files.readString(out, StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), text);
            assertTrue(text.contains("Tests run: 1, Failures: 0, Errors: 0, Skipped: 0"), text);
            return text;
        } finally {
            try (Stream<Path> files = Files.walk(project)) {
                files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    /** The local repository this build uses: where the kafka-clients jar on the test classpath lives. */
    private static Path localRepository() {
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        for (String e : cp.split(File.pathSeparator)) {
            Path p = Path.of(e);
            if (p.getFileName().toString().startsWith("kafka-clients-") && e.contains("org" + File.separator + "apache")) {
                // <repo>/org/apache/kafka/kafka-clients/<version>/kafka-clients-<version>.jar
                return p.getParent().getParent().getParent().getParent().getParent().getParent();
            }
        }
        throw new AssertionError("no kafka-clients jar on the test classpath");
    }
}
