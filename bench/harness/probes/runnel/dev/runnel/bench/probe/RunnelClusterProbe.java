package dev.runnel.bench.probe;

import dev.runnel.testkit.EmbeddedRunnel;
import dev.runnel.testkit.EmbeddedRunnelCluster;

/**
 * One measurement, in a JVM of its own: Runnel's in-JVM test cluster ({@code EmbeddedRunnel.cluster(3)}, three
 * broker+controller nodes started concurrently) until an Admin client lists three brokers and has created a topic.
 * Prints one {@code RESULT} line for {@code dev.runnel.bench.ClusterStart}.
 */
public final class RunnelClusterProbe {
    private RunnelClusterProbe() {
    }

    public static void main(String[] args) throws Exception {
        long t0 = System.nanoTime();
        EmbeddedRunnelCluster cluster = EmbeddedRunnel.cluster(3).start();
        long started = System.nanoTime();
        ProbeSupport.Ready r = ProbeSupport.awaitUsable(cluster.bootstrapServers(), 3);
        long usable = System.nanoTime();
        System.out.println("USABLE"); // the driver timestamps this line: JVM launch to usable
        System.out.flush();
        String footprint = ProbeSupport.footprint();
        String closeError = ProbeSupport.closeWithin60s(cluster);
        long closed = System.nanoTime();
        System.out.printf("RESULT usable_ms=%.1f cluster_ms=%.1f admin_ms=%.1f close_ms=%.1f brokers=%d describe_ms=%.1f topic_ms=%.1f %s%n",
                ms(t0, usable), ms(t0, started), ms(started, usable), ms(usable, closed), r.brokers(), r.describeMs(), r.createTopicMs(), footprint);
        if (!closeError.isEmpty()) {
            System.out.println("NOTE close: " + closeError);
        }
        System.exit(0);
    }

    private static double ms(long from, long to) {
        return (to - from) / 1e6;
    }
}
