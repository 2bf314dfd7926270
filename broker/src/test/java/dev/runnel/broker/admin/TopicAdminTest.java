package dev.runnel.broker.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.broker.RunnelServer;
import dev.runnel.broker.state.Topic;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.ApiVersionsRequestData;
import dev.runnel.wire.message.ApiVersionsResponseData;
import dev.runnel.wire.message.CreatePartitionsRequestData;
import dev.runnel.wire.message.CreatePartitionsRequestData.CreatePartitionsAssignment;
import dev.runnel.wire.message.CreatePartitionsRequestData.CreatePartitionsTopic;
import dev.runnel.wire.message.CreatePartitionsResponseData;
import dev.runnel.wire.message.CreatePartitionsResponseData.CreatePartitionsTopicResult;
import dev.runnel.wire.message.CreateTopicsRequestData;
import dev.runnel.wire.message.CreateTopicsRequestData.CreatableReplicaAssignment;
import dev.runnel.wire.message.CreateTopicsRequestData.CreatableTopic;
import dev.runnel.wire.message.CreateTopicsRequestData.CreatableTopicConfig;
import dev.runnel.wire.message.CreateTopicsResponseData;
import dev.runnel.wire.message.CreateTopicsResponseData.CreatableTopicConfigs;
import dev.runnel.wire.message.CreateTopicsResponseData.CreatableTopicResult;
import dev.runnel.wire.message.DeleteTopicsRequestData;
import dev.runnel.wire.message.DeleteTopicsRequestData.DeleteTopicState;
import dev.runnel.wire.message.DeleteTopicsResponseData;
import dev.runnel.wire.message.DeleteTopicsResponseData.DeletableTopicResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** CreateTopics, DeleteTopics and CreatePartitions over a socket, with Runnel's generated request classes. */
class TopicAdminTest {
    private static final UUID ZERO = new UUID(0, 0);

    @TempDir
    Path dir;
    private RunnelServer server;
    private AdminWire wire;

    @BeforeEach
    void start() throws Exception {
        server = AdminWire.start(dir, "num.partitions", "2");
        wire = new AdminWire(server);
    }

    @AfterEach
    void stop() throws Exception {
        if (wire != null) {
            wire.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private static CreatableTopic topic(String name, int partitions, int replicationFactor) {
        return new CreatableTopic().setName(name).setNumPartitions(partitions).setReplicationFactor((short) replicationFactor);
    }

    private CreateTopicsResponseData create(int version, boolean validateOnly, CreatableTopic... topics) throws Exception {
        CreateTopicsRequestData req = new CreateTopicsRequestData();
        req.topics = new ArrayList<>(Arrays.asList(topics));
        req.timeoutMs = 30_000;
        req.validateOnly = validateOnly;
        return wire.call(req, version);
    }

    private static CreatableTopicResult result(CreateTopicsResponseData resp, String name) {
        return resp.topics.stream().filter(t -> t.name.equals(name)).findFirst().orElseThrow(() -> new AssertionError("no result for " + name));
    }

    private Topic topic(String name) {
        return server.broker().topics().get(name);
    }

    @Test
    void theAdminApisAreAdvertisedFromVersionZero() throws Exception {
        ApiVersionsResponseData versions = wire.call(new ApiVersionsRequestData(), 0);
        Map<Short, String> ranges = versions.apiKeys.stream()
                .collect(Collectors.toMap(k -> k.apiKey, k -> k.minVersion + "-" + k.maxVersion));
        assertEquals("0-7", ranges.get((short) 19), "CreateTopics");
        assertEquals("0-6", ranges.get((short) 20), "DeleteTopics");
        assertEquals("0-4", ranges.get((short) 32), "DescribeConfigs");
        assertEquals("0-2", ranges.get((short) 33), "AlterConfigs");
        assertEquals("0-3", ranges.get((short) 37), "CreatePartitions");
        assertEquals("0-1", ranges.get((short) 44), "IncrementalAlterConfigs");
        assertEquals("0-2", ranges.get((short) 60), "DescribeCluster");
    }

    @Test
    void createWithExplicitAndDefaultCountsAnswersWithTheTopicsShape() throws Exception {
        CreatableTopic withConfig = topic("with-config", 3, 1);
        withConfig.configs.add(new CreatableTopicConfig().setName("retention.ms").setValue(" 3600000 "));
        CreateTopicsResponseData resp = create(7, false, withConfig, topic("defaults", -1, -1));

        CreatableTopicResult explicit = result(resp, "with-config");
        assertEquals(Errors.NONE.code(), explicit.errorCode);
        assertNull(explicit.errorMessage);
        assertEquals(3, explicit.numPartitions);
        assertEquals(1, explicit.replicationFactor);
        assertEquals(topic("with-config").id(), explicit.topicId);
        assertEquals(3, topic("with-config").partitionCount());
        assertEquals(Map.of("retention.ms", "3600000"), topic("with-config").configOverrides(), "stored in canonical form");
        CreatableTopicConfigs retention = explicit.configs.stream().filter(c -> c.name.equals("retention.ms")).findFirst().orElseThrow();
        assertEquals("3600000", retention.value);
        assertEquals(1, retention.configSource, "TOPIC_CONFIG");
        CreatableTopicConfigs segment = explicit.configs.stream().filter(c -> c.name.equals("segment.bytes")).findFirst().orElseThrow();
        assertEquals("1073741824", segment.value);
        assertEquals(5, segment.configSource, "DEFAULT_CONFIG");
        assertEquals(36, explicit.configs.size());

        CreatableTopicResult defaults = result(resp, "defaults");
        assertEquals(Errors.NONE.code(), defaults.errorCode);
        assertEquals(2, defaults.numPartitions, "num.partitions");
        assertEquals(1, defaults.replicationFactor, "default.replication.factor");
        assertEquals(2, topic("defaults").partitionCount());
        assertFalse(topic("defaults").internal());
    }

    @Test
    void olderVersionsGetTheFieldsTheyKnow() throws Exception {
        CreateTopicsResponseData v0 = create(0, false, topic("old-0", 1, 1));
        assertEquals(Errors.NONE.code(), result(v0, "old-0").errorCode);
        CreateTopicsResponseData v4 = create(4, false, topic("old-4", 1, 1), topic("old-4", 1, 1));
        assertEquals(Errors.INVALID_REQUEST.code(), result(v4, "old-4").errorCode);
        assertEquals("Duplicate topic name.", result(v4, "old-4").errorMessage);
        assertEquals(-1, result(v4, "old-4").numPartitions, "not in v4");
        CreateTopicsResponseData v5 = create(5, false, topic("old-5", 1, 1));
        assertEquals(1, result(v5, "old-5").numPartitions);
        assertEquals(ZERO, result(v5, "old-5").topicId, "topic ids are v7+");
        assertNotNull(topic("old-0"));
        assertNull(topic("old-4"), "a duplicated name is not created");
    }

    @Test
    void replicationFactorAboveOneIsRefusedOnThisSingleNode() throws Exception {
        CreateTopicsResponseData resp = create(7, false, topic("rf3", 1, 3), topic("rf0", 1, 0), topic("p0", 0, 1), topic("pm5", -5, 1));
        CreatableTopicResult rf3 = result(resp, "rf3");
        assertEquals(Errors.INVALID_REPLICATION_FACTOR.code(), rf3.errorCode);
        assertEquals("Unable to replicate the partition 3 time(s): The target replication factor of 3 cannot be reached "
                + "because only 1 broker(s) are registered.", rf3.errorMessage);
        assertEquals(-1, rf3.numPartitions);
        assertEquals(ZERO, rf3.topicId);
        assertEquals("Replication factor must be larger than 0, or -1 to use the default value.", result(resp, "rf0").errorMessage);
        assertEquals(Errors.INVALID_PARTITIONS.code(), result(resp, "p0").errorCode);
        assertEquals("Number of partitions was set to an invalid non-positive value.", result(resp, "pm5").errorMessage);
        for (String name : List.of("rf3", "rf0", "p0", "pm5")) {
            assertNull(topic(name), name);
        }
    }

    @Test
    void defaultReplicationFactorAboveOneIsRefusedToo() throws Exception {
        wire.close();
        server.close();
        server = AdminWire.start(dir, "default.replication.factor", "3");
        wire = new AdminWire(server);
        CreatableTopicResult r = result(create(7, false, topic("rf-default", 1, -1)), "rf-default");
        assertEquals(Errors.INVALID_REPLICATION_FACTOR.code(), r.errorCode);
        assertTrue(r.errorMessage.startsWith("Unable to replicate the partition 3 time(s)"), r.errorMessage);
    }

    @Test
    void validateOnlyChecksEverythingAndCreatesNothing() throws Exception {
        CreateTopicsResponseData resp = create(7, true, topic("dry", 4, 1), topic("dry-rf", 1, 3));
        CreatableTopicResult dry = result(resp, "dry");
        assertEquals(Errors.NONE.code(), dry.errorCode);
        assertEquals(4, dry.numPartitions);
        assertEquals(36, dry.configs.size());
        assertEquals(Errors.INVALID_REPLICATION_FACTOR.code(), result(resp, "dry-rf").errorCode);
        assertNull(topic("dry"));
        assertFalse(Files.exists(dir.resolve("dry-0")), "no partition directory");

        assertEquals(Errors.NONE.code(), result(create(7, false, topic("dry", 4, 1)), "dry").errorCode);
        assertEquals(4, topic("dry").partitionCount());
    }

    @Test
    void existingNamesInvalidNamesAndTheMetadataTopic() throws Exception {
        create(7, false, topic("taken", 1, 1));
        CreateTopicsResponseData resp = create(7, false, topic("taken", 1, 1), topic("bad name!", 1, 1), topic("__cluster_metadata", 1, 1),
                topic("__consumer_offsets", 1, 1));
        assertEquals(Errors.TOPIC_ALREADY_EXISTS.code(), result(resp, "taken").errorCode);
        assertEquals("Topic 'taken' already exists.", result(resp, "taken").errorMessage);
        assertEquals(Errors.INVALID_TOPIC_EXCEPTION.code(), result(resp, "bad name!").errorCode);
        assertEquals(Errors.INVALID_REQUEST.code(), result(resp, "__cluster_metadata").errorCode);
        assertEquals("Creation of internal topic __cluster_metadata is prohibited.", result(resp, "__cluster_metadata").errorMessage);
        assertEquals(Errors.NONE.code(), result(resp, "__consumer_offsets").errorCode);
        assertTrue(topic("__consumer_offsets").internal(), "Kafka's internal topic names are marked internal");
    }

    @Test
    void invalidConfigsAreRefusedPerTopic() throws Exception {
        CreatableTopic badValue = topic("bad-value", 1, 1);
        badValue.configs.add(new CreatableTopicConfig().setName("retention.ms").setValue("abc"));
        CreatableTopic unknown = topic("unknown-config", 1, 1);
        unknown.configs.add(new CreatableTopicConfig().setName("foo.bar").setValue("1"));
        CreatableTopic nullValue = topic("null-config", 1, 1);
        nullValue.configs.add(new CreatableTopicConfig().setName("retention.ms").setValue(null));
        CreateTopicsResponseData resp = create(7, false, badValue, unknown, nullValue, topic("fine", 1, 1));
        assertEquals(Errors.INVALID_CONFIG.code(), result(resp, "bad-value").errorCode);
        assertEquals("Invalid value abc for configuration retention.ms: Not a number of type LONG", result(resp, "bad-value").errorMessage);
        assertEquals("Unknown topic config name: foo.bar", result(resp, "unknown-config").errorMessage);
        assertEquals("Null value not supported for topic configs: retention.ms", result(resp, "null-config").errorMessage);
        assertEquals(Errors.NONE.code(), result(resp, "fine").errorCode, "one bad topic does not fail the others");
        assertNull(topic("bad-value"));
        assertNotNull(topic("fine"));
    }

    @Test
    void manualAssignmentsMayOnlyNameThisNode() throws Exception {
        CreatableTopic good = topic("assigned", -1, -1);
        good.assignments.add(new CreatableReplicaAssignment().setPartitionIndex(1).setBrokerIds(new ArrayList<>(List.of(1))));
        good.assignments.add(new CreatableReplicaAssignment().setPartitionIndex(0).setBrokerIds(new ArrayList<>(List.of(1))));
        CreatableTopic otherBroker = topic("other-broker", -1, -1);
        otherBroker.assignments.add(new CreatableReplicaAssignment().setPartitionIndex(0).setBrokerIds(new ArrayList<>(List.of(2))));
        CreatableTopic gap = topic("gap", -1, -1);
        gap.assignments.add(new CreatableReplicaAssignment().setPartitionIndex(1).setBrokerIds(new ArrayList<>(List.of(1))));
        CreatableTopic twice = topic("twice", -1, -1);
        twice.assignments.add(new CreatableReplicaAssignment().setPartitionIndex(0).setBrokerIds(new ArrayList<>(List.of(1, 1))));
        CreatableTopic withCount = topic("with-count", 2, -1);
        withCount.assignments.add(new CreatableReplicaAssignment().setPartitionIndex(0).setBrokerIds(new ArrayList<>(List.of(1))));
        CreateTopicsResponseData resp = create(7, false, good, otherBroker, gap, twice, withCount);

        assertEquals(Errors.NONE.code(), result(resp, "assigned").errorCode);
        assertEquals(2, result(resp, "assigned").numPartitions);
        assertEquals(1, result(resp, "assigned").replicationFactor);
        assertEquals(2, topic("assigned").partitionCount());
        assertEquals(Errors.INVALID_REPLICA_ASSIGNMENT.code(), result(resp, "other-broker").errorCode);
        assertEquals("The manual partition assignment includes broker 2, but no such broker is registered.",
                result(resp, "other-broker").errorMessage);
        assertEquals("partitions should be a consecutive 0-based integer sequence", result(resp, "gap").errorMessage);
        assertEquals("The manual partition assignment includes the broker 1 more than once.", result(resp, "twice").errorMessage);
        assertEquals(Errors.INVALID_REQUEST.code(), result(resp, "with-count").errorCode);
        assertEquals("A manual partition assignment was specified, but numPartitions was not set to -1.",
                result(resp, "with-count").errorMessage);
    }

    @Test
    void oneRequestCannotCreateAbsurdlyManyPartitions() throws Exception {
        CreatableTopicResult r = result(create(7, false, topic("huge", Integer.MAX_VALUE, 1)), "huge");
        assertEquals(Errors.POLICY_VIOLATION.code(), r.errorCode);
        assertEquals("Unable to perform excessively large batch operation.", r.errorMessage);
        assertNull(topic("huge"));
    }

    // ------------------------------------------------------------------ DeleteTopics

    @Test
    void deleteByNameInEveryVersion() throws Exception {
        create(7, false, topic("d1", 2, 1), topic("d5", 1, 1), topic("keep", 1, 1));
        DeleteTopicsRequestData v1 = new DeleteTopicsRequestData();
        v1.topicNames = new ArrayList<>(List.of("d1", "missing"));
        v1.timeoutMs = 30_000;
        DeleteTopicsResponseData r1 = wire.call(v1, 1);
        assertEquals(Errors.NONE.code(), deleted(r1, "d1").errorCode);
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), deleted(r1, "missing").errorCode);
        assertNull(topic("d1"));
        assertFalse(Files.exists(dir.resolve("d1-0")), "partition data removed");

        DeleteTopicsRequestData v0 = new DeleteTopicsRequestData();
        v0.topicNames = new ArrayList<>(List.of("d5"));
        assertEquals(Errors.NONE.code(), deleted(wire.call(v0, 0), "d5").errorCode);
        assertNull(topic("d5"));
        assertNotNull(topic("keep"));
    }

    @Test
    void deleteByIdInV6() throws Exception {
        create(7, false, topic("by-id", 1, 1), topic("by-name", 1, 1), topic("named-and-id", 1, 1));
        UUID id = topic("by-id").id();
        UUID both = topic("named-and-id").id();
        UUID unknown = UUID.randomUUID();
        DeleteTopicsRequestData req = new DeleteTopicsRequestData();
        req.topics = new ArrayList<>(List.of(
                new DeleteTopicState().setName(null).setTopicId(id),
                new DeleteTopicState().setName("by-name").setTopicId(ZERO),
                new DeleteTopicState().setName(null).setTopicId(unknown),
                new DeleteTopicState().setName(null).setTopicId(ZERO),
                new DeleteTopicState().setName("x").setTopicId(unknown),
                new DeleteTopicState().setName("dup").setTopicId(ZERO),
                new DeleteTopicState().setName("dup").setTopicId(ZERO),
                new DeleteTopicState().setName("named-and-id").setTopicId(ZERO),
                new DeleteTopicState().setName(null).setTopicId(both)));
        DeleteTopicsResponseData resp = wire.call(req, 6);
        List<DeletableTopicResult> rs = resp.responses;

        assertEquals(Errors.NONE.code(), rs.get(0).errorCode);
        assertEquals("by-id", rs.get(0).name, "the name of a topic deleted by id is returned");
        assertEquals(id, rs.get(0).topicId);
        assertEquals(Errors.NONE.code(), rs.get(1).errorCode);
        assertEquals(Errors.UNKNOWN_TOPIC_ID.code(), rs.get(2).errorCode);
        assertNull(rs.get(2).name);
        assertEquals(Errors.INVALID_REQUEST.code(), rs.get(3).errorCode);
        assertEquals("Neither topic name nor id were specified.", rs.get(3).errorMessage);
        assertEquals("You may not specify both topic name and topic id.", rs.get(4).errorMessage);
        assertEquals("Duplicate topic name.", rs.get(5).errorMessage);
        assertEquals(Errors.INVALID_REQUEST.code(), rs.get(6).errorCode, "named and given by id");
        assertEquals(Errors.INVALID_REQUEST.code(), rs.get(7).errorCode, "named and given by id");
        assertEquals(8, rs.size(), "one answer for the duplicated name");
        assertNull(topic("by-id"));
        assertNull(topic("by-name"));
        assertNotNull(topic("named-and-id"), "a conflicting request deletes nothing");
    }

    @Test
    void deletionCanBeDisabled() throws Exception {
        wire.close();
        server.close();
        server = AdminWire.start(dir, "delete.topic.enable", "false");
        wire = new AdminWire(server);
        create(7, false, topic("kept", 1, 1));
        DeleteTopicsRequestData req = new DeleteTopicsRequestData();
        req.topicNames = new ArrayList<>(List.of("kept"));
        assertEquals(Errors.TOPIC_DELETION_DISABLED.code(), deleted(wire.call(req, 5), "kept").errorCode);
        assertEquals(Errors.INVALID_REQUEST.code(), deleted(wire.call(req, 2), "kept").errorCode, "before v3");
        assertNotNull(topic("kept"));
    }

    private static DeletableTopicResult deleted(DeleteTopicsResponseData resp, String name) {
        return resp.responses.stream().filter(r -> name.equals(r.name)).findFirst().orElseThrow(() -> new AssertionError("no result for " + name));
    }

    // ------------------------------------------------------------------ CreatePartitions

    private CreatePartitionsResponseData grow(int version, boolean validateOnly, CreatePartitionsTopic... topics) throws Exception {
        CreatePartitionsRequestData req = new CreatePartitionsRequestData();
        req.topics = new ArrayList<>(Arrays.asList(topics));
        req.timeoutMs = 30_000;
        req.validateOnly = validateOnly;
        return wire.call(req, version);
    }

    private static CreatePartitionsTopic to(String name, int count) {
        return new CreatePartitionsTopic().setName(name).setCount(count).setAssignments(null);
    }

    private static CreatePartitionsTopicResult grown(CreatePartitionsResponseData resp, String name) {
        return resp.results.stream().filter(r -> name.equals(r.name)).findFirst().orElseThrow(() -> new AssertionError("no result for " + name));
    }

    @Test
    void partitionsGrowButNeverShrink() throws Exception {
        create(7, false, topic("grow", 2, 1));
        assertEquals(Errors.NONE.code(), grown(grow(3, false, to("grow", 5)), "grow").errorCode);
        assertEquals(5, topic("grow").partitionCount());
        assertTrue(Files.isDirectory(dir.resolve("grow-4")));

        CreatePartitionsTopicResult same = grown(grow(3, false, to("grow", 5)), "grow");
        assertEquals(Errors.INVALID_PARTITIONS.code(), same.errorCode);
        assertEquals("Topic already has 5 partition(s).", same.errorMessage);
        CreatePartitionsTopicResult shrink = grown(grow(0, false, to("grow", 3)), "grow");
        assertEquals(Errors.INVALID_PARTITIONS.code(), shrink.errorCode);
        assertEquals("The topic grow currently has 5 partition(s); 3 would not be an increase.", shrink.errorMessage);
        assertEquals(5, topic("grow").partitionCount());
    }

    @Test
    void growValidateOnlyUnknownTopicsDuplicatesAndAssignments() throws Exception {
        create(7, false, topic("g", 1, 1), topic("h", 1, 1));
        CreatePartitionsTopic assigned = to("h", 3);
        assigned.assignments = new ArrayList<>(List.of(new CreatePartitionsAssignment().setBrokerIds(new ArrayList<>(List.of(1)))));
        CreatePartitionsResponseData resp = grow(3, true, to("g", 4), to("nope", 2), to("dup", 2), to("dup", 3), assigned);
        assertEquals(Errors.NONE.code(), grown(resp, "g").errorCode);
        assertEquals(1, topic("g").partitionCount(), "validate only");
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), grown(resp, "nope").errorCode);
        assertEquals(Errors.INVALID_REQUEST.code(), grown(resp, "dup").errorCode);
        assertEquals("Duplicate topic name.", grown(resp, "dup").errorMessage);
        assertEquals(Errors.INVALID_REPLICA_ASSIGNMENT.code(), grown(resp, "h").errorCode);
        assertEquals("Attempted to add 2 additional partition(s), but only 1 assignment(s) were specified.", grown(resp, "h").errorMessage);

        CreatePartitionsTopic elsewhere = to("h", 2);
        elsewhere.assignments = new ArrayList<>(List.of(new CreatePartitionsAssignment().setBrokerIds(new ArrayList<>(List.of(7)))));
        assertEquals("The manual partition assignment includes broker 7, but no such broker is registered.",
                grown(grow(3, false, elsewhere), "h").errorMessage);
        CreatePartitionsTopic here = to("h", 2);
        here.assignments = new ArrayList<>(List.of(new CreatePartitionsAssignment().setBrokerIds(new ArrayList<>(List.of(1)))));
        assertEquals(Errors.NONE.code(), grown(grow(1, false, here), "h").errorCode);
        assertEquals(2, topic("h").partitionCount());
        assertNotEquals(null, topic("h").partition(1));
    }
}
