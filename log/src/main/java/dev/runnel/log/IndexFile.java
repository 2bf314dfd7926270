package dev.runnel.log;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A memory-mapped file of fixed-size entries, Kafka-style: the active segment's index is
 * preallocated to the configured size and trimmed to its entries when the segment stops being
 * active or is closed. One writer (under the log's lock); readers see only the first
 * {@link #entries()} entries, which the writer publishes through a volatile count after writing them.
 */
abstract class IndexFile {
    final Path path;
    final long baseOffset;
    private final int entrySize;
    private final RandomAccessFile file;
    private volatile MappedByteBuffer mmap;
    private volatile int entries;
    private int maxEntries;

    IndexFile(Path path, long baseOffset, int entrySize) throws IOException {
        this.path = path;
        this.baseOffset = baseOffset;
        this.entrySize = entrySize;
        this.file = new RandomAccessFile(path.toFile(), "rw");
        long len = file.length();
        this.entries = (int) Math.min(Integer.MAX_VALUE, len / entrySize);
        map(len);
    }

    private void map(long length) throws IOException {
        mmap = file.getChannel().map(FileChannel.MapMode.READ_WRITE, 0, length);
        maxEntries = (int) (length / entrySize);
    }

    /** Whether the file length is a whole number of entries. */
    boolean isAligned() throws IOException {
        return file.length() % entrySize == 0;
    }

    final int entries() {
        return entries;
    }

    final int entrySize() {
        return entrySize;
    }

    final boolean isFull() {
        return entries >= maxEntries;
    }

    /** The mapping readers use (stable for a call: grab it once). */
    final MappedByteBuffer buffer() {
        return mmap;
    }

    /** Start of a new entry; caller writes it with absolute puts into {@link #buffer()} then calls {@link #commitEntry()}. */
    final int nextEntryPosition() {
        if (isFull()) {
            throw new IllegalStateException("index " + path + " is full (" + entries + " entries)");
        }
        return entries * entrySize;
    }

    final void commitEntry() {
        entries = entries + 1;
    }

    /** Drops entries from {@code n} on (zeroing them, so a later crash cannot resurrect them). */
    final void truncateToEntries(int n) {
        if (n >= entries) {
            return;
        }
        MappedByteBuffer m = mmap;
        for (int i = n * entrySize, end = entries * entrySize; i < end; i++) {
            m.put(i, (byte) 0);
        }
        entries = n;
    }

    /**
     * Drops every entry by cutting the file to nothing (before a rebuild). Zeroing a preallocated index entry by entry
     * instead wrote 10 MB per index, for each segment recovered after a crash.
     */
    final void clear() throws IOException {
        entries = 0;
        file.setLength(0);
        map(0);
    }

    /** Preallocates the file to {@code maxBytes} (rounded down to whole entries) for appending. */
    final void makeActive(int maxBytes) throws IOException {
        long len = Math.max((long) entries * entrySize, (maxBytes / entrySize) * (long) entrySize);
        if (len != file.length()) {
            file.setLength(len);
        }
        map(len);
    }

    /** Trims the file to exactly its entries. */
    final void trimToValidSize() throws IOException {
        long len = (long) entries * entrySize;
        if (file.length() != len) {
            file.setLength(len);
            map(len);
        }
    }

    final void flush() {
        mmap.force();
    }

    final void close() throws IOException {
        file.close();
    }

    final void closeAndDelete() throws IOException {
        file.close();
        Files.deleteIfExists(path);
    }
}
