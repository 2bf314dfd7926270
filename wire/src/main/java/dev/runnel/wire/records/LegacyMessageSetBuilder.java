package dev.runnel.wire.records;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.zip.CRC32;
import java.util.zip.GZIPOutputStream;
import org.xerial.snappy.SnappyOutputStream;

/**
 * Writes a legacy message set (magic 0 or 1) as Kafka's {@code MemoryRecordsBuilder} does for those
 * magics: uncompressed, one message per record with its absolute offset; compressed, one wrapper message
 * whose value is the compressed inner messages (magic 0: absolute offsets; magic 1: relative offsets
 * 0..n-1) and whose offset is the last record's. A magic 1 wrapper carries the largest inner timestamp;
 * with LogAppendTime every message (wrapper and inner) carries the append time and the type bit. lz4 for magic 0 gets the broken header checksum old
 * clients expect (see {@link LegacyLz4}). Headers cannot be expressed and are dropped by callers.
 * <p>
 * The set is built in a growable heap array; {@link #sizeInBytes()} tells a caller when to stop adding.
 * Not thread-safe.
 */
public final class LegacyMessageSetBuilder {
    private final byte magic;
    private final Compression compression;
    private final TimestampType timestampType;
    private final long logAppendTime;
    private final Bytes out = new Bytes();
    private final Bytes inner = new Bytes();
    private int count;
    private long firstOffset = -1;
    private long lastOffset = -1;
    private long maxTimestamp = RecordBatch.NO_TIMESTAMP;

    /**
     * @param magic         0 or 1
     * @param compression   NONE, GZIP, SNAPPY or LZ4 (zstd has no legacy form)
     * @param timestampType for magic 1: CreateTime, or LogAppendTime with {@code logAppendTime}
     */
    public LegacyMessageSetBuilder(byte magic, Compression compression, TimestampType timestampType, long logAppendTime) {
        if (magic != 0 && magic != 1) {
            throw new IllegalArgumentException("legacy magic must be 0 or 1: " + magic);
        }
        if (compression == Compression.ZSTD) {
            throw new IllegalArgumentException("zstd cannot be written in a legacy message set");
        }
        this.magic = magic;
        this.compression = compression;
        this.timestampType = timestampType == null ? TimestampType.CREATE_TIME : timestampType;
        this.logAppendTime = logAppendTime;
    }

    public LegacyMessageSetBuilder(byte magic, Compression compression) {
        this(magic, compression, TimestampType.CREATE_TIME, RecordBatch.NO_TIMESTAMP);
    }

    /** Appends a record with its absolute offset (increasing); the timestamp is dropped for magic 0. */
    public LegacyMessageSetBuilder append(long offset, long timestamp, byte[] key, byte[] value) {
        if (lastOffset >= 0 && offset <= lastOffset) {
            throw new IllegalArgumentException("offsets must increase: " + offset + " after " + lastOffset);
        }
        if (count == 0) {
            firstOffset = offset;
        }
        lastOffset = offset;
        if (timestamp > maxTimestamp) {
            maxTimestamp = timestamp;
        }
        // with LogAppendTime every message, inner ones included, carries the append time and the type bit
        long ts = timestampType == TimestampType.LOG_APPEND_TIME ? logAppendTime : timestamp;
        if (compression == Compression.NONE) {
            writeMessage(out, offset, magic, attributes(0), ts, key, value, 0, value == null ? -1 : value.length);
        } else {
            long innerOffset = magic == 0 ? offset : offset - firstOffset;
            writeMessage(inner, innerOffset, magic, attributes(0), ts, key, value, 0, value == null ? -1 : value.length);
        }
        count++;
        return this;
    }

    public int recordCount() {
        return count;
    }

    /** Bytes written so far (for compressed sets: an estimate, the uncompressed inner size plus a header). */
    public int sizeInBytes() {
        return compression == Compression.NONE ? out.size : inner.size + LegacyMessageCursor.LOG_OVERHEAD
                + LegacyMessageCursor.RECORD_OVERHEAD_V1;
    }

    /** The message set (position 0, limit = size); empty when nothing was appended. */
    public ByteBuffer build() {
        if (compression != Compression.NONE && count > 0) {
            byte[] compressed = compress(inner.buf, inner.size);
            long wrapperTs = timestampType == TimestampType.LOG_APPEND_TIME ? logAppendTime : maxTimestamp;
            writeMessage(out, lastOffset, magic, attributes(compression.id), wrapperTs, null, compressed, 0, compressed.length);
        }
        return ByteBuffer.wrap(Arrays.copyOf(out.buf, out.size));
    }

    private int attributes(int codec) {
        return codec | (magic > 0 && timestampType == TimestampType.LOG_APPEND_TIME ? LegacyMessageCursor.TIMESTAMP_TYPE_MASK : 0);
    }

    private byte[] compress(byte[] data, int len) {
        if (compression == Compression.LZ4) {
            return LegacyLz4.compress(data, 0, len, magic == 0);
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(Math.max(64, len / 2));
        try (OutputStream os = compression == Compression.GZIP ? new GZIPOutputStream(bytes, 8192) : new SnappyOutputStream(bytes)) {
            os.write(data, 0, len);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    private static void writeMessage(Bytes b, long offset, byte magic, int attributes, long timestamp,
                                     byte[] key, byte[] value, int valueOff, int valueLen) {
        int keyLen = key == null ? -1 : key.length;
        int size = (magic == 0 ? LegacyMessageCursor.RECORD_OVERHEAD_V0 : LegacyMessageCursor.RECORD_OVERHEAD_V1)
                + Math.max(keyLen, 0) + Math.max(valueLen, 0);
        int start = b.size;
        b.ensure(LegacyMessageCursor.LOG_OVERHEAD + size);
        ByteBuffer w = ByteBuffer.wrap(b.buf, start, LegacyMessageCursor.LOG_OVERHEAD + size).order(ByteOrder.BIG_ENDIAN);
        w.putLong(offset).putInt(size).putInt(0).put(magic).put((byte) attributes);
        if (magic > 0) {
            w.putLong(timestamp);
        }
        w.putInt(keyLen);
        if (key != null) {
            w.put(key);
        }
        w.putInt(valueLen);
        if (valueLen > 0) {
            w.put(value, valueOff, valueLen);
        }
        CRC32 crc = new CRC32();
        crc.update(b.buf, start + LegacyMessageCursor.MAGIC_OFFSET, size - 4);
        ByteBuffer.wrap(b.buf).putInt(start + LegacyMessageCursor.CRC_OFFSET, (int) crc.getValue());
        b.size += LegacyMessageCursor.LOG_OVERHEAD + size;
    }

    private static final class Bytes {
        byte[] buf = new byte[256];
        int size;

        void ensure(int n) {
            if (size + n > buf.length) {
                buf = Arrays.copyOf(buf, Math.max(buf.length * 2, size + n));
            }
        }
    }
}
