package dev.runnel.log;

import dev.runnel.wire.records.RecordBatch;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The transactions of one partition as its log sees them, driven only by the batches appended (as leader, for
 * the coordinator, as follower, or replayed on open): a producer's first transactional batch opens its
 * transaction, its COMMIT or ABORT marker completes it. Kafka's rules (ProducerStateManager's ongoing and
 * unreplicated transactions):
 * <ul>
 *   <li>a completed transaction still pins the last stable offset until the high watermark passes its marker
 *       (a marker that is not replicated yet may still be truncated away);</li>
 *   <li>the <b>last stable offset</b> is min(high watermark, first offset of the earliest transaction that is
 *       open or completed above the high watermark);</li>
 *   <li>an ABORT of a transaction with data gives an {@link AbortedTxn} for the segment's index, whose last
 *       stable offset is the first offset of the earliest open transaction of another producer, or the marker's
 *       offset + 1;</li>
 *   <li>a marker of a producer without an open transaction (no data in this partition) changes nothing.</li>
 * </ul>
 * Mutated under the log's lock; {@link #lastStableOffset(long)} is lock-free (one volatile read of an
 * immutable view).
 */
final class TransactionTracker {
    /** First offset of each producer's open transaction. */
    private final Map<Long, Long> openByProducer = new HashMap<>();
    /** Open transactions by first offset → producer id. */
    private final TreeMap<Long, Long> open = new TreeMap<>();
    /** Completed transactions whose marker may be above the high watermark: first offset → marker offset. */
    private final TreeMap<Long, Long> unreplicated = new TreeMap<>();

    /** What readers need: the first open transaction's offset and the (first, marker) pairs of unreplicated ones. */
    private record View(long firstOpen, long[] unreplicated) {
    }

    private static final View EMPTY = new View(Long.MAX_VALUE, new long[0]);
    private volatile View view = EMPTY;

    /**
     * Applies one appended batch (after it is in the log). {@code marker} is the batch's marker when it is a
     * control batch (null otherwise, or for a control batch without one). Returns the index entry when the
     * batch aborted a transaction with data, else null.
     */
    AbortedTxn onBatch(RecordBatch b, EndTxnMarker marker) {
        if (!b.hasProducerId()) {
            return null;
        }
        long pid = b.producerId();
        if (b.isControl()) {
            if (marker == null) {
                return null;
            }
            Long first = openByProducer.remove(pid);
            if (first == null) {
                return null;
            }
            open.remove(first);
            long markerOffset = b.baseOffset();
            unreplicated.put(first, markerOffset);
            publish();
            if (marker.commit()) {
                return null;
            }
            long lso = markerOffset + 1;
            for (Map.Entry<Long, Long> e : open.entrySet()) {
                if (e.getValue() != pid) {
                    lso = e.getKey();
                    break;
                }
            }
            return new AbortedTxn(pid, first, markerOffset, lso);
        }
        if (b.isTransactional() && !openByProducer.containsKey(pid)) {
            openByProducer.put(pid, b.baseOffset());
            open.put(b.baseOffset(), pid);
            publish();
        }
        return null;
    }

    /** A transaction open since {@code firstOffset}, restored from a producer-state snapshot. */
    void restoreOpen(long producerId, long firstOffset) {
        openByProducer.put(producerId, firstOffset);
        open.put(firstOffset, producerId);
        publish();
    }

    /** The high watermark moved: completed transactions whose marker is below it no longer pin the LSO. */
    void onHighWatermark(long highWatermark) {
        if (unreplicated.isEmpty()) {
            return;
        }
        boolean changed = unreplicated.values().removeIf(marker -> marker < highWatermark);
        if (changed) {
            publish();
        }
    }

    void clear() {
        openByProducer.clear();
        open.clear();
        unreplicated.clear();
        view = EMPTY;
    }

    private void publish() {
        long[] u = new long[unreplicated.size() * 2];
        int i = 0;
        for (Map.Entry<Long, Long> e : unreplicated.entrySet()) {
            u[i++] = e.getKey();
            u[i++] = e.getValue();
        }
        view = new View(open.isEmpty() ? Long.MAX_VALUE : open.firstKey(), u);
    }

    /** min(high watermark, first offset of the earliest open or unreplicated transaction). Lock-free. */
    long lastStableOffset(long highWatermark) {
        return Math.min(highWatermark, firstUnstableOffset(highWatermark));
    }

    /**
     * The first offset of the earliest transaction that is open or whose marker is not below {@code highWatermark},
     * or Long.MAX_VALUE. Lock-free.
     */
    long firstUnstableOffset(long highWatermark) {
        View v = view;
        long lso = v.firstOpen;
        long[] u = v.unreplicated;
        for (int i = 0; i < u.length; i += 2) {
            if (u[i + 1] >= highWatermark) {
                lso = Math.min(lso, u[i]);
                break; // ascending by first offset
            }
        }
        return lso;
    }

    /** The first offset of the earliest open transaction, or -1. */
    long firstOpenOffset() {
        long f = view.firstOpen;
        return f == Long.MAX_VALUE ? -1L : f;
    }

    /** Open transactions as (producer id, first offset), oldest first. */
    List<long[]> openTransactions() {
        List<long[]> out = new ArrayList<>(open.size());
        for (Map.Entry<Long, Long> e : open.entrySet()) {
            out.add(new long[] {e.getValue(), e.getKey()});
        }
        return out;
    }
}
