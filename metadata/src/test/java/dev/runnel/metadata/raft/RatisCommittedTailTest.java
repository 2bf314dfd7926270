package dev.runnel.metadata.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** The voters' in-memory tail of committed batches that observers fetch from. */
class RatisCommittedTailTest {

    private static List<Long> indexes(CommittedTail.Read read) {
        return read.batches().stream().map(CommittedTail.Batch::index).toList();
    }

    @Test
    void readsAfterAnIndexWithinBoundsAndAsksForASnapshotWhenEvicted() {
        final CommittedTail tail = new CommittedTail(4, 1_000, -1);
        assertTrue(tail.read(-1, 100).batches().isEmpty());
        assertFalse(tail.read(-1, 100).needSnapshot());
        // indexes need not be contiguous (Raft's own entries are not batches)
        for (long i : new long[] {1, 2, 4, 5}) {
            tail.add(i, 1, new byte[10]);
        }
        assertEquals(List.of(1L, 2L, 4L, 5L), indexes(tail.read(-1, 100)));
        assertEquals(List.of(4L, 5L), indexes(tail.read(2, 100)));
        assertEquals(List.of(4L, 5L), indexes(tail.read(3, 100)));
        assertEquals(List.of(1L, 2L), indexes(tail.read(-1, 20)));
        assertEquals(List.of(1L), indexes(tail.read(-1, 5)), "at least one batch even above the byte bound");
        assertTrue(tail.read(5, 100).batches().isEmpty());

        tail.add(7, 2, new byte[10]); // evicts 1
        assertEquals(1, tail.base());
        assertTrue(tail.read(0, 100).needSnapshot());
        assertEquals(List.of(2L, 4L, 5L, 7L), indexes(tail.read(1, 100)));

        tail.add(8, 2, new byte[990]); // byte bound: evicts the oldest until it fits (the newest always stays)
        assertEquals(List.of(7L, 8L), indexes(tail.read(5, 10_000)));
        assertTrue(tail.bytes() <= 1_000);
        assertEquals(5, tail.base());
        tail.add(9, 2, new byte[2_000]);
        assertEquals(List.of(9L), indexes(tail.read(8, 10_000)));
        assertEquals(8, tail.base());

        tail.reset(20);
        assertTrue(tail.read(19, 100).needSnapshot());
        assertTrue(tail.read(20, 100).batches().isEmpty());
    }

    @Test
    void parkedFetchesWakeOnTheNextBatch() {
        final CommittedTail tail = new CommittedTail(100, 1 << 20, -1);
        tail.add(3, 1, new byte[1]);
        assertTrue(tail.awaitAfter(2).isDone(), "something is there already");
        final CompletableFuture<Void> parked = tail.awaitAfter(3);
        assertFalse(parked.isDone());
        final List<CompletableFuture<Void>> woken = tail.add(4, 1, new byte[1]);
        assertEquals(List.of(parked), woken);
        final CompletableFuture<Void> removed = tail.awaitAfter(4);
        tail.removeWaiter(removed);
        assertTrue(tail.add(5, 1, new byte[1]).isEmpty());
    }
}
