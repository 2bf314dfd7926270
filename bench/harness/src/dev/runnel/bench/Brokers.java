package dev.runnel.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * The brokers under test, each started as its own process on the same data directory, heap cap and
 * client port, one after the other.
 */
final class Brokers {
    private Brokers() {
    }

    /** One broker product and version: how to prepare a fresh data directory and how to launch it. */
    abstract static class Kind {
        final String name;

        Kind(String name) {
            this.name = name;
        }

        /** Work done before the broker process may start on an empty data directory (Kafka: format). */
        abstract void prepare(Path work, Path dataDir, int port) throws IOException, InterruptedException;

        abstract ProcessBuilder command(Path work, Path dataDir, int port) throws IOException;

        /** One line for the results file: how this broker is run. */
        abstract String describe();

        Running start(Path work, Path dataDir, int port) throws IOException {
            ProcessBuilder pb = command(work, dataDir, port);
            Path log = work.resolve("logs").resolve(name.replace(' ', '-') + "-" + System.currentTimeMillis() + ".log");
            Files.createDirectories(log.getParent());
            pb.redirectErrorStream(true).redirectOutput(log.toFile());
            long t0 = System.nanoTime();
            Process p = pb.start();
            return new Running(this, p, t0, log);
        }
    }

    /** A started broker process. */
    static final class Running implements AutoCloseable {
        final Kind kind;
        final Process process;
        final long startedNanos;
        final Path log;

        Running(Kind kind, Process process, long startedNanos, Path log) {
            this.kind = kind;
            this.process = process;
            this.startedNanos = startedNanos;
            this.log = log;
        }

        /** Resident set size of the broker JVM in KiB, from /proc/&lt;pid&gt;/status (VmRSS). */
        long rssKb() throws IOException {
            for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(process.pid()), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
            throw new IOException("No VmRSS for pid " + process.pid());
        }

        /** CPU time (user + system) the broker process has used so far, in seconds, from /proc/&lt;pid&gt;/stat. */
        double cpuSeconds() throws IOException {
            String stat = Files.readString(Path.of("/proc", String.valueOf(process.pid()), "stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            // fields 14 and 15 of stat(5), counted after the command name: utime, stime in clock ticks (USER_HZ = 100)
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
        }

        void checkAlive() throws IOException {
            if (!process.isAlive()) {
                throw new IOException(kind.name + " exited with " + process.exitValue() + "; see " + log);
            }
        }

        /** SIGTERM, then wait for the process to exit (a graceful shutdown, as a test harness would). */
        @Override
        public void close() throws InterruptedException {
            process.destroy();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor();
            }
        }
    }

    /** Apache Kafka, single-node KRaft (process.roles=broker,controller), launched as kafka-server-start.sh does. */
    static final class Kafka extends Kind {
        final String version;
        final String classpath;
        final String heap;

        Kafka(String version, String classpath, String heap) {
            super("Kafka " + version);
            this.version = version;
            this.classpath = classpath;
            this.heap = heap;
        }

        private boolean log4j2() {
            return !version.startsWith("3.");
        }

        private Path config(Path work, Path dataDir, int port) throws IOException {
            String props = String.join("\n",
                    "process.roles=broker,controller",
                    "node.id=1",
                    "controller.quorum.voters=1@localhost:" + (port + 1),
                    "listeners=PLAINTEXT://localhost:" + port + ",CONTROLLER://localhost:" + (port + 1),
                    "advertised.listeners=PLAINTEXT://localhost:" + port,
                    "controller.listener.names=CONTROLLER",
                    "inter.broker.listener.name=PLAINTEXT",
                    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                    "log.dirs=" + dataDir,
                    "num.partitions=1",
                    "auto.create.topics.enable=true",
                    "offsets.topic.replication.factor=1",
                    "offsets.topic.num.partitions=50",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "share.coordinator.state.topic.replication.factor=1",
                    "share.coordinator.state.topic.min.isr=1",
                    "group.initial.rebalance.delay.ms=0",
                    "");
            Path f = work.resolve("kafka-" + version + ".properties");
            Files.writeString(f, props, StandardCharsets.UTF_8);
            // WARN to the console (redirected to the run's log file): lighter than the stock INFO file logging.
            if (log4j2()) {
                Files.writeString(work.resolve("log4j2.properties"), String.join("\n",
                        "rootLogger.level=WARN",
                        "rootLogger.appenderRef.out.ref=out",
                        "appender.out.type=Console",
                        "appender.out.name=out",
                        "appender.out.layout.type=PatternLayout",
                        "appender.out.layout.pattern=[%d] %p %m (%c)%n",
                        ""));
            } else {
                Files.writeString(work.resolve("log4j.properties"), String.join("\n",
                        "log4j.rootLogger=WARN, stdout",
                        "log4j.appender.stdout=org.apache.log4j.ConsoleAppender",
                        "log4j.appender.stdout.layout=org.apache.log4j.PatternLayout",
                        "log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n",
                        ""));
            }
            return f;
        }

        private List<String> jvm(Path work) {
            List<String> cmd = new ArrayList<>(List.of("java", heap));
            // kafka-run-class.sh's KAFKA_JVM_PERFORMANCE_OPTS
            cmd.addAll(List.of("-server", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-XX:InitiatingHeapOccupancyPercent=35",
                    "-XX:+ExplicitGCInvokesConcurrent", "-Djava.awt.headless=true"));
            cmd.add(log4j2() ? "-Dlog4j2.configurationFile=" + work.resolve("log4j2.properties")
                    : "-Dlog4j.configuration=file:" + work.resolve("log4j.properties"));
            cmd.addAll(List.of("-cp", classpath));
            return cmd;
        }

        @Override
        void prepare(Path work, Path dataDir, int port) throws IOException, InterruptedException {
            Path cfg = config(work, dataDir, port);
            List<String> cmd = jvm(work);
            cmd.addAll(List.of("kafka.tools.StorageTool", "format", "-t", randomClusterId(), "-c", cfg.toString()));
            Path log = work.resolve("logs").resolve("format.log");
            Files.createDirectories(log.getParent());
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException("kafka-storage format failed; see " + log);
            }
        }

        @Override
        ProcessBuilder command(Path work, Path dataDir, int port) throws IOException {
            Path cfg = work.resolve("kafka-" + version + ".properties");
            List<String> cmd = jvm(work);
            cmd.addAll(List.of("kafka.Kafka", cfg.toString()));
            return new ProcessBuilder(cmd);
        }

        @Override
        String describe() {
            return "java " + heap + " -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 "
                    + "-XX:+ExplicitGCInvokesConcurrent kafka.Kafka (KRaft combined broker+controller, static voter "
                    + "localhost:port+1; storage formatted with kafka.tools.StorageTool before launch; log4j at WARN)";
        }

        /** Kafka's textual Uuid form; like Kafka's own random ids, never starting with '-' (argparse would take an option). */
        private static String randomClusterId() {
            while (true) {
                UUID u = UUID.randomUUID();
                java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(16);
                b.putLong(u.getMostSignificantBits()).putLong(u.getLeastSignificantBits());
                String id = Base64.getUrlEncoder().withoutPadding().encodeToString(b.array());
                if (!id.startsWith("-")) {
                    return id;
                }
            }
        }
    }

    /** Runnel, launched with its own start script (so the script's JVM flags are what is measured). */
    static final class Runnel extends Kind {
        final Path home;
        final String heap;
        /** JVM options replacing the start script's defaults (RUNNEL_JVM_OPTS) for a variant, or null. */
        final String opts;

        Runnel(Path home, String heap) {
            this("Runnel", home, heap, null);
        }

        Runnel(String name, Path home, String heap, String opts) {
            super(name);
            this.home = home;
            this.heap = heap;
            this.opts = opts;
        }

        @Override
        void prepare(Path work, Path dataDir, int port) {
            // nothing: Runnel starts on an empty directory
        }

        @Override
        ProcessBuilder command(Path work, Path dataDir, int port) throws IOException {
            Path cfg = work.resolve("runnel.properties");
            Files.writeString(cfg, String.join("\n",
                    "node.id=1",
                    "listeners=PLAINTEXT://localhost:" + port,
                    "log.dirs=" + dataDir,
                    "num.partitions=1",
                    "auto.create.topics.enable=true",
                    "offsets.topic.num.partitions=50",
                    "group.initial.rebalance.delay.ms=0",
                    ""), StandardCharsets.UTF_8);
            ProcessBuilder pb = new ProcessBuilder("bash", home.resolve("bin/runnel-server-start.sh").toString(), cfg.toString());
            pb.environment().put("RUNNEL_HEAP_OPTS", heap);
            if (opts != null) {
                pb.environment().put("RUNNEL_JVM_OPTS", opts.isBlank() ? " " : opts);
            }
            return pb;
        }

        @Override
        String describe() {
            return "bin/runnel-server-start.sh with RUNNEL_HEAP_OPTS=" + heap + (opts == null ? "" : " RUNNEL_JVM_OPTS='" + opts + "'")
                    + " (plus the script's own JVM flags)";
        }
    }
}
