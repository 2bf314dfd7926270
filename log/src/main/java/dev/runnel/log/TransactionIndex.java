package dev.runnel.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * A segment's aborted-transaction index, {@code <base>.txnindex}, in Kafka's format: a sequence of
 * {@link AbortedTxn} entries (34 bytes each) in the order their ABORT markers were appended, so ascending by
 * last offset. As in Kafka the file exists only once the segment has an entry.
 *
 * <p>The entries are also held in memory (aborts are rare; a handful of longs each) and published by one
 * volatile write of an immutable array, so read_committed fetches search them without a lock or a file read.
 * Mutations happen under the owning log's lock.
 */
final class TransactionIndex {
    static final String SUFFIX = ".txnindex";
    private static final long[] NONE = new long[0];
    private static final int LONGS = 4;

    private Path path;
    private FileChannel channel;
    /** Entries as (producerId, firstOffset, lastOffset, lastStableOffset) quadruples. */
    private volatile long[] entries = NONE;
    /** Why the file as found on open was not wholly readable (its readable prefix is kept), else null. */
    private String loadProblem;
    /** Written since the last fsync. */
    private boolean dirty;

    TransactionIndex(Path path) throws IOException {
        this.path = path;
        if (Files.exists(path)) {
            load();
        }
    }

    private void load() throws IOException {
        channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        long size = channel.size();
        int whole = (int) Math.min(size / AbortedTxn.SIZE, Integer.MAX_VALUE / AbortedTxn.SIZE / LONGS);
        ByteBuffer b = ByteBuffer.allocate(whole * AbortedTxn.SIZE);
        while (b.hasRemaining() && channel.read(b, b.position()) >= 0) {
            // read fully
        }
        long[] out = new long[whole * LONGS];
        int n = 0;
        long prevLast = Long.MIN_VALUE;
        for (int i = 0; i < whole; i++) {
            AbortedTxn t = AbortedTxn.readFrom(b, i * AbortedTxn.SIZE);
            if (t == null || t.lastOffset() <= prevLast || t.firstOffset() > t.lastOffset()) {
                loadProblem = path.getFileName() + " has an invalid entry " + i;
                break;
            }
            prevLast = t.lastOffset();
            put(out, n++, t);
        }
        if (loadProblem == null && size % AbortedTxn.SIZE != 0) {
            loadProblem = path.getFileName() + " ends in a partial entry (" + size + " bytes)";
        }
        entries = java.util.Arrays.copyOf(out, n * LONGS);
        if (loadProblem != null) {
            channel.truncate((long) n * AbortedTxn.SIZE);
        }
    }

    private static void put(long[] a, int i, AbortedTxn t) {
        a[i * LONGS] = t.producerId();
        a[i * LONGS + 1] = t.firstOffset();
        a[i * LONGS + 2] = t.lastOffset();
        a[i * LONGS + 3] = t.lastStableOffset();
    }

    private static AbortedTxn get(long[] a, int i) {
        return new AbortedTxn(a[i * LONGS], a[i * LONGS + 1], a[i * LONGS + 2], a[i * LONGS + 3]);
    }

    String loadProblem() {
        return loadProblem;
    }

    Path path() {
        return path;
    }

    int entryCount() {
        return entries.length / LONGS;
    }

    /** Appends an entry; its last offset must be above every earlier entry's (Kafka's rule). */
    void append(AbortedTxn t) throws IOException {
        long[] cur = entries;
        int n = cur.length / LONGS;
        if (n > 0 && cur[(n - 1) * LONGS + 2] >= t.lastOffset()) {
            throw new IllegalArgumentException("Aborted transaction " + t + " does not follow the last entry of "
                    + path.getFileName() + " (last offset " + cur[(n - 1) * LONGS + 2] + ")");
        }
        ByteBuffer b = t.toBytes();
        FileChannel ch = channel();
        long pos = (long) n * AbortedTxn.SIZE;
        while (b.hasRemaining()) {
            pos += ch.write(b, pos);
        }
        dirty = true;
        long[] next = java.util.Arrays.copyOf(cur, cur.length + LONGS);
        put(next, n, t);
        entries = next;
    }

    /** Replaces all entries (file and memory) by {@code txns}, ascending by last offset; no file when empty. */
    void replaceAll(List<AbortedTxn> txns) throws IOException {
        truncateToEntries(0);
        if (txns.isEmpty()) {
            closeAndDeleteFile();
            return;
        }
        for (AbortedTxn t : txns) {
            append(t);
        }
    }

    /** Removes the entries whose ABORT marker is at or above {@code offset} (a log truncation). */
    void truncateTo(long offset) throws IOException {
        long[] cur = entries;
        int keep = 0;
        while (keep < cur.length / LONGS && cur[keep * LONGS + 2] < offset) {
            keep++;
        }
        if (keep < cur.length / LONGS) {
            truncateToEntries(keep);
        }
    }

    private void truncateToEntries(int keep) throws IOException {
        if (channel != null) {
            channel.truncate((long) keep * AbortedTxn.SIZE);
            dirty = true;
        }
        entries = java.util.Arrays.copyOf(entries, keep * LONGS);
    }

    /** All entries, oldest first. */
    List<AbortedTxn> all() {
        long[] cur = entries;
        List<AbortedTxn> out = new ArrayList<>(cur.length / LONGS);
        for (int i = 0; i < cur.length / LONGS; i++) {
            out.add(get(cur, i));
        }
        return out;
    }

    /**
     * Kafka's {@code collectAbortedTxns}: adds to {@code out} the entries with {@code lastOffset >= fetchOffset} and
     * {@code firstOffset < upperBoundOffset}; returns true once an entry's last stable offset reaches
     * {@code upperBoundOffset} (no later segment can hold an abort of a transaction in the range). Lock-free.
     */
    boolean collect(long fetchOffset, long upperBoundOffset, List<AbortedTxn> out) {
        long[] cur = entries;
        for (int i = 0; i < cur.length; i += LONGS) {
            if (cur[i + 2] >= fetchOffset && cur[i + 1] < upperBoundOffset) {
                out.add(new AbortedTxn(cur[i], cur[i + 1], cur[i + 2], cur[i + 3]));
            }
            if (cur[i + 3] >= upperBoundOffset) {
                return true;
            }
        }
        return false;
    }

    private FileChannel channel() throws IOException {
        if (channel == null) {
            channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        }
        return channel;
    }

    void flush() throws IOException {
        if (channel != null && dirty) {
            channel.force(true);
            dirty = false;
        }
    }

    void close() throws IOException {
        if (channel != null) {
            channel.close();
            channel = null;
        }
    }

    /** Closes and deletes the file; the in-memory entries stay for readers still holding the segment. */
    private void closeAndDeleteFile() throws IOException {
        close();
        Files.deleteIfExists(path);
    }

    void closeAndDelete() throws IOException {
        closeAndDeleteFile();
    }

    /** Renames the file (if any) and keeps using it under the new name. */
    void renameTo(Path target) throws IOException {
        if (Files.exists(path)) {
            LogSegment.move(path, target);
        }
        path = target;
    }
}
