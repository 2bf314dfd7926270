package dev.runnel.replication.leader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The leader's bookkeeping as stories, with time passed in by hand. */
class LeaderStateTest {
    private static final long LAG_MS = 30_000;

    @Test
    void theHighWatermarkIsTheSmallestLogEndOfTheIsrAndNeverGoesBack() {
        LeaderState s = new LeaderState(1, List.of(1, 2, 3), List.of(1, 2, 3), 5, 0, 0, 0, 0, LAG_MS, 1);
        assertEquals(-1, s.maybeIncrementHighWatermark(10), "followers have not fetched: no advance");
        s.onFollowerFetch(2, 10, 10, 1);
        assertEquals(-1, s.maybeIncrementHighWatermark(10), "follower 3 still unknown");
        s.onFollowerFetch(3, 7, 10, 2);
        assertEquals(7, s.maybeIncrementHighWatermark(10));
        s.onFollowerFetch(3, 5, 10, 3); // a stale fetch offset (truncated follower): the HW stays
        assertEquals(-1, s.maybeIncrementHighWatermark(10));
        assertEquals(7, s.highWatermark());
    }

    @Test
    void aFollowerThatStopsFetchingLeavesTheIsrAfterTheLagTimeAndTheHighWatermarkMovesOn() {
        LeaderState s = new LeaderState(1, List.of(1, 2, 3), List.of(1, 2, 3), 0, 0, 0, 0, 0, LAG_MS, 1);
        s.onFollowerFetch(2, 100, 100, 1_000);
        s.onFollowerFetch(3, 40, 100, 1_000);
        assertNull(s.isrShrink(LAG_MS, 100), "within the lag time nobody leaves");
        List<Integer> shrunk = s.isrShrink(LAG_MS + 1, 100);
        assertEquals(List.of(1, 2), shrunk, "follower 3 was last caught up at 0");
        assertNull(s.isrShrink(LAG_MS + 2, 100), "one change in flight at a time");
        assertEquals(40, s.maybeIncrementHighWatermark(100), "until committed the old ISR counts");
        s.isrCommitted(List.of(1, 2), 1);
        assertEquals(100, s.maybeIncrementHighWatermark(100));
    }

    @Test
    void aCaughtUpFollowerRejoinsAndCountsWhileTheExpansionIsPending() {
        LeaderState s = new LeaderState(1, List.of(1, 2, 3), List.of(1, 2), 3, 4, 50, 50, 0, LAG_MS, 1);
        s.onFollowerFetch(2, 60, 60, 1);
        assertEquals(60, s.maybeIncrementHighWatermark(60));
        s.onFollowerFetch(3, 40, 60, 2);
        assertNull(s.isrExpansion(), "below the high watermark: not yet");
        s.onFollowerFetch(3, 60, 60, 3);
        assertEquals(List.of(1, 2, 3), s.isrExpansion());
        assertEquals(List.of(1, 2, 3), s.maximalIsr(), "the proposed (larger) ISR counts at once");
        s.isrCommitted(List.of(1, 2, 3), 5);
        assertFalse(s.changeInFlight());
        assertEquals(5, s.partitionEpoch());
    }

    @Test
    void metadataRepeatingTheCurrentPartitionEpochKeepsAPendingExpansionCounted() {
        // Found by ReplicationSimulationTest (seed 110): an unrelated metadata change re-delivered the partition at
        // the same epoch while follower 3's expansion was in flight; dropping it let the high watermark pass offsets
        // follower 3 lacked, then the controller committed the expansion and could elect follower 3.
        LeaderState s = new LeaderState(1, List.of(1, 2, 3), List.of(1), 3, 7, 0, 0, 0, LAG_MS, 1);
        s.onFollowerFetch(3, 0, 0, 1);
        assertEquals(List.of(1, 3), s.isrExpansion());
        s.isrCommitted(List.of(1), 7);
        assertTrue(s.changeInFlight(), "the same partition epoch is no answer to the proposal");
        assertEquals(List.of(1, 3), s.maximalIsr());
        assertEquals(-1, s.maybeIncrementHighWatermark(5), "follower 3 (log end 0) still counts");
        s.isrCommitted(List.of(1, 3), 8);
        assertFalse(s.changeInFlight());
        assertEquals(List.of(1, 3), s.isr());
    }

    @Test
    void underMinInsyncReplicasTheHighWatermarkStaysAndAcksAllIsRefused() {
        LeaderState s = new LeaderState(1, List.of(1, 2, 3), List.of(1), 0, 0, 0, 0, 0, LAG_MS, 2);
        assertTrue(s.underMinIsr());
        assertEquals(-1, s.maybeIncrementHighWatermark(10), "ISR of one under min.insync.replicas=2");
        LeaderState alone = new LeaderState(1, List.of(1, 2, 3), List.of(1), 0, 0, 0, 0, 0, LAG_MS, 1);
        assertEquals(10, alone.maybeIncrementHighWatermark(10), "min.insync.replicas=1: the leader alone commits");
    }
}
