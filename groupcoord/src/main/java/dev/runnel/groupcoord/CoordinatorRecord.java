package dev.runnel.groupcoord;

import dev.runnel.groupcoord.generated.GroupMetadataKey;
import dev.runnel.groupcoord.generated.GroupMetadataValue;
import dev.runnel.groupcoord.generated.OffsetCommitKey;
import dev.runnel.groupcoord.generated.OffsetCommitValue;
import dev.runnel.wire.ByteBufWritable;
import dev.runnel.wire.Message;
import dev.runnel.wire.Readable;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * One record of {@code __consumer_offsets}, in Kafka's layout so Kafka's tools can decode it:
 * <pre>
 *   key   = int16 key version  + key struct     (0/1 OffsetCommitKey, 2 GroupMetadataKey: the key version is the record type)
 *   value = int16 value version + value struct  (OffsetCommitValue / GroupMetadataValue), or null for a tombstone
 * </pre>
 */
public record CoordinatorRecord(short keyVersion, Message key, short valueVersion, Message value) {
    public static final short OFFSET_COMMIT_KEY_VERSION = 1;
    public static final short GROUP_METADATA_KEY_VERSION = 2;
    /** What Kafka 3.x/4.x write for an offset commit without an explicit expire timestamp. */
    public static final short OFFSET_COMMIT_VALUE_VERSION = 3;
    /** What Kafka writes when OffsetCommit v2-v4 carried a retention time (the only version with expireTimestamp). */
    public static final short OFFSET_COMMIT_VALUE_VERSION_WITH_EXPIRY = 1;
    /** The highest non-flexible version, which Kafka 3.x/4.x write. */
    public static final short GROUP_METADATA_VALUE_VERSION = 3;

    public CoordinatorRecord {
        Objects.requireNonNull(key, "key");
    }

    public boolean isTombstone() {
        return value == null;
    }

    public static CoordinatorRecord offsetCommit(String group, String topic, int partition, OffsetAndMetadata offset) {
        short version = offset.hasExpireTimestamp() ? OFFSET_COMMIT_VALUE_VERSION_WITH_EXPIRY : OFFSET_COMMIT_VALUE_VERSION;
        OffsetCommitValue value = new OffsetCommitValue();
        value.offset = offset.committedOffset();
        value.leaderEpoch = offset.leaderEpoch();
        value.metadata = offset.metadata();
        value.commitTimestamp = offset.commitTimestampMs();
        value.expireTimestamp = offset.expireTimestampMs();
        return new CoordinatorRecord(OFFSET_COMMIT_KEY_VERSION, offsetCommitKey(group, topic, partition), version, value);
    }

    public static CoordinatorRecord offsetCommitTombstone(String group, String topic, int partition) {
        return new CoordinatorRecord(OFFSET_COMMIT_KEY_VERSION, offsetCommitKey(group, topic, partition), (short) 0, null);
    }

    public static CoordinatorRecord groupMetadata(String group, GroupMetadataValue value) {
        return new CoordinatorRecord(GROUP_METADATA_KEY_VERSION, groupMetadataKey(group), GROUP_METADATA_VALUE_VERSION, value);
    }

    public static CoordinatorRecord groupMetadataTombstone(String group) {
        return new CoordinatorRecord(GROUP_METADATA_KEY_VERSION, groupMetadataKey(group), (short) 0, null);
    }

    // The schemas keep Kafka's lower-case field names, so the generated setters read oddly: set the fields directly.
    private static OffsetCommitKey offsetCommitKey(String group, String topic, int partition) {
        OffsetCommitKey key = new OffsetCommitKey();
        key.group = group;
        key.topic = topic;
        key.partition = partition;
        return key;
    }

    private static GroupMetadataKey groupMetadataKey(String group) {
        GroupMetadataKey key = new GroupMetadataKey();
        key.group = group;
        return key;
    }

    // ------------------------------------------------------------------ serde

    public byte[] serializeKey() {
        return versionPrefixed(keyVersion, key);
    }

    /** The value bytes, or null for a tombstone. */
    public byte[] serializeValue() {
        return value == null ? null : versionPrefixed(valueVersion, value);
    }

    private static byte[] versionPrefixed(short version, Message message) {
        ByteBuf buf = Unpooled.buffer(64);
        ByteBufWritable out = new ByteBufWritable(buf);
        out.writeInt16(version);
        message.write(out, version);
        byte[] bytes = new byte[buf.readableBytes()];
        buf.readBytes(bytes);
        return bytes;
    }

    /**
     * Decodes a record read back from the log.
     *
     * @throws UnknownRecordTypeException for record types of the new consumer-group protocol (3+), which this
     *                                    coordinator does not write; loading skips them
     * @throws IllegalArgumentException   for bytes that do not decode
     */
    public static CoordinatorRecord deserialize(ByteBuffer key, ByteBuffer value) {
        if (key == null || key.remaining() < 2) {
            throw new IllegalArgumentException("A __consumer_offsets record needs a key of at least 2 bytes");
        }
        Readable keyIn = new Readable(Unpooled.wrappedBuffer(key.duplicate()));
        short type = keyIn.readInt16();
        Message keyMessage;
        switch (type) {
            case 0, 1 -> keyMessage = new OffsetCommitKey();
            case 2 -> keyMessage = new GroupMetadataKey();
            default -> throw new UnknownRecordTypeException(type);
        }
        try {
            keyMessage.read(keyIn, type);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("Could not read a record key of type " + type + ": " + e.getMessage(), e);
        }
        if (value == null) {
            return new CoordinatorRecord(type, keyMessage, (short) 0, null);
        }
        if (value.remaining() < 2) {
            throw new IllegalArgumentException("A __consumer_offsets record value needs at least 2 bytes");
        }
        Readable valueIn = new Readable(Unpooled.wrappedBuffer(value.duplicate()));
        short valueVersion = valueIn.readInt16();
        Message valueMessage = type == 2 ? new GroupMetadataValue() : new OffsetCommitValue();
        short highest = type == 2 ? GroupMetadataValue.HIGHEST_SUPPORTED_VERSION : OffsetCommitValue.HIGHEST_SUPPORTED_VERSION;
        if (valueVersion < 0 || valueVersion > highest) {
            throw new IllegalArgumentException("Unknown value version " + valueVersion + " for record type " + type);
        }
        try {
            valueMessage.read(valueIn, valueVersion);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("Could not read a record value of version " + valueVersion + ": " + e.getMessage(), e);
        }
        return new CoordinatorRecord(type, keyMessage, valueVersion, valueMessage);
    }

    /** A record type this coordinator does not know (Kafka's new-protocol group records); loading skips it. */
    public static final class UnknownRecordTypeException extends RuntimeException {
        private final short type;

        public UnknownRecordTypeException(short type) {
            super("Unknown __consumer_offsets record type " + type, null, false, false);
            this.type = type;
        }

        public short type() {
            return type;
        }
    }
}
