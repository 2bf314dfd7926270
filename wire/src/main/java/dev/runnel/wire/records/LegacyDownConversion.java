package dev.runnel.wire.records;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;

/**
 * Down-converts stored RecordBatches v2 to the legacy message format an old fetch can carry (magic 0 for
 * Fetch v0-1, magic 1 for v2-3), batch by batch, as Kafka's {@code RecordsUtil.downConvert} does: control
 * batches are dropped; a compressed batch becomes one wrapper with the same codec holding all its records; an
 * uncompressed batch becomes one message per record, leaving out records below the fetch offset; LogAppendTime
 * batches keep their type and time (magic 1); headers, producer ids and sequences cannot be expressed and
 * are lost. zstd has no legacy form: such a batch stops the conversion with
 * {@link ErrorCodes#UNSUPPORTED_COMPRESSION_TYPE} (Kafka refuses zstd to fetches before v10).
 * <p>
 * Bounded: the caller feeds one batch at a time ({@link #add}) and stops when {@link #full()} says the output
 * has reached {@code maxBytes}; the first converted message set is always kept, however large, so a consumer
 * never stalls behind one big batch. Not thread-safe.
 */
public final class LegacyDownConversion {
    private final byte toMagic;
    private final long fetchOffset;
    private final int maxBytes;
    private final long maxDecompressedBytes;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    private int records;

    /**
     * @param toMagic     0 or 1
     * @param fetchOffset the fetch's offset (uncompressed records below it are left out)
     * @param maxBytes    the output size after which no further batch is converted
     */
    public LegacyDownConversion(byte toMagic, long fetchOffset, int maxBytes, long maxDecompressedBytes) {
        if (toMagic != 0 && toMagic != 1) {
            throw new IllegalArgumentException("toMagic must be 0 or 1: " + toMagic);
        }
        this.toMagic = toMagic;
        this.fetchOffset = fetchOffset;
        this.maxBytes = maxBytes;
        this.maxDecompressedBytes = maxDecompressedBytes;
    }

    /** The magic Fetch {@code version} carries: 0 for v0-1, 1 for v2-3 (v4+ carry v2 batches). */
    public static byte magicForFetchVersion(short version) {
        return version <= 1 ? (byte) 0 : (byte) 1;
    }

    /** Whether the output has reached its size: feed no more batches. */
    public boolean full() {
        return out.size() >= maxBytes;
    }

    /** Converts one whole batch (the bytes from {@code batch.position()} to its end). */
    public void add(RecordBatch batch) throws RecordsException {
        if (batch.magic() != RecordBatch.MAGIC_V2) {
            throw new RecordsException(ErrorCodes.CORRUPT_MESSAGE, "Stored batch at offset " + batch.baseOffset()
                    + " has magic " + batch.magic());
        }
        if (batch.isControl()) {
            return;
        }
        Compression codec = batch.compression();
        if (codec == null) {
            throw new RecordsException(ErrorCodes.CORRUPT_MESSAGE, "Stored batch at offset " + batch.baseOffset()
                    + " has an unknown codec");
        }
        if (codec == Compression.ZSTD) {
            throw new RecordsException(ErrorCodes.UNSUPPORTED_COMPRESSION_TYPE, "The batch at offset " + batch.baseOffset()
                    + " is zstd-compressed, which Fetch versions below 10 cannot carry");
        }
        boolean compressed = codec != Compression.NONE;
        if (!compressed && batch.lastOffset() < fetchOffset) {
            return;
        }
        TimestampType type = batch.timestampType();
        LegacyMessageSetBuilder b = new LegacyMessageSetBuilder(toMagic, codec, type,
                type == TimestampType.LOG_APPEND_TIME ? batch.maxTimestamp() : RecordBatch.NO_TIMESTAMP);
        try (RecordCursor c = RecordCursor.open(batch, maxDecompressedBytes)) {
            while (c.next()) {
                if (compressed || c.offset() >= fetchOffset) {
                    b.append(c.offset(), c.timestamp(), c.key(), c.value());
                }
            }
        }
        if (b.recordCount() == 0) {
            return;
        }
        ByteBuffer set = b.build();
        out.write(set.array(), set.arrayOffset() + set.position(), set.remaining());
        records += b.recordCount();
    }

    /** Records converted so far. */
    public int recordCount() {
        return records;
    }

    /** The message set converted so far. */
    public byte[] toByteArray() {
        return out.toByteArray();
    }
}
