package dev.runnel.metadata.controller;

import static dev.runnel.metadata.controller.Fixtures.CLUSTER_ID;
import static dev.runnel.metadata.controller.Fixtures.DELETE;
import static dev.runnel.metadata.controller.Fixtures.SET;
import static dev.runnel.metadata.controller.Fixtures.alterConfig;
import static dev.runnel.metadata.controller.Fixtures.allocateProducerIds;
import static dev.runnel.metadata.controller.Fixtures.assignedTopic;
import static dev.runnel.metadata.controller.Fixtures.createPartitions;
import static dev.runnel.metadata.controller.Fixtures.createTopics;
import static dev.runnel.metadata.controller.Fixtures.deleteById;
import static dev.runnel.metadata.controller.Fixtures.deleteByName;
import static dev.runnel.metadata.controller.Fixtures.incarnation;
import static dev.runnel.metadata.controller.Fixtures.leaderCounts;
import static dev.runnel.metadata.controller.Fixtures.registration;
import static dev.runnel.metadata.controller.Fixtures.topic;
import static dev.runnel.metadata.controller.Fixtures.validateOnly;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.metadata.image.BrokerRegistration;
import dev.runnel.metadata.image.MetadataImage;
import dev.runnel.metadata.image.PartitionRegistration;
import dev.runnel.metadata.image.TopicImage;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.Errors;
import dev.runnel.wire.MalformedMessageException;
import dev.runnel.metadata.raft.NotControllerException;
import dev.runnel.wire.message.AllocateProducerIdsResponseData;
import dev.runnel.wire.message.BrokerHeartbeatRequestData;
import dev.runnel.wire.message.BrokerHeartbeatResponseData;
import dev.runnel.wire.message.BrokerRegistrationRequestData;
import dev.runnel.wire.message.BrokerRegistrationResponseData;
import dev.runnel.wire.message.CreatePartitionsRequestData;
import dev.runnel.wire.message.CreatePartitionsResponseData;
import dev.runnel.wire.message.CreateTopicsRequestData;
import dev.runnel.wire.message.CreateTopicsResponseData;
import dev.runnel.wire.message.DeleteTopicsResponseData;
import dev.runnel.wire.message.IncrementalAlterConfigsRequestData;
import dev.runnel.wire.message.IncrementalAlterConfigsResponseData;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The active controller as brokers and admin clients see it: requests go in as {@link ControllerMessages} bytes,
 * decisions are committed to a one-voter in-memory metadata log, answers come back as bytes. The clock never moves
 * and the session timeout is an hour, so the controller's own tick never fences anyone behind the story's back.
 */
class QuorumControllerStoryTest {
    private static final long SESSION_TIMEOUT_MS = 3_600_000L;

    private FakeMetadataLog log;
    private QuorumController controller;
    private final long[] epochs = new long[4];

    @BeforeEach
    void start() {
        log = new FakeMetadataLog();
        controller = new QuorumController(1, log, log::image, Fixtures.logic(1), () -> 1_000_000L, SESSION_TIMEOUT_MS, CLUSTER_ID);
    }

    @AfterEach
    void stop() {
        controller.close();
    }

    private <T extends ApiMessage> T call(ApiMessage request, T into) throws Exception {
        byte[] answer = controller.handle(ControllerMessages.encode(request)).get(30, TimeUnit.SECONDS);
        return ControllerMessages.decode(answer, into);
    }

    private BrokerRegistrationResponseData register(BrokerRegistrationRequestData r) throws Exception {
        return call(r, new BrokerRegistrationResponseData());
    }

    private BrokerHeartbeatResponseData heartbeat(int brokerId, long epoch, long metadataOffset) throws Exception {
        return call(new BrokerHeartbeatRequestData().setBrokerId(brokerId).setBrokerEpoch(epoch).setCurrentMetadataOffset(metadataOffset),
                new BrokerHeartbeatResponseData());
    }

    private CreateTopicsResponseData create(CreateTopicsRequestData r) throws Exception {
        return call(r, new CreateTopicsResponseData());
    }

    private MetadataImage image() {
        return log.image();
    }

    private static Errors error(short code) {
        return Errors.forCode(code);
    }

    /** Brokers 1, 2, 3 register and, caught up with the log, are unfenced by their next heartbeat. */
    private void threeUnfencedBrokers() throws Exception {
        for (int id = 1; id <= 3; id++) {
            epochs[id] = register(registration(id, incarnation(id, 1), "")).brokerEpoch;
        }
        for (int id = 1; id <= 3; id++) {
            BrokerHeartbeatResponseData hb = heartbeat(id, epochs[id], log.lastIndex());
            assertEquals(Errors.NONE, error(hb.errorCode));
            assertFalse(hb.isFenced);
        }
    }

    @Test
    void brokersRegisterFencedWithIncreasingEpochsAndAreUnfencedOnceCaughtUp() throws Exception {
        BrokerRegistrationResponseData first = register(registration(1, incarnation(1, 1), "rack-a"));
        assertEquals(Errors.NONE, error(first.errorCode));
        // The new cluster's first entry is its id; the registration is the second.
        assertEquals(CLUSTER_ID, image().clusterId());
        long afterFirst = log.lastIndex();
        assertEquals(2, afterFirst);

        BrokerRegistrationResponseData second = register(registration(2, incarnation(2, 1), "rack-b"));
        BrokerRegistrationResponseData third = register(registration(3, incarnation(3, 1), "rack-a"));
        assertTrue(first.brokerEpoch < second.brokerEpoch && second.brokerEpoch < third.brokerEpoch,
                "epochs " + first.brokerEpoch + ", " + second.brokerEpoch + ", " + third.brokerEpoch);

        BrokerRegistration b2 = image().broker(2);
        assertTrue(b2.fenced(), "a new registration starts fenced");
        assertFalse(b2.usable());
        assertEquals(second.brokerEpoch, b2.epoch());
        assertEquals("rack-b", b2.rack());
        assertEquals(new BrokerRegistration.Endpoint("PLAINTEXT", "broker-2", 9094, (short) 0), b2.endpoint("PLAINTEXT").orElseThrow());

        // The same process asking again (its answer was lost): the same epoch, and nothing written.
        long before = log.lastIndex();
        BrokerRegistrationResponseData again = register(registration(2, incarnation(2, 1), "rack-b"));
        assertEquals(Errors.NONE, error(again.errorCode));
        assertEquals(second.brokerEpoch, again.brokerEpoch);
        assertEquals(before, log.lastIndex());

        // A broker of another cluster is refused, and nothing is written.
        BrokerRegistrationRequestData stranger = registration(4, incarnation(4, 1), "");
        stranger.clusterId = "some-other-cluster";
        assertEquals(Errors.INCONSISTENT_CLUSTER_ID, error(register(stranger).errorCode));
        assertNull(image().broker(4));
        assertEquals(before, log.lastIndex());

        // Heartbeats: from a stranger, with an old epoch, and from a broker behind its own registration.
        assertEquals(Errors.BROKER_ID_NOT_REGISTERED, error(heartbeat(9, 1, before).errorCode));
        assertEquals(Errors.STALE_BROKER_EPOCH, error(heartbeat(2, second.brokerEpoch - 1, before).errorCode));
        BrokerHeartbeatResponseData behind = heartbeat(1, first.brokerEpoch, afterFirst - 1);
        assertEquals(Errors.NONE, error(behind.errorCode));
        assertFalse(behind.isCaughtUp);
        assertTrue(behind.isFenced);
        assertTrue(image().broker(1).fenced());
        assertEquals(before, log.lastIndex());

        // Caught up with the entry that registered it: unfenced.
        BrokerHeartbeatResponseData caughtUp = heartbeat(1, first.brokerEpoch, afterFirst);
        assertTrue(caughtUp.isCaughtUp);
        assertFalse(caughtUp.isFenced);
        assertFalse(caughtUp.shouldShutDown);
        assertFalse(image().broker(1).fenced());
        assertTrue(image().broker(2).fenced());
        assertEquals(before + 1, log.lastIndex());
        // Another heartbeat of an unfenced broker writes nothing.
        assertFalse(heartbeat(1, first.brokerEpoch, log.lastIndex()).isFenced);
        assertEquals(before + 1, log.lastIndex());

        // A new process with the same id: a new, larger epoch, fenced again; the old epoch is stale now.
        BrokerRegistrationResponseData restarted = register(registration(1, incarnation(1, 2), "rack-a"));
        assertTrue(restarted.brokerEpoch > third.brokerEpoch);
        assertTrue(image().broker(1).fenced());
        assertEquals(Errors.STALE_BROKER_EPOCH, error(heartbeat(1, first.brokerEpoch, log.lastIndex()).errorCode));
    }

    @Test
    void topicsAreCreatedPlacedAndRefusedAsKafkaWould() throws Exception {
        threeUnfencedBrokers();

        // Six partitions of one replica over three brokers: each leads two.
        CreateTopicsResponseData six = create(createTopics(topic("six", 6, 1)));
        CreateTopicsResponseData.CreatableTopicResult r = six.topics.get(0);
        assertEquals(Errors.NONE, error(r.errorCode), r.errorMessage);
        assertEquals(6, r.numPartitions);
        assertEquals(1, r.replicationFactor);
        TopicImage t = image().topic("six");
        assertNotNull(t);
        assertEquals(r.topicId, t.id());
        assertEquals(t, image().topic(r.topicId));
        assertEquals(6, t.partitionCount());
        assertEquals(Map.of(1, 2, 2, 2, 3, 2), leaderCounts(image()));
        for (PartitionRegistration p : t.partitions().values()) {
            assertEquals(List.of(p.leader()), p.replicas());
            assertEquals(p.replicas(), p.isr());
            assertEquals(0, p.leaderEpoch());
            assertEquals(0, p.partitionEpoch());
        }

        long before = log.lastIndex();
        // More replicas than brokers.
        r = create(createTopics(topic("four", 1, 4))).topics.get(0);
        assertEquals(Errors.INVALID_REPLICATION_FACTOR, error(r.errorCode));
        assertTrue(r.errorMessage.contains(
                "The target replication factor of 4 cannot be reached because only 3 broker(s) are registered."), r.errorMessage);
        // Enough brokers, but partition data is not replicated yet.
        r = create(createTopics(topic("two", 1, 2))).topics.get(0);
        assertEquals(Errors.INVALID_REPLICATION_FACTOR, error(r.errorCode));
        assertTrue(r.errorMessage.contains("not supported yet"), r.errorMessage);
        // The same name again.
        r = create(createTopics(topic("six", 3, 1))).topics.get(0);
        assertEquals(Errors.TOPIC_ALREADY_EXISTS, error(r.errorCode));
        assertEquals(before, log.lastIndex(), "refusals write nothing");
        // A name that collides with "a.b" once '.' and '_' are alike.
        create(createTopics(topic("a.b", 1, 1)));
        before = log.lastIndex();
        r = create(createTopics(topic("a_b", 1, 1))).topics.get(0);
        assertEquals(Errors.INVALID_TOPIC_EXCEPTION, error(r.errorCode));
        // Illegal names, invalid partition counts and configs.
        assertEquals(Errors.INVALID_TOPIC_EXCEPTION, error(create(createTopics(topic("no/slashes", 1, 1))).topics.get(0).errorCode));
        assertEquals(Errors.INVALID_PARTITIONS, error(create(createTopics(topic("zero", 0, 1))).topics.get(0).errorCode));
        CreateTopicsRequestData.CreatableTopic badConfig = topic("bad-config", 1, 1);
        badConfig.configs.add(new CreateTopicsRequestData.CreatableTopicConfig().setName("bad").setValue("1"));
        assertEquals(Errors.INVALID_CONFIG, error(create(createTopics(badConfig)).topics.get(0).errorCode));
        assertEquals(before, log.lastIndex(), "refusals write nothing");

        // validateOnly answers as a creation would, and writes nothing.
        r = create(validateOnly(createTopics(topic("dry", 3, 1)))).topics.get(0);
        assertEquals(Errors.NONE, error(r.errorCode));
        assertEquals(3, r.numPartitions);
        assertNull(image().topic("dry"));
        assertEquals(before, log.lastIndex());

        // A manual assignment naming a broker nobody registered.
        r = create(createTopics(assignedTopic("manual", List.of(1), List.of(9)))).topics.get(0);
        assertEquals(Errors.INVALID_REPLICA_ASSIGNMENT, error(r.errorCode));
        assertTrue(r.errorMessage.contains("broker 9"), r.errorMessage);
        // Partitions of differing replica counts (which would also slip past the replication factor limit).
        r = create(createTopics(assignedTopic("uneven", List.of(1), List.of(2, 3)))).topics.get(0);
        assertEquals(Errors.INVALID_REPLICA_ASSIGNMENT, error(r.errorCode), r.errorMessage);
        assertEquals(before, log.lastIndex());
        // A good manual assignment is followed to the letter.
        r = create(createTopics(assignedTopic("manual", List.of(3), List.of(3), List.of(2)))).topics.get(0);
        assertEquals(Errors.NONE, error(r.errorCode), r.errorMessage);
        TopicImage manual = image().topic("manual");
        assertEquals(List.of(3, 3, 2), manual.partitions().values().stream().map(PartitionRegistration::leader).toList());

        // One request, several topics: each is judged alone; a topic with configs gets them.
        CreateTopicsRequestData.CreatableTopic withConfig = topic("with-config", 2, 1);
        withConfig.configs.add(new CreateTopicsRequestData.CreatableTopicConfig().setName("cleanup.policy").setValue("compact"));
        CreateTopicsResponseData mixed = create(createTopics(withConfig, topic("six", 1, 1), topic("with-config", 1, 1)));
        assertEquals(Errors.NONE, error(mixed.topics.get(0).errorCode));
        assertEquals(Errors.TOPIC_ALREADY_EXISTS, error(mixed.topics.get(1).errorCode));
        assertEquals(Errors.TOPIC_ALREADY_EXISTS, error(mixed.topics.get(2).errorCode));
        assertEquals(Map.of("cleanup.policy", "compact"), image().configs(MetadataImage.TOPIC_CONFIG, "with-config"));
        assertEquals(2, image().topic("with-config").partitionCount());
    }

    @Test
    void partitionsGrowTopicsAreDeletedConfigsChangeAndProducerIdsComeInBlocks() throws Exception {
        threeUnfencedBrokers();
        create(createTopics(topic("grow", 3, 1), topic("gone", 2, 1), topic("gone-by-id", 1, 1)));

        // Growing from 3 to 6: three new partitions, led by three different brokers.
        CreatePartitionsResponseData grown = call(createPartitions("grow", 6), new CreatePartitionsResponseData());
        assertEquals(Errors.NONE, error(grown.results.get(0).errorCode), grown.results.get(0).errorMessage);
        TopicImage grow = image().topic("grow");
        assertEquals(6, grow.partitionCount());
        Set<Integer> newLeaders = new TreeSet<>();
        for (int p = 3; p < 6; p++) {
            PartitionRegistration pr = grow.partition(p);
            assertEquals(1, pr.replicas().size());
            assertEquals(pr.replicas(), pr.isr());
            newLeaders.add(pr.leader());
        }
        assertEquals(Set.of(1, 2, 3), newLeaders);

        long before = log.lastIndex();
        CreatePartitionsResponseData refused = call(createPartitions("grow", 4), new CreatePartitionsResponseData());
        assertEquals(Errors.INVALID_PARTITIONS, error(refused.results.get(0).errorCode));
        refused = call(createPartitions("grow", 6), new CreatePartitionsResponseData());
        assertEquals(Errors.INVALID_PARTITIONS, error(refused.results.get(0).errorCode));
        refused = call(createPartitions("nowhere", 6), new CreatePartitionsResponseData());
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION, error(refused.results.get(0).errorCode));
        CreatePartitionsRequestData dry = createPartitions("grow", 8);
        dry.validateOnly = true;
        assertEquals(Errors.NONE, error(call(dry, new CreatePartitionsResponseData()).results.get(0).errorCode));
        CreatePartitionsRequestData manual = createPartitions("grow", 7);
        manual.topics.get(0).assignments.add(new CreatePartitionsRequestData.CreatePartitionsAssignment().setBrokerIds(List.of(7)));
        assertEquals(Errors.INVALID_REPLICA_ASSIGNMENT, error(call(manual, new CreatePartitionsResponseData()).results.get(0).errorCode));
        assertEquals(6, image().topic("grow").partitionCount());
        assertEquals(before, log.lastIndex());
        manual.topics.get(0).assignments.get(0).brokerIds = List.of(2);
        assertEquals(Errors.NONE, error(call(manual, new CreatePartitionsResponseData()).results.get(0).errorCode));
        assertEquals(List.of(2), image().topic("grow").partition(6).replicas());

        // Configs: set on a topic and on a broker, then delete; a topic that does not exist is refused.
        IncrementalAlterConfigsResponseData ac = call(alterConfig(MetadataImage.TOPIC_CONFIG, "gone", SET, "retention.ms", "1000"),
                new IncrementalAlterConfigsResponseData());
        assertEquals(Errors.NONE, error(ac.responses.get(0).errorCode));
        call(alterConfig(MetadataImage.TOPIC_CONFIG, "grow", SET, "retention.ms", "2000"), new IncrementalAlterConfigsResponseData());
        call(alterConfig(MetadataImage.BROKER_CONFIG, "2", SET, "log.retention.ms", "3000"), new IncrementalAlterConfigsResponseData());
        assertEquals(Map.of("retention.ms", "1000"), image().configs(MetadataImage.TOPIC_CONFIG, "gone"));
        assertEquals(Map.of("log.retention.ms", "3000"), image().configs(MetadataImage.BROKER_CONFIG, "2"));
        call(alterConfig(MetadataImage.TOPIC_CONFIG, "grow", DELETE, "retention.ms", null), new IncrementalAlterConfigsResponseData());
        assertEquals(Map.of(), image().configs(MetadataImage.TOPIC_CONFIG, "grow"));
        before = log.lastIndex();
        // Deleting what is not set writes nothing; validateOnly writes nothing; an unknown topic is refused.
        call(alterConfig(MetadataImage.TOPIC_CONFIG, "grow", DELETE, "retention.ms", null), new IncrementalAlterConfigsResponseData());
        IncrementalAlterConfigsRequestData dryConfig = alterConfig(MetadataImage.TOPIC_CONFIG, "grow", SET, "retention.ms", "5");
        dryConfig.validateOnly = true;
        call(dryConfig, new IncrementalAlterConfigsResponseData());
        ac = call(alterConfig(MetadataImage.TOPIC_CONFIG, "nowhere", SET, "retention.ms", "1"), new IncrementalAlterConfigsResponseData());
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION, error(ac.responses.get(0).errorCode));
        assertEquals(before, log.lastIndex());
        assertEquals(Map.of(), image().configs(MetadataImage.TOPIC_CONFIG, "grow"));

        // Deleting by name and by id; a topic's configs go with it.
        UUID goneById = image().topic("gone-by-id").id();
        DeleteTopicsResponseData deleted = call(deleteByName("gone", "nowhere"), new DeleteTopicsResponseData());
        assertEquals(Errors.NONE, error(deleted.responses.get(0).errorCode));
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION, error(deleted.responses.get(1).errorCode));
        assertNull(image().topic("gone"));
        assertEquals(Map.of(), image().configs(MetadataImage.TOPIC_CONFIG, "gone"));
        deleted = call(deleteById(goneById, new UUID(7, 7)), new DeleteTopicsResponseData());
        assertEquals(Errors.NONE, error(deleted.responses.get(0).errorCode));
        assertEquals("gone-by-id", deleted.responses.get(0).name);
        assertEquals(Errors.UNKNOWN_TOPIC_ID, error(deleted.responses.get(1).errorCode));
        assertNull(image().topic(goneById));
        assertNull(image().topic("gone-by-id"));
        assertEquals(Set.of("grow"), image().topics().keySet());

        // Producer ids: consecutive, disjoint blocks, whoever asks; a stale epoch or a stranger gets none.
        AllocateProducerIdsResponseData a = call(allocateProducerIds(1, epochs[1]), new AllocateProducerIdsResponseData());
        AllocateProducerIdsResponseData b = call(allocateProducerIds(2, epochs[2]), new AllocateProducerIdsResponseData());
        AllocateProducerIdsResponseData c = call(allocateProducerIds(1, epochs[1]), new AllocateProducerIdsResponseData());
        assertEquals(0, a.producerIdStart);
        assertEquals(ControllerLogic.PRODUCER_ID_BLOCK, a.producerIdLen);
        assertEquals(a.producerIdStart + a.producerIdLen, b.producerIdStart);
        assertEquals(b.producerIdStart + b.producerIdLen, c.producerIdStart);
        assertEquals(c.producerIdStart + c.producerIdLen, image().nextProducerId());
        before = log.lastIndex();
        AllocateProducerIdsResponseData stale = call(allocateProducerIds(3, epochs[3] + 100), new AllocateProducerIdsResponseData());
        assertEquals(Errors.STALE_BROKER_EPOCH, error(stale.errorCode));
        assertEquals(Errors.BROKER_ID_NOT_REGISTERED,
                error(call(allocateProducerIds(8, 1), new AllocateProducerIdsResponseData()).errorCode));
        assertEquals(before, log.lastIndex());
    }

    @Test
    void aBrokerShuttingDownIsToldToStopOnceItLeadsNothing() throws Exception {
        threeUnfencedBrokers();
        create(createTopics(topic("t", 6, 1)));
        assertTrue(ControllerLogic.leadsAnything(image(), 2));

        BrokerHeartbeatResponseData hb = call(new BrokerHeartbeatRequestData().setBrokerId(2).setBrokerEpoch(epochs[2])
                .setCurrentMetadataOffset(log.lastIndex()).setWantShutDown(true), new BrokerHeartbeatResponseData());
        assertEquals(Errors.NONE, error(hb.errorCode));
        assertTrue(hb.shouldShutDown);
        assertTrue(image().broker(2).inControlledShutdown());
        assertFalse(ControllerLogic.leadsAnything(image(), 2));
        // Its one-replica partitions have no other replica to move to: offline until it returns.
        assertEquals(2, leaderCounts(image()).get(PartitionRegistration.NO_LEADER));

        // New partitions avoid it.
        create(createTopics(topic("later", 4, 1)));
        for (PartitionRegistration p : image().topic("later").partitions().values()) {
            assertNotEquals(2, p.leader());
        }
    }

    @Test
    void garbageIsRefusedAndOnlyTheLeaderServes() throws Exception {
        ExecutionException e = assertThrows(ExecutionException.class, () -> controller.handle(new byte[] {0}).get(30, TimeUnit.SECONDS));
        assertInstanceOf(MalformedMessageException.class, e.getCause());
        // API key 3 (Metadata) is not a controller request.
        e = assertThrows(ExecutionException.class, () -> controller.handle(new byte[] {0, 3, 0}).get(30, TimeUnit.SECONDS));
        assertInstanceOf(MalformedMessageException.class, e.getCause());
        // A truncated registration.
        byte[] reg = ControllerMessages.encode(registration(1, incarnation(1, 1), ""));
        e = assertThrows(ExecutionException.class,
                () -> controller.handle(java.util.Arrays.copyOf(reg, reg.length / 2)).get(30, TimeUnit.SECONDS));
        assertInstanceOf(MalformedMessageException.class, e.getCause());
        // (The controller's tick may have written the new cluster's id meanwhile; nothing else.)
        assertTrue(image().brokers().isEmpty(), "nothing written for garbage");

        // Deposed: requests are refused with NOT_CONTROLLER's exception, naming the leader; nothing is written.
        log.leader = false;
        e = assertThrows(ExecutionException.class, () -> controller.handle(reg).get(30, TimeUnit.SECONDS));
        NotControllerException nce = assertInstanceOf(NotControllerException.class, e.getCause());
        assertTrue(nce.getMessage().contains("leader: 2"), nce.getMessage());
        assertTrue(image().brokers().isEmpty());
        // Leader again: it serves, starting with the new cluster's id.
        log.leader = true;
        assertEquals(Errors.NONE, error(register(registration(1, incarnation(1, 1), "")).errorCode));
        assertEquals(CLUSTER_ID, image().clusterId());

        // Closed: refused.
        controller.close();
        e = assertThrows(ExecutionException.class, () -> controller.handle(reg).get(30, TimeUnit.SECONDS));
        assertInstanceOf(NotControllerException.class, e.getCause());
    }
}
