package dev.runnel.wire;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * Reads protocol primitives from a frame. Every length and count is checked against the bytes that remain
 * before anything is allocated, so a hostile frame can cost at most its own size.
 */
public final class Readable {
    private final ByteBuf buf;

    public Readable(ByteBuf buf) {
        this.buf = buf;
    }

    public ByteBuf buffer() {
        return buf;
    }

    public int remaining() {
        return buf.readableBytes();
    }

    private void need(int n) {
        if (n < 0 || buf.readableBytes() < n) {
            throw new MalformedMessageException("Tried to read " + n + " bytes, but only " + buf.readableBytes() + " remain");
        }
    }

    public byte readInt8() {
        need(1);
        return buf.readByte();
    }

    public boolean readBool() {
        return readInt8() != 0;
    }

    public short readInt16() {
        need(2);
        return buf.readShort();
    }

    public int readUint16() {
        need(2);
        return buf.readUnsignedShort();
    }

    public int readInt32() {
        need(4);
        return buf.readInt();
    }

    public long readUint32() {
        need(4);
        return buf.readUnsignedInt();
    }

    public long readInt64() {
        need(8);
        return buf.readLong();
    }

    public double readFloat64() {
        need(8);
        return buf.readDouble();
    }

    public UUID readUuid() {
        need(16);
        return new UUID(buf.readLong(), buf.readLong());
    }

    public int readUnsignedVarint() {
        int value = 0;
        for (int shift = 0; shift < 35; shift += 7) {
            byte b = readInt8();
            value |= (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                return value;
            }
        }
        throw new MalformedMessageException("Varint is too long");
    }

    public int readVarint() {
        int raw = readUnsignedVarint();
        return (raw >>> 1) ^ -(raw & 1);
    }

    public long readVarlong() {
        long value = 0;
        for (int shift = 0; shift < 70; shift += 7) {
            byte b = readInt8();
            value |= (long) (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                return (value >>> 1) ^ -(value & 1);
            }
        }
        throw new MalformedMessageException("Varlong is too long");
    }

    /** Length of a compact (flexible) string/bytes/array: -1 for null. */
    public int readCompactLength() {
        int n = readUnsignedVarint();
        return n - 1;
    }

    public String readString(int length) {
        need(length);
        String s = buf.toString(buf.readerIndex(), length, StandardCharsets.UTF_8);
        buf.skipBytes(length);
        return s;
    }

    public byte[] readBytes(int length) {
        need(length);
        byte[] b = new byte[length];
        buf.readBytes(b);
        return b;
    }

    /** A view of the next {@code length} bytes, valid while the frame is. */
    public Records readRecords(int length) {
        need(length);
        ByteBuf slice = buf.slice(buf.readerIndex(), length);
        buf.skipBytes(length);
        return new ByteBufRecords(slice);
    }

    /** Kafka 4.4's decoders refuse longer arrays, whatever the frame size. */
    public static final int MAX_ARRAY_ELEMENTS = 1_000_000;
    /** Kafka 4.4's decoders refuse more tagged fields in one struct. */
    public static final int MAX_TAGGED_FIELDS = 10_000;

    /**
     * Checks an array count against the remaining bytes (every element takes at least one byte) and against
     * {@link #MAX_ARRAY_ELEMENTS}, before anything is allocated for it.
     */
    public int checkArrayLength(int count) {
        if (count > buf.readableBytes()) {
            throw new MalformedMessageException("Array of " + count + " elements, but only " + buf.readableBytes() + " bytes remain");
        }
        if (count > MAX_ARRAY_ELEMENTS) {
            throw new MalformedMessageException("Array of " + count + " elements exceeds the maximum allowed size of " + MAX_ARRAY_ELEMENTS);
        }
        return count;
    }

    /**
     * Checks the tagged-field count of one struct: not negative, not more than the bytes that remain (each takes
     * at least two), and at most {@link #MAX_TAGGED_FIELDS}.
     */
    public int checkTaggedFieldCount(int count) {
        if (count < 0) {
            throw new MalformedMessageException("Invalid negative number of tagged fields " + count);
        }
        if (count > buf.readableBytes()) {
            throw new MalformedMessageException("Tried to read " + count + " tagged fields, but only " + buf.readableBytes() + " bytes remain");
        }
        if (count > MAX_TAGGED_FIELDS) {
            throw new MalformedMessageException("Tried to read " + count + " tagged fields, which exceeds the maximum allowed count of " + MAX_TAGGED_FIELDS);
        }
        return count;
    }

    /**
     * The initial capacity for a list of {@code count} elements (already checked with {@link #checkArrayLength}):
     * at most one 8-byte reference per 8 bytes that remain, so the list's array is never larger than the rest of
     * the frame, whatever the count claims. Lists of smaller elements grow as elements are actually read.
     */
    public int listCapacity(int count) {
        return Math.min(count, buf.readableBytes() / 8 + 1);
    }

    public void skip(int n) {
        need(n);
        buf.skipBytes(n);
    }
}
