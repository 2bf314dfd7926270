package dev.runnel.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

/**
 * The small text files of a partition directory:
 * <ul>
 *   <li>{@code runnel-log.state} (ours): whether the log was closed cleanly, the recovery point
 *       (everything below it was fsynced) and the log start offset;</li>
 *   <li>{@code partition.metadata} (Kafka's format): {@code version: 0} and {@code topic_id: <base64url uuid>}.</li>
 * </ul>
 */
final class StateFiles {
    static final String STATE_FILE = "runnel-log.state";
    static final String PARTITION_METADATA_FILE = "partition.metadata";

    record LogState(boolean clean, long recoveryPoint, long logStartOffset) {
        static final LogState NONE = new LogState(false, 0L, 0L);
    }

    private StateFiles() {
    }

    /** Writes via a temp file and an atomic rename; with {@code sync}, fsyncs the file first. */
    static void writeAtomically(Path target, byte[] content, boolean sync) throws IOException {
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer b = ByteBuffer.wrap(content);
            while (b.hasRemaining()) {
                ch.write(b);
            }
            if (sync) {
                ch.force(true);
            }
        }
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /**
     * Makes the directory's entries durable (new files, renames): an fsync of the directory, where the platform
     * allows one (Linux does; elsewhere this does nothing).
     */
    static void syncDirectory(Path dir) throws IOException {
        if (System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).startsWith("windows")) {
            return;
        }
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    static LogState readState(Path dir) {
        Path p = dir.resolve(STATE_FILE);
        if (!Files.exists(p)) {
            return LogState.NONE;
        }
        try {
            Map<String, String> kv = parse(Files.readString(p, StandardCharsets.UTF_8));
            if (!"0".equals(kv.get("version"))) {
                return LogState.NONE;
            }
            return new LogState(Boolean.parseBoolean(kv.get("clean")), Long.parseLong(kv.get("recovery_point")),
                    Long.parseLong(kv.get("log_start_offset")));
        } catch (IOException | RuntimeException e) {
            // unreadable: treat as an unclean shutdown with nothing known to be flushed
            return LogState.NONE;
        }
    }

    /** Whether the state file exists, is readable and says exactly {@code state}. */
    static boolean onDisk(Path dir, LogState state) {
        return Files.exists(dir.resolve(STATE_FILE)) && state.equals(readState(dir));
    }

    static void writeState(Path dir, LogState state, boolean sync) throws IOException {
        String text = "version: 0\nclean: " + state.clean() + "\nrecovery_point: " + state.recoveryPoint()
                + "\nlog_start_offset: " + state.logStartOffset() + "\n";
        writeAtomically(dir.resolve(STATE_FILE), text.getBytes(StandardCharsets.UTF_8), sync);
    }

    /** Kafka's textual form of a topic id: URL-safe base64 of the 16 bytes, no padding. */
    static String topicIdString(UUID id) {
        ByteBuffer b = ByteBuffer.allocate(16).putLong(id.getMostSignificantBits()).putLong(id.getLeastSignificantBits());
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b.array());
    }

    static UUID parseTopicId(String s) {
        byte[] bytes = Base64.getUrlDecoder().decode(s);
        if (bytes.length != 16) {
            throw new IllegalArgumentException("Topic id must be 16 bytes: " + s);
        }
        ByteBuffer b = ByteBuffer.wrap(bytes);
        return new UUID(b.getLong(), b.getLong());
    }

    static void writePartitionMetadata(Path dir, UUID topicId) throws IOException {
        String text = "version: 0\ntopic_id: " + topicIdString(topicId);
        writeAtomically(dir.resolve(PARTITION_METADATA_FILE), text.getBytes(StandardCharsets.UTF_8), true);
    }

    static UUID readPartitionMetadata(Path dir) throws IOException {
        Path p = dir.resolve(PARTITION_METADATA_FILE);
        if (!Files.exists(p)) {
            return null;
        }
        Map<String, String> kv = parse(Files.readString(p, StandardCharsets.UTF_8));
        if (!"0".equals(kv.get("version")) || kv.get("topic_id") == null) {
            throw new IOException("Malformed " + p);
        }
        return parseTopicId(kv.get("topic_id"));
    }

    private static Map<String, String> parse(String text) {
        Map<String, String> kv = new HashMap<>();
        for (String line : text.split("\n")) {
            int i = line.indexOf(':');
            if (i > 0) {
                kv.put(line.substring(0, i).trim(), line.substring(i + 1).trim());
            }
        }
        return kv;
    }
}
