package dev.runnel.groupcoord.txn;

import static dev.runnel.groupcoord.txn.TransactionState.COMPLETE_ABORT;
import static dev.runnel.groupcoord.txn.TransactionState.COMPLETE_COMMIT;
import static dev.runnel.groupcoord.txn.TransactionState.ONGOING;
import static dev.runnel.groupcoord.txn.TransactionState.PREPARE_COMMIT;
import static dev.runnel.groupcoord.txn.TxnTestKit.tp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.groupcoord.txn.TransactionCoordinator.EndResult;
import dev.runnel.wire.Errors;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Transactions V2 (KIP-890): partitions added for the client, and every EndTxn v5 bumps the epoch. */
class TransactionsV2Test {
    private static final String TXN = "v2-tx";

    static final TransactionCoordinatorConfig V2 = new TransactionCoordinatorConfig(4, 900_000, 10_000L, 3_600_000L,
            600_000L, 100L, TransactionMetadata.TV_2);

    private static TxnTestKit kit() {
        return new TxnTestKit(new TxnTestKit.MemoryLog(), new java.util.concurrent.atomic.AtomicLong(1000), V2);
    }

    private static EndResult end(TxnTestKit kit, long pid, short epoch, boolean commit) {
        return kit.coordinator.endTransaction(TXN, pid, epoch, commit, true).join();
    }

    private static Errors addV2(TxnTestKit kit, long pid, short epoch, TxnPartition... parts) {
        return kit.coordinator.addPartitions(TXN, pid, epoch, List.of(parts), true).join();
    }

    @Test
    void everyEndBumpsTheEpochTheMarkersCarryItAndTheClientGetsIt() {
        TxnTestKit kit = kit();
        TransactionCoordinator.InitResult init = kit.init(TXN, 60_000);
        long pid = init.producerId();
        short e0 = init.producerEpoch();

        assertEquals(Errors.NONE, addV2(kit, pid, e0, tp("orders", 0)));
        assertEquals(ONGOING, kit.state(TXN));
        assertTrue(kit.coordinator.metadata(TXN).isTransactionsV2());
        EndResult r = end(kit, pid, e0, true);
        assertEquals(Errors.NONE, r.error());
        assertEquals(pid, r.producerId());
        assertEquals(e0 + 1, r.producerEpoch());
        assertEquals(1, kit.markerCalls.size());
        assertEquals(e0 + 1, kit.markerCalls.get(0).epoch(), "the markers carry the bumped epoch");
        assertEquals(COMPLETE_COMMIT, kit.state(TXN));

        // a retry with the old epoch is recognised and answered with the bumped epoch; an abort of it is refused
        EndResult retry = end(kit, pid, e0, true);
        assertEquals(Errors.NONE, retry.error());
        assertEquals(e0 + 1, retry.producerEpoch());
        assertEquals(Errors.INVALID_TXN_STATE, end(kit, pid, e0, false).error());
        // an epoch two behind is a zombie
        short e1 = (short) (e0 + 1);
        assertEquals(Errors.NONE, addV2(kit, pid, e1, tp("orders", 1)));
        assertEquals(Errors.NONE, end(kit, pid, e1, false).error());
        assertEquals(COMPLETE_ABORT, kit.state(TXN));
        assertEquals(Errors.PRODUCER_FENCED, end(kit, pid, e0, true).error());
        assertEquals(Errors.PRODUCER_FENCED, addV2(kit, pid, e1, tp("orders", 1)));
        assertEquals(e0 + 2, kit.coordinator.metadata(TXN).producerEpoch());
    }

    @Test
    void anAbortOfATransactionTheCoordinatorNeverSawWritesNoMarkersAndBumpsTheEpoch() {
        TxnTestKit kit = kit();
        TransactionCoordinator.InitResult init = kit.init(TXN, 60_000);
        EndResult r = end(kit, init.producerId(), init.producerEpoch(), false);
        assertEquals(Errors.NONE, r.error());
        assertEquals(init.producerEpoch() + 1, r.producerEpoch());
        assertEquals(COMPLETE_ABORT, kit.state(TXN));
        assertTrue(kit.markerCalls.isEmpty() || kit.markerCalls.get(0).partitions().isEmpty());
        // a commit of nothing is refused
        assertEquals(Errors.INVALID_TXN_STATE, end(kit, init.producerId(), r.producerEpoch(), true).error());
    }

    @Test
    void theStateSurvivesAReloadAndARetryAfterItIsStillRecognised() {
        TxnTestKit kit = kit();
        TransactionCoordinator.InitResult init = kit.init(TXN, 60_000);
        long pid = init.producerId();
        assertEquals(Errors.NONE, addV2(kit, pid, init.producerEpoch(), tp("orders", 0)));
        kit.autoMarkers = false;
        EndResult r = end(kit, pid, init.producerEpoch(), true);
        assertEquals(Errors.NONE, r.error());
        assertEquals(PREPARE_COMMIT, kit.state(TXN));

        TxnTestKit after = kit.restart();
        assertTrue(after.coordinator.metadata(TXN).isTransactionsV2());
        assertEquals(r.producerEpoch(), after.coordinator.metadata(TXN).producerEpoch());
        // the reloaded coordinator sends the markers again, with the bumped epoch
        assertEquals(r.producerEpoch(), after.markerCalls.get(after.markerCalls.size() - 1).epoch());
        assertEquals(COMPLETE_COMMIT, after.state(TXN));
        EndResult retry = after.coordinator.endTransaction(TXN, pid, init.producerEpoch(), true, true).join();
        assertEquals(Errors.NONE, retry.error());
        assertEquals(r.producerEpoch(), retry.producerEpoch());
    }

    @Test
    void anEndThatUsesUpTheEpochsMovesTheIdToANewProducerIdWithEpochZero() {
        TxnTestKit kit = kit();
        TransactionCoordinator.InitResult init = kit.init(TXN, 60_000);
        long pid = init.producerId();
        short last = (short) (Short.MAX_VALUE - 1);
        // an id whose epoch is nearly used up (as a long-lived producer's would be)
        kit.log.append(kit.partitionOf(TXN), 0, TransactionRecords.key(TXN), TransactionRecords.value(
                new TransactionMetadata(TXN, pid, -1L, last, (short) -1, 60_000, TransactionState.COMPLETE_COMMIT,
                        new java.util.TreeSet<>(), -1L, 0L, TransactionMetadata.TV_2, -1L)));
        kit = kit.restart();
        assertEquals(Errors.NONE, addV2(kit, pid, last, tp("orders", 0)));
        EndResult r = end(kit, pid, last, true);
        assertEquals(Errors.NONE, r.error());
        long newPid = r.producerId();
        assertTrue(newPid != pid, "a new producer id");
        assertEquals(0, r.producerEpoch());
        TxnTestKit.MarkerCall markers = kit.markerCalls.get(kit.markerCalls.size() - 1);
        assertEquals(pid, markers.producerId(), "the markers close the old producer id's transaction");
        assertEquals(Short.MAX_VALUE, markers.epoch());
        assertEquals(COMPLETE_COMMIT, kit.state(TXN));
        assertEquals(newPid, kit.coordinator.metadata(TXN).producerId());
        // a retry of that end, with the old id and epoch, is recognised
        EndResult retry = end(kit, pid, last, true);
        assertEquals(Errors.NONE, retry.error());
        assertEquals(newPid, retry.producerId());
        // and the new id runs the next transaction
        assertEquals(Errors.NONE, addV2(kit, newPid, (short) 0, tp("orders", 1)));
        assertEquals(Set.of(tp("orders", 1)), kit.coordinator.metadata(TXN).partitions());
    }

    @Test
    void aTimeoutAbortBumpsTwiceSoTheLateClientIsFencedNotTakenForARetry() {
        TxnTestKit kit = kit();
        TransactionCoordinator.InitResult init = kit.init(TXN, 1_000);
        long pid = init.producerId();
        short e0 = init.producerEpoch();
        assertEquals(Errors.NONE, addV2(kit, pid, e0, tp("orders", 0)));
        kit.clock.advance(11_000); // past the timeout and the abort check's interval
        assertEquals(COMPLETE_ABORT, kit.state(TXN));
        assertEquals(e0 + 2, kit.markerCalls.get(0).epoch(), "fenced (+1), then the V2 abort's own bump (+1)");
        assertEquals(Errors.PRODUCER_FENCED, end(kit, pid, e0, true).error());
        assertEquals(Errors.PRODUCER_FENCED, addV2(kit, pid, e0, tp("orders", 0)));
    }

    @Test
    void aNewProducerFencesAnOpenTransactionWithTheSameTwoBumps() {
        TxnTestKit kit = kit();
        TransactionCoordinator.InitResult zombie = kit.init(TXN, 60_000);
        assertEquals(Errors.NONE, addV2(kit, zombie.producerId(), zombie.producerEpoch(), tp("orders", 0)));
        assertEquals(Errors.CONCURRENT_TRANSACTIONS, kit.init(TXN, 60_000).error());
        TransactionCoordinator.InitResult successor = kit.init(TXN, 60_000);
        assertEquals(Errors.NONE, successor.error());
        assertEquals(zombie.producerEpoch() + 3, successor.producerEpoch(), "fence, abort bump, then the new producer's bump");
        assertEquals(Errors.PRODUCER_FENCED, end(kit, zombie.producerId(), zombie.producerEpoch(), true).error());
    }
}
