package dev.runnel.broker.cluster;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Kafka's {@code replication-offset-checkpoint} in the log directory: each replica's high watermark, so that a broker
 * that restarts does not take everything in its log for committed. The format is Kafka's: a version line (0), a
 * count line, then {@code topic partition offset} per line; written to a temporary file and renamed.
 */
final class HighWatermarkCheckpoint {
    static final String FILE_NAME = "replication-offset-checkpoint";
    private static final int MAX_ENTRIES = 10_000_000;

    private final Path file;

    HighWatermarkCheckpoint(Path logDir) {
        this.file = logDir.resolve(FILE_NAME);
    }

    /** "topic-partition" to high watermark; empty when there is no file (or it cannot be read: then logged by the caller). */
    Map<String, Long> read() throws IOException {
        Map<String, Long> out = new HashMap<>();
        if (!Files.exists(file)) {
            return out;
        }
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        if (lines.size() < 2 || !lines.get(0).trim().equals("0")) {
            throw new IOException(file + " is not a version-0 checkpoint");
        }
        int count = Integer.parseInt(lines.get(1).trim());
        if (count < 0 || count > MAX_ENTRIES || lines.size() < 2 + count) {
            throw new IOException(file + " declares " + count + " entries but has " + (lines.size() - 2));
        }
        for (int i = 0; i < count; i++) {
            String[] parts = lines.get(2 + i).trim().split(" ");
            if (parts.length != 3) {
                throw new IOException(file + ": malformed line '" + lines.get(2 + i) + "'");
            }
            out.put(parts[0] + "-" + Integer.parseInt(parts[1]), Long.parseLong(parts[2]));
        }
        return out;
    }

    /** Writes {@code topic -> (partition -> offset)} entries. */
    void write(Map<String, Map<Integer, Long>> entries) throws IOException {
        int count = entries.values().stream().mapToInt(Map::size).sum();
        Path tmp = file.resolveSibling(FILE_NAME + ".tmp");
        try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
            w.write("0\n");
            w.write(count + "\n");
            for (Map.Entry<String, Map<Integer, Long>> t : entries.entrySet()) {
                for (Map.Entry<Integer, Long> p : t.getValue().entrySet()) {
                    w.write(t.getKey() + " " + p.getKey() + " " + p.getValue() + "\n");
                }
            }
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
