package dev.runnel.wire.records;

import java.io.InputStream;
import java.nio.ByteBuffer;

/** An InputStream over {@code [start, end)} of a buffer, read with absolute gets (no copy of the buffer). */
final class ByteBufferInputStream extends InputStream {
    private final ByteBuffer buf;
    private int pos;
    private final int end;

    ByteBufferInputStream(ByteBuffer buf, int start, int end) {
        this.buf = buf;
        this.pos = start;
        this.end = end;
    }

    @Override
    public int read() {
        return pos < end ? buf.get(pos++) & 0xFF : -1;
    }

    @Override
    public int read(byte[] b, int off, int len) {
        if (len == 0) {
            return 0;
        }
        if (pos >= end) {
            return -1;
        }
        int n = Math.min(len, end - pos);
        buf.get(pos, b, off, n);
        pos += n;
        return n;
    }

    @Override
    public long skip(long n) {
        int k = (int) Math.max(0, Math.min(n, end - pos));
        pos += k;
        return k;
    }

    @Override
    public int available() {
        return end - pos;
    }
}
