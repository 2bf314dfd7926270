package dev.runnel.broker.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.broker.RunnelServer;
import dev.runnel.broker.state.Topic;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.AlterConfigsRequestData;
import dev.runnel.wire.message.AlterConfigsResponseData;
import dev.runnel.wire.message.CreateTopicsRequestData;
import dev.runnel.wire.message.CreateTopicsRequestData.CreatableTopic;
import dev.runnel.wire.message.CreateTopicsRequestData.CreatableTopicConfig;
import dev.runnel.wire.message.CreateTopicsResponseData;
import dev.runnel.wire.message.DescribeClusterRequestData;
import dev.runnel.wire.message.DescribeClusterResponseData;
import dev.runnel.wire.message.DescribeConfigsRequestData;
import dev.runnel.wire.message.DescribeConfigsRequestData.DescribeConfigsResource;
import dev.runnel.wire.message.DescribeConfigsResponseData;
import dev.runnel.wire.message.DescribeConfigsResponseData.DescribeConfigsResourceResult;
import dev.runnel.wire.message.DescribeConfigsResponseData.DescribeConfigsResult;
import dev.runnel.wire.message.IncrementalAlterConfigsRequestData;
import dev.runnel.wire.message.IncrementalAlterConfigsRequestData.AlterConfigsResource;
import dev.runnel.wire.message.IncrementalAlterConfigsRequestData.AlterableConfig;
import dev.runnel.wire.message.IncrementalAlterConfigsResponseData;
import dev.runnel.wire.records.TimestampType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** DescribeConfigs, IncrementalAlterConfigs, AlterConfigs and DescribeCluster over a socket. */
class ConfigsAdminTest {
    private static final byte TOPIC = 2;
    private static final byte BROKER = 4;
    private static final byte SET = 0;
    private static final byte DELETE = 1;
    private static final byte APPEND = 2;
    private static final byte SUBTRACT = 3;

    @TempDir
    Path dir;
    private RunnelServer server;
    private AdminWire wire;

    @BeforeEach
    void start() throws Exception {
        server = AdminWire.start(dir, "num.partitions", "3", "log.retention.hours", "24");
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

    private void createTopic(String name, String... configs) throws Exception {
        CreatableTopic t = new CreatableTopic().setName(name).setNumPartitions(1).setReplicationFactor((short) 1);
        for (int i = 0; i + 1 < configs.length; i += 2) {
            t.configs.add(new CreatableTopicConfig().setName(configs[i]).setValue(configs[i + 1]));
        }
        CreateTopicsRequestData req = new CreateTopicsRequestData();
        req.topics.add(t);
        CreateTopicsResponseData resp = wire.call(req, 7);
        assertEquals(Errors.NONE.code(), resp.topics.get(0).errorCode, resp.toString());
    }

    private DescribeConfigsResult describe(byte type, String name, int version, boolean synonyms, boolean docs, String... keys)
            throws Exception {
        DescribeConfigsRequestData req = new DescribeConfigsRequestData();
        req.resources.add(new DescribeConfigsResource().setResourceType(type).setResourceName(name)
                .setConfigurationKeys(keys.length == 0 ? null : new ArrayList<>(List.of(keys))));
        req.includeSynonyms = synonyms;
        req.includeDocumentation = docs;
        DescribeConfigsResponseData resp = wire.call(req, version);
        assertEquals(1, resp.results.size());
        DescribeConfigsResult r = resp.results.get(0);
        assertEquals(type, r.resourceType);
        assertEquals(name, r.resourceName);
        return r;
    }

    private static DescribeConfigsResourceResult entry(DescribeConfigsResult r, String name) {
        return r.configs.stream().filter(c -> c.name.equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError(name + " not described: " + r.configs.stream().map(c -> c.name).toList()));
    }

    private IncrementalAlterConfigsResponseData alter(boolean validateOnly, byte type, String name, Object... opsNameValue) throws Exception {
        AlterConfigsResource res = new AlterConfigsResource().setResourceType(type).setResourceName(name);
        for (int i = 0; i + 2 < opsNameValue.length; i += 3) {
            res.configs.add(new AlterableConfig().setName((String) opsNameValue[i + 1]).setConfigOperation((Byte) opsNameValue[i])
                    .setValue((String) opsNameValue[i + 2]));
        }
        IncrementalAlterConfigsRequestData req = new IncrementalAlterConfigsRequestData();
        req.resources.add(res);
        req.validateOnly = validateOnly;
        return wire.call(req, 1);
    }

    private Topic topic(String name) {
        return server.broker().topics().get(name);
    }

    @Test
    void aTopicShowsEveryConfigWithItsSource() throws Exception {
        createTopic("described", "cleanup.policy", "compact");
        DescribeConfigsResult r = describe(TOPIC, "described", 4, true, true);
        assertEquals(Errors.NONE.code(), r.errorCode);
        assertEquals(36, r.configs.size());

        DescribeConfigsResourceResult policy = entry(r, "cleanup.policy");
        assertEquals("compact", policy.value);
        assertEquals(1, policy.configSource, "TOPIC_CONFIG");
        assertFalse(policy.isDefault);
        assertFalse(policy.readOnly);
        assertEquals(7, policy.configType, "LIST");
        assertEquals(List.of("cleanup.policy=compact/1", "log.cleanup.policy=delete/5"),
                policy.synonyms.stream().map(s -> s.name + "=" + s.value + "/" + s.source).toList());
        assertNotNull(policy.documentation);

        DescribeConfigsResourceResult retention = entry(r, "retention.ms");
        assertEquals("86400000", retention.value, "from log.retention.hours=24");
        assertEquals(4, retention.configSource, "STATIC_BROKER_CONFIG");
        assertEquals(List.of("log.retention.hours=24/4"), retention.synonyms.stream().map(s -> s.name + "=" + s.value + "/" + s.source).toList());

        DescribeConfigsResourceResult segment = entry(r, "segment.bytes");
        assertEquals("1073741824", segment.value);
        assertEquals(5, segment.configSource, "DEFAULT_CONFIG");
        assertEquals(3, segment.configType, "INT");
    }

    @Test
    void keysSynonymsAndDocumentationOnlyWhenAsked() throws Exception {
        createTopic("filtered");
        DescribeConfigsResult r = describe(TOPIC, "filtered", 4, false, false, "retention.ms", "no.such.config", "min.insync.replicas");
        assertEquals(List.of("min.insync.replicas", "retention.ms"), r.configs.stream().map(c -> c.name).sorted().toList());
        for (DescribeConfigsResourceResult c : r.configs) {
            assertTrue(c.synonyms.isEmpty(), c.name);
            assertNull(c.documentation, c.name);
        }
        DescribeConfigsResult v0 = describe(TOPIC, "filtered", 0, false, false, "segment.bytes");
        assertEquals("1073741824", entry(v0, "segment.bytes").value);
        assertTrue(entry(v0, "segment.bytes").isDefault, "v0 has is_default instead of a source");
    }

    @Test
    void unknownAndInvalidTopicsGetErrors() throws Exception {
        DescribeConfigsResult missing = describe(TOPIC, "missing", 4, false, false);
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), missing.errorCode);
        assertTrue(missing.configs.isEmpty());
        assertEquals(Errors.INVALID_TOPIC_EXCEPTION.code(), describe(TOPIC, "bad name!", 4, false, false).errorCode);
        assertEquals(Errors.INVALID_REQUEST.code(), describe((byte) 99, "x", 4, false, false).errorCode);
    }

    @Test
    void theBrokerShowsItsConfigsWithReadOnlyFlags() throws Exception {
        DescribeConfigsResult r = describe(BROKER, "1", 4, true, false);
        assertEquals(Errors.NONE.code(), r.errorCode);
        DescribeConfigsResourceResult partitions = entry(r, "num.partitions");
        assertEquals("3", partitions.value);
        assertEquals(4, partitions.configSource, "STATIC_BROKER_CONFIG");
        assertTrue(partitions.readOnly);
        assertEquals(List.of("num.partitions=3/4", "num.partitions=1/5"),
                partitions.synonyms.stream().map(s -> s.name + "=" + s.value + "/" + s.source).toList());
        assertEquals("1", entry(r, "node.id").value);
        assertEquals("1", entry(r, "broker.id").value);
        DescribeConfigsResourceResult segment = entry(r, "log.segment.bytes");
        assertEquals("1073741824", segment.value);
        assertEquals(5, segment.configSource);
        assertFalse(segment.readOnly, "log.segment.bytes is a dynamic config in Kafka");
        assertFalse(entry(r, "max.connections").readOnly);
        assertTrue(entry(r, "log.dirs").readOnly);
        assertTrue(entry(r, "log.retention.hours").readOnly, "only log.retention.ms of the three is dynamic in Kafka");
        assertEquals("86400000", entry(r, "log.cleaner.delete.retention.ms").value, "Kafka's default for a key Runnel does not read");
        assertNull(entry(r, "log.retention.ms").value, "no default, as in Kafka");
        assertEquals("1048588", entry(r, "message.max.bytes").value);
        assertEquals("true", entry(r, "auto.create.topics.enable").value);
        assertEquals("104857600", entry(r, "socket.request.max.bytes").value);

        assertTrue(describe(BROKER, "", 4, false, false).configs.isEmpty(), "no dynamic cluster defaults yet");
        DescribeConfigsResult other = describe(BROKER, "2", 4, false, false);
        assertEquals(Errors.INVALID_REQUEST.code(), other.errorCode);
        assertEquals("Unexpected broker id, expected 1 or empty string, but received 2", other.errorMessage);
        assertEquals("Broker id must be an integer, but it is: abc", describe(BROKER, "abc", 4, false, false).errorMessage);
    }

    @Test
    void incrementalAlterSetsDeletesAppendsAndSubtracts() throws Exception {
        createTopic("altered");
        assertEquals(Errors.NONE.code(), alter(false, TOPIC, "altered",
                SET, "retention.ms", " 3600000 ", SET, "max.message.bytes", "2000000", SET, "message.timestamp.type", "LogAppendTime")
                .responses.get(0).errorCode);
        assertEquals(Map.of("retention.ms", "3600000", "max.message.bytes", "2000000", "message.timestamp.type", "LogAppendTime"),
                topic("altered").configOverrides());

        alter(false, TOPIC, "altered", DELETE, "retention.ms", null, DELETE, "never.set", null);
        DescribeConfigsResult r = describe(TOPIC, "altered", 4, false, false, "retention.ms", "max.message.bytes");
        assertEquals("86400000", entry(r, "retention.ms").value, "back to the broker's value");
        assertEquals(4, entry(r, "retention.ms").configSource);
        assertEquals("2000000", entry(r, "max.message.bytes").value);

        alter(false, TOPIC, "altered", APPEND, "cleanup.policy", "compact");
        assertEquals("delete,compact", topic("altered").configOverrides().get("cleanup.policy"), "appended to the current value");
        alter(false, TOPIC, "altered", APPEND, "cleanup.policy", "compact");
        assertEquals("delete,compact", topic("altered").configOverrides().get("cleanup.policy"), "no duplicates");
        alter(false, TOPIC, "altered", SUBTRACT, "cleanup.policy", "delete");
        assertEquals("compact", topic("altered").configOverrides().get("cleanup.policy"));
    }

    @Test
    void liveChangesReachThePartitionLog() throws Exception {
        createTopic("live");
        alter(false, TOPIC, "live", SET, "max.message.bytes", "2000000", SET, "message.timestamp.type", "LogAppendTime");
        assertEquals(TimestampType.LOG_APPEND_TIME, topic("live").partition(0).log().config().messageTimestampType());
        assertEquals(2_000_000, topic("live").partition(0).log().config().maxMessageBytes());
    }

    @Test
    void invalidChangesAreRefusedAndChangeNothing() throws Exception {
        createTopic("strict");
        IncrementalAlterConfigsResponseData bad = alter(false, TOPIC, "strict", SET, "retention.ms", "1000", SET, "segment.bytes", "x");
        assertEquals(Errors.INVALID_CONFIG.code(), bad.responses.get(0).errorCode);
        assertEquals("Invalid value x for configuration segment.bytes: Not a number of type INT", bad.responses.get(0).errorMessage);
        assertEquals(Map.of(), topic("strict").configOverrides(), "all or nothing");

        assertEquals("Unknown topic config name: foo.bar", alter(false, TOPIC, "strict", SET, "foo.bar", "1").responses.get(0).errorMessage);
        assertEquals("Can't APPEND to key retention.ms because its type is not LIST.",
                alter(false, TOPIC, "strict", APPEND, "retention.ms", "5").responses.get(0).errorMessage);
        assertEquals("Null value not supported for : retention.ms", alter(false, TOPIC, "strict", SET, "retention.ms", null).responses.get(0).errorMessage);
        assertEquals("Error due to duplicate config keys",
                alter(false, TOPIC, "strict", SET, "retention.ms", "1", SET, "retention.ms", "2").responses.get(0).errorMessage);
        IncrementalAlterConfigsResponseData missing = alter(false, TOPIC, "missing", SET, "retention.ms", "1");
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), missing.responses.get(0).errorCode);

        assertEquals(Errors.NONE.code(), alter(true, TOPIC, "strict", SET, "retention.ms", "1000").responses.get(0).errorCode);
        assertEquals(Map.of(), topic("strict").configOverrides(), "validate only");
    }

    @Test
    void theSameResourceTwiceIsRefused() throws Exception {
        createTopic("twice");
        IncrementalAlterConfigsRequestData req = new IncrementalAlterConfigsRequestData();
        for (int i = 0; i < 2; i++) {
            AlterConfigsResource res = new AlterConfigsResource().setResourceType(TOPIC).setResourceName("twice");
            res.configs.add(new AlterableConfig().setName("retention.ms").setConfigOperation(SET).setValue("100" + i));
            req.resources.add(res);
        }
        IncrementalAlterConfigsResponseData resp = wire.call(req, 0);
        assertEquals(2, resp.responses.size());
        for (var r : resp.responses) {
            assertEquals(Errors.INVALID_REQUEST.code(), r.errorCode);
            assertEquals("Each resource must appear at most once.", r.errorMessage);
        }
        assertEquals(Map.of(), topic("twice").configOverrides());
    }

    @Test
    void dynamicBrokerConfigsChangeAtRuntimeWithKafkasSources() throws Exception {
        createTopic("follows");
        createTopic("own", "retention.ms", "7000");
        assertEquals(Errors.NONE.code(), alter(false, BROKER, "", SET, "log.retention.ms", "5000").responses.get(0).errorCode);
        assertEquals(5000, topic("follows").partition(0).log().config().retentionMs(), "a topic without override follows");
        assertEquals(7000, topic("own").partition(0).log().config().retentionMs(), "an override wins");

        DescribeConfigsResult dflt = describe(BROKER, "", 4, true, false);
        assertEquals(List.of("log.retention.ms=5000/3"), dflt.configs.stream().map(c -> c.name + "=" + c.value + "/" + c.configSource).toList());
        assertEquals(List.of("log.retention.ms=5000/3"), entry(dflt, "log.retention.ms").synonyms.stream()
                .map(s -> s.name + "=" + s.value + "/" + s.source).toList());

        assertEquals(Errors.NONE.code(), alter(false, BROKER, "1", SET, "log.retention.ms", "6000").responses.get(0).errorCode);
        DescribeConfigsResourceResult ms = entry(describe(BROKER, "1", 4, true, false), "log.retention.ms");
        assertEquals("6000", ms.value);
        assertEquals(2, ms.configSource, "DYNAMIC_BROKER_CONFIG");
        assertEquals(List.of("log.retention.ms=6000/2", "log.retention.ms=5000/3", "log.retention.hours=24/4", "log.retention.hours=168/5"),
                ms.synonyms.stream().map(s -> s.name + "=" + s.value + "/" + s.source).toList());
        DescribeConfigsResourceResult topicRetention = entry(describe(TOPIC, "follows", 4, true, false), "retention.ms");
        assertEquals("6000", topicRetention.value);
        assertEquals(2, topicRetention.configSource);
        assertEquals(6000, topic("follows").partition(0).log().config().retentionMs());

        assertEquals(Errors.NONE.code(), alter(false, BROKER, "1", DELETE, "log.retention.ms", null).responses.get(0).errorCode);
        assertEquals(5000, topic("follows").partition(0).log().config().retentionMs(), "back to the cluster default");
    }

    @Test
    void readOnlyAndInvalidBrokerConfigsAreRefusedAsKafkaDoes() throws Exception {
        IncrementalAlterConfigsResponseData resp = alter(false, BROKER, "1", SET, "log.dirs", "/tmp/x", SET, "broker.id", "7");
        assertEquals(Errors.INVALID_REQUEST.code(), resp.responses.get(0).errorCode);
        assertEquals("Cannot update these configs dynamically: Set(broker.id, log.dirs)", resp.responses.get(0).errorMessage);
        IncrementalAlterConfigsResponseData bad = alter(false, BROKER, "", SET, "log.retention.ms", "soon");
        assertEquals(Errors.INVALID_REQUEST.code(), bad.responses.get(0).errorCode);
        assertTrue(bad.responses.get(0).errorMessage.startsWith("Invalid value soon for configuration log.retention.ms: Not a number of type LONG"),
                bad.responses.get(0).errorMessage);
        assertEquals("Unexpected broker id, expected 1, but received 2",
                alter(false, BROKER, "2", SET, "log.retention.ms", "5000").responses.get(0).errorMessage);
        assertEquals("Node id must be an integer, but it is: x",
                alter(false, BROKER, "x", SET, "log.retention.ms", "5000").responses.get(0).errorMessage);
        assertEquals(Errors.NONE.code(), alter(true, BROKER, "1", SET, "message.max.bytes", "2000").responses.get(0).errorCode);
        assertTrue(server.broker().config().dynamicBrokerConfigs().isEmpty(), "validate_only changes nothing");
        assertEquals(Errors.NONE.code(), alter(false, BROKER, "1").responses.get(0).errorCode, "nothing to change is fine");
    }

    @Test
    void legacyAlterConfigsReplacesTheWholeSet() throws Exception {
        createTopic("legacy", "retention.ms", "1000", "cleanup.policy", "compact");
        AlterConfigsRequestData req = new AlterConfigsRequestData();
        AlterConfigsRequestData.AlterConfigsResource res = new AlterConfigsRequestData.AlterConfigsResource()
                .setResourceType(TOPIC).setResourceName("legacy");
        res.configs.add(new AlterConfigsRequestData.AlterableConfig().setName("segment.bytes").setValue("2000000"));
        req.resources.add(res);
        AlterConfigsRequestData.AlterConfigsResource missing = new AlterConfigsRequestData.AlterConfigsResource()
                .setResourceType(TOPIC).setResourceName("missing");
        req.resources.add(missing);
        AlterConfigsResponseData resp = wire.call(req, 2);
        assertEquals(Errors.NONE.code(), resp.responses.get(0).errorCode);
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), resp.responses.get(1).errorCode);
        assertEquals(Map.of("segment.bytes", "2000000"), topic("legacy").configOverrides());

        res.configs.clear();
        res.configs.add(new AlterConfigsRequestData.AlterableConfig().setName("segment.bytes").setValue("2"));
        req.resources.remove(1);
        AlterConfigsResponseData refused = wire.call(req, 0);
        assertEquals(Errors.INVALID_CONFIG.code(), refused.responses.get(0).errorCode);
        assertEquals("Invalid value 2 for configuration segment.bytes: Value must be at least 14", refused.responses.get(0).errorMessage);
        assertEquals(Map.of("segment.bytes", "2000000"), topic("legacy").configOverrides());
    }

    @Test
    void overridesSurviveARestart() throws Exception {
        createTopic("durable");
        alter(false, TOPIC, "durable", SET, "retention.bytes", "12345");
        wire.close();
        server.close();
        server = AdminWire.start(dir, "num.partitions", "3");
        wire = new AdminWire(server);
        DescribeConfigsResult r = describe(TOPIC, "durable", 4, false, false, "retention.bytes");
        assertEquals("12345", entry(r, "retention.bytes").value);
        assertEquals(1, entry(r, "retention.bytes").configSource);
        assertEquals(12345, topic("durable").partition(0).log().config().retentionBytes());
    }

    @Test
    void describeClusterShowsThisNodeAsBrokerAndController() throws Exception {
        DescribeClusterResponseData v1 = wire.call(new DescribeClusterRequestData(), 1);
        assertEquals(Errors.NONE.code(), v1.errorCode);
        assertNull(v1.errorMessage);
        assertEquals(server.broker().clusterId(), v1.clusterId);
        assertEquals(1, v1.controllerId);
        assertEquals(1, v1.brokers.size());
        assertEquals(1, v1.brokers.get(0).brokerId);
        assertEquals("127.0.0.1", v1.brokers.get(0).host);
        assertEquals(server.port(), v1.brokers.get(0).port);
        assertNull(v1.brokers.get(0).rack);
        assertEquals(Integer.MIN_VALUE, v1.clusterAuthorizedOperations, "not asked for");

        DescribeClusterRequestData withOps = new DescribeClusterRequestData();
        withOps.includeClusterAuthorizedOperations = true;
        assertEquals(8096, ((DescribeClusterResponseData) wire.call(withOps, 0)).clusterAuthorizedOperations);

        DescribeClusterRequestData controller = new DescribeClusterRequestData();
        controller.endpointType = 2;
        DescribeClusterResponseData mismatch = wire.call(controller, 1);
        assertEquals(Errors.MISMATCHED_ENDPOINT_TYPE.code(), mismatch.errorCode);
        controller.endpointType = 3;
        assertEquals(Errors.UNSUPPORTED_ENDPOINT_TYPE.code(), ((DescribeClusterResponseData) wire.call(controller, 1)).errorCode);
    }
}
