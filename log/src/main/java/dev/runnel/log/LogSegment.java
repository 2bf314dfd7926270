package dev.runnel.log;

import dev.runnel.wire.records.RecordBatch;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * One segment: {@code <base>.log} with its {@code .index}, {@code .timeindex} and, once a transaction aborted in
 * it, its {@code .txnindex} ({@link TransactionIndex}). Mutated only under
 * the owning log's lock; {@link #size} and {@link #maxTimestamp} are published for lock-free readers.
 */
final class LogSegment {
    static final String LOG_SUFFIX = ".log";
    static final String INDEX_SUFFIX = ".index";
    static final String TIME_INDEX_SUFFIX = ".timeindex";

    /** Max timestamp of the segment so far and the last offset of the batch that carried it. */
    record MaxTimestamp(long timestamp, long offset) {
        static final MaxTimestamp NONE = new MaxTimestamp(RecordBatch.NO_TIMESTAMP, -1L);
    }

    final long baseOffset;
    final Path logPath;
    final FileChannel channel;
    final OffsetIndex offsetIndex;
    final TimeIndex timeIndex;
    final TransactionIndex txnIndex;
    final long created;

    /** Committed bytes (everything below is whole, indexed batches). */
    volatile int size;
    volatile MaxTimestamp maxTimestamp = MaxTimestamp.NONE;

    // --- writer state (log lock) ---
    /** Offset after the last batch, or the base offset when empty. */
    long nextOffset;
    /** Max timestamp of the first batch (for segment.ms), or -1. */
    long rollingBasedTimestamp = RecordBatch.NO_TIMESTAMP;
    int bytesSinceLastIndexEntry;
    /** Whether data was written since the last fsync. */
    boolean dirty;

    /** Files renamed with {@link #DELETED_SUFFIX} when the segment left the log (then deleted later), else null. */
    private volatile Path[] renamedForDeletion;

    private LogSegment(Path dir, long baseOffset, long now) throws IOException {
        this(dir, baseOffset, now, "");
    }

    private LogSegment(Path dir, long baseOffset, long now, String suffix) throws IOException {
        this.baseOffset = baseOffset;
        this.logPath = dir.resolve(fileName(baseOffset, LOG_SUFFIX) + suffix);
        this.channel = FileChannel.open(logPath, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        this.offsetIndex = new OffsetIndex(dir.resolve(fileName(baseOffset, INDEX_SUFFIX) + suffix), baseOffset);
        this.timeIndex = new TimeIndex(dir.resolve(fileName(baseOffset, TIME_INDEX_SUFFIX) + suffix), baseOffset);
        this.txnIndex = new TransactionIndex(dir.resolve(fileName(baseOffset, TransactionIndex.SUFFIX) + suffix));
        this.created = now;
        this.nextOffset = baseOffset;
        long len = channel.size();
        if (len > Integer.MAX_VALUE) {
            throw new IOException(logPath + " is larger than 2 GiB");
        }
        this.size = (int) len;
    }

    /** Opens (or creates, if missing) the files of the segment at {@code baseOffset}. */
    static LogSegment open(Path dir, long baseOffset, long now) throws IOException {
        return new LogSegment(dir, baseOffset, now);
    }

    /** Suffix of the files of a segment being written by the cleaner (deleted if found on load). */
    static final String CLEANED_SUFFIX = ".cleaned";
    /** Suffix of a cleaned {@code .log} that is ready to replace the segments it covers (completed on load). */
    static final String SWAP_SUFFIX = ".swap";
    /** Suffix of files of segments removed from the log, deleted after {@code file.delete.delay.ms}. */
    static final String DELETED_SUFFIX = ".deleted";

    /**
     * Creates the files of a new segment named {@code <base>.log.cleaned} etc., for the cleaner to fill
     * before it replaces segments of the log (see {@link #commitCleaned}).
     */
    static LogSegment createCleaned(Path dir, long baseOffset, long now) throws IOException {
        for (String s : new String[] {LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX, TransactionIndex.SUFFIX}) {
            Files.deleteIfExists(dir.resolve(fileName(baseOffset, s) + CLEANED_SUFFIX));
        }
        return new LogSegment(dir, baseOffset, now, CLEANED_SUFFIX);
    }

    /**
     * The commit point of swapping a cleaned segment in: its {@code .log.cleaned} becomes {@code .log.swap}.
     * A crash after this completes the swap on load ({@link LogCleaner#resolveLeftovers}); before it, the
     * cleaned files are discarded and the old segments stay.
     */
    static void commitCleaned(Path dir, long baseOffset) throws IOException {
        move(dir.resolve(fileName(baseOffset, LOG_SUFFIX) + CLEANED_SUFFIX), dir.resolve(fileName(baseOffset, LOG_SUFFIX) + SWAP_SUFFIX));
    }

    /** After {@link #commitCleaned} and once the replaced segments are renamed away: the final names. */
    static void finishSwap(Path dir, long baseOffset) throws IOException {
        move(dir.resolve(fileName(baseOffset, INDEX_SUFFIX) + CLEANED_SUFFIX), dir.resolve(fileName(baseOffset, INDEX_SUFFIX)));
        move(dir.resolve(fileName(baseOffset, TIME_INDEX_SUFFIX) + CLEANED_SUFFIX), dir.resolve(fileName(baseOffset, TIME_INDEX_SUFFIX)));
        Path txn = dir.resolve(fileName(baseOffset, TransactionIndex.SUFFIX) + CLEANED_SUFFIX);
        if (Files.exists(txn)) {
            move(txn, dir.resolve(fileName(baseOffset, TransactionIndex.SUFFIX)));
        } else {
            Files.deleteIfExists(dir.resolve(fileName(baseOffset, TransactionIndex.SUFFIX)));
        }
        move(dir.resolve(fileName(baseOffset, LOG_SUFFIX) + SWAP_SUFFIX), dir.resolve(fileName(baseOffset, LOG_SUFFIX)));
    }

    /**
     * Takes the segment's files out of the log by renaming them {@code *.deleted}. The channel and index
     * mappings stay open, so reads (and zero-copy sends) that already hold this segment keep working until
     * {@link #closeAndDeleteRenamed()}.
     */
    void renameForDeletion() throws IOException {
        Path[] from = {logPath, offsetIndex.path, timeIndex.path};
        Path[] to = new Path[4];
        for (int i = 0; i < 3; i++) {
            to[i] = from[i].resolveSibling(from[i].getFileName() + DELETED_SUFFIX);
            if (Files.exists(from[i])) {
                move(from[i], to[i]);
            }
        }
        Path txn = txnIndex.path();
        to[3] = txn.resolveSibling(txn.getFileName() + DELETED_SUFFIX);
        txnIndex.renameTo(to[3]);
        renamedForDeletion = to;
    }

    /** Closes a segment taken out by {@link #renameForDeletion()} and deletes its renamed files. */
    void closeAndDeleteRenamed() throws IOException {
        try {
            close();
        } finally {
            Path[] files = renamedForDeletion;
            if (files != null) {
                for (Path f : files) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }

    /**
     * The timestamp retention goes by: the largest record timestamp in the segment (Kafka's rule), or the
     * file's modification time when no batch carries a timestamp.
     */
    long largestTimestamp() {
        long ts = maxTimestamp.timestamp();
        if (ts >= 0) {
            return ts;
        }
        try {
            return Files.getLastModifiedTime(logPath).toMillis();
        } catch (IOException e) {
            return Long.MAX_VALUE; // cannot tell: keep it
        }
    }

    /** Renames atomically where the file system can (replacing the target). */
    static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    static String fileName(long baseOffset, String suffix) {
        return String.format("%020d", baseOffset) + suffix;
    }

    static boolean indexFilesExist(Path dir, long baseOffset) {
        return Files.exists(dir.resolve(fileName(baseOffset, INDEX_SUFFIX)))
                && Files.exists(dir.resolve(fileName(baseOffset, TIME_INDEX_SUFFIX)));
    }

    /**
     * Bookkeeping for one batch written at {@code position}: max timestamp, and an offset/time index
     * entry once more than {@code indexIntervalBytes} were written since the previous one (Kafka's cadence).
     */
    void onBatch(long lastOffset, long batchMaxTimestamp, int position, int batchSize, int indexIntervalBytes) {
        if (position == 0) {
            rollingBasedTimestamp = batchMaxTimestamp;
        }
        if (batchMaxTimestamp > maxTimestamp.timestamp()) {
            maxTimestamp = new MaxTimestamp(batchMaxTimestamp, lastOffset);
        }
        if (bytesSinceLastIndexEntry > indexIntervalBytes && !offsetIndex.isFull()) {
            offsetIndex.append(lastOffset, position);
            MaxTimestamp m = maxTimestamp;
            timeIndex.maybeAppend(m.timestamp(), m.offset());
            bytesSinceLastIndexEntry = 0;
        }
        bytesSinceLastIndexEntry += batchSize;
        nextOffset = lastOffset + 1;
    }

    /** Bookkeeping for one batch when the indexes are kept as they are (already valid). */
    void onBatchNoIndex(long lastOffset, long batchMaxTimestamp, int position, int batchSize) {
        if (position == 0) {
            rollingBasedTimestamp = batchMaxTimestamp;
        }
        if (batchMaxTimestamp > maxTimestamp.timestamp()) {
            maxTimestamp = new MaxTimestamp(batchMaxTimestamp, lastOffset);
        }
        bytesSinceLastIndexEntry += batchSize;
        nextOffset = lastOffset + 1;
    }

    boolean indexesFull() {
        return offsetIndex.isFull() || timeIndex.isFull();
    }

    /** Writes all of {@code data} at the end of the file (does not publish {@link #size}). */
    void write(ByteBuffer data, int position) throws IOException {
        long p = position;
        while (data.hasRemaining()) {
            p += channel.write(data, p);
        }
        dirty = true;
    }

    /** Adds the final time index entry and trims the preallocated indexes. */
    void onBecomeInactive() throws IOException {
        MaxTimestamp m = maxTimestamp;
        if (m.offset() >= 0) {
            timeIndex.maybeAppend(m.timestamp(), m.offset());
        }
        offsetIndex.trimToValidSize();
        timeIndex.trimToValidSize();
    }

    void makeActive(int segmentIndexBytes) throws IOException {
        offsetIndex.makeActive(segmentIndexBytes);
        timeIndex.makeActive(segmentIndexBytes);
    }

    /** Empties both indexes (before rebuilding them). */
    void resetIndexes() throws IOException {
        offsetIndex.clear();
        timeIndex.clear();
        bytesSinceLastIndexEntry = 0;
    }

    void flush() throws IOException {
        if (dirty) {
            channel.force(true);
            dirty = false;
        }
        offsetIndex.flush();
        timeIndex.flush();
        txnIndex.flush();
    }

    /**
     * Reads the header of the batch at {@code position} into {@code header} (61 bytes). Returns
     * false if fewer than a header's bytes exist before {@code limit}.
     */
    boolean readHeader(int position, int limit, ByteBuffer header) throws IOException {
        if (limit - position < RecordBatch.RECORD_BATCH_OVERHEAD) {
            return false;
        }
        header.clear().limit(RecordBatch.RECORD_BATCH_OVERHEAD);
        long p = position;
        while (header.hasRemaining()) {
            int n = channel.read(header, p);
            if (n < 0) {
                return false;
            }
            p += n;
        }
        header.flip();
        return true;
    }

    /**
     * Position of the first batch (below {@code limit}) whose last offset is &gt;= {@code target}, or -1.
     * Uses the offset index then scans batch headers.
     */
    int positionOf(long target, int limit, ByteBuffer header, RecordBatch flyweight) throws IOException {
        int pos = Math.min(offsetIndex.lookup(target), limit);
        while (readHeader(pos, limit, header)) {
            flyweight.wrap(header, 0);
            int batchSize = flyweight.sizeInBytes();
            if (batchSize < RecordBatch.RECORD_BATCH_OVERHEAD || pos + (long) batchSize > limit) {
                return -1;
            }
            if (flyweight.lastOffset() >= target) {
                return pos;
            }
            pos += batchSize;
        }
        return -1;
    }

    void close() throws IOException {
        try {
            channel.close();
        } finally {
            offsetIndex.close();
            timeIndex.close();
            txnIndex.close();
        }
    }

    void closeAndDelete() throws IOException {
        try {
            channel.close();
        } finally {
            offsetIndex.closeAndDelete();
            timeIndex.closeAndDelete();
            txnIndex.closeAndDelete();
            Files.deleteIfExists(logPath);
        }
    }

    @Override
    public String toString() {
        return "LogSegment(" + logPath.getFileName() + ", size=" + size + ")";
    }
}
