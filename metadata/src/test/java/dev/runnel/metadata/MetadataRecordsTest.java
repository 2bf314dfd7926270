package dev.runnel.metadata;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.metadata.records.BrokerRegistrationChangeRecord;
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
import dev.runnel.wire.MalformedMessageException;
import dev.runnel.wire.Message;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.apache.kafka.metadata.MetadataRecordSerde;
import org.apache.kafka.server.common.ApiMessageAndVersion;
import org.junit.jupiter.api.Test;

/**
 * The metadata log's batches: every record Runnel writes survives a batch round trip, each record's framing and body
 * are byte for byte what Kafka's own {@link MetadataRecordSerde} writes and reads, and a damaged batch is refused
 * with {@link MalformedMessageException} before anything is allocated for it.
 */
class MetadataRecordsTest {
    private static final UUID TOPIC = new UUID(0x1122334455667788L, 0x99aabbccddeeff00L);
    private static final UUID INCARNATION = new UUID(42L, 4242L);

    // ------------------------------------------------------------------------------------------- the records

    static RegisterBrokerRecord registerBroker() {
        RegisterBrokerRecord r = new RegisterBrokerRecord().setBrokerId(3).setBrokerEpoch(17).setIncarnationId(INCARNATION)
                .setRack("rack-b").setFenced(true).setInControlledShutdown(false);
        r.endPoints.add(new RegisterBrokerRecord.BrokerEndpoint().setName("PLAINTEXT").setHost("broker-3.example")
                .setPort(9092).setSecurityProtocol((short) 0));
        r.endPoints.add(new RegisterBrokerRecord.BrokerEndpoint().setName("SSL").setHost("broker-3.example")
                .setPort(9093).setSecurityProtocol((short) 1));
        return r;
    }

    static TopicRecord topic() {
        return new TopicRecord().setName("orders.v1").setTopicId(TOPIC);
    }

    static PartitionRecord partition() {
        return new PartitionRecord().setPartitionId(5).setTopicId(TOPIC).setReplicas(new ArrayList<>(List.of(3, 1, 2)))
                .setIsr(new ArrayList<>(List.of(3, 1))).setLeader(3).setLeaderEpoch(7).setPartitionEpoch(9);
    }

    static PartitionChangeRecord partitionChange() {
        return new PartitionChangeRecord().setTopicId(TOPIC).setPartitionId(5).setIsr(new ArrayList<>(List.of(1))).setLeader(1);
    }

    static ConfigRecord config() {
        return new ConfigRecord().setResourceType((byte) 2).setResourceName("orders.v1").setName("retention.ms").setValue("86400000");
    }

    static ConfigRecord configRemoval() {
        return new ConfigRecord().setResourceType((byte) 4).setResourceName("").setName("log.retention.ms").setValue(null);
    }

    static FenceBrokerRecord fence() {
        return new FenceBrokerRecord().setId(3).setEpoch(17);
    }

    static ProducerIdsRecord producerIds() {
        return new ProducerIdsRecord().setBrokerId(3).setBrokerEpoch(17).setNextProducerId(5000);
    }

    /** One of every record type {@link MetadataRecords#type} accepts. */
    static List<Message> everyRecordRunnelWrites() {
        return List.of(
                new ClusterIdRecord().setClusterId("Runnel-cluster-ID-1"),
                registerBroker(),
                new UnregisterBrokerRecord().setBrokerId(4).setBrokerEpoch(12),
                topic(),
                partition(),
                config(),
                configRemoval(),
                partitionChange(),
                new PartitionChangeRecord().setTopicId(TOPIC).setPartitionId(0).setLeader(-1), // leader only, ISR kept
                fence(),
                new UnfenceBrokerRecord().setId(3).setEpoch(17),
                new RemoveTopicRecord().setTopicId(TOPIC),
                new FeatureLevelRecord().setName("metadata.version").setFeatureLevel((short) 21),
                producerIds(),
                new BrokerRegistrationChangeRecord().setBrokerId(3).setBrokerEpoch(17).setFenced((byte) -1)
                        .setInControlledShutdown((byte) 1),
                new NoOpRecord());
    }

    // ------------------------------------------------------------------------------------------- round trips

    @Test
    void everyRecordTypeRunnelWritesRoundTripsThroughABatch() {
        List<Message> records = everyRecordRunnelWrites();
        List<Message> back = MetadataRecords.decodeBatch(MetadataRecords.encodeBatch(records));
        assertEquals(records.size(), back.size());
        for (int i = 0; i < records.size(); i++) {
            assertEquals(records.get(i).getClass(), back.get(i).getClass(), "record " + i);
            assertEquals(records.get(i), back.get(i), "record " + i + " (" + records.get(i).getClass().getSimpleName() + ")");
        }
        // A nullable value stays null (a config removal), an unchanged PartitionChangeRecord field stays unset.
        assertNull(((ConfigRecord) back.get(6)).value);
        PartitionChangeRecord leaderOnly = (PartitionChangeRecord) back.get(8);
        assertNull(leaderOnly.isr);
        assertNull(leaderOnly.replicas);
        assertEquals(-1, leaderOnly.leader);
    }

    @Test
    void singleRecordsRoundTripAndAnEmptyBatchIsFourBytes() {
        for (Message m : everyRecordRunnelWrites()) {
            assertEquals(m, MetadataRecords.decode(MetadataRecords.encode(m)));
        }
        byte[] empty = MetadataRecords.encodeBatch(List.of());
        assertArrayEquals(new byte[] {0, 0, 0, 0}, empty);
        assertTrue(MetadataRecords.decodeBatch(empty).isEmpty());
    }

    @Test
    void aRecordTypeRunnelDoesNotWriteIsRefusedOnTheWayOut() {
        Message notARecord = new dev.runnel.wire.message.CreateTopicsRequestData();
        assertThrows(IllegalArgumentException.class, () -> MetadataRecords.encodeBatch(List.of(notARecord)));
    }

    // ------------------------------------------------------------------------------------------- Kafka's serde

    private static final List<Message> KAFKA_COMPARED = List.of(registerBroker(), topic(), partition(), partitionChange(),
            config(), configRemoval(), fence(), producerIds());

    /** Our batch, cut into its length-prefixed records, each read by Kafka's MetadataRecordSerde. */
    private static List<ApiMessageAndVersion> readWithKafka(byte[] batch) {
        ByteBuffer buf = ByteBuffer.wrap(batch);
        int count = buf.getInt();
        List<ApiMessageAndVersion> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int len = buf.getInt();
            ByteBuffer one = buf.slice();
            one.limit(len);
            ApiMessageAndVersion m = MetadataRecordSerde.INSTANCE.read(new ByteBufferAccessor(one), len);
            assertFalse(one.hasRemaining(), "Kafka's serde read the whole of record " + i);
            out.add(m);
            buf.position(buf.position() + len);
        }
        assertFalse(buf.hasRemaining());
        return out;
    }

    private static byte[] writeWithKafka(ApiMessageAndVersion m) {
        ObjectSerializationCache cache = new ObjectSerializationCache();
        int size = MetadataRecordSerde.INSTANCE.recordSize(m, cache);
        ByteBuffer buf = ByteBuffer.allocate(size);
        MetadataRecordSerde.INSTANCE.write(m, cache, new ByteBufferAccessor(buf));
        assertFalse(buf.hasRemaining());
        return buf.array();
    }

    private static UUID uuid(Uuid u) {
        return new UUID(u.getMostSignificantBits(), u.getLeastSignificantBits());
    }

    @Test
    void kafkasSerdeReadsOurBatchesFieldForField() {
        List<ApiMessageAndVersion> kafka = readWithKafka(MetadataRecords.encodeBatch(KAFKA_COMPARED));
        assertEquals(KAFKA_COMPARED.size(), kafka.size());
        for (int i = 0; i < kafka.size(); i++) {
            short type = MetadataRecords.type(KAFKA_COMPARED.get(i));
            assertEquals(type, kafka.get(i).message().apiKey(), "record type of " + i);
            assertEquals(MetadataRecords.version(type), kafka.get(i).version(), "record version of " + i);
        }

        var rb = (org.apache.kafka.common.metadata.RegisterBrokerRecord) kafka.get(0).message();
        RegisterBrokerRecord ours = registerBroker();
        assertEquals(3, rb.brokerId());
        assertEquals(17L, rb.brokerEpoch());
        assertEquals(INCARNATION, uuid(rb.incarnationId()));
        assertEquals("rack-b", rb.rack());
        assertTrue(rb.fenced());
        assertFalse(rb.inControlledShutdown());
        assertEquals(2, rb.endPoints().size());
        Iterator<org.apache.kafka.common.metadata.RegisterBrokerRecord.BrokerEndpoint> eps = rb.endPoints().iterator();
        for (RegisterBrokerRecord.BrokerEndpoint e : ours.endPoints) {
            var k = eps.next();
            assertEquals(e.name, k.name());
            assertEquals(e.host, k.host());
            assertEquals(e.port, k.port());
            assertEquals(e.securityProtocol, k.securityProtocol());
        }

        var t = (org.apache.kafka.common.metadata.TopicRecord) kafka.get(1).message();
        assertEquals("orders.v1", t.name());
        assertEquals(TOPIC, uuid(t.topicId()));

        var p = (org.apache.kafka.common.metadata.PartitionRecord) kafka.get(2).message();
        assertEquals(5, p.partitionId());
        assertEquals(TOPIC, uuid(p.topicId()));
        assertEquals(List.of(3, 1, 2), p.replicas());
        assertEquals(List.of(3, 1), p.isr());
        assertEquals(3, p.leader());
        assertEquals(7, p.leaderEpoch());
        assertEquals(9, p.partitionEpoch());
        assertTrue(p.removingReplicas().isEmpty());
        assertTrue(p.addingReplicas().isEmpty());

        var c = (org.apache.kafka.common.metadata.PartitionChangeRecord) kafka.get(3).message();
        assertEquals(TOPIC, uuid(c.topicId()));
        assertEquals(5, c.partitionId());
        assertEquals(List.of(1), c.isr());
        assertEquals(1, c.leader());
        assertNull(c.replicas(), "replicas left unchanged");

        var cfg = (org.apache.kafka.common.metadata.ConfigRecord) kafka.get(4).message();
        assertEquals(2, cfg.resourceType());
        assertEquals("orders.v1", cfg.resourceName());
        assertEquals("retention.ms", cfg.name());
        assertEquals("86400000", cfg.value());
        var removal = (org.apache.kafka.common.metadata.ConfigRecord) kafka.get(5).message();
        assertEquals(4, removal.resourceType());
        assertEquals("", removal.resourceName());
        assertNull(removal.value());

        var f = (org.apache.kafka.common.metadata.FenceBrokerRecord) kafka.get(6).message();
        assertEquals(3, f.id());
        assertEquals(17L, f.epoch());

        var pid = (org.apache.kafka.common.metadata.ProducerIdsRecord) kafka.get(7).message();
        assertEquals(3, pid.brokerId());
        assertEquals(17L, pid.brokerEpoch());
        assertEquals(5000L, pid.nextProducerId());
    }

    @Test
    void ourRecordBytesAreKafkasBytesAndWeReadWhatKafkaWrites() {
        byte[] batch = MetadataRecords.encodeBatch(KAFKA_COMPARED);
        List<ApiMessageAndVersion> kafka = readWithKafka(batch);
        for (int i = 0; i < KAFKA_COMPARED.size(); i++) {
            Message ours = KAFKA_COMPARED.get(i);
            byte[] kafkaBytes = writeWithKafka(kafka.get(i));
            assertArrayEquals(MetadataRecords.encode(ours), kafkaBytes, "bytes of " + ours.getClass().getSimpleName());
            assertEquals(ours, MetadataRecords.decode(kafkaBytes), "our reading of Kafka's " + ours.getClass().getSimpleName());
        }
    }

    // ------------------------------------------------------------------------------------------- damage

    private static byte[] withCount(byte[] batch, int count) {
        byte[] b = batch.clone();
        ByteBuffer.wrap(b).putInt(0, count);
        return b;
    }

    @Test
    void aNegativeOrHugeRecordCountIsMalformedNotAnAllocation() {
        byte[] batch = MetadataRecords.encodeBatch(List.of(topic(), fence()));
        assertThrows(MalformedMessageException.class, () -> MetadataRecords.decodeBatch(withCount(batch, -1)));
        assertThrows(MalformedMessageException.class, () -> MetadataRecords.decodeBatch(withCount(batch, Integer.MIN_VALUE)));
        assertThrows(MalformedMessageException.class, () -> MetadataRecords.decodeBatch(withCount(batch, Integer.MAX_VALUE)));
        assertThrows(MalformedMessageException.class,
                () -> MetadataRecords.decodeBatch(withCount(batch, MetadataRecords.MAX_RECORDS_PER_BATCH + 1)));
        // More records claimed than the bytes could hold, though under the absolute bound.
        assertThrows(MalformedMessageException.class, () -> MetadataRecords.decodeBatch(withCount(batch, 3)));
        // A batch too short even for its count.
        assertThrows(MalformedMessageException.class, () -> MetadataRecords.decodeBatch(new byte[] {0, 0}));
        assertThrows(MalformedMessageException.class, () -> MetadataRecords.decodeBatch(new byte[0]));
    }

    @Test
    void aTruncatedRecordIsMalformed() {
        byte[] batch = MetadataRecords.encodeBatch(List.of(registerBroker(), partition()));
        // Cut anywhere after the count: inside a length, inside a record, or just before the last byte.
        for (int cut = 5; cut < batch.length; cut++) {
            byte[] shorter = java.util.Arrays.copyOf(batch, cut);
            assertThrows(MalformedMessageException.class, () -> MetadataRecords.decodeBatch(shorter), "cut at " + cut);
        }
        // A record whose length prefix is honest about the batch but shorter than the record it frames.
        ByteBuffer b = ByteBuffer.allocate(4 + 4 + 6);
        byte[] rec = MetadataRecords.encode(partition());
        b.putInt(1).putInt(6).put(rec, 0, 6);
        assertThrows(MalformedMessageException.class, () -> MetadataRecords.decodeBatch(b.array()));
        // A negative length.
        byte[] negative = batch.clone();
        ByteBuffer.wrap(negative).putInt(4, -5);
        assertThrows(MalformedMessageException.class, () -> MetadataRecords.decodeBatch(negative));
    }

    @Test
    void anArrayCountLargerThanTheRecordIsMalformedNotAnAllocation() {
        // A PartitionRecord whose replica array claims 2^28 elements: frame (1, 3, 1), partition id, topic id, count.
        ByteBuffer rec = ByteBuffer.allocate(64);
        rec.put((byte) 1).put((byte) PartitionRecord.API_KEY).put((byte) 1);
        rec.putInt(0).putLong(1L).putLong(2L);
        rec.put((byte) 0x81).put((byte) 0x80).put((byte) 0x80).put((byte) 0x80).put((byte) 0x01); // varint 2^28 + 1
        int len = rec.position();
        ByteBuffer batch = ByteBuffer.allocate(8 + len);
        batch.putInt(1).putInt(len).put(rec.array(), 0, len);
        assertThrows(MalformedMessageException.class, () -> MetadataRecords.decodeBatch(batch.array()));
    }

    @Test
    void anUnknownFrameVersionOrRecordTypeIsMalformed() {
        byte[] rec = MetadataRecords.encode(fence());
        byte[] badFrame = rec.clone();
        badFrame[0] = 2;
        assertThrows(MalformedMessageException.class, () -> MetadataRecords.decode(badFrame));
        byte[] badType = rec.clone();
        badType[1] = 99;
        assertThrows(MalformedMessageException.class, () -> MetadataRecords.decode(badType));
        // The same, inside a batch.
        ByteBuffer batch = ByteBuffer.allocate(8 + badType.length);
        batch.putInt(1).putInt(badType.length).put(badType);
        assertThrows(MalformedMessageException.class, () -> MetadataRecords.decodeBatch(batch.array()));
    }
}
