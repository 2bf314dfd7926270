package dev.runnel.metadata;

import dev.runnel.metadata.records.BrokerRegistrationChangeRecord;
import dev.runnel.metadata.records.ClientQuotaRecord;
import dev.runnel.metadata.records.ConfigRecord;
import dev.runnel.metadata.records.FeatureLevelRecord;
import dev.runnel.metadata.records.FenceBrokerRecord;
import dev.runnel.metadata.records.NoOpRecord;
import dev.runnel.metadata.records.PartitionChangeRecord;
import dev.runnel.metadata.records.PartitionRecord;
import dev.runnel.metadata.records.ProducerIdsRecord;
import dev.runnel.metadata.records.RegisterBrokerRecord;
import dev.runnel.metadata.records.RemoveTopicRecord;
import dev.runnel.metadata.records.TopicRecord;
import dev.runnel.metadata.records.UnfenceBrokerRecord;
import dev.runnel.metadata.records.UnregisterBrokerRecord;
import dev.runnel.metadata.records.runnel.ClusterIdRecord;
import dev.runnel.wire.ByteBufWritable;
import dev.runnel.wire.MalformedMessageException;
import dev.runnel.wire.Message;
import dev.runnel.wire.Readable;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;

/**
 * Batches of metadata records as the metadata log stores them. Each record is framed as Kafka's
 * {@code MetadataRecordSerde} frames it (unsigned varints: frame version 1, record type, record version; then the
 * record); a batch is an int32 count followed by int32-length-prefixed records.
 */
public final class MetadataRecords {
    private static final int FRAME_VERSION = 1;
    /** A batch holds at most this many records (a bound checked before allocating on read). */
    public static final int MAX_RECORDS_PER_BATCH = 1_000_000;

    private MetadataRecords() {
    }

    /** The record type (Kafka's metadata record "apiKey") of a record of ours. */
    public static short type(Message m) {
        if (m instanceof RegisterBrokerRecord) return RegisterBrokerRecord.API_KEY;
        if (m instanceof UnregisterBrokerRecord) return UnregisterBrokerRecord.API_KEY;
        if (m instanceof TopicRecord) return TopicRecord.API_KEY;
        if (m instanceof PartitionRecord) return PartitionRecord.API_KEY;
        if (m instanceof ConfigRecord) return ConfigRecord.API_KEY;
        if (m instanceof PartitionChangeRecord) return PartitionChangeRecord.API_KEY;
        if (m instanceof FenceBrokerRecord) return FenceBrokerRecord.API_KEY;
        if (m instanceof UnfenceBrokerRecord) return UnfenceBrokerRecord.API_KEY;
        if (m instanceof RemoveTopicRecord) return RemoveTopicRecord.API_KEY;
        if (m instanceof FeatureLevelRecord) return FeatureLevelRecord.API_KEY;
        if (m instanceof ProducerIdsRecord) return ProducerIdsRecord.API_KEY;
        if (m instanceof BrokerRegistrationChangeRecord) return BrokerRegistrationChangeRecord.API_KEY;
        if (m instanceof NoOpRecord) return NoOpRecord.API_KEY;
        if (m instanceof ClusterIdRecord) return ClusterIdRecord.API_KEY;
        if (m instanceof ClientQuotaRecord) return ClientQuotaRecord.API_KEY;
        throw new IllegalArgumentException("Not a metadata record Runnel writes: " + m.getClass().getSimpleName());
    }

    /** The version each record type is written in (the newest of Kafka 3.9's schemas). */
    public static short version(short type) {
        return switch (type) {
            case RegisterBrokerRecord.API_KEY -> RegisterBrokerRecord.HIGHEST_SUPPORTED_VERSION;
            case PartitionRecord.API_KEY -> 1; // v2 adds only the tagged ELR fields
            case PartitionChangeRecord.API_KEY -> 1;
            case BrokerRegistrationChangeRecord.API_KEY -> BrokerRegistrationChangeRecord.HIGHEST_SUPPORTED_VERSION;
            case UnregisterBrokerRecord.API_KEY -> UnregisterBrokerRecord.HIGHEST_SUPPORTED_VERSION;
            default -> 0;
        };
    }

    static Message newRecord(short type) {
        return switch (type) {
            case RegisterBrokerRecord.API_KEY -> new RegisterBrokerRecord();
            case UnregisterBrokerRecord.API_KEY -> new UnregisterBrokerRecord();
            case TopicRecord.API_KEY -> new TopicRecord();
            case PartitionRecord.API_KEY -> new PartitionRecord();
            case ConfigRecord.API_KEY -> new ConfigRecord();
            case PartitionChangeRecord.API_KEY -> new PartitionChangeRecord();
            case FenceBrokerRecord.API_KEY -> new FenceBrokerRecord();
            case UnfenceBrokerRecord.API_KEY -> new UnfenceBrokerRecord();
            case RemoveTopicRecord.API_KEY -> new RemoveTopicRecord();
            case FeatureLevelRecord.API_KEY -> new FeatureLevelRecord();
            case ProducerIdsRecord.API_KEY -> new ProducerIdsRecord();
            case BrokerRegistrationChangeRecord.API_KEY -> new BrokerRegistrationChangeRecord();
            case NoOpRecord.API_KEY -> new NoOpRecord();
            case ClusterIdRecord.API_KEY -> new ClusterIdRecord();
            case ClientQuotaRecord.API_KEY -> new ClientQuotaRecord();
            default -> throw new MalformedMessageException("Unknown metadata record type " + type);
        };
    }

    /** One record in Kafka's metadata record framing. */
    public static byte[] encode(Message record) {
        ByteBuf buf = Unpooled.buffer(64);
        writeRecord(new ByteBufWritable(buf), record);
        byte[] out = new byte[buf.readableBytes()];
        buf.readBytes(out);
        return out;
    }

    private static void writeRecord(ByteBufWritable out, Message record) {
        short type = type(record);
        out.writeUnsignedVarint(FRAME_VERSION);
        out.writeUnsignedVarint(type);
        out.writeUnsignedVarint(version(type));
        record.write(out, version(type));
    }

    public static Message decode(byte[] bytes) {
        return readRecord(new Readable(Unpooled.wrappedBuffer(bytes)));
    }

    private static Message readRecord(Readable in) {
        int frame = in.readUnsignedVarint();
        if (frame != FRAME_VERSION) {
            throw new MalformedMessageException("Unknown metadata record frame version " + frame);
        }
        int type = in.readUnsignedVarint();
        int version = in.readUnsignedVarint();
        if (type > Short.MAX_VALUE || version > Short.MAX_VALUE) {
            throw new MalformedMessageException("Metadata record type or version out of range");
        }
        Message m = newRecord((short) type);
        m.read(in, (short) version);
        return m;
    }

    public static byte[] encodeBatch(List<? extends Message> records) {
        ByteBuf buf = Unpooled.buffer(256);
        ByteBufWritable out = new ByteBufWritable(buf);
        buf.writeInt(records.size());
        for (Message r : records) {
            int lengthAt = buf.writerIndex();
            buf.writeInt(0);
            writeRecord(out, r);
            buf.setInt(lengthAt, buf.writerIndex() - lengthAt - 4);
        }
        byte[] bytes = new byte[buf.readableBytes()];
        buf.readBytes(bytes);
        return bytes;
    }

    public static List<Message> decodeBatch(byte[] batch) {
        ByteBuf buf = Unpooled.wrappedBuffer(batch);
        if (buf.readableBytes() < 4) {
            throw new MalformedMessageException("Metadata batch shorter than its count");
        }
        int count = buf.readInt();
        if (count < 0 || count > MAX_RECORDS_PER_BATCH || count > buf.readableBytes() / 4) {
            throw new MalformedMessageException("Metadata batch with an impossible record count " + count);
        }
        List<Message> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            if (buf.readableBytes() < 4) {
                throw new MalformedMessageException("Metadata batch ends inside a record length");
            }
            int len = buf.readInt();
            if (len < 0 || len > buf.readableBytes()) {
                throw new MalformedMessageException("Metadata record length " + len + " exceeds the batch");
            }
            ByteBuf slice = buf.readSlice(len);
            out.add(readRecord(new Readable(slice)));
        }
        return out;
    }
}
