package dev.runnel.log;

import dev.runnel.wire.records.RecordBatch;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * What a partition log does for transactions, kept out of {@link PartitionLog} (which only calls in here at its
 * append, replay, load, truncate and read points). Everything is driven by the batches the log sees, whoever
 * appends them:
 * <ul>
 *   <li>a producer's transactional data batch opens its transaction (the {@link TransactionTracker} keeps the
 *       open ones and so the last stable offset);</li>
 *   <li>a COMMIT or ABORT control batch ({@link EndTxnMarker}) closes it; an ABORT of a transaction with data
 *       appends an {@link AbortedTxn} to the {@code .txnindex} of the segment the marker went into;</li>
 *   <li>on open after a crash every scanned segment's index is recomputed from the replay and merged with what
 *       the file holds (see {@link #reconcileIndex}); after a clean shutdown the indexes are trusted when their
 *       entry count matches the one the shutdown recorded;</li>
 *   <li>a read_committed fetch gets the aborted transactions of its range from the in-memory copies of the
 *       indexes ({@link #collect}).</li>
 * </ul>
 * All methods but {@link #collect} run under the log's lock.
 */
final class LogTransactions {
    /** Control batches larger than this are not read for a marker (Kafka's markers are about 80 bytes). */
    private static final int MAX_CONTROL_BATCH_BYTES = 1 << 20;

    private LogTransactions() {
    }

    /** A batch was written at its final offset (leader, coordinator or follower append). */
    static void onAppended(RecordBatch b, LogSegment seg, TransactionTracker txns) throws IOException {
        EndTxnMarker marker = b.isControl() ? EndTxnMarker.read(b) : null;
        AbortedTxn aborted = txns.onBatch(b, marker);
        if (aborted != null) {
            seg.txnIndex.append(aborted);
        }
    }

    /**
     * Replays a batch already in the log at {@code position} of {@code seg} (whose header {@code b} may be a view
     * of a read-ahead window): producer state, open transactions, and the aborted transaction it closes, which
     * goes to {@code abortedOut} when that is not null.
     */
    static void replay(RecordBatch b, LogSegment seg, int position, ProducerStateManager producers,
                       TransactionTracker txns, List<AbortedTxn> abortedOut) throws IOException {
        EndTxnMarker marker = b.isControl() ? readMarker(seg, position, b.sizeInBytes()) : null;
        producers.replay(b, marker);
        if (b.isTransactional() || b.isControl()) {
            AbortedTxn aborted = txns.onBatch(b, marker);
            if (aborted != null && abortedOut != null) {
                abortedOut.add(aborted);
            }
        }
    }

    private static EndTxnMarker readMarker(LogSegment seg, int position, int size) throws IOException {
        if (size < RecordBatch.RECORD_BATCH_OVERHEAD || size > MAX_CONTROL_BATCH_BYTES) {
            return null;
        }
        ByteBuffer buf = ByteBuffer.allocate(size);
        new LogRegion(seg.channel, position, size).readInto(buf);
        return EndTxnMarker.read(RecordBatch.at(buf.flip(), 0));
    }

    /**
     * After a segment was scanned on open: makes its {@code .txnindex} hold every abort the replay found plus
     * the file's own entries that still lie within the segment's data (an entry whose transaction began below
     * the log start offset cannot be recomputed, so the file's is kept). Rewrites the file only when that
     * differs from it; returns what was wrong, or null.
     */
    static String reconcileIndex(LogSegment seg, List<AbortedTxn> computed) throws IOException {
        TransactionIndex idx = seg.txnIndex;
        List<AbortedTxn> onFile = idx.all();
        List<AbortedTxn> merged = new ArrayList<>(Math.max(onFile.size(), computed.size()));
        int i = 0;
        int j = 0;
        while (i < onFile.size() || j < computed.size()) {
            AbortedTxn f = i < onFile.size() ? onFile.get(i) : null;
            AbortedTxn c = j < computed.size() ? computed.get(j) : null;
            if (f != null && (f.lastOffset() < seg.baseOffset || f.lastOffset() >= seg.nextOffset)) {
                i++; // its marker is not in this segment's data (any more)
            } else if (c != null && (f == null || c.lastOffset() <= f.lastOffset())) {
                if (f != null && f.lastOffset() == c.lastOffset()) {
                    i++;
                }
                merged.add(c);
                j++;
            } else {
                merged.add(f);
                i++;
            }
        }
        String problem = idx.loadProblem();
        if (merged.equals(onFile) && problem == null) {
            return null;
        }
        idx.replaceAll(merged);
        return seg.logPath.getFileName() + ": aborted-transaction index rebuilt (" + onFile.size() + " entr"
                + (onFile.size() == 1 ? "y" : "ies") + " on file, " + merged.size() + " now"
                + (problem != null ? "; " + problem : "") + ")";
    }

    /** Clean-shutdown open: why the segments' aborted-transaction indexes cannot be trusted, or null. */
    static String checkIndexes(List<LogSegment> segments, int expectedEntries) {
        int total = 0;
        for (LogSegment seg : segments) {
            if (seg.txnIndex.loadProblem() != null) {
                return seg.txnIndex.loadProblem();
            }
            total += seg.txnIndex.entryCount();
        }
        if (total != expectedEntries) {
            return "the aborted-transaction indexes hold " + total + " entries, the shutdown recorded " + expectedEntries;
        }
        return null;
    }

    static int indexEntries(LogSegment[] segments) {
        int total = 0;
        for (LogSegment seg : segments) {
            total += seg.txnIndex.entryCount();
        }
        return total;
    }

    /** After a producer-state snapshot was loaded: its producers' open transactions. */
    static void restoreOpen(ProducerStateManager producers, TransactionTracker txns) {
        producers.forEachEntry(e -> {
            if (e.currentTxnFirstOffset >= 0) {
                txns.restoreOpen(e.producerId, e.currentTxnFirstOffset);
            }
        });
    }

    /**
     * The aborted transactions for a read_committed fetch at {@code fetchOffset} that returned {@code read}: Kafka's
     * {@code collectAbortedTransactions} over the segments from the fetch offset's on, up to the offset that follows
     * the data (the base offset of the next batch, one 8-byte read; the log end offset when none follows). Lock-free.
     */
    static List<AbortedTxn> collect(LogSegment[] segs, long fetchOffset, LogReadResult read) {
        if (read.regions().isEmpty()) {
            return List.of();
        }
        long upper = nextOffsetAfter(read.regions().get(read.regions().size() - 1), fetchOffset, read.logEndOffset());
        int from = 0;
        for (int i = segs.length - 1; i >= 0; i--) {
            if (segs[i].baseOffset <= fetchOffset) {
                from = i;
                break;
            }
        }
        List<AbortedTxn> out = null;
        List<AbortedTxn> scratch = new ArrayList<>(0);
        for (int i = from; i < segs.length; i++) {
            boolean complete = segs[i].txnIndex.collect(fetchOffset, upper, scratch);
            if (!scratch.isEmpty()) {
                if (out == null) {
                    out = new ArrayList<>(scratch.size());
                }
                out.addAll(scratch);
                scratch.clear();
            }
            if (complete) {
                break;
            }
        }
        return out == null ? List.of() : out;
    }

    private static long nextOffsetAfter(LogRegion last, long fetchOffset, long fallback) {
        ByteBuffer b = ByteBuffer.allocate(Long.BYTES);
        long pos = last.position() + last.length();
        try {
            while (b.hasRemaining()) {
                if (last.channel().read(b, pos + b.position()) < 0) {
                    return fallback;
                }
            }
        } catch (IOException | RuntimeException e) {
            return fallback; // the segment went away meanwhile: a wider bound only returns more entries
        }
        long next = b.getLong(0);
        return next > fetchOffset && next <= fallback ? next : fallback;
    }
}
