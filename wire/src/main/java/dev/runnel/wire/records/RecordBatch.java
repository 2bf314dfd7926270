package dev.runnel.wire.records;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * A reusable flyweight over one RecordBatch (magic 2) inside a {@link ByteBuffer}: every accessor
 * reads the buffer at an absolute index, nothing is copied, and the caller's buffer position and
 * limit are never touched. Not thread-safe; one instance can be re-pointed with {@link #wrap}.
 *
 * <pre>
 * BaseOffset int64 | Length int32 | PartitionLeaderEpoch int32 | Magic int8 | CRC uint32 |
 * Attributes int16 | LastOffsetDelta int32 | BaseTimestamp int64 | MaxTimestamp int64 |
 * ProducerId int64 | ProducerEpoch int16 | BaseSequence int32 | RecordsCount int32 | Records
 * </pre>
 *
 * The CRC-32C covers Attributes..end, so BaseOffset and PartitionLeaderEpoch can be rewritten in
 * place ({@link #setBaseOffset}, {@link #setPartitionLeaderEpoch}) without touching it.
 * Accessors do not check that the batch is complete: validate first ({@link BatchValidator}) or
 * iterate with {@link BatchCursor}, which only yields batches whose bytes are all present.
 */
public final class RecordBatch {
    public static final int BASE_OFFSET_OFFSET = 0;
    public static final int LENGTH_OFFSET = 8;
    public static final int PARTITION_LEADER_EPOCH_OFFSET = 12;
    public static final int MAGIC_OFFSET = 16;
    public static final int CRC_OFFSET = 17;
    public static final int ATTRIBUTES_OFFSET = 21;
    public static final int LAST_OFFSET_DELTA_OFFSET = 23;
    public static final int BASE_TIMESTAMP_OFFSET = 27;
    public static final int MAX_TIMESTAMP_OFFSET = 35;
    public static final int PRODUCER_ID_OFFSET = 43;
    public static final int PRODUCER_EPOCH_OFFSET = 51;
    public static final int BASE_SEQUENCE_OFFSET = 53;
    public static final int RECORDS_COUNT_OFFSET = 57;
    public static final int RECORDS_OFFSET = 61;

    /** BaseOffset + Length: the bytes not counted by the Length field. */
    public static final int LOG_OVERHEAD = 12;
    /** Bytes needed to read the magic byte. */
    public static final int HEADER_SIZE_UP_TO_MAGIC = 17;
    /** Size of a v2 batch header (a batch with no records). */
    public static final int RECORD_BATCH_OVERHEAD = RECORDS_OFFSET;
    /** The smallest legal value of the Length field. */
    public static final int MIN_LENGTH = RECORD_BATCH_OVERHEAD - LOG_OVERHEAD;

    public static final byte MAGIC_V2 = 2;
    public static final long NO_PRODUCER_ID = -1L;
    public static final short NO_PRODUCER_EPOCH = -1;
    public static final int NO_SEQUENCE = -1;
    public static final int NO_PARTITION_LEADER_EPOCH = -1;
    public static final long NO_TIMESTAMP = -1L;

    public static final int COMPRESSION_CODEC_MASK = 0x07;
    public static final int TIMESTAMP_TYPE_MASK = 0x08;
    public static final int TRANSACTIONAL_FLAG_MASK = 0x10;
    public static final int CONTROL_FLAG_MASK = 0x20;
    public static final int DELETE_HORIZON_FLAG_MASK = 0x40;

    private ByteBuffer source;
    /** Big-endian duplicate of {@link #source}; its position/limit are ours to change. */
    private ByteBuffer view;
    private int limit;
    private int pos;
    private CRC32C crc;

    public RecordBatch() {
    }

    /** A new flyweight over the batch starting at {@code position} of {@code buffer}. */
    public static RecordBatch at(ByteBuffer buffer, int position) {
        return new RecordBatch().wrap(buffer, position);
    }

    /**
     * Points this flyweight at the batch starting at the absolute index {@code position}.
     * The buffer's current limit bounds what {@link #isComplete()} and {@link #isCrcValid()} accept.
     */
    public RecordBatch wrap(ByteBuffer buffer, int position) {
        if (buffer != source || buffer.limit() != limit) {
            source = buffer;
            view = buffer.duplicate().order(ByteOrder.BIG_ENDIAN);
            limit = buffer.limit();
        }
        pos = position;
        return this;
    }

    /** The wrapped buffer. */
    public ByteBuffer buffer() {
        return source;
    }

    /** Absolute index of the batch's first byte in {@link #buffer()}. */
    public int position() {
        return pos;
    }

    /** Whether the buffer holds at least the 12-byte log overhead and then Length more bytes. */
    public boolean isComplete() {
        if (limit - pos < LOG_OVERHEAD) {
            return false;
        }
        int length = batchLength();
        return length >= 0 && (long) limit - pos - LOG_OVERHEAD >= length;
    }

    public long baseOffset() {
        return view.getLong(pos + BASE_OFFSET_OFFSET);
    }

    /** The int32 Length field: bytes after it, i.e. {@code sizeInBytes() - 12}. */
    public int batchLength() {
        return view.getInt(pos + LENGTH_OFFSET);
    }

    /** Total size of the batch, {@code 12 + Length}. */
    public int sizeInBytes() {
        return LOG_OVERHEAD + batchLength();
    }

    public int partitionLeaderEpoch() {
        return view.getInt(pos + PARTITION_LEADER_EPOCH_OFFSET);
    }

    public byte magic() {
        return view.get(pos + MAGIC_OFFSET);
    }

    /** The stored CRC as an unsigned 32-bit value. */
    public long crc() {
        return view.getInt(pos + CRC_OFFSET) & 0xFFFFFFFFL;
    }

    public short attributes() {
        return view.getShort(pos + ATTRIBUTES_OFFSET);
    }

    /** Codec id: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd (5-7 are invalid). */
    public int compressionType() {
        return attributes() & COMPRESSION_CODEC_MASK;
    }

    /** The codec, or {@code null} for the invalid ids 5-7. */
    public Compression compression() {
        return Compression.forId(compressionType());
    }

    public TimestampType timestampType() {
        return (attributes() & TIMESTAMP_TYPE_MASK) == 0 ? TimestampType.CREATE_TIME : TimestampType.LOG_APPEND_TIME;
    }

    public boolean isTransactional() {
        return (attributes() & TRANSACTIONAL_FLAG_MASK) != 0;
    }

    public boolean isControl() {
        return (attributes() & CONTROL_FLAG_MASK) != 0;
    }

    public boolean hasDeleteHorizon() {
        return (attributes() & DELETE_HORIZON_FLAG_MASK) != 0;
    }

    public int lastOffsetDelta() {
        return view.getInt(pos + LAST_OFFSET_DELTA_OFFSET);
    }

    public long lastOffset() {
        return baseOffset() + lastOffsetDelta();
    }

    /** {@code lastOffset() + 1}. */
    public long nextOffset() {
        return lastOffset() + 1;
    }

    public long baseTimestamp() {
        return view.getLong(pos + BASE_TIMESTAMP_OFFSET);
    }

    public long maxTimestamp() {
        return view.getLong(pos + MAX_TIMESTAMP_OFFSET);
    }

    public long producerId() {
        return view.getLong(pos + PRODUCER_ID_OFFSET);
    }

    public boolean hasProducerId() {
        return producerId() > NO_PRODUCER_ID;
    }

    public short producerEpoch() {
        return view.getShort(pos + PRODUCER_EPOCH_OFFSET);
    }

    public int baseSequence() {
        return view.getInt(pos + BASE_SEQUENCE_OFFSET);
    }

    /** The sequence of the last record, wrapping past {@link Integer#MAX_VALUE} to 0 as Kafka does. */
    public int lastSequence() {
        int base = baseSequence();
        if (base == NO_SEQUENCE) {
            return NO_SEQUENCE;
        }
        return incrementSequence(base, lastOffsetDelta());
    }

    /** The RecordsCount field. */
    public int recordsCount() {
        return view.getInt(pos + RECORDS_COUNT_OFFSET);
    }

    /** {@code seq + increment}, wrapping from {@link Integer#MAX_VALUE} to 0. */
    public static int incrementSequence(int sequence, int increment) {
        if (sequence > Integer.MAX_VALUE - increment) {
            return increment - (Integer.MAX_VALUE - sequence) - 1;
        }
        return sequence + increment;
    }

    /** {@code seq - decrement}, the inverse of {@link #incrementSequence}. */
    public static int decrementSequence(int sequence, int decrement) {
        if (sequence < decrement) {
            return Integer.MAX_VALUE - (decrement - sequence) + 1;
        }
        return sequence - decrement;
    }

    /**
     * CRC-32C of Attributes..end, computed on the buffer without copying. The batch must be
     * complete ({@link #isComplete()}).
     */
    public long computeChecksum() {
        int start = pos + ATTRIBUTES_OFFSET;
        int end = pos + sizeInBytes();
        if (crc == null) {
            crc = new CRC32C();
        } else {
            crc.reset();
        }
        view.limit(end).position(start);
        crc.update(view);
        view.limit(limit).position(0);
        return crc.getValue();
    }

    /** Whether the batch is complete, at least a header long, and its CRC matches. */
    public boolean isCrcValid() {
        if (limit - pos < RECORD_BATCH_OVERHEAD || !isComplete() || batchLength() < MIN_LENGTH) {
            return false;
        }
        return computeChecksum() == crc();
    }

    /** Rewrites BaseOffset in place (outside the CRC). */
    public void setBaseOffset(long baseOffset) {
        view.putLong(pos + BASE_OFFSET_OFFSET, baseOffset);
    }

    /** Rewrites PartitionLeaderEpoch in place (outside the CRC). */
    public void setPartitionLeaderEpoch(int epoch) {
        view.putInt(pos + PARTITION_LEADER_EPOCH_OFFSET, epoch);
    }

    /**
     * Sets the timestamp type bit and MaxTimestamp, then recomputes and stores the CRC, as the
     * broker does for LogAppendTime topics (and when it corrects a CreateTime max timestamp).
     */
    public void setMaxTimestamp(TimestampType type, long maxTimestamp) {
        short attrs = attributes();
        int newAttrs = type == TimestampType.LOG_APPEND_TIME ? (attrs | TIMESTAMP_TYPE_MASK) : (attrs & ~TIMESTAMP_TYPE_MASK);
        if (newAttrs == attrs && maxTimestamp == maxTimestamp()) {
            return;
        }
        view.putShort(pos + ATTRIBUTES_OFFSET, (short) newAttrs);
        view.putLong(pos + MAX_TIMESTAMP_OFFSET, maxTimestamp);
        view.putInt(pos + CRC_OFFSET, (int) computeChecksum());
    }

    /** {@code setMaxTimestamp(LOG_APPEND_TIME, now)}. */
    public void setMaxTimestampAndLogAppendTime(long now) {
        setMaxTimestamp(TimestampType.LOG_APPEND_TIME, now);
    }

    /** A new buffer view (position 0, limit = size) of exactly this batch's bytes; nothing copied. */
    public ByteBuffer slice() {
        ByteBuffer dup = source.duplicate();
        dup.limit(pos + sizeInBytes()).position(pos);
        return dup.slice();
    }

    @Override
    public String toString() {
        if (limit - pos < RECORD_BATCH_OVERHEAD) {
            return "RecordBatch(position=" + pos + ", incomplete)";
        }
        return "RecordBatch(baseOffset=" + baseOffset() + ", lastOffset=" + lastOffset() + ", size=" + sizeInBytes()
                + ", magic=" + magic() + ", crc=" + crc() + ", compression=" + compressionType()
                + ", timestampType=" + timestampType() + ", maxTimestamp=" + maxTimestamp()
                + ", producerId=" + producerId() + ", producerEpoch=" + producerEpoch()
                + ", baseSequence=" + baseSequence() + ", count=" + recordsCount()
                + (isTransactional() ? ", transactional" : "") + (isControl() ? ", control" : "") + ")";
    }
}
