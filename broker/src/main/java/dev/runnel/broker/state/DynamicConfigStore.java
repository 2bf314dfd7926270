package dev.runnel.broker.state;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * Where a single node keeps its dynamic broker configs (a cluster keeps them in the metadata log as ConfigRecords):
 * {@code <log.dir>/.runnel-broker-configs.properties} (next to {@code .runnel-topics/}), one line per value,
 * {@code default.<key>} for the cluster-wide default and {@code broker.<id>.<key>} per broker. Written to a
 * temporary file and moved into place, so a crash leaves the old or the new file, never half of one.
 */
public final class DynamicConfigStore {
    private static final String DEFAULT_PREFIX = "default.";
    private static final String BROKER_PREFIX = "broker.";

    private final Path file;
    private final Map<String, String> clusterDefault = new TreeMap<>();
    private final Map<Integer, Map<String, String>> perBroker = new TreeMap<>();

    private DynamicConfigStore(Path file) {
        this.file = file;
    }

    /** Reads the file of this log directory (none yet: nothing stored). */
    public static DynamicConfigStore open(Path logDir) throws IOException {
        Files.createDirectories(logDir);
        DynamicConfigStore s = new DynamicConfigStore(logDir.resolve(".runnel-broker-configs.properties"));
        if (Files.exists(s.file)) {
            Properties p = new Properties();
            try (Reader r = Files.newBufferedReader(s.file)) {
                p.load(r);
            }
            for (String k : p.stringPropertyNames()) {
                if (k.startsWith(DEFAULT_PREFIX)) {
                    s.clusterDefault.put(k.substring(DEFAULT_PREFIX.length()), p.getProperty(k));
                } else if (k.startsWith(BROKER_PREFIX)) {
                    int dot = k.indexOf('.', BROKER_PREFIX.length());
                    try {
                        int id = Integer.parseInt(k.substring(BROKER_PREFIX.length(), dot));
                        s.perBroker.computeIfAbsent(id, i -> new TreeMap<>()).put(k.substring(dot + 1), p.getProperty(k));
                    } catch (NumberFormatException | IndexOutOfBoundsException e) {
                        throw new IOException("Unreadable line '" + k + "' in " + s.file);
                    }
                }
            }
        }
        return s;
    }

    public synchronized Map<String, String> clusterDefault() {
        return Map.copyOf(clusterDefault);
    }

    public synchronized Map<String, String> broker(int id) {
        return Map.copyOf(perBroker.getOrDefault(id, Map.of()));
    }

    /** Replaces the configs of one resource ({@code brokerId} null: the cluster-wide default) and writes the file. */
    public synchronized void replace(Integer brokerId, Map<String, String> configs) throws IOException {
        Map<String, String> target = brokerId == null ? clusterDefault : perBroker.computeIfAbsent(brokerId, i -> new TreeMap<>());
        Map<String, String> before = new TreeMap<>(target);
        target.clear();
        target.putAll(configs);
        try {
            write();
        } catch (IOException e) {
            target.clear();
            target.putAll(before);
            throw e;
        }
    }

    private void write() throws IOException {
        Properties p = new Properties();
        clusterDefault.forEach((k, v) -> p.setProperty(DEFAULT_PREFIX + k, v));
        perBroker.forEach((id, m) -> m.forEach((k, v) -> p.setProperty(BROKER_PREFIX + id + "." + k, v)));
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (Writer w = Files.newBufferedWriter(tmp)) {
            p.store(w, "Runnel dynamic broker configs (kafka-configs --entity-type brokers)");
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
