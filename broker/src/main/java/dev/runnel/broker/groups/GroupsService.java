package dev.runnel.broker.groups;

import dev.runnel.broker.Broker;
import dev.runnel.broker.BrokerConfig;
import dev.runnel.broker.state.Partition;
import dev.runnel.broker.state.Topic;
import dev.runnel.broker.state.TopicManager;
import dev.runnel.groupcoord.GroupCoordinator;
import dev.runnel.groupcoord.GroupCoordinatorConfig;
import dev.runnel.groupcoord.OffsetsTopic;
import dev.runnel.groupcoord.Scheduler;
import dev.runnel.wire.Errors;
import io.netty.util.HashedWheelTimer;
import io.netty.util.Timeout;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The broker's consumer groups: the {@link GroupCoordinator} connected to this node's {@code __consumer_offsets}
 * partitions, the broker timer and topic deletions. One per {@link Broker}; the group handlers share it.
 *
 * <p>The offsets topic is created when a client first looks for a group coordinator (as Kafka does), so a
 * broker that never sees a group never opens its 50 partitions. On start-up an existing offsets topic is replayed
 * before the first request is served.
 */
public final class GroupsService {
    private static final Logger LOG = LoggerFactory.getLogger(GroupsService.class);
    private static final Map<Broker, GroupsService> SERVICES = new WeakHashMap<>();

    private final TopicManager topics;
    private final GroupCoordinator coordinator;
    private final int numPartitions;
    /** Runs timeouts (session expiry, rebalance deadlines) off the timer thread: they may append to the log. */
    private final ExecutorService timeouts;

    private final dev.runnel.broker.cluster.ClusterNode cluster;
    private final short offsetsReplicationFactor;
    private volatile long lastRefusalLogMs;
    /** In a cluster: the offsets partitions whose coordinator runs here (this node leads them). */
    private final java.util.Set<Integer> led = new java.util.HashSet<>();

    private GroupsService(BrokerConfig brokerConfig, TopicManager topics, HashedWheelTimer timer,
                          dev.runnel.broker.cluster.ClusterNode cluster) {
        this.topics = topics;
        this.cluster = cluster;
        this.offsetsReplicationFactor = (short) Math.max(1, intOr(brokerConfig, "offsets.topic.replication.factor", 1));
        GroupCoordinatorConfig config = config(brokerConfig);
        this.numPartitions = config.offsetsTopicPartitions();
        ThreadPoolExecutor executor = new ThreadPoolExecutor(0, 1, 10, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "runnel-group-timeouts");
            t.setDaemon(true);
            return t;
        });
        this.timeouts = executor;
        Scheduler scheduler = (delayMs, task) -> {
            Timeout t = timer.newTimeout(x -> executor.execute(task), Math.max(1, delayMs), TimeUnit.MILLISECONDS);
            return t::cancel;
        };
        this.coordinator = new GroupCoordinator(config, System::currentTimeMillis, scheduler,
                new OffsetsTopicLog(this::offsetsPartition), this::partitionExists);
        Topic existing = topics.get(OffsetsTopic.NAME);
        if (existing != null && existing.partitionCount() != numPartitions) {
            LOG.warn("{} has {} partitions but offsets.topic.num.partitions is {}: groups are placed by the topic's count",
                    OffsetsTopic.NAME, existing.partitionCount(), numPartitions);
        }
        if (cluster == null) {
            coordinator.loadAll();
        } else {
            // A group's coordinator is the leader of its __consumer_offsets partition (as in Kafka).
            cluster.addImageListener(img -> timeouts.execute(() -> followLeadership(img)));
        }
        topics.addDeletionListener(this::onTopicDeleted);
    }

    /** Loads the offsets partitions this node now leads and gives up those it no longer leads. */
    private synchronized void followLeadership(dev.runnel.metadata.image.MetadataImage img) {
        dev.runnel.metadata.image.TopicImage t = img.topic(OffsetsTopic.NAME);
        java.util.Set<Integer> now = new java.util.HashSet<>();
        if (t != null && topics.get(OffsetsTopic.NAME) != null) {
            for (dev.runnel.metadata.image.PartitionRegistration p : t.partitions().values()) {
                if (p.leader() == cluster.nodeId() && p.partition() < numPartitions) {
                    now.add(p.partition());
                }
            }
        }
        for (int p : now) {
            if (!led.contains(p)) {
                coordinator.load(p);
            }
        }
        for (int p : led) {
            if (!now.contains(p)) {
                coordinator.unload(p);
            }
        }
        led.clear();
        led.addAll(now);
    }

    /** The service of this broker, created (and its offsets loaded) on first use. */
    public static GroupsService of(Broker broker) {
        synchronized (SERVICES) {
            return SERVICES.computeIfAbsent(broker, b -> new GroupsService(b.config(), b.topics(), b.timer(), b.cluster()));
        }
    }

    /** The service of this broker if it exists (never creates one: for readers such as metrics). */
    public static GroupsService existing(Broker broker) {
        synchronized (SERVICES) {
            return SERVICES.get(broker);
        }
    }

    /**
     * Stops this broker's timeout thread, if its service exists, after letting running timeouts finish. Called when
     * the broker shuts down, once the timer stopped handing it work and before the logs close.
     */
    public static void closeFor(Broker broker) {
        GroupsService s;
        synchronized (SERVICES) {
            s = SERVICES.remove(broker);
        }
        if (s == null) {
            return;
        }
        s.timeouts.shutdown();
        try {
            if (!s.timeouts.awaitTermination(5, TimeUnit.SECONDS)) {
                LOG.warn("Group timeouts still running after 5 s at shutdown");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static GroupCoordinatorConfig config(BrokerConfig c) {
        GroupCoordinatorConfig d = GroupCoordinatorConfig.defaults();
        return new GroupCoordinatorConfig(
                intOr(c, "offsets.topic.num.partitions", d.offsetsTopicPartitions()),
                intOr(c, "group.initial.rebalance.delay.ms", d.initialRebalanceDelayMs()),
                intOr(c, "group.min.session.timeout.ms", d.minSessionTimeoutMs()),
                intOr(c, "group.max.session.timeout.ms", d.maxSessionTimeoutMs()),
                intOr(c, "group.max.size", d.maxGroupSize()),
                d.newMemberJoinTimeoutMs(),
                intOr(c, "offset.metadata.max.bytes", d.offsetMetadataMaxBytes()),
                c.get("offsets.retention.minutes") != null ? Long.parseLong(c.get("offsets.retention.minutes")) * 60_000L
                        : d.offsetsRetentionMs(),
                c.get("offsets.retention.check.interval.ms") != null ? Long.parseLong(c.get("offsets.retention.check.interval.ms"))
                        : d.offsetsRetentionCheckIntervalMs());
    }

    private static int intOr(BrokerConfig c, String key, int dflt) {
        String v = c.get(key);
        return v == null ? dflt : Integer.parseInt(v.trim());
    }

    /** What the coordinator needs to know about a request: version, client id and host (as Kafka prints it, "/1.2.3.4"). */
    public static dev.runnel.groupcoord.RequestContext context(dev.runnel.broker.network.RequestContext ctx) {
        return dev.runnel.groupcoord.RequestContext.of(ctx.apiVersion(), ctx.clientId(), "/" + ctx.clientHost());
    }

    public GroupCoordinator coordinator() {
        return coordinator;
    }

    /**
     * Makes sure {@code __consumer_offsets} exists (internal, compacted, offsets.topic.num.partitions partitions).
     * Returns NONE, or the error that prevented it.
     */
    public Errors ensureOffsetsTopic() {
        if (topics.get(OffsetsTopic.NAME) != null) {
            return Errors.NONE;
        }
        if (cluster != null) {
            // Created by the active controller with offsets.topic.replication.factor replicas per partition; the client
            // retries FindCoordinator meanwhile. As Kafka: not created while fewer brokers are alive than that.
            int live = cluster.liveBrokers().size();
            if (live < offsetsReplicationFactor) {
                long now = System.currentTimeMillis();
                if (now - lastRefusalLogMs > 10_000) {
                    lastRefusalLogMs = now;
                    LOG.warn("Not creating {} yet: offsets.topic.replication.factor is {} but only {} broker(s) are alive; "
                            + "consumer groups wait until enough brokers are (or lower offsets.topic.replication.factor)",
                            OffsetsTopic.NAME, offsetsReplicationFactor, live);
                }
                return Errors.COORDINATOR_NOT_AVAILABLE;
            }
            dev.runnel.broker.cluster.ClusterTopicAdmin.ensureTopic(cluster, OffsetsTopic.NAME, numPartitions, offsetsReplicationFactor,
                    Map.of("cleanup.policy", "compact", "segment.bytes", "104857600", "compression.type", "producer"));
            return Errors.COORDINATOR_NOT_AVAILABLE;
        }
        TopicManager.Result r = topics.create(OffsetsTopic.NAME, numPartitions,
                Map.of("cleanup.policy", "compact", "segment.bytes", "104857600", "compression.type", "producer"), true, false);
        if (r.error() == Errors.NONE || r.error() == Errors.TOPIC_ALREADY_EXISTS) {
            return Errors.NONE;
        }
        LOG.error("Cannot create {}: {} {}", OffsetsTopic.NAME, r.error(), r.message());
        return r.error();
    }

    /**
     * The {@code __consumer_offsets} partition that holds {@code groupId}'s records when it has followers (a
     * replicated offsets topic whose leader is here), else null: commits to it are acknowledged once its in-sync
     * replicas have them.
     */
    public Partition replicatedOffsetsPartitionOf(String groupId) {
        Topic t = topics.get(OffsetsTopic.NAME);
        if (cluster == null || t == null || t.partitionCount() == 0) {
            return null;
        }
        Partition p = t.partition(OffsetsTopic.partitionFor(groupId, t.partitionCount()));
        return p != null && p.isLeader() && p.replicas() != null ? p : null;
    }

    private Partition offsetsPartition(int index, boolean create) {
        if (create && cluster == null && ensureOffsetsTopic() != Errors.NONE) {
            return null;
        }
        return topics.partition(OffsetsTopic.NAME, index);
    }

    private boolean partitionExists(String topic, int partition) {
        Topic t = topics.get(topic);
        return t != null && partition >= 0 && partition < t.partitionCount();
    }

    private void onTopicDeleted(Topic topic) {
        // Called with the topic manager's lock held: do the work elsewhere, where taking a shard's lock is safe.
        timeouts.execute(() -> {
            if (topic.name().equals(OffsetsTopic.NAME)) {
                LOG.warn("{} was deleted: every group and committed offset is gone", OffsetsTopic.NAME);
                if (cluster == null) {
                    coordinator.loadAll();
                } else {
                    synchronized (this) {
                        for (int p : led) {
                            coordinator.unload(p);
                        }
                        led.clear();
                    }
                }
            } else {
                coordinator.onTopicDeleted(topic.name());
            }
        });
    }
}
