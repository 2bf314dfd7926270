package dev.runnel.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * A three-node Runnel cluster against a three-node Apache Kafka cluster on this machine, replication factor 3
 * (issue 10's benchmark): produce 1 KB acks=all and acks=1 throughput, end-to-end latency under a fixed load, and the
 * time from the partition leader's {@code kill -9} to the producer's next acknowledged write.
 * <p>
 * Each cluster is three broker processes (combined {@code broker,controller} nodes, static
 * {@code controller.quorum.voters}, loopback ports), the same heap cap each, the same session and heartbeat settings.
 * Throughput and latency are measured with Kafka's own tools ({@link Tools}); the failover with a producer in this JVM.
 * Each round starts a fresh cluster of each system in turn (alternating which goes first), then one fresh cluster of
 * each serves the kills. Before each system's run the 1-minute load average is checked: above
 * {@code bench.quietLoad} the run waits (polling) up to {@code bench.quietMaxWaitSeconds}, then runs anyway and the
 * load is recorded.
 * <p>
 * Usage (normally {@code bench/run.sh --cluster-replication [--quick]}): {@code java dev.runnel.bench.ClusterReplication
 * <runnel source home> <results dir> <kafka version> <kafka classpath file> <runnel commit>}.
 */
public final class ClusterReplication {
    static final class Settings {
        final boolean quick = Boolean.getBoolean("bench.quick");
        final int rounds = Integer.getInteger("bench.rounds", quick ? 1 : 3);
        final int kills = Integer.getInteger("bench.kills", quick ? 1 : 3);
        final long recordsAll = Long.getLong("bench.recordsAll", quick ? 30_000 : 100_000);
        final long recordsOne = Long.getLong("bench.recordsOne", quick ? 30_000 : 100_000);
        final int partitions = Integer.getInteger("bench.partitions", 3);
        /** Unmeasured acks=all records sent to a fresh cluster first, so JIT compilation of new JVMs is not measured. */
        final long warmupRecords = Long.getLong("bench.warmupRecords", quick ? 10_000 : 50_000);
        final int e2eRecords = Integer.getInteger("bench.e2eRecords", quick ? 300 : 1_000);
        final long loadRate = Long.getLong("bench.loadRate", 2_000);
        final int loadSeconds = Integer.getInteger("bench.loadSeconds", quick ? 15 : 40);
        final String heap = System.getProperty("bench.heap", "-Xmx512m");
        final int basePort = Integer.getInteger("bench.basePort", 19200);
        final int sessionMs = Integer.getInteger("bench.sessionMs", 3000);
        final int heartbeatMs = Integer.getInteger("bench.heartbeatMs", 500);
        final double quietLoad = Double.parseDouble(System.getProperty("bench.quietLoad", "2"));
        final int quietPollSeconds = Integer.getInteger("bench.quietPollSeconds", 30);
        final int quietMaxWaitSeconds = Integer.getInteger("bench.quietMaxWaitSeconds", quick ? 120 : 900);
        /** All the waits of one run together, at most this long (then every later check runs at once). */
        final int quietTotalWaitSeconds = Integer.getInteger("bench.quietTotalWaitSeconds", quick ? 240 : 3_600);
        final int sendIntervalUs = Integer.getInteger("bench.failoverSendIntervalUs", 2_000);
        final int warmupMs = Integer.getInteger("bench.failoverWarmupMs", 3_000);
        final Set<String> parts = Set.of(System.getProperty("bench.parts", "throughput,e2e,failover").split(","));
        final Path work = Path.of(System.getProperty("bench.work", "/tmp/runnel-bench/cluster-replication"));

        boolean part(String p) {
            return parts.contains(p);
        }
    }

    /** Every broker process this JVM started: killed by the shutdown hook if the run dies half-way. */
    private static final Set<Process> STARTED = ConcurrentHashMap.newKeySet();

    private final Settings s = new Settings();
    private final Path runnelHome;
    private final String kafkaVersion;
    private final String kafkaClasspath;
    private final String runnelCommit;
    private final Tools tools;
    private final Map<String, Map<String, List<Sample>>> results = new LinkedHashMap<>();
    private final List<String> loadChecks = new ArrayList<>();
    private final List<String> killRows = new ArrayList<>();
    private final StringBuilder notes = new StringBuilder();
    private long waitedSeconds;
    private final String kafkaName;
    private static final String RUNNEL = "Runnel";

    record Sample(double value, String loadBefore, String loadAfter) {
    }

    private ClusterReplication(Path runnelHome, String kafkaVersion, String kafkaClasspath, String runnelCommit) throws IOException {
        this.runnelHome = runnelHome;
        this.kafkaVersion = kafkaVersion;
        this.kafkaClasspath = kafkaClasspath;
        this.runnelCommit = runnelCommit;
        this.kafkaName = "Kafka " + kafkaVersion;
        Files.createDirectories(s.work.resolve("logs"));
        this.tools = new Tools(kafkaClasspath, s.work.resolve("logs"));
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 5) {
            System.err.println("usage: ClusterReplication <runnel home> <results dir> <kafka version> <kafka classpath file> <runnel commit>");
            System.exit(2);
        }
        Runtime.getRuntime().addShutdownHook(new Thread(ClusterReplication::killAllStarted, "kill-brokers"));
        ClusterReplication b = new ClusterReplication(Path.of(args[0]), args[2], Files.readString(Path.of(args[3])).trim(), args[4]);
        try {
            b.run(Path.of(args[1]));
        } finally {
            killAllStarted();
            Tools.killAll();
        }
    }

    private static void killAllStarted() {
        for (Process p : STARTED) {
            if (p.isAlive()) {
                p.destroyForcibly();
            }
        }
        for (Process p : STARTED) {
            try {
                p.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void run(Path resultsDir) throws Exception {
        long t0 = System.nanoTime();
        String loadBefore = Harness.loadAvg();
        for (int round = 1; round <= s.rounds && (s.part("throughput") || s.part("e2e")); round++) {
            List<String> order = round % 2 == 1 ? List.of(kafkaName, RUNNEL) : List.of(RUNNEL, kafkaName);
            for (String system : order) {
                Harness.log("Round " + round + "/" + s.rounds + ": " + system);
                awaitQuiet(system + ", round " + round);
                try (Cluster c = cluster(system, "r" + round)) {
                    throughputRound(c, round);
                } catch (Exception e) {
                    Harness.log("  " + system + " round " + round + " failed: " + e);
                    notes.append("- ").append(system).append(", round ").append(round).append(": failed with `")
                            .append(oneLine(e)).append("`\n");
                } finally {
                    Tools.killAll();
                }
            }
        }
        if (s.part("failover")) {
            for (String system : List.of(kafkaName, RUNNEL)) {
                Harness.log("Failover: " + system + ", " + s.kills + " kill(s)");
                awaitQuiet(system + ", failover");
                try (Cluster c = cluster(system, "failover")) {
                    failover(c);
                } catch (Exception e) {
                    Harness.log("  " + system + " failover failed: " + e);
                    notes.append("- ").append(system).append(", failover: failed with `").append(oneLine(e)).append("`\n");
                }
            }
        }
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
        String report = report(loadBefore, Harness.loadAvg(), seconds);
        System.out.println();
        System.out.println(report);
        Files.createDirectories(resultsDir);
        String date = LocalDateTime.now().format(DateTimeFormatter.ISO_LOCAL_DATE);
        String suffix = (s.quick ? "-quick" : "") + "-cluster-replication.md";
        Path out = resultsDir.resolve(date + suffix);
        if (Files.exists(out)) {
            out = resultsDir.resolve(date + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("HHmm")) + suffix);
        }
        Files.writeString(out, report, StandardCharsets.UTF_8);
        Harness.log("Wrote " + out);
    }

    private Cluster cluster(String system, String tag) throws IOException {
        Path dir = s.work.resolve((system.equals(RUNNEL) ? "runnel" : "kafka") + "-" + tag);
        deleteRecursively(dir);
        return system.equals(RUNNEL) ? new RunnelCluster(s, dir, runnelHome) : new KafkaCluster(s, dir, kafkaVersion, kafkaClasspath);
    }

    // ------------------------------------------------------------------ the quiet-machine check

    /** Waits (polling) while the 1-minute load average is above the threshold, at most the configured time. */
    private void awaitQuiet(String what) throws InterruptedException {
        String first = Harness.loadAvg();
        long t0 = System.nanoTime();
        long budget = Math.max(0, Math.min(s.quietMaxWaitSeconds, s.quietTotalWaitSeconds - waitedSeconds));
        long maxPolls = budget / Math.max(1, s.quietPollSeconds) + 1;
        String now = first;
        for (long poll = 0; poll < maxPolls && load(now) > s.quietLoad
                && System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(budget); poll++) {
            if (poll == 0) {
                Harness.log("  load average " + now + " > " + s.quietLoad + ": waiting (poll every " + s.quietPollSeconds
                        + " s, at most " + budget + " s)");
            }
            Thread.sleep(TimeUnit.SECONDS.toMillis(s.quietPollSeconds));
            now = Harness.loadAvg();
        }
        long waited = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
        waitedSeconds += waited;
        String line = what + ": load " + first + (waited > 0 ? ", waited " + waited + " s, then " + now : "")
                + (load(now) > s.quietLoad ? " (still above " + s.quietLoad + ": ran anyway)" : "");
        loadChecks.add(line);
        Harness.log("  " + line);
    }

    private static double load(String la) {
        try {
            return Double.parseDouble(la);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    // ------------------------------------------------------------------ throughput and latency

    private void throughputRound(Cluster c, int round) throws Exception {
        String system = c.name;
        double startMs = c.start();
        add("start", system, startMs, Harness.loadAvg(), Harness.loadAvg());
        Harness.log(String.format("  cluster usable (3 brokers listed) %.0f ms after launch", startMs));
        String bootstrap = c.bootstrap();
        Map<String, String> topicConfig = Map.of("min.insync.replicas", "2");
        try (Admin admin = Admin.create(adminProps(bootstrap))) {
            createTopics(admin, List.of(
                    new NewTopic("rep-all", s.partitions, (short) 3).configs(topicConfig),
                    new NewTopic("rep-one", s.partitions, (short) 3).configs(topicConfig),
                    new NewTopic("rep-load", s.partitions, (short) 3).configs(topicConfig),
                    new NewTopic("rep-e2e", 1, (short) 3).configs(topicConfig),
                    new NewTopic("rep-warmup", s.partitions, (short) 3).configs(topicConfig)));
            awaitFullIsr(admin, List.of("rep-all", "rep-one", "rep-load", "rep-e2e", "rep-warmup"), Duration.ofSeconds(90));
        }
        if (s.warmupRecords > 0) {
            double cpu = c.cpuSeconds();
            Tools.ProduceResult w = tools.produce(bootstrap, "rep-warmup", s.warmupRecords, 1024, "acks=all");
            c.checkAlive();
            Harness.log(String.format("  warm-up (not measured): %d records acks=all, %.1f MB/s, brokers' CPU %.1f s",
                    s.warmupRecords, w.mbPerSec(), c.cpuSeconds() - cpu));
        }
        if (s.part("throughput")) {
            String la = Harness.loadAvg();
            double cpu = c.cpuSeconds();
            Tools.ProduceResult all = tools.produce(bootstrap, "rep-all", s.recordsAll, 1024, "acks=all");
            double cpuAll = c.cpuSeconds() - cpu;
            c.checkAlive();
            String la2 = Harness.loadAvg();
            add("all", system, all.mbPerSec(), la, la2);
            add("all.rps", system, all.recordsPerSec(), la, la2);
            add("all.p99", system, all.p99(), la, la2);
            add("all.cpu", system, cpuAll, la, la2);
            Harness.log(String.format("  acks=all: %.1f MB/s, %.0f rec/s, p99 %.0f ms, brokers' CPU %.1f s, load %s-%s",
                    all.mbPerSec(), all.recordsPerSec(), all.p99(), cpuAll, la, la2));

            la = Harness.loadAvg();
            cpu = c.cpuSeconds();
            Tools.ProduceResult one = tools.produce(bootstrap, "rep-one", s.recordsOne, 1024, "acks=1");
            double cpuOne = c.cpuSeconds() - cpu;
            c.checkAlive();
            la2 = Harness.loadAvg();
            add("one", system, one.mbPerSec(), la, la2);
            add("one.rps", system, one.recordsPerSec(), la, la2);
            add("one.p99", system, one.p99(), la, la2);
            add("one.cpu", system, cpuOne, la, la2);
            Harness.log(String.format("  acks=1: %.1f MB/s, %.0f rec/s, p99 %.0f ms, brokers' CPU %.1f s, load %s-%s",
                    one.mbPerSec(), one.recordsPerSec(), one.p99(), cpuOne, la, la2));
        }
        if (s.part("e2e")) {
            String la = Harness.loadAvg();
            double cpu = c.cpuSeconds();
            long t0 = System.nanoTime();
            Tools.Run load = tools.startProduce(bootstrap, "rep-load", s.loadRate * s.loadSeconds, 1024, s.loadRate, "acks=all");
            Thread.sleep(3000); // the load reaches its rate before the measurement starts
            Tools.LatencyResult e2e = tools.endToEnd(bootstrap, "rep-e2e", s.e2eRecords, 1024, "all");
            double e2eEndS = (System.nanoTime() - t0) / 1e9;
            boolean loadRanThrough = load.process.isAlive();
            Tools.ProduceResult lr = Tools.parseProduce(load.await(600));
            double loadEndS = (System.nanoTime() - t0) / 1e9;
            double cpuE2e = c.cpuSeconds() - cpu;
            c.checkAlive();
            String la2 = Harness.loadAvg();
            add("e2e.p50", system, e2e.p50(), la, la2);
            add("e2e.p99", system, e2e.p99(), la, la2);
            add("e2e.p999", system, e2e.p999(), la, la2);
            add("e2e.avg", system, e2e.avgMs(), la, la2);
            add("load.rps", system, lr.recordsPerSec(), la, la2);
            add("load.p99", system, lr.p99(), la, la2);
            add("e2e.cpu", system, cpuE2e, la, la2);
            if (!loadRanThrough) {
                notes.append(String.format("- %s, round %d: the load ended before EndToEndLatency did (%.1f s after the load "
                        + "started): part of it ran without the load%n", system, round, e2eEndS));
            }
            Harness.log(String.format("  e2e (acks=all): avg %.2f ms p50 %.0f p99 %.0f p99.9 %.0f (done at %.1f s); load %.0f rec/s "
                            + "(p99 ack %.0f ms, done at %.1f s); brokers' CPU %.1f s, load %s-%s", e2e.avgMs(), e2e.p50(), e2e.p99(),
                    e2e.p999(), e2eEndS, lr.recordsPerSec(), lr.p99(), loadEndS, cpuE2e, la, la2));
        }
    }

    // ------------------------------------------------------------------ failover

    private void failover(Cluster c) throws Exception {
        String system = c.name;
        double startMs = c.start();
        Harness.log(String.format("  cluster usable (3 brokers listed) %.0f ms after launch", startMs));
        for (int k = 1; k <= s.kills; k++) {
            String la = Harness.loadAvg();
            String topic = "failover-" + k;
            int controller;
            int victim;
            try (Admin admin = Admin.create(adminProps(c.bootstrap()))) {
                controller = admin.describeMetadataQuorum().quorumInfo().get(30, TimeUnit.SECONDS).leaderId();
                // The leader to kill is a broker that is not the active controller, so that every kill measures the
                // data path's failover (fence after the session timeout, new leader from the ISR), the same on both.
                List<Integer> candidates = new ArrayList<>();
                for (int id = 1; id <= 3; id++) {
                    if (id != controller) {
                        candidates.add(id);
                    }
                }
                victim = candidates.get((k - 1) % candidates.size());
                List<Integer> replicas = new ArrayList<>(List.of(victim));
                for (int id = 1; id <= 3; id++) {
                    if (id != victim) {
                        replicas.add(id);
                    }
                }
                createTopics(admin, List.of(new NewTopic(topic, Map.of(0, replicas)).configs(Map.of("min.insync.replicas", "2"))));
                awaitFullIsr(admin, List.of(topic), Duration.ofSeconds(60));
                int leader = awaitLeader(admin, topic, Duration.ofSeconds(30));
                if (leader != victim) {
                    notes.append("- ").append(system).append(", kill ").append(k).append(": the first replica ").append(victim)
                            .append(" did not lead, ").append(leader).append(" did\n");
                    if (leader == controller) {
                        throw new IOException("the leader of " + topic + " is the active controller " + controller);
                    }
                    victim = leader;
                }
            }
            try (FailoverProbe probe = new FailoverProbe(c.bootstrap(), topic, s.sendIntervalUs)) {
                probe.start();
                Thread.sleep(s.warmupMs);
                if (probe.acked() < 10) {
                    throw new IOException("the probe producer had only " + probe.acked() + " acknowledgements after "
                            + s.warmupMs + " ms of warm-up");
                }
                int ackedBefore = probe.acked();
                long killedAt = System.nanoTime();
                c.kill9(victim);
                long killDoneMs = (System.nanoTime() - killedAt) / 1_000_000;
                // Acks resume once a new leader takes the retried batches; wait for a steady stream after the kill.
                long deadline = killedAt + TimeUnit.SECONDS.toNanos(60);
                boolean resumed = false;
                for (int poll = 0; poll < 6_000 && System.nanoTime() < deadline; poll++) {
                    if (probe.ackedAfter(killedAt + TimeUnit.MILLISECONDS.toNanos(300)) >= 20) {
                        resumed = true;
                        break;
                    }
                    Thread.sleep(10);
                }
                Thread.sleep(300);
                probe.stopSending();
                if (!resumed) {
                    throw new IOException("no acknowledged write within 60 s of killing node " + victim + " (errors: "
                            + probe.errors.get() + ", " + probe.firstError.get() + ")");
                }
                long[] gap = probe.outage(killedAt);
                double killToAckMs = (gap[1] - killedAt) / 1e6;
                double gapMs = (gap[1] - gap[0]) / 1e6;
                int newLeader;
                try (Admin admin = Admin.create(adminProps(c.bootstrapExcept(victim)))) {
                    newLeader = awaitLeader(admin, topic, Duration.ofSeconds(30));
                }
                probe.closeProducer();
                // The killed node comes back on its data; time until it is in the partition's ISR again.
                long restartAt = System.nanoTime();
                c.restart(victim);
                double isrMs;
                try (Admin admin = Admin.create(adminProps(c.bootstrap()))) {
                    awaitFullIsr(admin, List.of(topic), Duration.ofSeconds(120));
                    isrMs = (System.nanoTime() - restartAt) / 1e6;
                    // ... and every broker is listed again before the next kill.
                    c.awaitBrokers(admin, Duration.ofSeconds(120));
                }
                String la2 = Harness.loadAvg();
                add("kill.next", system, killToAckMs, la, la2);
                add("kill.gap", system, gapMs, la, la2);
                add("kill.isr", system, isrMs, la, la2);
                int errors = probe.errors.get();
                killRows.add(String.format("| %s | %d | %d | %d | %d | %,.0f | %,.0f | %,d / %,d | %d | %,.0f | %s–%s |", system, k, victim,
                        controller, newLeader, killToAckMs, gapMs, ackedBefore, probe.acked(), errors, isrMs, la, la2));
                if (errors > 0) {
                    notes.append("- ").append(system).append(", kill ").append(k).append(": ").append(errors)
                            .append(" send(s) failed, first: `").append(probe.firstError.get()).append("`\n");
                }
                Harness.log(String.format("  kill %d: node %d (leader; controller %d) killed in %d ms; next ack %.0f ms after the kill "
                                + "(gap %.0f ms), new leader %d; %d acks, %d errors; restarted, back in the ISR after %.0f ms; load %s-%s",
                        k, victim, controller, killDoneMs, killToAckMs, gapMs, newLeader, probe.acked(), errors, isrMs, la, la2));
            }
        }
    }

    /**
     * An idempotent acks=all producer that sends a 1 KB record every {@code intervalUs} (at most 500 unacknowledged)
     * to partition 0 and records when each acknowledgement arrives.
     */
    private static final class FailoverProbe implements AutoCloseable {
        private static final int CAPACITY = 400_000;
        final KafkaProducer<byte[], byte[]> producer;
        final String topic;
        final int intervalUs;
        final long[] ackNanos = new long[CAPACITY];
        final AtomicInteger acks = new AtomicInteger();
        final AtomicInteger errors = new AtomicInteger();
        final AtomicReference<String> firstError = new AtomicReference<>("");
        final Semaphore outstanding = new Semaphore(500);
        volatile boolean sending = true;
        Thread sender;
        boolean closed;

        FailoverProbe(String bootstrap, String topic, int intervalUs) {
            Properties p = new Properties();
            p.put("bootstrap.servers", bootstrap);
            p.put("acks", "all");
            p.put("enable.idempotence", "true");
            p.put("linger.ms", "0");
            p.put("delivery.timeout.ms", "120000");
            p.put("request.timeout.ms", "30000");
            p.put("retry.backoff.ms", "50");
            p.put("retry.backoff.max.ms", "100");
            p.put("reconnect.backoff.ms", "50");
            p.put("reconnect.backoff.max.ms", "100");
            this.producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
            this.topic = topic;
            this.intervalUs = intervalUs;
        }

        void start() {
            byte[] value = new byte[1024];
            sender = new Thread(() -> {
                long next = System.nanoTime();
                for (int i = 0; sending && i < CAPACITY; i++) {
                    try {
                        if (!outstanding.tryAcquire(1, TimeUnit.SECONDS)) {
                            i--;
                            continue;
                        }
                        producer.send(new ProducerRecord<>(topic, 0, null, value), (m, e) -> {
                            long now = System.nanoTime();
                            outstanding.release();
                            if (e != null) {
                                errors.incrementAndGet();
                                firstError.compareAndSet("", e.toString());
                            } else {
                                int at = acks.getAndIncrement();
                                if (at < CAPACITY) {
                                    ackNanos[at] = now;
                                }
                            }
                        });
                    } catch (InterruptedException e) {
                        return;
                    } catch (RuntimeException e) {
                        errors.incrementAndGet();
                        firstError.compareAndSet("", e.toString());
                        outstanding.release();
                    }
                    next += intervalUs * 1000L;
                    long wait = next - System.nanoTime();
                    if (wait > 0) {
                        LockSupport.parkNanos(wait);
                    }
                }
            }, "failover-probe-sender");
            sender.setDaemon(true);
            sender.start();
        }

        int acked() {
            return Math.min(acks.get(), CAPACITY);
        }

        synchronized long[] snapshot() {
            long[] a = Arrays.copyOf(ackNanos, acked());
            Arrays.sort(a);
            return a;
        }

        int ackedAfter(long nanos) {
            int n = 0;
            for (long t : snapshot()) {
                if (t > nanos) {
                    n++;
                }
            }
            return n;
        }

        /**
         * The outage around a kill: the longest pause between two consecutive acknowledgements that ends after the
         * kill (acknowledgements that were already on their way when the leader died end before it). Returns {last ack
         * before it, first ack after it}.
         */
        long[] outage(long killedAt) {
            long[] a = snapshot();
            long best = -1;
            long[] out = {killedAt, killedAt};
            for (int i = 0; i < a.length; i++) {
                if (a[i] <= killedAt) {
                    continue;
                }
                long prev = i == 0 ? killedAt : a[i - 1];
                if (a[i] - prev > best) {
                    best = a[i] - prev;
                    out = new long[] {prev, a[i]};
                }
            }
            return out;
        }

        void stopSending() throws InterruptedException {
            sending = false;
            if (sender != null) {
                sender.join(10_000);
            }
        }

        void closeProducer() {
            if (!closed) {
                closed = true;
                producer.close(Duration.ofSeconds(10));
            }
        }

        @Override
        public void close() throws InterruptedException {
            stopSending();
            closeProducer();
        }
    }

    // ------------------------------------------------------------------ admin helpers

    static Properties adminProps(String bootstrap) {
        Properties p = Harness.clientProps(bootstrap);
        p.put("request.timeout.ms", "10000");
        p.put("default.api.timeout.ms", "20000");
        return p;
    }

    /** CreateTopics, retried (every 200 ms, at most 60 s) while the cluster is not ready for replication factor 3. */
    private static void createTopics(Admin admin, List<NewTopic> topics) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        Exception last = null;
        for (int attempt = 0; attempt < 300 && System.nanoTime() < deadline; attempt++) {
            try {
                Set<String> existing = admin.listTopics().names().get(20, TimeUnit.SECONDS);
                List<NewTopic> missing = topics.stream().filter(t -> !existing.contains(t.name())).toList();
                if (missing.isEmpty()) {
                    return;
                }
                admin.createTopics(missing).all().get(30, TimeUnit.SECONDS);
                return;
            } catch (Exception e) {
                last = e;
                Thread.sleep(200);
            }
        }
        throw new IOException("could not create " + topics.stream().map(NewTopic::name).toList() + ": " + last, last);
    }

    /** Waits (polling every 100 ms) until every partition of the topics has 3 replicas in its ISR and a leader. */
    private static void awaitFullIsr(Admin admin, Collection<String> topics, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "";
        for (int poll = 0; poll < 10_000 && System.nanoTime() < deadline; poll++) {
            try {
                Map<String, TopicDescription> d = admin.describeTopics(topics).allTopicNames().get(10, TimeUnit.SECONDS);
                boolean ok = true;
                for (TopicDescription t : d.values()) {
                    for (TopicPartitionInfo p : t.partitions()) {
                        if (p.isr().size() < 3 || p.leader() == null || p.leader().id() < 0) {
                            ok = false;
                            last = t.name() + "-" + p.partition() + " " + p;
                        }
                    }
                }
                if (ok) {
                    return;
                }
            } catch (Exception e) {
                last = e.toString();
            }
            Thread.sleep(100);
        }
        throw new IOException("ISR not full within " + timeout + ": " + last);
    }

    private static int awaitLeader(Admin admin, String topic, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "";
        for (int poll = 0; poll < 10_000 && System.nanoTime() < deadline; poll++) {
            try {
                TopicPartitionInfo p = admin.describeTopics(List.of(topic)).allTopicNames().get(10, TimeUnit.SECONDS)
                        .get(topic).partitions().get(0);
                if (p.leader() != null && p.leader().id() >= 0) {
                    return p.leader().id();
                }
                last = p.toString();
            } catch (Exception e) {
                last = e.toString();
            }
            Thread.sleep(100);
        }
        throw new IOException("no leader for " + topic + " within " + timeout + ": " + last);
    }

    // ------------------------------------------------------------------ the clusters

    /** One broker process slot: node id, ports, directory, current process. */
    static final class Node {
        final int id;
        final int port;
        final int controllerPort;
        final Path home;
        final Path config;
        final Path log;
        Process process;
        int lives;
        double cpuOfEarlierLives;

        Node(int id, int port, int controllerPort, Path home) {
            this.id = id;
            this.port = port;
            this.controllerPort = controllerPort;
            this.home = home;
            this.config = home.resolve("n" + id + ".properties");
            this.log = home.resolve("node.out");
        }

        double cpuSeconds() {
            if (process == null || !process.isAlive()) {
                return 0;
            }
            try {
                String stat = Files.readString(Path.of("/proc", String.valueOf(process.pid()), "stat"));
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
            } catch (IOException | RuntimeException e) {
                return 0;
            }
        }
    }

    /** Three combined broker+controller processes of one system, on loopback, each with its own directory. */
    abstract static class Cluster implements AutoCloseable {
        final String name;
        final Settings s;
        final Path dir;
        final Node[] nodes = new Node[4];

        Cluster(String name, Settings s, Path dir) throws IOException {
            this.name = name;
            this.s = s;
            this.dir = dir;
            for (int id = 1; id <= 3; id++) {
                int port = s.basePort + 2 * (id - 1);
                nodes[id] = new Node(id, port, port + 1, dir.resolve("n" + id));
                Files.createDirectories(nodes[id].home.resolve("data"));
            }
        }

        String voters() {
            StringBuilder b = new StringBuilder();
            for (int id = 1; id <= 3; id++) {
                b.append(id == 1 ? "" : ",").append(id).append("@127.0.0.1:").append(nodes[id].controllerPort);
            }
            return b.toString();
        }

        /** The settings both systems get (Kafka's KRaft keys); written in this order. */
        Map<String, String> config(Node n) {
            Map<String, String> m = new LinkedHashMap<>();
            m.put("process.roles", "broker,controller");
            m.put("node.id", String.valueOf(n.id));
            m.put("controller.quorum.voters", voters());
            m.put("listeners", "PLAINTEXT://127.0.0.1:" + n.port + ",CONTROLLER://127.0.0.1:" + n.controllerPort);
            m.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + n.port);
            m.put("controller.listener.names", "CONTROLLER");
            m.put("inter.broker.listener.name", "PLAINTEXT");
            m.put("listener.security.protocol.map", "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT");
            m.put("log.dirs", n.home.resolve("data").toString());
            m.put("broker.session.timeout.ms", String.valueOf(s.sessionMs));
            m.put("broker.heartbeat.interval.ms", String.valueOf(s.heartbeatMs));
            m.put("num.partitions", "1");
            m.put("auto.create.topics.enable", "false");
            m.put("offsets.topic.replication.factor", "3");
            m.put("transaction.state.log.replication.factor", "3");
            m.put("transaction.state.log.min.isr", "2");
            m.put("group.initial.rebalance.delay.ms", "0");
            return m;
        }

        static String describeConfig(Map<String, String> m) {
            StringBuilder b = new StringBuilder();
            m.forEach((k, v) -> b.append(b.length() == 0 ? "" : ", ").append('`').append(k).append('=').append(v).append('`'));
            return b.toString();
        }

        void writeConfigs() throws IOException {
            for (int id = 1; id <= 3; id++) {
                StringBuilder b = new StringBuilder("# node " + id + " of a bench cluster (" + name + ")\n");
                config(nodes[id]).forEach((k, v) -> b.append(k).append('=').append(v).append('\n'));
                Files.writeString(nodes[id].config, b.toString(), StandardCharsets.UTF_8);
            }
        }

        /** Work before the first launch (Kafka: format the three storage directories). */
        abstract void prepare() throws IOException, InterruptedException;

        abstract ProcessBuilder command(Node n);

        String bootstrap() {
            return "127.0.0.1:" + nodes[1].port + ",127.0.0.1:" + nodes[2].port + ",127.0.0.1:" + nodes[3].port;
        }

        String bootstrapExcept(int id) {
            List<String> b = new ArrayList<>();
            for (int i = 1; i <= 3; i++) {
                if (i != id) {
                    b.add("127.0.0.1:" + nodes[i].port);
                }
            }
            return String.join(",", b);
        }

        /** Launches the three processes together, then waits until an Admin client lists 3 brokers; ms since launch. */
        double start() throws Exception {
            for (int id = 1; id <= 3; id++) {
                for (int p : new int[] {nodes[id].port, nodes[id].controllerPort}) {
                    if (!portFree(p)) {
                        throw new IOException("port " + p + " is in use (another bench run, or something else on it); "
                                + "set -Dbench.basePort=...");
                    }
                }
            }
            writeConfigs();
            prepare();
            long t0 = System.nanoTime();
            for (int id = 1; id <= 3; id++) {
                spawn(nodes[id]);
            }
            try (Admin admin = Admin.create(adminProps(bootstrap()))) {
                awaitBrokers(admin, Duration.ofSeconds(180));
            }
            return (System.nanoTime() - t0) / 1e6;
        }

        void spawn(Node n) throws IOException {
            ProcessBuilder pb = command(n);
            n.lives++;
            Files.writeString(n.log, "=== life " + n.lives + " ===\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
            pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(n.log.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
            n.process = pb.start();
            STARTED.add(n.process);
        }

        /** Waits (polling every 200 ms, bounded) until DescribeCluster lists all three brokers. */
        void awaitBrokers(Admin admin, Duration timeout) throws Exception {
            long deadline = System.nanoTime() + timeout.toNanos();
            String last = "";
            for (int poll = 0; poll < 5_000 && System.nanoTime() < deadline; poll++) {
                checkAlive();
                try {
                    int n = admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).size();
                    if (n == 3) {
                        return;
                    }
                    last = n + " brokers listed";
                } catch (Exception e) {
                    last = e.toString();
                }
                Thread.sleep(200);
            }
            throw new IOException(name + ": 3 brokers not listed within " + timeout + " (" + last + "); logs under " + dir);
        }

        void checkAlive() throws IOException {
            for (int id = 1; id <= 3; id++) {
                Process p = nodes[id].process;
                if (p != null && !p.isAlive()) {
                    throw new IOException(name + " node " + id + " exited with " + p.exitValue() + "; see " + nodes[id].log);
                }
            }
        }

        /** CPU seconds (user + system) the three current broker processes have used so far. */
        double cpuSeconds() {
            double sum = 0;
            for (int id = 1; id <= 3; id++) {
                sum += nodes[id].cpuSeconds();
            }
            return sum;
        }

        /** SIGKILL (kill -9) the node's process and wait until it is gone. */
        void kill9(int id) throws IOException, InterruptedException {
            Process p = nodes[id].process;
            if (p == null || !p.isAlive()) {
                throw new IOException(name + " node " + id + " is not running");
            }
            p.destroyForcibly(); // SIGKILL on Linux
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                throw new IOException(name + " node " + id + " (pid " + p.pid() + ") still there 30 s after SIGKILL");
            }
        }

        /** Launches the node again on its directory and waits until its client port accepts connections. */
        void restart(int id) throws Exception {
            Node n = nodes[id];
            spawn(n);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            for (int poll = 0; poll < 2_400 && System.nanoTime() < deadline; poll++) {
                checkAlive();
                if (!portFree(n.port) && accepts(n.port)) {
                    return;
                }
                Thread.sleep(50);
            }
            throw new IOException(name + " node " + id + " did not listen within 120 s of its restart; see " + n.log);
        }

        /** Tears the cluster down with SIGKILL (nothing is measured after this; the directory is deleted). */
        @Override
        public void close() {
            for (int id = 1; id <= 3; id++) {
                Process p = nodes[id].process;
                if (p != null && p.isAlive()) {
                    p.destroyForcibly();
                }
            }
            for (int id = 1; id <= 3; id++) {
                Process p = nodes[id].process;
                if (p != null) {
                    try {
                        if (!p.waitFor(30, TimeUnit.SECONDS)) {
                            Harness.log("  " + name + " node " + id + " pid " + p.pid() + " did not exit after SIGKILL");
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    STARTED.remove(p);
                }
            }
            if (!Boolean.getBoolean("bench.keep")) {
                // keep the node logs next to the harness's tool logs, drop the data
                for (int id = 1; id <= 3; id++) {
                    try {
                        Path keep = s.work.resolve("logs").resolve(dir.getFileName() + "-n" + id + ".out");
                        if (Files.exists(nodes[id].log)) {
                            Files.copy(nodes[id].log, keep, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                        }
                    } catch (IOException e) {
                        // best effort
                    }
                }
                try {
                    deleteRecursively(dir);
                } catch (IOException e) {
                    Harness.log("  could not delete " + dir + ": " + e);
                }
            }
        }
    }

    static final class KafkaCluster extends Cluster {
        final String classpath;

        KafkaCluster(Settings s, Path dir, String version, String classpath) throws IOException {
            super("Kafka " + version, s, dir);
            this.classpath = classpath;
        }

        private List<String> jvm() throws IOException {
            Path log4j = dir.resolve("log4j2.properties");
            if (!Files.exists(log4j)) {
                Files.writeString(log4j, String.join("\n", "rootLogger.level=WARN", "rootLogger.appenderRef.out.ref=out",
                        "appender.out.type=Console", "appender.out.name=out", "appender.out.layout.type=PatternLayout",
                        "appender.out.layout.pattern=[%d] %p %m (%c)%n", ""));
            }
            List<String> cmd = new ArrayList<>(List.of("java", s.heap));
            // kafka-run-class.sh's KAFKA_JVM_PERFORMANCE_OPTS
            cmd.addAll(List.of("-server", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-XX:InitiatingHeapOccupancyPercent=35",
                    "-XX:+ExplicitGCInvokesConcurrent", "-Djava.awt.headless=true", "-Dlog4j2.configurationFile=" + log4j));
            cmd.addAll(List.of("-cp", classpath));
            return cmd;
        }

        @Override
        void prepare() throws IOException, InterruptedException {
            String clusterId = randomClusterId();
            List<Process> formats = new ArrayList<>();
            for (int id = 1; id <= 3; id++) {
                List<String> cmd = jvm();
                cmd.addAll(List.of("kafka.tools.StorageTool", "format", "-t", clusterId, "-c", nodes[id].config.toString()));
                Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                        .redirectOutput(nodes[id].home.resolve("format.out").toFile()).start();
                STARTED.add(p);
                formats.add(p);
            }
            for (int i = 0; i < formats.size(); i++) {
                Process p = formats.get(i);
                boolean done = p.waitFor(120, TimeUnit.SECONDS);
                STARTED.remove(p);
                if (!done || p.exitValue() != 0) {
                    p.destroyForcibly();
                    throw new IOException("kafka-storage format of node " + (i + 1) + " failed; see "
                            + nodes[i + 1].home.resolve("format.out"));
                }
            }
        }

        @Override
        ProcessBuilder command(Node n) {
            try {
                List<String> cmd = jvm();
                cmd.addAll(List.of("kafka.Kafka", n.config.toString()));
                return new ProcessBuilder(cmd);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        static String launch(String heap) {
            return "`java " + heap + " -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 "
                    + "-XX:+ExplicitGCInvokesConcurrent kafka.Kafka nI.properties` (kafka-run-class.sh's performance options), "
                    + "each node's storage formatted with `kafka.tools.StorageTool format -t <one cluster id> -c nI.properties` "
                    + "before launch (not timed); a log4j 2 file at WARN is passed, but the classpath from Maven Central has no "
                    + "SLF4J binding, so Kafka logs nothing at all (SLF4J's no-operation logger), which if anything favours Kafka";
        }

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

    static final class RunnelCluster extends Cluster {
        final Path home;

        RunnelCluster(Settings s, Path dir, Path home) throws IOException {
            super(RUNNEL, s, dir);
            this.home = home;
        }

        @Override
        void prepare() {
            // nothing: a Runnel node starts on an empty directory and writes meta.properties itself
        }

        @Override
        ProcessBuilder command(Node n) {
            ProcessBuilder pb = new ProcessBuilder("bash", home.resolve("bin/runnel-server-start.sh").toString(), n.config.toString());
            pb.environment().put("RUNNEL_HEAP_OPTS", s.heap);
            return pb;
        }

        static String launch(String heap) {
            return "`bin/runnel-server-start.sh nI.properties` with `RUNNEL_HEAP_OPTS=" + heap + "` (the script's own JVM "
                    + "flags: `-XX:+UseSerialGC -Xms16m -XX:TieredStopAtLevel=1`; it execs `java -cp broker/target/classes:<runtime "
                    + "classpath> dev.runnel.broker.Main`), slf4j-simple at INFO to the console";
        }
    }

    static boolean portFree(int port) {
        try (ServerSocket ss = new ServerSocket()) {
            ss.setReuseAddress(true);
            ss.bind(new InetSocketAddress("127.0.0.1", port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    static boolean accepts(int port) {
        try (java.net.Socket so = new java.net.Socket()) {
            so.connect(new InetSocketAddress("127.0.0.1", port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static String oneLine(Throwable e) {
        return String.valueOf(e).replace('\n', ' ').replace('`', '\'');
    }

    // ------------------------------------------------------------------ results

    private void add(String row, String system, double v, String before, String after) {
        results.computeIfAbsent(row, r -> new LinkedHashMap<>()).computeIfAbsent(system, x -> new ArrayList<>())
                .add(new Sample(v, before, after));
    }

    private List<Sample> get(String row, String system) {
        return results.getOrDefault(row, Map.of()).getOrDefault(system, List.of());
    }

    private record Row(String id, String workload, String metric, boolean higherIsBetter, int decimals) {
    }

    private List<Row> rows() {
        return List.of(
                new Row("all", "1. produce 1 KB, acks=all (idempotent), " + s.partitions + " partitions", "MB/s", true, 1),
                new Row("all.rps", "", "records/s", true, 0),
                new Row("all.p99", "", "produce→ack p99 ms (ProducerPerformance)", false, 0),
                new Row("all.cpu", "", "brokers' CPU s (3 processes)", false, 1),
                new Row("one", "2. produce 1 KB, acks=1, " + s.partitions + " partitions", "MB/s", true, 1),
                new Row("one.rps", "", "records/s", true, 0),
                new Row("one.p99", "", "produce→ack p99 ms (ProducerPerformance)", false, 0),
                new Row("one.cpu", "", "brokers' CPU s (3 processes)", false, 1),
                new Row("e2e.p99", "3. end-to-end latency (EndToEndLatency, acks=all, 1 partition) under a "
                        + String.format("%,d", s.loadRate) + " records/s acks=all load", "p99 ms", false, 0),
                new Row("e2e.p50", "", "p50 ms", false, 0),
                new Row("e2e.p999", "", "p99.9 ms", false, 0),
                new Row("e2e.avg", "", "mean ms", false, 2),
                new Row("load.rps", "", "the load's achieved records/s", true, 0),
                new Row("load.p99", "", "the load's produce→ack p99 ms", false, 0),
                new Row("e2e.cpu", "", "brokers' CPU s during it", false, 1),
                new Row("kill.next", "4. partition leader killed with kill -9 (1 partition, idempotent acks=all producer)",
                        "kill → next acknowledged write, ms", false, 0),
                new Row("kill.gap", "", "last ack before → first ack after, ms", false, 0),
                new Row("kill.isr", "", "killed node restarted → back in the ISR, ms", false, 0),
                new Row("start", "5. three processes launched → 3 brokers listed (Kafka: after format)", "ms", false, 0));
    }

    private String report(String loadBefore, String loadAfter, long seconds) {
        StringBuilder b = new StringBuilder();
        String when = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm"));
        b.append("# Three-node cluster, replication factor 3: Runnel vs Apache ").append(kafkaName).append(", ").append(when)
                .append(s.quick ? " (quick mode: tiny sizes, not comparable)" : "").append("\n\n");
        b.append("Three broker processes per system on this machine (").append(Runtime.getRuntime().availableProcessors())
                .append(" CPUs, ").append(firstLine("/proc/cpuinfo", "model name")).append(", ")
                .append(firstLine("/proc/meminfo", "MemTotal")).append(", ").append(System.getProperty("java.vm.name")).append(' ')
                .append(System.getProperty("java.runtime.version")).append("), combined broker+controller nodes on loopback, `")
                .append(s.heap).append("` each. Topics: replication factor 3, `min.insync.replicas=2`. Rows 1–3: medians of ")
                .append(s.rounds).append(" round(s), each on a fresh cluster of each system (the order alternates per round); ")
                .append("row 4: median of ").append(s.kills).append(" kill(s) per system. Min–max in brackets. Ratio = Runnel / ")
                .append(kafkaName).append("; the last column says which way is better. Runnel at ").append(runnelCommit)
                .append(". Load average (1 min) at the start ").append(loadBefore).append(", at the end ").append(loadAfter)
                .append("; each row's range is in its last column.\n\n");
        b.append("| workload | metric | ").append(kafkaName).append(" | Runnel | Runnel / Kafka | better | load avg |\n");
        b.append("|---|---|---:|---:|---:|---|---|\n");
        for (Row r : rows()) {
            List<Sample> k = get(r.id, kafkaName);
            List<Sample> n = get(r.id, RUNNEL);
            if (k.isEmpty() && n.isEmpty()) {
                continue;
            }
            double mk = median(k);
            double mn = median(n);
            String ratio = Double.isFinite(mk) && Double.isFinite(mn) && mk != 0 ? String.format("%.2f×", mn / mk) : "n/a";
            List<Sample> all = new ArrayList<>(k);
            all.addAll(n);
            b.append("| ").append(r.workload).append(" | ").append(r.metric).append(" | ").append(cell(k, r.decimals)).append(" | ")
                    .append(cell(n, r.decimals)).append(" | ").append(ratio).append(" | ").append(r.higherIsBetter ? "higher" : "lower")
                    .append(" | ").append(loads(all)).append(" |\n");
        }
        b.append("\nRun time ").append(seconds / 60).append(" min ").append(seconds % 60).append(" s.\n");
        if (!notes.isEmpty()) {
            b.append("\nNotes and problems during the run:\n").append(notes);
        }
        if (!killRows.isEmpty()) {
            b.append("\n## Kills\n\n| system | kill | killed node (leader) | active controller | new leader | kill → next ack ms "
                    + "| gap ms | acks before kill / total | send errors | restart → ISR ms | load avg |\n"
                    + "|---|---|---|---|---|---:|---:|---:|---:|---:|---|\n");
            killRows.forEach(l -> b.append(l).append('\n'));
        }
        b.append("\n## Quiet-machine checks (1-minute load average before each system's run; threshold ").append(s.quietLoad)
                .append(", polled every ").append(s.quietPollSeconds).append(" s for at most ").append(s.quietMaxWaitSeconds)
                .append(" s each, ").append(s.quietTotalWaitSeconds).append(" s in all)\n\n");
        loadChecks.forEach(l -> b.append("- ").append(l).append('\n'));
        b.append("\n## Settings\n\n");
        Map<String, String> common;
        try {
            common = new RunnelCluster(s, s.work.resolve("describe"), runnelHome).config(new Node(1, s.basePort, s.basePort + 1,
                    s.work.resolve("describe/n1")));
            deleteRecursively(s.work.resolve("describe"));
            common.put("log.dirs", s.work + "/<system>-<round>/n1/data");
        } catch (IOException e) {
            common = Map.of();
        }
        b.append("- Every node of both systems, the same keys (node 1 shown; ports ").append(s.basePort).append("–")
                .append(s.basePort + 5).append(" for nodes 1–3, client then controller): ").append(Cluster.describeConfig(common))
                .append(". Everything else is each system's default (among them `replica.lag.time.max.ms=30000`, no fsync per ")
                .append("message, `unclean.leader.election.enable=false`).\n");
        b.append("- ").append(kafkaName).append(": ").append("kafka_2.13 and kafka-tools from Maven Central; ")
                .append(KafkaCluster.launch(s.heap)).append(".\n");
        b.append("- Runnel: built from a clean export of commit ").append(runnelCommit).append(" (`git archive`, then `./mvnw -o ")
                .append("package -DskipTests -pl broker -am`), so uncommitted changes in the work tree are not measured; ")
                .append("launched as ").append(RunnelCluster.launch(s.heap)).append(".\n");
        b.append("- Launch: the three processes of a cluster are spawned together; the cluster is used once an Admin client on ")
                .append("the three bootstrap servers lists 3 brokers; topics are created through it (retried while fewer than 3 ")
                .append("brokers are registered) and used once every partition has a leader and 3 replicas in its ISR. Then, not ")
                .append("measured, a warm-up: `ProducerPerformance` sends ").append(s.warmupRecords).append(" records of 1 KB with ")
                .append("`acks=all` to a topic of its own (so the three new JVMs have compiled their hot paths before rows 1–3). After each ")
                .append("round the cluster is torn down with SIGKILL and its directory deleted.\n");
        b.append("- Rows 1–2: `ProducerPerformance --bootstrap-server <the three> --num-records ").append(s.recordsAll)
                .append(" --record-size 1024 --throughput -1 --command-property acks=all` (idempotence on, the producer's ")
                .append("default), then ").append(s.recordsOne).append(" records with `acks=1` (idempotence then off, the ")
                .append("client's rule), each to its own topic of ").append(s.partitions)
                .append(" partitions, the producer's defaults otherwise, in its own JVM (-Xmx512m). Brokers' CPU: user+system ")
                .append("seconds of the three broker processes from /proc/<pid>/stat over the run.\n");
        b.append("- Row 3: `ProducerPerformance --throughput ").append(s.loadRate).append(" --num-records ")
                .append(s.loadRate * s.loadSeconds).append(" --record-size 1024 acks=all` loads a ").append(s.partitions)
                .append("-partition topic; 3 s after it starts, `EndToEndLatency --producer-acks all --num-records ")
                .append(s.e2eRecords).append(" --record-size 1024` on a 1-partition topic (one record at a time: send, then ")
                .append("poll until it is consumed; consumers read below the high watermark, so replication is in the path; ")
                .append("whole-millisecond percentiles).\n");
        b.append("- Row 4: per kill, a new 1-partition topic whose first replica (its leader) is a broker that is not the ")
                .append("active controller (DescribeQuorum's leader), so each kill measures the data path's failover (the ")
                .append("controller fences the dead broker — Kafka's after `broker.session.timeout.ms`, Runnel's as soon as its ")
                .append("liveness probe finds the broker's listener refusing connections twice, 250 ms apart, or after the ")
                .append("session timeout, whichever comes first — and a follower from the ISR leads) and ")
                .append("not a controller election. A producer in the harness JVM (idempotent, acks=all, linger.ms=0, ")
                .append("retry/reconnect backoff 50–100 ms, delivery.timeout.ms=120000, bootstrap = the three) sends a 1 KB ")
                .append("record every ").append(s.sendIntervalUs / 1000.0).append(" ms (at most 500 unacknowledged) to partition ")
                .append("0; after ").append(s.warmupMs).append(" ms the leader's process gets SIGKILL (`Process.destroyForcibly`). ")
                .append("\"kill → next ack\": from just before the SIGKILL to the first acknowledgement after the outage; ")
                .append("\"gap\": from the last acknowledgement before the outage to that one (the longest pause between ")
                .append("two acknowledgements that ends after the kill). Then the node is relaunched on its directory and timed ")
                .append("until it is back in the partition's ISR.\n");
        b.append("- The machine is shared with other builds: before each system's run the 1-minute load average is checked ")
                .append("(above ").append(s.quietLoad).append(" the run waits, then runs anyway); every sample records the load ")
                .append("average before and after it. Command: `bench/run.sh --cluster-replication").append(s.quick ? " --quick" : "")
                .append("`.\n");
        return b.toString();
    }

    private static double median(List<Sample> xs) {
        double[] v = xs.stream().mapToDouble(Sample::value).sorted().toArray();
        if (v.length == 0) {
            return Double.NaN;
        }
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static String cell(List<Sample> xs, int decimals) {
        if (xs.isEmpty()) {
            return "–";
        }
        String f = "%,." + decimals + "f";
        String med = String.format(f, median(xs));
        if (xs.size() == 1) {
            return med;
        }
        double min = xs.stream().mapToDouble(Sample::value).min().orElse(Double.NaN);
        double max = xs.stream().mapToDouble(Sample::value).max().orElse(Double.NaN);
        return med + " (" + String.format(f, min) + "–" + String.format(f, max) + ")";
    }

    private static String loads(List<Sample> xs) {
        double[] l = xs.stream().flatMap(x -> java.util.stream.Stream.of(x.loadBefore(), x.loadAfter()))
                .filter(x -> !x.equals("?")).mapToDouble(Double::parseDouble).sorted().toArray();
        return l.length == 0 ? "?" : String.format("%.1f–%.1f", l[0], l[l.length - 1]);
    }

    private static String firstLine(String file, String key) {
        try {
            for (String line : Files.readAllLines(Path.of(file))) {
                if (line.startsWith(key)) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException e) {
            // fall through
        }
        return "?";
    }
}
