package dev.runnel.log;

import dev.runnel.wire.records.RecordBatch;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.zip.CRC32C;

/**
 * Sequential walk over the batches of a segment file through a read-ahead window (no allocation
 * per batch, memory bounded by the window whatever the batch sizes: CRCs are computed in chunks).
 * Stops at the first batch that is truncated, undersized (e.g. a zeroed tail), has a bad magic,
 * goes backwards in offsets, or (when checking) fails its CRC, and says why.
 */
final class SegmentScanner {
    private static final int WINDOW = 256 * 1024;

    private final FileChannel channel;
    private final long segmentBase;
    private final long end;
    private final boolean verifyCrc;
    private final ByteBuffer window = ByteBuffer.allocate(WINDOW);
    private final RecordBatch batch = new RecordBatch();
    private final CRC32C crc = new CRC32C();
    private long windowStart;
    private int windowLen;
    private long pos;
    private long current = -1;
    private long expectedMinOffset;
    private String problem;

    SegmentScanner(FileChannel channel, long segmentBase, long start, long end, boolean verifyCrc) {
        this.channel = channel;
        this.segmentBase = segmentBase;
        this.pos = start;
        this.end = end;
        this.verifyCrc = verifyCrc;
        this.expectedMinOffset = segmentBase;
    }

    /** Advances to the next good batch; false at the end of the range or at the first bad batch ({@link #problem()}). */
    boolean next() throws IOException {
        current = -1;
        if (pos >= end) {
            return false;
        }
        long remaining = end - pos;
        if (remaining < RecordBatch.RECORD_BATCH_OVERHEAD) {
            return stop(remaining + " trailing bytes, fewer than a batch header");
        }
        fillWindow(pos, RecordBatch.RECORD_BATCH_OVERHEAD);
        batch.wrap(window, (int) (pos - windowStart));
        int length = batch.batchLength();
        if (length < RecordBatch.MIN_LENGTH) {
            return stop("batch length " + length + " is below the minimum");
        }
        if (batch.magic() != RecordBatch.MAGIC_V2) {
            return stop("magic " + batch.magic() + " is not 2");
        }
        long size = RecordBatch.LOG_OVERHEAD + (long) length;
        if (size > remaining) {
            return stop("batch of " + size + " bytes is truncated to " + remaining);
        }
        long base = batch.baseOffset();
        int delta = batch.lastOffsetDelta();
        if (base < expectedMinOffset || delta < 0 || base + delta - segmentBase > Integer.MAX_VALUE) {
            return stop("batch offsets [" + base + ", " + (base + delta) + "] are out of order (expected >= "
                    + expectedMinOffset + ")");
        }
        if (verifyCrc) {
            long stored = batch.crc();
            long computed = checksum(pos + RecordBatch.ATTRIBUTES_OFFSET, pos + size);
            fillWindow(pos, RecordBatch.RECORD_BATCH_OVERHEAD);
            batch.wrap(window, (int) (pos - windowStart));
            if (stored != computed) {
                return stop("CRC mismatch (stored " + stored + ", computed " + computed + ")");
            }
        }
        current = pos;
        pos += size;
        expectedMinOffset = base + delta + 1;
        return true;
    }

    private boolean stop(String why) {
        problem = "at position " + pos + ": " + why;
        return false;
    }

    /** The current batch's header (valid until the next call). Body bytes may not be in the window. */
    RecordBatch batch() {
        return batch;
    }

    /** File position of the current batch. */
    long position() {
        return current;
    }

    /** Position just after the last good batch. */
    long validEnd() {
        return pos;
    }

    /** Why the scan stopped early, or null if it reached the end. */
    String problem() {
        return problem;
    }

    private long checksum(long from, long to) throws IOException {
        crc.reset();
        long p = from;
        while (p < to) {
            int want = (int) Math.min(WINDOW, to - p);
            fillWindow(p, want);
            int off = (int) (p - windowStart);
            ByteBuffer slice = window.duplicate();
            slice.limit(off + want).position(off);
            crc.update(slice);
            p += want;
        }
        return crc.getValue();
    }

    /** Makes [filePos, filePos + need) available in the window (need &lt;= WINDOW, inside the file). */
    private void fillWindow(long filePos, int need) throws IOException {
        if (filePos >= windowStart && filePos + need <= windowStart + windowLen) {
            return;
        }
        window.clear();
        int toRead = (int) Math.min(WINDOW, end - filePos);
        window.limit(toRead);
        long p = filePos;
        while (window.hasRemaining()) {
            int n = channel.read(window, p);
            if (n < 0) {
                break;
            }
            p += n;
        }
        windowStart = filePos;
        windowLen = window.position();
        window.clear();
        if (windowLen < need) {
            throw new IOException("Segment file is shorter than expected at " + filePos);
        }
    }
}
