package dev.runnel.compat.support;

import dev.runnel.broker.BrokerConfig;
import dev.runnel.broker.RunnelServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Properties;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A fresh single-node Runnel broker for one test class: its own temporary log directory and a free
 * port on 127.0.0.1. Register it as a static field so every test class gets a clean broker:
 *
 * <pre>
 * &#64;RegisterExtension
 * static final Broker broker = Broker.create().with("num.partitions", "3");
 * </pre>
 *
 * It can also be driven by hand with {@link #start()} and {@link #close()}.
 */
public final class Broker implements BeforeAllCallback, AfterAllCallback, AutoCloseable {

    /** The node id every compat broker runs with, so tests can check leaders and controllers. */
    public static final int NODE_ID = 1;

    private final Properties overrides = new Properties();
    private RunnelServer server;
    private Path logDir;

    private Broker() {
    }

    public static Broker create() {
        return new Broker();
    }

    /** Sets a {@code server.properties} key for this broker (before it starts). */
    public Broker with(String key, String value) {
        if (server != null) {
            throw new IllegalStateException("broker already started; set " + key + " before start()");
        }
        overrides.setProperty(key, value);
        return this;
    }

    public synchronized Broker start() throws IOException {
        if (server != null) {
            throw new IllegalStateException("broker already started at " + server.bootstrapServers());
        }
        logDir = Files.createTempDirectory("runnel-compat-");
        try {
            startOn(logDir);
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
        return this;
    }

    /**
     * Stops the broker gracefully and starts a new one on the same log directory (and a new free
     * port: clients must be created again from {@link #bootstrapServers()}).
     */
    public synchronized Broker restart() throws IOException {
        RunnelServer old = running();
        String oldAddress = old.bootstrapServers();
        old.close();
        server = null;
        System.out.printf("[compat] broker %s stopped for a restart%n", oldAddress);
        startOn(logDir);
        return this;
    }

    private void startOn(Path logDir) throws IOException {
        Properties props = new Properties();
        props.setProperty("node.id", Integer.toString(NODE_ID));
        props.setProperty("listeners", "PLAINTEXT://127.0.0.1:0");
        props.setProperty("log.dirs", logDir.toString());
        props.setProperty("group.initial.rebalance.delay.ms", "0");
        props.putAll(overrides);
        long startNanos = System.nanoTime();
        server = RunnelServer.start(BrokerConfig.fromProperties(props));
        long millis = (System.nanoTime() - startNanos) / 1_000_000;
        System.out.printf("[compat] broker listening on %s (started in %d ms, log.dirs=%s, overrides=%s)%n",
                server.bootstrapServers(), millis, logDir, overrides);
    }

    @Override
    public synchronized void close() {
        try {
            if (server != null) {
                server.close();
                System.out.printf("[compat] broker %s stopped%n", server.bootstrapServers());
            }
        } finally {
            server = null;
            deleteRecursively(logDir);
            logDir = null;
        }
    }

    public String bootstrapServers() {
        return running().bootstrapServers();
    }

    public int port() {
        return running().port();
    }

    public String host() {
        String bootstrap = bootstrapServers();
        return bootstrap.substring(0, bootstrap.lastIndexOf(':'));
    }

    public Path logDir() {
        running();
        return logDir;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        start();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        close();
    }

    private RunnelServer running() {
        RunnelServer s = server;
        if (s == null) {
            throw new IllegalStateException("broker is not running");
        }
        return s;
    }

    private static void deleteRecursively(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            System.out.printf("[compat] could not delete %s: %s%n", dir, e);
        }
    }
}
