package dev.runnel.groupcoord.txn;

import static dev.runnel.groupcoord.txn.TransactionState.COMPLETE_ABORT;
import static dev.runnel.groupcoord.txn.TransactionState.COMPLETE_COMMIT;
import static dev.runnel.groupcoord.txn.TransactionState.EMPTY;
import static dev.runnel.groupcoord.txn.TransactionState.ONGOING;
import static dev.runnel.groupcoord.txn.TransactionState.PREPARE_ABORT;
import static dev.runnel.groupcoord.txn.TransactionState.PREPARE_COMMIT;
import static dev.runnel.groupcoord.txn.TxnTestKit.tp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.wire.Errors;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TransactionCoordinatorTest {
    private static final String TXN = "orders-tx";

    @Test
    void aProducerCommitsATransactionAndEveryPartitionGetsACommitMarker() {
        TxnTestKit kit = new TxnTestKit();
        TransactionCoordinator.InitResult init = kit.init(TXN, 60_000);
        assertEquals(Errors.NONE, init.error());
        assertEquals(1000L, init.producerId());
        assertEquals(0, init.producerEpoch());
        assertEquals(EMPTY, kit.state(TXN));

        assertEquals(Errors.NONE, kit.add(TXN, 1000L, (short) 0, List.of(tp("orders", 0), tp("orders", 1))));
        assertEquals(ONGOING, kit.state(TXN));
        // adding a partition already in the transaction writes nothing
        int written = kit.log.statesOf(TXN, kit.partitionOf(TXN)).size();
        assertEquals(Errors.NONE, kit.add(TXN, 1000L, (short) 0, List.of(tp("orders", 1))));
        assertEquals(written, kit.log.statesOf(TXN, kit.partitionOf(TXN)).size());

        assertEquals(Errors.NONE, kit.end(TXN, 1000L, (short) 0, true));
        assertEquals(1, kit.markerCalls.size());
        TxnTestKit.MarkerCall call = kit.markerCalls.get(0);
        assertTrue(call.commit());
        assertEquals(1000L, call.producerId());
        assertEquals(0, call.epoch());
        assertEquals(Set.of(tp("orders", 0), tp("orders", 1)), call.partitions());
        assertEquals(COMPLETE_COMMIT, kit.state(TXN));
        assertTrue(kit.coordinator.metadata(TXN).partitions().isEmpty());
        assertEquals(Arrays.asList(EMPTY, ONGOING, PREPARE_COMMIT, COMPLETE_COMMIT), kit.log.statesOf(TXN, kit.partitionOf(TXN)));

        // a retried EndTxn of the same commit is answered NONE; an abort of it is refused
        assertEquals(Errors.NONE, kit.end(TXN, 1000L, (short) 0, true));
        assertEquals(Errors.INVALID_TXN_STATE, kit.end(TXN, 1000L, (short) 0, false));
        // the next transaction starts from CompleteCommit
        assertEquals(Errors.NONE, kit.add(TXN, 1000L, (short) 0, List.of(tp("orders", 2))));
        assertEquals(Set.of(tp("orders", 2)), kit.coordinator.metadata(TXN).partitions());
    }

    @Test
    void anAbortWritesAbortMarkersAndTheTransactionStaysPreparedUntilEveryMarkerIsIn() {
        TxnTestKit kit = new TxnTestKit();
        kit.autoMarkers = false;
        kit.init(TXN, 60_000);
        kit.add(TXN, 1000L, (short) 0, List.of(tp("a", 0), tp("b", 0)));
        assertEquals(Errors.NONE, kit.end(TXN, 1000L, (short) 0, false));
        assertEquals(PREPARE_ABORT, kit.state(TXN));
        // while the markers go out, the producer is told to wait
        assertEquals(Errors.CONCURRENT_TRANSACTIONS, kit.add(TXN, 1000L, (short) 0, List.of(tp("a", 0))));
        assertEquals(Errors.CONCURRENT_TRANSACTIONS, kit.end(TXN, 1000L, (short) 0, false));
        assertEquals(Errors.CONCURRENT_TRANSACTIONS, kit.init(TXN, 60_000).error());

        // b's leader is not there: a is done, b is retried after the backoff
        kit.markerCalls.get(0).fail(tp("b", 0), Errors.NOT_LEADER_OR_FOLLOWER);
        assertEquals(PREPARE_ABORT, kit.state(TXN));
        kit.clock.advance(100);
        assertEquals(2, kit.markerCalls.size());
        assertEquals(Set.of(tp("b", 0)), kit.markerCalls.get(1).partitions());
        assertFalse(kit.markerCalls.get(1).commit());
        kit.markerCalls.get(1).succeed();
        assertEquals(COMPLETE_ABORT, kit.state(TXN));
    }

    @Test
    void aCoordinatorFencedByANewerEpochStopsSendingMarkers() {
        TxnTestKit kit = new TxnTestKit();
        kit.autoMarkers = false;
        kit.init(TXN, 60_000);
        kit.add(TXN, 1000L, (short) 0, List.of(tp("a", 0)));
        kit.end(TXN, 1000L, (short) 0, true);
        kit.markerCalls.get(0).fail(tp("a", 0), Errors.TRANSACTION_COORDINATOR_FENCED);
        kit.clock.advance(10_000);
        assertEquals(1, kit.markerCalls.size(), "no retry");
        assertEquals(PREPARE_COMMIT, kit.state(TXN), "completing is the newer coordinator's business");
    }

    @Test
    void aTransactionOpenLongerThanItsTimeoutIsAbortedAndItsProducerFenced() {
        TxnTestKit kit = new TxnTestKit();
        kit.init(TXN, 5_000);
        kit.add(TXN, 1000L, (short) 0, List.of(tp("orders", 0)));
        kit.clock.advance(4_999);
        assertEquals(ONGOING, kit.state(TXN)); // the check runs every 10 s
        kit.clock.advance(5_001);
        assertEquals(COMPLETE_ABORT, kit.state(TXN));
        TxnTestKit.MarkerCall abort = kit.markerCalls.get(0);
        assertFalse(abort.commit());
        assertEquals(1, abort.epoch(), "the abort carries a bumped epoch");
        assertEquals(Errors.PRODUCER_FENCED, kit.end(TXN, 1000L, (short) 0, true));
        assertEquals(Errors.PRODUCER_FENCED, kit.add(TXN, 1000L, (short) 0, List.of(tp("orders", 0))));
        // a new producer with the same id starts over with the next epoch
        assertEquals(2, kit.init(TXN, 5_000).producerEpoch());
    }

    @Test
    void aNewProducerWithTheSameTransactionalIdAbortsTheOpenTransactionAndFencesTheOldOne() {
        TxnTestKit kit = new TxnTestKit();
        kit.init(TXN, 60_000);
        kit.add(TXN, 1000L, (short) 0, List.of(tp("orders", 0)));

        TransactionCoordinator.InitResult second = kit.init(TXN, 60_000);
        assertEquals(Errors.CONCURRENT_TRANSACTIONS, second.error(), "the new producer retries once the abort is done");
        assertEquals(1, kit.markerCalls.size());
        assertFalse(kit.markerCalls.get(0).commit());
        assertEquals(1, kit.markerCalls.get(0).epoch());
        assertEquals(COMPLETE_ABORT, kit.state(TXN));

        TransactionCoordinator.InitResult retry = kit.init(TXN, 60_000);
        assertEquals(Errors.NONE, retry.error());
        assertEquals(1000L, retry.producerId());
        assertEquals(2, retry.producerEpoch());
        // the zombie
        assertEquals(Errors.PRODUCER_FENCED, kit.add(TXN, 1000L, (short) 0, List.of(tp("orders", 0))));
        assertEquals(Errors.PRODUCER_FENCED, kit.end(TXN, 1000L, (short) 0, true));
        assertEquals(Errors.INVALID_PRODUCER_ID_MAPPING, kit.end(TXN, 999L, (short) 2, true));
    }

    @Test
    void kip360AProducerBumpsItsOwnEpochAndARetriedBumpGetsTheSameAnswer() {
        TxnTestKit kit = new TxnTestKit();
        kit.init(TXN, 60_000);
        TransactionCoordinator.InitResult bumped = kit.init(TXN, 60_000, 1000L, (short) 0);
        assertEquals(Errors.NONE, bumped.error());
        assertEquals(1, bumped.producerEpoch());
        TransactionCoordinator.InitResult retried = kit.init(TXN, 60_000, 1000L, (short) 0);
        assertEquals(Errors.NONE, retried.error());
        assertEquals(1, retried.producerEpoch());
        assertEquals(Errors.PRODUCER_FENCED, kit.init(TXN, 60_000, 1000L, (short) 7).error());
        assertEquals(Errors.PRODUCER_FENCED, kit.init(TXN, 60_000, 4242L, (short) 1).error());
    }

    @Test
    void anExhaustedEpochRotatesTheProducerId() {
        TxnTestKit kit = new TxnTestKit();
        int p = kit.partitionOf(TXN);
        short last = (short) (Short.MAX_VALUE - 1);
        kit.log.append(p, 0, TransactionRecords.key(TXN), TransactionRecords.value(new TransactionMetadata(TXN, 77L, -1L, last,
                (short) -1, 60_000, COMPLETE_COMMIT, new java.util.TreeSet<>(), 1L, 1L)));
        kit = kit.restart();
        TransactionCoordinator.InitResult r = kit.init(TXN, 60_000, 77L, last);
        assertEquals(Errors.NONE, r.error());
        assertEquals(1000L, r.producerId());
        assertEquals(0, r.producerEpoch());
        // the same request again (its answer lost) is recognised as a retry of the rotation
        TransactionCoordinator.InitResult again = kit.init(TXN, 60_000, 77L, last);
        assertEquals(Errors.NONE, again.error());
        assertEquals(1000L, again.producerId());
    }

    @Test
    void requestsKafkaRefuses() {
        TxnTestKit kit = new TxnTestKit();
        assertEquals(Errors.INVALID_TRANSACTION_TIMEOUT, kit.init(TXN, 900_001).error());
        assertEquals(Errors.INVALID_TRANSACTION_TIMEOUT, kit.init(TXN, 0).error());
        assertEquals(Errors.INVALID_REQUEST, kit.init("", 1000).error());
        assertEquals(Errors.INVALID_PRODUCER_ID_MAPPING, kit.add("unknown", 1L, (short) 0, List.of(tp("a", 0))));
        assertEquals(Errors.INVALID_PRODUCER_ID_MAPPING, kit.end("unknown", 1L, (short) 0, true));
        kit.init(TXN, 1000);
        assertEquals(Errors.INVALID_TXN_STATE, kit.end(TXN, 1000L, (short) 0, true), "nothing to commit");
        assertNull(kit.coordinator.metadata("unknown"));
    }

    @Test
    void aFailedWriteChangesNothing() {
        TxnTestKit kit = new TxnTestKit();
        kit.init(TXN, 60_000);
        kit.log.failAppends = true;
        assertEquals(Errors.NOT_COORDINATOR, kit.add(TXN, 1000L, (short) 0, List.of(tp("a", 0))));
        assertEquals(EMPTY, kit.state(TXN));
    }

    @Test
    void untilAWriteIsDurableTheIdWaitsAndAWriteTheReplicasNeverConfirmChangesNothing() {
        TxnTestKit kit = new TxnTestKit();
        kit.init(TXN, 60_000);
        kit.log.deferDurability = true;
        java.util.concurrent.CompletableFuture<Errors> add = kit.coordinator.addPartitions(TXN, 1000L, (short) 0, List.of(tp("a", 0)));
        assertFalse(add.isDone(), "answered only once the in-sync replicas have the record");
        assertEquals(EMPTY, kit.state(TXN));
        assertEquals(Errors.CONCURRENT_TRANSACTIONS, kit.end(TXN, 1000L, (short) 0, true));
        kit.log.notDurable.get(0).complete(1L);
        assertEquals(Errors.NONE, add.join());
        assertEquals(ONGOING, kit.state(TXN));

        java.util.concurrent.CompletableFuture<Errors> end = kit.coordinator.endTransaction(TXN, 1000L, (short) 0, true);
        kit.log.notDurable.get(1).completeExceptionally(new dev.runnel.groupcoord.CoordinatorLog.CoordinatorLogException(
                Errors.REQUEST_TIMED_OUT, "the replicas did not confirm in time (test)", null));
        assertEquals(Errors.COORDINATOR_NOT_AVAILABLE, end.join());
        assertEquals(ONGOING, kit.state(TXN), "nothing the replicas did not confirm is acted on");
        assertTrue(kit.markerCalls.isEmpty());
    }

    @Test
    void idleTransactionalIdsExpire() {
        TxnTestKit kit = new TxnTestKit();
        kit.init(TXN, 60_000);
        kit.clock.advance(3_000_000L);
        kit.init("recent", 60_000);
        kit.clock.advance(1_200_000L);
        assertNull(kit.coordinator.metadata(TXN));
        assertEquals(Errors.TRANSACTIONAL_ID_NOT_FOUND.code(), kit.coordinator.describe(TXN).errorCode);
        assertTrue(kit.log.statesOf(TXN, kit.partitionOf(TXN)).contains(null), "a tombstone was written");
        assertEquals(EMPTY, kit.state("recent"), "used 1.2 M ms ago: kept");
        // a forgotten id starts over with a new producer id
        assertEquals(1002L, kit.init(TXN, 60_000).producerId());
    }

    @Test
    void describeAndListReportWhatKafkaReports() {
        TxnTestKit kit = new TxnTestKit();
        kit.init(TXN, 60_000);
        kit.init("other", 60_000);
        kit.add(TXN, 1000L, (short) 0, List.of(tp("orders", 1), tp("orders", 0), tp("audit", 3)));
        var d = kit.coordinator.describe(TXN);
        assertEquals(Errors.NONE.code(), d.errorCode);
        assertEquals("Ongoing", d.transactionState);
        assertEquals(1000L, d.producerId);
        assertEquals(60_000, d.transactionTimeoutMs);
        assertEquals(kit.clock.milliseconds(), d.transactionStartTimeMs);
        assertEquals(2, d.topics.size());

        var all = kit.coordinator.list(List.of(), List.of(), -1);
        assertEquals(2, all.transactionStates.size());
        var ongoing = kit.coordinator.list(List.of("Ongoing", "Bogus"), List.of(), -1);
        assertEquals(1, ongoing.transactionStates.size());
        assertEquals(List.of("Bogus"), ongoing.unknownStateFilters);
        assertEquals(1, kit.coordinator.list(List.of(), List.of(1001L), -1).transactionStates.size());
        kit.clock.advance(5_000);
        assertEquals(1, kit.coordinator.list(List.of(), List.of(), 4_000).transactionStates.size());
        assertEquals(0, kit.coordinator.list(List.of(), List.of(), 6_000).transactionStates.size());
    }
}
