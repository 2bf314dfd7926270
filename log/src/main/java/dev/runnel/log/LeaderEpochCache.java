package dev.runnel.log;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Leader epoch → start offset, as Kafka's LeaderEpochFileCache: filled from the
 * PartitionLeaderEpoch of appended batches, answering OffsetForLeaderEpoch. Rebuilt from batch
 * headers when the log opens; written to {@code leader-epoch-checkpoint} (Kafka's format) on close.
 * Thread-safe.
 */
public final class LeaderEpochCache {
    static final String CHECKPOINT_FILE = "leader-epoch-checkpoint";

    private record Entry(int epoch, long startOffset) {
    }

    private final List<Entry> entries = new ArrayList<>();

    /** Records that {@code epoch} starts at {@code startOffset} (ignored unless it is a new, larger epoch). */
    public synchronized void assign(int epoch, long startOffset) {
        if (epoch < 0) {
            return;
        }
        if (!entries.isEmpty()) {
            Entry last = entries.get(entries.size() - 1);
            if (epoch == last.epoch && startOffset >= last.startOffset) {
                return;
            }
        }
        entries.removeIf(e -> e.epoch >= epoch || e.startOffset >= startOffset);
        entries.add(new Entry(epoch, startOffset));
    }

    /** The latest epoch, or -1. */
    public synchronized int latestEpoch() {
        return entries.isEmpty() ? -1 : entries.get(entries.size() - 1).epoch;
    }

    /** The epoch of the batch holding {@code offset}, or -1. */
    public synchronized int epochForOffset(long offset) {
        int found = -1;
        for (Entry e : entries) {
            if (e.startOffset <= offset) {
                found = e.epoch;
            } else {
                break;
            }
        }
        return found;
    }

    /**
     * Kafka's {@code endOffsetFor}: for the latest epoch the log end offset; otherwise the largest
     * epoch &lt;= requested with the start offset of the next epoch; {@link EpochEndOffset#UNDEFINED}
     * for an undefined epoch.
     */
    public synchronized EpochEndOffset endOffsetFor(int requestedEpoch, long logEndOffset) {
        if (requestedEpoch < 0 || entries.isEmpty()) {
            return EpochEndOffset.UNDEFINED;
        }
        if (requestedEpoch == latestEpoch()) {
            return new EpochEndOffset(requestedEpoch, logEndOffset);
        }
        Entry floor = null;
        Entry higher = null;
        for (Entry e : entries) {
            if (e.epoch <= requestedEpoch) {
                floor = e;
            } else {
                higher = e;
                break;
            }
        }
        if (higher == null) {
            return EpochEndOffset.UNDEFINED;
        }
        if (floor == null) {
            return new EpochEndOffset(requestedEpoch, higher.startOffset);
        }
        return new EpochEndOffset(floor.epoch, higher.startOffset);
    }

    /** Forgets epochs starting at or after {@code endOffset} (log truncated to it). */
    public synchronized void truncateFromEnd(long endOffset) {
        entries.removeIf(e -> e.startOffset >= endOffset);
    }

    /** Log start moved to {@code startOffset}: older epochs go, the one covering it starts there. */
    public synchronized void truncateFromStart(long startOffset) {
        int keepFrom = 0;
        for (int i = 0; i < entries.size(); i++) {
            if (entries.get(i).startOffset <= startOffset) {
                keepFrom = i;
            }
        }
        if (!entries.isEmpty() && entries.get(keepFrom).startOffset < startOffset) {
            entries.set(keepFrom, new Entry(entries.get(keepFrom).epoch, startOffset));
        }
        entries.subList(0, keepFrom).clear();
    }

    public synchronized void clear() {
        entries.clear();
    }

    /** Kafka's checkpoint text: version 0, entry count, then "epoch startOffset" lines. */
    synchronized String checkpointText() {
        StringBuilder sb = new StringBuilder("0\n").append(entries.size()).append('\n');
        for (Entry e : entries) {
            sb.append(e.epoch).append(' ').append(e.startOffset).append('\n');
        }
        return sb.toString();
    }

    /** The entries as (epoch, start offset) pairs, oldest first: for the clean-shutdown snapshot. */
    synchronized List<long[]> entryPairs() {
        List<long[]> out = new ArrayList<>(entries.size());
        for (Entry e : entries) {
            out.add(new long[] {e.epoch, e.startOffset});
        }
        return out;
    }

    /** Replaces the entries with pairs read back from the clean-shutdown snapshot (validated there). */
    synchronized void restore(List<long[]> pairs) {
        entries.clear();
        for (long[] p : pairs) {
            entries.add(new Entry((int) p[0], p[1]));
        }
    }

    synchronized void writeCheckpoint(Path dir) throws IOException {
        StateFiles.writeAtomically(dir.resolve(CHECKPOINT_FILE), checkpointText().getBytes(StandardCharsets.UTF_8), false);
    }
}
