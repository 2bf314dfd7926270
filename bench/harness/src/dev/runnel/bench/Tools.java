package dev.runnel.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Kafka's own perf tools (ProducerPerformance, ConsumerPerformance, EndToEndLatency from kafka-tools), each
 * run in its own JVM as kafka-*-perf-test.sh would, with their printed summaries parsed.
 */
final class Tools {
    private final String classpath;
    private final Path logs;
    private int seq;

    /** Every tool process started and not yet awaited: killed by {@link #killAll()} when a run fails half-way. */
    private static final java.util.Set<Process> RUNNING = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** Kills (SIGKILL) every tool process this JVM started that is still running. */
    static void killAll() {
        for (Process p : RUNNING) {
            if (p.isAlive()) {
                p.destroyForcibly();
            }
        }
        RUNNING.clear();
    }

    Tools(String classpath, Path logs) {
        this.classpath = classpath;
        this.logs = logs;
    }

    /** A tool run in progress (so a load can run while another tool measures). */
    final class Run {
        final Process process;
        final Path out;
        final String what;

        Run(Process process, Path out, String what) {
            this.process = process;
            this.out = out;
            this.what = what;
        }

        String await(long timeoutSeconds) throws IOException, InterruptedException {
            boolean exited = process.waitFor(timeoutSeconds, TimeUnit.SECONDS);
            RUNNING.remove(process);
            if (!exited) {
                process.destroyForcibly();
                throw new IOException(what + " did not finish within " + timeoutSeconds + " s; see " + out);
            }
            String text = Files.readString(out, StandardCharsets.UTF_8);
            if (process.exitValue() != 0) {
                throw new IOException(what + " exited with " + process.exitValue() + "; see " + out);
            }
            return text;
        }
    }

    Run start(String mainClass, List<String> args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("java", "-Xmx512m", "-cp", classpath, mainClass));
        cmd.addAll(args);
        String simple = mainClass.substring(mainClass.lastIndexOf('.') + 1);
        Files.createDirectories(logs);
        Path out = logs.resolve(String.format("%03d-%s.out", ++seq, simple));
        Files.writeString(out, "");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        RUNNING.add(p);
        return new Run(p, out, simple);
    }

    /** ProducerPerformance's final summary line. */
    record ProduceResult(long records, double recordsPerSec, double mbPerSec, double avgMs, double maxMs,
                         double p50, double p95, double p99, double p999) {
    }

    private static final Pattern PRODUCE_SUMMARY = Pattern.compile(
            "(\\d+) records sent, ([\\d.]+) records/sec \\(([\\d.]+) MB/sec\\), ([\\d.]+) ms avg latency, ([\\d.]+) ms max latency, "
                    + "([\\d.]+) ms 50th, ([\\d.]+) ms 95th, ([\\d.]+) ms 99th, ([\\d.]+) ms 99.9th");

    Run startProduce(String bootstrap, String topic, long records, int recordSize, long throughput, String... props)
            throws IOException {
        List<String> args = new ArrayList<>(List.of("--bootstrap-server", bootstrap, "--topic", topic,
                "--num-records", String.valueOf(records), "--record-size", String.valueOf(recordSize),
                "--throughput", String.valueOf(throughput)));
        if (props.length > 0) {
            args.add("--command-property");
            args.addAll(List.of(props));
        }
        return start("org.apache.kafka.tools.ProducerPerformance", args);
    }

    static ProduceResult parseProduce(String out) throws IOException {
        Matcher m = PRODUCE_SUMMARY.matcher(out);
        ProduceResult last = null;
        while (m.find()) {
            last = new ProduceResult(Long.parseLong(m.group(1)), d(m.group(2)), d(m.group(3)), d(m.group(4)), d(m.group(5)),
                    d(m.group(6)), d(m.group(7)), d(m.group(8)), d(m.group(9)));
        }
        if (last == null) {
            throw new IOException("No ProducerPerformance summary in its output");
        }
        return last;
    }

    /** ProducerPerformance as a transactional producer: a commit every {@code transactionMs}. */
    ProduceResult produceTransactional(String bootstrap, String topic, long records, int recordSize, String transactionalId,
                                       int transactionMs) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("--bootstrap-server", bootstrap, "--topic", topic,
                "--num-records", String.valueOf(records), "--record-size", String.valueOf(recordSize),
                "--throughput", "-1", "--transactional-id", transactionalId,
                "--transaction-duration-ms", String.valueOf(transactionMs)));
        return parseProduce(start("org.apache.kafka.tools.ProducerPerformance", args).await(900));
    }

    ProduceResult produce(String bootstrap, String topic, long records, int recordSize, String... props)
            throws IOException, InterruptedException {
        return parseProduce(startProduce(bootstrap, topic, records, recordSize, -1, props).await(900));
    }

    /** ConsumerPerformance's summary: its header names mapped to the values of its data line. */
    Map<String, Double> consume(String bootstrap, String topic, long records, String group)
            throws IOException, InterruptedException {
        String out = start("org.apache.kafka.tools.ConsumerPerformance", List.of("--bootstrap-server", bootstrap,
                "--topic", topic, "--num-records", String.valueOf(records), "--group", group, "--timeout", "30000"))
                .await(900);
        String[] lines = out.split("\n");
        for (int i = 0; i < lines.length - 1; i++) {
            if (lines[i].startsWith("start.time")) {
                String[] names = lines[i].split(",\\s*");
                String[] values = lines[i + 1].split(",\\s*");
                Map<String, Double> m = new HashMap<>();
                for (int k = 2; k < Math.min(names.length, values.length); k++) {
                    m.put(names[k].trim(), d(values[k].trim()));
                }
                if (m.getOrDefault("data.consumed.in.nMsg", 0.0) < records) {
                    throw new IOException("ConsumerPerformance consumed fewer than " + records + " records: " + lines[i + 1]);
                }
                return m;
            }
        }
        throw new IOException("No ConsumerPerformance summary in its output");
    }

    /** EndToEndLatency's result: average (ms, fractional) and whole-millisecond percentiles. */
    record LatencyResult(double avgMs, double p50, double p99, double p999) {
    }

    private static final Pattern AVG = Pattern.compile("Avg latency: ([\\d.]+) ms");
    private static final Pattern PCT = Pattern.compile("Percentiles: 50th = (\\d+), 99th = (\\d+), 99.9th = (\\d+)");

    LatencyResult endToEnd(String bootstrap, String topic, int records, int recordSize) throws IOException, InterruptedException {
        return endToEnd(bootstrap, topic, records, recordSize, "1");
    }

    /** As above with the producer's acks ("1" or "all"). */
    LatencyResult endToEnd(String bootstrap, String topic, int records, int recordSize, String acks)
            throws IOException, InterruptedException {
        String out = start("org.apache.kafka.tools.EndToEndLatency", List.of("--bootstrap-server", bootstrap,
                "--topic", topic, "--num-records", String.valueOf(records), "--producer-acks", acks,
                "--record-size", String.valueOf(recordSize))).await(900);
        Matcher a = AVG.matcher(out);
        Matcher p = PCT.matcher(out);
        if (!a.find() || !p.find()) {
            throw new IOException("No EndToEndLatency summary in its output");
        }
        return new LatencyResult(d(a.group(1)), d(p.group(1)), d(p.group(2)), d(p.group(3)));
    }

    private static double d(String s) {
        return Double.parseDouble(s);
    }
}
