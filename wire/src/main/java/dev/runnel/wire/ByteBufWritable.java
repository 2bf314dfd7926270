package dev.runnel.wire;

import io.netty.buffer.ByteBuf;

/** Writes into one growable buffer (records are copied in). */
public class ByteBufWritable implements Writable {
    protected final ByteBuf buf;

    public ByteBufWritable(ByteBuf buf) {
        this.buf = buf;
    }

    public ByteBuf buffer() {
        return buf;
    }

    @Override
    public void writeInt8(byte v) {
        buf.writeByte(v);
    }

    @Override
    public void writeInt16(short v) {
        buf.writeShort(v);
    }

    @Override
    public void writeInt32(int v) {
        buf.writeInt(v);
    }

    @Override
    public void writeInt64(long v) {
        buf.writeLong(v);
    }

    @Override
    public void writeFloat64(double v) {
        buf.writeDouble(v);
    }

    @Override
    public void writeByteArray(byte[] b) {
        buf.writeBytes(b);
    }

    @Override
    public void writeByteBuf(ByteBuf b) {
        buf.writeBytes(b, b.readerIndex(), b.readableBytes());
    }

    @Override
    public void writeUnsignedVarint(int v) {
        while ((v & 0xffffff80) != 0) {
            buf.writeByte((v & 0x7f) | 0x80);
            v >>>= 7;
        }
        buf.writeByte(v);
    }
}
