package dev.runnel.broker.state;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Hands out producer ids that are unique across restarts of this node. Ids are taken from blocks (as
 * Kafka's controller hands blocks of 1000 to brokers): before the first id of a block is given out,
 * the end of the block is written (atomically and durably) to {@code <log.dir>/.runnel-producer-ids}.
 * After a restart, allocation continues from that high-water mark, so an id is never reused; at most
 * one block's worth of ids is skipped per restart.
 * <p>
 * Thread-safe. InitProducerId is rare, so a monitor is enough.
 */
public final class ProducerIdManager {
    public static final String FILE_NAME = ".runnel-producer-ids";
    public static final int DEFAULT_BLOCK_SIZE = 1000;

    private final Path file;
    private final int blockSize;
    /** The next id to hand out. */
    private long next;
    /** Ids below this are covered by the persisted high-water mark. */
    private long blockEnd;

    private ProducerIdManager(Path file, int blockSize, long highWatermark) {
        this.file = file;
        this.blockSize = blockSize;
        this.next = highWatermark;
        this.blockEnd = highWatermark;
    }

    /** Opens (or starts) the producer id state in {@code dataDir}. */
    public static ProducerIdManager open(Path dataDir) throws IOException {
        return open(dataDir, DEFAULT_BLOCK_SIZE);
    }

    public static ProducerIdManager open(Path dataDir, int blockSize) throws IOException {
        if (blockSize <= 0) {
            throw new IllegalArgumentException("blockSize must be positive: " + blockSize);
        }
        Files.createDirectories(dataDir);
        Path file = dataDir.resolve(FILE_NAME);
        long hwm = 0;
        if (Files.exists(file)) {
            String text = Files.readString(file, StandardCharsets.UTF_8).trim();
            try {
                hwm = Long.parseLong(text);
            } catch (NumberFormatException e) {
                throw new IOException("Corrupt producer id state in " + file + ": '" + text + "'", e);
            }
            if (hwm < 0) {
                throw new IOException("Corrupt producer id state in " + file + ": negative high-water mark " + hwm);
            }
        }
        return new ProducerIdManager(file, blockSize, hwm);
    }

    /**
     * A new producer id, never returned before by this node (also across restarts).
     *
     * @throws UncheckedIOException when the new block cannot be persisted (nothing is handed out then)
     */
    public synchronized long nextId() {
        if (next >= blockEnd) {
            long newEnd = Math.addExact(next, blockSize);
            persist(newEnd);
            blockEnd = newEnd;
        }
        return next++;
    }

    private void persist(long highWatermark) {
        Path tmp = file.resolveSibling(FILE_NAME + ".tmp");
        byte[] bytes = (highWatermark + "\n").getBytes(StandardCharsets.UTF_8);
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer buf = ByteBuffer.wrap(bytes);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            fsyncDirectory(file.getParent());
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot persist the producer id high-water mark to " + file, e);
        }
    }

    private static void fsyncDirectory(Path dir) {
        // Makes the rename durable where the platform allows opening a directory (Linux, macOS).
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // not supported here (e.g. Windows); the rename is still atomic
        }
    }
}
