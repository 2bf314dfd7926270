package dev.runnel.bench.probe;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;

/**
 * What both probes call "usable": an Admin client on the cluster's bootstrap list sees {@code brokers} brokers in
 * DescribeCluster and creates a topic (3 partitions, replication factor 1). The same source is compiled into both
 * probes (bench/harness/probes/common).
 */
final class ProbeSupport {
    /** Brokers listed; ms from the call to 3 brokers listed (Admin created, DescribeCluster); ms of CreateTopics. */
    record Ready(int brokers, double describeMs, double createTopicMs) {
    }

    private ProbeSupport() {
    }

    /**
     * Runs {@code close} on a daemon thread and waits for it at most 60 s (a hung close must not stall the run);
     * returns the first failure it threw, "timed out after 60 s", or "" when it closed cleanly.
     */
    static String closeWithin60s(AutoCloseable resource) throws InterruptedException {
        String[] error = {""};
        Thread t = new Thread(() -> {
            try {
                resource.close();
            } catch (Exception e) {
                error[0] = e.toString().replace('\n', ' ');
            }
        }, "probe-close");
        t.setDaemon(true);
        t.start();
        t.join(60_000);
        return t.isAlive() ? "timed out after 60 s" : error[0];
    }

    /** {@code threads=N rss_mb=M} of this JVM now (live threads; VmRSS from /proc/self/status). */
    static String footprint() {
        long rssKb = -1;
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    rssKb = Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            // not on Linux: no RSS
        }
        return "threads=" + java.lang.management.ManagementFactory.getThreadMXBean().getThreadCount()
                + " rss_mb=" + (rssKb < 0 ? "?" : Long.toString(rssKb / 1024));
    }

    static Ready awaitUsable(String bootstrap, int brokers) throws Exception {
        long t0 = System.nanoTime();
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap, "request.timeout.ms", 10_000,
                "default.api.timeout.ms", 30_000))) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            int seen = 0;
            while (true) {
                seen = admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).size();
                if (seen >= brokers) {
                    break;
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("only " + seen + " brokers listed after 60 s");
                }
                Thread.sleep(10);
            }
            long listed = System.nanoTime();
            admin.createTopics(List.of(new NewTopic("probe", Optional.of(3), Optional.of((short) 1))))
                    .all().get(30, TimeUnit.SECONDS);
            return new Ready(seen, (listed - t0) / 1e6, (System.nanoTime() - listed) / 1e6);
        }
    }
}
