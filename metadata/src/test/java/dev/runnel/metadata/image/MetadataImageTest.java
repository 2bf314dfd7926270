package dev.runnel.metadata.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.metadata.MetadataRecords;
import dev.runnel.metadata.records.BrokerRegistrationChangeRecord;
import dev.runnel.metadata.records.ConfigRecord;
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
import dev.runnel.wire.Message;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The image as a pure function of the records applied to it, Kafka's semantics record by record. */
class MetadataImageTest {
    private static final UUID T = new UUID(1, 1);
    private static final UUID U = new UUID(2, 2);

    private static RegisterBrokerRecord broker(int id, long epoch, String rack) {
        RegisterBrokerRecord r = new RegisterBrokerRecord().setBrokerId(id).setBrokerEpoch(epoch).setIncarnationId(new UUID(id, epoch))
                .setRack(rack).setFenced(true);
        r.endPoints.add(new RegisterBrokerRecord.BrokerEndpoint().setName("PLAINTEXT").setHost("h" + id).setPort(9000 + id));
        return r;
    }

    private static PartitionRecord partition(UUID topic, int p, List<Integer> replicas, int leader) {
        return new PartitionRecord().setTopicId(topic).setPartitionId(p).setReplicas(new ArrayList<>(replicas))
                .setIsr(new ArrayList<>(replicas)).setLeader(leader).setLeaderEpoch(0).setPartitionEpoch(0);
    }

    /** A cluster with brokers 1 and 2 (1 unfenced), topic "t" of two partitions, a config and producer ids. */
    private static MetadataImage base() {
        return MetadataImage.EMPTY.apply(List.of(
                new ClusterIdRecord().setClusterId("c1"),
                broker(1, 10, "r1"), broker(2, 11, null),
                new UnfenceBrokerRecord().setId(1).setEpoch(10),
                new TopicRecord().setName("t").setTopicId(T),
                partition(T, 0, List.of(1, 2), 1),
                partition(T, 1, List.of(2, 1), 2),
                new ConfigRecord().setResourceType(MetadataImage.TOPIC_CONFIG).setResourceName("t").setName("retention.ms").setValue("5"),
                new ConfigRecord().setResourceType(MetadataImage.BROKER_CONFIG).setResourceName("1").setName("x").setValue("y"),
                new ProducerIdsRecord().setBrokerId(1).setBrokerEpoch(10).setNextProducerId(1000)), 0);
    }

    @Test
    void recordsBuildTheImage() {
        MetadataImage img = base();
        assertEquals(0, img.offset());
        assertEquals("c1", img.clusterId());
        assertEquals(List.of(1, 2), List.copyOf(img.brokers().keySet()));
        assertFalse(img.broker(1).fenced());
        assertTrue(img.broker(2).fenced());
        assertEquals("", img.broker(2).rack(), "no rack reads as the empty rack");
        assertEquals(11, img.maxBrokerEpoch());
        assertEquals(9001, img.broker(1).endpoint("PLAINTEXT").orElseThrow().port());
        assertTrue(img.broker(1).endpoint("SSL").isEmpty());
        TopicImage t = img.topic("t");
        assertSame(t, img.topic(T));
        assertEquals(2, t.partitionCount());
        assertEquals(new PartitionRegistration(1, List.of(2, 1), List.of(2, 1), 2, 0, 0), t.partition(1));
        assertEquals(Map.of("retention.ms", "5"), img.configs(MetadataImage.TOPIC_CONFIG, "t"));
        assertEquals(Map.of("x", "y"), img.configs(MetadataImage.BROKER_CONFIG, "1"));
        assertEquals(Map.of(), img.configs(MetadataImage.BROKER_CONFIG, "2"));
        assertEquals(1000, img.nextProducerId());
        assertNull(img.topic((String) null));
    }

    @Test
    void applyingLeavesTheOldImageAloneAndTheNewOneCannotBeChangedFromOutside() {
        MetadataImage before = base();
        MetadataImage copy = MetadataImage.EMPTY.apply(before.toRecords(), 0);
        MetadataImage after = before.apply(List.of(broker(3, 12, ""), new RemoveTopicRecord().setTopicId(T),
                new ConfigRecord().setResourceType(MetadataImage.BROKER_CONFIG).setResourceName("1").setName("x").setValue(null),
                new FenceBrokerRecord().setId(1).setEpoch(10)), 1);
        assertTrue(before.sameContent(copy), "the image applied to is unchanged");
        assertFalse(before.sameContent(after));
        assertEquals(1, after.offset());
        assertThrows(UnsupportedOperationException.class, () -> after.brokers().remove(1));
        assertThrows(UnsupportedOperationException.class, () -> after.topics().clear());
        assertThrows(UnsupportedOperationException.class, () -> before.topic("t").partitions().clear());
        assertThrows(UnsupportedOperationException.class, () -> before.topic("t").partition(0).isr().add(3));
        assertThrows(UnsupportedOperationException.class, () -> before.configs(MetadataImage.TOPIC_CONFIG, "t").clear());
        // Records given to apply stay the caller's: changing them later changes no image.
        PartitionRecord p = partition(U, 0, List.of(1), 1);
        MetadataImage withU = after.apply(List.of(new TopicRecord().setName("u").setTopicId(U), p), 2);
        p.replicas.add(2);
        p.isr.clear();
        assertEquals(List.of(1), withU.topic("u").partition(0).replicas());
        assertEquals(List.of(1), withU.topic("u").partition(0).isr());
    }

    @Test
    void partitionChangesMoveEpochsAsKafkaDoes() {
        MetadataImage img = base();
        // ISR only: the leader and its epoch stay, the partition epoch moves.
        img = img.apply(List.of(new PartitionChangeRecord().setTopicId(T).setPartitionId(0).setIsr(new ArrayList<>(List.of(1)))), 1);
        assertEquals(new PartitionRegistration(0, List.of(1, 2), List.of(1), 1, 0, 1), img.topic("t").partition(0));
        // A new leader (here: none): a new leader epoch too.
        img = img.apply(List.of(new PartitionChangeRecord().setTopicId(T).setPartitionId(0).setLeader(-1)), 2);
        assertEquals(new PartitionRegistration(0, List.of(1, 2), List.of(1), -1, 1, 2), img.topic("t").partition(0));
        assertFalse(img.topic("t").partition(0).hasLeader());
        // Replicas.
        img = img.apply(List.of(new PartitionChangeRecord().setTopicId(T).setPartitionId(0).setReplicas(new ArrayList<>(List.of(1)))
                .setLeader(1)), 3);
        assertEquals(new PartitionRegistration(0, List.of(1), List.of(1), 1, 2, 3), img.topic("t").partition(0));
        // The other partition never moved.
        assertEquals(base().topic("t").partition(1), img.topic("t").partition(1));
    }

    @Test
    void brokerStateChangesNeedTheCurrentEpoch() {
        MetadataImage img = base();
        assertSame(img.broker(2), img.apply(List.of(new UnfenceBrokerRecord().setId(2).setEpoch(10)), 1).broker(2),
                "an unfence of another epoch is ignored");
        img = img.apply(List.of(new UnfenceBrokerRecord().setId(2).setEpoch(11)), 1);
        assertFalse(img.broker(2).fenced());
        img = img.apply(List.of(new BrokerRegistrationChangeRecord().setBrokerId(2).setBrokerEpoch(11).setInControlledShutdown((byte) 1)), 2);
        assertTrue(img.broker(2).inControlledShutdown());
        assertFalse(img.broker(2).fenced(), "0 leaves the fenced flag alone");
        assertFalse(img.broker(2).usable());
        img = img.apply(List.of(new BrokerRegistrationChangeRecord().setBrokerId(2).setBrokerEpoch(11).setFenced((byte) 1)
                .setInControlledShutdown((byte) -1)), 3);
        assertTrue(img.broker(2).fenced());
        assertFalse(img.broker(2).inControlledShutdown());
        img = img.apply(List.of(new BrokerRegistrationChangeRecord().setBrokerId(2).setBrokerEpoch(11).setFenced((byte) -1)), 4);
        assertTrue(img.broker(2).usable());
        // An unfence ends a controlled shutdown too.
        img = img.apply(List.of(new BrokerRegistrationChangeRecord().setBrokerId(1).setBrokerEpoch(10).setInControlledShutdown((byte) 1),
                new FenceBrokerRecord().setId(1).setEpoch(10), new UnfenceBrokerRecord().setId(1).setEpoch(10)), 5);
        assertTrue(img.broker(1).usable());
        // A re-registration replaces the broker with its new epoch, fenced.
        img = img.apply(List.of(broker(1, 20, "r9")), 6);
        assertEquals(20, img.broker(1).epoch());
        assertTrue(img.broker(1).fenced());
        assertEquals("r9", img.broker(1).rack());
        assertEquals(20, img.maxBrokerEpoch());
        img = img.apply(List.of(new UnregisterBrokerRecord().setBrokerId(2).setBrokerEpoch(11)), 7);
        assertNull(img.broker(2));
    }

    @Test
    void recordsThatDoNotFitAreIgnoredAlikeEverywhere() {
        MetadataImage img = base();
        MetadataImage after = img.apply(List.of(
                new ClusterIdRecord().setClusterId("another"),                    // the first cluster id stays
                new TopicRecord().setName("t").setTopicId(U),                     // a name that exists
                partition(U, 0, List.of(1), 1),                                   // a topic that does not
                new PartitionChangeRecord().setTopicId(T).setPartitionId(7).setLeader(2), // a partition that does not
                new FenceBrokerRecord().setId(9).setEpoch(1),                     // a broker that does not
                new RemoveTopicRecord().setTopicId(U),                            // a topic id that does not
                new ProducerIdsRecord().setBrokerId(1).setBrokerEpoch(10).setNextProducerId(500), // producer ids never go back
                new NoOpRecord()), 1);
        assertTrue(img.sameContent(after), after.toString());
        assertEquals("c1", after.clusterId());
        assertEquals(T, after.topic("t").id());
        assertNull(after.topic(U));
        assertEquals(1000, after.nextProducerId());
    }

    @Test
    void removingATopicTakesItsIdAndConfigsButNotABrokersAndTheNameCanBeReused() {
        MetadataImage img = base().apply(List.of(new RemoveTopicRecord().setTopicId(T)), 1);
        assertNull(img.topic("t"));
        assertNull(img.topic(T));
        assertEquals(Map.of(), img.configs(MetadataImage.TOPIC_CONFIG, "t"));
        assertEquals(Map.of("x", "y"), img.configs(MetadataImage.BROKER_CONFIG, "1"));
        img = img.apply(List.of(new TopicRecord().setName("t").setTopicId(U), partition(U, 0, List.of(2), 2)), 2);
        assertEquals(U, img.topic("t").id());
        assertEquals(1, img.topic("t").partitionCount());
        assertNull(img.topic(T));
        // A config removed is gone; the last one removed takes the resource with it.
        img = img.apply(List.of(new ConfigRecord().setResourceType(MetadataImage.BROKER_CONFIG).setResourceName("1").setName("x")
                .setValue(null)), 3);
        assertEquals(Map.of(), img.configs(MetadataImage.BROKER_CONFIG, "1"));
    }

    private static dev.runnel.metadata.records.ClientQuotaRecord quota(String type, String name, String key, Double value) {
        List<dev.runnel.metadata.records.ClientQuotaRecord.EntityData> entity = new ArrayList<>();
        entity.add(new dev.runnel.metadata.records.ClientQuotaRecord.EntityData().setEntityType(type).setEntityName(name));
        return new dev.runnel.metadata.records.ClientQuotaRecord().setEntity(entity).setKey(key)
                .setValue(value == null ? 0.0 : value).setRemove(value == null);
    }

    @Test
    void clientQuotasAreSetRemovedSnapshottedAndFramedAsKafkaDoes() {
        MetadataImage img = base();
        var before = img.clientQuotas();
        img = img.apply(List.of(quota("client-id", "app", "producer_byte_rate", 1048576.0),
                quota("client-id", "app", "consumer_byte_rate", 2048.0), quota("user", null, "request_percentage", 50.0)), 1);
        assertEquals(Map.of("producer_byte_rate", 1048576.0, "consumer_byte_rate", 2048.0), img.clientQuotas().get(Map.of("client-id", "app")));
        java.util.Map<String, String> defaultUser = new java.util.HashMap<>();
        defaultUser.put("user", null);
        assertEquals(Map.of("request_percentage", 50.0), img.clientQuotas().get(defaultUser));
        MetadataImage other = img.apply(List.of(new NoOpRecord()), 2);
        assertSame(img.clientQuotas(), other.clientQuotas(), "an image without quota records keeps the same map");
        MetadataImage rebuilt = MetadataImage.EMPTY.apply(MetadataRecords.decodeBatch(MetadataRecords.encodeBatch(img.toRecords())), 1);
        assertTrue(img.sameContent(rebuilt));
        img = img.apply(List.of(quota("client-id", "app", "producer_byte_rate", null), quota("client-id", "app", "consumer_byte_rate", null),
                quota("user", null, "request_percentage", null)), 3);
        assertEquals(before, img.clientQuotas());
        assertTrue(base().sameContent(img));
    }

    @Test
    void aSnapshotRebuildsTheImageAndIsItselfStable() {
        MetadataImage img = base().apply(List.of(
                new BrokerRegistrationChangeRecord().setBrokerId(1).setBrokerEpoch(10).setInControlledShutdown((byte) 1),
                new PartitionChangeRecord().setTopicId(T).setPartitionId(0).setLeader(-1),
                new PartitionChangeRecord().setTopicId(T).setPartitionId(1).setIsr(new ArrayList<>(List.of(2)))), 5);
        List<Message> snapshot = img.toRecords();
        MetadataImage loaded = MetadataImage.EMPTY.apply(MetadataRecords.decodeBatch(MetadataRecords.encodeBatch(snapshot)), 5);
        assertTrue(img.sameContent(loaded));
        assertEquals(img.maxBrokerEpoch(), loaded.maxBrokerEpoch());
        assertTrue(loaded.broker(1).inControlledShutdown());
        assertEquals(new PartitionRegistration(0, List.of(1, 2), List.of(1, 2), -1, 1, 1), loaded.topic("t").partition(0));
        assertTrue(MetadataImage.EMPTY.sameContent(MetadataImage.EMPTY.apply(MetadataImage.EMPTY.toRecords(), 0)));
        assertTrue(MetadataImage.EMPTY.toRecords().isEmpty());
        assertTrue(loaded.sameContent(MetadataImage.EMPTY.apply(loaded.toRecords(), 5)));
    }
}
