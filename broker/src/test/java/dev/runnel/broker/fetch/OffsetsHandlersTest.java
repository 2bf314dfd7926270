package dev.runnel.broker.fetch;

import static dev.runnel.broker.produce.Requests.produce;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.broker.RunnelServer;
import dev.runnel.broker.produce.TestClient;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.ApiVersionsRequestData;
import dev.runnel.wire.message.ApiVersionsResponseData;
import dev.runnel.wire.message.ListOffsetsRequestData;
import dev.runnel.wire.message.ListOffsetsResponseData;
import dev.runnel.wire.message.OffsetForLeaderEpochRequestData;
import dev.runnel.wire.message.OffsetForLeaderEpochResponseData;
import dev.runnel.wire.records.BatchBuilder;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ListOffsets, OffsetForLeaderEpoch and the advertised version ranges of the data-path APIs. */
class OffsetsHandlersTest {
    @TempDir
    Path dir;
    RunnelServer server;
    TestClient client;

    @BeforeEach
    void start() throws Exception {
        server = TestClient.startBroker(dir);
        server.broker().topics().create("t", 2, Map.of(), false, false);
        client = new TestClient(server.port());
        // partition 0: offsets 0..5 with timestamps 100,200,300 | 400,500,900 | and a late-arriving 50 at offset 6
        produce(new BatchBuilder().append(100, null, new byte[1]).append(200, null, new byte[1]).append(300, null, new byte[1]));
        produce(new BatchBuilder().append(400, null, new byte[1]).append(500, null, new byte[1]).append(900, null, new byte[1]));
        produce(new BatchBuilder().append(50, null, new byte[1]));
    }

    private void produce(BatchBuilder b) throws Exception {
        client.call(dev.runnel.broker.produce.Requests.produce("t", 0, (short) 1, b.build()), (short) 9);
    }

    @AfterEach
    void stop() throws Exception {
        client.close();
        server.close();
    }

    private ListOffsetsResponseData.ListOffsetsPartitionResponse list(short version, int partition, long timestamp) throws Exception {
        return list(version, "t", partition, timestamp, -1);
    }

    private ListOffsetsResponseData.ListOffsetsPartitionResponse list(short version, String topic, int partition, long timestamp,
                                                                       int currentLeaderEpoch) throws Exception {
        ListOffsetsRequestData req = new ListOffsetsRequestData().setReplicaId(-1);
        req.topics.add(new ListOffsetsRequestData.ListOffsetsTopic().setName(topic));
        req.topics.get(0).partitions.add(new ListOffsetsRequestData.ListOffsetsPartition().setPartitionIndex(partition)
                .setTimestamp(timestamp).setMaxNumOffsets(1).setCurrentLeaderEpoch(currentLeaderEpoch));
        ListOffsetsResponseData resp = client.call(req, version);
        assertEquals(1, resp.topics.size());
        assertEquals(1, resp.topics.get(0).partitions.size());
        return resp.topics.get(0).partitions.get(0);
    }

    @Test
    void specialTimestamps() throws Exception {
        ListOffsetsResponseData.ListOffsetsPartitionResponse r = list((short) 9, 0, -1);
        assertEquals(Errors.NONE.code(), r.errorCode);
        assertEquals(7L, r.offset);
        assertEquals(-1L, r.timestamp);
        assertEquals(0, r.leaderEpoch);
        r = list((short) 9, 0, -2);
        assertEquals(0L, r.offset);
        assertEquals(0, r.leaderEpoch);
        assertEquals(0L, list((short) 9, 0, -4).offset);
        r = list((short) 9, 0, -3);
        assertEquals(5L, r.offset);
        assertEquals(900L, r.timestamp);
        r = list((short) 9, 0, -5);
        assertEquals(Errors.NONE.code(), r.errorCode);
        assertEquals(-1L, r.offset);
        // empty partition
        assertEquals(0L, list((short) 9, 1, -1).offset);
        assertEquals(0L, list((short) 9, 1, -2).offset);
        r = list((short) 9, 1, -3);
        assertEquals(Errors.NONE.code(), r.errorCode);
        assertEquals(-1L, r.offset);
        assertEquals(-1L, r.timestamp);
    }

    @Test
    void byTimestamp() throws Exception {
        ListOffsetsResponseData.ListOffsetsPartitionResponse r = list((short) 5, 0, 250);
        assertEquals(Errors.NONE.code(), r.errorCode);
        assertEquals(2L, r.offset);
        assertEquals(300L, r.timestamp);
        assertEquals(0, r.leaderEpoch);
        assertEquals(0L, list((short) 1, 0, 0).offset);
        assertEquals(5L, list((short) 1, 0, 600).offset);
        r = list((short) 1, 0, 1000);
        assertEquals(Errors.NONE.code(), r.errorCode);
        assertEquals(-1L, r.offset);
        assertEquals(-1L, r.timestamp);
    }

    @Test
    void specialTimestampsNeedTheirVersion() throws Exception {
        assertEquals(Errors.UNSUPPORTED_VERSION.code(), list((short) 6, 0, -3).errorCode);
        assertEquals(Errors.UNSUPPORTED_VERSION.code(), list((short) 7, 0, -4).errorCode);
        assertEquals(Errors.UNSUPPORTED_VERSION.code(), list((short) 8, 0, -5).errorCode);
        assertEquals(Errors.UNSUPPORTED_VERSION.code(), list((short) 9, 0, -6).errorCode);
        assertEquals(Errors.NONE.code(), list((short) 7, 0, -3).errorCode);
    }

    @Test
    void errors() throws Exception {
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), list((short) 5, "nope", 0, -1, -1).errorCode);
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), list((short) 5, "t", 9, -1, -1).errorCode);
        assertEquals(Errors.UNKNOWN_LEADER_EPOCH.code(), list((short) 5, "t", 0, -1, 1).errorCode);
        assertEquals(Errors.NONE.code(), list((short) 5, "t", 0, -1, 0).errorCode);

        ListOffsetsRequestData req = new ListOffsetsRequestData().setReplicaId(-1);
        req.topics.add(new ListOffsetsRequestData.ListOffsetsTopic().setName("t"));
        req.topics.get(0).partitions.add(new ListOffsetsRequestData.ListOffsetsPartition().setPartitionIndex(0).setTimestamp(-1));
        req.topics.get(0).partitions.add(new ListOffsetsRequestData.ListOffsetsPartition().setPartitionIndex(1).setTimestamp(-1));
        req.topics.get(0).partitions.add(new ListOffsetsRequestData.ListOffsetsPartition().setPartitionIndex(0).setTimestamp(-2));
        ListOffsetsResponseData resp = client.call(req, (short) 7);
        List<ListOffsetsResponseData.ListOffsetsPartitionResponse> ps = resp.topics.get(0).partitions;
        assertEquals(2, ps.size());
        assertEquals(Errors.INVALID_REQUEST.code(), ps.get(0).errorCode);
        assertEquals(Errors.NONE.code(), ps.get(1).errorCode);
    }

    @Test
    void version0OffsetsArray() throws Exception {
        ListOffsetsResponseData.ListOffsetsPartitionResponse r = list((short) 0, 0, -1);
        assertEquals(Errors.NONE.code(), r.errorCode);
        assertEquals(List.of(7L), r.oldStyleOffsets);
        assertEquals(List.of(0L), list((short) 0, 0, -2).oldStyleOffsets);
        assertEquals(Errors.UNSUPPORTED_VERSION.code(), list((short) 0, 0, -3).errorCode);
    }

    @Test
    void offsetForLeaderEpoch() throws Exception {
        for (short v = 0; v <= 4; v++) {
            OffsetForLeaderEpochRequestData req = new OffsetForLeaderEpochRequestData().setReplicaId(-1);
            req.topics.add(new OffsetForLeaderEpochRequestData.OffsetForLeaderTopic().setTopic("t"));
            List<OffsetForLeaderEpochRequestData.OffsetForLeaderPartition> ps = req.topics.get(0).partitions;
            ps.add(new OffsetForLeaderEpochRequestData.OffsetForLeaderPartition().setPartition(0).setLeaderEpoch(0).setCurrentLeaderEpoch(-1));
            ps.add(new OffsetForLeaderEpochRequestData.OffsetForLeaderPartition().setPartition(1).setLeaderEpoch(0).setCurrentLeaderEpoch(0));
            ps.add(new OffsetForLeaderEpochRequestData.OffsetForLeaderPartition().setPartition(0).setLeaderEpoch(3).setCurrentLeaderEpoch(-1));
            ps.add(new OffsetForLeaderEpochRequestData.OffsetForLeaderPartition().setPartition(0).setLeaderEpoch(0).setCurrentLeaderEpoch(2));
            ps.add(new OffsetForLeaderEpochRequestData.OffsetForLeaderPartition().setPartition(5).setLeaderEpoch(0).setCurrentLeaderEpoch(-1));
            req.topics.add(new OffsetForLeaderEpochRequestData.OffsetForLeaderTopic().setTopic("nope"));
            req.topics.get(1).partitions.add(new OffsetForLeaderEpochRequestData.OffsetForLeaderPartition().setPartition(0).setLeaderEpoch(0));
            OffsetForLeaderEpochResponseData resp = client.call(req, v);
            List<OffsetForLeaderEpochResponseData.EpochEndOffset> rs = resp.topics.get(0).partitions;
            assertEquals(Errors.NONE.code(), rs.get(0).errorCode, "v" + v);
            assertEquals(7L, rs.get(0).endOffset);
            assertEquals(0L, rs.get(1).endOffset, "an empty partition's epoch 0 ends at its (empty) end");
            if (v >= 1) {
                assertEquals(0, rs.get(0).leaderEpoch);
                assertEquals(-1, rs.get(2).leaderEpoch);
            }
            assertEquals(Errors.NONE.code(), rs.get(2).errorCode);
            assertEquals(-1L, rs.get(2).endOffset);
            if (v >= 2) {
                assertEquals(Errors.UNKNOWN_LEADER_EPOCH.code(), rs.get(3).errorCode);
            }
            assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), rs.get(4).errorCode);
            assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), resp.topics.get(1).partitions.get(0).errorCode);
        }
    }

    @Test
    void advertisedVersionRanges() throws Exception {
        ApiVersionsResponseData resp = client.call(new ApiVersionsRequestData(), (short) 0);
        Map<Short, short[]> ranges = new HashMap<>();
        for (ApiVersionsResponseData.ApiVersion v : resp.apiKeys) {
            ranges.put(v.apiKey, new short[] {v.minVersion, v.maxVersion});
        }
        assertRange(ranges, 0, 0, 13);
        assertRange(ranges, 1, 0, 18);
        assertRange(ranges, 2, 0, 11);
        assertRange(ranges, 22, 0, 5);
        assertRange(ranges, 23, 0, 4);
    }

    private static void assertRange(Map<Short, short[]> ranges, int api, int min, int max) {
        short[] r = ranges.get((short) api);
        assertTrue(r != null, "api " + api + " is not advertised");
        assertEquals(min, r[0], "min version of api " + api);
        assertEquals(max, r[1], "max version of api " + api);
    }
}
