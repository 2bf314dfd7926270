package dev.runnel.bench.probe;

import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.apache.kafka.server.common.MetadataVersion;

/**
 * One measurement, in a JVM of its own: Apache Kafka's own in-JVM test cluster ({@code KafkaClusterTestKit}, three
 * combined broker+controller nodes, as Kafka's integration tests start it: build, format, startup, wait for ready
 * brokers) until an Admin client lists three brokers and has created a topic. The bootstrap metadata version is
 * the latest production one (the test kit's default is the latest testing one, not what a user's cluster runs), and
 * the cluster gets the settings of Runnel's testkit cluster. Prints one {@code RESULT} line for
 * {@code dev.runnel.bench.ClusterStart}.
 */
public final class KafkaClusterProbe {
    private KafkaClusterProbe() {
    }

    public static void main(String[] args) throws Exception {
        long t0 = System.nanoTime();
        KafkaClusterTestKit cluster = new KafkaClusterTestKit.Builder(new TestKitNodes.Builder()
                .setBootstrapMetadataVersion(MetadataVersion.latestProduction())
                .setCombined(true)
                .setNumBrokerNodes(3)
                .setNumControllerNodes(3)
                .build())
                // the settings Runnel's testkit cluster starts with, so both run the same configuration
                .setConfigProp("broker.session.timeout.ms", "3000")
                .setConfigProp("broker.heartbeat.interval.ms", "500")
                .setConfigProp("group.initial.rebalance.delay.ms", "0")
                .setConfigProp("offsets.topic.replication.factor", "1")
                .build();
        long built = System.nanoTime();
        cluster.format();
        long formatted = System.nanoTime();
        cluster.startup();
        long started = System.nanoTime();
        cluster.waitForReadyBrokers();
        long ready = System.nanoTime();
        ProbeSupport.Ready r = ProbeSupport.awaitUsable(cluster.bootstrapServers(), 3);
        long usable = System.nanoTime();
        System.out.println("USABLE"); // the driver timestamps this line: JVM launch to usable
        System.out.flush();
        String footprint = ProbeSupport.footprint();
        // KafkaClusterTestKit rethrows, on close, any fault its nodes reported; the measurement is taken already.
        String closeError = ProbeSupport.closeWithin60s(cluster);
        long closed = System.nanoTime();
        System.out.printf("RESULT usable_ms=%.1f cluster_ms=%.1f build_ms=%.1f format_ms=%.1f startup_ms=%.1f ready_brokers_ms=%.1f "
                        + "admin_ms=%.1f close_ms=%.1f brokers=%d describe_ms=%.1f topic_ms=%.1f %s%n",
                ms(t0, usable), ms(t0, ready), ms(t0, built), ms(built, formatted), ms(formatted, started), ms(started, ready),
                ms(ready, usable), ms(usable, closed), r.brokers(), r.describeMs(), r.createTopicMs(), footprint);
        if (!closeError.isEmpty()) {
            System.out.println("NOTE close: " + closeError);
        }
        System.exit(0);
    }

    private static double ms(long from, long to) {
        return (to - from) / 1e6;
    }
}
