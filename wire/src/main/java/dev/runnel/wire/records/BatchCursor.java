package dev.runnel.wire.records;

import java.nio.ByteBuffer;

/**
 * Walks the batches of a buffer of concatenated batches, from its position to its limit, with one
 * reused {@link RecordBatch} flyweight and no validation beyond "all bytes present" (use
 * {@link BatchValidator} first for untrusted input). The buffer's position is not changed.
 *
 * <pre>
 * BatchCursor cursor = new BatchCursor(records);
 * while (cursor.next()) { RecordBatch b = cursor.batch(); ... }
 * </pre>
 */
public final class BatchCursor {
    private final ByteBuffer buffer;
    private final int end;
    private final RecordBatch batch = new RecordBatch();
    private int next;
    private int current = -1;

    public BatchCursor(ByteBuffer buffer) {
        this.buffer = buffer;
        this.next = buffer.position();
        this.end = buffer.limit();
    }

    /**
     * Advances to the next batch. Returns false at the end, or when the remaining bytes do not form
     * a complete batch (see {@link #trailingBytes()}).
     */
    public boolean next() {
        if (end - next < RecordBatch.LOG_OVERHEAD) {
            current = -1;
            return false;
        }
        batch.wrap(buffer, next);
        int length = batch.batchLength();
        if (length < 0 || (long) end - next - RecordBatch.LOG_OVERHEAD < length) {
            current = -1;
            return false;
        }
        current = next;
        next += RecordBatch.LOG_OVERHEAD + length;
        return true;
    }

    /** The current batch (valid after {@link #next()} returned true, until the next call). */
    public RecordBatch batch() {
        if (current < 0) {
            throw new IllegalStateException("no current batch");
        }
        return batch;
    }

    /** Absolute index where the next batch would start. */
    public int nextPosition() {
        return next;
    }

    /** Bytes after the last complete batch returned (non-zero means a partial batch at the end). */
    public int trailingBytes() {
        return end - next;
    }
}
