package dev.runnel.testkit;

import dev.runnel.broker.BrokerConfig;
import dev.runnel.broker.RunnelServer;
import dev.runnel.broker.cluster.ClusterNode;
import dev.runnel.broker.cluster.ClusterTopicAdmin;
import dev.runnel.metadata.image.BrokerRegistration;
import dev.runnel.metadata.image.MetadataImage;
import dev.runnel.metadata.image.TopicImage;
import dev.runnel.wire.Errors;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A cluster of Runnel nodes inside this JVM, for tests of what a cluster does (leaders spread over brokers, a lost
 * controller replaced, a node that comes back):
 *
 * <pre>{@code
 * try (EmbeddedRunnelCluster cluster = EmbeddedRunnel.cluster(3).topic("orders", 6).start()) {
 *     props.put("bootstrap.servers", cluster.bootstrapServers());    // all three nodes
 *     int controller = cluster.activeControllerId();
 *     cluster.stop(controller);                                       // graceful (or kill(controller): crash-like)
 *     int next = cluster.awaitActiveController(Duration.ofSeconds(15));
 *     cluster.restart(controller);                                    // same ports, same data
 * }
 * }</pre>
 *
 * Nodes have the ids 1..N. Each is a full {@code process.roles=broker,controller} node configured with Kafka's KRaft
 * keys (one voter of the metadata quorum each), listens on two free ports of 127.0.0.1 (clients, controller) that it
 * keeps across {@link #restart(int)}, and keeps its data in its own directory under one temporary directory that
 * {@link #close()} deletes. The nodes start concurrently (one thread each): a lone voter cannot win an election, so
 * a node's start returns only once a majority runs. {@link Builder#start()} returns when every node is registered and
 * unfenced, every node sees all N brokers, and the builder's topics exist on every node.
 *
 * <p>Test defaults (override any with {@link Builder#property}): {@code broker.session.timeout.ms=3000},
 * {@code broker.heartbeat.interval.ms=500}, {@code group.initial.rebalance.delay.ms=0}, and replication factor 1 for
 * the internal topics ({@code offsets.topic.replication.factor}, {@code transaction.state.log.*}), as Kafka's shipped
 * {@code config/server.properties} has it.
 *
 * <p>{@link #stop(int)} is a graceful stop (controlled shutdown: leadership moves off the node before it leaves).
 * {@link #kill(int)} is what a crash looks like to the other nodes (the node drops out of the quorum, no controlled
 * shutdown, fenced once its session expires), but it is not a {@code kill -9}: the JVM goes on, so the node's files
 * are still closed in order and log recovery after a torn write is not exercised; that needs the nodes as processes.
 */
public final class EmbeddedRunnelCluster implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedRunnelCluster.class);
    private static final long RECHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    private static final int START_ATTEMPTS = 3;

    private final Path root;
    private final boolean deleteRoot;
    private final Map<Integer, Node> nodes;
    private final Duration timeout;
    private volatile boolean closed;

    /** One node: its fixed ports and directory, and its server while it runs. */
    private static final class Node {
        final int id;
        final Path dataDir;
        final Properties extra;
        int clientPort;
        int controllerPort;
        volatile RunnelServer server;

        Node(int id, Path dataDir, Properties extra) {
            this.id = id;
            this.dataDir = dataDir;
            this.extra = extra;
        }
    }

    private record TopicSpec(String name, int partitions, Map<String, String> configs) {
    }

    private EmbeddedRunnelCluster(Path root, boolean deleteRoot, Map<Integer, Node> nodes, Duration timeout) {
        this.root = root;
        this.deleteRoot = deleteRoot;
        this.nodes = nodes;
        this.timeout = timeout;
    }

    /** A builder of a cluster of {@code nodes} combined broker+controller nodes (see {@link EmbeddedRunnel#cluster(int)}). */
    public static Builder builder(int nodes) {
        return new Builder(nodes);
    }

    /** How a cluster will be started. Every setter returns this builder. */
    public static final class Builder {
        private final int size;
        private final Properties properties = new Properties();
        private final Map<Integer, Properties> perNode = new TreeMap<>();
        private final List<TopicSpec> topics = new ArrayList<>();
        private Path dataDir;
        private Duration timeout = Duration.ofSeconds(60);

        private Builder(int size) {
            if (size < 1) {
                throw new IllegalArgumentException("a cluster has at least one node, got " + size);
            }
            this.size = size;
        }

        /** Sets a {@code server.properties} key on every node (the node-specific keys such as ports are the cluster's). */
        public Builder property(String key, String value) {
            properties.setProperty(key, value);
            return this;
        }

        /** Sets several {@code server.properties} keys on every node. */
        public Builder properties(Map<?, ?> values) {
            values.forEach((k, v) -> properties.setProperty(String.valueOf(k), String.valueOf(v)));
            return this;
        }

        /** Sets a {@code server.properties} key on one node (ids 1..N), e.g. {@code broker.rack}. */
        public Builder nodeProperty(int nodeId, String key, String value) {
            if (nodeId < 1 || nodeId > size) {
                throw new IllegalArgumentException("no node " + nodeId + " in a cluster of " + size);
            }
            perNode.computeIfAbsent(nodeId, id -> new Properties()).setProperty(key, value);
            return this;
        }

        /** A topic created before {@link #start()} returns, with {@code num.partitions} partitions. */
        public Builder topic(String name) {
            return topic(name, -1, Map.of());
        }

        public Builder topic(String name, int partitions) {
            return topic(name, partitions, Map.of());
        }

        /** A topic with topic-level configs such as {@code cleanup.policy=compact}. */
        public Builder topic(String name, int partitions, Map<String, String> configs) {
            topics.add(new TopicSpec(name, partitions, Map.copyOf(configs)));
            return this;
        }

        /**
         * Keeps the nodes' data under {@code dir} (one directory {@code n<id>} per node) instead of a temporary
         * directory; such a directory is not deleted on close.
         */
        public Builder dataDir(Path dir) {
            this.dataDir = dir;
            return this;
        }

        /** How long a start, a restart or one of the {@code await} methods may take (default 60 s). */
        public Builder timeout(Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("timeout must be positive, got " + timeout);
            }
            this.timeout = timeout;
            return this;
        }

        /**
         * Starts every node (concurrently) and returns once all are registered and unfenced, every node lists all
         * the brokers, and the topics exist on every node.
         */
        public EmbeddedRunnelCluster start() {
            Path root;
            boolean delete;
            try {
                if (dataDir != null) {
                    root = Files.createDirectories(dataDir);
                    delete = false;
                } else {
                    root = Files.createTempDirectory("runnel-cluster-");
                    delete = true;
                }
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot create the cluster's data directory", e);
            }
            Map<Integer, Node> nodes = new LinkedHashMap<>();
            for (int id = 1; id <= size; id++) {
                Properties extra = new Properties();
                extra.putAll(properties);
                extra.putAll(perNode.getOrDefault(id, new Properties()));
                nodes.put(id, new Node(id, root.resolve("n" + id), extra));
            }
            EmbeddedRunnelCluster cluster = new EmbeddedRunnelCluster(root, delete, nodes, timeout);
            long t0 = System.nanoTime();
            try {
                cluster.startFresh();
                cluster.awaitBrokers(size);
                for (TopicSpec t : topics) {
                    cluster.createTopic(t.name(), t.partitions(), t.configs());
                }
            } catch (RuntimeException | Error e) {
                cluster.close();
                throw e;
            }
            LOG.info("Embedded Runnel cluster of {} nodes at {} ready in {} ms", size, cluster.bootstrapServers(),
                    (System.nanoTime() - t0) / 1_000_000);
            return cluster;
        }
    }

    /** Allocates ports and starts all nodes; retries with other ports if one was taken in between. */
    private void startFresh() {
        for (int attempt = 1; ; attempt++) {
            int[] ports = freePorts(2 * nodes.size());
            int i = 0;
            for (Node n : nodes.values()) {
                n.clientPort = ports[i++];
                n.controllerPort = ports[i++];
            }
            try {
                startNodes(nodes.keySet());
                return;
            } catch (RuntimeException e) {
                if (attempt < START_ATTEMPTS && causedByBind(e)) {
                    LOG.info("A port of the cluster was taken before it could bind ({}); trying other ports", e.toString());
                    // The quorum's membership (with the old ports) may already be in the nodes' directories.
                    nodes.values().forEach(n -> EmbeddedRunnel.deleteRecursively(n.dataDir, "cluster node's data directory"));
                    continue;
                }
                throw e;
            }
        }
    }

    private static boolean causedByBind(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof BindException || String.valueOf(t.getMessage()).contains("Address already in use")) {
                return true;
            }
        }
        return false;
    }

    /** Distinct free loopback ports: all bound at once, so none is handed out twice. */
    private static int[] freePorts(int count) {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            int[] ports = new int[count];
            for (int i = 0; i < count; i++) {
                ServerSocket s = new ServerSocket();
                sockets.add(s);
                s.setReuseAddress(true);
                s.bind(new InetSocketAddress("127.0.0.1", 0));
                ports[i] = s.getLocalPort();
            }
            return ports;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot find free ports on 127.0.0.1", e);
        } finally {
            for (ServerSocket s : sockets) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // nothing to do
                }
            }
        }
    }

    /** {@code controller.quorum.voters}: {@code 1@127.0.0.1:<c1>,2@...}. */
    private String quorumVoters() {
        return nodes.values().stream().map(n -> n.id + "@127.0.0.1:" + n.controllerPort).collect(Collectors.joining(","));
    }

    /** The {@code server.properties} of one node: Kafka's KRaft keys, the test defaults, then the builder's keys. */
    private Properties config(Node n) {
        Properties p = new Properties();
        p.setProperty("group.initial.rebalance.delay.ms", "0");
        p.setProperty("broker.session.timeout.ms", "3000");
        p.setProperty("broker.heartbeat.interval.ms", "500");
        p.setProperty("offsets.topic.replication.factor", "1");
        p.setProperty("transaction.state.log.replication.factor", "1");
        p.setProperty("transaction.state.log.min.isr", "1");
        p.putAll(n.extra);
        p.setProperty("process.roles", "broker,controller");
        p.setProperty("node.id", Integer.toString(n.id));
        p.setProperty("controller.quorum.voters", quorumVoters());
        p.setProperty("listeners", "PLAINTEXT://127.0.0.1:" + n.clientPort + ",CONTROLLER://127.0.0.1:" + n.controllerPort);
        p.setProperty("advertised.listeners", "PLAINTEXT://127.0.0.1:" + n.clientPort);
        p.setProperty("controller.listener.names", "CONTROLLER");
        p.setProperty("inter.broker.listener.name", "PLAINTEXT");
        p.setProperty("listener.security.protocol.map", "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT");
        p.setProperty("log.dirs", n.dataDir.toString());
        return p;
    }

    /**
     * Starts the given (stopped) nodes, one thread each, and waits for all of them: RunnelServer.start returns once
     * the node is registered and unfenced, which needs a majority of the voters running.
     */
    private void startNodes(Set<Integer> ids) {
        checkOpen();
        Map<Integer, CompletableFuture<RunnelServer>> starts = new LinkedHashMap<>();
        List<Thread> threads = new ArrayList<>();
        for (int id : ids) {
            Node n = entry(id);
            if (n.server != null) {
                throw new IllegalStateException("node " + id + " is already running");
            }
            CompletableFuture<RunnelServer> f = new CompletableFuture<>();
            starts.put(id, f);
            Properties props = config(n);
            Thread t = new Thread(() -> {
                try {
                    Files.createDirectories(n.dataDir);
                    f.complete(RunnelServer.start(BrokerConfig.fromProperties(props)));
                } catch (Throwable e) {
                    f.completeExceptionally(e);
                }
            }, "runnel-cluster-start-" + id);
            t.setDaemon(true);
            threads.add(t);
        }
        threads.forEach(Thread::start);
        long deadline = System.nanoTime() + timeout.toNanos();
        Throwable failure = null;
        for (Map.Entry<Integer, CompletableFuture<RunnelServer>> e : starts.entrySet()) {
            try {
                long left = Math.max(1, deadline - System.nanoTime());
                entry(e.getKey()).server = e.getValue().get(failure == null ? left : 1, TimeUnit.NANOSECONDS);
            } catch (ExecutionException ex) {
                failure = addFailure(failure, new IllegalStateException("Runnel node " + e.getKey() + " did not start: "
                        + ex.getCause().getMessage(), ex.getCause()));
            } catch (TimeoutException ex) {
                failure = addFailure(failure, new IllegalStateException("Runnel node " + e.getKey() + " did not start within "
                        + timeout + " (nodes " + ids + " were starting; a node's start returns once a majority of the "
                        + nodes.size() + " voters runs)"));
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                failure = addFailure(failure, new IllegalStateException("Interrupted while starting the cluster"));
            }
        }
        if (failure != null) {
            // Stop what did start and interrupt what is still waiting for a quorum; a start that completes later
            // closes its own server.
            for (Map.Entry<Integer, CompletableFuture<RunnelServer>> e : starts.entrySet()) {
                Node n = entry(e.getKey());
                RunnelServer s = n.server;
                n.server = null;
                if (s != null) {
                    s.close();
                }
                e.getValue().thenAccept(RunnelServer::close);
            }
            threads.forEach(Thread::interrupt);
            for (Thread t : threads) {
                try {
                    t.join(timeout.toMillis());
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            if (failure instanceof RuntimeException r) {
                throw r;
            }
            throw (Error) failure;
        }
    }

    private static Throwable addFailure(Throwable first, Throwable next) {
        if (first == null) {
            return next;
        }
        first.addSuppressed(next);
        return first;
    }

    // ------------------------------------------------------------------------------------------------ addresses

    /** The number of nodes (running or not). */
    public int size() {
        return nodes.size();
    }

    /** All node ids, 1..N. */
    public Set<Integer> nodeIds() {
        return new TreeSet<>(nodes.keySet());
    }

    /** The ids of the nodes that run now. */
    public Set<Integer> runningNodeIds() {
        return nodes.values().stream().filter(n -> n.server != null).map(n -> n.id).collect(Collectors.toCollection(TreeSet::new));
    }

    public boolean isRunning(int nodeId) {
        return entry(nodeId).server != null;
    }

    /**
     * Every node's client address, {@code 127.0.0.1:<p1>,127.0.0.1:<p2>,...}, stopped ones included (their ports are
     * kept): clients skip a bootstrap server that does not answer.
     */
    public String bootstrapServers() {
        return bootstrapServers(nodes.keySet().stream().mapToInt(Integer::intValue).toArray());
    }

    /** The client addresses of the given nodes only, e.g. {@code bootstrapServers(2)} or {@code bootstrapServers(1, 3)}. */
    public String bootstrapServers(int... nodeIds) {
        if (nodeIds.length == 0) {
            throw new IllegalArgumentException("name at least one node");
        }
        return Arrays.stream(nodeIds).mapToObj(id -> "127.0.0.1:" + entry(id).clientPort).collect(Collectors.joining(","));
    }

    /** The client addresses of the nodes that run now. */
    public String runningBootstrapServers() {
        return bootstrapServers(runningNodeIds().stream().mapToInt(Integer::intValue).toArray());
    }

    /** The client (PLAINTEXT) port of a node; the same across restarts. */
    public int port(int nodeId) {
        return entry(nodeId).clientPort;
    }

    /** The CONTROLLER port of a node (the metadata quorum's), for {@code kafka-metadata-quorum --bootstrap-controller}. */
    public int controllerPort(int nodeId) {
        return entry(nodeId).controllerPort;
    }

    /** The voters' CONTROLLER endpoints, comma-separated. */
    public String bootstrapControllers() {
        return nodes.values().stream().map(n -> "127.0.0.1:" + n.controllerPort).collect(Collectors.joining(","));
    }

    /** Where a node keeps its data ({@code log.dirs}); the same across restarts. */
    public Path dataDir(int nodeId) {
        return entry(nodeId).dataDir;
    }

    /** A running node's server, for what this class does not cover (its metadata image, metrics, topics). */
    public RunnelServer node(int nodeId) {
        RunnelServer s = entry(nodeId).server;
        if (s == null) {
            throw new IllegalStateException("node " + nodeId + " is not running");
        }
        return s;
    }

    private int nodeIdChecked(int nodeId) {
        if (!nodes.containsKey(nodeId)) {
            throw new IllegalArgumentException("no node " + nodeId + "; the nodes are " + nodes.keySet());
        }
        return nodeId;
    }

    private Node entry(int nodeId) {
        Node n = nodes.get(nodeId);
        if (n == null) {
            throw new IllegalArgumentException("no node " + nodeId + "; the nodes are " + nodes.keySet());
        }
        return n;
    }

    // ------------------------------------------------------------------------------------------------ the cluster's state

    /**
     * The active controller (the metadata quorum's leader) as a running node sees it, or -1 while there is none
     * (during an election). Right after the controller stopped, a node may still name it for a moment: use
     * {@link #awaitActiveController(Duration)} to wait for one that runs.
     */
    public int activeControllerId() {
        for (Node n : nodes.values()) {
            RunnelServer s = n.server;
            if (s != null && s.broker().cluster() != null) {
                int id = s.broker().cluster().controllerId();
                if (id > 0) {
                    return id;
                }
            }
        }
        return -1;
    }

    /**
     * Waits until every running node names the same active controller, one that runs, and returns its id; fails
     * with what each node said after {@code timeout}.
     */
    public int awaitActiveController(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Map<Integer, Integer> seen = new TreeMap<>();
            for (Node n : nodes.values()) {
                RunnelServer s = n.server;
                if (s != null && s.broker().cluster() != null) {
                    seen.put(n.id, s.broker().cluster().controllerId());
                }
            }
            Set<Integer> named = new TreeSet<>(seen.values());
            if (!seen.isEmpty() && named.size() == 1) {
                int id = named.iterator().next();
                if (id > 0 && isRunning(id)) {
                    return id;
                }
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("No active controller agreed on by the running nodes within " + timeout
                        + "; each node (id=controller it names, -1 none): " + seen);
            }
            LockSupport.parkNanos(RECHECK_NANOS);
        }
    }

    /** The ids of the registered, unfenced brokers, as the given running node's metadata has them. */
    public Set<Integer> liveBrokerIds(int nodeId) {
        ClusterNode c = clusterNode(nodeId);
        return c.liveBrokers().stream().map(BrokerRegistration::id).collect(Collectors.toCollection(TreeSet::new));
    }

    /** Waits until every running node lists exactly the running nodes as its live brokers (e.g. after a stop). */
    public void awaitBrokers(Duration timeout) {
        awaitBrokers(runningNodeIds(), timeout);
    }

    /** Waits until every running node lists exactly {@code brokerIds} as its live (unfenced) brokers. */
    public void awaitBrokers(Set<Integer> brokerIds, Duration timeout) {
        Set<Integer> expected = new TreeSet<>(brokerIds);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Map<Integer, Set<Integer>> seen = new TreeMap<>();
            for (int id : runningNodeIds()) {
                try {
                    seen.put(id, liveBrokerIds(id));
                } catch (IllegalStateException stoppedMeanwhile) {
                    // re-read on the next pass
                }
            }
            if (!seen.isEmpty() && seen.values().stream().allMatch(expected::equals)) {
                return;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("The running nodes do not all list brokers " + expected + " after " + timeout
                        + "; live brokers each node lists: " + seen);
            }
            LockSupport.parkNanos(RECHECK_NANOS);
        }
    }

    private void awaitBrokers(int count) {
        awaitBrokers(IntStream.rangeClosed(1, count).boxed().collect(Collectors.toSet()), timeout);
    }

    private ClusterNode clusterNode(int nodeId) {
        ClusterNode c = node(nodeId).broker().cluster();
        if (c == null) {
            throw new IllegalStateException("node " + nodeId + " is not a cluster node");
        }
        return c;
    }

    // ------------------------------------------------------------------------------------------------ topics

    /** Creates a topic unless it exists ({@code partitions} -1: {@code num.partitions}), replication factor 1. */
    public void createTopic(String name, int partitions) {
        createTopic(name, partitions, Map.of());
    }

    /**
     * Creates a topic unless it exists, through the active controller (from any running node), and returns once every
     * running node has it in its metadata. Invalid names or configs throw {@link IllegalArgumentException}.
     */
    public void createTopic(String name, int partitions, Map<String, String> configs) {
        createTopic(name, partitions, 1, configs);
    }

    /**
     * As {@link #createTopic(String, int, Map)} with a replication factor ({@code -1}: {@code default.replication.factor});
     * what the controller refuses (e.g. more replicas than brokers) throws with Kafka's error code.
     */
    public void createTopic(String name, int partitions, int replicationFactor, Map<String, String> configs) {
        if (replicationFactor < -1 || replicationFactor == 0 || replicationFactor > Short.MAX_VALUE) {
            throw new IllegalArgumentException("replication factor must be -1 or 1.." + Short.MAX_VALUE + ", got " + replicationFactor);
        }
        int via = runningNodeIds().stream().findFirst()
                .orElseThrow(() -> new IllegalStateException("no node of the cluster is running"));
        Errors result;
        try {
            result = ClusterTopicAdmin.ensureTopic(clusterNode(via), name, partitions, (short) replicationFactor,
                            new LinkedHashMap<>(configs))
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while creating topic " + name);
        } catch (ExecutionException | TimeoutException e) {
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            throw new IllegalStateException("Cannot create topic " + name + " through node " + via + ": " + cause, cause);
        }
        if (result != Errors.NONE && result != Errors.TOPIC_ALREADY_EXISTS) {
            throw new IllegalArgumentException("Cannot create topic " + name + ": " + result);
        }
        for (int id : runningNodeIds()) {
            try {
                MetadataImage img = clusterNode(id).awaitImage(i -> i.topic(name) != null, timeout.toMillis())
                        .get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
                TopicImage t = img.topic(name);
                LOG.debug("Topic {} ({} partitions) visible on node {}", name, t.partitionCount(), id);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("Interrupted while waiting for topic " + name);
            } catch (ExecutionException | TimeoutException e) {
                throw new IllegalStateException("Topic " + name + " was created but node " + id + " does not see it: " + e, e);
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ stopping, starting

    /**
     * Stops a node gracefully: controlled shutdown (the controller moves leadership off it), then its server closes
     * and its files are flushed and closed. Its ports and data are kept for {@link #start(int...)} or
     * {@link #restart(int)}. Stopping the active controller makes the others elect a new one.
     */
    public synchronized void stop(int nodeId) {
        Node n = entry(nodeId);
        RunnelServer s = n.server;
        if (s == null) {
            throw new IllegalStateException("node " + nodeId + " is not running");
        }
        n.server = null;
        long t0 = System.nanoTime();
        s.close();
        LOG.info("Embedded Runnel node {} stopped in {} ms", nodeId, (System.nanoTime() - t0) / 1_000_000);
    }

    /**
     * Stops a node the way a crash looks to the rest of the cluster: the node first leaves the metadata quorum
     * abruptly (its Raft server closes, so it votes, replicates and heartbeats no more) and only then closes, with no
     * controlled shutdown. The controller keeps it registered and unfenced, and the partitions it leads keep it as
     * their leader, until its session expires ({@code broker.session.timeout.ms}, 3 s here) and the controller fences
     * it; if it was the active controller the others elect one after their election timeout. Unlike {@code kill -9},
     * its files are still flushed and closed in order (this JVM goes on), so log recovery after a torn write is not
     * exercised: that needs the node as a process. Its ports and data are kept for {@link #start(int...)}.
     */
    public synchronized void kill(int nodeId) {
        Node n = entry(nodeId);
        RunnelServer s = n.server;
        if (s == null) {
            throw new IllegalStateException("node " + nodeId + " is not running");
        }
        n.server = null;
        long t0 = System.nanoTime();
        leaveQuorum(s);
        s.close();
        LOG.info("Embedded Runnel node {} killed (left the quorum, no controlled shutdown) in {} ms", nodeId,
                (System.nanoTime() - t0) / 1_000_000);
    }

    /**
     * Closes the node's metadata log (its Raft server and client): from then on the node takes no part in the quorum,
     * and a later close finds no controller to ask for a controlled shutdown, so it skips it.
     */
    private static void leaveQuorum(RunnelServer s) {
        ClusterNode c = s.broker().cluster();
        if (c != null && c.metadataLog() != null) {
            c.metadataLog().close();
        }
    }

    /**
     * Starts stopped nodes again on their ports and data directories, concurrently, and returns once each is
     * registered and unfenced and every running node lists all running brokers. A node's start needs a majority of
     * the voters running: after stopping two nodes of three, start both in one call.
     */
    public synchronized void start(int... nodeIds) {
        Set<Integer> ids = new TreeSet<>();
        for (int id : nodeIds) {
            ids.add(nodeIdChecked(id));
        }
        if (ids.isEmpty()) {
            throw new IllegalArgumentException("name at least one node");
        }
        long t0 = System.nanoTime();
        startNodes(ids);
        awaitBrokers(timeout);
        LOG.info("Embedded Runnel nodes {} started in {} ms", ids, (System.nanoTime() - t0) / 1_000_000);
    }

    /** {@link #stop(int)} (if it runs) then {@link #start(int...)}: the node comes back with its data, on its ports. */
    public synchronized void restart(int nodeId) {
        if (isRunning(nodeId)) {
            stop(nodeId);
        }
        start(nodeId);
    }

    /**
     * Stops every running node (all at once, without controlled shutdown since the whole cluster goes) and, unless
     * the data directory was given, deletes the data. Idempotent.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        long t0 = System.nanoTime();
        // The whole cluster goes: a controlled shutdown (leadership moved to a broker that stops next) would only
        // wait for a quorum that is going away too. So every node first leaves the quorum, then closes; both steps
        // run on all nodes at once.
        Map<Integer, RunnelServer> running = new TreeMap<>();
        for (Node n : nodes.values()) {
            RunnelServer s = n.server;
            n.server = null;
            if (s != null) {
                running.put(n.id, s);
            }
        }
        onEach(running, "leave-quorum", EmbeddedRunnelCluster::leaveQuorum);
        onEach(running, "stop", RunnelServer::close);
        if (deleteRoot) {
            EmbeddedRunnel.deleteRecursively(root, "cluster's data directory");
        }
        LOG.info("Embedded Runnel cluster of {} nodes closed in {} ms", nodes.size(), (System.nanoTime() - t0) / 1_000_000);
    }

    /** Runs {@code action} on every server, one thread each, and waits (bounded) for all of them. */
    private void onEach(Map<Integer, RunnelServer> servers, String what, java.util.function.Consumer<RunnelServer> action) {
        List<Thread> threads = new ArrayList<>();
        servers.forEach((id, s) -> {
            Thread t = new Thread(() -> {
                try {
                    action.accept(s);
                } catch (RuntimeException e) {
                    LOG.warn("Node {}: {} failed: {}", id, what, e.toString());
                }
            }, "runnel-cluster-" + what + "-" + id);
            t.setDaemon(true);
            threads.add(t);
        });
        threads.forEach(Thread::start);
        long deadline = System.nanoTime() + timeout.toNanos();
        for (Thread t : threads) {
            try {
                t.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (t.isAlive()) {
                LOG.warn("{} still running after {}", t.getName(), timeout);
            }
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the cluster is closed");
        }
    }

    @Override
    public String toString() {
        return "EmbeddedRunnelCluster[" + nodes.values().stream()
                .map(n -> n.id + "=127.0.0.1:" + n.clientPort + (n.server == null ? " (stopped)" : ""))
                .collect(Collectors.joining(", ")) + ", data in " + root + "]";
    }
}
