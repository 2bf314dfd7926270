package dev.runnel.testkit;

import dev.runnel.broker.BrokerConfig;
import dev.runnel.broker.RunnelServer;
import dev.runnel.broker.state.TopicManager;
import dev.runnel.wire.Errors;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Runnel broker inside this JVM, for tests: Kafka clients connect to {@link #bootstrapServers()}.
 *
 * <pre>{@code
 * try (EmbeddedRunnel kafka = EmbeddedRunnel.builder().topic("orders", 3).start()) {
 *     props.put("bootstrap.servers", kafka.bootstrapServers());
 *     ...
 * }
 * }</pre>
 *
 * By default it listens on a free port of 127.0.0.1 and keeps its data in a new temporary directory that
 * {@link #close()} deletes. Any {@code server.properties} key can be set with {@link Builder#property}. Starting
 * takes a few milliseconds once the broker's classes are loaded; closing returns after the broker's threads have
 * ended and its files are closed, so thousands of start/stop cycles in one JVM leak nothing.
 */
public final class EmbeddedRunnel implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedRunnel.class);

    private final Properties properties;
    private final Path dataDir;
    private final boolean deleteDataDir;
    private final List<TopicSpec> topics;
    private volatile RunnelServer server;

    private record TopicSpec(String name, int partitions, Map<String, String> configs) {
    }

    private EmbeddedRunnel(Properties properties, Path dataDir, boolean deleteDataDir, List<TopicSpec> topics) {
        this.properties = properties;
        this.dataDir = dataDir;
        this.deleteDataDir = deleteDataDir;
        this.topics = topics;
    }

    /** A broker with the defaults: a free port on 127.0.0.1, a temporary data directory, Kafka's defaults otherwise. */
    public static EmbeddedRunnel start() {
        return builder().start();
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * A cluster of {@code nodes} Runnel nodes in this JVM (each a broker and a voter of the metadata quorum, on free
     * ports of 127.0.0.1), for tests of failover: {@code EmbeddedRunnel.cluster(3).topic("orders", 6).start()}.
     * See {@link EmbeddedRunnelCluster}.
     */
    public static EmbeddedRunnelCluster.Builder cluster(int nodes) {
        return EmbeddedRunnelCluster.builder(nodes);
    }

    /** How a broker will be started. Every setter returns this builder. */
    public static final class Builder {
        private final Properties properties = new Properties();
        private final List<TopicSpec> topics = new ArrayList<>();
        private String host = "127.0.0.1";
        private int port;
        private Path dataDir;
        private Boolean deleteDataDir;

        private Builder() {
        }

        /** The port to listen on; 0 (the default) picks a free one. */
        public Builder port(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be 0-65535, got " + port);
            }
            this.port = port;
            return this;
        }

        /** The address to listen on and to advertise (default 127.0.0.1). */
        public Builder host(String host) {
            this.host = host;
            return this;
        }

        /**
         * Keeps partition data in {@code dir} (created if missing) instead of a temporary directory. Such a
         * directory is kept on close unless {@link #deleteDataDirOnClose(boolean)} says otherwise.
         */
        public Builder dataDir(Path dir) {
            this.dataDir = dir;
            return this;
        }

        /** Whether {@link #close()} deletes the data directory (default: only when it is a temporary one). */
        public Builder deleteDataDirOnClose(boolean delete) {
            this.deleteDataDir = delete;
            return this;
        }

        /** Sets a {@code server.properties} key, e.g. {@code property("num.partitions", "3")}. */
        public Builder property(String key, String value) {
            properties.setProperty(key, value);
            return this;
        }

        /** Sets several {@code server.properties} keys. */
        public Builder properties(Map<?, ?> values) {
            values.forEach((k, v) -> properties.setProperty(String.valueOf(k), String.valueOf(v)));
            return this;
        }

        /** Serves {@code /metrics} in Prometheus' format on a free port (see {@link #metricsUrl()}). */
        public Builder metrics() {
            return property("metrics.port", "0");
        }

        /** A topic created before {@link #start()} returns, with {@code num.partitions} partitions. */
        public Builder topic(String name) {
            return topic(name, -1, Map.of());
        }

        public Builder topic(String name, int partitions) {
            return topic(name, partitions, Map.of());
        }

        /** A topic with topic-level configs such as {@code cleanup.policy=compact}. */
        public Builder topic(String name, int partitions, Map<String, String> configs) {
            topics.add(new TopicSpec(name, partitions, Map.copyOf(configs)));
            return this;
        }

        /** Starts the broker; it is listening and its topics exist when this returns. */
        public EmbeddedRunnel start() {
            Properties p = new Properties();
            p.setProperty("listeners", "PLAINTEXT://" + hostForListener(host) + ":" + port);
            p.putAll(properties);
            Path dir;
            boolean delete;
            try {
                if (dataDir != null) {
                    dir = Files.createDirectories(dataDir);
                    delete = deleteDataDir != null && deleteDataDir;
                } else {
                    dir = Files.createTempDirectory("runnel-");
                    delete = deleteDataDir == null || deleteDataDir;
                }
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot create the broker's data directory", e);
            }
            p.setProperty("log.dirs", dir.toString());
            EmbeddedRunnel broker = new EmbeddedRunnel(p, dir, delete, List.copyOf(topics));
            try {
                broker.startServer();
            } catch (RuntimeException e) {
                broker.close();
                throw e;
            }
            return broker;
        }

        private static String hostForListener(String host) {
            return host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
        }
    }

    private void startServer() {
        long t0 = System.nanoTime();
        try {
            server = RunnelServer.start(BrokerConfig.fromProperties(properties));
        } catch (IOException e) {
            throw new UncheckedIOException("Runnel did not start: " + e.getMessage(), e);
        }
        for (TopicSpec t : topics) {
            createTopic(t.name(), t.partitions(), t.configs());
        }
        LOG.debug("Embedded Runnel at {} ready in {} ms", server.bootstrapServers(), (System.nanoTime() - t0) / 1_000_000);
    }

    /** {@code host:port} for the clients' {@code bootstrap.servers}. */
    public String bootstrapServers() {
        return running().bootstrapServers();
    }

    /** The port the broker listens on. */
    public int port() {
        return running().port();
    }

    /** Where the broker keeps its partitions. */
    public Path dataDir() {
        return dataDir;
    }

    /** {@code http://host:port/metrics}, or null unless metrics were asked for ({@link Builder#metrics()} or {@code metrics.port}). */
    public String metricsUrl() {
        RunnelServer s = running();
        if (s.metricsPort() < 0) {
            return null;
        }
        String host = s.broker().advertisedHost();
        return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + s.metricsPort() + "/metrics";
    }

    /** The server itself, for what this class does not cover (its metrics registry, its topics). */
    public RunnelServer server() {
        return running();
    }

    /** Creates a topic unless it exists ({@code partitions} -1: {@code num.partitions}); invalid names or configs throw. */
    public void createTopic(String name, int partitions) {
        createTopic(name, partitions, Map.of());
    }

    public void createTopic(String name, int partitions, Map<String, String> configs) {
        TopicManager topicManager = running().broker().topics();
        int count = partitions > 0 ? partitions : running().broker().config().numPartitions();
        TopicManager.Result r = topicManager.create(name, count, new LinkedHashMap<>(configs), false, false);
        if (r.error() != Errors.NONE && r.error() != Errors.TOPIC_ALREADY_EXISTS) {
            throw new IllegalArgumentException("Cannot create topic " + name + ": " + r.error() + " " + r.message());
        }
    }

    public boolean isRunning() {
        return server != null;
    }

    /**
     * Stops the broker gracefully (logs flushed and closed) and starts it again on the same data directory and, if
     * the port was fixed, the same port (a free port otherwise: read {@link #bootstrapServers()} again).
     */
    public synchronized void restart() {
        RunnelServer s = running();
        s.close();
        server = null;
        startServer();
    }

    /** Stops the broker and, unless asked to keep it, deletes its data directory. Idempotent. */
    @Override
    public synchronized void close() {
        RunnelServer s = server;
        server = null;
        try {
            if (s != null) {
                s.close();
            }
        } finally {
            if (deleteDataDir) {
                deleteRecursively(dataDir, "broker's data directory");
            }
        }
    }

    private RunnelServer running() {
        RunnelServer s = server;
        if (s == null) {
            throw new IllegalStateException("The embedded Runnel broker is not running");
        }
        return s;
    }

    /** Deletes {@code dir} and everything under it; a failure is logged as about {@code what}, never thrown. */
    static void deleteRecursively(Path dir, String what) {
        if (dir == null) {
            return;
        }
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                    Files.deleteIfExists(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (NoSuchFileException e) {
            // already gone
        } catch (IOException e) {
            LOG.warn("Could not delete the {} {}: {}", what, dir, e.toString());
        }
    }

    @Override
    public String toString() {
        RunnelServer s = server;
        return "EmbeddedRunnel[" + (s == null ? "stopped" : s.bootstrapServers()) + ", data in " + dataDir + "]";
    }
}
