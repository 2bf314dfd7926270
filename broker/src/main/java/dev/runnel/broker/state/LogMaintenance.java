package dev.runnel.broker.state;

import dev.runnel.broker.BrokerConfig;
import dev.runnel.log.LogCleaner;
import dev.runnel.log.PartitionLog;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The background work that keeps logs in shape, on two daemon threads of its own so that neither blocks
 * produce, fetch or the other:
 * <ul>
 *   <li>{@code runnel-log-retention}: every {@code log.retention.check.interval.ms} (Kafka's default 5 minutes)
 *       each partition deletes the segments that retention or the log start offset let go
 *       ({@link PartitionLog#deleteOldSegments()}), then Kafka's {@code log-start-offset-checkpoint} is written in
 *       the log directory; every second (or the check interval if shorter) the files of removed segments whose
 *       {@code file.delete.delay.ms} passed are deleted.</li>
 *   <li>{@code runnel-log-cleaner} (unless {@code log.cleaner.enable=false}): every {@code log.cleaner.backoff.ms}
 *       (Kafka's default 15 s) each log with {@code cleanup.policy} compact is compacted if it is dirty enough
 *       ({@link PartitionLog#clean}), {@code __consumer_offsets} included, and Kafka's
 *       {@code cleaner-offset-checkpoint} records how far each log is cleaned. {@code log.cleaner.dedupe.buffer.size}
 *       bounds the key map as in Kafka (24 bytes a key).</li>
 * </ul>
 * {@link #runRetentionNow()} and {@link #cleanNow()} run a pass at once (tests, tools).
 */
public final class LogMaintenance implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LogMaintenance.class);
    /** Kafka's file name for the log start offsets of a log directory. */
    public static final String LOG_START_OFFSET_CHECKPOINT = "log-start-offset-checkpoint";
    /** Kafka's file name for the cleaner's progress per compacted log. */
    public static final String CLEANER_OFFSET_CHECKPOINT = "cleaner-offset-checkpoint";
    public static final String RECOVERY_POINT_OFFSET_CHECKPOINT = "recovery-point-offset-checkpoint";

    private final TopicManager topics;
    private final Path logDir;
    private final long retentionCheckIntervalMs;
    private volatile long cleanerBackoffMs;
    private final boolean cleanerEnabled;
    private volatile int maxMapEntries;
    private java.util.concurrent.ScheduledFuture<?> cleanerTask;
    private boolean started;
    private final ScheduledExecutorService retention;
    private final ScheduledExecutorService cleaner;
    private volatile Map<String, Long> lastCheckpoint = Map.of();
    private volatile Map<String, Long> lastCleanerCheckpoint = Map.of();
    private volatile Map<String, Long> lastRecoveryCheckpoint = Map.of();
    private volatile boolean stopping;

    public LogMaintenance(BrokerConfig config, TopicManager topics) {
        this.topics = topics;
        this.logDir = config.logDirs().get(0);
        this.retentionCheckIntervalMs = Math.max(1, longOr(config, "log.retention.check.interval.ms", 300_000L));
        this.cleanerBackoffMs = Math.max(1, longOr(config, "log.cleaner.backoff.ms", 15_000L));
        this.cleanerEnabled = !"false".equalsIgnoreCase(String.valueOf(config.get("log.cleaner.enable")).trim());
        this.maxMapEntries = maxMapEntries(config);
        this.retention = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "runnel-log-retention"));
        this.cleaner = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "runnel-log-cleaner"));
    }

    private final List<Thread> threads = new java.util.concurrent.CopyOnWriteArrayList<>();

    private Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        threads.add(t);
        return t;
    }

    private static int maxMapEntries(BrokerConfig config) {
        long dedupeBytes = longOr(config, "log.cleaner.dedupe.buffer.size", 128L << 20);
        return (int) Math.max(1024, Math.min(Integer.MAX_VALUE / 4, dedupeBytes / 24));
    }

    /**
     * Dynamic broker configs changed: the cleaner's key map size applies from its next log, a new
     * {@code log.cleaner.backoff.ms} from the next pass.
     */
    public synchronized void reconfigure(BrokerConfig config) {
        maxMapEntries = maxMapEntries(config);
        long backoff = Math.max(1, longOr(config, "log.cleaner.backoff.ms", 15_000L));
        if (backoff != cleanerBackoffMs) {
            cleanerBackoffMs = backoff;
            if (started && cleanerEnabled && !stopping) {
                cleanerTask.cancel(false);
                cleanerTask = cleaner.scheduleWithFixedDelay(() -> cleanerPass(false), backoff, backoff, TimeUnit.MILLISECONDS);
            }
            LOG.info("Log cleaner backoff is now {} ms", backoff);
        }
    }

    private static long longOr(BrokerConfig c, String key, long dflt) {
        String v = c.get(key);
        if (v == null || v.isBlank()) {
            return dflt;
        }
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Invalid value " + v + " for configuration " + key + ": Not a number of type LONG");
        }
    }

    /**
     * Applies Kafka's checkpoint files of the log directory (log start offsets ahead of a log's own, the cleaner's
     * progress) and starts the threads.
     */
    public synchronized void start() {
        applyCheckpoints();
        started = true;
        long initial = Math.min(30_000L, retentionCheckIntervalMs);
        retention.scheduleWithFixedDelay(this::retentionPass, initial, retentionCheckIntervalMs, TimeUnit.MILLISECONDS);
        long deleteEvery = Math.min(1000L, retentionCheckIntervalMs);
        retention.scheduleWithFixedDelay(this::deleteExpiredFiles, deleteEvery, deleteEvery, TimeUnit.MILLISECONDS);
        if (cleanerEnabled) {
            cleanerTask = cleaner.scheduleWithFixedDelay(() -> cleanerPass(false), cleanerBackoffMs, cleanerBackoffMs, TimeUnit.MILLISECONDS);
        }
        LOG.info("Log maintenance: retention check every {} ms, cleaner {} (backoff {} ms, up to {} keys per clean)",
                retentionCheckIntervalMs, cleanerEnabled ? "on" : "off", cleanerBackoffMs, maxMapEntries);
    }

    private List<Partition> partitions() {
        List<Partition> out = new ArrayList<>();
        for (Topic t : topics.all()) {
            if (!t.deleted()) {
                out.addAll(t.partitions());
            }
        }
        return out;
    }

    /** Runs a retention pass on the retention thread now; completes with the number of segments removed. */
    public CompletableFuture<Integer> runRetentionNow() {
        return CompletableFuture.supplyAsync(this::retentionPass, retention);
    }

    /** Runs a (forced) cleaner pass on the cleaner thread now; completes with the number of logs cleaned. */
    public CompletableFuture<Integer> cleanNow() {
        return CompletableFuture.supplyAsync(() -> cleanerPass(true), cleaner);
    }

    private int retentionPass() {
        int removed = 0;
        for (Partition p : partitions()) {
            if (!p.isOnline() || stopping) {
                continue;
            }
            try {
                removed += p.log().deleteOldSegments();
            } catch (IOException | RuntimeException e) {
                LOG.warn("Retention of {} failed", p, e);
            }
        }
        deleteExpiredFiles();
        writeCheckpoint();
        return removed;
    }

    private void deleteExpiredFiles() {
        for (Partition p : partitions()) {
            try {
                p.log().deleteExpiredSegmentFiles();
            } catch (RuntimeException e) {
                LOG.warn("Deleting removed segments of {} failed", p, e);
            }
        }
    }

    private int cleanerPass(boolean force) {
        int cleaned = 0;
        for (Partition p : partitions()) {
            if (!p.isOnline() || !p.log().config().cleanup().compact()) {
                continue;
            }
            try {
                if (p.log().clean(force, maxMapEntries) != null) {
                    cleaned++;
                }
            } catch (IOException | RuntimeException e) {
                LOG.warn("Cleaning {} failed; it will be retried", p, e);
            }
            if (stopping) {
                break;
            }
        }
        writeCleanerCheckpoint();
        return cleaned;
    }

    // ---------------------------------------------------------------- checkpoints in the log directory

    /**
     * Writes Kafka's {@code log-start-offset-checkpoint} for the partitions whose log start offset is above their
     * first segment, as Kafka does. The log keeps its own copy too, so this file is for Kafka's tools and habits.
     */
    void writeCheckpoint() {
        Map<String, Long> entries = new TreeMap<>();
        for (Partition p : partitions()) {
            PartitionLog log = p.log();
            if (log.isClosed()) {
                continue;
            }
            long[] bases = log.segmentBaseOffsets();
            if (bases.length > 0 && log.logStartOffset() > bases[0]) {
                entries.put(p.topic().name() + " " + p.index(), log.logStartOffset());
            }
        }
        if (!entries.equals(lastCheckpoint) || !Files.exists(logDir.resolve(LOG_START_OFFSET_CHECKPOINT))) {
            if (writeCheckpointFile(LOG_START_OFFSET_CHECKPOINT, entries)) {
                lastCheckpoint = entries;
            }
        }
        writeRecoveryPointCheckpoint();
    }

    /**
     * Writes Kafka's {@code recovery-point-offset-checkpoint}: every partition's recovery point (below it the log
     * was fsynced). Each log keeps the same fact in its own state file, which is what its recovery reads; this file
     * is for Kafka's tools and habits, and shows how far the flush policy has made each log durable.
     */
    void writeRecoveryPointCheckpoint() {
        Map<String, Long> entries = new TreeMap<>();
        for (Partition p : partitions()) {
            PartitionLog log = p.log();
            if (!log.isClosed()) {
                entries.put(p.topic().name() + " " + p.index(), log.recoveryPoint());
            }
        }
        if (!entries.equals(lastRecoveryCheckpoint) && writeCheckpointFile(RECOVERY_POINT_OFFSET_CHECKPOINT, entries)) {
            lastRecoveryCheckpoint = entries;
        }
    }

    /** Writes Kafka's {@code cleaner-offset-checkpoint}: how far each compacted log is cleaned. */
    void writeCleanerCheckpoint() {
        Map<String, Long> entries = new TreeMap<>();
        for (Partition p : partitions()) {
            PartitionLog log = p.log();
            if (!log.isClosed() && log.config().cleanup().compact() && log.cleanerCheckpoint() >= 0) {
                entries.put(p.topic().name() + " " + p.index(), log.cleanerCheckpoint());
            }
        }
        if (!entries.equals(lastCleanerCheckpoint) && writeCheckpointFile(CLEANER_OFFSET_CHECKPOINT, entries)) {
            lastCleanerCheckpoint = entries;
        }
    }

    /** Kafka's checkpoint file format: version 0, the entry count, then {@code topic partition offset} lines. */
    private boolean writeCheckpointFile(String name, Map<String, Long> entries) {
        StringBuilder sb = new StringBuilder("0\n").append(entries.size()).append('\n');
        entries.forEach((tp, offset) -> sb.append(tp).append(' ').append(offset).append('\n'));
        Path target = logDir.resolve(name);
        Path tmp = logDir.resolve(name + ".tmp");
        try {
            Files.writeString(tmp, sb.toString(), StandardCharsets.UTF_8);
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            return true;
        } catch (IOException e) {
            LOG.warn("Cannot write {}", target, e);
            return false;
        }
    }

    /** Calls {@code apply} with the partition and offset of each entry of a checkpoint file, if there is one. */
    private void readCheckpointFile(String name, java.util.function.ObjLongConsumer<Partition> apply) {
        Path file = logDir.resolve(name);
        if (!Files.exists(file)) {
            return;
        }
        try {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            if (lines.size() < 2 || !lines.get(0).trim().equals("0")) {
                LOG.warn("Ignoring {}: not a version 0 checkpoint", file);
                return;
            }
            int n = Integer.parseInt(lines.get(1).trim());
            for (int i = 0; i < n && i + 2 < lines.size(); i++) {
                String[] f = lines.get(i + 2).trim().split("\\s+");
                if (f.length != 3) {
                    continue;
                }
                Partition p = topics.partition(f[0], Integer.parseInt(f[1]));
                if (p != null) {
                    apply.accept(p, Long.parseLong(f[2]));
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("Ignoring unreadable {}", file, e);
        }
    }

    private void applyCheckpoints() {
        readCheckpointFile(LOG_START_OFFSET_CHECKPOINT, (p, offset) -> {
            if (offset > p.logStartOffset() && offset <= p.highWatermark()) {
                try {
                    p.log().maybeIncrementLogStartOffset(offset);
                } catch (IOException e) {
                    LOG.warn("Cannot apply the checkpointed log start offset {} to {}", offset, p, e);
                }
            }
        });
        readCheckpointFile(CLEANER_OFFSET_CHECKPOINT, (p, offset) -> p.log().restoreCleanerCheckpoint(offset));
    }

    /**
     * Stops the threads (never by interrupting them: an interrupt during FileChannel I/O closes the channel,
     * which segments share with readers) and writes the checkpoint. A clean still running after a few seconds
     * gives up at its next batch when the logs close.
     */
    @Override
    public void close() {
        stopping = true;
        cleaner.shutdown();
        retention.shutdown();
        try {
            cleaner.awaitTermination(5, TimeUnit.SECONDS);
            retention.awaitTermination(5, TimeUnit.SECONDS);
            for (Thread t : threads) {
                t.join(1000); // tests that start many brokers count threads
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        writeCheckpoint();
        writeCleanerCheckpoint();
    }
}
