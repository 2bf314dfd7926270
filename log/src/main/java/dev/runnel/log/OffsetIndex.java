package dev.runnel.log;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.file.Path;

/**
 * Kafka's {@code .index}: 8-byte entries (offset relative to the segment base, int32; file position,
 * int32). Each entry points at the start of a batch and names that batch's last offset.
 */
final class OffsetIndex extends IndexFile {
    static final int ENTRY_SIZE = 8;

    OffsetIndex(Path path, long baseOffset) throws IOException {
        super(path, baseOffset, ENTRY_SIZE);
    }

    void append(long offset, int position) {
        int at = nextEntryPosition();
        MappedByteBuffer m = buffer();
        m.putInt(at, (int) (offset - baseOffset));
        m.putInt(at + 4, position);
        commitEntry();
    }

    long offsetAt(MappedByteBuffer m, int i) {
        return baseOffset + m.getInt(i * ENTRY_SIZE);
    }

    int positionAt(MappedByteBuffer m, int i) {
        return m.getInt(i * ENTRY_SIZE + 4);
    }

    /** Last indexed offset, or the base offset when empty. */
    long lastOffset() {
        int n = entries();
        return n == 0 ? baseOffset : offsetAt(buffer(), n - 1);
    }

    /** File position of the entry with the largest offset &lt;= {@code target}, or 0. */
    int lookup(long target) {
        MappedByteBuffer m = buffer();
        int lo = 0;
        int hi = entries() - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (offsetAt(m, mid) <= target) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found < 0 ? 0 : positionAt(m, found);
    }

    /** The largest indexed position &lt;= {@code position}, or -1. */
    int floorPosition(int position) {
        MappedByteBuffer m = buffer();
        int lo = 0;
        int hi = entries() - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            int p = positionAt(m, mid);
            if (p <= position) {
                found = p;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found;
    }

    /** Removes entries whose offset is &gt;= {@code offset}. */
    void truncateTo(long offset) {
        MappedByteBuffer m = buffer();
        int n = entries();
        int keep = n;
        while (keep > 0 && offsetAt(m, keep - 1) >= offset) {
            keep--;
        }
        truncateToEntries(keep);
    }

    /**
     * Cheap consistency check against the segment: entries increasing at both ends, positions
     * inside the log file, offsets at or above the base.
     */
    String sanityProblem(int logSize) throws IOException {
        if (!isAligned()) {
            return "length is not a multiple of " + ENTRY_SIZE;
        }
        MappedByteBuffer m = buffer();
        int n = entries();
        for (int i = 0; i < n; i++) {
            int rel = m.getInt(i * ENTRY_SIZE);
            int pos = positionAt(m, i);
            if (rel < 0 || pos < 0 || pos >= logSize) {
                return "entry " + i + " (" + rel + ", " + pos + ") is outside the segment";
            }
            if (i > 0 && (rel <= m.getInt((i - 1) * ENTRY_SIZE) || pos <= positionAt(m, i - 1))) {
                return "entries " + (i - 1) + " and " + i + " are not increasing";
            }
        }
        return null;
    }
}
