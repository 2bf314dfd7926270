package dev.runnel.log;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The partition logs of one log directory, by (topic, partition). On construction it opens every
 * existing {@code <topic>-<partition>} directory (with the default config unless a per-topic config
 * is given later through {@link #getOrCreate(PartitionId, LogConfig)} — note an already open log
 * keeps the config it was opened with). Thread-safe.
 */
public final class LogManager implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LogManager.class);

    private final Path logDir;
    private final LogConfig defaultConfig;
    private final LongSupplier clock;
    private final Map<PartitionId, PartitionLog> logs = new ConcurrentHashMap<>();

    public LogManager(Path logDir) throws IOException {
        this(logDir, LogConfig.defaults(), System::currentTimeMillis);
    }

    public LogManager(Path logDir, LogConfig defaultConfig, LongSupplier clock) throws IOException {
        this.logDir = logDir;
        this.defaultConfig = defaultConfig;
        this.clock = clock;
        Files.createDirectories(logDir);
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(logDir, Files::isDirectory)) {
            for (Path d : dirs) {
                PartitionId id = PartitionId.parseDirName(d.getFileName().toString());
                if (id == null) {
                    continue;
                }
                logs.put(id, PartitionLog.open(d, defaultConfig, clock));
            }
        }
        LOG.info("Opened {} partition log(s) in {}", logs.size(), logDir);
    }

    public Path logDir() {
        return logDir;
    }

    /** The open log, or null. */
    public PartitionLog get(PartitionId id) {
        return logs.get(id);
    }

    public PartitionLog getOrCreate(PartitionId id) throws IOException {
        return getOrCreate(id, defaultConfig);
    }

    /** The log of {@code id}, opening or creating it with {@code config} if it is not open. */
    public PartitionLog getOrCreate(PartitionId id, LogConfig config) throws IOException {
        PartitionLog existing = logs.get(id);
        if (existing != null) {
            return existing;
        }
        synchronized (this) {
            existing = logs.get(id);
            if (existing != null) {
                return existing;
            }
            PartitionLog log = PartitionLog.open(logDir.resolve(id.dirName()), config, clock);
            logs.put(id, log);
            return log;
        }
    }

    /** Closes and deletes the log of {@code id} (its directory included); false if there was none. */
    public boolean delete(PartitionId id) throws IOException {
        PartitionLog log;
        synchronized (this) {
            log = logs.remove(id);
        }
        if (log == null) {
            Path d = logDir.resolve(id.dirName());
            if (Files.isDirectory(d)) {
                PartitionLog.deleteRecursively(d);
                return true;
            }
            return false;
        }
        log.deleteAll();
        return true;
    }

    /** The partitions with an open log. */
    public List<PartitionId> partitions() {
        return new ArrayList<>(logs.keySet());
    }

    /** Flushes every log. */
    public void flushAll() throws IOException {
        for (PartitionLog log : logs.values()) {
            log.flush();
        }
    }

    /** Closes every log cleanly. */
    @Override
    public synchronized void close() throws IOException {
        IOException first = null;
        for (PartitionLog log : logs.values()) {
            try {
                log.close();
            } catch (IOException e) {
                if (first == null) {
                    first = e;
                }
                LOG.error("Error closing {}", log, e);
            }
        }
        logs.clear();
        if (first != null) {
            throw first;
        }
    }
}
