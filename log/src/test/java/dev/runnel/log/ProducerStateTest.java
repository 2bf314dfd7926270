package dev.runnel.log;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

import static dev.runnel.log.TestBatches.producerBatch;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Idempotent-producer rules, through PartitionLog.append as the broker uses them. */
class ProducerStateTest {
    @TempDir
    Path tmp;

    private PartitionLog open() throws IOException {
        return PartitionLog.open(tmp.resolve("t-0"), LogConfig.defaults(), () -> 1000L);
    }

    private static AppendResult ok(AppendResult r) {
        assertTrue(r.isOk(), r.toString());
        return r;
    }

    @Test
    void retriedBatchIsAcknowledgedWithItsOriginalOffsets() throws IOException {
        try (PartitionLog log = open()) {
            ok(log.append(TestBatches.batch(2, 1L), 0));
            AppendResult first = ok(log.append(producerBatch(7L, (short) 0, 0, 3, 10L), 0));
            assertEquals(2, first.firstOffset());
            assertEquals(4, first.lastOffset());
            long size = log.size();
            AppendResult retry = ok(log.append(producerBatch(7L, (short) 0, 0, 3, 10L), 0));
            assertTrue(retry.duplicate());
            assertEquals(2, retry.firstOffset());
            assertEquals(4, retry.lastOffset());
            assertEquals(0, retry.recordCount());
            assertEquals(5, log.logEndOffset());
            assertEquals(size, log.size());
        }
    }

    @Test
    void anyOfTheLastFiveBatchesIsADuplicateButNotOlder() throws IOException {
        try (PartitionLog log = open()) {
            for (int i = 0; i < 7; i++) {
                ok(log.append(producerBatch(1L, (short) 0, i * 2, 2, 1L), 0));
            }
            // batch 3 (seq 6..7, offsets 6..7) is among the last five
            AppendResult dup = ok(log.append(producerBatch(1L, (short) 0, 6, 2, 1L), 0));
            assertTrue(dup.duplicate());
            assertEquals(6, dup.firstOffset());
            // batch 0 (seq 0..1) is not: out of order
            assertEquals(LogErrors.OUT_OF_ORDER_SEQUENCE_NUMBER,
                    log.append(producerBatch(1L, (short) 0, 0, 2, 1L), 0).errorCode());
            assertEquals(14, log.logEndOffset());
        }
    }

    @Test
    void gapsAreOutOfOrder() throws IOException {
        try (PartitionLog log = open()) {
            ok(log.append(producerBatch(1L, (short) 0, 0, 2, 1L), 0));
            AppendResult gap = log.append(producerBatch(1L, (short) 0, 3, 1, 1L), 0);
            assertEquals(LogErrors.OUT_OF_ORDER_SEQUENCE_NUMBER, gap.errorCode());
            assertEquals(2, log.logEndOffset());
            ok(log.append(producerBatch(1L, (short) 0, 2, 1, 1L), 0));
            // a different sequence range overlapping a cached batch is not a duplicate
            assertEquals(LogErrors.OUT_OF_ORDER_SEQUENCE_NUMBER,
                    log.append(producerBatch(1L, (short) 0, 1, 2, 1L), 0).errorCode());
        }
    }

    @Test
    void epochs() throws IOException {
        try (PartitionLog log = open()) {
            ok(log.append(producerBatch(1L, (short) 3, 0, 2, 1L), 0));
            ok(log.append(producerBatch(1L, (short) 3, 2, 2, 1L), 0));
            assertEquals(LogErrors.INVALID_PRODUCER_EPOCH, log.append(producerBatch(1L, (short) 2, 4, 1, 1L), 0).errorCode());
            assertEquals(LogErrors.OUT_OF_ORDER_SEQUENCE_NUMBER,
                    log.append(producerBatch(1L, (short) 4, 4, 1, 1L), 0).errorCode());
            ok(log.append(producerBatch(1L, (short) 4, 0, 1, 1L), 0));
            // the old epoch is fenced now
            assertEquals(LogErrors.INVALID_PRODUCER_EPOCH, log.append(producerBatch(1L, (short) 3, 4, 1, 1L), 0).errorCode());
            assertEquals(5, log.logEndOffset());
        }
    }

    @Test
    void unknownProducerIsAcceptedAtAnySequenceAsKafkaDoes() throws IOException {
        try (PartitionLog log = open()) {
            ok(log.append(producerBatch(42L, (short) 0, 17, 2, 1L), 0));
            ok(log.append(producerBatch(42L, (short) 0, 19, 1, 1L), 0));
            assertEquals(LogErrors.OUT_OF_ORDER_SEQUENCE_NUMBER,
                    log.append(producerBatch(42L, (short) 0, 25, 1, 1L), 0).errorCode());
        }
    }

    @Test
    void sequencesWrapAfterIntegerMax() throws IOException {
        try (PartitionLog log = open()) {
            ok(log.append(producerBatch(5L, (short) 0, Integer.MAX_VALUE - 1, 2, 1L), 0));
            ok(log.append(producerBatch(5L, (short) 0, 0, 2, 1L), 0));
            assertEquals(1, log.producerStates().get(0).lastSequence());
        }
    }

    @Test
    void producersAreIndependent() throws IOException {
        try (PartitionLog log = open()) {
            ok(log.append(producerBatch(1L, (short) 0, 0, 1, 1L), 0));
            ok(log.append(producerBatch(2L, (short) 0, 0, 1, 1L), 0));
            ok(log.append(producerBatch(1L, (short) 0, 1, 1, 1L), 0));
            assertTrue(log.append(producerBatch(2L, (short) 0, 0, 1, 1L), 0).duplicate());
        }
    }

    @Test
    void stateSurvivesCleanAndUncleanRestarts() throws IOException {
        try (PartitionLog log = open()) {
            ok(log.append(producerBatch(9L, (short) 1, 0, 4, 1L), 0));
        }
        try (PartitionLog log = open()) {
            AppendResult dup = ok(log.append(producerBatch(9L, (short) 1, 0, 4, 1L), 0));
            assertTrue(dup.duplicate());
            ok(log.append(producerBatch(9L, (short) 1, 4, 1, 1L), 0));
        }
        PartitionLog log = open();
        ok(log.append(producerBatch(9L, (short) 1, 5, 1, 1L), 0));
        log.simulateCrash();
        try (PartitionLog reopened = open()) {
            assertTrue(reopened.append(producerBatch(9L, (short) 1, 5, 1, 1L), 0).duplicate());
            assertEquals(LogErrors.OUT_OF_ORDER_SEQUENCE_NUMBER,
                    reopened.append(producerBatch(9L, (short) 1, 7, 1, 1L), 0).errorCode());
            ok(reopened.append(producerBatch(9L, (short) 1, 6, 1, 1L), 0));
        }
    }

    @Test
    void nonTransactionalWriteInsideATransactionIsRejected() throws IOException {
        try (PartitionLog log = open()) {
            ByteBuffer txn = new dev.runnel.wire.records.BatchBuilder().producer(3L, (short) 0, 0).transactional(true)
                    .append(1L, "k", "v").build();
            ok(log.append(txn, 0));
            assertEquals(0L, log.producerStates().get(0).currentTxnFirstOffset());
            assertEquals(LogErrors.INVALID_TXN_STATE, log.append(producerBatch(3L, (short) 0, 1, 1, 1L), 0).errorCode());
            assertFalse(log.producerStates().isEmpty());
        }
    }
}
