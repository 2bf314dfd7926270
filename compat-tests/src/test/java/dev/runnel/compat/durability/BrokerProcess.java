package dev.runnel.compat.durability;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

/**
 * A Runnel broker in a child JVM ({@code java -cp <test classpath> dev.runnel.broker.Main server.properties}),
 * so that a test can kill it as the operating system would (SIGKILL through {@link Process#destroyForcibly()})
 * and start it again on the same port and log directory. Its output goes to one file for all its lives,
 * which tests read to check what the broker said about recovery.
 */
final class BrokerProcess implements AutoCloseable {
    private static final Duration START_DEADLINE = Duration.ofSeconds(60);

    private final Path home;
    private final Path logDir;
    private final Path output;
    private final int port;
    private final Properties overrides = new Properties();
    private final List<String> jvmOptions = new ArrayList<>();
    private Process process;
    private int lives;

    private BrokerProcess(Path home, int port) {
        this.home = home;
        this.logDir = home.resolve("data");
        this.output = home.resolve("broker.out");
        this.port = port;
    }

    /** A broker (not yet started) with its own temporary home and a free loopback port. */
    static BrokerProcess create() throws IOException {
        return new BrokerProcess(Files.createTempDirectory("runnel-durability-"), freePort());
    }

    BrokerProcess with(String key, String value) {
        overrides.setProperty(key, value);
        return this;
    }

    BrokerProcess jvmOption(String option) {
        jvmOptions.add(option);
        return this;
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress("127.0.0.1", 0));
            return s.getLocalPort();
        }
    }

    int port() {
        return port;
    }

    String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    Path logDir() {
        return logDir;
    }

    Path partitionDir(String topic, int partition) {
        return logDir.resolve(topic + "-" + partition);
    }

    Process process() {
        return process;
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process != null && process.isAlive();
    }

    /** Starts the child JVM and returns once it accepts connections on its port. */
    BrokerProcess start() throws IOException {
        spawn();
        awaitListening();
        return this;
    }

    /** Starts the child JVM without waiting for it (a test may kill it during its start-up). */
    BrokerProcess spawn() throws IOException {
        if (isAlive()) {
            throw new IllegalStateException("broker already running, pid " + process.pid());
        }
        Files.createDirectories(logDir);
        Properties props = new Properties();
        props.setProperty("node.id", "1");
        props.setProperty("listeners", "PLAINTEXT://127.0.0.1:" + port);
        props.setProperty("log.dirs", logDir.toString());
        props.setProperty("group.initial.rebalance.delay.ms", "0");
        props.putAll(overrides);
        Path config = home.resolve("server.properties");
        try (Writer w = Files.newBufferedWriter(config)) {
            props.store(w, "written by " + BrokerProcess.class.getSimpleName());
        }
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx256m");
        command.add("-XX:+UseSerialGC");
        command.add("-XX:TieredStopAtLevel=1");
        command.add("-Xshare:auto");
        command.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=info");
        command.add("-Dorg.slf4j.simpleLogger.showDateTime=true");
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(classpath);
        command.add("dev.runnel.broker.Main");
        command.add(config.toString());
        lives++;
        Files.writeString(output, "=== life " + lives + " ===\n", StandardCharsets.UTF_8,
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(output.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
        return this;
    }

    /** Waits until the port accepts a connection; fails if the child dies or the deadline passes. */
    void awaitListening() throws IOException {
        long deadline = System.nanoTime() + START_DEADLINE.toNanos();
        while (true) {
            if (!process.isAlive()) {
                throw new IOException("broker exited with " + process.exitValue() + " during start-up:\n" + tail(40));
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
                return;
            } catch (IOException notYet) {
                if (System.nanoTime() - deadline > 0) {
                    throw new IOException("broker did not listen on " + port + " within " + START_DEADLINE + ":\n" + tail(40));
                }
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
    }

    /** SIGKILL: no shutdown hook runs, nothing is flushed or marked clean. */
    void kill() throws InterruptedException {
        if (process != null) {
            process.destroyForcibly();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("killed broker pid " + process.pid() + " did not go away");
            }
        }
    }

    /** SIGTERM: the broker's shutdown hook closes the logs cleanly. */
    void stop() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
                throw new IllegalStateException("broker did not stop within 60 s after SIGTERM:\n" + tail(40));
            }
        }
    }

    /** Everything the broker printed in all its lives. */
    String output() {
        try {
            return Files.exists(output) ? Files.readString(output, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** What the broker printed since the start of its current life. */
    String outputOfThisLife() {
        String all = output();
        int i = all.lastIndexOf("=== life " + lives + " ===");
        return i < 0 ? all : all.substring(i);
    }

    String tail(int lines) {
        String[] all = output().split("\n");
        StringBuilder sb = new StringBuilder();
        for (int i = Math.max(0, all.length - lines); i < all.length; i++) {
            sb.append(all[i]).append('\n');
        }
        return sb.toString();
    }

    /** Open file descriptors of the child, from /proc (Linux); -1 where that is not available. */
    long openFileDescriptors() {
        Path fds = Path.of("/proc", Long.toString(process.pid()), "fd");
        if (!Files.isDirectory(fds)) {
            return -1;
        }
        try (Stream<Path> s = Files.list(fds)) {
            return s.count();
        } catch (IOException e) {
            return -1;
        }
    }

    /** Resident set size of the child in KiB, from /proc (Linux); -1 where that is not available. */
    long residentKib() {
        Path status = Path.of("/proc", Long.toString(process.pid()), "status");
        try {
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    @Override
    public void close() throws InterruptedException {
        try {
            kill();
        } finally {
            if (Boolean.getBoolean("runnel.durability.keep")) {
                System.out.println("[durability] keeping " + home);
            } else {
                deleteRecursively(home);
            }
        }
    }

    static void deleteRecursively(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            System.out.println("[durability] could not delete " + dir + ": " + e);
        }
    }
}
