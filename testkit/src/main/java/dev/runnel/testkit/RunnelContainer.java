package dev.runnel.testkit;

import com.github.dockerjava.api.command.InspectContainerResponse;
import java.time.Duration;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.Transferable;
import org.testcontainers.utility.DockerImageName;

/**
 * Runnel in Docker for Testcontainers, used like Testcontainers' {@code KafkaContainer}:
 *
 * <pre>{@code
 * @Container
 * static RunnelContainer kafka = new RunnelContainer("runnel:latest").withProperty("num.partitions", "3");
 * ...
 * props.put("bootstrap.servers", kafka.getBootstrapServers());
 * }</pre>
 *
 * The image is the one {@code docker/Dockerfile} builds. Clients outside the container reach it through the mapped
 * port: the container waits until Testcontainers knows that port, is told to advertise it, and only then starts the
 * broker (a broker must advertise an address its clients can reach).
 */
public class RunnelContainer extends GenericContainer<RunnelContainer> {
    /** The image {@code docker build -t runnel:latest -f docker/Dockerfile .} makes. */
    public static final String DEFAULT_IMAGE = "runnel:latest";
    /** The broker's port inside the container. */
    public static final int KAFKA_PORT = 9092;
    /** The {@code /metrics} port inside the container once {@link #withMetrics()} is called. */
    public static final int METRICS_PORT = 9404;

    static final String ADVERTISED_FILE = "/tmp/runnel-advertised-listeners";
    static final String STARTED_LOG_PATTERN = ".*Runnel node \\d+ started in.*";

    public RunnelContainer() {
        this(DEFAULT_IMAGE);
    }

    public RunnelContainer(String image) {
        this(DockerImageName.parse(image));
    }

    public RunnelContainer(DockerImageName image) {
        super(image);
        withExposedPorts(KAFKA_PORT);
        withProperty("listeners", "PLAINTEXT://0.0.0.0:" + KAFKA_PORT);
        // Wait for the advertised address, then hand over to the image's entrypoint with no arguments (= run the broker).
        withCommand("sh", "-c", "while [ ! -s " + ADVERTISED_FILE + " ]; do sleep 0.05; done; "
                + "RUNNEL_CFG_ADVERTISED_LISTENERS=\"$(cat " + ADVERTISED_FILE + ")\"; export RUNNEL_CFG_ADVERTISED_LISTENERS; "
                + "exec /opt/runnel/bin/runnel-docker-entrypoint.sh");
        waitingFor(Wait.forLogMessage(STARTED_LOG_PATTERN, 1).withStartupTimeout(Duration.ofSeconds(60)));
    }

    /** Sets a {@code server.properties} key through the image's {@code RUNNEL_CFG_*} environment variables. */
    public RunnelContainer withProperty(String key, String value) {
        return withEnv(envName(key), value);
    }

    /** Serves {@code /metrics} on {@link #METRICS_PORT} (mapped: see {@link #getMetricsUrl()}). */
    public RunnelContainer withMetrics() {
        addExposedPort(METRICS_PORT);
        return withProperty("metrics.port", Integer.toString(METRICS_PORT));
    }

    /**
     * The environment variable the image maps to {@code key}: {@code RUNNEL_CFG_} plus the key in upper case with
     * {@code .} as {@code _}, {@code _} as {@code __} and {@code -} as {@code ___} (the convention of Kafka's images),
     * e.g. {@code log.segment.bytes} → {@code RUNNEL_CFG_LOG_SEGMENT_BYTES}.
     */
    public static String envName(String key) {
        StringBuilder sb = new StringBuilder("RUNNEL_CFG_");
        for (char c : key.toCharArray()) {
            switch (c) {
                case '.' -> sb.append('_');
                case '_' -> sb.append("__");
                case '-' -> sb.append("___");
                default -> sb.append(Character.toUpperCase(c));
            }
        }
        return sb.toString();
    }

    @Override
    protected void containerIsStarting(InspectContainerResponse containerInfo) {
        super.containerIsStarting(containerInfo);
        String advertised = "PLAINTEXT://" + getHost() + ":" + getMappedPort(KAFKA_PORT);
        copyFileToContainer(Transferable.of(advertised), ADVERTISED_FILE);
    }

    /** {@code host:port} for the clients' {@code bootstrap.servers}. */
    public String getBootstrapServers() {
        return getHost() + ":" + getMappedPort(KAFKA_PORT);
    }

    /** {@code http://host:port/metrics}; needs {@link #withMetrics()}. */
    public String getMetricsUrl() {
        return "http://" + getHost() + ":" + getMappedPort(METRICS_PORT) + "/metrics";
    }
}
