package dev.runnel.broker.txn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.broker.RunnelServer;
import dev.runnel.broker.produce.TestClient;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.AddOffsetsToTxnRequestData;
import dev.runnel.wire.message.AddOffsetsToTxnResponseData;
import dev.runnel.wire.message.AddPartitionsToTxnRequestData;
import dev.runnel.wire.message.AddPartitionsToTxnResponseData;
import dev.runnel.wire.message.DescribeTransactionsRequestData;
import dev.runnel.wire.message.DescribeTransactionsResponseData;
import dev.runnel.wire.message.EndTxnRequestData;
import dev.runnel.wire.message.EndTxnResponseData;
import dev.runnel.wire.message.InitProducerIdRequestData;
import dev.runnel.wire.message.InitProducerIdResponseData;
import dev.runnel.wire.message.ListTransactionsRequestData;
import dev.runnel.wire.message.ListTransactionsResponseData;
import dev.runnel.wire.message.WriteTxnMarkersRequestData;
import dev.runnel.wire.message.WriteTxnMarkersResponseData;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The transaction APIs over a socket, at the versions and edge cases clients rarely exercise. */
class TransactionHandlersTest {
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

    private InitProducerIdResponseData init(String id) throws Exception {
        return client.call(new InitProducerIdRequestData().setTransactionalId(id).setTransactionTimeoutMs(60_000)
                .setProducerId(-1).setProducerEpoch((short) -1), (short) 4);
    }

    private static AddPartitionsToTxnRequestData.AddPartitionsToTxnTopic topic(String name, Integer... partitions) {
        return new AddPartitionsToTxnRequestData.AddPartitionsToTxnTopic().setName(name)
                .setPartitions(new ArrayList<>(List.of(partitions)));
    }

    @Test
    void addPartitionsV3ThenVerifyOnlyV4ThenUnknownPartitions() throws Exception {
        InitProducerIdResponseData id = init("tx");
        assertEquals(Errors.NONE.code(), id.errorCode);
        AddPartitionsToTxnRequestData v3 = new AddPartitionsToTxnRequestData().setV3AndBelowTransactionalId("tx")
                .setV3AndBelowProducerId(id.producerId).setV3AndBelowProducerEpoch(id.producerEpoch)
                .setV3AndBelowTopics(new ArrayList<>(List.of(topic("t", 0))));
        AddPartitionsToTxnResponseData r3 = client.call(v3, (short) 3);
        assertEquals(Errors.NONE.code(), r3.resultsByTopicV3AndBelow.get(0).resultsByPartition.get(0).partitionErrorCode);

        // v4 VerifyOnly (the broker-side check of KIP-890): t-0 is in the transaction, t-1 is not; nothing is added
        AddPartitionsToTxnRequestData v4 = new AddPartitionsToTxnRequestData();
        v4.transactions.add(new AddPartitionsToTxnRequestData.AddPartitionsToTxnTransaction().setTransactionalId("tx")
                .setProducerId(id.producerId).setProducerEpoch(id.producerEpoch).setVerifyOnly(true)
                .setTopics(new ArrayList<>(List.of(topic("t", 0, 1)))));
        AddPartitionsToTxnResponseData r4 = client.call(v4, (short) 4);
        var results = r4.resultsByTransaction.get(0).topicResults.get(0).resultsByPartition;
        assertEquals(Errors.NONE.code(), results.get(0).partitionErrorCode);
        assertEquals(Errors.INVALID_TXN_STATE.code(), results.get(1).partitionErrorCode);

        // an unknown partition: UNKNOWN_TOPIC_OR_PARTITION for it, OPERATION_NOT_ATTEMPTED for the rest
        AddPartitionsToTxnRequestData bad = new AddPartitionsToTxnRequestData().setV3AndBelowTransactionalId("tx")
                .setV3AndBelowProducerId(id.producerId).setV3AndBelowProducerEpoch(id.producerEpoch)
                .setV3AndBelowTopics(new ArrayList<>(List.of(topic("t", 1), topic("nope", 0))));
        AddPartitionsToTxnResponseData rb = client.call(bad, (short) 3);
        for (var t : rb.resultsByTopicV3AndBelow) {
            short expected = (t.name.equals("nope") ? Errors.UNKNOWN_TOPIC_OR_PARTITION : Errors.OPERATION_NOT_ATTEMPTED).code();
            assertEquals(expected, t.resultsByPartition.get(0).partitionErrorCode, t.name);
        }
    }

    @Test
    void fencedProducersGetInvalidProducerEpochBeforeV2AndProducerFencedAfter() throws Exception {
        InitProducerIdResponseData old = init("fence");
        InitProducerIdResponseData now = init("fence");
        assertEquals(old.producerEpoch + 1, now.producerEpoch);
        EndTxnResponseData v1 = client.call(new EndTxnRequestData().setTransactionalId("fence").setProducerId(old.producerId)
                .setProducerEpoch(old.producerEpoch).setCommitted(true), (short) 1);
        assertEquals(Errors.INVALID_PRODUCER_EPOCH.code(), v1.errorCode);
        EndTxnResponseData v3 = client.call(new EndTxnRequestData().setTransactionalId("fence").setProducerId(old.producerId)
                .setProducerEpoch(old.producerEpoch).setCommitted(true), (short) 3);
        assertEquals(Errors.PRODUCER_FENCED.code(), v3.errorCode);
        AddOffsetsToTxnResponseData offsets = client.call(new AddOffsetsToTxnRequestData().setTransactionalId("fence")
                .setProducerId(old.producerId).setProducerEpoch(old.producerEpoch).setGroupId("g"), (short) 1);
        assertEquals(Errors.INVALID_PRODUCER_EPOCH.code(), offsets.errorCode);
        EndTxnResponseData nothingToEnd = client.call(new EndTxnRequestData().setTransactionalId("fence").setProducerId(now.producerId)
                .setProducerEpoch(now.producerEpoch).setCommitted(true), (short) 3);
        assertEquals(Errors.INVALID_TXN_STATE.code(), nothingToEnd.errorCode);
    }

    @Test
    void writeTxnMarkersAppendsAControlBatchAndDescribeAndListReportTheTransaction() throws Exception {
        InitProducerIdResponseData id = init("marked");
        client.call(new AddPartitionsToTxnRequestData().setV3AndBelowTransactionalId("marked").setV3AndBelowProducerId(id.producerId)
                .setV3AndBelowProducerEpoch(id.producerEpoch).setV3AndBelowTopics(new ArrayList<>(List.of(topic("t", 1)))), (short) 3);
        DescribeTransactionsResponseData d = client.call(new DescribeTransactionsRequestData()
                .setTransactionalIds(new ArrayList<>(List.of("marked", "unknown"))), (short) 0);
        assertEquals("Ongoing", d.transactionStates.get(0).transactionState);
        assertEquals(List.of(1), d.transactionStates.get(0).topics.get(0).partitions);
        assertEquals(Errors.TRANSACTIONAL_ID_NOT_FOUND.code(), d.transactionStates.get(1).errorCode);
        ListTransactionsResponseData l = client.call(new ListTransactionsRequestData()
                .setStateFilters(new ArrayList<>(List.of("Ongoing"))), (short) 1);
        assertEquals(List.of("marked"), l.transactionStates.stream().map(s -> s.transactionalId).toList());

        WriteTxnMarkersRequestData w = new WriteTxnMarkersRequestData();
        w.markers.add(new WriteTxnMarkersRequestData.WritableTxnMarker().setProducerId(id.producerId)
                .setProducerEpoch(id.producerEpoch).setTransactionResult(false).setCoordinatorEpoch(0)
                .setTopics(new ArrayList<>(List.of(new WriteTxnMarkersRequestData.WritableTxnMarkerTopic().setName("t")
                        .setPartitionIndexes(new ArrayList<>(List.of(0)))))));
        long before = server.broker().topics().partition("t", 0).logEndOffset();
        WriteTxnMarkersResponseData wr = client.call(w, (short) 1);
        assertEquals(Errors.NONE.code(), wr.markers.get(0).topics.get(0).partitions.get(0).errorCode);
        assertEquals(before + 1, server.broker().topics().partition("t", 0).logEndOffset(), "one control batch appended");
        assertTrue(server.broker().topics().get("__transaction_state") != null);
    }
}
