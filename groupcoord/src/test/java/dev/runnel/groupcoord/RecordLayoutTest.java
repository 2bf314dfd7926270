package dev.runnel.groupcoord;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.runnel.groupcoord.generated.GroupMetadataKey;
import dev.runnel.groupcoord.generated.GroupMetadataValue;
import dev.runnel.groupcoord.generated.OffsetCommitKey;
import dev.runnel.groupcoord.generated.OffsetCommitValue;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.coordinator.group.CoordinatorRecordSerde;
import org.apache.kafka.server.common.ApiMessageAndVersion;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * Our __consumer_offsets records, byte for byte against Kafka 3.9's own record classes and serde: every key and value
 * version both ways, so Kafka's tools read what we write and we read what Kafka wrote.
 */
class RecordLayoutTest {
    private final CoordinatorRecordSerde kafka = new CoordinatorRecordSerde();

    private static org.apache.kafka.coordinator.group.CoordinatorRecord kafkaRecord(ApiMessageAndVersion key, ApiMessageAndVersion value) {
        return new org.apache.kafka.coordinator.group.CoordinatorRecord(key, value);
    }

    private static ByteBuffer wrap(byte[] b) {
        return b == null ? null : ByteBuffer.wrap(b);
    }

    @ParameterizedTest
    @ValueSource(shorts = {0, 1, 2, 3, 4})
    void offsetCommitValuesMatchKafka(short valueVersion) {
        for (short keyVersion : new short[] {0, 1}) {
            OffsetCommitKey key = new OffsetCommitKey();
            key.group = "payments-ü";
            key.topic = "orders";
            key.partition = 7;
            OffsetCommitValue value = new OffsetCommitValue();
            value.offset = 123_456_789_012L;
            value.leaderEpoch = valueVersion >= 3 ? 5 : -1;
            value.metadata = "checkpoint=42";
            value.commitTimestamp = 1_700_000_000_123L;
            value.expireTimestamp = valueVersion == 1 ? 1_700_000_999_000L : -1;
            CoordinatorRecord ours = new CoordinatorRecord(keyVersion, key, valueVersion, value);

            var theirs = kafkaRecord(
                    new ApiMessageAndVersion(new org.apache.kafka.coordinator.group.generated.OffsetCommitKey()
                            .setGroup("payments-ü").setTopic("orders").setPartition(7), keyVersion),
                    new ApiMessageAndVersion(new org.apache.kafka.coordinator.group.generated.OffsetCommitValue()
                            .setOffset(123_456_789_012L).setLeaderEpoch(value.leaderEpoch).setMetadata("checkpoint=42")
                            .setCommitTimestamp(1_700_000_000_123L).setExpireTimestamp(value.expireTimestamp), valueVersion));

            assertArrayEquals(kafka.serializeKey(theirs), ours.serializeKey(), "key v" + keyVersion);
            assertArrayEquals(kafka.serializeValue(theirs), ours.serializeValue(), "value v" + valueVersion);

            var decodedByKafka = kafka.deserialize(wrap(ours.serializeKey()), wrap(ours.serializeValue()));
            assertEquals(theirs, decodedByKafka);
            CoordinatorRecord decodedByUs = CoordinatorRecord.deserialize(wrap(kafka.serializeKey(theirs)), wrap(kafka.serializeValue(theirs)));
            assertEquals(ours, decodedByUs);
        }
    }

    @ParameterizedTest
    @ValueSource(shorts = {0, 1, 2, 3, 4})
    void groupMetadataValuesMatchKafka(short valueVersion) {
        GroupMetadataKey key = new GroupMetadataKey();
        key.group = "payments";
        GroupMetadataValue value = new GroupMetadataValue();
        value.protocolType = "consumer";
        value.generation = 12;
        value.protocol = "cooperative-sticky";
        value.leader = "consumer-1-abc";
        value.currentStateTimestamp = valueVersion >= 2 ? 1_700_000_000_000L : -1;
        var kafkaMembers = new ArrayList<org.apache.kafka.coordinator.group.generated.GroupMetadataValue.MemberMetadata>();
        for (int i = 0; i < 2; i++) {
            GroupMetadataValue.MemberMetadata m = new GroupMetadataValue.MemberMetadata();
            m.memberId = "consumer-" + i + "-abc";
            m.groupInstanceId = valueVersion >= 3 && i == 0 ? "instance-0" : null;
            m.clientId = "consumer-" + i;
            m.clientHost = "/10.0.0." + i;
            m.rebalanceTimeout = valueVersion >= 1 ? 300_000 : -1;
            m.sessionTimeout = 45_000;
            m.subscription = ("sub" + i).getBytes(StandardCharsets.UTF_8);
            m.assignment = ("assign" + i).getBytes(StandardCharsets.UTF_8);
            value.members.add(m);
            kafkaMembers.add(new org.apache.kafka.coordinator.group.generated.GroupMetadataValue.MemberMetadata()
                    .setMemberId(m.memberId).setGroupInstanceId(m.groupInstanceId).setClientId(m.clientId)
                    .setClientHost(m.clientHost).setRebalanceTimeout(m.rebalanceTimeout).setSessionTimeout(m.sessionTimeout)
                    .setSubscription(m.subscription).setAssignment(m.assignment));
        }
        CoordinatorRecord ours = new CoordinatorRecord((short) 2, key, valueVersion, value);
        var theirs = kafkaRecord(
                new ApiMessageAndVersion(new org.apache.kafka.coordinator.group.generated.GroupMetadataKey().setGroup("payments"), (short) 2),
                new ApiMessageAndVersion(new org.apache.kafka.coordinator.group.generated.GroupMetadataValue()
                        .setProtocolType("consumer").setGeneration(12).setProtocol("cooperative-sticky").setLeader("consumer-1-abc")
                        .setCurrentStateTimestamp(value.currentStateTimestamp).setMembers(kafkaMembers), valueVersion));

        assertArrayEquals(kafka.serializeKey(theirs), ours.serializeKey());
        assertArrayEquals(kafka.serializeValue(theirs), ours.serializeValue(), "value v" + valueVersion);
        assertEquals(theirs, kafka.deserialize(wrap(ours.serializeKey()), wrap(ours.serializeValue())));
        CoordinatorRecord back = CoordinatorRecord.deserialize(wrap(kafka.serializeKey(theirs)), wrap(kafka.serializeValue(theirs)));
        assertEquals(ours, back);
    }

    @Test
    void anEmptyGroupWithNullProtocolAndLeaderMatchesKafka() {
        GroupMetadataValue value = new GroupMetadataValue();
        value.protocolType = "";
        value.protocol = null;
        value.leader = null;
        value.currentStateTimestamp = 1L;
        CoordinatorRecord ours = CoordinatorRecord.groupMetadata("g", value);
        var theirs = kafkaRecord(
                new ApiMessageAndVersion(new org.apache.kafka.coordinator.group.generated.GroupMetadataKey().setGroup("g"), (short) 2),
                new ApiMessageAndVersion(new org.apache.kafka.coordinator.group.generated.GroupMetadataValue()
                        .setProtocolType("").setProtocol(null).setLeader(null).setCurrentStateTimestamp(1L), (short) 3));
        assertArrayEquals(kafka.serializeValue(theirs), ours.serializeValue());
    }

    @Test
    void tombstonesHaveAKeyAndNoValue() {
        CoordinatorRecord offsetTombstone = CoordinatorRecord.offsetCommitTombstone("g", "orders", 3);
        var theirs = kafkaRecord(new ApiMessageAndVersion(new org.apache.kafka.coordinator.group.generated.OffsetCommitKey()
                .setGroup("g").setTopic("orders").setPartition(3), (short) 1), null);
        assertArrayEquals(kafka.serializeKey(theirs), offsetTombstone.serializeKey());
        assertNull(offsetTombstone.serializeValue());
        CoordinatorRecord groupTombstone = CoordinatorRecord.groupMetadataTombstone("g");
        var theirGroup = kafkaRecord(new ApiMessageAndVersion(new org.apache.kafka.coordinator.group.generated.GroupMetadataKey()
                .setGroup("g"), (short) 2), null);
        assertArrayEquals(kafka.serializeKey(theirGroup), groupTombstone.serializeKey());
        assertNull(CoordinatorRecord.deserialize(wrap(groupTombstone.serializeKey()), null).value());
    }

    @Test
    void weWriteTheVersionsKafka39Writes() {
        OffsetAndMetadata plain = new OffsetAndMetadata(10, 2, "m", 5, -1, -1);
        assertEquals(1, CoordinatorRecord.offsetCommit("g", "t", 0, plain).keyVersion());
        assertEquals(3, CoordinatorRecord.offsetCommit("g", "t", 0, plain).valueVersion());
        OffsetAndMetadata expiring = new OffsetAndMetadata(10, -1, "m", 5, 99, -1);
        assertEquals(1, CoordinatorRecord.offsetCommit("g", "t", 0, expiring).valueVersion());
        assertEquals(3, CoordinatorRecord.groupMetadata("g", new GroupMetadataValue()).valueVersion());
        assertEquals(2, CoordinatorRecord.groupMetadata("g", new GroupMetadataValue()).keyVersion());
    }

    @Test
    void recordsOfTheNewConsumerProtocolAreReportedAsUnknownTypes() {
        byte[] key = {0, 5, 0, 1, 'g'};
        var e = assertThrows(CoordinatorRecord.UnknownRecordTypeException.class,
                () -> CoordinatorRecord.deserialize(ByteBuffer.wrap(key), null));
        assertEquals(5, e.type());
        assertThrows(IllegalArgumentException.class, () -> CoordinatorRecord.deserialize(ByteBuffer.wrap(new byte[] {0, 1, 0}), null));
        assertThrows(IllegalArgumentException.class, () -> CoordinatorRecord.deserialize(
                ByteBuffer.wrap(CoordinatorRecord.groupMetadataTombstone("g").serializeKey()), ByteBuffer.wrap(new byte[] {0, 9})));
        List.of(); // keep imports honest
    }
}
