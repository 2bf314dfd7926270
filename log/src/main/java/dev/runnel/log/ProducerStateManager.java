package dev.runnel.log;

import dev.runnel.wire.records.RecordBatch;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Idempotent-producer state of one partition, following Kafka's ProducerStateManager /
 * ProducerAppendInfo: per producer id, the epoch and the metadata of its last 5 batches
 * (first/last sequence, first/last offset, timestamp).
 * <ul>
 *   <li>a batch whose epoch and sequence range equal a cached batch's is a duplicate: acknowledged
 *       with the original offsets, nothing appended;</li>
 *   <li>an epoch lower than the current one: {@link LogErrors#INVALID_PRODUCER_EPOCH};</li>
 *   <li>a new (higher) epoch must start at sequence 0, else {@link LogErrors#OUT_OF_ORDER_SEQUENCE_NUMBER}
 *       (unless the producer had no epoch yet);</li>
 *   <li>the same epoch must continue at last sequence + 1 (wrapping after Integer.MAX_VALUE), else
 *       {@link LogErrors#OUT_OF_ORDER_SEQUENCE_NUMBER};</li>
 *   <li>an unknown producer id is accepted at any sequence — since KIP-360 Kafka's leader no longer
 *       answers UNKNOWN_PRODUCER_ID (the state may have been removed by retention), so neither do we;</li>
 *   <li>a non-transactional batch while the producer has an open transaction: {@link LogErrors#INVALID_TXN_STATE}.</li>
 * </ul>
 * Sequence checks apply to {@link AppendOrigin#CLIENT} appends; epochs are checked for all leader
 * appends. Not thread-safe: used under the log's lock; {@link #snapshot()} copies for other threads.
 */
public final class ProducerStateManager {
    public static final int NUM_BATCHES_TO_RETAIN = 5;

    private final Map<Long, Entry> producers = new HashMap<>();

    /** A read-only copy of one producer's state, for tools (DescribeProducers) and tests. */
    public record ProducerState(long producerId, short producerEpoch, int lastSequence, long lastDataOffset,
                                long lastTimestamp, int coordinatorEpoch, long currentTxnFirstOffset,
                                List<BatchMetadata> batches) {
    }

    /** A cached batch. */
    public record BatchMetadata(int firstSeq, int lastSeq, long firstOffset, long lastOffset, long timestamp) {
    }

    /** The original offsets of a duplicate batch. */
    record Duplicate(long firstOffset, long lastOffset, long timestamp) {
    }

    static final class Entry {
        final long producerId;
        short epoch = RecordBatch.NO_PRODUCER_EPOCH;
        long lastTimestamp = RecordBatch.NO_TIMESTAMP;
        long currentTxnFirstOffset = -1L;
        /** The epoch of the transaction coordinator that wrote this producer's last marker, or -1. */
        int coordinatorEpoch = -1;
        // ring buffer of the last batches, oldest first from 'head'
        final int[] firstSeq = new int[NUM_BATCHES_TO_RETAIN];
        final int[] lastSeq = new int[NUM_BATCHES_TO_RETAIN];
        final long[] firstOffset = new long[NUM_BATCHES_TO_RETAIN];
        final long[] lastOffset = new long[NUM_BATCHES_TO_RETAIN];
        final long[] timestamp = new long[NUM_BATCHES_TO_RETAIN];
        int head;
        int count;

        Entry(long producerId) {
            this.producerId = producerId;
        }

        /** Kafka's {@code withProducerId}: same epoch/txn/timestamp, no batches. */
        Entry emptyCopy() {
            Entry e = new Entry(producerId);
            e.epoch = epoch;
            e.lastTimestamp = lastTimestamp;
            e.currentTxnFirstOffset = currentTxnFirstOffset;
            e.coordinatorEpoch = coordinatorEpoch;
            return e;
        }

        int slot(int i) {
            return (head + i) % NUM_BATCHES_TO_RETAIN;
        }

        int lastSeq() {
            return count == 0 ? RecordBatch.NO_SEQUENCE : lastSeq[slot(count - 1)];
        }

        long lastDataOffset() {
            return count == 0 ? -1L : lastOffset[slot(count - 1)];
        }

        void maybeUpdateEpoch(short newEpoch) {
            if (epoch != newEpoch) {
                count = 0;
                head = 0;
                epoch = newEpoch;
            }
        }

        void addBatch(short batchEpoch, int fSeq, int lSeq, long fOff, long lOff, long ts) {
            maybeUpdateEpoch(batchEpoch);
            int s;
            if (count == NUM_BATCHES_TO_RETAIN) {
                s = head;
                head = (head + 1) % NUM_BATCHES_TO_RETAIN;
            } else {
                s = slot(count);
                count++;
            }
            firstSeq[s] = fSeq;
            lastSeq[s] = lSeq;
            firstOffset[s] = fOff;
            lastOffset[s] = lOff;
            timestamp[s] = ts;
            lastTimestamp = ts;
        }

        /** Kafka's {@code ProducerStateEntry.update(nextEntry)}. */
        void update(Entry next) {
            maybeUpdateEpoch(next.epoch);
            for (int i = 0; i < next.count; i++) {
                int s = next.slot(i);
                addBatch(next.epoch, next.firstSeq[s], next.lastSeq[s], next.firstOffset[s], next.lastOffset[s], next.timestamp[s]);
            }
            currentTxnFirstOffset = next.currentTxnFirstOffset;
            coordinatorEpoch = next.coordinatorEpoch;
            lastTimestamp = next.lastTimestamp;
        }

        Duplicate findDuplicate(short batchEpoch, int fSeq, int lSeq) {
            if (batchEpoch != epoch) {
                return null;
            }
            for (int i = 0; i < count; i++) {
                int s = slot(i);
                if (firstSeq[s] == fSeq && lastSeq[s] == lSeq) {
                    return new Duplicate(firstOffset[s], lastOffset[s], timestamp[s]);
                }
            }
            return null;
        }

        ProducerState toState() {
            List<BatchMetadata> bs = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                int s = slot(i);
                bs.add(new BatchMetadata(firstSeq[s], lastSeq[s], firstOffset[s], lastOffset[s], timestamp[s]));
            }
            return new ProducerState(producerId, epoch, lastSeq(), lastDataOffset(), lastTimestamp, coordinatorEpoch,
                    currentTxnFirstOffset, List.copyOf(bs));
        }
    }

    /**
     * The pending changes of one append: validated against the current state plus the earlier
     * batches of the same append, applied only by {@link #commit} once the data is written.
     */
    final class Append {
        private final AppendOrigin origin;
        private final Map<Long, Entry> updated = new HashMap<>(4);
        int errorCode = LogErrors.NONE;
        String errorMessage;

        private Append(AppendOrigin origin) {
            this.origin = origin;
        }

        private Entry updatedEntry(long producerId, Entry current) {
            Entry u = updated.get(producerId);
            if (u == null) {
                u = current != null ? current.emptyCopy() : new Entry(producerId);
                updated.put(producerId, u);
            }
            return u;
        }

        /**
         * Validates and records one batch at its assigned offsets; returns false (with
         * {@link #errorCode} set) if it must be rejected.
         */
        boolean add(RecordBatch batch, long firstOffset, long lastOffset, long maxTimestamp) {
            return add(batch, firstOffset, lastOffset, maxTimestamp, null);
        }

        /** As above; {@code marker} is the transaction marker of a control batch. */
        boolean add(RecordBatch batch, long firstOffset, long lastOffset, long maxTimestamp, EndTxnMarker marker) {
            long pid = batch.producerId();
            short epoch = batch.producerEpoch();
            Entry current = producers.get(pid);
            Entry u = updatedEntry(pid, current);
            if (epoch < u.epoch) {
                return fail(LogErrors.INVALID_PRODUCER_EPOCH, "Epoch of producer " + pid + " at offset " + firstOffset
                        + " is " + epoch + ", which is smaller than the last seen epoch " + u.epoch);
            }
            if (batch.isControl()) {
                // a transaction marker ends the producer's transaction; a stale coordinator is fenced (Kafka's rule)
                if (marker != null && u.coordinatorEpoch > marker.coordinatorEpoch()) {
                    return fail(LogErrors.TRANSACTION_COORDINATOR_FENCED, "Invalid coordinator epoch for producer " + pid
                            + " at offset " + firstOffset + ": " + marker.coordinatorEpoch() + " (zombie), "
                            + u.coordinatorEpoch + " (current)");
                }
                if (marker != null) {
                    u.coordinatorEpoch = marker.coordinatorEpoch();
                }
                u.maybeUpdateEpoch(epoch);
                u.currentTxnFirstOffset = -1L;
                u.lastTimestamp = maxTimestamp;
                return true;
            }
            int firstSeq = batch.baseSequence();
            if (origin == AppendOrigin.CLIENT) {
                if (epoch != u.epoch) {
                    if (firstSeq != 0 && u.epoch != RecordBatch.NO_PRODUCER_EPOCH) {
                        return fail(LogErrors.OUT_OF_ORDER_SEQUENCE_NUMBER, "Invalid sequence number for new epoch of producer "
                                + pid + " at offset " + firstOffset + ": " + epoch + " (request epoch), " + firstSeq
                                + " (seq. number), " + u.epoch + " (current producer epoch)");
                    }
                } else {
                    int currentLastSeq;
                    if (u.count > 0) {
                        currentLastSeq = u.lastSeq();
                    } else if (current != null && epoch == current.epoch) {
                        currentLastSeq = current.lastSeq();
                    } else {
                        currentLastSeq = RecordBatch.NO_SEQUENCE;
                    }
                    boolean noEpoch = current == null || current.epoch == RecordBatch.NO_PRODUCER_EPOCH;
                    if (!noEpoch && !inSequence(currentLastSeq, firstSeq)) {
                        return fail(LogErrors.OUT_OF_ORDER_SEQUENCE_NUMBER, "Out of order sequence number for producer "
                                + pid + " at offset " + firstOffset + ": " + firstSeq + " (incoming seq. number), "
                                + currentLastSeq + " (current end sequence number)");
                    }
                }
            }
            u.addBatch(epoch, firstSeq, batch.lastSequence(), firstOffset, lastOffset, maxTimestamp);
            if (u.currentTxnFirstOffset >= 0 && !batch.isTransactional()) {
                return fail(LogErrors.INVALID_TXN_STATE, "Expected transactional write from producer " + pid
                        + " at offset " + firstOffset);
            } else if (u.currentTxnFirstOffset < 0 && batch.isTransactional()) {
                u.currentTxnFirstOffset = firstOffset;
            }
            return true;
        }

        private boolean fail(int code, String message) {
            errorCode = code;
            errorMessage = message;
            return false;
        }
    }

    static boolean inSequence(int lastSeq, int nextSeq) {
        return nextSeq == lastSeq + 1L || (nextSeq == 0 && lastSeq == Integer.MAX_VALUE);
    }

    Append begin(AppendOrigin origin) {
        return new Append(origin);
    }

    /** Whether the producer has an open transaction in this log at exactly this epoch. */
    boolean inTransaction(long producerId, short epoch) {
        Entry e = producers.get(producerId);
        return e != null && e.epoch == epoch && e.currentTxnFirstOffset >= 0;
    }

    /** The cached batch this one duplicates (same epoch and sequence range), or null. */
    Duplicate findDuplicate(RecordBatch batch) {
        Entry e = producers.get(batch.producerId());
        return e == null ? null : e.findDuplicate(batch.producerEpoch(), batch.baseSequence(), batch.lastSequence());
    }

    void commit(Append append) {
        for (Map.Entry<Long, Entry> e : append.updated.entrySet()) {
            Entry current = producers.get(e.getKey());
            if (current == null) {
                current = new Entry(e.getKey());
                producers.put(e.getKey(), current);
            }
            current.update(e.getValue());
        }
    }

    /** Replays a batch already in the log (recovery, follower appends): no validation. */
    void replay(RecordBatch batch) {
        replay(batch, null);
    }

    /** As {@link #replay(RecordBatch)}; {@code marker} is the transaction marker of a control batch, if known. */
    void replay(RecordBatch batch, EndTxnMarker marker) {
        long pid = batch.producerId();
        Entry e = producers.computeIfAbsent(pid, Entry::new);
        if (batch.isControl()) {
            if (marker != null) {
                e.coordinatorEpoch = Math.max(e.coordinatorEpoch, marker.coordinatorEpoch());
            }
            e.maybeUpdateEpoch(batch.producerEpoch());
            e.currentTxnFirstOffset = -1L;
            e.lastTimestamp = batch.maxTimestamp();
            return;
        }
        e.addBatch(batch.producerEpoch(), batch.baseSequence(), batch.lastSequence(), batch.baseOffset(),
                batch.lastOffset(), batch.maxTimestamp());
        if (batch.isTransactional() && e.currentTxnFirstOffset < 0) {
            e.currentTxnFirstOffset = batch.baseOffset();
        }
    }

    void clear() {
        producers.clear();
    }

    /** Every producer's entry, for {@link ShutdownSnapshot} (under the log's lock). */
    void forEachEntry(java.util.function.Consumer<Entry> action) {
        producers.values().forEach(action);
    }

    /** Adds an entry read back by {@link ShutdownSnapshot}. */
    void put(Entry e) {
        producers.put(e.producerId, e);
    }

    int producerCount() {
        return producers.size();
    }

    /** A copy of the state of every producer. */
    List<ProducerState> snapshot() {
        List<ProducerState> out = new ArrayList<>(producers.size());
        for (Entry e : producers.values()) {
            out.add(e.toState());
        }
        return out;
    }
}
