package dev.runnel.broker.metrics;

import dev.runnel.broker.Broker;
import dev.runnel.broker.groups.GroupsService;
import dev.runnel.broker.state.Partition;
import dev.runnel.broker.state.Topic;
import dev.runnel.groupcoord.GroupCoordinator;
import dev.runnel.groupcoord.GroupState;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.OffsetFetchRequestData;
import dev.runnel.wire.message.OffsetFetchResponseData;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmInfoMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Supplier;

/**
 * What an operator watches, as Micrometer meters in one registry per broker (several brokers may share a JVM):
 * bytes and records in/out per topic, request rate and latency per API (tagged with Kafka's API names), the
 * fetch/produce purgatory sizes, partition and connection counts, log size per topic, consumer groups by state and
 * their lag; next to them Micrometer's JVM and process binders (memory, GC pauses, threads, class loading, CPU,
 * open files, uptime).
 * <p>
 * The hot paths pay for counters only: a request looks its timer up by API key in an array, a produce or fetch
 * looks its topic's meters up once per topic in the request (by name, no tag arrays built). Everything that has to
 * walk the broker's state (log sizes, groups, lag) is computed when the registry is scraped ({@link #refresh()}).
 * <p>
 * A broker without {@code metrics.port} (or {@code metrics.enabled=true}) gets {@link #disabled()} metrics: every
 * call returns at once and Micrometer is never loaded, which keeps the first start in a JVM fast.
 */
public final class BrokerMetrics implements AutoCloseable {
    private static final TopicMeters NO_TOPIC_METERS = new TopicMeters();

    private final PrometheusMeterRegistry registry;
    private final AtomicReferenceArray<Timer> requestTimers = new AtomicReferenceArray<>(ApiKeys.values().length + 64);
    private final Map<String, TopicMeters> topicMeters = new ConcurrentHashMap<>();
    private final AtomicInteger connections = new AtomicInteger();
    private final Counter connectionsCreated;
    private final AtomicInteger fetchPurgatory = new AtomicInteger();
    private final AtomicInteger producePurgatory = new AtomicInteger();
    private final MultiGauge logSize;
    private final MultiGauge groups;
    private final MultiGauge groupLag;
    private final boolean enabled;
    private final JvmGcMetrics gcMetrics;
    private volatile Supplier<Broker> broker = () -> null;

    /** The meters of one topic: touched once per topic per produce/fetch request. */
    public static final class TopicMeters {
        final List<Meter> meters = new ArrayList<>(4);
        private final Counter bytesIn;
        private final Counter recordsIn;
        private final Counter bytesOut;
        private final Counter recordsOut;

        private TopicMeters() {
            bytesIn = null;
            recordsIn = null;
            bytesOut = null;
            recordsOut = null;
        }

        private TopicMeters(MeterRegistry r, String topic) {
            bytesIn = add(Counter.builder("runnel.topic.bytes.in").tag("topic", topic)
                    .description("Record batch bytes appended by producers (Kafka's BytesInPerSec)").register(r));
            recordsIn = add(Counter.builder("runnel.topic.records.in").tag("topic", topic)
                    .description("Records appended by producers (Kafka's MessagesInPerSec)").register(r));
            bytesOut = add(Counter.builder("runnel.topic.bytes.out").tag("topic", topic)
                    .description("Record batch bytes sent in fetch responses (Kafka's BytesOutPerSec)").register(r));
            recordsOut = add(Counter.builder("runnel.topic.records.out").tag("topic", topic)
                    .description("Offsets delivered past the fetch offset in fetch responses").register(r));
        }

        private <M extends Meter> M add(M m) {
            meters.add(m);
            return m;
        }

        public void produced(long bytes, long records) {
            if (bytesIn == null) {
                return;
            }
            bytesIn.increment(bytes);
            recordsIn.increment(records);
        }

        public void fetched(long bytes, long records) {
            if (bytesOut == null) {
                return;
            }
            bytesOut.increment(bytes);
            recordsOut.increment(records);
        }
    }

    /** Metrics that measure nothing and cost nothing. */
    public static BrokerMetrics disabled() {
        return new BrokerMetrics(false);
    }

    /** Metrics in a Prometheus registry of their own. */
    public static BrokerMetrics enabled() {
        return new BrokerMetrics(true);
    }

    private BrokerMetrics(boolean enabled) {
        this.enabled = enabled;
        if (!enabled) {
            registry = null;
            connectionsCreated = null;
            logSize = groups = groupLag = null;
            gcMetrics = null;
            return;
        }
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        // The JVM and the process, as Micrometer's binders name them (what Kafka exposes as java.lang:* JMX beans):
        // jvm_memory_*, jvm_gc_*, jvm_threads_*, jvm_classes_*, process_cpu_usage, process_files_*, process_uptime_*.
        new JvmMemoryMetrics().bindTo(registry);
        gcMetrics = new JvmGcMetrics();
        gcMetrics.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new JvmInfoMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        Gauge.builder("runnel.connections.open", connections, AtomicInteger::get)
                .description("Open client connections").strongReference(true).register(registry);
        connectionsCreated = Counter.builder("runnel.connections.accepted")
                .description("Client connections accepted").register(registry);
        Gauge.builder("runnel.purgatory.size", fetchPurgatory, AtomicInteger::get).tag("delayedOperation", "Fetch")
                .description("Fetch requests parked until min.bytes arrive or max.wait.ms passes")
                .strongReference(true).register(registry);
        Gauge.builder("runnel.purgatory.size", producePurgatory, AtomicInteger::get).tag("delayedOperation", "Produce")
                .description("acks=all produce requests waiting for the in-sync replicas (always 0 on a single node)")
                .strongReference(true).register(registry);
        Gauge.builder("runnel.partitions.leader", this, m -> m.replicaCount(false))
                .description("Partitions this node leads (Kafka's LeaderCount)").strongReference(true).register(registry);
        Gauge.builder("runnel.partitions.under.replicated", this, m -> m.replicaCount(true))
                .description("Partitions this node leads whose ISR is smaller than their replicas (Kafka's UnderReplicatedPartitions)")
                .strongReference(true).register(registry);
        Gauge.builder("runnel.controller.active", this, m -> m.activeController())
                .description("1 on the active controller, else 0 (Kafka's ActiveControllerCount)").strongReference(true).register(registry);
        Gauge.builder("runnel.partitions", this, m -> m.count(true))
                .description("Partitions hosted by this node (Kafka's PartitionCount), internal topics included")
                .strongReference(true).register(registry);
        Gauge.builder("runnel.topics", this, m -> m.count(false))
                .description("Topics hosted by this node, internal topics included").strongReference(true).register(registry);
        logSize = MultiGauge.builder("runnel.log.size").baseUnit("bytes")
                .description("Bytes of all segment files of a topic's partitions").register(registry);
        groups = MultiGauge.builder("runnel.consumer.groups")
                .description("Consumer groups by state (Kafka's NumGroups*)").register(registry);
        groupLag = MultiGauge.builder("runnel.consumer.group.lag")
                .description("High watermark minus committed offset, summed over the group's partitions of a topic")
                .register(registry);
    }

    /** Tells the scrape-time gauges where the broker's state is; called once the broker exists. */
    public void bind(Broker b) {
        this.broker = () -> b;
    }

    public boolean isEnabled() {
        return enabled;
    }

    /** The registry (a Prometheus one), or null when these metrics are {@link #disabled()}. */
    public MeterRegistry registry() {
        return registry;
    }

    // ------------------------------------------------------------------ hot paths

    /** Records one request's time from its frame's arrival to its response being queued for writing. */
    public void requestCompleted(ApiKeys api, long nanos) {
        if (!enabled) {
            return;
        }
        int i = api.id;
        if (i < 0 || i >= requestTimers.length()) {
            return;
        }
        Timer t = requestTimers.get(i);
        if (t == null) {
            t = Timer.builder("runnel.requests").tag("request", api.title)
                    .description("Requests by API (Kafka's RequestsPerSec and TotalTimeMs)").register(registry);
            requestTimers.set(i, t); // a racing thread registers the same meter: the registry returns one instance
        }
        t.record(nanos, TimeUnit.NANOSECONDS);
    }

    /** The topic's meters; look them up once per topic per request and keep them for its partitions. */
    public TopicMeters topic(String name) {
        if (!enabled) {
            return NO_TOPIC_METERS;
        }
        TopicMeters m = topicMeters.get(name);
        if (m == null) {
            m = topicMeters.computeIfAbsent(name, n -> new TopicMeters(registry, n));
        }
        return m;
    }

    public void connectionOpened() {
        connections.incrementAndGet();
        if (enabled) {
            connectionsCreated.increment();
        }
    }

    public void connectionClosed() {
        connections.decrementAndGet();
    }

    public void fetchParked() {
        fetchPurgatory.incrementAndGet();
    }

    public void fetchUnparked() {
        fetchPurgatory.decrementAndGet();
    }

    public void produceParked() {
        producePurgatory.incrementAndGet();
    }

    public void produceUnparked() {
        producePurgatory.decrementAndGet();
    }

    /** Partitions this node leads; with {@code underReplicated}, only those whose ISR is short of their replicas. */
    private double replicaCount(boolean underReplicated) {
        Broker b = broker.get();
        if (b == null) {
            return 0;
        }
        int n = 0;
        for (dev.runnel.broker.state.Topic t : b.topics().all()) {
            for (dev.runnel.broker.state.Partition p : t.partitions()) {
                if (!p.isOnline() || !p.isLeader()) {
                    continue;
                }
                dev.runnel.replication.leader.LeaderState r = p.replicas();
                if (!underReplicated || (r != null && r.isr().size() < r.replicas().size())) {
                    n++;
                }
            }
        }
        return n;
    }

    private double activeController() {
        Broker b = broker.get();
        if (b == null || b.cluster() == null) {
            return b == null ? 0 : 1; // a single node is its own controller
        }
        return b.cluster().metadataLog() != null && b.cluster().metadataLog().isReadyLeader() ? 1 : 0;
    }

    // ------------------------------------------------------------------ scrape time

    private double count(boolean partitions) {
        Broker b = broker.get();
        if (b == null) {
            return 0;
        }
        long n = 0;
        for (Topic t : b.topics().all()) {
            n += partitions ? t.partitionCount() : 1;
        }
        return n;
    }

    /** Recomputes the gauges that walk the broker's state (log sizes, groups, lag) and drops deleted topics' meters. */
    public synchronized void refresh() {
        Broker b = broker.get();
        if (b == null || !enabled) {
            return;
        }
        List<MultiGauge.Row<?>> sizes = new ArrayList<>();
        Map<String, Long> hw = new HashMap<>();
        for (Topic t : b.topics().all()) {
            long size = 0;
            for (Partition p : t.partitions()) {
                if (p.isOnline()) {
                    size += p.log().size();
                    hw.put(t.name() + "-" + p.index(), p.highWatermark());
                }
            }
            sizes.add(MultiGauge.Row.of(Tags.of("topic", t.name()), size));
        }
        logSize.register(sizes, true);
        for (String name : List.copyOf(topicMeters.keySet())) {
            if (b.topics().get(name) == null) {
                TopicMeters gone = topicMeters.remove(name);
                if (gone != null) {
                    gone.meters.forEach(registry::remove);
                }
            }
        }
        refreshGroups(b, hw);
    }

    private void refreshGroups(Broker b, Map<String, Long> hw) {
        Map<GroupState, Integer> byState = new EnumMap<>(GroupState.class);
        for (GroupState s : GroupState.values()) {
            byState.put(s, 0);
        }
        List<MultiGauge.Row<?>> lag = new ArrayList<>();
        GroupsService service = GroupsService.existing(b); // absent once the broker is shutting down
        GroupCoordinator coordinator = service == null ? null : service.coordinator();
        for (int p = 0; coordinator != null && p < coordinator.numPartitions(); p++) {
            coordinator.inspect(p, shard -> {
                for (String groupId : shard.groupIds()) {
                    GroupState state = shard.groupState(groupId);
                    if (state != null) {
                        byState.merge(state, 1, Integer::sum);
                    }
                    OffsetFetchResponseData.OffsetFetchResponseGroup offsets = shard.fetchAllOffsets(
                            new OffsetFetchRequestData.OffsetFetchRequestGroup().setGroupId(groupId));
                    for (var topic : offsets.topics) {
                        long sum = 0;
                        boolean any = false;
                        for (var part : topic.partitions) {
                            Long end = hw.get(topic.name + "-" + part.partitionIndex);
                            if (end != null && part.committedOffset >= 0) {
                                sum += Math.max(0, end - part.committedOffset);
                                any = true;
                            }
                        }
                        if (any) {
                            lag.add(MultiGauge.Row.of(Tags.of("group", groupId, "topic", topic.name), sum));
                        }
                    }
                }
            });
        }
        List<MultiGauge.Row<?>> states = new ArrayList<>();
        byState.forEach((s, n) -> states.add(MultiGauge.Row.of(Tags.of("state", s.toString()), n)));
        groups.register(states, true);
        groupLag.register(lag, true);
    }

    /** The registry's content in Prometheus' text format (version 0.0.4), gauges refreshed first. */
    public String scrape() {
        if (!enabled) {
            return "";
        }
        refresh();
        return registry.scrape();
    }

    @Override
    public void close() {
        if (enabled) {
            gcMetrics.close(); // stops listening to the JVM's GC notifications
            registry.close();
        }
    }
}
