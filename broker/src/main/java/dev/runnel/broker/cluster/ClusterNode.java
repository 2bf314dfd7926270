package dev.runnel.broker.cluster;

import dev.runnel.broker.BrokerConfig;
import dev.runnel.broker.state.TopicConfigs;
import dev.runnel.broker.state.TopicManager;
import dev.runnel.metadata.MetadataRecords;
import dev.runnel.metadata.controller.ControllerLogic;
import dev.runnel.metadata.controller.ControllerMessages;
import dev.runnel.metadata.controller.QuorumController;
import dev.runnel.metadata.controller.TopicPolicy;
import dev.runnel.metadata.image.BrokerRegistration;
import dev.runnel.metadata.image.MetadataImage;
import dev.runnel.metadata.image.PartitionRegistration;
import dev.runnel.metadata.image.TopicImage;
import dev.runnel.metadata.raft.MetadataLog;
import dev.runnel.metadata.raft.MetadataLogListener;
import dev.runnel.metadata.raft.NotControllerException;
import dev.runnel.metadata.raft.RatisMetadataLog;
import dev.runnel.metadata.raft.RatisSettings;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.Errors;
import dev.runnel.wire.Message;
import dev.runnel.wire.message.BrokerHeartbeatRequestData;
import dev.runnel.wire.message.BrokerHeartbeatResponseData;
import dev.runnel.wire.message.BrokerRegistrationRequestData;
import dev.runnel.wire.message.BrokerRegistrationResponseData;
import java.io.IOException;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This process's membership of a cluster: it follows the metadata log (as a voter of the quorum, or as an observer
 * when it is only a broker), applies it into the {@link MetadataImage} that handlers read, makes the local topics
 * match it, runs the controller when it is a voter, and, as a broker, registers with the active controller and sends
 * it heartbeats. The single-node default has none of this.
 */
public final class ClusterNode implements MetadataLogListener, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterNode.class);
    private static final long CONTROLLER_CALL_TIMEOUT_MS = 30_000;

    private final KRaftConfig kraft;
    private final BrokerConfig config;
    private final Path dataDir;
    private final TopicManager topics;
    private final ScheduledExecutorService lifecycle;
    private final List<Waiter> waiters = new ArrayList<>();
    private final List<Consumer<MetadataImage>> imageListeners = new CopyOnWriteArrayList<>();
    private final UUID incarnationId = UUID.randomUUID();
    private volatile MetadataImage image = MetadataImage.EMPTY;
    private volatile MetadataLog log;
    private volatile QuorumController controller;
    private volatile BrokerLivenessProbe livenessProbe;
    private volatile ControllerListener controllerListener;
    private volatile ReplicaManager replicaManager;
    private volatile EventLoopGroup controllerLoop;
    private volatile MetaProperties meta;
    private volatile long brokerEpoch = -1;
    private volatile boolean fenced = true;
    private volatile boolean shuttingDown;
    private volatile CompletableFuture<Void> shutdownGranted = new CompletableFuture<>();
    private volatile CompletableFuture<Void> unfenced = new CompletableFuture<>();
    private String advertisedHost;
    private int advertisedPort;
    private volatile java.util.function.Supplier<BrokerConfig> configInForce;

    private record Waiter(Predicate<MetadataImage> condition, CompletableFuture<MetadataImage> future) {
    }

    private ClusterNode(KRaftConfig kraft, BrokerConfig config, TopicManager topics) {
        this.kraft = kraft;
        this.config = config;
        this.configInForce = () -> config;
        this.dataDir = config.logDirs().get(0);
        this.topics = topics;
        this.replicaManager = topics == null ? null : new ReplicaManager(this, config, topics);
        this.lifecycle = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "runnel-broker-lifecycle");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Joins the metadata quorum and waits until the cluster id is known (and matches this directory's
     * {@code meta.properties}). {@code topics} is null on a controller-only node.
     */
    public static ClusterNode start(KRaftConfig kraft, BrokerConfig config, TopicManager topics) throws IOException {
        ClusterNode node = new ClusterNode(kraft, config, topics);
        try {
            node.join();
            return node;
        } catch (IOException | RuntimeException e) {
            node.close();
            throw e;
        }
    }

    private void join() throws IOException {
        // Ratis logs every election round and RPC retry at INFO; keep our log readable unless asked otherwise.
        if (System.getProperty("org.slf4j.simpleLogger.log.org.apache.ratis") == null) {
            System.setProperty("org.slf4j.simpleLogger.log.org.apache.ratis", "warn");
        }
        Files.createDirectories(dataDir);
        meta = MetaProperties.read(dataDir);
        meta.checkNode(kraft.nodeId());
        String initialClusterId = meta.clusterId() != null ? meta.clusterId() : MetaProperties.randomId();
        RatisSettings settings = RatisSettings.defaults().withElectionTimeout(kraft.electionTimeoutMs(), 2 * kraft.electionTimeoutMs())
                .withFirstElectionTimeout(Math.max(1, kraft.electionTimeoutMs() / 4), Math.max(2, kraft.electionTimeoutMs() / 2));
        Map<Integer, InetSocketAddress> voters = kraft.voters();
        if (kraft.controller()) {
            Path storage = dataDir.resolve("__cluster_metadata-0");
            // Raft listens on a loopback port of its own; the CONTROLLER listener relays the other voters' connections
            // to it and serves Kafka's protocol to tools on the same port.
            RatisMetadataLog voter = RatisMetadataLog.startVoter(kraft.nodeId(), resolved(voters), storage, this, settings,
                    new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            log = voter;
            BrokerConfig.Listener cl = kraft.controllerListener();
            InetSocketAddress bind = cl.host().isEmpty() || cl.host().equals("0.0.0.0") ? new InetSocketAddress(cl.port())
                    : new InetSocketAddress(cl.host(), cl.port());
            controllerLoop = new NioEventLoopGroup(1, new DefaultThreadFactory("runnel-controller-listener", true));
            try {
                controllerListener = ControllerListener.start(bind, voter.boundAddress(),
                        dev.runnel.broker.Broker.controllerEndpoint(config, this), config.socketRequestMaxBytes(), controllerLoop, controllerLoop);
            } catch (Exception e) { // Netty throws the BindException unchecked
                throw new IOException(dev.runnel.broker.config.StartupChecks.listenFailure(
                        "listeners", config.get("listeners"), cl.host(), cl.port(), e), e);
            }
            controller = new QuorumController(kraft.nodeId(), log, () -> image, new ControllerLogic(policy(), ClusterNode::newTopicId),
                    System::currentTimeMillis, kraft.sessionTimeoutMs(), initialClusterId);
            if (!"false".equalsIgnoreCase(String.valueOf(config.get("auto.leader.rebalance.enable")).trim())) {
                String s = config.get("leader.imbalance.check.interval.seconds");
                long seconds = s == null || s.isBlank() ? 300 : Long.parseLong(s.trim());
                controller.enableLeaderRebalance(Math.max(1, seconds) * 1000);
            }
            String probe = config.get(BrokerLivenessProbe.CONFIG);
            long probeMs = probe == null || probe.isBlank() ? BrokerLivenessProbe.DEFAULT_INTERVAL_MS : Long.parseLong(probe.trim());
            if (probeMs > 0) {
                livenessProbe = new BrokerLivenessProbe(kraft.nodeId(), controller, () -> image, this::endpoint, probeMs);
            }
        } else {
            log = RatisMetadataLog.startObserver(kraft.nodeId(), resolved(voters), this, settings);
        }
        long t0 = System.nanoTime();
        MetadataImage withId = null;
        while (withId == null) {
            try {
                withId = awaitImage(i -> i.clusterId() != null, 10_000).get();
            } catch (java.util.concurrent.ExecutionException e) {
                LOG.info("Waiting for the metadata quorum (voters {}) for {} s", voters, (System.nanoTime() - t0) / 1_000_000_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("Interrupted while waiting for the metadata quorum");
            }
        }
        meta = meta.adopt(withId.clusterId(), kraft.nodeId());
    }

    private static Map<Integer, InetSocketAddress> resolved(Map<Integer, InetSocketAddress> voters) {
        Map<Integer, InetSocketAddress> out = new java.util.TreeMap<>();
        voters.forEach((id, a) -> out.put(id, a.isUnresolved() ? new InetSocketAddress(a.getHostString(), a.getPort()) : a));
        return out;
    }

    private static UUID newTopicId() {
        UUID u;
        do {
            u = UUID.randomUUID();
        } while (u.getMostSignificantBits() == 0 && u.getLeastSignificantBits() <= 1);
        return u;
    }

    private TopicPolicy policy() {
        return new TopicPolicy() {
            @Override
            public int defaultPartitions() {
                return config.numPartitions();
            }

            @Override
            public short defaultReplicationFactor() {
                return config.defaultReplicationFactor();
            }

            @Override
            public String invalidName(String name) {
                return TopicManager.invalidNameReason(name);
            }

            @Override
            public int maxSupportedReplicationFactor() {
                return Integer.MAX_VALUE;
            }

            @Override
            public boolean uncleanLeaderElection(Map<String, String> topicConfigs) {
                String v = topicConfigs.get("unclean.leader.election.enable");
                if (v == null) {
                    v = configInForce().get("unclean.leader.election.enable");
                }
                return v != null && "true".equalsIgnoreCase(v.trim());
            }

            @Override
            public String invalidConfigs(Map<String, String> configs) {
                try {
                    return TopicConfigs.validate(config, configs);
                } catch (IllegalArgumentException e) {
                    return e.getMessage();
                }
            }
        };
    }

    // ------------------------------------------------------------------------------------------------ broker lifecycle

    /**
     * Registers this broker (its client listener as {@code host:port}) with the active controller and waits until the
     * controller unfences it, which it does once this node has applied the metadata log up to its registration.
     */
    public void startBroker(String host, int port) throws IOException {
        this.advertisedHost = host;
        this.advertisedPort = port;
        register();
        lifecycle.scheduleWithFixedDelay(this::heartbeat, 0, kraft.heartbeatIntervalMs(), TimeUnit.MILLISECONDS);
        try {
            unfenced.get(120, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            LOG.warn("Broker {} is still fenced after 120 s; serving anyway while it catches up", kraft.nodeId());
        } catch (Exception e) {
            throw new IOException("Broker registration failed: " + e.getMessage(), e);
        }
    }

    private void register() throws IOException {
        BrokerRegistrationRequestData req = new BrokerRegistrationRequestData().setBrokerId(kraft.nodeId())
                .setClusterId(image.clusterId()).setIncarnationId(incarnationId).setRack(kraft.rack()).setPreviousBrokerEpoch(brokerEpoch);
        req.listeners.add(new BrokerRegistrationRequestData.Listener().setName(kraft.interBrokerListener()).setHost(advertisedHost)
                .setPort(advertisedPort).setSecurityProtocol((short) 0));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (true) {
            try {
                BrokerRegistrationResponseData resp = call(req, new BrokerRegistrationResponseData(), CONTROLLER_CALL_TIMEOUT_MS)
                        .get(CONTROLLER_CALL_TIMEOUT_MS + 1000, TimeUnit.MILLISECONDS);
                if (resp.errorCode != 0) {
                    throw new IOException("The controller refused the registration of broker " + kraft.nodeId() + ": "
                            + Errors.forCode(resp.errorCode));
                }
                brokerEpoch = resp.brokerEpoch;
                LOG.info("Broker {} registered with epoch {}", kraft.nodeId(), brokerEpoch);
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("Interrupted during registration");
            } catch (java.util.concurrent.ExecutionException | TimeoutException e) {
                if (System.nanoTime() > deadline) {
                    throw new IOException("Could not register with the active controller within 120 s: " + e, e);
                }
                LOG.info("Registration of broker {} not answered yet ({}); retrying", kraft.nodeId(), e.getMessage());
            }
        }
    }

    private void heartbeat() {
        if (brokerEpoch < 0) {
            return;
        }
        BrokerHeartbeatRequestData hb = new BrokerHeartbeatRequestData().setBrokerId(kraft.nodeId()).setBrokerEpoch(brokerEpoch)
                .setCurrentMetadataOffset(image.offset()).setWantFence(false).setWantShutDown(shuttingDown);
        try {
            BrokerHeartbeatResponseData resp = call(hb, new BrokerHeartbeatResponseData(), Math.max(1000, kraft.heartbeatIntervalMs() * 2))
                    .get(Math.max(1000, kraft.heartbeatIntervalMs() * 2) + 500, TimeUnit.MILLISECONDS);
            Errors error = Errors.forCode(resp.errorCode);
            if (error == Errors.STALE_BROKER_EPOCH || error == Errors.BROKER_ID_NOT_REGISTERED) {
                if (!shuttingDown) {
                    LOG.info("Broker {}'s registration (epoch {}) is no longer current ({}); registering again", kraft.nodeId(), brokerEpoch, error);
                    register();
                }
                return;
            }
            if (error != Errors.NONE) {
                LOG.debug("Heartbeat answered {}", error);
                return;
            }
            boolean wasFenced = fenced;
            fenced = resp.isFenced;
            if (!resp.isFenced) {
                unfenced.complete(null);
                if (wasFenced) {
                    LOG.info("Broker {} is unfenced", kraft.nodeId());
                }
            }
            if (resp.shouldShutDown) {
                shutdownGranted.complete(null);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            LOG.debug("Heartbeat of broker {} failed: {}", kraft.nodeId(), e.toString());
        }
    }

    /** Controlled shutdown: asks the controller to move leadership off this broker and waits (bounded) until it has. */
    private void controlledShutdown() {
        if (brokerEpoch < 0 || controllerGone()) {
            return;
        }
        shuttingDown = true;
        long t0 = System.nanoTime();
        try {
            lifecycle.execute(this::heartbeat);
            shutdownGranted.get(5, TimeUnit.SECONDS);
            LOG.info("Controlled shutdown of broker {} completed in {} ms", kraft.nodeId(), (System.nanoTime() - t0) / 1_000_000);
        } catch (Exception e) {
            LOG.info("Controlled shutdown of broker {} not confirmed within 5 s; stopping anyway", kraft.nodeId());
        }
    }

    private boolean controllerGone() {
        return log == null || log.leaderId() < 0;
    }

    // ------------------------------------------------------------------------------------------------ reading the metadata

    /** Where the configuration in force (dynamic broker configs included) is read from; server.properties until set. */
    public void useConfigInForce(java.util.function.Supplier<BrokerConfig> source) {
        this.configInForce = source;
    }

    /** The configuration in force: server.properties with the dynamic broker configs this node applies. */
    public BrokerConfig configInForce() {
        return configInForce.get();
    }

    public MetadataImage image() {
        return image;
    }

    public int nodeId() {
        return kraft.nodeId();
    }

    /** The roles of this broker's replicas (null on a controller-only node). */
    public ReplicaManager replicaManager() {
        return replicaManager;
    }

    /** This broker's epoch from its registration, -1 before. */
    public long brokerEpoch() {
        return brokerEpoch;
    }

    public KRaftConfig kraft() {
        return kraft;
    }

    public MetadataLog metadataLog() {
        return log;
    }

    /** The active controller's id, or -1 while there is none (Metadata's and DescribeCluster's controller id). */
    public int controllerId() {
        MetadataLog l = log;
        return l == null ? -1 : l.leaderId();
    }

    /**
     * The controller id clients are told (Metadata, DescribeCluster on a broker listener): clients send admin requests
     * there, and brokers forward them to the active controller. The active controller when it is a live broker, else
     * a live broker (the lowest id; Kafka picks one at random), as a KRaft broker answers; -1 if there is none.
     */
    public int controllerIdForClients() {
        int active = controllerId();
        List<BrokerRegistration> live = liveBrokers();
        for (BrokerRegistration b : live) {
            if (b.id() == active) {
                return active;
            }
        }
        return live.isEmpty() ? -1 : live.get(0).id();
    }

    /** Brokers clients may talk to: registered and not fenced. */
    public List<BrokerRegistration> liveBrokers() {
        List<BrokerRegistration> out = new ArrayList<>();
        for (BrokerRegistration b : image.brokers().values()) {
            if (!b.fenced()) {
                out.add(b);
            }
        }
        return out;
    }

    public BrokerRegistration.Endpoint endpoint(BrokerRegistration b) {
        return b.endpoint(kraft.interBrokerListener()).orElse(b.endpoints().isEmpty() ? null : b.endpoints().get(0));
    }

    public PartitionRegistration partition(String topic, int partition) {
        TopicImage t = image.topic(topic);
        return t == null ? null : t.partition(partition);
    }

    /** Whether this node leads the partition (and may serve produce and fetch for it). */
    public boolean leads(String topic, int partition) {
        PartitionRegistration p = partition(topic, partition);
        return p != null && p.leader() == kraft.nodeId();
    }

    /** Called with every new image (after the local topics were made to match it). */
    public void addImageListener(Consumer<MetadataImage> l) {
        imageListeners.add(l);
        l.accept(image);
    }

    /** Completes with the first image (the current one included) that satisfies {@code condition}. */
    public CompletableFuture<MetadataImage> awaitImage(Predicate<MetadataImage> condition, long timeoutMs) {
        CompletableFuture<MetadataImage> f = new CompletableFuture<>();
        synchronized (waiters) {
            MetadataImage now = image;
            if (condition.test(now)) {
                f.complete(now);
                return f;
            }
            waiters.add(new Waiter(condition, f));
        }
        try {
            lifecycle.schedule(() -> f.completeExceptionally(new TimeoutException("The metadata did not reach the expected state within "
                    + timeoutMs + " ms")), timeoutMs, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            f.completeExceptionally(new IllegalStateException("The node is shutting down"));
        }
        return f;
    }

    /** Sends a request to the active controller, wherever it runs. */
    public <T extends ApiMessage> CompletableFuture<T> call(ApiMessage request, T responseType, long timeoutMs) {
        return log.callController(ControllerMessages.encode(request), timeoutMs)
                .thenApply(bytes -> ControllerMessages.decode(bytes, responseType));
    }

    // ------------------------------------------------------------------------------------------------ MetadataLogListener

    @Override
    public void onCommit(long index, long term, byte[] batch) {
        List<Message> records;
        try {
            records = MetadataRecords.decodeBatch(batch);
        } catch (RuntimeException e) {
            LOG.error("Skipping metadata log entry {} that does not decode: {}", index, e.toString());
            return;
        }
        publish(image.apply(records, index));
    }

    @Override
    public byte[] snapshot() {
        return MetadataRecords.encodeBatch(image.toRecords());
    }

    @Override
    public void loadSnapshot(long index, byte[] snapshot) {
        publish(MetadataImage.EMPTY.apply(MetadataRecords.decodeBatch(snapshot), index));
    }

    @Override
    public void onLeaderChange(int leaderId, long term) {
        LOG.info("Metadata quorum leader is now {} (term {})", leaderId < 0 ? "unknown" : "node " + leaderId, term);
    }

    @Override
    public CompletableFuture<byte[]> handleControllerRequest(byte[] request) {
        QuorumController c = controller;
        if (c == null) {
            return CompletableFuture.failedFuture(new NotControllerException("Node " + kraft.nodeId() + " runs no controller"));
        }
        return c.handle(request);
    }

    private void publish(MetadataImage next) {
        MetadataImage previous = image;
        image = next;
        if (topics != null) {
            syncTopics(previous, next);
        }
        for (Consumer<MetadataImage> l : imageListeners) {
            try {
                l.accept(next);
            } catch (RuntimeException e) {
                LOG.warn("Metadata image listener failed", e);
            }
        }
        List<Waiter> ready = new ArrayList<>();
        synchronized (waiters) {
            waiters.removeIf(w -> {
                if (w.future().isDone()) {
                    return true;
                }
                if (w.condition().test(next)) {
                    ready.add(w);
                    return true;
                }
                return false;
            });
        }
        for (Waiter w : ready) {
            w.future().complete(next);
        }
    }

    /**
     * Makes the local topics match the metadata. Every node keeps a log for every partition of every topic (those
     * it does not lead stay empty): until partitions are replicated a partition has one replica, its leader, and
     * only the leader serves it.
     */
    private void syncTopics(MetadataImage previous, MetadataImage next) {
        for (TopicImage t : next.topics().values()) {
            TopicImage before = previous.topic(t.name());
            Map<String, String> configs = next.configs(MetadataImage.TOPIC_CONFIG, t.name());
            if (before != null && before.id().equals(t.id()) && before.partitionCount() == t.partitionCount()
                    && configs.equals(previous.configs(MetadataImage.TOPIC_CONFIG, t.name())) && topics.get(t.name()) != null) {
                continue;
            }
            try {
                topics.ensureFromMetadata(t.name(), t.id(), t.partitionCount(), configs, t.name().startsWith("__"));
            } catch (IOException | RuntimeException e) {
                LOG.error("Cannot create the local logs of topic {}: {}", t.name(), e.toString());
            }
        }
        ReplicaManager rm = replicaManager;
        if (rm != null) {
            try {
                rm.apply(next);
            } catch (RuntimeException e) {
                LOG.error("Cannot apply the partitions' roles of metadata offset {}: {}", next.offset(), e.toString(), e);
            }
        }
        for (TopicImage t : previous.topics().values()) {
            TopicImage now = next.topic(t.name());
            if (now == null || !now.id().equals(t.id())) {
                var local = topics.get(t.name());
                if (local != null && local.id().equals(t.id())) {
                    topics.delete(t.name());
                }
            }
        }
    }

    @Override
    public void close() {
        if (kraft.broker()) {
            controlledShutdown();
        }
        lifecycle.shutdownNow();
        ReplicaManager rm = replicaManager;
        if (rm != null) {
            rm.close();
        }
        BrokerLivenessProbe probe = livenessProbe;
        if (probe != null) {
            probe.close();
        }
        QuorumController c = controller;
        if (c != null) {
            c.close();
        }
        ControllerListener cl = controllerListener;
        if (cl != null) {
            cl.close();
        }
        MetadataLog l = log;
        if (l != null) {
            l.close();
        }
        EventLoopGroup loop = controllerLoop;
        if (loop != null) {
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
