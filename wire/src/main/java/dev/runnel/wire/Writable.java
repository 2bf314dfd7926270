package dev.runnel.wire;

import io.netty.buffer.ByteBuf;
import java.util.UUID;

/** Where generated messages write themselves. */
public interface Writable {
    void writeInt8(byte v);

    void writeInt16(short v);

    void writeInt32(int v);

    void writeInt64(long v);

    void writeFloat64(double v);

    void writeByteArray(byte[] b);

    /** Writes the readable bytes of {@code b} without changing its indexes. */
    void writeByteBuf(ByteBuf b);

    default void writeBool(boolean v) {
        writeInt8((byte) (v ? 1 : 0));
    }

    default void writeUuid(UUID v) {
        writeInt64(v.getMostSignificantBits());
        writeInt64(v.getLeastSignificantBits());
    }

    default void writeUnsignedVarint(int v) {
        while ((v & 0xffffff80) != 0) {
            writeInt8((byte) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        writeInt8((byte) v);
    }

    default void writeVarint(int v) {
        writeUnsignedVarint((v << 1) ^ (v >> 31));
    }

    default void writeVarlong(long v) {
        long z = (v << 1) ^ (v >> 63);
        while ((z & 0xffffffffffffff80L) != 0L) {
            writeInt8((byte) ((z & 0x7f) | 0x80));
            z >>>= 7;
        }
        writeInt8((byte) z);
    }

    default void writeRecords(Records records) {
        records.writeTo(this);
    }
}
