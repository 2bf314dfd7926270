package dev.runnel.bench;

import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The results file: the table (medians, spreads, Runnel/Kafka ratios, targets), then machine and settings. */
final class Report {
    private Report() {
    }

    /** A table row: which samples, how to show them, and the target on the Runnel/Kafka ratio (0 = none). */
    private record Row(String id, String workload, String metric, boolean higherIsBetter, double target, int decimals) {
    }

    private static final List<Row> ROWS = List.of(
            new Row("1a", "1. produce 1 KB, acks=1, unthrottled", "MB/s", true, 1.5, 1),
            new Row("1b", "", "records/s", true, 1.5, 0),
            new Row("1c", "", "broker CPU s", false, 0, 1),
            new Row("2", "2. produce 1 KB, acks=all, idempotent", "MB/s", true, 1.5, 1),
            new Row("2c", "", "broker CPU s", false, 0, 1),
            new Row("3", "3. produce 100 B, acks=1", "records/s", true, 1.5, 0),
            new Row("3c", "", "broker CPU s", false, 0, 1),
            new Row("4", "4. consume row 1's data, one consumer in a group", "MB/s", true, 1.5, 1),
            new Row("4b", "", "MB/s after the group join (fetch.MB.sec)", true, 0, 1),
            new Row("4c", "", "group join ms (rebalance.time.ms)", false, 0, 0),
            new Row("4d", "", "broker CPU s", false, 0, 1),
            new Row("5a", "5. end-to-end latency under load (EndToEndLatency)", "p50 ms", false, 0, 0),
            new Row("5b", "", "p99 ms", false, 1.0, 0),
            new Row("5c", "", "p99.9 ms", false, 0, 0),
            new Row("5d", "", "mean ms", false, 0, 2),
            new Row("5e", "5'. the load's produce→ack latency", "p50 ms", false, 0, 0),
            new Row("5f", "", "p99 ms", false, 0, 0),
            new Row("5g", "", "p99.9 ms", false, 0, 0),
            new Row("5h", "", "achieved records/s", true, 0, 0),
            new Row("6a", "6. launch → first acknowledged produce", "ms", false, 0.2, 0),
            new Row("6b", "", "RSS after start, MiB", false, 0.25, 0),
            new Row("6c", "", "RSS after row 1, MiB", false, 0.25, 0),
            new Row("7", "7. integration-test cycle", "ms", false, 0.2, 0),
            new Row("7a", "", "of which launch → topic created", false, 0, 0),
            new Row("7b", "", "produce one record", false, 0, 0),
            new Row("7c", "", "consume it with a new group, commit", false, 0, 0),
            new Row("7d", "", "close the consumer (leave group)", false, 0, 0),
            new Row("7e", "", "SIGTERM → process exit", false, 0, 0),
            new Row("8", "8. produce 1 KB in transactions (--transactional-id, --transaction-duration-ms 100)", "MB/s", true, 0, 1),
            new Row("8c", "", "broker CPU s", false, 0, 1));

    static String render(Harness.Results results, List<Brokers.Kind> kinds, Brokers.Kafka reference, Brokers.Runnel runnel,
                         Harness.Settings s, Map<String, String> machine, String notes, String loadBefore, String loadAfter,
                         long seconds, Double loadRate) {
        List<Brokers.Kind> others = new ArrayList<>();
        for (Brokers.Kind k : kinds) {
            if (k != reference && k != runnel) {
                others.add(k);
            }
        }
        StringBuilder b = new StringBuilder();
        String when = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm"));
        b.append("# Runnel vs Apache Kafka: ").append(when).append(s.quick ? " (quick mode: tiny sizes, not comparable)" : "")
                .append("\n\n");
        b.append("Machine: ").append(machine.get("cpus (nproc)")).append(" CPUs (").append(machine.get("cpu")).append("), ")
                .append(machine.get("memory")).append(", ").append(machine.get("kernel")).append(", ").append(machine.get("jdk"))
                .append(". Medians of ").append(s.rounds).append(" rounds (row 7: ").append(s.cycles)
                .append(" cycles; the second reference Kafka: ").append(Math.min(s.rounds, s.secondaryRounds)).append(" round(s), ")
                .append(Math.min(s.cycles, s.secondaryCycles))
                .append(" cycle(s)), spread min–max in brackets; ratio = Runnel / ").append(reference.name)
                .append(". Load average (1 min) before the run ").append(loadBefore).append(", after ").append(loadAfter)
                .append("; the last column gives its range over each row's samples (other builds share this machine).\n\n");
        b.append("Versions: Runnel ").append(machine.get("runnel")).append("; ")
                .append(String.join(", ", kinds.stream().filter(k -> k instanceof Brokers.Kafka).map(k -> "Apache " + k.name).toList()))
                .append(" (kafka_2.13 and kafka-tools from Maven Central).\n\n");

        b.append("| workload | metric | ").append(reference.name).append(" | Runnel | Runnel/").append(reference.name)
                .append(" | target | met |");
        for (Brokers.Kind o : others) {
            b.append(' ').append(o.name).append(" |");
        }
        b.append(" load avg |\n|---|---|---:|---:|---:|---|---|");
        for (int i = 0; i < others.size(); i++) {
            b.append("---:|");
        }
        b.append("---|\n");
        for (Row r : ROWS) {
            var ref = results.get(r.id, reference);
            var run = results.get(r.id, runnel);
            if (ref.isEmpty() && run.isEmpty()) {
                continue;
            }
            String workload = r.workload;
            if (r.id.equals("5a") && loadRate != null) {
                workload += ", 1 KB records, while a producer loads " + String.format("%,.0f", loadRate)
                        + " records/s (half of " + reference.name + "'s row-1 records/s in round 1)";
            }
            double mRef = Harness.Results.median(ref);
            double mRun = Harness.Results.median(run);
            double ratio = mRun / mRef;
            String ratioText = Double.isFinite(ratio) && mRef != 0 ? String.format("%.2f×", ratio) : "n/a";
            String target = r.target == 0 ? "" : (r.higherIsBetter ? "≥ " : "≤ ") + fmtTarget(r.target);
            String met = "";
            if (r.target != 0) {
                if (!Double.isFinite(ratio)) {
                    met = mRun <= mRef ? "yes" : "no";
                } else {
                    met = (r.higherIsBetter ? ratio >= r.target : ratio <= r.target) ? "yes" : "no";
                }
            }
            List<Harness.Results.Sample> all = new ArrayList<>(ref);
            all.addAll(run);
            b.append("| ").append(workload).append(" | ").append(r.metric).append(" | ").append(cell(ref, r.decimals))
                    .append(" | ").append(cell(run, r.decimals)).append(" | ").append(ratioText).append(" | ").append(target)
                    .append(" | ").append(met).append(" |");
            for (Brokers.Kind o : others) {
                var x = results.get(r.id, o);
                all.addAll(x);
                b.append(' ').append(x.isEmpty() ? "" : cell(x, r.decimals)).append(" |");
            }
            b.append(' ').append(Harness.Results.loads(all)).append(" |\n");
        }

        b.append("\nRun time ").append(seconds / 60).append(" min ").append(seconds % 60).append(" s.\n");
        if (!notes.isEmpty()) {
            b.append("\nProblems during the run:\n").append(notes);
        }
        b.append("\n## Settings\n\n");
        b.append("- Each round starts every broker in turn (").append(String.join(", ", kinds.stream().map(k -> k.name).toList()))
                .append(") on the same empty data directory `").append(s.dataDir).append("`, client port ").append(s.port)
                .append(", heap cap `").append(s.heap).append("`, one partition per topic, no fsync per message (both brokers' ")
                .append("defaults: flush left to the OS), `group.initial.rebalance.delay.ms=0`, `offsets.topic.num.partitions=50`.\n");
        for (Brokers.Kind k : kinds) {
            b.append("- ").append(k.name).append(": ").append(k.describe()).append('\n');
        }
        b.append("- Workloads use the tools of ").append(reference.name).append(" (kafka-tools), each in its own JVM with -Xmx512m, ")
                .append("with their default client settings except those named: row 1 `ProducerPerformance --num-records ")
                .append(s.records1k).append(" --record-size 1024 --throughput -1 acks=1`; row 2 the same with ").append(s.recordsAll)
                .append(" records and `acks=all` (idempotence on, the producer default); row 3 ").append(s.records100)
                .append(" records of 100 bytes, `acks=1`; row 4 `ConsumerPerformance` over row 1's ").append(s.records1k)
                .append(" records with a new group (MB.sec: wall time including the group join); row 5 `EndToEndLatency` (")
                .append(s.e2eRecords).append(" records of 1 KB, acks=1, one at a time, whole-millisecond percentiles) on one topic ")
                .append("while `ProducerPerformance --throughput <rate>` writes 1 KB records for ").append(s.loadSeconds)
                .append(" s to another (row 5' is that load's own produce→ack latency).\n");
        b.append("- Row 6: a producer in the harness JVM (made before launch, reconnect/retry backoff 5 ms) sends to an ")
                .append("auto-created topic; time from process launch to its acknowledgement. Kafka's storage is formatted before ")
                .append("the clock starts. RSS is VmRSS of the broker process, read from /proc right after that ack and after row 1.\n");
        b.append("- Row 7: from an empty directory (Kafka: `StorageTool format` included, since a test starts from nothing), ")
                .append("launch, Admin createTopics, produce one record (acks=all default), consume it with a new group ")
                .append("(earliest), commit, close the clients, SIGTERM the broker and wait for its exit. Clients in the harness JVM.\n");
        b.append("- Row 8: `ProducerPerformance --transactional-id <fresh id> --transaction-duration-ms 100` (a commit every 100 ms; acks=all, idempotent), the same record count and size as row 2, on its own topic.\n");
        b.append("- Kafka's logging: log4j at WARN to the console (stock is INFO to files): if anything, this favours Kafka.\n");
        return b.toString();
    }

    private static String fmtTarget(double t) {
        if (t == 0.2) {
            return "1/5";
        }
        if (t == 0.25) {
            return "1/4";
        }
        return t == Math.floor(t) ? String.format("%.0f", t) : String.valueOf(t);
    }

    private static String cell(List<Harness.Results.Sample> xs, int decimals) {
        if (xs.isEmpty()) {
            return "–";
        }
        String f = "%,." + decimals + "f";
        String med = String.format(f, Harness.Results.median(xs));
        if (xs.size() == 1) {
            return med;
        }
        return med + " (" + String.format(f, Harness.Results.min(xs)) + "–" + String.format(f, Harness.Results.max(xs)) + ")";
    }
}
