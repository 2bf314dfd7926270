package dev.runnel.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * An immutable answer to a read: the log's offsets at the time of the read and the file regions
 * (whole batches, in offset order, the first one containing the fetch offset) to send.
 *
 * @param errorCode      {@link LogErrors#NONE}, {@link LogErrors#OFFSET_OUT_OF_RANGE} or
 *                       {@link LogErrors#KAFKA_STORAGE_ERROR}
 * @param highWatermark  the high watermark when the read was made
 * @param logStartOffset the log start offset when the read was made
 * @param logEndOffset   the log end offset when the read was made
 * @param regions        the data, possibly empty (never null)
 * @param sizeInBytes    total bytes of {@code regions}
 */
public record LogReadResult(int errorCode, long highWatermark, long logStartOffset, long logEndOffset,
                            List<LogRegion> regions, int sizeInBytes) {

    public boolean isOk() {
        return errorCode == LogErrors.NONE;
    }

    /** Copies all regions into a new heap buffer (position 0, limit = size): for tests and non-zero-copy paths. */
    public ByteBuffer toByteBuffer() throws IOException {
        ByteBuffer out = ByteBuffer.allocate(sizeInBytes);
        for (LogRegion r : regions) {
            r.readInto(out);
        }
        return out.flip();
    }

    static LogReadResult error(int code, long hw, long start, long end) {
        return new LogReadResult(code, hw, start, end, List.of(), 0);
    }
}
