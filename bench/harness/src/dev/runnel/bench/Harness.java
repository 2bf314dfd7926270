package dev.runnel.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Runs the workloads of issue 4 against Apache Kafka and Runnel, interleaved (each round starts every
 * broker in turn on the same fresh data directory), and writes one table of medians, spreads and ratios.
 * <p>
 * Usage (normally through bench/run.sh): {@code java -cp <harness>:<kafka-tools> dev.runnel.bench.Harness
 * <runnel home> <results dir> <kafka version>=<classpath> ...}; the first Kafka named is the one ratios are
 * taken against. Sizes and rounds come from system properties (see {@link Settings}).
 */
public final class Harness {
    /** Workload sizes and repetitions; {@code -Dbench.quick=true} shrinks everything to try the harness. */
    static final class Settings {
        final boolean quick = Boolean.getBoolean("bench.quick");
        final int rounds = Integer.getInteger("bench.rounds", quick ? 1 : 3);
        final int cycles = Integer.getInteger("bench.cycles", quick ? 1 : 5);
        final long records1k = Long.getLong("bench.records1k", quick ? 50_000 : 500_000);
        final long recordsAll = Long.getLong("bench.recordsAll", quick ? 50_000 : 300_000);
        final long records100 = Long.getLong("bench.records100", quick ? 200_000 : 2_000_000);
        final int e2eRecords = Integer.getInteger("bench.e2eRecords", quick ? 500 : 3_000);
        final int loadSeconds = Integer.getInteger("bench.loadSeconds", quick ? 5 : 15);
        /** Rounds (and integration cycles) for the second reference Kafka: fewer, to keep a run near 20 minutes. */
        final int secondaryRounds = Integer.getInteger("bench.secondaryRounds", 1);
        final int secondaryCycles = Integer.getInteger("bench.secondaryCycles", 2);
        final int port = Integer.getInteger("bench.port", 19092);
        final String heap = System.getProperty("bench.heap", "-Xmx1g");
        final Path dataDir = Path.of(System.getProperty("bench.dataDir", "/tmp/runnel-bench/data"));
        final boolean secondaryInRounds = !Boolean.getBoolean("bench.primaryOnly");
        /** Which rows to run (e.g. {@code -Dbench.rows=1,4}); row 4 consumes row 1's data, row 5 needs row 1's rate. */
        final java.util.Set<String> rows = java.util.Set.of(System.getProperty("bench.rows", "1,2,3,4,5,6,7,8").split(","));

        boolean row(String r) {
            return rows.contains(r);
        }
    }

    private final Settings s = new Settings();
    private final Path work;
    private final Path resultsDir;
    private final List<Brokers.Kind> kinds = new ArrayList<>();
    private final Brokers.Kafka reference;
    private final Brokers.Runnel runnel;
    private final Tools tools;
    private final Results results = new Results();
    private final StringBuilder notes = new StringBuilder();
    private Double loadRate;

    private Harness(Path runnelHome, Path resultsDir, List<String[]> kafkas, String toolsClasspath) throws IOException {
        this.work = Path.of(System.getProperty("bench.work", "/tmp/runnel-bench/work"));
        this.resultsDir = resultsDir;
        Files.createDirectories(work);
        this.tools = new Tools(toolsClasspath, work.resolve("logs"));
        this.runnel = new Brokers.Runnel(runnelHome, s.heap);
        Brokers.Kafka first = null;
        for (String[] k : kafkas) {
            Brokers.Kafka kafka = new Brokers.Kafka(k[0], k[1], s.heap);
            if (first == null) {
                first = kafka;
            }
            kinds.add(kafka);
        }
        this.reference = first;
        kinds.add(1, runnel); // A/B/(C): reference Kafka, Runnel, other Kafkas
        // -Dbench.runnelVariants='name=opts;name=opts': Runnel with other JVM options, measured in the same rounds
        String variants = System.getProperty("bench.runnelVariants", "");
        int at = 2;
        for (String v : variants.split(";")) {
            int eq = v.indexOf('=');
            if (eq > 0) {
                kinds.add(at++, new Brokers.Runnel("Runnel " + v.substring(0, eq).trim(), runnelHome, s.heap, v.substring(eq + 1)));
            }
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: Harness <runnel home> <results dir> <version>=<classpath> [<version>=<classpath> ...]");
            System.exit(2);
        }
        List<String[]> kafkas = new ArrayList<>();
        for (int i = 2; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            String cp = args[i].substring(eq + 1);
            if (cp.startsWith("@")) {
                cp = Files.readString(Path.of(cp.substring(1))).trim();
            }
            kafkas.add(new String[] {args[i].substring(0, eq), cp});
        }
        // The tools of the first (newest) Kafka drive every broker.
        new Harness(Path.of(args[0]), Path.of(args[1]), kafkas, kafkas.get(0)[1]).run();
    }

    private void run() throws Exception {
        long t0 = System.nanoTime();
        String loadBefore = loadAvg();
        log("Warming up: one unrecorded start of each broker (page cache, harness JVM)");
        for (Brokers.Kind k : kinds) {
            integrationCycle(k);
        }
        for (int round = 1; round <= s.rounds; round++) {
            for (Brokers.Kind k : kinds) {
                if (k instanceof Brokers.Kafka && k != reference && (!s.secondaryInRounds || round > s.secondaryRounds)) {
                    continue;
                }
                log("Round " + round + "/" + s.rounds + ": " + k.name);
                try {
                    throughputRound(k, round);
                } catch (Exception e) {
                    log("  " + k.name + " round " + round + " failed: " + e);
                    notes.append("- ").append(k.name).append(", round ").append(round).append(": failed with ").append(e)
                            .append("\n");
                }
            }
        }
        for (int c = 1; c <= (s.row("7") ? s.cycles : 0); c++) {
            for (Brokers.Kind k : kinds) {
                if (k instanceof Brokers.Kafka && k != reference && c > s.secondaryCycles) {
                    continue;
                }
                String la = loadAvg();
                try {
                    double[] phases = new double[5];
                    double ms = integrationCycle(k, phases);
                    String la2 = loadAvg();
                    results.add("7", k, ms, la, la2);
                    for (int i = 0; i < phases.length; i++) {
                        results.add("7" + (char) ('a' + i), k, phases[i], la, la2);
                    }
                    log("  row 7 " + k.name + " cycle " + c + ": " + Math.round(ms) + " ms");
                } catch (Exception e) {
                    log("  row 7 " + k.name + " failed: " + e);
                    notes.append("- ").append(k.name).append(", integration cycle ").append(c).append(": ").append(e).append("\n");
                }
            }
        }
        long minutes = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
        Map<String, String> machine = machine();
        machine.put("runnel", runnelVersion());
        String report = Report.render(results, kinds, reference, runnel, s, machine, notes.toString(), loadBefore, loadAvg(),
                minutes, loadRate);
        System.out.println();
        System.out.println(report);
        Files.createDirectories(resultsDir);
        String date = LocalDateTime.now().format(DateTimeFormatter.ISO_LOCAL_DATE);
        Path out = resultsDir.resolve(date + (s.quick ? "-quick" : "") + ".md");
        if (Files.exists(out)) {
            out = resultsDir.resolve(date + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("HHmm"))
                    + (s.quick ? "-quick" : "") + ".md");
        }
        Files.writeString(out, report, StandardCharsets.UTF_8);
        log("Wrote " + out);
    }

    // ------------------------------------------------------------------ rows 1-6

    private void throughputRound(Brokers.Kind k, int round) throws Exception {
        String bootstrap = "localhost:" + s.port;
        freshDataDir();
        k.prepare(work, s.dataDir, s.port);
        String la = loadAvg();
        try (Probe probe = new Probe(bootstrap); Brokers.Running b = k.start(work, s.dataDir, s.port)) {
            // row 6: launch to the first acknowledged produce (a topic auto-created by it), RSS right after
            double startMs = probe.firstAck(b);
            long rssStart = b.rssKb();
            results.add("6a", k, startMs, la, loadAvg());
            results.add("6b", k, rssStart / 1024.0, la, loadAvg());
            log(String.format("  row 6: first ack after %.0f ms, RSS %d MiB", startMs, rssStart / 1024));

            try (Admin admin = Admin.create(clientProps(bootstrap))) {
                admin.createTopics(List.of(new NewTopic("bench-1k", 1, (short) 1), new NewTopic("bench-1k-all", 1, (short) 1),
                        new NewTopic("bench-100", 1, (short) 1), new NewTopic("bench-e2e", 1, (short) 1),
                        new NewTopic("bench-load", 1, (short) 1), new NewTopic("bench-txn", 1, (short) 1)))
                        .all().get(60, TimeUnit.SECONDS);
            }

            if (s.row("1")) {
                la = loadAvg();
                double cpu = b.cpuSeconds();
                Tools.ProduceResult r1 = tools.produce(bootstrap, "bench-1k", s.records1k, 1024, "acks=1");
                b.checkAlive();
                double cpu1 = b.cpuSeconds() - cpu;
                results.add("1a", k, r1.mbPerSec(), la, loadAvg());
                results.add("1b", k, r1.recordsPerSec(), la, loadAvg());
                results.add("1c", k, cpu1, la, loadAvg());
                long rssAfter = b.rssKb();
                results.add("6c", k, rssAfter / 1024.0, la, loadAvg());
                log(String.format("  row 1: %.1f MB/s, %.0f rec/s, broker CPU %.1f s; RSS after %d MiB", r1.mbPerSec(),
                        r1.recordsPerSec(), cpu1, rssAfter / 1024));
                if (k == reference && loadRate == null) {
                    loadRate = Math.floor(r1.recordsPerSec() / 2);
                }
            }

            if (s.row("4") && s.row("1")) {
                la = loadAvg();
                double cpu = b.cpuSeconds();
                Map<String, Double> c = tools.consume(bootstrap, "bench-1k", s.records1k, "bench-" + UUID.randomUUID());
                double cpu4 = b.cpuSeconds() - cpu;
                results.add("4", k, c.get("MB.sec"), la, loadAvg());
                results.add("4b", k, c.get("fetch.MB.sec"), la, loadAvg());
                results.add("4c", k, c.get("rebalance.time.ms"), la, loadAvg());
                results.add("4d", k, cpu4, la, loadAvg());
                log(String.format("  row 4: %.1f MB/s (fetch only %.1f MB/s, group join %.0f ms), broker CPU %.1f s",
                        c.get("MB.sec"), c.get("fetch.MB.sec"), c.get("rebalance.time.ms"), cpu4));
            }

            if (s.row("2")) {
                la = loadAvg();
                double cpu = b.cpuSeconds();
                Tools.ProduceResult r2 = tools.produce(bootstrap, "bench-1k-all", s.recordsAll, 1024, "acks=all");
                double cpu2 = b.cpuSeconds() - cpu;
                results.add("2", k, r2.mbPerSec(), la, loadAvg());
                results.add("2c", k, cpu2, la, loadAvg());
                log(String.format("  row 2: %.1f MB/s, broker CPU %.1f s", r2.mbPerSec(), cpu2));
            }

            if (s.row("3")) {
                la = loadAvg();
                double cpu = b.cpuSeconds();
                Tools.ProduceResult r3 = tools.produce(bootstrap, "bench-100", s.records100, 100, "acks=1");
                double cpu3 = b.cpuSeconds() - cpu;
                results.add("3", k, r3.recordsPerSec(), la, loadAvg());
                results.add("3c", k, cpu3, la, loadAvg());
                log(String.format("  row 3: %.0f rec/s, broker CPU %.1f s", r3.recordsPerSec(), cpu3));
            }

            if (s.row("8")) {
                la = loadAvg();
                double cpu = b.cpuSeconds();
                Tools.ProduceResult r8 = tools.produceTransactional(bootstrap, "bench-txn", s.recordsAll, 1024,
                        "bench-txn-" + UUID.randomUUID(), 100);
                double cpu8 = b.cpuSeconds() - cpu;
                results.add("8", k, r8.mbPerSec(), la, loadAvg());
                results.add("8c", k, cpu8, la, loadAvg());
                log(String.format("  row 8: %.1f MB/s in transactions of 100 ms, broker CPU %.1f s", r8.mbPerSec(), cpu8));
            }

            if (s.row("5") && loadRate != null) {
                la = loadAvg();
                long rate = loadRate.longValue();
                Tools.Run load = tools.startProduce(bootstrap, "bench-load", rate * s.loadSeconds, 1024, rate, "acks=1");
                Thread.sleep(3000); // let the load reach its rate before measuring
                Tools.LatencyResult e2e = tools.endToEnd(bootstrap, "bench-e2e", s.e2eRecords, 1024);
                Tools.ProduceResult lr = Tools.parseProduce(load.await(600));
                String la2 = loadAvg();
                results.add("5a", k, e2e.p50(), la, la2);
                results.add("5b", k, e2e.p99(), la, la2);
                results.add("5c", k, e2e.p999(), la, la2);
                results.add("5d", k, e2e.avgMs(), la, la2);
                results.add("5e", k, lr.p50(), la, la2);
                results.add("5f", k, lr.p99(), la, la2);
                results.add("5g", k, lr.p999(), la, la2);
                results.add("5h", k, lr.recordsPerSec(), la, la2);
                log(String.format("  row 5: e2e avg %.2f ms p50 %.0f p99 %.0f p99.9 %.0f; load %.0f rec/s acked p50 %.0f p99 %.0f p99.9 %.0f",
                        e2e.avgMs(), e2e.p50(), e2e.p99(), e2e.p999(), lr.recordsPerSec(), lr.p50(), lr.p99(), lr.p999()));
            }
            b.checkAlive();
        }
    }

    /** A producer made before the broker starts, retrying every few ms, so it sees the first moment it can write. */
    private static final class Probe implements AutoCloseable {
        final KafkaProducer<byte[], byte[]> producer;

        Probe(String bootstrap) {
            Properties p = clientProps(bootstrap);
            p.put("acks", "1");
            p.put("max.block.ms", "120000");
            p.put("delivery.timeout.ms", "120000");
            p.put("request.timeout.ms", "30000");
            producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
        }

        double firstAck(Brokers.Running b) throws Exception {
            producer.send(new ProducerRecord<>("bench-first", "hello".getBytes(StandardCharsets.UTF_8))).get(120, TimeUnit.SECONDS);
            return (System.nanoTime() - b.startedNanos) / 1e6;
        }

        @Override
        public void close() {
            producer.close(Duration.ofSeconds(5));
        }
    }

    // ------------------------------------------------------------------ row 7

    /**
     * What an integration test does around its broker: launch on an empty directory (Kafka: format the
     * storage first), create a topic, produce one record, consume it with a new group, stop. Clients live
     * in this (warm) JVM, as in a test suite.
     */
    private double integrationCycle(Brokers.Kind k) throws Exception {
        return integrationCycle(k, new double[5]);
    }

    /**
     * As above; {@code phases} receives the milliseconds of each step: launch (with Kafka's format) until
     * the topic is created, the produce, the consume (group join included), closing the clients, the stop.
     */
    private double integrationCycle(Brokers.Kind k, double[] phases) throws Exception {
        String bootstrap = "localhost:" + s.port;
        freshDataDir();
        long t0 = System.nanoTime();
        long t = t0;
        k.prepare(work, s.dataDir, s.port);
        Brokers.Running b = k.start(work, s.dataDir, s.port);
        try {
            try (Admin admin = Admin.create(clientProps(bootstrap))) {
                admin.createTopics(List.of(new NewTopic("it-topic", 1, (short) 1))).all().get(120, TimeUnit.SECONDS);
            }
            phases[0] = lap(t);
            t = System.nanoTime();
            Properties pp = clientProps(bootstrap);
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pp, new ByteArraySerializer(), new ByteArraySerializer())) {
                producer.send(new ProducerRecord<>("it-topic", "one".getBytes(StandardCharsets.UTF_8))).get(60, TimeUnit.SECONDS);
                phases[1] = lap(t);
            }
            t = System.nanoTime();
            Properties cp = clientProps(bootstrap);
            cp.put("group.id", "it-" + UUID.randomUUID());
            cp.put("auto.offset.reset", "earliest");
            long closing;
            try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(cp, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
                consumer.subscribe(List.of("it-topic"));
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                int got = 0;
                while (got == 0) {
                    if (System.nanoTime() > deadline) {
                        throw new IOException("no record consumed within 60 s");
                    }
                    ConsumerRecords<byte[], byte[]> recs = consumer.poll(Duration.ofMillis(100));
                    got = recs.count();
                }
                consumer.commitSync();
                phases[2] = lap(t);
                closing = System.nanoTime();
            }
            phases[3] = lap(closing);
            b.checkAlive();
        } finally {
            t = System.nanoTime();
            b.close();
            phases[4] = lap(t);
        }
        return lap(t0);
    }

    private static double lap(long since) {
        return (System.nanoTime() - since) / 1e6;
    }

    // ------------------------------------------------------------------ helpers

    /** Client settings shared by the harness's own clients: retry every few ms while a broker starts. */
    static Properties clientProps(String bootstrap) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("reconnect.backoff.ms", "5");
        p.put("reconnect.backoff.max.ms", "5");
        p.put("retry.backoff.ms", "5");
        p.put("retry.backoff.max.ms", "5");
        return p;
    }

    private void freshDataDir() throws IOException {
        if (Files.exists(s.dataDir)) {
            try (var walk = Files.walk(s.dataDir)) {
                for (Path p : walk.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
        Files.createDirectories(s.dataDir);
    }

    static String loadAvg() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException e) {
            return "?";
        }
    }

    private static Map<String, String> machine() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("cpus (nproc)", String.valueOf(Runtime.getRuntime().availableProcessors()));
        m.put("cpu", firstLine("/proc/cpuinfo", "model name"));
        m.put("memory", firstLine("/proc/meminfo", "MemTotal"));
        m.put("kernel", System.getProperty("os.name") + " " + System.getProperty("os.version"));
        m.put("jdk", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        return m;
    }

    /** The Runnel commit measured (git describe of the work tree, "-dirty" when it has local changes). */
    private String runnelVersion() {
        try {
            Process p = new ProcessBuilder("git", "-C", runnel.home.toString(), "describe", "--always", "--dirty")
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            return p.waitFor() == 0 && !out.isEmpty() ? out : "unknown (not a git work tree)";
        } catch (IOException | InterruptedException e) {
            return "unknown";
        }
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

    static void log(String msg) {
        System.out.println("[" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("HH:mm:ss")) + "] " + msg);
        System.out.flush();
    }

    /** Samples per row and broker, with the 1-minute load average before and after each sample. */
    static final class Results {
        record Sample(double value, String loadBefore, String loadAfter) {
        }

        final Map<String, Map<Brokers.Kind, List<Sample>>> rows = new LinkedHashMap<>();

        void add(String row, Brokers.Kind k, double v, String before, String after) {
            rows.computeIfAbsent(row, r -> new LinkedHashMap<>()).computeIfAbsent(k, x -> new ArrayList<>())
                    .add(new Sample(v, before, after));
        }

        List<Sample> get(String row, Brokers.Kind k) {
            return rows.getOrDefault(row, Map.of()).getOrDefault(k, List.of());
        }

        static double median(Collection<Sample> xs) {
            double[] v = xs.stream().mapToDouble(Sample::value).sorted().toArray();
            if (v.length == 0) {
                return Double.NaN;
            }
            return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
        }

        static double min(Collection<Sample> xs) {
            return xs.stream().mapToDouble(Sample::value).min().orElse(Double.NaN);
        }

        static double max(Collection<Sample> xs) {
            return xs.stream().mapToDouble(Sample::value).max().orElse(Double.NaN);
        }

        static String loads(Collection<Sample> xs) {
            double[] l = xs.stream().flatMap(x -> java.util.stream.Stream.of(x.loadBefore(), x.loadAfter()))
                    .filter(x -> !x.equals("?")).mapToDouble(Double::parseDouble).toArray();
            if (l.length == 0) {
                return "?";
            }
            Arrays.sort(l);
            return String.format("%.1f–%.1f", l[0], l[l.length - 1]);
        }
    }
}
