package dev.runnel.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * A run of whole batches inside one segment file, for zero-copy sending (e.g. a Netty FileRegion
 * over {@code channel}). The channel belongs to the log: do not close it (note that Netty's
 * {@code DefaultFileRegion} closes its channel when released, so wrap the channel in a FileRegion
 * that does not).
 */
public record LogRegion(FileChannel channel, long position, int length) {

    /** Copies the bytes into {@code dst} (which must have {@code length} bytes remaining). */
    public void readInto(ByteBuffer dst) throws IOException {
        long p = position;
        int end = dst.position() + length;
        ByteBuffer d = dst.duplicate();
        d.limit(end);
        while (d.hasRemaining()) {
            int n = channel.read(d, p);
            if (n < 0) {
                throw new IOException("Segment file ended before " + (position + length) + " (truncated concurrently?)");
            }
            p += n;
        }
        dst.position(end);
    }
}
