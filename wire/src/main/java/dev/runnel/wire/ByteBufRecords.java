package dev.runnel.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;

/** Records held in a buffer; when read from a request this is a slice of the frame (no copy). */
public final class ByteBufRecords implements Records {
    private final ByteBuf buf;

    public ByteBufRecords(ByteBuf buf) {
        this.buf = buf;
    }

    public static ByteBufRecords wrap(byte[] bytes) {
        return new ByteBufRecords(Unpooled.wrappedBuffer(bytes));
    }

    /** The bytes, readerIndex..writerIndex. The caller must not keep it past the frame's release. */
    public ByteBuf buffer() {
        return buf;
    }

    @Override
    public int sizeInBytes() {
        return buf.readableBytes();
    }

    @Override
    public void writeTo(Writable out) {
        out.writeByteBuf(buf);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ByteBufRecords other && ByteBufUtil.equals(buf, other.buf);
    }

    @Override
    public int hashCode() {
        return ByteBufUtil.hashCode(buf);
    }

    @Override
    public String toString() {
        return "ByteBufRecords(" + buf.readableBytes() + " bytes)";
    }
}
