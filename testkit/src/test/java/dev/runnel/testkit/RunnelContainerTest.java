package dev.runnel.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.images.builder.ImageFromDockerfile;

/**
 * The Testcontainers class. Its configuration is checked everywhere; starting it needs a Docker engine, so that test
 * is skipped (saying why) where none runs, as on our CI. With Docker it builds the image from docker/Dockerfile, or
 * uses the image named by {@code -Drunnel.image=...}.
 */
class RunnelContainerTest {

    @Test
    void environmentNamesFollowKafkaImagesConvention() {
        assertEquals("RUNNEL_CFG_LOG_SEGMENT_BYTES", RunnelContainer.envName("log.segment.bytes"));
        assertEquals("RUNNEL_CFG_NUM_PARTITIONS", RunnelContainer.envName("num.partitions"));
        assertEquals("RUNNEL_CFG_SOME__KEY___WITH_DASH", RunnelContainer.envName("some_key-with.dash"));
    }

    @Test
    void configuredToAdvertiseTheMappedPortBeforeTheBrokerStarts() {
        try (RunnelContainer c = new RunnelContainer("runnel:test").withProperty("num.partitions", "3").withMetrics()) {
            assertEquals(List.of(RunnelContainer.KAFKA_PORT, RunnelContainer.METRICS_PORT), c.getExposedPorts());
            assertEquals("3", c.getEnvMap().get("RUNNEL_CFG_NUM_PARTITIONS"));
            assertEquals("PLAINTEXT://0.0.0.0:9092", c.getEnvMap().get("RUNNEL_CFG_LISTENERS"));
            assertEquals("9404", c.getEnvMap().get("RUNNEL_CFG_METRICS_PORT"));
            String command = String.join(" ", c.getCommandParts());
            assertTrue(command.contains(RunnelContainer.ADVERTISED_FILE) && command.contains("runnel-docker-entrypoint.sh"), command);
        }
    }

    @Test
    void startedLogLineMatchesTheBrokersStartLine() {
        String line = "[main] INFO dev.runnel.broker.RunnelServer - Runnel node 1 started in 12 ms, listening on 0.0.0.0:9092";
        assertTrue(line.matches(RunnelContainer.STARTED_LOG_PATTERN));
    }

    @Test
    void producesAndConsumesThroughTheMappedPort() throws Exception {
        boolean docker;
        try {
            docker = DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException | LinkageError e) {
            docker = false;
        }
        String why = "No Docker engine is reachable (none runs on this machine or in CI): "
                + "RunnelContainer is not started here; its configuration is checked by the other tests";
        if (!docker) {
            System.out.println("[testkit] skipped: " + why);
        }
        assumeTrue(docker, why);
        String image = System.getProperty("runnel.image");
        try (RunnelContainer kafka = image != null ? new RunnelContainer(image) : new RunnelContainer(buildImage())) {
            kafka.start();
            KafkaClients.send(kafka.getBootstrapServers(), "in-docker", "hello");
            assertEquals(List.of("hello"), KafkaClients.read(kafka.getBootstrapServers(), "in-docker", 1));
        }
    }

    /** The image from docker/Dockerfile, built with the source tree as context (slow: Maven runs inside). */
    private static org.testcontainers.utility.DockerImageName buildImage() throws Exception {
        Path root = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        while (root != null && !Files.exists(root.resolve("docker/Dockerfile"))) {
            root = root.getParent();
        }
        assumeTrue(root != null, "docker/Dockerfile not found above " + System.getProperty("user.dir"));
        String name = new ImageFromDockerfile("runnel-testkit-test", false)
                .withFileFromPath(".", root)
                .withDockerfile(root.resolve("docker/Dockerfile"))
                .get();
        return org.testcontainers.utility.DockerImageName.parse(name);
    }
}
