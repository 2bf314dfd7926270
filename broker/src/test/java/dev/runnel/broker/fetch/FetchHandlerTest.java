package dev.runnel.broker.fetch;

import static dev.runnel.broker.produce.Requests.addPartition;
import static dev.runnel.broker.produce.Requests.batch;
import static dev.runnel.broker.produce.Requests.fetch;
import static dev.runnel.broker.produce.Requests.produce;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.broker.RunnelServer;
import dev.runnel.broker.produce.Requests;
import dev.runnel.broker.produce.TestClient;
import dev.runnel.broker.state.Partition;
import dev.runnel.broker.state.Topic;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.FetchRequestData;
import dev.runnel.wire.message.FetchResponseData;
import dev.runnel.wire.message.MetadataRequestData;
import dev.runnel.wire.message.MetadataResponseData;
import dev.runnel.wire.message.ProduceResponseData;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FetchHandlerTest {
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

    private void produceBatches(String topic, int partition, int batches, int recordsPerBatch) throws Exception {
        for (int i = 0; i < batches; i++) {
            ProduceResponseData r = client.call(produce(topic, partition, (short) 1, batch(recordsPerBatch, 1000 + i)), (short) 9);
            assertEquals(Errors.NONE.code(), r.responses.get(0).partitionResponses.get(0).errorCode);
        }
    }

    private static FetchResponseData.PartitionData only(FetchResponseData resp) {
        assertEquals(1, resp.responses.size());
        assertEquals(1, resp.responses.get(0).partitions.size());
        return resp.responses.get(0).partitions.get(0);
    }

    @Test
    void fetchesWhatWasProduced() throws Exception {
        produceBatches("t", 0, 3, 2);
        for (short v : new short[] {4, 7, 11, 12}) {
            FetchResponseData resp = client.call(addPartition(fetch(0, 1, 1 << 20), "t", 0, 0, 1 << 20), v);
            assertEquals(Errors.NONE.code(), resp.errorCode);
            assertEquals(0, resp.sessionId);
            FetchResponseData.PartitionData p = only(resp);
            assertEquals(Errors.NONE.code(), p.errorCode, "v" + v);
            assertEquals(6L, p.highWatermark);
            assertEquals(6L, p.lastStableOffset);
            if (v >= 5) {
                assertEquals(0L, p.logStartOffset);
            }
            assertNull(p.abortedTransactions);
            assertEquals(-1, p.preferredReadReplica);
            assertEquals(List.of(0L, 2L, 4L), Requests.baseOffsets(p.records));
            assertEquals(List.of("v0", "v1", "v0", "v1", "v0", "v1"), Requests.values(p.records));
        }
        // from the middle of a batch: the whole batch comes back (the client skips what it did not ask for)
        FetchResponseData.PartitionData p = only(client.call(addPartition(fetch(0, 1, 1 << 20), "t", 0, 3, 1 << 20), (short) 12));
        assertEquals(List.of(2L, 4L), Requests.baseOffsets(p.records));
        // at the end: nothing, no error
        p = only(client.call(addPartition(fetch(0, 1, 1 << 20), "t", 0, 6, 1 << 20), (short) 12));
        assertEquals(Errors.NONE.code(), p.errorCode);
        assertEquals(0, p.records.sizeInBytes());
    }

    @Test
    void readCommittedGetsAnEmptyAbortedList() throws Exception {
        produceBatches("t", 0, 1, 1);
        FetchRequestData req = addPartition(fetch(0, 1, 1 << 20), "t", 0, 0, 1 << 20).setIsolationLevel((byte) 1);
        FetchResponseData.PartitionData p = only(client.call(req, (short) 12));
        assertEquals(0, p.abortedTransactions.size());
        assertEquals(1L, p.lastStableOffset);
    }

    @Test
    void readCommittedStopsAtTheLastStableOffsetAndListsTheAbortedTransactionsOfTheRange() throws Exception {
        dev.runnel.broker.state.Partition part = server.broker().topics().partition("t", 0);
        java.util.function.BiFunction<Long, String, Long> txData = (pid, value) -> {
            dev.runnel.log.AppendResult r = part.appendAsLeader(new dev.runnel.wire.records.BatchBuilder()
                    .producer(pid, (short) 0, value.endsWith("1") ? 1 : 0).transactional(true).append(1000L, "k", value).build());
            assertEquals(Errors.NONE.code(), (short) r.errorCode(), String.valueOf(r));
            return r.firstOffset();
        };
        java.util.function.BiFunction<Long, Boolean, Long> marker = (pid, commit) -> {
            dev.runnel.log.AppendResult r = part.appendAsLeader(dev.runnel.log.EndTxnMarker.batch(pid, (short) 0, 0, commit, 1000L),
                    dev.runnel.log.AppendOrigin.COORDINATOR);
            assertEquals(Errors.NONE.code(), (short) r.errorCode(), String.valueOf(r));
            return r.firstOffset();
        };
        txData.apply(1L, "a0");          // 0
        txData.apply(2L, "b0");          // 1 (aborted below)
        txData.apply(1L, "a1");          // 2
        marker.apply(1L, true);          // 3
        marker.apply(2L, false);         // 4
        long open = txData.apply(3L, "c0"); // 5, left open
        produceBatches("t", 0, 1, 1);    // 6

        FetchRequestData committed = addPartition(fetch(0, 1, 1 << 20), "t", 0, 0, 1 << 20).setIsolationLevel((byte) 1);
        FetchResponseData.PartitionData p = only(client.call(committed, (short) 12));
        assertEquals(7L, p.highWatermark);
        assertEquals(open, p.lastStableOffset);
        assertEquals(List.of(0L, 1L, 2L, 3L, 4L), Requests.baseOffsets(p.records), "whole batches below the LSO, markers included");
        assertEquals(1, p.abortedTransactions.size());
        assertEquals(2L, p.abortedTransactions.get(0).producerId);
        assertEquals(1L, p.abortedTransactions.get(0).firstOffset);

        // past the aborted transaction's marker: no entry
        p = only(client.call(addPartition(fetch(0, 1, 1 << 20), "t", 0, 5, 1 << 20).setIsolationLevel((byte) 1), (short) 12));
        assertEquals(0, p.records.sizeInBytes());
        assertEquals(0, p.abortedTransactions.size());

        // read_uncommitted: everything to the high watermark, the real LSO, no list
        p = only(client.call(addPartition(fetch(0, 1, 1 << 20), "t", 0, 0, 1 << 20), (short) 12));
        assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L, 6L), Requests.baseOffsets(p.records));
        assertEquals(open, p.lastStableOffset);
        assertNull(p.abortedTransactions);
    }

    @Test
    void offsetOutOfRange() throws Exception {
        produceBatches("t", 0, 1, 2);
        FetchResponseData.PartitionData p = only(client.call(addPartition(fetch(500, 1, 1 << 20), "t", 0, 3, 1 << 20), (short) 12));
        assertEquals(Errors.OFFSET_OUT_OF_RANGE.code(), p.errorCode);
        assertEquals(-1L, p.highWatermark);
        assertEquals(-1L, p.logStartOffset);
        assertEquals(0, p.records.sizeInBytes());
        p = only(client.call(addPartition(fetch(0, 1, 1 << 20), "t", 0, -1, 1 << 20), (short) 12));
        assertEquals(Errors.OFFSET_OUT_OF_RANGE.code(), p.errorCode);
    }

    @Test
    void unknownTopicsAndPartitionsAnswerEveryRequestedPartition() throws Exception {
        FetchRequestData req = fetch(500, 1, 1 << 20);
        addPartition(req, "nope", 0, 0, 1024);
        addPartition(req, "t", 7, 0, 1024);
        addPartition(req, "t", 1, 0, 1024);
        FetchResponseData resp = client.call(req, (short) 12);
        assertEquals(2, resp.responses.size());
        assertEquals("nope", resp.responses.get(0).topic);
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), resp.responses.get(0).partitions.get(0).errorCode);
        assertEquals(7, resp.responses.get(1).partitions.get(0).partitionIndex);
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), resp.responses.get(1).partitions.get(0).errorCode);
        assertEquals(Errors.NONE.code(), resp.responses.get(1).partitions.get(1).errorCode);
    }

    @Test
    void topicIdsFromV13() throws Exception {
        produceBatches("t", 1, 1, 3);
        UUID id = topicId("t");
        FetchRequestData req = fetch(0, 1, 1 << 20);
        req.topics.add(new FetchRequestData.FetchTopic().setTopicId(id));
        req.topics.get(0).partitions.add(new FetchRequestData.FetchPartition().setPartition(1).setFetchOffset(0)
                .setPartitionMaxBytes(1 << 20));
        UUID unknown = UUID.randomUUID();
        req.topics.add(new FetchRequestData.FetchTopic().setTopicId(unknown));
        req.topics.get(1).partitions.add(new FetchRequestData.FetchPartition().setPartition(0).setFetchOffset(0)
                .setPartitionMaxBytes(1 << 20));
        for (short v : new short[] {13, 15, 16, 17}) {
            FetchResponseData resp = client.call(req, v);
            assertEquals(2, resp.responses.size());
            assertEquals(id, resp.responses.get(0).topicId);
            FetchResponseData.PartitionData p = resp.responses.get(0).partitions.get(0);
            assertEquals(Errors.NONE.code(), p.errorCode);
            assertEquals(List.of("v0", "v1", "v2"), Requests.values(p.records));
            assertEquals(unknown, resp.responses.get(1).topicId);
            assertEquals(Errors.UNKNOWN_TOPIC_ID.code(), resp.responses.get(1).partitions.get(0).errorCode);
        }
    }

    @Test
    void partitionMaxBytesStillGivesTheFirstBatch() throws Exception {
        produceBatches("t", 0, 3, 10);
        produceBatches("t", 1, 3, 10);
        // both partitions allow fewer bytes than one batch: the first partition with data gets its first batch,
        // the next one nothing (Kafka's minOneMessage rule)
        FetchRequestData req = addPartition(addPartition(fetch(0, 1, 1 << 20), "t", 0, 0, 10), "t", 1, 0, 10);
        FetchResponseData resp = client.call(req, (short) 12);
        List<FetchResponseData.PartitionData> ps = resp.responses.get(0).partitions;
        assertEquals(List.of(0L), Requests.baseOffsets(ps.get(0).records));
        assertEquals(0, ps.get(1).records.sizeInBytes());
        assertEquals(30L, ps.get(1).highWatermark);
    }

    @Test
    void responseMaxBytesIsShared() throws Exception {
        produceBatches("t", 0, 3, 10);
        produceBatches("t", 1, 3, 10);
        int batchSize = Requests.bytes(only(client.call(addPartition(fetch(0, 1, 1 << 20), "t", 0, 0, 1), (short) 12)).records).remaining();
        // room for two batches in the whole response: both from partition 0, none from partition 1
        FetchRequestData req = addPartition(addPartition(fetch(0, 1, 2 * batchSize + 5), "t", 0, 0, 1 << 20), "t", 1, 0, 1 << 20);
        List<FetchResponseData.PartitionData> ps = ((FetchResponseData) client.call(req, (short) 12)).responses.get(0).partitions;
        assertEquals(List.of(0L, 10L), Requests.baseOffsets(ps.get(0).records));
        assertEquals(0, ps.get(1).records.sizeInBytes());
        // an empty first partition does not use up the "at least one batch" allowance
        req = addPartition(addPartition(fetch(0, 1, 5), "t", 0, 30, 1 << 20), "t", 1, 0, 1 << 20);
        ps = ((FetchResponseData) client.call(req, (short) 12)).responses.get(0).partitions;
        assertEquals(0, ps.get(0).records.sizeInBytes());
        assertEquals(List.of(0L), Requests.baseOffsets(ps.get(1).records));
    }

    @Test
    void longPollTimesOutAfterMaxWait() throws Exception {
        produceBatches("t", 0, 1, 1);
        long t0 = System.nanoTime();
        FetchResponseData resp = client.call(addPartition(fetch(500, 1, 1 << 20), "t", 0, 1, 1 << 20), (short) 12);
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertTrue(ms >= 450, "answered after " + ms + " ms, before max_wait");
        assertTrue(ms < 5_000, "answered after " + ms + " ms");
        FetchResponseData.PartitionData p = only(resp);
        assertEquals(Errors.NONE.code(), p.errorCode);
        assertEquals(0, p.records.sizeInBytes());
        assertEquals(1L, p.highWatermark);
        assertEquals(0, partition("t", 0).listenerCount());
    }

    @Test
    void longPollIsWokenByAProduce() throws Exception {
        long t0 = System.nanoTime();
        int cid = client.send(addPartition(addPartition(fetch(20_000, 1, 1 << 20), "t", 0, 0, 1 << 20), "t", 1, 0, 1 << 20), (short) 12);
        awaitListeners(partition("t", 1), 1);
        try (TestClient producer = new TestClient(server.port())) {
            ProduceResponseData r = producer.call(produce("t", 1, (short) -1, batch(2, 1)), (short) 9);
            assertEquals(Errors.NONE.code(), r.responses.get(0).partitionResponses.get(0).errorCode);
        }
        FetchResponseData resp = client.receive(cid, ApiKeys.FETCH, (short) 12);
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertTrue(ms < 10_000, "answered after " + ms + " ms: the append did not wake the fetch");
        List<FetchResponseData.PartitionData> ps = resp.responses.get(0).partitions;
        assertEquals(0, ps.get(0).records.sizeInBytes());
        assertEquals(List.of("v0", "v1"), Requests.values(ps.get(1).records));
        assertEquals(2L, ps.get(1).highWatermark);
        assertEquals(0, partition("t", 0).listenerCount());
        assertEquals(0, partition("t", 1).listenerCount());
    }

    @Test
    void longPollWaitsForMinBytes() throws Exception {
        ByteBuffer one = batch(1, 1);
        int cid = client.send(addPartition(fetch(20_000, 2 * one.remaining(), 1 << 20), "t", 0, 0, 1 << 20), (short) 12);
        Partition p = partition("t", 0);
        awaitListeners(p, 1);
        try (TestClient producer = new TestClient(server.port())) {
            producer.call(produce("t", 0, (short) 1, batch(1, 1)), (short) 9);
            // the produce was answered after the wake-up ran: one batch is not min_bytes, so the fetch still waits
            assertEquals(1, p.listenerCount());
            producer.call(produce("t", 0, (short) 1, batch(1, 2)), (short) 9);
        }
        FetchResponseData resp = client.receive(cid, ApiKeys.FETCH, (short) 12);
        assertEquals(List.of(0L, 1L), Requests.baseOffsets(only(resp).records));
    }

    @Test
    void longPollEndsWhenTheTopicIsDeleted() throws Exception {
        int cid = client.send(addPartition(fetch(20_000, 1, 1 << 20), "t", 0, 0, 1 << 20), (short) 12);
        awaitListeners(partition("t", 0), 1);
        server.broker().topics().delete("t");
        FetchResponseData resp = client.receive(cid, ApiKeys.FETCH, (short) 12);
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), only(resp).errorCode);
    }

    @Test
    void parkedFetchKeepsResponsesInOrder() throws Exception {
        int fetchCid = client.send(addPartition(fetch(20_000, 1, 1 << 20), "t", 0, 0, 1 << 20), (short) 12);
        int metaCid = client.send(new MetadataRequestData().setTopics(null), (short) 12);
        awaitListeners(partition("t", 0), 1);
        try (TestClient producer = new TestClient(server.port())) {
            producer.call(produce("t", 0, (short) 1, batch(1, 1)), (short) 9);
        }
        FetchResponseData f = client.receive(fetchCid, ApiKeys.FETCH, (short) 12);
        assertEquals(List.of(0L), Requests.baseOffsets(only(f).records));
        MetadataResponseData m = client.receive(metaCid, ApiKeys.METADATA, (short) 12);
        assertEquals(1, m.topics.size());
    }

    @Test
    void aFetchBehindAParkedFetchAnswersItAtOnce() throws Exception {
        // what a Java consumer's close does: its final fetch goes out while the long poll is parked
        long t0 = System.nanoTime();
        int parkedCid = client.send(addPartition(fetch(20_000, 1, 1 << 20), "t", 0, 0, 1 << 20), (short) 12);
        awaitListeners(partition("t", 0), 1);
        int nextCid = client.send(addPartition(fetch(0, 1, 1 << 20), "t", 0, 0, 1 << 20), (short) 12);
        FetchResponseData parked = client.receive(parkedCid, ApiKeys.FETCH, (short) 12);
        FetchResponseData next = client.receive(nextCid, ApiKeys.FETCH, (short) 12);
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertTrue(ms < 10_000, "the parked fetch was answered after " + ms + " ms, not at once");
        assertEquals(Errors.NONE.code(), only(parked).errorCode);
        assertEquals(0, only(parked).records.sizeInBytes());
        assertEquals(Errors.NONE.code(), only(next).errorCode);
        assertEquals(0, partition("t", 0).listenerCount());
    }

    @Test
    void closingTheConnectionForgetsTheParkedFetch() throws Exception {
        client.send(addPartition(fetch(60_000, 1, 1 << 20), "t", 0, 0, 1 << 20), (short) 12);
        Partition p = partition("t", 0);
        awaitListeners(p, 1);
        client.close();
        awaitListeners(p, 0);
    }

    @Test
    void sessions() throws Exception {
        produceBatches("t", 0, 1, 1);
        // a full fetch with epoch 0 creates a session
        FetchRequestData req = addPartition(fetch(0, 1, 1 << 20), "t", 0, 0, 1 << 20).setSessionId(0).setSessionEpoch(0);
        FetchResponseData resp = client.call(req, (short) 12);
        assertEquals(Errors.NONE.code(), resp.errorCode);
        int session = resp.sessionId;
        assertTrue(session != 0, "a session id");
        assertTrue(only(resp).records.sizeInBytes() > 0);
        long hw = only(resp).highWatermark;
        // incremental, the consumer moved to offset 1: nothing new, so no partition in the answer
        FetchRequestData inc = addPartition(fetch(0, 1, 1 << 20), "t", 0, hw, 1 << 20).setSessionId(session).setSessionEpoch(1);
        resp = client.call(inc, (short) 12);
        assertEquals(Errors.NONE.code(), resp.errorCode);
        assertEquals(session, resp.sessionId);
        assertEquals(0, resp.responses.size(), "nothing changed");
        // an incremental fetch naming no partition reads the session's: new data comes back
        produceBatches("t", 0, 1, 1);
        resp = client.call(fetch(0, 1, 1 << 20).setSessionId(session).setSessionEpoch(2), (short) 12);
        assertEquals(session, resp.sessionId);
        assertTrue(only(resp).records.sizeInBytes() > 0, "the record at the cached fetch offset");
        assertEquals(hw + 1, only(resp).highWatermark);
        // the same epoch again (a duplicate) and an unknown session are refused as Kafka refuses them
        resp = client.call(fetch(0, 1, 1 << 20).setSessionId(session).setSessionEpoch(2), (short) 12);
        assertEquals(Errors.INVALID_FETCH_SESSION_EPOCH.code(), resp.errorCode);
        resp = client.call(fetch(0, 1, 1 << 20).setSessionId(session + 1).setSessionEpoch(1), (short) 12);
        assertEquals(Errors.FETCH_SESSION_ID_NOT_FOUND.code(), resp.errorCode);
        assertEquals(0, resp.responses.size());
        // forgetting the last partition closes the session: the answer is sessionless
        FetchRequestData forget = fetch(0, 1, 1 << 20).setSessionId(session).setSessionEpoch(3);
        forget.forgottenTopicsData.add(new FetchRequestData.ForgottenTopic().setTopic("t").setPartitions(new java.util.ArrayList<>(List.of(0))));
        resp = client.call(forget, (short) 12);
        assertEquals(Errors.NONE.code(), resp.errorCode);
        assertEquals(0, resp.sessionId);
        resp = client.call(fetch(0, 1, 1 << 20).setSessionId(session).setSessionEpoch(4), (short) 12);
        assertEquals(Errors.FETCH_SESSION_ID_NOT_FOUND.code(), resp.errorCode, "closed");
        // epoch -1: sessionless
        resp = client.call(addPartition(fetch(0, 1, 1 << 20), "t", 0, 0, 1 << 20).setSessionId(0).setSessionEpoch(-1), (short) 12);
        assertEquals(0, resp.sessionId);
        assertEquals(1, resp.responses.size());
    }

    @Test
    void leaderEpochFencing() throws Exception {
        FetchRequestData req = addPartition(fetch(0, 1, 1 << 20), "t", 0, 0, 1 << 20);
        req.topics.get(0).partitions.get(0).setCurrentLeaderEpoch(3);
        assertEquals(Errors.UNKNOWN_LEADER_EPOCH.code(), only(client.call(req, (short) 12)).errorCode);
        req.topics.get(0).partitions.get(0).setCurrentLeaderEpoch(0);
        assertEquals(Errors.NONE.code(), only(client.call(req, (short) 12)).errorCode);
    }

    @Test
    void divergingEpochForAFollowerAhead() throws Exception {
        produceBatches("t", 0, 1, 2);
        FetchRequestData req = addPartition(fetch(0, 1, 1 << 20), "t", 0, 2, 1 << 20).setReplicaId(2);
        req.topics.get(0).partitions.get(0).setLastFetchedEpoch(0);
        FetchResponseData.PartitionData p = only(client.call(req, (short) 12));
        assertEquals(Errors.NONE.code(), p.errorCode);
        assertEquals(-1, p.divergingEpoch.epoch);
        req.topics.get(0).partitions.get(0).setLastFetchedEpoch(5);
        p = only(client.call(req, (short) 12));
        assertEquals(Errors.OFFSET_OUT_OF_RANGE.code(), p.errorCode);
    }

    private Partition partition(String topic, int index) {
        Topic t = server.broker().topics().get(topic);
        return t.partition(index);
    }

    private UUID topicId(String topic) {
        return server.broker().topics().get(topic).id();
    }

    /** Waits (bounded) for the broker to park or forget fetches; the condition is state, not time. */
    private static void awaitListeners(Partition p, int count) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (p.listenerCount() != count) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("expected " + count + " parked fetches on " + p + ", have " + p.listenerCount());
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }
}
