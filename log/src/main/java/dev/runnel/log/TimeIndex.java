package dev.runnel.log;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.file.Path;

/**
 * Kafka's {@code .timeindex}: 12-byte entries (timestamp int64, offset relative to the segment base
 * int32), appended only when the segment's max timestamp so far increases; the offset is the last
 * offset of the batch that carried that max timestamp.
 */
final class TimeIndex extends IndexFile {
    static final int ENTRY_SIZE = 12;

    TimeIndex(Path path, long baseOffset) throws IOException {
        super(path, baseOffset, ENTRY_SIZE);
    }

    long timestampAt(MappedByteBuffer m, int i) {
        return m.getLong(i * ENTRY_SIZE);
    }

    long offsetAt(MappedByteBuffer m, int i) {
        return baseOffset + m.getInt(i * ENTRY_SIZE + 8);
    }

    /** Appends (timestamp, offset) if the timestamp is larger than the last entry's. */
    void maybeAppend(long timestamp, long offset) {
        int n = entries();
        MappedByteBuffer m = buffer();
        if (n > 0 && timestamp <= timestampAt(m, n - 1)) {
            return;
        }
        if (isFull()) {
            return;
        }
        int at = nextEntryPosition();
        m.putLong(at, timestamp);
        m.putInt(at + 8, (int) (offset - baseOffset));
        commitEntry();
    }

    /** The last entry's timestamp, or -1. */
    long lastTimestamp() {
        int n = entries();
        return n == 0 ? -1L : timestampAt(buffer(), n - 1);
    }

    /** The last entry's offset, or -1. */
    long lastEntryOffset() {
        int n = entries();
        return n == 0 ? -1L : offsetAt(buffer(), n - 1);
    }

    /** Offset of the entry with the largest timestamp &lt;= {@code target}, or the base offset. */
    long lookup(long target) {
        MappedByteBuffer m = buffer();
        int lo = 0;
        int hi = entries() - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (timestampAt(m, mid) <= target) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found < 0 ? baseOffset : offsetAt(m, found);
    }

    /** Removes entries whose offset is &gt;= {@code offset}. */
    void truncateTo(long offset) {
        MappedByteBuffer m = buffer();
        int keep = entries();
        while (keep > 0 && offsetAt(m, keep - 1) >= offset) {
            keep--;
        }
        truncateToEntries(keep);
    }

    String sanityProblem() throws IOException {
        if (!isAligned()) {
            return "length is not a multiple of " + ENTRY_SIZE;
        }
        MappedByteBuffer m = buffer();
        int n = entries();
        for (int i = 0; i < n; i++) {
            int rel = m.getInt(i * ENTRY_SIZE + 8);
            if (rel < 0) {
                return "entry " + i + " has a negative offset";
            }
            if (i > 0 && (timestampAt(m, i) <= timestampAt(m, i - 1) || rel < m.getInt((i - 1) * ENTRY_SIZE + 8))) {
                return "entries " + (i - 1) + " and " + i + " are not increasing";
            }
        }
        return null;
    }
}
