package dev.runnel.broker.produce;

import static dev.runnel.broker.produce.Requests.batch;
import static dev.runnel.broker.produce.Requests.produce;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.broker.RunnelServer;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.InitProducerIdRequestData;
import dev.runnel.wire.message.InitProducerIdResponseData;
import dev.runnel.wire.message.ListOffsetsRequestData;
import dev.runnel.wire.message.ListOffsetsResponseData;
import dev.runnel.wire.message.ProduceRequestData;
import dev.runnel.wire.message.ProduceResponseData;
import dev.runnel.wire.records.BatchBuilder;
import dev.runnel.wire.records.Compression;
import dev.runnel.wire.records.LegacyMessageSetBuilder;
import dev.runnel.wire.records.RecordBatch;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProduceHandlerTest {
    @TempDir
    Path dir;
    RunnelServer server;
    TestClient client;

    @BeforeEach
    void start() throws Exception {
        server = TestClient.startBroker(dir);
        server.broker().topics().create("t", 2, Map.of(), false, false);
        client = new TestClient(server.port());
    }

    @AfterEach
    void stop() throws Exception {
        client.close();
        server.close();
    }

    private ProduceResponseData.PartitionProduceResponse produceOne(short version, ProduceRequestData req) throws Exception {
        ProduceResponseData resp = client.call(req, version);
        assertEquals(1, resp.responses.size());
        assertEquals(1, resp.responses.get(0).partitionResponses.size());
        return resp.responses.get(0).partitionResponses.get(0);
    }

    @Test
    void appendsAndReturnsOffsets() throws Exception {
        for (short v : new short[] {3, 7, 9, 11}) {
            long before = latest("t", 1);
            ProduceResponseData.PartitionProduceResponse r = produceOne(v, produce("t", 1, (short) -1, batch(3, 1000)));
            assertEquals(Errors.NONE.code(), r.errorCode, "v" + v);
            assertEquals(before, r.baseOffset, "v" + v);
            assertEquals(-1L, r.logAppendTimeMs);
            if (v >= 5) {
                assertEquals(0L, r.logStartOffset);
            }
            assertEquals(before + 3, latest("t", 1));
        }
        assertEquals(0L, latest("t", 0));
    }

    @Test
    void logAppendTimeTopicsReportTheBrokerTime() throws Exception {
        server.broker().topics().create("lat", 1, Map.of("message.timestamp.type", "LogAppendTime"), false, false);
        long t0 = System.currentTimeMillis();
        ProduceResponseData.PartitionProduceResponse r = produceOne((short) 9, produce("lat", 0, (short) 1, batch(2, 5)));
        assertEquals(Errors.NONE.code(), r.errorCode);
        assertTrue(r.logAppendTimeMs >= t0, "log append time " + r.logAppendTimeMs);
    }

    @Test
    void unknownTopicOrPartition() throws Exception {
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), produceOne((short) 9, produce("nope", 0, (short) 1, batch(1, 1))).errorCode);
        ProduceResponseData.PartitionProduceResponse r = produceOne((short) 9, produce("t", 2, (short) 1, batch(1, 1)));
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), r.errorCode);
        assertEquals(-1L, r.baseOffset);
        assertNull(server.broker().topics().get("nope"), "produce must not auto-create topics");
    }

    @Test
    void invalidRequiredAcks() throws Exception {
        assertEquals(Errors.INVALID_REQUIRED_ACKS.code(), produceOne((short) 9, produce("t", 0, (short) 2, batch(1, 1))).errorCode);
        assertEquals(0L, latest("t", 0));
    }

    @Test
    void acksZeroSendsNoResponse() throws Exception {
        client.send(produce("t", 0, (short) 0, batch(2, 1)), (short) 9);
        // the next response on the connection answers the next request: nothing was sent for acks=0
        assertEquals(2L, latest("t", 0));
    }

    @Test
    void acksZeroWithAnErrorClosesTheConnection() throws Exception {
        client.send(produce("nope", 0, (short) 0, batch(1, 1)), (short) 9);
        assertTrue(client.closedByBroker(10_000));
    }

    @Test
    void corruptBatchIsRejectedWithAMessage() throws Exception {
        ByteBuffer b = batch(2, 1);
        b.put(b.limit() - 1, (byte) (b.get(b.limit() - 1) ^ 1));
        ProduceResponseData.PartitionProduceResponse r = produceOne((short) 9, produce("t", 0, (short) 1, b));
        assertEquals(Errors.CORRUPT_MESSAGE.code(), r.errorCode);
        assertNotNull(r.errorMessage);
        assertEquals(-1L, r.baseOffset);
        assertEquals(0L, latest("t", 0));
    }

    @Test
    void oldTimestampDifferenceConfigBoundsLegacyTimestamps() throws Exception {
        server.broker().topics().create("diff", 1, Map.of("message.timestamp.difference.max.ms", "3600000"), false, false);
        long now = System.currentTimeMillis();
        ByteBuffer old = new LegacyMessageSetBuilder((byte) 1, Compression.NONE)
                .append(0, now - 2 * 3_600_000L, null, "old".getBytes(StandardCharsets.UTF_8)).build();
        ProduceResponseData.PartitionProduceResponse r = produceOne((short) 2, produce("diff", 0, (short) 1, old));
        assertEquals(Errors.INVALID_TIMESTAMP.code(), r.errorCode);
        ByteBuffer fresh = new LegacyMessageSetBuilder((byte) 1, Compression.NONE)
                .append(0, now, null, "fresh".getBytes(StandardCharsets.UTF_8)).build();
        assertEquals(Errors.NONE.code(), produceOne((short) 2, produce("diff", 0, (short) 1, fresh)).errorCode);
        // an explicit before.max.ms wins over the deprecated difference, as in Kafka 3.6+
        server.broker().topics().create("before", 1, Map.of("message.timestamp.difference.max.ms", "3600000",
                "message.timestamp.before.max.ms", String.valueOf(3 * 3_600_000L)), false, false);
        assertEquals(Errors.NONE.code(), produceOne((short) 2, produce("before", 0, (short) 1, old.duplicate().rewind())).errorCode);
        assertEquals(1L, latest("diff", 0));
    }

    @Test
    void legacyMessageFormatIsConvertedInV0To2AndRefusedInV3Up() throws Exception {
        ByteBuffer magic0 = new LegacyMessageSetBuilder((byte) 0, Compression.NONE)
                .append(0, -1, null, "a".getBytes(StandardCharsets.UTF_8))
                .append(1, -1, null, "b".getBytes(StandardCharsets.UTF_8)).build();
        ProduceResponseData.PartitionProduceResponse r = produceOne((short) 0, produce("t", 0, (short) 1, magic0));
        assertEquals(Errors.NONE.code(), r.errorCode);
        assertEquals(0L, r.baseOffset);
        ByteBuffer magic1 = new LegacyMessageSetBuilder((byte) 1, Compression.GZIP)
                .append(0, System.currentTimeMillis(), null, "c".getBytes(StandardCharsets.UTF_8)).build();
        r = produceOne((short) 2, produce("t", 0, (short) 1, magic1.duplicate()));
        assertEquals(Errors.NONE.code(), r.errorCode);
        assertEquals(2L, r.baseOffset);
        assertEquals(3L, latest("t", 0));
        // v3+ must carry magic 2 (Kafka's ProduceRequest.validateRecords)
        assertEquals(Errors.INVALID_RECORD.code(), produceOne((short) 3, produce("t", 0, (short) 1, magic1)).errorCode);
        // a v2 batch whose magic byte says 1 is read as a legacy message and fails its CRC
        ByteBuffer b = batch(1, 1);
        b.put(RecordBatch.MAGIC_OFFSET, (byte) 1);
        assertEquals(Errors.CORRUPT_MESSAGE.code(), produceOne((short) 2, produce("t", 0, (short) 1, b)).errorCode);
        b.put(RecordBatch.MAGIC_OFFSET, (byte) 7);
        assertEquals(Errors.CORRUPT_MESSAGE.code(), produceOne((short) 9, produce("t", 0, (short) 1, b)).errorCode);
        assertEquals(3L, latest("t", 0));
    }

    @Test
    void emptyOrTruncatedRecordsAreInvalid() throws Exception {
        assertEquals(Errors.INVALID_RECORD.code(), produceOne((short) 9, produce("t", 0, (short) 1, ByteBuffer.allocate(0))).errorCode);
        ByteBuffer b = batch(2, 1);
        b.limit(b.limit() - 3);
        assertEquals(Errors.INVALID_RECORD.code(), produceOne((short) 9, produce("t", 0, (short) 1, b.slice())).errorCode);
    }

    @Test
    void zstdNeedsV7() throws Exception {
        ByteBuffer b = new BatchBuilder().compression(Compression.ZSTD).append(1, null, "x".getBytes(StandardCharsets.UTF_8)).build();
        assertEquals(Errors.UNSUPPORTED_COMPRESSION_TYPE.code(), produceOne((short) 6, produce("t", 0, (short) 1, b.duplicate())).errorCode);
        assertEquals(Errors.NONE.code(), produceOne((short) 7, produce("t", 0, (short) 1, b.duplicate())).errorCode);
    }

    @Test
    void batchLargerThanMaxMessageBytes() throws Exception {
        server.broker().topics().create("small", 1, Map.of("max.message.bytes", "100"), false, false);
        ProduceResponseData.PartitionProduceResponse r = produceOne((short) 9, produce("small", 0, (short) 1, batch(10, 1)));
        assertEquals(Errors.MESSAGE_TOO_LARGE.code(), r.errorCode);
        assertNotNull(r.errorMessage);
    }

    @Test
    void minInsyncReplicasIsCappedAtTheReplicationFactor() throws Exception {
        // Kafka 4.x: min.insync.replicas above the replication factor (1 here) does not block acks=all.
        server.broker().topics().create("strict", 1, Map.of("min.insync.replicas", "2"), false, false);
        ProduceResponseData.PartitionProduceResponse r = produceOne((short) 9, produce("strict", 0, (short) -1, batch(1, 1)));
        assertEquals(Errors.NONE.code(), r.errorCode);
        assertEquals(0L, r.baseOffset);
    }

    @Test
    void internalTopicsOnlyForTheAdminClient() throws Exception {
        server.broker().topics().create("__internal_test", 1, Map.of(), true, false);
        assertEquals(Errors.INVALID_TOPIC_EXCEPTION.code(),
                produceOne((short) 9, produce("__internal_test", 0, (short) 1, batch(1, 1))).errorCode);
        try (TestClient admin = new TestClient(server.port(), "__admin_client")) {
            ProduceResponseData resp = admin.call(produce("__internal_test", 0, (short) 1, batch(1, 1)), (short) 9);
            assertEquals(Errors.NONE.code(), resp.responses.get(0).partitionResponses.get(0).errorCode);
        }
    }

    @Test
    void transactionalRecordsWithoutTransactionalId() throws Exception {
        ByteBuffer b = new BatchBuilder().producer(5, (short) 0, 0).transactional(true).append(1, null, new byte[1]).build();
        assertEquals(Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code(), produceOne((short) 9, produce("t", 0, (short) 1, b)).errorCode);
        assertEquals(0L, latest("t", 0));
        // with an id the coordinator does not know, its verification (KIP-890 part 1, Kafka's default) refuses it
        ProduceRequestData withId = produce("t", 0, (short) 1, b).setTransactionalId("tx");
        assertEquals(Errors.INVALID_PRODUCER_ID_MAPPING.code(), produceOne((short) 9, withId).errorCode);
        assertEquals(0L, latest("t", 0));
    }

    @Test
    void idempotentProducer() throws Exception {
        InitProducerIdResponseData init = client.call(new InitProducerIdRequestData().setTransactionalId(null)
                .setTransactionTimeoutMs(60_000).setProducerId(-1).setProducerEpoch((short) -1), (short) 4);
        assertEquals(Errors.NONE.code(), init.errorCode);
        assertEquals(0, init.producerEpoch);
        long pid = init.producerId;
        ByteBuffer first = new BatchBuilder().producer(pid, (short) 0, 0).append(1, null, new byte[1]).append(2, null, new byte[1]).build();
        ProduceResponseData.PartitionProduceResponse r = produceOne((short) 9, produce("t", 0, (short) -1, first.duplicate()));
        assertEquals(Errors.NONE.code(), r.errorCode);
        assertEquals(0L, r.baseOffset);
        produceOne((short) 9, produce("t", 0, (short) -1, batch(1, 1)));

        // a retry of the same batch: success with the original offset, nothing appended
        ByteBuffer retry = new BatchBuilder().producer(pid, (short) 0, 0).append(1, null, new byte[1]).append(2, null, new byte[1]).build();
        r = produceOne((short) 9, produce("t", 0, (short) -1, retry));
        assertEquals(Errors.NONE.code(), r.errorCode);
        assertEquals(0L, r.baseOffset);
        assertEquals(3L, latest("t", 0));

        ByteBuffer gap = new BatchBuilder().producer(pid, (short) 0, 5).append(1, null, new byte[1]).build();
        r = produceOne((short) 9, produce("t", 0, (short) -1, gap));
        assertEquals(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER.code(), r.errorCode);
        assertNotNull(r.errorMessage);

        ByteBuffer next = new BatchBuilder().producer(pid, (short) 1, 0).append(1, null, new byte[1]).build();
        assertEquals(Errors.NONE.code(), produceOne((short) 9, produce("t", 0, (short) -1, next)).errorCode);
        ByteBuffer fenced = new BatchBuilder().producer(pid, (short) 0, 2).append(1, null, new byte[1]).build();
        assertEquals(Errors.INVALID_PRODUCER_EPOCH.code(), produceOne((short) 9, produce("t", 0, (short) -1, fenced)).errorCode);
        assertEquals(4L, latest("t", 0));
    }

    @Test
    void severalTopicsAndPartitionsInOneRequest() throws Exception {
        server.broker().topics().create("u", 1, Map.of(), false, false);
        ProduceRequestData req = produce("t", 0, (short) 1, batch(1, 1));
        req.topicData.get(0).partitionData.add(new ProduceRequestData.PartitionProduceData().setIndex(1).setRecords(Requests.records(batch(2, 1))));
        req.topicData.add(new ProduceRequestData.TopicProduceData().setName("u"));
        req.topicData.get(1).partitionData.add(new ProduceRequestData.PartitionProduceData().setIndex(0).setRecords(Requests.records(batch(3, 1))));
        req.topicData.add(new ProduceRequestData.TopicProduceData().setName("missing"));
        req.topicData.get(2).partitionData.add(new ProduceRequestData.PartitionProduceData().setIndex(0).setRecords(Requests.records(batch(1, 1))));
        ProduceResponseData resp = client.call(req, (short) 11);
        assertEquals(3, resp.responses.size());
        assertEquals("t", resp.responses.get(0).name);
        assertEquals(2, resp.responses.get(0).partitionResponses.size());
        assertEquals(1, resp.responses.get(0).partitionResponses.get(1).index);
        assertEquals(Errors.NONE.code(), resp.responses.get(1).partitionResponses.get(0).errorCode);
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), resp.responses.get(2).partitionResponses.get(0).errorCode);
        assertEquals(1L, latest("t", 0));
        assertEquals(2L, latest("t", 1));
        assertEquals(3L, latest("u", 0));
    }

    @Test
    void transactionalInitProducerIdBumpsTheEpochOfItsTransactionalId() throws Exception {
        InitProducerIdResponseData first = client.call(new InitProducerIdRequestData().setTransactionalId("tx")
                .setTransactionTimeoutMs(60_000).setProducerId(-1).setProducerEpoch((short) -1), (short) 4);
        assertEquals(Errors.NONE.code(), first.errorCode);
        assertEquals(0, first.producerEpoch);
        InitProducerIdResponseData second = client.call(new InitProducerIdRequestData().setTransactionalId("tx")
                .setTransactionTimeoutMs(60_000).setProducerId(-1).setProducerEpoch((short) -1), (short) 4);
        assertEquals(first.producerId, second.producerId);
        assertEquals(1, second.producerEpoch);
        InitProducerIdResponseData tooLong = client.call(new InitProducerIdRequestData().setTransactionalId("tx")
                .setTransactionTimeoutMs(900_001).setProducerId(-1).setProducerEpoch((short) -1), (short) 4);
        assertEquals(Errors.INVALID_TRANSACTION_TIMEOUT.code(), tooLong.errorCode);
        // v3 does not know PRODUCER_FENCED: a stale KIP-360 bump is reported as INVALID_PRODUCER_EPOCH
        InitProducerIdResponseData stale = client.call(new InitProducerIdRequestData().setTransactionalId("tx")
                .setTransactionTimeoutMs(60_000).setProducerId(first.producerId).setProducerEpoch((short) 7), (short) 3);
        assertEquals(Errors.INVALID_PRODUCER_EPOCH.code(), stale.errorCode);
        InitProducerIdResponseData half = client.call(new InitProducerIdRequestData().setTransactionalId(null)
                .setProducerId(7).setProducerEpoch((short) -1), (short) 3);
        assertEquals(Errors.INVALID_REQUEST.code(), half.errorCode);
    }

    @Test
    void producerIdsAreFreshAcrossRestarts() throws Exception {
        long a = initPid(client, (short) 0);
        long b = initPid(client, (short) 5);
        assertFalse(a == b);
        client.close();
        server.close();
        server = TestClient.startBroker(dir);
        client = new TestClient(server.port());
        long c = initPid(client, (short) 2);
        assertTrue(c > b, "after a restart " + c + " must not reuse ids up to " + b);
    }

    private static long initPid(TestClient c, short version) throws Exception {
        InitProducerIdResponseData r = c.call(new InitProducerIdRequestData().setTransactionalId(null)
                .setTransactionTimeoutMs(1000).setProducerId(-1).setProducerEpoch((short) -1), version);
        assertEquals(Errors.NONE.code(), r.errorCode);
        return r.producerId;
    }

    private long latest(String topic, int partition) throws Exception {
        ListOffsetsRequestData req = new ListOffsetsRequestData().setReplicaId(-1);
        req.topics.add(new ListOffsetsRequestData.ListOffsetsTopic().setName(topic));
        req.topics.get(0).partitions.add(new ListOffsetsRequestData.ListOffsetsPartition().setPartitionIndex(partition).setTimestamp(-1));
        ListOffsetsResponseData resp = client.call(req, (short) 5);
        ListOffsetsResponseData.ListOffsetsPartitionResponse p = resp.topics.get(0).partitions.get(0);
        assertEquals(Errors.NONE.code(), p.errorCode);
        return p.offset;
    }
}
