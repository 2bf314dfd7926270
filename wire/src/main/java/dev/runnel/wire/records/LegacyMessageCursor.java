package dev.runnel.wire.records;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.zip.CRC32;
import java.util.zip.GZIPInputStream;
import org.xerial.snappy.SnappyError;
import org.xerial.snappy.SnappyInputStream;

/**
 * Reads a legacy message set (magic 0 and 1, Kafka before 0.11) record by record, opening compressed
 * wrapper messages. Each shallow entry is
 * <pre>
 * Offset int64, MessageSize int32, Crc uint32 (CRC-32 of Magic..end), Magic int8, Attributes int8
 * (bits 0-2 codec: none, gzip, snappy, lz4; bit 3 LogAppendTime, magic 1 only), [Timestamp int64: magic 1],
 * Key bytes (int32 length, -1 = null), Value bytes (int32 length, -1 = null)
 * </pre>
 * A compressed entry (a wrapper) carries a compressed message set as its value. Inside a magic 1 wrapper
 * the offsets are relative (0..n-1) and the wrapper's offset is the absolute offset of the last one; a
 * magic 1 wrapper with LogAppendTime gives its timestamp to every inner message. Magic 0 has no timestamp
 * ({@link RecordBatch#NO_TIMESTAMP}).
 * <p>
 * Every length is checked against the bytes that are there before anything is allocated; a wrapper's
 * decompressed size is capped ({@code maxDecompressedBytes}); compressed wrappers inside wrappers are
 * refused. Problems come out as {@link RecordsException} with Kafka's error code: framing, CRC and
 * codec errors {@link ErrorCodes#CORRUPT_MESSAGE}; an inner message whose magic differs from its wrapper's,
 * nested compression or an empty wrapper {@link ErrorCodes#INVALID_RECORD}.
 * Keys and values are copied out: this is the rare path of old clients. Not thread-safe.
 */
public final class LegacyMessageCursor {
    public static final int LOG_OVERHEAD = 12;
    public static final int CRC_OFFSET = 12;
    public static final int MAGIC_OFFSET = 16;
    public static final int ATTRIBUTES_OFFSET = 17;
    public static final int TIMESTAMP_OFFSET = 18;
    /** Crc, magic, attributes, key and value lengths. */
    public static final int RECORD_OVERHEAD_V0 = 14;
    /** V0 plus the timestamp. */
    public static final int RECORD_OVERHEAD_V1 = 22;
    public static final byte MAGIC_V0 = 0;
    public static final byte MAGIC_V1 = 1;
    public static final int COMPRESSION_CODEC_MASK = 0x07;
    public static final int TIMESTAMP_TYPE_MASK = 0x08;

    private final ByteBuffer buf;
    private final int end;
    private final long maxDecompressedBytes;
    private int pos;
    private int shallowIndex = -1;

    // the shallow entry being read
    private long shallowOffset;
    private byte shallowMagic;
    private int shallowAttributes;
    private long shallowTimestamp;
    private Compression shallowCompression = Compression.NONE;

    // the open wrapper's decompressed message set, if any
    private ByteBuffer inner;
    private int innerCount;
    private long absoluteBase;

    // current record
    private long offset;
    private byte magic;
    private long timestamp;
    private TimestampType timestampType;
    private byte[] key;
    private byte[] value;

    private LegacyMessageCursor(ByteBuffer buf, int start, int end, long maxDecompressedBytes) {
        this.buf = buf;
        this.pos = start;
        this.end = end;
        this.maxDecompressedBytes = maxDecompressedBytes;
    }

    /** A cursor over {@code messageSet} from its position to its limit (not moved). */
    public static LegacyMessageCursor open(ByteBuffer messageSet, long maxDecompressedBytes) {
        return new LegacyMessageCursor(messageSet, messageSet.position(), messageSet.limit(), maxDecompressedBytes);
    }

    public static LegacyMessageCursor open(ByteBuffer messageSet) {
        return open(messageSet, RecordCursor.DEFAULT_MAX_DECOMPRESSED_BYTES);
    }

    /** Moves to the next record (deep: the messages inside wrappers, never the wrappers themselves). */
    public boolean next() throws RecordsException {
        while (true) {
            if (inner != null) {
                if (inner.hasRemaining()) {
                    readInner();
                    return true;
                }
                inner = null;
            }
            if (pos >= end) {
                return false;
            }
            int size = checkEntry(buf, pos, end, shallowIndex + 1);
            shallowIndex++;
            int msg = pos;
            pos += LOG_OVERHEAD + size;
            shallowOffset = buf.getLong(msg);
            shallowMagic = buf.get(msg + MAGIC_OFFSET);
            shallowAttributes = buf.get(msg + ATTRIBUTES_OFFSET);
            shallowTimestamp = shallowMagic == MAGIC_V0 ? RecordBatch.NO_TIMESTAMP : buf.getLong(msg + TIMESTAMP_OFFSET);
            shallowCompression = codec(shallowAttributes);
            if (shallowCompression == Compression.NONE) {
                offset = shallowOffset;
                magic = shallowMagic;
                timestamp = shallowTimestamp;
                timestampType = type(shallowMagic, shallowAttributes);
                readKeyValue(buf, msg);
                return true;
            }
            openWrapper(msg);
        }
    }

    private void openWrapper(int msg) throws RecordsException {
        readKeyValue(buf, msg);
        if (value == null) {
            throw new RecordsException(ErrorCodes.CORRUPT_MESSAGE, "Compressed legacy message at offset "
                    + shallowOffset + " has a null value");
        }
        byte[] data = decompress(shallowCompression, value, shallowMagic, maxDecompressedBytes);
        ByteBuffer set = ByteBuffer.wrap(data);
        // one pass over the inner framing first: counts the messages (for magic 1's relative offsets) and
        // refuses bad framing before any record is handed out
        int p = 0;
        int count = 0;
        long lastInner = -1;
        while (p < data.length) {
            int size = checkEntry(set, p, data.length, count);
            byte m = set.get(p + MAGIC_OFFSET);
            if (m != shallowMagic) {
                throw new RecordsException(ErrorCodes.INVALID_RECORD, "Compressed message magic " + m
                        + " does not match wrapper magic " + shallowMagic);
            }
            if (codec(set.get(p + ATTRIBUTES_OFFSET)) != Compression.NONE) {
                throw new RecordsException(ErrorCodes.INVALID_RECORD, "Compressed legacy message at offset "
                        + shallowOffset + " contains a compressed message");
            }
            lastInner = set.getLong(p);
            p += LOG_OVERHEAD + size;
            count++;
        }
        if (count == 0) {
            throw new RecordsException(ErrorCodes.INVALID_RECORD, "Found invalid compressed record set with no inner records");
        }
        innerCount = count;
        absoluteBase = shallowMagic > MAGIC_V0 ? shallowOffset - lastInner : -1;
        inner = set;
    }

    private void readInner() throws RecordsException {
        int p = inner.position();
        int size = inner.getInt(p + 8);
        long innerOffset = inner.getLong(p);
        offset = absoluteBase >= 0 ? absoluteBase + innerOffset : innerOffset;
        magic = inner.get(p + MAGIC_OFFSET);
        int attributes = inner.get(p + ATTRIBUTES_OFFSET);
        if (magic == MAGIC_V0) {
            timestamp = RecordBatch.NO_TIMESTAMP;
            timestampType = null;
        } else if ((shallowAttributes & TIMESTAMP_TYPE_MASK) != 0) {
            timestamp = shallowTimestamp;
            timestampType = TimestampType.LOG_APPEND_TIME;
        } else {
            timestamp = inner.getLong(p + TIMESTAMP_OFFSET);
            timestampType = type(magic, attributes);
        }
        readKeyValue(inner, p);
        inner.position(p + LOG_OVERHEAD + size);
    }

    /**
     * Checks the framing and CRC of the entry at {@code p} (before {@code end}) and returns its MessageSize.
     * Key and value lengths must fill the message exactly.
     */
    static int checkEntry(ByteBuffer b, int p, int end, int index) throws RecordsException {
        int remaining = end - p;
        if (remaining < LOG_OVERHEAD) {
            throw new RecordsException(ErrorCodes.CORRUPT_MESSAGE, "Truncated legacy message " + index + ": "
                    + remaining + " bytes remain, fewer than its offset and size");
        }
        int size = b.getInt(p + 8);
        if (size < RECORD_OVERHEAD_V0) {
            throw new RecordsException(ErrorCodes.CORRUPT_MESSAGE, "Record size " + size
                    + " is less than the minimum record overhead (" + RECORD_OVERHEAD_V0 + ")");
        }
        if (size > remaining - LOG_OVERHEAD) {
            throw new RecordsException(ErrorCodes.CORRUPT_MESSAGE, "Truncated legacy message " + index + ": it declares "
                    + size + " bytes but only " + (remaining - LOG_OVERHEAD) + " remain");
        }
        byte m = b.get(p + MAGIC_OFFSET);
        if (m != MAGIC_V0 && m != MAGIC_V1) {
            throw new RecordsException(ErrorCodes.CORRUPT_MESSAGE, "Invalid magic found in legacy message " + index + ": " + m);
        }
        int overhead = m == MAGIC_V0 ? RECORD_OVERHEAD_V0 : RECORD_OVERHEAD_V1;
        if (size < overhead) {
            throw new RecordsException(ErrorCodes.CORRUPT_MESSAGE, "Record size " + size
                    + " is less than the minimum overhead of a magic " + m + " message (" + overhead + ")");
        }
        long stored = b.getInt(p + CRC_OFFSET) & 0xFFFFFFFFL;
        long computed = crc(b, p + MAGIC_OFFSET, size - 4);
        if (stored != computed) {
            throw new RecordsException(ErrorCodes.CORRUPT_MESSAGE, "Record is corrupt (stored crc = " + stored
                    + ", computed crc = " + computed + ")");
        }
        if (codec(b.get(p + ATTRIBUTES_OFFSET)) == null) {
            throw new RecordsException(ErrorCodes.CORRUPT_MESSAGE, "Legacy message " + index
                    + " has an unknown compression codec id " + (b.get(p + ATTRIBUTES_OFFSET) & COMPRESSION_CODEC_MASK));
        }
        int msgEnd = p + LOG_OVERHEAD + size;
        int k = p + (m == MAGIC_V0 ? TIMESTAMP_OFFSET : TIMESTAMP_OFFSET + 8);
        int keyLen = b.getInt(k);
        if (keyLen < -1 || keyLen > msgEnd - k - 8) {
            throw new RecordsException(ErrorCodes.CORRUPT_MESSAGE, "Legacy message " + index + " has an invalid key length " + keyLen);
        }
        int v = k + 4 + Math.max(keyLen, 0);
        int valueLen = b.getInt(v);
        if (valueLen < -1 || v + 4 + Math.max(valueLen, 0) != msgEnd) {
            throw new RecordsException(ErrorCodes.CORRUPT_MESSAGE, "Legacy message " + index
                    + " has a value length " + valueLen + " that does not fill its size " + size);
        }
        return size;
    }

    private void readKeyValue(ByteBuffer b, int p) {
        int k = p + (b.get(p + MAGIC_OFFSET) == MAGIC_V0 ? TIMESTAMP_OFFSET : TIMESTAMP_OFFSET + 8);
        int keyLen = b.getInt(k);
        key = copy(b, k + 4, keyLen);
        int v = k + 4 + Math.max(keyLen, 0);
        value = copy(b, v + 4, b.getInt(v));
    }

    private static byte[] copy(ByteBuffer b, int p, int len) {
        if (len < 0) {
            return null;
        }
        byte[] out = new byte[len];
        b.get(p, out, 0, len);
        return out;
    }

    static long crc(ByteBuffer b, int from, int len) {
        CRC32 crc = new CRC32();
        crc.update(b.duplicate().limit(from + len).position(from));
        return crc.getValue();
    }

    private static Compression codec(int attributes) {
        int id = attributes & COMPRESSION_CODEC_MASK;
        return id <= 3 ? Compression.forId(id) : null; // zstd never existed in legacy messages
    }

    private static TimestampType type(byte magic, int attributes) {
        if (magic == MAGIC_V0) {
            return null;
        }
        return (attributes & TIMESTAMP_TYPE_MASK) != 0 ? TimestampType.LOG_APPEND_TIME : TimestampType.CREATE_TIME;
    }

    static byte[] decompress(Compression codec, byte[] data, byte magic, long cap) throws RecordsException {
        if (codec == Compression.LZ4) {
            return LegacyLz4.decompress(data, 0, data.length, magic == MAGIC_V0, cap);
        }
        if (codec == Compression.SNAPPY) {
            RecordCursor.checkSnappySizes(ByteBuffer.wrap(data), 0, data.length, cap);
        }
        try (InputStream in = codec == Compression.GZIP ? new GZIPInputStream(new ByteArrayInputStream(data), 8192)
                : new SnappyInputStream(new ByteArrayInputStream(data), Math.max(1, data.length))) {
            byte[] out = in.readNBytes((int) Math.min(cap, Integer.MAX_VALUE - 16));
            if (in.read() >= 0) {
                throw new RecordsException(ErrorCodes.CORRUPT_MESSAGE, "A compressed legacy message decompresses to more than "
                        + cap + " bytes");
            }
            return out;
        } catch (IOException | RuntimeException | SnappyError e) {
            throw new RecordsException(ErrorCodes.CORRUPT_MESSAGE, "Invalid " + codec.kafkaName
                    + " data in a legacy message: " + e, e);
        }
    }

    /** The offset of the current record: absolute for magic 1 wrappers (once the broker has assigned them). */
    public long offset() {
        return offset;
    }

    public byte magic() {
        return magic;
    }

    /** The record's timestamp, {@link RecordBatch#NO_TIMESTAMP} for magic 0. */
    public long timestamp() {
        return timestamp;
    }

    /** CreateTime or LogAppendTime for magic 1; {@code null} for magic 0 (no timestamp type). */
    public TimestampType timestampType() {
        return timestampType;
    }

    public byte[] key() {
        return key;
    }

    public byte[] value() {
        return value;
    }

    /** The codec of the shallow message the record came from (NONE for a plain message). */
    public Compression compression() {
        return shallowCompression;
    }

    /** 0-based index of the shallow message (wrapper or plain message) the record came from. */
    public int shallowIndex() {
        return shallowIndex;
    }

    /** The shallow message's own offset (for a wrapper: the offset of its last record). */
    public long shallowOffset() {
        return shallowOffset;
    }

    /** Number of records in the current wrapper (1 for a plain message). */
    public int wrapperRecordCount() {
        return shallowCompression == Compression.NONE ? 1 : innerCount;
    }
}
