package dev.runnel.broker;

import dev.runnel.broker.groups.GroupsService;
import dev.runnel.broker.handlers.Handlers;
import dev.runnel.broker.config.StartupChecks;
import dev.runnel.broker.metrics.BrokerMetrics;
import dev.runnel.broker.metrics.MetricsHttpServer;
import dev.runnel.broker.network.ConnectionQuotas;
import dev.runnel.broker.network.FrameDecoder;
import dev.runnel.broker.network.KafkaRequestHandler;
import dev.runnel.broker.state.LogMaintenance;
import dev.runnel.broker.state.TopicConfigs;
import dev.runnel.broker.state.TopicManager;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.HashedWheelTimer;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A running single-node broker: start it, ask where it listens, close it. */
public final class RunnelServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RunnelServer.class);

    private final Broker broker;
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final Channel serverChannel;
    private final HashedWheelTimer timer;
    private final int port;
    private final MetricsHttpServer metricsServer;
    private final ThreadTracker threads;
    private final LogMaintenance maintenance;
    private volatile boolean closed;

    private RunnelServer(Broker broker, EventLoopGroup boss, EventLoopGroup workers, Channel serverChannel, HashedWheelTimer timer,
                         int port, MetricsHttpServer metricsServer, ThreadTracker threads, LogMaintenance maintenance) {
        this.broker = broker;
        this.boss = boss;
        this.workers = workers;
        this.serverChannel = serverChannel;
        this.timer = timer;
        this.port = port;
        this.metricsServer = metricsServer;
        this.threads = threads;
        this.maintenance = maintenance;
    }

    /** Retention and the log cleaner of this broker (tests run a pass at once with it). */
    public LogMaintenance logMaintenance() {
        return maintenance;
    }

    /**
     * Remembers the threads of this server's pools so that {@link #close()} returns only once they have exited:
     * Netty's termination future completes a moment before its threads end, and tests that start and stop many
     * brokers in one JVM count threads.
     */
    private static final class ThreadTracker {
        private final List<Thread> threads = new CopyOnWriteArrayList<>();

        DefaultThreadFactory factory(String name) {
            return new DefaultThreadFactory(name, true) {
                @Override
                protected Thread newThread(Runnable r, String threadName) {
                    Thread t = super.newThread(r, threadName);
                    threads.add(t);
                    return t;
                }
            };
        }

        void joinAll() {
            for (Thread t : threads) {
                if (t == Thread.currentThread()) {
                    continue;
                }
                try {
                    t.join(5_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                if (t.isAlive()) {
                    LOG.warn("Thread {} still running 5 s after shutdown", t.getName());
                }
            }
        }
    }

    public static RunnelServer start(BrokerConfig config) throws IOException {
        long t0 = System.nanoTime();
        Path dataDir = config.logDirs().get(0);
        Files.createDirectories(dataDir);
        boolean clustered = dev.runnel.broker.cluster.KRaftConfig.isCluster(config);
        dev.runnel.broker.cluster.KRaftConfig kraft = clustered ? dev.runnel.broker.cluster.KRaftConfig.from(config) : null;
        if (kraft != null && !kraft.broker()) {
            throw new IllegalArgumentException("process.roles=controller serves no clients: start it with "
                    + "dev.runnel.broker.cluster.ControllerOnlyNode (bin/runnel-server-start.sh does)");
        }
        // Dynamic broker configs: a single node reads its own file before the logs open, so they open with them; a
        // cluster node gets them from the metadata image once it follows the log (and applies them then).
        dev.runnel.broker.config.DynamicBrokerConfig dynamic = new dev.runnel.broker.config.DynamicBrokerConfig(config);
        dev.runnel.broker.state.DynamicConfigStore dynamicStore = null;
        if (kraft == null) {
            dynamicStore = dev.runnel.broker.state.DynamicConfigStore.open(dataDir);
            dynamic.apply(dynamicStore.clusterDefault(), dynamicStore.broker(config.nodeId()));
        }
        TopicManager topics = TopicManager.open(dynamic::current);
        dev.runnel.broker.cluster.ClusterNode cluster = null;
        if (kraft != null) {
            try {
                cluster = dev.runnel.broker.cluster.ClusterNode.start(kraft, config, topics);
            } catch (IOException | RuntimeException e) {
                topics.close();
                throw e;
            }
        }
        String clusterId = cluster != null ? cluster.image().clusterId() : clusterId(dataDir);
        LogMaintenance maintenance = new LogMaintenance(dynamic.current(), topics);
        ThreadTracker threads = new ThreadTracker();
        HashedWheelTimer timer = new HashedWheelTimer(threads.factory("runnel-timer"), 5, TimeUnit.MILLISECONDS);
        String metricsPort = config.get("metrics.port");
        boolean serveMetrics = metricsPort != null && !metricsPort.isBlank();
        BrokerMetrics metrics = serveMetrics || Boolean.parseBoolean(config.get("metrics.enabled"))
                ? BrokerMetrics.enabled() : BrokerMetrics.disabled();
        Broker broker = new Broker(config, clusterId, topics, timer, metrics);
        broker.setCluster(cluster);
        broker.setDynamicConfig(dynamic, dynamicStore);
        metrics.bind(broker);
        Handlers.registerAll(broker, broker::register);

        EventLoopGroup boss = new NioEventLoopGroup(1, threads.factory("runnel-acceptor"));
        EventLoopGroup workers = new NioEventLoopGroup(0, threads.factory("runnel-network"));
        BrokerConfig.Listener listener = config.listener();
        BrokerConfig inForce = dynamic.current();
        ConnectionQuotas quotas = new ConnectionQuotas(inForce.maxConnections(), inForce.maxConnectionsPerIp(),
                inForce.maxConnectionsPerIpOverrides());
        dynamic.addListener((c, changed) -> {
            if (changed.stream().anyMatch(k -> TopicConfigs.isBrokerSynonym(k))) {
                topics.brokerDefaultsChanged();
            }
            if (changed.contains("log.cleaner.backoff.ms") || changed.contains("log.cleaner.dedupe.buffer.size")) {
                maintenance.reconfigure(c);
            }
            if (changed.contains("max.connections") || changed.contains("max.connections.per.ip")
                    || changed.contains("max.connections.per.ip.overrides")) {
                quotas.reconfigure(c.maxConnections(), c.maxConnectionsPerIp(), c.maxConnectionsPerIpOverrides());
            }
        });
        if (cluster != null) {
            cluster.useConfigInForce(dynamic::current);
            String self = Integer.toString(config.nodeId());
            cluster.addImageListener(img -> dynamic.apply(
                    img.configs(dev.runnel.metadata.image.MetadataImage.BROKER_CONFIG, ""),
                    img.configs(dev.runnel.metadata.image.MetadataImage.BROKER_CONFIG, self)));
        }
        long idleMs = config.connectionsMaxIdleMs();
        String bindHost = listener.host().isEmpty() || listener.host().equals("0.0.0.0") ? null : listener.host();
        Channel ch = null;
        MetricsHttpServer metricsServer = null;
        try {
            ServerBootstrap b = new ServerBootstrap()
                    .group(boss, workers)
                    .channel(NioServerSocketChannel.class)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .handler(quotas)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel c) {
                            if (idleMs > 0) {
                                c.pipeline().addLast("idle", new IdleStateHandler(false, 0, 0, idleMs, TimeUnit.MILLISECONDS));
                            }
                            c.pipeline().addLast("frames", new FrameDecoder(config.socketRequestMaxBytes()));
                            c.pipeline().addLast("requests", new KafkaRequestHandler(broker));
                        }
                    });
            InetSocketAddress addr = bindHost == null ? new InetSocketAddress(listener.port()) : new InetSocketAddress(bindHost, listener.port());
            try {
                ch = b.bind(addr).syncUninterruptibly().channel();
            } catch (Exception e) { // Netty throws the BindException unchecked
                throw new IOException(StartupChecks.listenFailure("listeners", config.get("listeners"), listener.host(),
                        listener.port(), e), e);
            }
            if (serveMetrics) {
                int mp = Integer.parseInt(metricsPort.trim());
                try {
                    metricsServer = MetricsHttpServer.start(bindHost, mp, metrics);
                } catch (IOException | RuntimeException e) {
                    throw new IOException(StartupChecks.listenFailure("metrics.port", String.valueOf(mp), listener.host(), mp, e), e);
                }
            }
        } catch (IOException | RuntimeException e) {
            abandon(ch, metricsServer, boss, workers, timer, broker, threads, maintenance, cluster, topics, metrics);
            throw e instanceof IOException io ? io
                    : new IOException("Cannot listen on " + listener.host() + ":" + listener.port() + ": " + e.getMessage(), e);
        }
        int boundPort = ((InetSocketAddress) ch.localAddress()).getPort();
        BrokerConfig.Listener adv = config.advertisedListener();
        String advHost = adv.host().isEmpty() || adv.host().equals("0.0.0.0") ? "localhost" : adv.host();
        int advPort = adv.port() == 0 || config.get("advertised.listeners") == null ? boundPort : adv.port();
        broker.setAdvertised(advHost, advPort);
        if (cluster != null) {
            try {
                cluster.startBroker(advHost, advPort);
            } catch (IOException | RuntimeException e) {
                abandon(ch, metricsServer, boss, workers, timer, broker, threads, maintenance, cluster, topics, metrics);
                throw e;
            }
        }
        LOG.info("Runnel node {} started in {} ms, listening on {}:{} (advertised {}:{}), data in {}, cluster id {}{}{}",
                config.nodeId(), (System.nanoTime() - t0) / 1_000_000, listener.host(), boundPort, advHost, advPort,
                dataDir.toAbsolutePath(), clusterId, metricsServer == null ? "" : ", metrics on port " + metricsServer.port(),
                cluster == null ? "" : ", roles " + config.get("process.roles") + ", metadata quorum " + kraft.voters().keySet()
                        + " (controller: node " + cluster.controllerId() + ")");
        maintenance.start();
        return new RunnelServer(broker, boss, workers, ch, timer, boundPort, metricsServer, threads, maintenance);
    }

    /** Undoes a start that failed part way: everything started so far is stopped, in the order close() uses. */
    private static void abandon(Channel ch, MetricsHttpServer metricsServer, EventLoopGroup boss, EventLoopGroup workers,
                                HashedWheelTimer timer, Broker broker, ThreadTracker threads, LogMaintenance maintenance,
                                dev.runnel.broker.cluster.ClusterNode cluster, TopicManager topics, BrokerMetrics metrics) {
        if (metricsServer != null) {
            metricsServer.close();
        }
        if (ch != null) {
            ch.close().syncUninterruptibly();
        }
        boss.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).syncUninterruptibly();
        workers.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).syncUninterruptibly();
        timer.stop();
        dev.runnel.broker.txn.TransactionsService.closeFor(broker);
        GroupsService.closeFor(broker);
        threads.joinAll();
        maintenance.close();
        if (cluster != null) {
            cluster.close();
        }
        topics.close();
        metrics.close();
    }

    /** The cluster id is kept in the data directory (as Kafka's meta.properties) so it survives restarts. */
    private static String clusterId(Path dataDir) throws IOException {
        Path meta = dataDir.resolve("meta.properties");
        java.util.Properties p = new java.util.Properties();
        if (Files.exists(meta)) {
            try (var r = Files.newBufferedReader(meta)) {
                p.load(r);
            }
            String id = p.getProperty("cluster.id");
            if (id != null) {
                return id;
            }
        }
        UUID u = UUID.randomUUID();
        java.nio.ByteBuffer bb = java.nio.ByteBuffer.allocate(16).putLong(u.getMostSignificantBits()).putLong(u.getLeastSignificantBits());
        String id = Base64.getUrlEncoder().withoutPadding().encodeToString(bb.array());
        p.setProperty("cluster.id", id);
        p.setProperty("version", "1");
        try (var w = Files.newBufferedWriter(meta)) {
            p.store(w, "Runnel broker metadata");
        }
        return id;
    }

    public Broker broker() {
        return broker;
    }

    public int port() {
        return port;
    }

    public String bootstrapServers() {
        return broker.advertisedHost() + ":" + broker.advertisedPort();
    }

    /** The broker's meters (also served at {@code /metrics} when {@code metrics.port} is set). */
    public BrokerMetrics metrics() {
        return broker.metrics();
    }

    /** The port of the {@code /metrics} endpoint, or -1 when {@code metrics.port} is not set. */
    public int metricsPort() {
        return metricsServer == null ? -1 : metricsServer.port();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (broker.cluster() != null) {
            // Controlled shutdown first, while clients can still be told where the partitions went.
            broker.cluster().close();
        }
        if (metricsServer != null) {
            metricsServer.close();
        }
        serverChannel.close().syncUninterruptibly();
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        timer.stop();
        // After the network and the timer: nothing hands group timeouts work any more, and none may touch a closed log.
        dev.runnel.broker.txn.TransactionsService.closeFor(broker);
        GroupsService.closeFor(broker);
        threads.joinAll();
        maintenance.close();
        broker.topics().close();
        broker.metrics().close();
        LOG.info("Runnel node {} stopped", broker.nodeId());
    }
}
