package dev.runnel.wire.records;

import com.github.luben.zstd.ZstdOutputStream;
import net.jpountz.lz4.LZ4FrameOutputStream;
import org.xerial.snappy.SnappyOutputStream;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPOutputStream;

/**
 * Writes one RecordBatch v2 with a correct CRC-32C: for tests and for the broker's own records
 * (e.g. {@code __consumer_offsets}, control batches). Any codec can be chosen; the output is what
 * Kafka's {@code MemoryRecords} reads. Offset deltas are 0..n-1; BaseTimestamp is the first record's
 * timestamp and MaxTimestamp the largest (or the log-append time when that type is chosen).
 *
 * <pre>
 * ByteBuffer batch = new BatchBuilder().producer(pid, epoch, seq)
 *         .append(ts, key, value).append(ts, key, value, new Header("h", v)).build();
 * </pre>
 * Not thread-safe; build() may be called once per builder.
 */
public final class BatchBuilder {
    private long baseOffset;
    private int partitionLeaderEpoch = RecordBatch.NO_PARTITION_LEADER_EPOCH;
    private Compression compression = Compression.NONE;
    private TimestampType timestampType = TimestampType.CREATE_TIME;
    private long logAppendTime = RecordBatch.NO_TIMESTAMP;
    private long producerId = RecordBatch.NO_PRODUCER_ID;
    private short producerEpoch = RecordBatch.NO_PRODUCER_EPOCH;
    private int baseSequence = RecordBatch.NO_SEQUENCE;
    private boolean transactional;
    private boolean control;

    private final Bytes records = new Bytes();
    private int count;
    private long baseTimestamp = RecordBatch.NO_TIMESTAMP;
    private long maxTimestamp = RecordBatch.NO_TIMESTAMP;
    private boolean built;

    public BatchBuilder baseOffset(long baseOffset) {
        this.baseOffset = baseOffset;
        return this;
    }

    public BatchBuilder partitionLeaderEpoch(int epoch) {
        this.partitionLeaderEpoch = epoch;
        return this;
    }

    public BatchBuilder compression(Compression compression) {
        this.compression = compression;
        return this;
    }

    /** Makes a LogAppendTime batch: every record's timestamp reads as {@code appendTime}. */
    public BatchBuilder logAppendTime(long appendTime) {
        this.timestampType = TimestampType.LOG_APPEND_TIME;
        this.logAppendTime = appendTime;
        return this;
    }

    /** Idempotent producer fields: id, epoch and the sequence of the first record. */
    public BatchBuilder producer(long producerId, short producerEpoch, int baseSequence) {
        this.producerId = producerId;
        this.producerEpoch = producerEpoch;
        this.baseSequence = baseSequence;
        return this;
    }

    public BatchBuilder transactional(boolean transactional) {
        this.transactional = transactional;
        return this;
    }

    public BatchBuilder control(boolean control) {
        this.control = control;
        return this;
    }

    public BatchBuilder append(long timestamp, byte[] key, byte[] value) {
        return append(timestamp, key, value, (Header[]) null);
    }

    public BatchBuilder append(long timestamp, String key, String value) {
        return append(timestamp, key == null ? null : key.getBytes(StandardCharsets.UTF_8),
                value == null ? null : value.getBytes(StandardCharsets.UTF_8), (Header[]) null);
    }

    public BatchBuilder append(long timestamp, byte[] key, byte[] value, Header... headers) {
        if (built) {
            throw new IllegalStateException("already built");
        }
        if (count == 0) {
            baseTimestamp = timestamp;
        }
        if (timestamp > maxTimestamp) {
            maxTimestamp = timestamp;
        }
        Bytes body = new Bytes();
        body.write(0); // attributes
        body.writeVarlong(timestamp - baseTimestamp);
        body.writeVarint(count);
        body.writeField(key);
        body.writeField(value);
        int n = headers == null ? 0 : headers.length;
        body.writeVarint(n);
        for (int i = 0; i < n; i++) {
            byte[] k = headers[i].key().getBytes(StandardCharsets.UTF_8);
            body.writeVarint(k.length);
            body.write(k, 0, k.length);
            body.writeField(headers[i].value());
        }
        records.writeVarint(body.size());
        body.writeTo(records);
        count++;
        return this;
    }

    public BatchBuilder append(Record record) {
        List<Header> hs = record.headers();
        return append(record.timestamp(), record.key(), record.value(), hs.toArray(new Header[0]));
    }

    public int recordCount() {
        return count;
    }

    /** Builds the batch into a new heap buffer (position 0, limit = batch size). */
    public ByteBuffer build() {
        if (count == 0) {
            throw new IllegalStateException("a batch needs at least one record");
        }
        built = true;
        byte[] payload = compression == Compression.NONE ? records.array() : compress();
        int payloadLen = compression == Compression.NONE ? records.size() : payload.length;
        int size = RecordBatch.RECORD_BATCH_OVERHEAD + payloadLen;
        ByteBuffer out = ByteBuffer.allocate(size).order(ByteOrder.BIG_ENDIAN);
        int attributes = compression.id
                | (timestampType == TimestampType.LOG_APPEND_TIME ? RecordBatch.TIMESTAMP_TYPE_MASK : 0)
                | (transactional ? RecordBatch.TRANSACTIONAL_FLAG_MASK : 0)
                | (control ? RecordBatch.CONTROL_FLAG_MASK : 0);
        out.putLong(RecordBatch.BASE_OFFSET_OFFSET, baseOffset);
        out.putInt(RecordBatch.LENGTH_OFFSET, size - RecordBatch.LOG_OVERHEAD);
        out.putInt(RecordBatch.PARTITION_LEADER_EPOCH_OFFSET, partitionLeaderEpoch);
        out.put(RecordBatch.MAGIC_OFFSET, RecordBatch.MAGIC_V2);
        out.putShort(RecordBatch.ATTRIBUTES_OFFSET, (short) attributes);
        out.putInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET, count - 1);
        out.putLong(RecordBatch.BASE_TIMESTAMP_OFFSET, baseTimestamp);
        out.putLong(RecordBatch.MAX_TIMESTAMP_OFFSET,
                timestampType == TimestampType.LOG_APPEND_TIME ? logAppendTime : maxTimestamp);
        out.putLong(RecordBatch.PRODUCER_ID_OFFSET, producerId);
        out.putShort(RecordBatch.PRODUCER_EPOCH_OFFSET, producerEpoch);
        out.putInt(RecordBatch.BASE_SEQUENCE_OFFSET, baseSequence);
        out.putInt(RecordBatch.RECORDS_COUNT_OFFSET, count);
        out.put(RecordBatch.RECORDS_OFFSET, payload, 0, payloadLen);
        RecordBatch batch = RecordBatch.at(out, 0);
        out.putInt(RecordBatch.CRC_OFFSET, (int) batch.computeChecksum());
        return out;
    }

    private byte[] compress() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(Math.max(64, records.size() / 2));
        try (OutputStream os = switch (compression) {
            case GZIP -> new GZIPOutputStream(bytes, 8192);
            case SNAPPY -> new SnappyOutputStream(bytes);
            case LZ4 -> new LZ4FrameOutputStream(bytes, LZ4FrameOutputStream.BLOCKSIZE.SIZE_64KB);
            case ZSTD -> new ZstdOutputStream(bytes);
            case NONE -> throw new IllegalStateException();
        }) {
            os.write(records.array(), 0, records.size());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** A growable byte array with Kafka's zig-zag varint encodings. */
    private static final class Bytes {
        private byte[] buf = new byte[64];
        private int size;

        void write(int b) {
            ensure(1);
            buf[size++] = (byte) b;
        }

        void write(byte[] b, int off, int len) {
            ensure(len);
            System.arraycopy(b, off, buf, size, len);
            size += len;
        }

        void writeVarint(int value) {
            int v = (value << 1) ^ (value >> 31);
            while ((v & 0xFFFFFF80) != 0) {
                write((v & 0x7F) | 0x80);
                v >>>= 7;
            }
            write(v);
        }

        void writeVarlong(long value) {
            long v = (value << 1) ^ (value >> 63);
            while ((v & 0xFFFFFFFFFFFFFF80L) != 0) {
                write((int) ((v & 0x7F) | 0x80));
                v >>>= 7;
            }
            write((int) v);
        }

        void writeField(byte[] b) {
            if (b == null) {
                writeVarint(-1);
            } else {
                writeVarint(b.length);
                write(b, 0, b.length);
            }
        }

        void writeTo(Bytes other) {
            other.write(buf, 0, size);
        }

        int size() {
            return size;
        }

        byte[] array() {
            return buf;
        }

        private void ensure(int n) {
            if (size + n > buf.length) {
                buf = Arrays.copyOf(buf, Math.max(buf.length * 2, size + n));
            }
        }
    }
}
