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
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.wire.Errors;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The broker dies (nothing flushed beyond what was written) in each state; a new coordinator loads the partition. */
class TransactionReplayTest {
    private static final String TXN = "replayed";

    @Test
    void crashInEmptyKeepsTheProducerIdAndTheNextInitBumpsTheEpoch() {
        TxnTestKit kit = new TxnTestKit();
        kit.init(TXN, 60_000);
        kit = kit.restart();
        assertEquals(EMPTY, kit.state(TXN));
        TransactionCoordinator.InitResult r = kit.init(TXN, 60_000);
        assertEquals(1000L, r.producerId());
        assertEquals(1, r.producerEpoch());
    }

    @Test
    void crashInOngoingWithinTheTimeoutKeepsTheTransactionOpenUntilItTimesOut() {
        TxnTestKit kit = new TxnTestKit();
        kit.init(TXN, 30_000);
        kit.add(TXN, 1000L, (short) 0, List.of(tp("orders", 0)));
        kit = kit.restart();
        assertEquals(ONGOING, kit.state(TXN));
        assertEquals(Set.of(tp("orders", 0)), kit.coordinator.metadata(TXN).partitions());
        // the producer may still commit it
        assertEquals(Errors.NONE, kit.end(TXN, 1000L, (short) 0, true));
        assertEquals(COMPLETE_COMMIT, kit.state(TXN));
    }

    @Test
    void crashInOngoingPastTheTimeoutIsAbortedOnLoad() {
        TxnTestKit kit = new TxnTestKit();
        kit.init(TXN, 1_000);
        kit.add(TXN, 1000L, (short) 0, List.of(tp("orders", 0), tp("orders", 1)));
        kit.clock.advance(2_000); // the broker was down for longer than the timeout (no check ran: 10 s interval)
        assertEquals(ONGOING, kit.state(TXN));
        kit = kit.restart();
        assertEquals(COMPLETE_ABORT, kit.state(TXN));
        assertEquals(1, kit.markerCalls.size());
        assertFalse(kit.markerCalls.get(0).commit());
        assertEquals(Set.of(tp("orders", 0), tp("orders", 1)), kit.markerCalls.get(0).partitions());
    }

    @Test
    void crashInPrepareCommitSendsTheCommitMarkersAgainAndCompletes() {
        TxnTestKit kit = new TxnTestKit();
        kit.autoMarkers = false;
        kit.init(TXN, 60_000);
        kit.add(TXN, 1000L, (short) 0, List.of(tp("orders", 0), tp("orders", 1)));
        kit.end(TXN, 1000L, (short) 0, true);
        assertEquals(PREPARE_COMMIT, kit.state(TXN)); // markers never answered: the broker died
        kit = kit.restart();
        assertEquals(COMPLETE_COMMIT, kit.state(TXN));
        assertTrue(kit.markerCalls.get(0).commit());
        assertEquals(Set.of(tp("orders", 0), tp("orders", 1)), kit.markerCalls.get(0).partitions());
    }

    @Test
    void crashInPrepareAbortSendsTheAbortMarkersAgainAndCompletes() {
        TxnTestKit kit = new TxnTestKit();
        kit.autoMarkers = false;
        kit.init(TXN, 60_000);
        kit.add(TXN, 1000L, (short) 0, List.of(tp("orders", 0)));
        kit.end(TXN, 1000L, (short) 0, false);
        assertEquals(PREPARE_ABORT, kit.state(TXN));
        kit = kit.restart();
        assertEquals(COMPLETE_ABORT, kit.state(TXN));
        assertFalse(kit.markerCalls.get(0).commit());
    }

    @Test
    void crashAfterCompletionChangesNothing() {
        TxnTestKit kit = new TxnTestKit();
        kit.init(TXN, 60_000);
        kit.add(TXN, 1000L, (short) 0, List.of(tp("orders", 0)));
        kit.end(TXN, 1000L, (short) 0, true);
        kit = kit.restart();
        assertEquals(COMPLETE_COMMIT, kit.state(TXN));
        assertTrue(kit.markerCalls.isEmpty());
        assertEquals(Errors.NONE, kit.end(TXN, 1000L, (short) 0, true), "a retried commit");
    }

    @Test
    void aFencedTransactionReplaysWithItsBumpedEpoch() {
        TxnTestKit kit = new TxnTestKit();
        kit.autoMarkers = false;
        kit.init(TXN, 60_000);
        kit.add(TXN, 1000L, (short) 0, List.of(tp("orders", 0)));
        assertEquals(Errors.CONCURRENT_TRANSACTIONS, kit.init(TXN, 60_000).error());
        kit = kit.restart();
        assertEquals(COMPLETE_ABORT, kit.state(TXN));
        assertEquals(1, kit.markerCalls.get(0).epoch());
        assertEquals(2, kit.init(TXN, 60_000).producerEpoch());
    }

    @Test
    void unloadingStopsMarkerRetriesAndTheNewOwnerFinishes() {
        TxnTestKit kit = new TxnTestKit();
        kit.autoMarkers = false;
        kit.init(TXN, 60_000);
        kit.add(TXN, 1000L, (short) 0, List.of(tp("orders", 0)));
        kit.end(TXN, 1000L, (short) 0, true);
        kit.coordinator.unload(kit.partitionOf(TXN));
        kit.markerCalls.get(0).fail(tp("orders", 0), Errors.NOT_LEADER_OR_FOLLOWER);
        kit.clock.advance(1_000);
        assertEquals(1, kit.markerCalls.size(), "no retry after unloading");
        assertEquals(Errors.NOT_COORDINATOR, kit.end(TXN, 1000L, (short) 0, true));
        kit.autoMarkers = true;
        kit.coordinator.load(kit.partitionOf(TXN), 5);
        assertEquals(COMPLETE_COMMIT, kit.state(TXN));
        assertEquals(5, kit.markerCalls.get(1).coordinatorEpoch());
    }
}
