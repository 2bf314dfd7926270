package dev.runnel.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Start-up of a three-node cluster inside a test JVM: Runnel's testkit ({@code EmbeddedRunnel.cluster(3)}) against
 * Apache Kafka's own {@code KafkaClusterTestKit} (three combined broker+controller nodes). Each sample is a fresh JVM
 * running one probe ({@code bench/harness/probes}), which times from its {@code main} to "an Admin client lists three
 * brokers and has created a topic"; this driver also times from the JVM's launch to the probe's {@code USABLE} line.
 * One unrecorded warm-up run of each first (page cache), then rounds that alternate the order of the two.
 * <p>
 * Usage (normally {@code bench/run.sh --cluster-start}): {@code java dev.runnel.bench.ClusterStart <runnel home>
 * <results dir> <kafka version> <kafka probe classpath file> <runnel probe classpath file>}; settings
 * {@code -Dbench.rounds} (3), {@code -Dbench.heap} (-Xmx1g).
 */
public final class ClusterStart {
    private static final String KAFKA_PROBE = "dev.runnel.bench.probe.KafkaClusterProbe";
    private static final String RUNNEL_PROBE = "dev.runnel.bench.probe.RunnelClusterProbe";
    private static final long PROBE_TIMEOUT_S = 300;

    private final int rounds = Integer.getInteger("bench.rounds", 3);
    private final String heap = System.getProperty("bench.heap", "-Xmx1g");
    private final Path work = Path.of(System.getProperty("bench.work", "/tmp/runnel-bench/work"));

    /** One product: its probe and what each round measured. */
    private static final class Side {
        final String name;
        final String how;
        final String classpath;
        final String mainClass;
        final List<Map<String, String>> samples = new ArrayList<>();

        Side(String name, String how, String classpath, String mainClass) {
            this.name = name;
            this.how = how;
            this.classpath = classpath;
            this.mainClass = mainClass;
        }

        double[] values(String key) {
            return samples.stream().filter(s -> s.containsKey(key)).mapToDouble(s -> Double.parseDouble(s.get(key))).toArray();
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 5) {
            System.err.println("usage: ClusterStart <runnel home> <results dir> <kafka version> <kafka probe classpath file> "
                    + "<runnel probe classpath file>");
            System.exit(2);
        }
        new ClusterStart().run(Path.of(args[0]), Path.of(args[1]), args[2], Files.readString(Path.of(args[3])).trim(),
                Files.readString(Path.of(args[4])).trim());
    }

    private void run(Path runnelHome, Path resultsDir, String kafkaVersion, String kafkaCp, String runnelCp) throws Exception {
        Files.createDirectories(work.resolve("logs"));
        Side kafka = new Side("Kafka " + kafkaVersion + " KafkaClusterTestKit",
                "new KafkaClusterTestKit.Builder(new TestKitNodes.Builder().setCombined(true).setNumBrokerNodes(3)"
                        + ".setNumControllerNodes(3)...).build(); format(); startup(); waitForReadyBrokers()",
                kafkaCp, KAFKA_PROBE);
        Side runnel = new Side("Runnel EmbeddedRunnel.cluster(3)", "EmbeddedRunnel.cluster(3).start()", runnelCp, RUNNEL_PROBE);
        String loadBefore = Harness.loadAvg();
        long t0 = System.nanoTime();
        Harness.log("Cluster start-up: warm-up (one unrecorded run of each)");
        probe(kafka, 0);
        probe(runnel, 0);
        for (int round = 1; round <= rounds; round++) {
            List<Side> order = round % 2 == 1 ? List.of(kafka, runnel) : List.of(runnel, kafka);
            for (Side side : order) {
                Map<String, String> m = probe(side, round);
                side.samples.add(m);
            }
        }
        String report = report(kafka, runnel, runnelHome, loadBefore, Harness.loadAvg(),
                TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0));
        System.out.println();
        System.out.println(report);
        Files.createDirectories(resultsDir);
        String date = LocalDateTime.now().format(DateTimeFormatter.ISO_LOCAL_DATE);
        Path out = resultsDir.resolve(date + "-cluster-start.md");
        if (Files.exists(out)) {
            out = resultsDir.resolve(date + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("HHmm")) + "-cluster-start.md");
        }
        Files.writeString(out, report, StandardCharsets.UTF_8);
        Harness.log("Wrote " + out);
    }

    /** Runs one probe JVM; returns its RESULT fields plus launch_ms (launch to USABLE) and the load around it. */
    private Map<String, String> probe(Side side, int round) throws Exception {
        Path log = work.resolve("logs").resolve("cluster-start-" + side.mainClass.substring(side.mainClass.lastIndexOf('.') + 1)
                + "-" + round + "-" + System.currentTimeMillis() + ".log");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), heap,
                "-cp", side.classpath, side.mainClass));
        String la = Harness.loadAvg();
        long launched = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        Map<String, String> m = new LinkedHashMap<>();
        List<String> lines = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                lines.add(line);
                if (line.equals("USABLE")) {
                    m.put("launch_ms", String.format("%.1f", (System.nanoTime() - launched) / 1e6));
                } else if (line.startsWith("RESULT ")) {
                    for (String kv : line.substring(7).trim().split(" ")) {
                        int eq = kv.indexOf('=');
                        if (eq > 0) {
                            m.put(kv.substring(0, eq), kv.substring(eq + 1));
                        }
                    }
                } else if (line.startsWith("NOTE ")) {
                    m.put("note", line.substring(5));
                }
            }
        }
        boolean exited = p.waitFor(PROBE_TIMEOUT_S, TimeUnit.SECONDS);
        Files.write(log, lines, StandardCharsets.UTF_8);
        if (!exited) {
            p.destroyForcibly();
            throw new IOException(side.name + " probe did not finish within " + PROBE_TIMEOUT_S + " s; see " + log);
        }
        if (p.exitValue() != 0 || !m.containsKey("usable_ms")) {
            throw new IOException(side.name + " probe failed (exit " + p.exitValue() + "); see " + log);
        }
        m.put("load_before", la);
        m.put("load_after", Harness.loadAvg());
        Harness.log(String.format("  %s %s: usable %s ms after main (%s ms after launch), cluster %s ms, close %s ms, "
                        + "%s threads, RSS %s MiB, load %s-%s", round == 0 ? "warm-up" : "round " + round, side.name,
                m.get("usable_ms"), m.get("launch_ms"), m.get("cluster_ms"), m.get("close_ms"), m.get("threads"),
                m.get("rss_mb"), la, m.get("load_after")));
        return m;
    }

    private String report(Side kafka, Side runnel, Path runnelHome, String loadBefore, String loadAfter, long seconds) {
        StringBuilder sb = new StringBuilder();
        String date = LocalDateTime.now().format(DateTimeFormatter.ISO_LOCAL_DATE);
        sb.append("# Three-node cluster start-up in a test JVM, ").append(date).append("\n\n");
        sb.append("Runnel's testkit cluster (`EmbeddedRunnel.cluster(3)`) against Apache Kafka's own in-JVM test cluster ")
                .append("(`KafkaClusterTestKit`, three combined broker+controller nodes), each started in a fresh JVM per ")
                .append("sample (`").append(heap).append("`, the JDK's defaults otherwise, no logging backend on either ")
                .append("classpath). \"Usable\": an Admin client on the cluster's bootstrap list lists 3 brokers ")
                .append("(DescribeCluster) and has created a topic (3 partitions, replication factor 1). Median of ")
                .append(rounds).append(" rounds (min–max), after one unrecorded warm-up run of each; rounds alternate ")
                .append("which goes first. Lower is better; the ratio is Kafka / Runnel (above 1: Runnel is faster).\n\n");
        sb.append("| | ").append(kafka.name).append(" | ").append(runnel.name).append(" | Kafka / Runnel |\n");
        sb.append("|---|---|---|---|\n");
        row(sb, "**main() to usable** (ms)", kafka, runnel, "usable_ms");
        row(sb, "JVM launch to usable (ms)", kafka, runnel, "launch_ms");
        row(sb, "main() to cluster started (ms) ¹", kafka, runnel, "cluster_ms");
        row(sb, "Admin: 3 brokers listed + topic created (ms) ²", kafka, runnel, "admin_ms");
        row(sb, "  of which Admin client created, 3 brokers listed (ms)", kafka, runnel, "describe_ms");
        row(sb, "  of which CreateTopics (ms)", kafka, runnel, "topic_ms");
        row(sb, "close (ms)", kafka, runnel, "close_ms");
        row(sb, "live threads when usable", kafka, runnel, "threads");
        row(sb, "RSS when usable (MiB)", kafka, runnel, "rss_mb");
        sb.append("\n¹ Runnel: `EmbeddedRunnel.cluster(3).start()` (returns once all three are registered, unfenced and ")
                .append("listed by every node). Kafka: builder + `format()` + `startup()` + `waitForReadyBrokers()`");
        double[] b = kafka.values("build_ms");
        double[] f = kafka.values("format_ms");
        double[] s = kafka.values("startup_ms");
        double[] w = kafka.values("ready_brokers_ms");
        if (b.length > 0) {
            sb.append(String.format(" (medians %.0f + %.0f + %.0f + %.0f ms)", median(b), median(f), median(s), median(w)));
        }
        sb.append(".\n\n² The first Admin client of the JVM: loading kafka-clients' classes is part of it. Kafka's broker ")
                .append("has loaded many of them already (it is built on kafka-clients' network and protocol code), Runnel's ")
                .append("has not, so \"main() to usable\" is the figure to compare.\n\n");
        sb.append("## Samples\n\n| round | side | main→usable | launch→usable | cluster | admin | close | load 1-min before–after |\n")
                .append("|---|---|---|---|---|---|---|---|\n");
        for (int i = 0; i < rounds; i++) {
            for (Side side : List.of(kafka, runnel)) {
                if (i < side.samples.size()) {
                    Map<String, String> m = side.samples.get(i);
                    sb.append("| ").append(i + 1).append(" | ").append(side.name).append(" | ").append(m.get("usable_ms"))
                            .append(" | ").append(m.get("launch_ms")).append(" | ").append(m.get("cluster_ms")).append(" | ")
                            .append(m.get("admin_ms")).append(" | ").append(m.get("close_ms")).append(" | ")
                            .append(m.get("load_before")).append("–").append(m.get("load_after")).append(" |\n");
                }
            }
        }
        sb.append("\n## How\n\n");
        sb.append("- Kafka: `").append(kafka.how).append("`; bootstrap metadata version `MetadataVersion.latestProduction()`; ")
                .append("the same broker settings Runnel's testkit cluster defaults to (`broker.session.timeout.ms=3000`, ")
                .append("`broker.heartbeat.interval.ms=500`, `group.initial.rebalance.delay.ms=0`, ")
                .append("`offsets.topic.replication.factor=1`). Probe: `bench/harness/probes/kafka`.\n");
        sb.append("- Runnel: `").append(runnel.how).append("` with its defaults (the same settings). Probe: ")
                .append("`bench/harness/probes/runnel`.\n");
        sb.append("- Both probes check usability with the same code (`bench/harness/probes/common`) and the same ")
                .append("kafka-clients jar (Kafka's). Command: `bench/run.sh --cluster-start`.\n");
        for (Side side : List.of(kafka, runnel)) {
            Map<String, Integer> notes = new LinkedHashMap<>();
            for (Map<String, String> m : side.samples) {
                if (m.containsKey("note")) {
                    notes.merge(m.get("note"), 1, Integer::sum);
                }
            }
            notes.forEach((note, n) -> sb.append("- ").append(side.name).append(", in ").append(n).append(" of ")
                    .append(side.samples.size()).append(" rounds, on close (after the measurement): `").append(note)
                    .append("`\n"));
        }
        sb.append("\n## Machine\n\n");
        sb.append("- cpu: ").append(firstLine("/proc/cpuinfo", "model name")).append(", ")
                .append(Runtime.getRuntime().availableProcessors()).append(" cores\n");
        sb.append("- memory: ").append(firstLine("/proc/meminfo", "MemTotal")).append("\n");
        sb.append("- jdk: ").append(System.getProperty("java.vm.name")).append(" ").append(System.getProperty("java.runtime.version")).append("\n");
        sb.append("- runnel: ").append(gitDescribe(runnelHome)).append("\n");
        sb.append("- load average (1 min) at the start / end: ").append(loadBefore).append(" / ").append(loadAfter)
                .append("; the run took ").append(seconds).append(" s\n");
        return sb.toString();
    }

    private static void row(StringBuilder sb, String label, Side kafka, Side runnel, String key) {
        double[] k = kafka.values(key);
        double[] r = runnel.values(key);
        sb.append("| ").append(label).append(" | ").append(cell(k)).append(" | ").append(cell(r)).append(" | ");
        sb.append(k.length > 0 && r.length > 0 && median(r) > 0 ? String.format("%.2f", median(k) / median(r)) : "–");
        sb.append(" |\n");
    }

    private static String cell(double[] v) {
        if (v.length == 0) {
            return "–";
        }
        double[] s = v.clone();
        Arrays.sort(s);
        return String.format("**%.0f** (%.0f–%.0f)", median(s), s[0], s[s.length - 1]);
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

    /** The Runnel commit measured (git describe, "-dirty" with local changes). */
    private static String gitDescribe(Path home) {
        try {
            Process p = new ProcessBuilder("git", "-C", home.toString(), "describe", "--always", "--dirty")
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            return p.waitFor() == 0 && !out.isEmpty() ? out : "unknown";
        } catch (IOException | InterruptedException e) {
            return "unknown";
        }
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        if (s.length == 0) {
            return Double.NaN;
        }
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
