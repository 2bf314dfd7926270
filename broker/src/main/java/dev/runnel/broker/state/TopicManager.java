package dev.runnel.broker.state;

import dev.runnel.broker.BrokerConfig;
import dev.runnel.wire.Errors;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The topics of this node: names, ids, partition counts, config overrides, and each partition's log.
 * Topic metadata is kept in {@code <log.dir>/.runnel-topics/<topic>.properties}; partition data in Kafka's
 * layout {@code <log.dir>/<topic>-<partition>/}.
 */
public final class TopicManager implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TopicManager.class);
    private static final Pattern LEGAL = Pattern.compile("[a-zA-Z0-9._-]+");
    public static final int MAX_NAME_LENGTH = 249;

    /** The broker configuration in force (dynamic broker configs included). */
    private final java.util.function.Supplier<BrokerConfig> config;
    private final Path dataDir;
    private final Path metaDir;
    private final Map<String, Topic> topics = new ConcurrentHashMap<>();
    private final Map<UUID, Topic> byId = new ConcurrentHashMap<>();
    private final List<java.util.function.Consumer<Topic>> deletionListeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    private TopicManager(java.util.function.Supplier<BrokerConfig> config) {
        this.config = config;
        this.dataDir = config.get().logDirs().get(0);
        this.metaDir = dataDir.resolve(".runnel-topics");
    }

    /**
     * Runnel's default for {@code num.recovery.threads.per.data.dir} (Kafka's is 1): opening a partition after a
     * crash is mostly waiting for fsyncs, so several at once shorten a restart with many partitions.
     */
    static final int DEFAULT_RECOVERY_THREADS = 8;

    public static TopicManager open(BrokerConfig config) throws IOException {
        return open(() -> config);
    }

    /**
     * Opens the topics of the log directory; {@code config} gives the broker configuration in force each time a
     * partition log's settings are worked out (see {@link #brokerDefaultsChanged()}).
     */
    public static TopicManager open(java.util.function.Supplier<BrokerConfig> configInForce) throws IOException {
        TopicManager tm = new TopicManager(configInForce);
        BrokerConfig config = configInForce.get();
        Files.createDirectories(tm.metaDir);
        String v = config.get("num.recovery.threads.per.data.dir");
        int threads = v == null || v.isBlank() ? DEFAULT_RECOVERY_THREADS : Math.max(1, Integer.parseInt(v.trim()));
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "runnel-log-recovery");
            t.setDaemon(true);
            return t;
        });
        try (Stream<Path> files = Files.list(tm.metaDir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".properties")).sorted().toList()) {
                tm.load(f, pool);
            }
        } finally {
            pool.shutdownNow();
        }
        return tm;
    }

    /** Loads a topic, opening its partitions on {@code pool} (each log is independent of the others). */
    private void load(Path f, java.util.concurrent.ExecutorService pool) throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(f)) {
            p.load(r);
        }
        String name = p.getProperty("name");
        UUID id = UUID.fromString(p.getProperty("id"));
        int partitions = Integer.parseInt(p.getProperty("partitions"));
        Map<String, String> overrides = new TreeMap<>();
        for (String k : p.stringPropertyNames()) {
            if (k.startsWith("config.")) {
                overrides.put(k.substring("config.".length()), p.getProperty(k));
            }
        }
        Topic t = new Topic(name, id, Boolean.parseBoolean(p.getProperty("internal", "false")), overrides);
        List<java.util.concurrent.Future<Partition>> opening = new java.util.ArrayList<>(partitions);
        for (int i = 0; i < partitions; i++) {
            int index = i;
            opening.add(pool.submit(() -> openPartition(t, index)));
        }
        IOException failure = null;
        for (java.util.concurrent.Future<Partition> fut : opening) {
            try {
                Partition opened = fut.get();
                if (failure == null) {
                    t.addPartition(opened);
                } else {
                    closeQuietly(opened);
                }
            } catch (java.util.concurrent.ExecutionException e) {
                if (failure == null) {
                    failure = e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("Interrupted while opening " + name, e);
            }
        }
        if (failure != null) {
            for (Partition opened : t.partitions()) {
                closeQuietly(opened);
            }
            throw failure;
        }
        topics.put(name, t);
        byId.put(id, t);
    }

    private static void closeQuietly(Partition p) {
        try {
            p.log().close();
        } catch (IOException | RuntimeException e) {
            LOG.warn("Closing {} after a failed start failed: {}", p, e.toString());
        }
    }

    private void store(Topic t) {
        Properties p = new Properties();
        p.setProperty("name", t.name());
        p.setProperty("id", t.id().toString());
        p.setProperty("partitions", Integer.toString(t.partitionCount()));
        p.setProperty("internal", Boolean.toString(t.internal()));
        t.configOverrides().forEach((k, v) -> p.setProperty("config." + k, v));
        Path file = metaDir.resolve(t.name() + ".properties");
        Path tmp = metaDir.resolve(t.name() + ".properties.tmp");
        try {
            try (Writer w = Files.newBufferedWriter(tmp)) {
                p.store(w, "Runnel topic metadata");
            }
            Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Partition openPartition(Topic t, int index) throws IOException {
        BrokerConfig c = config.get();
        return Partition.open(t, index, c.nodeId(), dataDir.resolve(t.name() + "-" + index), TopicConfigs.logConfig(c, t.configOverrides()));
    }

    /** Why a topic name is not acceptable, or null if it is. */
    public static String invalidNameReason(String name) {
        if (name == null || name.isEmpty()) {
            return "Topic name is empty";
        }
        if (name.equals(".") || name.equals("..")) {
            return "Topic name cannot be \".\" or \"..\"";
        }
        if (name.length() > MAX_NAME_LENGTH) {
            return "Topic name is longer than " + MAX_NAME_LENGTH + " characters";
        }
        if (!LEGAL.matcher(name).matches()) {
            return "Topic name \"" + name + "\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'";
        }
        return null;
    }

    public Topic get(String name) {
        return name == null ? null : topics.get(name);
    }

    public Topic get(UUID id) {
        return byId.get(id);
    }

    public Collection<Topic> all() {
        return topics.values();
    }

    public Partition partition(String topic, int index) {
        Topic t = topics.get(topic);
        return t == null ? null : t.partition(index);
    }

    /** Outcome of a topic operation: an error code (NONE on success) and a message. */
    public record Result(Errors error, String message, Topic topic) {
        static Result ok(Topic t) {
            return new Result(Errors.NONE, null, t);
        }

        static Result fail(Errors e, String message) {
            return new Result(e, message, null);
        }
    }

    /** Creates a topic; {@code validateOnly} checks everything without creating it. */
    public synchronized Result create(String name, int partitions, Map<String, String> overrides, boolean internal, boolean validateOnly) {
        String bad = invalidNameReason(name);
        if (bad != null) {
            return Result.fail(Errors.INVALID_TOPIC_EXCEPTION, bad);
        }
        if (topics.containsKey(name)) {
            return Result.fail(Errors.TOPIC_ALREADY_EXISTS, "Topic '" + name + "' already exists.");
        }
        String collides = collision(name);
        if (collides != null) {
            return Result.fail(Errors.INVALID_TOPIC_EXCEPTION, "Topic '" + name + "' collides with existing topic: " + collides);
        }
        if (partitions <= 0) {
            return Result.fail(Errors.INVALID_PARTITIONS, "Number of partitions must be larger than 0.");
        }
        String invalidConfig = TopicConfigs.validate(overrides);
        if (invalidConfig != null) {
            return Result.fail(Errors.INVALID_CONFIG, invalidConfig);
        }
        Topic t = new Topic(name, randomTopicId(), internal, new TreeMap<>(overrides));
        if (validateOnly) {
            return Result.ok(t);
        }
        try {
            for (int i = 0; i < partitions; i++) {
                t.addPartition(openPartition(t, i));
            }
        } catch (IOException e) {
            LOG.error("Cannot create topic {}", name, e);
            return Result.fail(Errors.KAFKA_STORAGE_ERROR, "Cannot create the partition directories: " + e.getMessage());
        }
        store(t);
        topics.put(name, t);
        byId.put(t.id(), t);
        LOG.info("Created topic {} with {} partition(s), id {}{}", name, partitions, t.id(), overrides.isEmpty() ? "" : ", configs " + overrides);
        return Result.ok(t);
    }

    /**
     * Makes the local topic match what the cluster's metadata says: created with the metadata's id when missing
     * (a local topic of the same name but another id is an older incarnation: deleted first), grown to
     * {@code partitions}, configs replaced when they differ. Called by the cluster's metadata publisher only.
     */
    public synchronized Topic ensureFromMetadata(String name, UUID id, int partitions, Map<String, String> overrides, boolean internal)
            throws IOException {
        Topic t = topics.get(name);
        if (t != null && !t.id().equals(id)) {
            delete(name);
            t = null;
        }
        if (t == null) {
            t = new Topic(name, id, internal, new TreeMap<>(overrides));
            for (int i = 0; i < partitions; i++) {
                t.addPartition(openPartition(t, i));
            }
            store(t);
            topics.put(name, t);
            byId.put(id, t);
            LOG.info("Created topic {} with {} partition(s), id {} (from the cluster metadata)", name, partitions, id);
            return t;
        }
        boolean changed = false;
        for (int i = t.partitionCount(); i < partitions; i++) {
            t.addPartition(openPartition(t, i));
            changed = true;
        }
        if (!t.configOverrides().equals(new TreeMap<>(overrides))) {
            setConfigs(t, overrides);
            changed = false;
        }
        if (changed) {
            store(t);
        }
        return t;
    }

    /** Kafka refuses topics whose names differ only in '.' versus '_' (they collide in metric names). */
    private String collision(String name) {
        String norm = name.replace('.', '_');
        for (String existing : topics.keySet()) {
            if (!existing.equals(name) && existing.replace('.', '_').equals(norm)) {
                return existing;
            }
        }
        return null;
    }

    public synchronized Result delete(String name) {
        Topic t = topics.get(name);
        if (t == null) {
            return Result.fail(Errors.UNKNOWN_TOPIC_OR_PARTITION, "This server does not host this topic.");
        }
        topics.remove(name);
        byId.remove(t.id());
        t.markDeleted();
        for (Partition p : t.partitions()) {
            p.delete();
        }
        try {
            Files.deleteIfExists(metaDir.resolve(name + ".properties"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        LOG.info("Deleted topic {}", name);
        for (java.util.function.Consumer<Topic> l : deletionListeners) {
            try {
                l.accept(t);
            } catch (RuntimeException e) {
                LOG.warn("Topic deletion listener failed for {}", name, e);
            }
        }
        return Result.ok(t);
    }

    /**
     * Tells {@code listener} about every deleted topic (e.g. so the group coordinator drops its offsets). Called
     * with this manager's lock held: hand real work to another thread.
     */
    public void addDeletionListener(java.util.function.Consumer<Topic> listener) {
        deletionListeners.add(listener);
    }

    /** Grows a topic to {@code total} partitions (never shrinks). */
    public synchronized Result addPartitions(String name, int total, boolean validateOnly) {
        Topic t = topics.get(name);
        if (t == null) {
            return Result.fail(Errors.UNKNOWN_TOPIC_OR_PARTITION, "The topic '" + name + "' does not exist.");
        }
        int current = t.partitionCount();
        if (total < current) {
            return Result.fail(Errors.INVALID_PARTITIONS, "Topic currently has " + current + " partitions, which is higher than the requested " + total + ".");
        }
        if (total == current) {
            return Result.fail(Errors.INVALID_PARTITIONS, "Topic already has " + current + " partitions.");
        }
        if (validateOnly) {
            return Result.ok(t);
        }
        try {
            for (int i = current; i < total; i++) {
                t.addPartition(openPartition(t, i));
            }
        } catch (IOException e) {
            return Result.fail(Errors.KAFKA_STORAGE_ERROR, "Cannot create the partition directories: " + e.getMessage());
        }
        store(t);
        LOG.info("Topic {} now has {} partitions", name, total);
        return Result.ok(t);
    }

    /** Replaces the topic's config overrides (already validated by the caller) and applies them to its logs. */
    public synchronized void setConfigs(Topic t, Map<String, String> overrides) {
        t.setConfigOverrides(new TreeMap<>(overrides));
        store(t);
        for (Partition p : t.partitions()) {
            p.updateConfig(TopicConfigs.logConfig(config.get(), overrides));
        }
    }

    /**
     * The broker-level defaults of topic configs changed (a dynamic broker config): every partition log gets its
     * settings worked out again, so that topics without an override of their own follow the new default.
     */
    public synchronized void brokerDefaultsChanged() {
        BrokerConfig c = config.get();
        for (Topic t : topics.values()) {
            var logConfig = TopicConfigs.logConfig(c, t.configOverrides());
            for (Partition p : t.partitions()) {
                p.updateConfig(logConfig);
            }
        }
    }

    private static UUID randomTopicId() {
        UUID u;
        do {
            u = UUID.randomUUID();
        } while (u.getMostSignificantBits() == 0 && u.getLeastSignificantBits() <= 1);
        return u;
    }

    public void flushAll() {
        for (Topic t : topics.values()) {
            for (Partition p : t.partitions()) {
                p.flush();
            }
        }
    }

    @Override
    public void close() {
        List<Partition> all = new ArrayList<>();
        for (Topic t : topics.values()) {
            all.addAll(t.partitions());
        }
        for (Partition p : all) {
            p.close();
        }
    }
}
