package dev.runnel.broker.txn;

import dev.runnel.broker.Broker;
import dev.runnel.broker.BrokerConfig;
import dev.runnel.broker.cluster.ClusterNode;
import dev.runnel.broker.cluster.ClusterProducerIds;
import dev.runnel.broker.groups.GroupsService;
import dev.runnel.broker.state.Partition;
import dev.runnel.broker.state.ProducerIdManager;
import dev.runnel.broker.state.Topic;
import dev.runnel.broker.state.TopicManager;
import dev.runnel.groupcoord.Scheduler;
import dev.runnel.groupcoord.txn.ProducerIdSource;
import dev.runnel.groupcoord.txn.TransactionCoordinator;
import dev.runnel.groupcoord.txn.TransactionCoordinatorConfig;
import dev.runnel.groupcoord.txn.TransactionStateTopic;
import dev.runnel.metadata.image.MetadataImage;
import dev.runnel.metadata.image.PartitionRegistration;
import dev.runnel.metadata.image.TopicImage;
import dev.runnel.wire.Errors;
import io.netty.util.HashedWheelTimer;
import io.netty.util.Timeout;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The broker's transactions: the {@link TransactionCoordinator} connected to this node's {@code __transaction_state}
 * partitions, the producer ids, the broker timer and the marker writer. One per {@link Broker}; the transaction
 * handlers (and InitProducerId) share it.
 *
 * <p>{@code __transaction_state} is created when a client first looks for a transaction coordinator, as Kafka does. A
 * single node owns every partition (replayed at start-up); in a cluster a node coordinates the partitions it leads,
 * loading one when it becomes its leader and dropping it when it stops being the leader.
 */
public final class TransactionsService {
    private static final Logger LOG = LoggerFactory.getLogger(TransactionsService.class);
    private static final Map<Broker, TransactionsService> SERVICES = new WeakHashMap<>();

    private final Broker broker;
    private final TopicManager topics;
    private final ClusterNode cluster;
    private final TransactionCoordinator coordinator;
    private final ProducerIdSource producerIds;
    private final MarkerWriter markers;
    private final int numPartitions;
    private final short replicationFactor;
    /** Compacted, as Kafka's; min.insync.replicas from transaction.state.log.min.isr (2), at most the replication factor. */
    private final Map<String, String> topicConfigs;
    private final ExecutorService timeouts;
    private final Map<Integer, Integer> led = new HashMap<>();
    private volatile long lastRefusalLogMs;

    private TransactionsService(Broker broker) {
        this.broker = broker;
        this.topics = broker.topics();
        this.cluster = broker.cluster();
        BrokerConfig c = broker.config();
        GroupsService groups = GroupsService.of(broker);
        TransactionCoordinatorConfig config = config(c);
        this.numPartitions = config.partitions();
        this.replicationFactor = (short) Math.max(1, intOr(c, "transaction.state.log.replication.factor", 1));
        int minIsr = Math.max(1, Math.min(replicationFactor, intOr(c, "transaction.state.log.min.isr", 2)));
        this.topicConfigs = Map.of("cleanup.policy", "compact", "segment.bytes", "104857600", "compression.type", "uncompressed",
                "min.insync.replicas", Integer.toString(minIsr));
        this.producerIds = producerIdSource(broker);
        ThreadPoolExecutor executor = new ThreadPoolExecutor(0, 1, 10, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "runnel-txn-coordinator");
            t.setDaemon(true);
            return t;
        });
        this.timeouts = executor;
        HashedWheelTimer timer = broker.timer();
        Scheduler scheduler = (delayMs, task) -> {
            Timeout t = timer.newTimeout(x -> {
                if (!executor.isShutdown()) {
                    executor.execute(task);
                }
            }, Math.max(1, delayMs), TimeUnit.MILLISECONDS);
            return t::cancel;
        };
        this.markers = new MarkerWriter(broker, groups, longOr(c, "request.timeout.ms", 30_000L), executor);
        this.coordinator = new TransactionCoordinator(config, System::currentTimeMillis, scheduler,
                new TransactionStateLog(this::statePartition, broker,
                        longOr(c, "transaction.state.log.write.timeout.ms", 5_000L), executor), producerIds, markers);
        Topic existing = topics.get(TransactionStateTopic.NAME);
        if (existing != null && existing.partitionCount() != numPartitions) {
            LOG.warn("{} has {} partitions but transaction.state.log.num.partitions is {}: transactional ids are placed by "
                    + "the configured count", TransactionStateTopic.NAME, existing.partitionCount(), numPartitions);
        }
        coordinator.start();
        if (cluster == null) {
            coordinator.loadAll();
        } else {
            cluster.addImageListener(img -> timeouts.execute(() -> followLeadership(img)));
        }
        topics.addDeletionListener(t -> {
            if (t.name().equals(TransactionStateTopic.NAME)) {
                timeouts.execute(() -> {
                    LOG.warn("{} was deleted: every transactional id is forgotten", TransactionStateTopic.NAME);
                    synchronized (this) {
                        for (int p = 0; p < numPartitions; p++) {
                            coordinator.unload(p);
                        }
                        led.clear();
                        if (cluster == null) {
                            coordinator.loadAll();
                        }
                    }
                });
            }
        });
    }

    static TransactionCoordinatorConfig config(BrokerConfig c) {
        TransactionCoordinatorConfig d = TransactionCoordinatorConfig.defaults();
        String tv = c.get(TransactionsV2.CONFIG);
        return new TransactionCoordinatorConfig(
                intOr(c, "transaction.state.log.num.partitions", d.partitions()),
                intOr(c, "transaction.max.timeout.ms", d.maxTimeoutMs()),
                longOr(c, "transaction.abort.timed.out.transaction.cleanup.interval.ms", d.abortTimedOutIntervalMs()),
                longOr(c, "transactional.id.expiration.ms", d.transactionalIdExpirationMs()),
                longOr(c, "transaction.remove.expired.transaction.cleanup.interval.ms", d.removeExpiredIntervalMs()),
                d.markerRetryBackoffMs(),
                tv == null ? TransactionsV2.MAX_LEVEL : Short.parseShort(tv.trim()));
    }

    private static int intOr(BrokerConfig c, String key, int dflt) {
        String v = c.get(key);
        return v == null ? dflt : Integer.parseInt(v.trim());
    }

    private static long longOr(BrokerConfig c, String key, long dflt) {
        String v = c.get(key);
        return v == null ? dflt : Long.parseLong(v.trim());
    }

    private static ProducerIdSource producerIdSource(Broker broker) {
        if (broker.cluster() != null) {
            ClusterProducerIds ids = new ClusterProducerIds(broker.cluster());
            return ids::nextId;
        }
        ProducerIdManager manager;
        try {
            manager = ProducerIdManager.open(broker.config().logDirs().get(0));
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot open the producer id state: " + e.getMessage(), e);
        }
        return () -> {
            try {
                return CompletableFuture.completedFuture(manager.nextId());
            } catch (RuntimeException e) {
                return CompletableFuture.failedFuture(e);
            }
        };
    }

    /** Loads the __transaction_state partitions this node now leads (with their leader epochs) and drops the others. */
    private synchronized void followLeadership(MetadataImage img) {
        TopicImage t = img.topic(TransactionStateTopic.NAME);
        Map<Integer, Integer> now = new HashMap<>();
        if (t != null && topics.get(TransactionStateTopic.NAME) != null) {
            for (PartitionRegistration p : t.partitions().values()) {
                if (p.leader() == cluster.nodeId() && p.partition() < numPartitions) {
                    now.put(p.partition(), p.leaderEpoch());
                }
            }
        }
        for (Map.Entry<Integer, Integer> e : now.entrySet()) {
            Integer before = led.get(e.getKey());
            if (before == null || !before.equals(e.getValue())) {
                coordinator.load(e.getKey(), e.getValue());
            }
        }
        for (int p : led.keySet()) {
            if (!now.containsKey(p)) {
                coordinator.unload(p);
            }
        }
        led.clear();
        led.putAll(now);
    }

    /** The service of this broker, created (and its partitions loaded) on first use. */
    public static TransactionsService of(Broker broker) {
        synchronized (SERVICES) {
            TransactionsService s = SERVICES.get(broker);
            if (s == null) {
                s = new TransactionsService(broker);
                SERVICES.put(broker, s);
            }
            return s;
        }
    }

    /** Stops the coordinator's checks and its thread; called at shutdown after the network and the timer stopped. */
    public static void closeFor(Broker broker) {
        TransactionsService s;
        synchronized (SERVICES) {
            s = SERVICES.remove(broker);
        }
        if (s == null) {
            return;
        }
        s.coordinator.shutdown();
        s.markers.close();
        s.timeouts.shutdown();
        try {
            if (!s.timeouts.awaitTermination(5, TimeUnit.SECONDS)) {
                LOG.warn("Transaction coordinator tasks still running after 5 s at shutdown");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public TransactionCoordinator coordinator() {
        return coordinator;
    }

    public ProducerIdSource producerIds() {
        return producerIds;
    }

    public MarkerWriter markers() {
        return markers;
    }

    public int numPartitions() {
        return numPartitions;
    }

    /**
     * Makes sure {@code __transaction_state} exists (internal, compacted, transaction.state.log.num.partitions
     * partitions, transaction.state.log.replication.factor replicas). Returns NONE, or why clients must wait.
     */
    public Errors ensureTopic() {
        if (topics.get(TransactionStateTopic.NAME) != null) {
            return Errors.NONE;
        }
        if (cluster != null) {
            int live = cluster.liveBrokers().size();
            if (live < replicationFactor) {
                long now = System.currentTimeMillis();
                if (now - lastRefusalLogMs > 10_000) {
                    lastRefusalLogMs = now;
                    LOG.warn("Not creating {} yet: transaction.state.log.replication.factor is {} but only {} broker(s) are "
                            + "alive; transactional producers wait until enough brokers are (or lower the factor)",
                            TransactionStateTopic.NAME, replicationFactor, live);
                }
                return Errors.COORDINATOR_NOT_AVAILABLE;
            }
            dev.runnel.broker.cluster.ClusterTopicAdmin.ensureTopic(cluster, TransactionStateTopic.NAME, numPartitions,
                    replicationFactor, topicConfigs);
            return Errors.COORDINATOR_NOT_AVAILABLE;
        }
        TopicManager.Result r = topics.create(TransactionStateTopic.NAME, numPartitions, topicConfigs, true, false);
        if (r.error() == Errors.NONE || r.error() == Errors.TOPIC_ALREADY_EXISTS) {
            return Errors.NONE;
        }
        LOG.error("Cannot create {}: {} {}", TransactionStateTopic.NAME, r.error(), r.message());
        return r.error();
    }

    private Partition statePartition(int index, boolean create) {
        if (create && cluster == null && ensureTopic() != Errors.NONE) {
            return null;
        }
        return topics.partition(TransactionStateTopic.NAME, index);
    }
}
