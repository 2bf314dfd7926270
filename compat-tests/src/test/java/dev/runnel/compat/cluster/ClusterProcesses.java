package dev.runnel.compat.cluster;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.Channels;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.LifecycleMethodExecutionExceptionHandler;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * N Runnel nodes as child JVMs on loopback ({@code java -cp <test classpath> dev.runnel.broker.Main nI.properties}),
 * configured with Kafka's KRaft keys ({@code process.roles}, {@code node.id}, {@code controller.quorum.voters},
 * {@code listeners}, ...), each with its own free client and controller port and its own {@code log.dirs}. A node can
 * be given another address and a command prefix instead ({@link Builder#host}, {@link Builder#commandPrefix}), e.g. to
 * run it in a network namespace of its own ({@code NetworkPartitionTest}).
 *
 * <p>Node ids are 1..N. All nodes are started together ({@link #start()} spawns every JVM first, then waits): a lone
 * voter cannot finish an election, so waiting for one node before starting the next would deadlock. A node counts as
 * started when its output of the current life contains {@value #STARTED_LINE} and, if it has the broker role, its
 * client port accepts a TCP connection. Every wait has a deadline ({@link #START_DEADLINE}, {@link #STOP_DEADLINE}).
 *
 * <p>Use it as a JUnit extension on a static field (started before the class's tests, killed after them, and on a
 * failed test the tail of every node's output is printed), or by hand with try-with-resources:
 *
 * <pre>
 * &#64;RegisterExtension
 * static final ClusterProcesses cluster = ClusterProcesses.threeNodes();
 *
 * try (ClusterProcesses cluster = ClusterProcesses.builder().roles(COMBINED, COMBINED, BROKER).build()) {
 *     cluster.start();
 *     ...
 * }
 * </pre>
 *
 * A node whose roles are {@code null} gets no {@code process.roles} and no controller keys at all: today's
 * single-node broker (used by {@code ClusterProcessesSelfTest}).
 *
 * <p>Each node's output goes to one file for all its lives ({@code <home>/node.out}, a {@code === life N ===} line
 * before each), so a test can read what a node said during a start that failed. Set {@code -Drunnel.cluster.keep=true}
 * to keep the directories after the run.
 */
public final class ClusterProcesses implements AutoCloseable, BeforeAllCallback, AfterAllCallback, TestWatcher,
        LifecycleMethodExecutionExceptionHandler {

    /** {@code process.roles} of a node that is both a broker and a voter (Kafka's "combined" mode). */
    public static final String COMBINED = "broker,controller";
    /** {@code process.roles} of a broker that is not a voter (it follows the metadata log). */
    public static final String BROKER = "broker";
    /** {@code process.roles} of a voter that serves no clients. */
    public static final String CONTROLLER = "controller";

    /** The line a node prints once it listens. */
    public static final String STARTED_LINE = "started in";
    public static final Duration START_DEADLINE = Duration.ofSeconds(60);
    public static final Duration STOP_DEADLINE = Duration.ofSeconds(60);
    private static final Duration KILL_DEADLINE = Duration.ofSeconds(30);
    private static final long RECHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(25);
    private static final int TAIL_LINES = 60;
    private static final String LOOPBACK = "127.0.0.1";

    private final Path root;
    private final Map<Integer, Node> nodes;
    private boolean closed;

    private ClusterProcesses(Path root, Map<Integer, Node> nodes) {
        this.root = root;
        this.nodes = nodes;
    }

    /** Three {@code broker,controller} nodes (not yet started). */
    public static ClusterProcesses threeNodes() {
        return builder().roles(COMBINED, COMBINED, COMBINED).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Sets up nodes before they are built: roles, extra {@code server.properties} keys, JVM options. */
    public static final class Builder {
        private final List<String> roles = new ArrayList<>(List.of(COMBINED, COMBINED, COMBINED));
        private final Properties common = new Properties();
        private final Map<Integer, Properties> perNode = new TreeMap<>();
        private final List<String> jvmOptions = new ArrayList<>();
        private final Map<Integer, String> hosts = new TreeMap<>();
        private final Map<Integer, List<String>> commandPrefixes = new TreeMap<>();

        private Builder() {
        }

        /** One entry per node, node ids 1..N in order; {@code null} = no {@code process.roles} (a single legacy node). */
        public Builder roles(String... rolesPerNode) {
            if (rolesPerNode.length == 0) {
                throw new IllegalArgumentException("at least one node");
            }
            roles.clear();
            roles.addAll(Arrays.asList(rolesPerNode));
            return this;
        }

        /** N {@code broker,controller} nodes. */
        public Builder combined(int count) {
            String[] r = new String[count];
            Arrays.fill(r, COMBINED);
            return roles(r);
        }

        /** A {@code server.properties} key for every node (overrides the harness's defaults). */
        public Builder with(String key, String value) {
            common.setProperty(key, value);
            return this;
        }

        /** A {@code server.properties} key for one node. */
        public Builder with(int nodeId, String key, String value) {
            perNode.computeIfAbsent(nodeId, id -> new Properties()).setProperty(key, value);
            return this;
        }

        public Builder jvmOption(String option) {
            jvmOptions.add(option);
            return this;
        }

        /**
         * The address one node binds, advertises and is reached at (its listeners, {@code advertised.listeners}, its
         * entry in {@code controller.quorum.voters}, {@link Node#bootstrap()}); {@code 127.0.0.1} unless set. E.g. the
         * node's address inside a network namespace of its own.
         */
        public Builder host(int nodeId, String address) {
            hosts.put(nodeId, address);
            return this;
        }

        /**
         * Words put before {@code java} in one node's command line, e.g. {@code ip netns exec <namespace>}. The prefix
         * must exec the JVM in place (as {@code ip netns exec} does), so that the process's pid is the JVM's and
         * {@link #kill9}, {@link #pause} and {@link #terminate} reach the JVM.
         */
        public Builder commandPrefix(int nodeId, String... words) {
            commandPrefixes.put(nodeId, List.of(words));
            return this;
        }

        /** Allocates the ports and directories; nothing runs until {@link ClusterProcesses#start()}. */
        public ClusterProcesses build() {
            try {
                Path root = Files.createTempDirectory("runnel-cluster-");
                int[] ports = freePorts(2 * roles.size());
                Map<Integer, Node> nodes = new LinkedHashMap<>();
                for (int i = 0; i < roles.size(); i++) {
                    int id = i + 1;
                    Properties extra = new Properties();
                    extra.putAll(common);
                    extra.putAll(perNode.getOrDefault(id, new Properties()));
                    nodes.put(id, new Node(id, roles.get(i), ports[2 * i], ports[2 * i + 1], root.resolve("n" + id),
                            extra, List.copyOf(jvmOptions), hosts.getOrDefault(id, LOOPBACK),
                            commandPrefixes.getOrDefault(id, List.of())));
                }
                for (Integer id : perNode.keySet()) {
                    if (!nodes.containsKey(id)) {
                        throw new IllegalArgumentException("no node " + id + " for its properties " + perNode.get(id));
                    }
                }
                for (Integer id : hosts.keySet()) {
                    if (!nodes.containsKey(id)) {
                        throw new IllegalArgumentException("no node " + id + " for its host " + hosts.get(id));
                    }
                }
                for (Integer id : commandPrefixes.keySet()) {
                    if (!nodes.containsKey(id)) {
                        throw new IllegalArgumentException("no node " + id + " for its command prefix " + commandPrefixes.get(id));
                    }
                }
                ClusterProcesses cluster = new ClusterProcesses(root, nodes);
                for (Node node : nodes.values()) {
                    Files.createDirectories(node.logDir());
                    node.quorumVoters = cluster.quorumVoters();
                }
                System.out.println("[cluster] built " + cluster.describe());
                return cluster;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** Distinct free loopback ports: all bound at once, so none is handed out twice. */
    static int[] freePorts(int count) throws IOException {
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
        } finally {
            for (ServerSocket s : sockets) {
                s.close();
            }
        }
    }

    // ------------------------------------------------------------------ the nodes

    /** One node: its ports, directories, config, output and current process. */
    public static final class Node {
        private final int id;
        private final String roles;
        private final int clientPort;
        private final int controllerPort;
        private final Path home;
        private final Path logDir;
        private final Path configFile;
        private final Path outputFile;
        private final Properties extra;
        private final List<String> jvmOptions;
        private final String host;
        private final List<String> commandPrefix;
        private String quorumVoters;
        private Process process;
        private int lives;
        private long lifeStartOffset;
        private long spawnedAtNanos;
        private boolean paused;

        private Node(int id, String roles, int clientPort, int controllerPort, Path home, Properties extra,
                     List<String> jvmOptions, String host, List<String> commandPrefix) {
            this.id = id;
            this.roles = roles;
            this.clientPort = clientPort;
            this.controllerPort = controllerPort;
            this.home = home;
            this.logDir = home.resolve("data");
            this.configFile = home.resolve("n" + id + ".properties");
            this.outputFile = home.resolve("node.out");
            this.extra = extra;
            this.jvmOptions = jvmOptions;
            this.host = host;
            this.commandPrefix = commandPrefix;
        }

        public int id() {
            return id;
        }

        /** {@code process.roles}, or null for a node configured without it (today's single node). */
        public String roles() {
            return roles;
        }

        /** Serves clients: roles contain {@code broker}, or no roles at all (the single-node default). */
        public boolean isBroker() {
            return roles == null || Arrays.asList(roles.split(",")).contains("broker");
        }

        /** Is one of {@code controller.quorum.voters}. */
        public boolean isVoter() {
            return roles != null && Arrays.asList(roles.split(",")).contains("controller");
        }

        /** The PLAINTEXT listener's port (allocated even for a controller-only node, which does not use it). */
        public int clientPort() {
            return clientPort;
        }

        /** The CONTROLLER listener's port (allocated for every node, used only by voters). */
        public int controllerPort() {
            return controllerPort;
        }

        /** The address this node binds and advertises: {@code 127.0.0.1} unless the builder set another. */
        public String host() {
            return host;
        }

        /** {@code <host>:<client port>} ({@code 127.0.0.1:<client port>} by default): this node alone as a bootstrap server. */
        public String bootstrap() {
            return host + ":" + clientPort;
        }

        /** {@code <host>:<controller port>}: for {@code --bootstrap-controller}. */
        public String controllerEndpoint() {
            return host + ":" + controllerPort;
        }

        public Path home() {
            return home;
        }

        /** This node's {@code log.dirs} (one directory); the same for all its lives. */
        public Path logDir() {
            return logDir;
        }

        /** Kafka's {@code meta.properties} in this node's log directory. */
        public Path metaPropertiesFile() {
            return logDir.resolve("meta.properties");
        }

        /** The properties file the node is started with (written at every start). */
        public Path configFile() {
            return configFile;
        }

        /** Everything the node printed, all lives, one file. */
        public Path outputFile() {
            return outputFile;
        }

        public synchronized boolean isAlive() {
            return process != null && process.isAlive();
        }

        public synchronized long pid() {
            if (process == null) {
                throw new IllegalStateException("node " + id + " was never started");
            }
            return process.pid();
        }

        /** The exit code of the current life, empty while it runs (or before the first start). */
        public synchronized Optional<Integer> exitCode() {
            return process == null || process.isAlive() ? Optional.empty() : Optional.of(process.exitValue());
        }

        public synchronized int lives() {
            return lives;
        }

        public synchronized boolean isPaused() {
            return paused;
        }

        /** Everything the node printed in all its lives. */
        public String output() {
            return readFrom(0);
        }

        /** What the node printed since the start of its current life. */
        public String outputOfThisLife() {
            long from;
            synchronized (this) {
                from = lifeStartOffset;
            }
            return readFrom(from);
        }

        public String tail(int lines) {
            String[] all = output().split("\n");
            return String.join("\n", Arrays.asList(all).subList(Math.max(0, all.length - lines), all.length));
        }

        /** The node's {@code meta.properties}, or empty properties if there is none. */
        public Properties readMetaProperties() throws IOException {
            Properties p = new Properties();
            if (Files.exists(metaPropertiesFile())) {
                try (var r = Files.newBufferedReader(metaPropertiesFile(), StandardCharsets.UTF_8)) {
                    p.load(r);
                }
            }
            return p;
        }

        private String readFrom(long offset) {
            if (!Files.exists(outputFile)) {
                return "";
            }
            try (SeekableByteChannel ch = Files.newByteChannel(outputFile, StandardOpenOption.READ)) {
                ch.position(Math.min(offset, ch.size()));
                try (InputStream in = Channels.newInputStream(ch)) {
                    return new String(in.readAllBytes(), StandardCharsets.UTF_8);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** The {@code server.properties} this node runs with: Kafka's KRaft keys plus the builder's extras. */
        public Properties config() {
            Properties p = new Properties();
            p.setProperty("node.id", Integer.toString(id));
            p.setProperty("log.dirs", logDir.toString());
            p.setProperty("group.initial.rebalance.delay.ms", "0");
            if (roles == null) {
                p.setProperty("listeners", "PLAINTEXT://" + host + ":" + clientPort);
            } else {
                p.setProperty("process.roles", roles);
                p.setProperty("controller.quorum.voters", quorumVoters);
                List<String> listeners = new ArrayList<>();
                if (isBroker()) {
                    listeners.add("PLAINTEXT://" + host + ":" + clientPort);
                    p.setProperty("advertised.listeners", "PLAINTEXT://" + host + ":" + clientPort);
                    p.setProperty("inter.broker.listener.name", "PLAINTEXT");
                }
                if (isVoter()) {
                    listeners.add("CONTROLLER://" + host + ":" + controllerPort);
                }
                p.setProperty("listeners", String.join(",", listeners));
                p.setProperty("controller.listener.names", "CONTROLLER");
                p.setProperty("listener.security.protocol.map", "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT");
                // As Kafka's shipped config/server.properties: internal topics that fit a small cluster (and a
                // cluster without partition replication yet).
                p.setProperty("offsets.topic.replication.factor", "1");
                p.setProperty("transaction.state.log.replication.factor", "1");
                p.setProperty("transaction.state.log.min.isr", "1");
            }
            p.putAll(extra);
            return p;
        }

        private void writeConfig() throws IOException {
            Files.createDirectories(home);
            try (Writer w = Files.newBufferedWriter(configFile, StandardCharsets.UTF_8)) {
                w.write("# node " + id + " of a loopback cluster, written by " + ClusterProcesses.class.getSimpleName() + "\n");
                for (Map.Entry<String, String> e : new TreeMap<>(toMap(config())).entrySet()) {
                    w.write(e.getKey() + "=" + e.getValue() + "\n");
                }
            }
        }

        private synchronized void spawn() throws IOException {
            if (isAlive()) {
                throw new IllegalStateException("node " + id + " already running, pid " + process.pid());
            }
            Files.createDirectories(logDir);
            writeConfig();
            String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
            List<String> command = new ArrayList<>(commandPrefix);
            command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            command.add("-Xmx256m");
            command.add("-XX:+UseSerialGC");
            command.add("-XX:TieredStopAtLevel=1");
            command.add("-Xshare:auto");
            command.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=info");
            command.add("-Dorg.slf4j.simpleLogger.showDateTime=true");
            command.addAll(jvmOptions);
            command.add("-cp");
            command.add(classpath);
            command.add("dev.runnel.broker.Main");
            command.add(configFile.toString());
            lives++;
            lifeStartOffset = Files.exists(outputFile) ? Files.size(outputFile) : 0;
            Files.writeString(outputFile, "=== life " + lives + " ===\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            spawnedAtNanos = System.nanoTime();
            paused = false;
            process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(outputFile.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .start();
            System.out.printf("[cluster] node %d (%s) life %d spawned, pid %d, config %s%s%n", id, rolesText(), lives,
                    process.pid(), configFile, commandPrefix.isEmpty() ? "" : ", through '" + String.join(" ", commandPrefix) + "'");
        }

        /** True once this life printed {@value #STARTED_LINE} and (for a broker) its client port accepts connections. */
        private boolean started() {
            if (!outputOfThisLife().contains(STARTED_LINE)) {
                return false;
            }
            if (!isBroker()) {
                return true;
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(host, clientPort), 1000);
                return true;
            } catch (IOException notYet) {
                return false;
            }
        }

        private String rolesText() {
            return roles == null ? "no process.roles" : "process.roles=" + roles;
        }

        @Override
        public String toString() {
            return "node " + id + " (" + rolesText() + ", client " + (isBroker() ? bootstrap() : "-")
                    + ", controller " + (isVoter() ? controllerEndpoint() : "-") + ", " + logDir + ")";
        }
    }

    private static Map<String, String> toMap(Properties p) {
        Map<String, String> m = new TreeMap<>();
        for (String k : p.stringPropertyNames()) {
            m.put(k, p.getProperty(k));
        }
        return m;
    }

    // ------------------------------------------------------------------ the cluster

    public Node node(int id) {
        Node n = nodes.get(id);
        if (n == null) {
            throw new IllegalArgumentException("no node " + id + "; nodes are " + nodes.keySet());
        }
        return n;
    }

    public List<Node> nodes() {
        return List.copyOf(nodes.values());
    }

    public Set<Integer> nodeIds() {
        return new LinkedHashSet<>(nodes.keySet());
    }

    /** Ids of the nodes with the broker role. */
    public Set<Integer> brokerIds() {
        return nodes.values().stream().filter(Node::isBroker).map(Node::id).collect(Collectors.toCollection(LinkedHashSet::new));
    }

    /** Ids of the voters. */
    public Set<Integer> voterIds() {
        return nodes.values().stream().filter(Node::isVoter).map(Node::id).collect(Collectors.toCollection(LinkedHashSet::new));
    }

    /** {@code controller.quorum.voters} as every node is given it: {@code 1@127.0.0.1:<c1>,...} (each node's host). */
    public String quorumVoters() {
        return nodes.values().stream().filter(Node::isVoter).map(n -> n.id() + "@" + n.controllerEndpoint())
                .collect(Collectors.joining(","));
    }

    /** Every broker node's client endpoint, comma-separated: a bootstrap list of the whole cluster. */
    public String bootstrapServers() {
        return bootstrapOf(brokerIds());
    }

    /** The bootstrap list of the given nodes only. */
    public String bootstrapServers(int... ids) {
        return bootstrapOf(Arrays.stream(ids).boxed().toList());
    }

    /** The bootstrap list of every broker node except the given ones (e.g. the survivors of a kill). */
    public String bootstrapServersExcept(int... ids) {
        Set<Integer> left = brokerIds();
        Arrays.stream(ids).forEach(left::remove);
        return bootstrapOf(left);
    }

    /** One node's client endpoint. */
    public String bootstrap(int id) {
        return node(id).bootstrap();
    }

    /** The voters' CONTROLLER endpoints, for {@code kafka-metadata-quorum --bootstrap-controller}. */
    public String controllerBootstrap() {
        return nodes.values().stream().filter(Node::isVoter).map(Node::controllerEndpoint).collect(Collectors.joining(","));
    }

    private String bootstrapOf(Collection<Integer> ids) {
        return ids.stream().map(this::node).map(Node::bootstrap).collect(Collectors.joining(","));
    }

    /** Writes every node's properties file without starting anything (start() writes them again). */
    public void writeConfigs() throws IOException {
        for (Node n : nodes.values()) {
            n.writeConfig();
        }
    }

    /**
     * Spawns every node, all before waiting for any (a lone voter cannot win an election), then waits until each
     * has started; fails with the tail of every node's output if one exits or {@link #START_DEADLINE} passes.
     */
    public ClusterProcesses start() throws IOException {
        long t0 = System.nanoTime();
        for (Node n : nodes.values()) {
            n.spawn();
        }
        awaitStarted(nodes.keySet());
        System.out.printf("[cluster] all %d nodes started in %d ms (spawn of the first to the last listening)%n",
                nodes.size(), (System.nanoTime() - t0) / 1_000_000);
        return this;
    }

    /** Starts one node's next life without waiting (e.g. one expected to refuse to start). */
    public Node spawn(int id) throws IOException {
        Node n = node(id);
        n.spawn();
        return n;
    }

    /** Waits until each of the given nodes has started in its current life (one shared deadline). */
    public void awaitStarted(Collection<Integer> ids) throws IOException {
        long deadline = System.nanoTime() + START_DEADLINE.toNanos();
        long maxChecks = START_DEADLINE.toNanos() / RECHECK_NANOS + 100;
        Set<Integer> pending = new LinkedHashSet<>(ids);
        for (long check = 0; !pending.isEmpty(); check++) {
            for (var it = pending.iterator(); it.hasNext(); ) {
                Node n = node(it.next());
                if (n.started()) {
                    System.out.printf("[cluster] node %d started (life %d) %d ms after its spawn: %s%n", n.id(),
                            n.lives(), (System.nanoTime() - n.spawnedAtNanos) / 1_000_000, n);
                    it.remove();
                } else if (!n.isAlive()) {
                    throw new IOException("node " + n.id() + " exited with " + n.exitCode().orElse(null)
                            + " during start-up (waiting for " + pending + ")\n" + tails(TAIL_LINES));
                }
            }
            if (pending.isEmpty()) {
                return;
            }
            if (System.nanoTime() - deadline > 0 || check > maxChecks) {
                throw new IOException("nodes " + pending + " did not start within " + START_DEADLINE
                        + " (no '" + STARTED_LINE + "' line or client port closed)\n" + tails(TAIL_LINES));
            }
            LockSupport.parkNanos(RECHECK_NANOS);
        }
    }

    public void awaitStarted(int... ids) throws IOException {
        awaitStarted(Arrays.stream(ids).boxed().toList());
    }

    /** Waits until the node's current life ends; returns its exit code or fails after {@code timeout}. */
    public int awaitExit(int id, Duration timeout) throws InterruptedException {
        Node n = node(id);
        Process p;
        synchronized (n) {
            p = n.process;
        }
        if (p == null) {
            throw new IllegalStateException("node " + id + " was never started");
        }
        long t0 = System.nanoTime();
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("node " + id + " (pid " + p.pid() + ") still running " + timeout
                    + " later; its output of this life:\n" + lastLines(n.outputOfThisLife(), TAIL_LINES));
        }
        System.out.printf("[cluster] node %d (pid %d) exited with %d, %d ms after we started waiting%n", id, p.pid(),
                p.exitValue(), (System.nanoTime() - t0) / 1_000_000);
        return p.exitValue();
    }

    /** SIGKILL (kill -9): no shutdown hook, nothing flushed or handed over. Returns the exit code (137). */
    public int kill9(int id) throws InterruptedException {
        Node n = node(id);
        Process p;
        synchronized (n) {
            p = n.process;
            n.paused = false;
        }
        if (p == null || !p.isAlive()) {
            throw new IllegalStateException("node " + id + " is not running");
        }
        long t0 = System.nanoTime();
        p.destroyForcibly();
        if (!p.waitFor(KILL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("node " + id + " pid " + p.pid() + " did not go away after SIGKILL");
        }
        System.out.printf("[cluster] node %d (pid %d) killed -9: exit %d after %d ms%n", id, p.pid(), p.exitValue(),
                (System.nanoTime() - t0) / 1_000_000);
        return p.exitValue();
    }

    /**
     * SIGTERM (resuming a paused node first) and wait for the exit: the node's graceful (controlled) shutdown.
     * Fails if the node has not exited after {@link #STOP_DEADLINE} (it is then killed). Returns the exit code.
     */
    public int terminate(int id) throws IOException, InterruptedException {
        Node n = node(id);
        if (n.isPaused()) {
            resume(id);
        }
        Process p;
        synchronized (n) {
            p = n.process;
        }
        if (p == null || !p.isAlive()) {
            throw new IllegalStateException("node " + id + " is not running");
        }
        long t0 = System.nanoTime();
        p.destroy();
        if (!p.waitFor(STOP_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly().waitFor(KILL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
            throw new AssertionError("node " + id + " did not stop within " + STOP_DEADLINE + " after SIGTERM:\n"
                    + n.tail(TAIL_LINES));
        }
        System.out.printf("[cluster] node %d (pid %d) stopped by SIGTERM in %d ms, exit %d%n", id, p.pid(),
                (System.nanoTime() - t0) / 1_000_000, p.exitValue());
        return p.exitValue();
    }

    /** SIGSTOP: the node freezes (its sockets stay open, nothing answers) until {@link #resume(int)}. */
    public void pause(int id) throws IOException, InterruptedException {
        signal(id, "-STOP");
        synchronized (node(id)) {
            node(id).paused = true;
        }
    }

    /** SIGCONT after {@link #pause(int)}. */
    public void resume(int id) throws IOException, InterruptedException {
        signal(id, "-CONT");
        synchronized (node(id)) {
            node(id).paused = false;
        }
    }

    private void signal(int id, String signal) throws IOException, InterruptedException {
        Node n = node(id);
        if (!n.isAlive()) {
            throw new IllegalStateException("node " + id + " is not running");
        }
        long pid = n.pid();
        Process kill = new ProcessBuilder("kill", signal, Long.toString(pid)).redirectErrorStream(true).start();
        if (!kill.waitFor(10, TimeUnit.SECONDS)) {
            kill.destroyForcibly();
            throw new IOException("kill " + signal + " " + pid + " did not return");
        }
        String said = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (kill.exitValue() != 0) {
            throw new IOException("kill " + signal + " " + pid + " exited " + kill.exitValue() + ": " + said);
        }
        System.out.printf("[cluster] node %d (pid %d) sent SIG%s%n", id, pid, signal.substring(1));
    }

    /**
     * Starts the node again on the same ports and log directory (after SIGTERM if it still runs) and waits until it
     * has started.
     */
    public Node restart(int id) throws IOException, InterruptedException {
        Node n = node(id);
        if (n.isAlive()) {
            terminate(id);
        }
        n.spawn();
        awaitStarted(id);
        return n;
    }

    /** The last lines of every node's output, for a failure report. */
    public String tails(int lines) {
        StringBuilder sb = new StringBuilder();
        for (Node n : nodes.values()) {
            sb.append("----- ").append(n).append(", ")
                    .append(n.isAlive() ? "running, pid " + n.pid() : "not running, exit " + n.exitCode().orElse(null))
                    .append(", last ").append(lines).append(" lines of ").append(n.outputFile()).append(" -----\n")
                    .append(n.tail(lines)).append('\n');
        }
        return sb.toString();
    }

    public void printTails() {
        System.out.println("[cluster] output of each node:\n" + tails(TAIL_LINES));
    }

    /** Runs {@code body}; if it fails, prints the tail of every node's output first (for hand-driven clusters). */
    public void printingTailsOnFailure(Body body) throws Exception {
        try {
            body.run();
        } catch (Exception | AssertionError e) {
            printTails();
            throw e;
        }
    }

    @FunctionalInterface
    public interface Body {
        void run() throws Exception;
    }

    public String describe() {
        return nodes.values().stream().map(Node::toString).collect(Collectors.joining("; ", "[", "]"))
                + " controller.quorum.voters=" + quorumVoters();
    }

    /** Kills every node (SIGKILL) and deletes the directories (unless -Drunnel.cluster.keep=true). Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Node n : nodes.values()) {
            Process p;
            synchronized (n) {
                p = n.process;
            }
            if (p != null && p.isAlive()) {
                p.destroyForcibly();
                try {
                    if (!p.waitFor(KILL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)) {
                        System.out.println("[cluster] node " + n.id() + " pid " + p.pid() + " did not go away");
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        if (Boolean.getBoolean("runnel.cluster.keep")) {
            System.out.println("[cluster] keeping " + root);
        } else {
            deleteRecursively(root);
        }
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        try {
            start();
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        close();
    }

    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
        System.out.println("[cluster] " + context.getDisplayName() + " failed: " + cause);
        printTails();
    }

    /** A failing {@code @BeforeAll} (e.g. a cluster that never formed) fails no test method: print the tails here. */
    @Override
    public void handleBeforeAllMethodExecutionException(ExtensionContext context, Throwable cause) throws Throwable {
        System.out.println("[cluster] @BeforeAll of " + context.getDisplayName() + " failed: " + cause);
        printTails();
        throw cause;
    }

    @Override
    public void handleBeforeEachMethodExecutionException(ExtensionContext context, Throwable cause) throws Throwable {
        System.out.println("[cluster] @BeforeEach of " + context.getDisplayName() + " failed: " + cause);
        printTails();
        throw cause;
    }

    static String lastLines(String text, int lines) {
        String[] all = text.split("\n");
        return String.join("\n", Arrays.asList(all).subList(Math.max(0, all.length - lines), all.length));
    }

    static void deleteRecursively(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            System.out.println("[cluster] could not delete " + dir + ": " + e);
        }
    }
}
