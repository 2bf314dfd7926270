package dev.runnel.broker.produce;

import dev.runnel.wire.ByteBufRecords;
import dev.runnel.wire.ByteBufWritable;
import dev.runnel.wire.Errors;
import dev.runnel.wire.Records;
import dev.runnel.wire.message.ProduceRequestData;
import dev.runnel.wire.records.RecordBatch;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;

/**
 * The request-level record checks Kafka makes before the log sees a produce request (its
 * {@code ProduceRequest.validateRecords} and {@code RequestUtils.hasTransactionalRecords}), reading batch
 * headers in place without copying or allocating.
 */
public final class ProduceChecks {
    private static final int ZSTD = 4;

    private ProduceChecks() {
    }

    /** Why a partition's records are refused, with Kafka's error. */
    public record Problem(Errors error, String message) {
    }

    /**
     * The records as a ByteBuffer over the same bytes (position 0, limit = size), or null for null records.
     * A request's records are a slice of the frame: this is a view, valid while the frame is.
     */
    public static ByteBuffer asByteBuffer(Records records) {
        if (records == null) {
            return null;
        }
        if (records instanceof ByteBufRecords br) {
            ByteBuf b = br.buffer();
            if (b.nioBufferCount() == 1) {
                return b.nioBuffer(b.readerIndex(), b.readableBytes());
            }
            byte[] copy = new byte[b.readableBytes()];
            b.getBytes(b.readerIndex(), copy);
            return ByteBuffer.wrap(copy);
        }
        ByteBuf tmp = Unpooled.buffer(records.sizeInBytes());
        records.writeTo(new ByteBufWritable(tmp));
        byte[] copy = new byte[tmp.readableBytes()];
        tmp.readBytes(copy);
        return ByteBuffer.wrap(copy);
    }

    /**
     * Kafka's checks for Produce v3+: a partition carries exactly one complete magic-2 batch, and zstd
     * needs v7+. Returns null when fine. Later problems (CRC, layout, more batches) are the log's.
     */
    public static Problem checkV3Shape(short version, ByteBuffer buf) {
        String noBatch = "Produce requests with version " + version + " must have at least one record batch per partition";
        if (buf == null) {
            return new Problem(Errors.INVALID_RECORD, noBatch);
        }
        int p = buf.position();
        int remaining = buf.remaining();
        if (remaining < RecordBatch.LOG_OVERHEAD) {
            return new Problem(Errors.INVALID_RECORD, noBatch);
        }
        int length = buf.getInt(p + RecordBatch.LENGTH_OFFSET);
        if (length < 14) { // the smallest legacy (v0) message: Kafka's first framing check
            return new Problem(Errors.CORRUPT_MESSAGE, "Record size " + length + " is less than the minimum record overhead (14)");
        }
        if (remaining < RecordBatch.HEADER_SIZE_UP_TO_MAGIC) {
            return new Problem(Errors.INVALID_RECORD, noBatch);
        }
        byte magic = buf.get(p + RecordBatch.MAGIC_OFFSET);
        if (magic < 0 || magic > RecordBatch.MAGIC_V2) {
            return new Problem(Errors.CORRUPT_MESSAGE, "Invalid magic found in record: " + magic);
        }
        if ((long) RecordBatch.LOG_OVERHEAD + length > remaining) {
            return new Problem(Errors.INVALID_RECORD, noBatch);
        }
        if (magic != RecordBatch.MAGIC_V2) {
            return new Problem(Errors.INVALID_RECORD, "Produce requests with version " + version
                    + " are only allowed to contain record batches with magic version 2");
        }
        if (version < 7 && remaining >= RecordBatch.ATTRIBUTES_OFFSET + 2
                && (buf.getShort(p + RecordBatch.ATTRIBUTES_OFFSET) & RecordBatch.COMPRESSION_CODEC_MASK) == ZSTD) {
            return new Problem(Errors.UNSUPPORTED_COMPRESSION_TYPE, "Produce requests with version " + version
                    + " are not allowed to use ZStandard compression");
        }
        return null;
    }

    /** Whether the first batch of {@code buf} is a transactional magic-2 batch. */
    public static boolean isTransactional(ByteBuffer buf) {
        int p = buf.position();
        if (buf.remaining() < RecordBatch.ATTRIBUTES_OFFSET + 2 || buf.get(p + RecordBatch.MAGIC_OFFSET) != RecordBatch.MAGIC_V2) {
            return false;
        }
        return (buf.getShort(p + RecordBatch.ATTRIBUTES_OFFSET) & RecordBatch.TRANSACTIONAL_FLAG_MASK) != 0;
    }

    /** Kafka's {@code RequestUtils.hasTransactionalRecords}: any partition whose first batch is transactional. */
    public static boolean hasTransactionalRecords(ProduceRequestData req) {
        for (ProduceRequestData.TopicProduceData td : req.topicData) {
            for (ProduceRequestData.PartitionProduceData pd : td.partitionData) {
                if (pd.records instanceof ByteBufRecords br) {
                    ByteBuf b = br.buffer();
                    int p = b.readerIndex();
                    if (b.readableBytes() >= RecordBatch.ATTRIBUTES_OFFSET + 2
                            && b.getByte(p + RecordBatch.MAGIC_OFFSET) == RecordBatch.MAGIC_V2
                            && (b.getShort(p + RecordBatch.ATTRIBUTES_OFFSET) & RecordBatch.TRANSACTIONAL_FLAG_MASK) != 0) {
                        return true;
                    }
                }
            }
        }
        return false;
    }
}
