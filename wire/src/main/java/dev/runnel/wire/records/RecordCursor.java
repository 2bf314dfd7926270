package dev.runnel.wire.records;

import com.github.luben.zstd.ZstdInputStream;
import net.jpountz.lz4.LZ4FrameInputStream;
import org.xerial.snappy.SnappyError;
import org.xerial.snappy.SnappyInputStream;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * Reads the records of one v2 batch, decompressing if needed (gzip with java.util.zip, snappy in
 * the xerial framing Kafka uses, lz4 frames, zstd). For the rare paths only — every record is
 * materialised. Lengths are bounded before allocation: by the bytes left in the batch when
 * uncompressed, and for compressed batches by the data actually decompressed, capped at
 * {@code maxDecompressedBytes} per batch (so a corrupt batch or a decompression bomb gives a
 * {@link RecordsException}, not an OutOfMemoryError).
 *
 * <pre>
 * try (RecordCursor c = RecordCursor.open(batch)) {
 *     while (c.next()) { c.offset(); c.timestamp(); c.key(); c.value(); c.headers(); }
 * }
 * </pre>
 */
public final class RecordCursor implements AutoCloseable {
    /** Default cap on the decompressed size of one batch: 256 MiB. */
    public static final long DEFAULT_MAX_DECOMPRESSED_BYTES = 256L << 20;

    private static final byte[] EMPTY = new byte[0];

    private final InputStream in;
    private final boolean compressed;
    private final long maxBytes;
    private final long baseOffset;
    private final long baseTimestamp;
    private final long logAppendTime;
    private final int count;
    private final byte[] buf = new byte[8192];
    private int bufPos;
    private int bufEnd;
    private long consumed;
    private int index;

    private long offset;
    private long timestamp;
    private int attributes;
    private byte[] key;
    private byte[] value;
    private List<Header> headers;

    private RecordCursor(InputStream in, boolean compressed, long maxBytes, RecordBatch batch) {
        this.in = in;
        this.compressed = compressed;
        this.maxBytes = maxBytes;
        this.baseOffset = batch.baseOffset();
        this.baseTimestamp = batch.baseTimestamp();
        this.logAppendTime = batch.timestampType() == TimestampType.LOG_APPEND_TIME ? batch.maxTimestamp() : RecordBatch.NO_TIMESTAMP;
        this.count = batch.recordsCount();
    }

    /** Opens a cursor over a complete batch (see {@link RecordBatch#isComplete()}). */
    public static RecordCursor open(RecordBatch batch) throws RecordsException {
        return open(batch, DEFAULT_MAX_DECOMPRESSED_BYTES);
    }

    public static RecordCursor open(RecordBatch batch, long maxDecompressedBytes) throws RecordsException {
        if (!batch.isComplete() || batch.batchLength() < RecordBatch.MIN_LENGTH) {
            throw new RecordsException(ErrorCodes.CORRUPT_MESSAGE, "Truncated or undersized record batch");
        }
        if (batch.magic() != RecordBatch.MAGIC_V2) {
            throw new RecordsException(ErrorCodes.UNSUPPORTED_FOR_MESSAGE_FORMAT, "Unsupported magic " + batch.magic());
        }
        if (batch.recordsCount() < 0) {
            throw new RecordsException(ErrorCodes.INVALID_RECORD, "Negative record count " + batch.recordsCount());
        }
        int start = batch.position() + RecordBatch.RECORDS_OFFSET;
        int end = batch.position() + batch.sizeInBytes();
        InputStream raw = new ByteBufferInputStream(batch.buffer(), start, end);
        Compression codec = batch.compression();
        if (codec == null) {
            throw new RecordsException(ErrorCodes.CORRUPT_MESSAGE, "Unknown compression codec id " + batch.compressionType());
        }
        if (codec == Compression.SNAPPY) {
            checkSnappySizes(batch.buffer(), start, end, maxDecompressedBytes);
        }
        try {
            InputStream in = switch (codec) {
                case NONE -> raw;
                case GZIP -> new GZIPInputStream(raw, 8192);
                // A chunk cannot be larger than the batch that carries it: without this cap a forged chunk
                // header makes snappy-java allocate up to 512 MiB before it notices the data is not there.
                case SNAPPY -> new SnappyInputStream(raw, Math.max(1, end - start));
                case LZ4 -> new LZ4FrameInputStream(raw);
                case ZSTD -> new ZstdInputStream(raw);
            };
            long cap = codec == Compression.NONE ? end - start : maxDecompressedBytes;
            return new RecordCursor(in, codec != Compression.NONE, cap, batch);
        } catch (IOException | RuntimeException | SnappyError e) {
            throw new RecordsException(ErrorCodes.CORRUPT_MESSAGE, "Cannot open " + codec.kafkaName + " stream: " + e, e);
        }
    }

    private static final byte[] XERIAL_MAGIC = {(byte) 0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
    private static final int XERIAL_HEADER_SIZE = 16;

    /**
     * snappy-java allocates the uncompressed size a snappy block declares before it decompresses a byte, so a
     * forged size costs up to 4 GiB. Every declared size is checked against {@code cap} first: in snappy-java's
     * framing (magic, two version ints, then chunks of int32 length + snappy block) and in raw snappy (one
     * block, as librdkafka writes it). Each block starts with its uncompressed length as a varint.
     */
    static void checkSnappySizes(java.nio.ByteBuffer buf, int start, int end, long cap) throws RecordsException {
        boolean framed = end - start >= XERIAL_MAGIC.length;
        for (int i = 0; framed && i < XERIAL_MAGIC.length; i++) {
            framed = buf.get(start + i) == XERIAL_MAGIC[i];
        }
        if (!framed) {
            checkSnappyBlock(buf, start, end, cap);
            return;
        }
        int pos = start + XERIAL_HEADER_SIZE;
        while (pos < end) {
            if (end - pos < 4) {
                throw new RecordsException(ErrorCodes.CORRUPT_MESSAGE, "Truncated snappy chunk header");
            }
            int chunk = buf.getInt(pos);
            pos += 4;
            if (chunk < 0 || chunk > end - pos) {
                throw new RecordsException(ErrorCodes.CORRUPT_MESSAGE, "Snappy chunk of " + chunk + " bytes in "
                        + (end - pos) + " remaining bytes");
            }
            checkSnappyBlock(buf, pos, pos + chunk, cap);
            pos += chunk;
        }
    }

    private static void checkSnappyBlock(java.nio.ByteBuffer buf, int from, int to, long cap) throws RecordsException {
        long length = 0;
        for (int shift = 0, p = from; ; shift += 7, p++) {
            if (p >= to || shift > 28) {
                throw new RecordsException(ErrorCodes.CORRUPT_MESSAGE, "Malformed snappy block length");
            }
            int b = buf.get(p) & 0xff;
            length |= (long) (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                break;
            }
        }
        if (length > cap) {
            throw new RecordsException(ErrorCodes.CORRUPT_MESSAGE, "Snappy block declares " + length
                    + " uncompressed bytes, more than the limit of " + cap);
        }
    }

    /** Reads every record of the batch. */
    public static List<Record> readAll(RecordBatch batch) throws RecordsException {
        try (RecordCursor c = open(batch)) {
            List<Record> out = new ArrayList<>(Math.min(batch.recordsCount(), 1024));
            while (c.next()) {
                out.add(c.record());
            }
            return out;
        }
    }

    /** Advances to the next record; false after RecordsCount records (having checked nothing is left). */
    public boolean next() throws RecordsException {
        try {
            if (index >= count) {
                if (index == count) {
                    index++;
                    if (readByteOrEof() != -1) {
                        throw new RecordsException(ErrorCodes.INVALID_RECORD,
                                "Incorrect declared batch size, records still remaining after " + count + " records");
                    }
                }
                return false;
            }
            int size = readVarint();
            long bodyStart = consumed;
            if (size < 0) {
                throw invalid("Invalid record size " + size);
            }
            long bodyEnd = bodyStart + size;
            if (bodyEnd > maxBytes) {
                throw compressed ? new RecordsException(ErrorCodes.CORRUPT_MESSAGE, "Record " + index + " of " + size
                        + " bytes exceeds the decompressed batch limit of " + maxBytes)
                        : invalid("Record " + index + " of " + size + " bytes exceeds the batch");
            }
            attributes = readByte();
            long tsDelta = readVarlong();
            int offsetDelta = readVarint();
            key = readBytesField(bodyEnd, "key");
            value = readBytesField(bodyEnd, "value");
            int headerCount = readVarint();
            if (headerCount < 0 || headerCount > bodyEnd - consumed) {
                throw invalid("Found invalid number of record headers " + headerCount);
            }
            if (headerCount == 0) {
                headers = Collections.emptyList();
            } else {
                // grown as headers are actually read: the count alone is not proof that they are there
                List<Header> hs = new ArrayList<>(Math.min(headerCount, 16));
                for (int i = 0; i < headerCount; i++) {
                    int klen = readVarint();
                    if (klen < 0 || klen > bodyEnd - consumed) {
                        throw invalid("Invalid header key size " + klen);
                    }
                    String k = new String(readBytes(klen), StandardCharsets.UTF_8);
                    hs.add(new Header(k, readBytesField(bodyEnd, "header value")));
                }
                headers = Collections.unmodifiableList(hs);
            }
            if (consumed != bodyEnd) {
                throw invalid("Invalid record size: expected to read " + size + " bytes in record payload, but read "
                        + (consumed - bodyStart));
            }
            offset = baseOffset + offsetDelta;
            timestamp = logAppendTime != RecordBatch.NO_TIMESTAMP ? logAppendTime : baseTimestamp + tsDelta;
            index++;
            return true;
        } catch (EOFException e) {
            throw invalid("Incorrect declared batch size, premature EOF reached in record " + index);
        } catch (IOException | RuntimeException | SnappyError e) {
            // snappy-java reports malformed input as an Error (SnappyError), the other codecs as IOExceptions
            throw new RecordsException(ErrorCodes.CORRUPT_MESSAGE, "Cannot read record " + index + ": " + e, e);
        }
    }

    public long offset() {
        return offset;
    }

    public long timestamp() {
        return timestamp;
    }

    public int attributes() {
        return attributes;
    }

    public byte[] key() {
        return key;
    }

    public byte[] value() {
        return value;
    }

    public List<Header> headers() {
        return headers;
    }

    /** The current record as a value object. */
    public Record record() {
        return new Record(offset, timestamp, attributes, key, value, headers);
    }

    @Override
    public void close() {
        try {
            in.close();
        } catch (IOException | RuntimeException | SnappyError ignored) {
            // nothing to release beyond native codec state
        }
    }

    private RecordsException invalid(String message) {
        return new RecordsException(ErrorCodes.INVALID_RECORD, message);
    }

    private byte[] readBytesField(long bodyEnd, String what) throws IOException, RecordsException {
        int len = readVarint();
        if (len == -1) {
            return null;
        }
        if (len < -1 || len > bodyEnd - consumed) {
            throw invalid("Invalid " + what + " size " + len);
        }
        return readBytes(len);
    }

    private boolean fill() throws IOException, RecordsException {
        if (bufPos < bufEnd) {
            return true;
        }
        int n = in.read(buf, 0, buf.length);
        if (n <= 0) {
            return false;
        }
        bufPos = 0;
        bufEnd = n;
        return true;
    }

    private int readByteOrEof() throws IOException, RecordsException {
        if (!fill()) {
            return -1;
        }
        return buf[bufPos++] & 0xFF;
    }

    private int readByte() throws IOException, RecordsException {
        if (!fill()) {
            throw new EOFException();
        }
        count(1);
        return buf[bufPos++] & 0xFF;
    }

    private void count(long n) throws RecordsException {
        consumed += n;
        if (consumed > maxBytes) {
            throw new RecordsException(compressed ? ErrorCodes.CORRUPT_MESSAGE : ErrorCodes.INVALID_RECORD,
                    compressed ? "Decompressed batch exceeds " + maxBytes + " bytes" : "Record data exceeds the batch");
        }
    }

    /** Reads exactly {@code len} bytes; allocation grows with the data actually present. */
    private byte[] readBytes(int len) throws IOException, RecordsException {
        if (len == 0) {
            return EMPTY;
        }
        if (consumed + len > maxBytes) {
            count(len);
        }
        byte[] out = new byte[Math.min(len, 1 << 16)];
        int got = 0;
        while (got < len) {
            if (!fill()) {
                throw new EOFException();
            }
            if (got == out.length) {
                out = java.util.Arrays.copyOf(out, (int) Math.min(len, (long) out.length * 2));
            }
            int n = Math.min(Math.min(bufEnd - bufPos, len - got), out.length - got);
            System.arraycopy(buf, bufPos, out, got, n);
            bufPos += n;
            got += n;
        }
        count(len);
        return out;
    }

    private int readVarint() throws IOException, RecordsException {
        int raw = 0;
        int shift = 0;
        while (true) {
            int b = readByte();
            if ((b & 0x80) == 0) {
                raw |= b << shift;
                break;
            }
            raw |= (b & 0x7F) << shift;
            shift += 7;
            if (shift > 28) {
                throw invalid("Varint is too long");
            }
        }
        return (raw >>> 1) ^ -(raw & 1);
    }

    private long readVarlong() throws IOException, RecordsException {
        long raw = 0;
        int shift = 0;
        while (true) {
            int b = readByte();
            if ((b & 0x80) == 0) {
                raw |= (long) b << shift;
                break;
            }
            raw |= (long) (b & 0x7F) << shift;
            shift += 7;
            if (shift > 63) {
                throw invalid("Varlong is too long");
            }
        }
        return (raw >>> 1) ^ -(raw & 1);
    }
}
