package dev.runnel.metadata.raft;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The most recently applied batches of a voter, bounded by count and bytes, from which the leader serves observers.
 * Invariant: every batch with an index in {@code (base, last applied]} is held, in index order.
 */
final class CommittedTail {

    record Batch(long index, long term, byte[] data) {
    }

    /** What {@link #read} found: either "you are too far behind, take a snapshot" or the batches after the index. */
    record Read(boolean needSnapshot, List<Batch> batches) {
        static final Read SNAPSHOT = new Read(true, List.of());
        static final Read EMPTY = new Read(false, List.of());
    }

    private final int maxEntries;
    private final long maxBytes;

    private Batch[] ring = new Batch[16];
    private int head;
    private int size;
    private long bytes;
    private long base;
    private List<CompletableFuture<Void>> waiters = new ArrayList<>();

    CommittedTail(int maxEntries, long maxBytes, long base) {
        this.maxEntries = maxEntries;
        this.maxBytes = maxBytes;
        this.base = base;
    }

    /** Drops everything: the state now is a snapshot at {@code index}. Returns the waiters to wake. */
    synchronized List<CompletableFuture<Void>> reset(long index) {
        for (int i = 0; i < size; i++) {
            ring[(head + i) & (ring.length - 1)] = null;
        }
        head = 0;
        size = 0;
        bytes = 0;
        base = index;
        return takeWaiters();
    }

    /** Adds a newly applied batch (indexes increase). Returns the parked fetches to wake (complete them elsewhere). */
    synchronized List<CompletableFuture<Void>> add(long index, long term, byte[] data) {
        if (size > 0 && index <= get(size - 1).index()) {
            throw new IllegalStateException("batch index " + index + " not after " + get(size - 1).index());
        }
        if (size == ring.length) {
            grow();
        }
        ring[(head + size) & (ring.length - 1)] = new Batch(index, term, data);
        size++;
        bytes += data.length;
        while (size > maxEntries || (bytes > maxBytes && size > 1)) {
            final Batch evicted = ring[head];
            ring[head] = null;
            head = (head + 1) & (ring.length - 1);
            size--;
            bytes -= evicted.data().length;
            base = evicted.index();
        }
        return takeWaiters();
    }

    /** The batches after {@code afterIndex} (at least one if any, then up to {@code maxBytes}), or "need a snapshot". */
    synchronized Read read(long afterIndex, int maxResponseBytes) {
        if (afterIndex < base) {
            return Read.SNAPSHOT;
        }
        int i = firstAfter(afterIndex);
        if (i >= size) {
            return Read.EMPTY;
        }
        final List<Batch> out = new ArrayList<>();
        long total = 0;
        for (; i < size; i++) {
            final Batch b = get(i);
            if (!out.isEmpty() && total + b.data().length > maxResponseBytes) {
                break;
            }
            out.add(b);
            total += b.data().length;
        }
        return new Read(false, Collections.unmodifiableList(out));
    }

    /** Completes (at once, or when a batch after {@code afterIndex} arrives) so that a parked fetch can re-read. */
    synchronized CompletableFuture<Void> awaitAfter(long afterIndex) {
        if (afterIndex < base || firstAfter(afterIndex) < size) {
            return CompletableFuture.completedFuture(null);
        }
        final CompletableFuture<Void> w = new CompletableFuture<>();
        waiters.add(w);
        return w;
    }

    synchronized void removeWaiter(CompletableFuture<Void> w) {
        waiters.remove(w);
    }

    synchronized List<CompletableFuture<Void>> takeWaiters() {
        if (waiters.isEmpty()) {
            return List.of();
        }
        final List<CompletableFuture<Void>> out = waiters;
        waiters = new ArrayList<>();
        return out;
    }

    synchronized long base() {
        return base;
    }

    synchronized int size() {
        return size;
    }

    synchronized long bytes() {
        return bytes;
    }

    private Batch get(int i) {
        return ring[(head + i) & (ring.length - 1)];
    }

    /** Position of the first batch whose index is greater than {@code afterIndex}; {@code size} when none. */
    private int firstAfter(long afterIndex) {
        int lo = 0;
        int hi = size;
        while (lo < hi) {
            final int mid = (lo + hi) >>> 1;
            if (get(mid).index() <= afterIndex) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    private void grow() {
        final Batch[] bigger = new Batch[ring.length * 2];
        for (int i = 0; i < size; i++) {
            bigger[i] = get(i);
        }
        ring = bigger;
        head = 0;
    }
}
