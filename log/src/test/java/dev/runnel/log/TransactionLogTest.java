package dev.runnel.log;

import dev.runnel.wire.records.BatchBuilder;
import org.apache.kafka.common.record.ControlRecordType;
import org.apache.kafka.common.record.EndTransactionMarker;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.Record;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static dev.runnel.log.TestBatches.kafkaRecords;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Transactions as the log sees them: transactional batches from producers, COMMIT/ABORT markers appended for
 * the coordinator or copied by a follower, the last stable offset, the aborted-transaction index in Kafka's
 * format, and what survives a restart, a crash, a truncation, retention and compaction.
 */
class TransactionLogTest {
    private static final long T0 = 1_700_000_000_000L;

    @TempDir
    Path tmp;

    private final AtomicLong clock = new AtomicLong(T0);

    private Path dir() {
        return tmp.resolve("t-0");
    }

    private PartitionLog open(LogConfig cfg) throws IOException {
        return PartitionLog.open(dir(), cfg, clock::get);
    }

    private static LogConfig small() {
        return LogConfig.defaults().withSegmentBytes(600).withIndexIntervalBytes(100).withSegmentIndexBytes(1200);
    }

    /** Producer sequences, per producer id. */
    private final java.util.Map<Long, Integer> seqs = new java.util.HashMap<>();

    /** A transactional batch of {@code n} records of producer {@code pid} (epoch 0), appended as a client would. */
    private long txData(PartitionLog log, long pid, int n) {
        int seq = seqs.getOrDefault(pid, 0);
        BatchBuilder b = new BatchBuilder().producer(pid, (short) 0, seq).transactional(true);
        for (int i = 0; i < n; i++) {
            b.append(clock.get(), "k" + pid + "-" + (seq + i), "txn-" + pid + "-" + (seq + i));
        }
        seqs.put(pid, seq + n);
        AppendResult r = log.append(b.build(), 0);
        assertTrue(r.isOk(), r.toString());
        commitAll(log);
        return r.firstOffset();
    }

    /** A non-transactional batch without a producer. */
    private static long plain(PartitionLog log, String value) {
        AppendResult r = log.append(new BatchBuilder().append(T0, "plain", value).build(), 0);
        assertTrue(r.isOk(), r.toString());
        commitAll(log);
        return r.firstOffset();
    }

    /** The coordinator's marker for {@code pid}; returns its offset. */
    private long marker(PartitionLog log, long pid, boolean commit) {
        AppendResult r = log.append(EndTxnMarker.batch(pid, (short) 0, 5, commit, clock.get()), 0, AppendOrigin.COORDINATOR);
        assertTrue(r.isOk(), r.toString());
        commitAll(log);
        return r.firstOffset();
    }

    /** A single replica: everything appended is committed (the broker's job). */
    private static void commitAll(PartitionLog log) {
        log.updateHighWatermark(Long.MAX_VALUE);
    }

    private static List<AbortedTxn> abortedFor(PartitionLog log, long fetchOffset) {
        LogReadResult r = log.read(fetchOffset, Integer.MAX_VALUE, log.lastStableOffset());
        return log.abortedTransactions(fetchOffset, r);
    }

    private Path txnIndexFile(long base) {
        return dir().resolve(String.format("%020d.txnindex", base));
    }

    private List<AbortedTxn> allIndexed(PartitionLog log) {
        return log.abortedTransactionsBelow(Long.MAX_VALUE);
    }

    @Test
    void anAbortWritesOneEntryInKafkasTxnIndexLayout() throws IOException {
        try (PartitionLog log = open(LogConfig.defaults())) {
            txData(log, 7, 3);            // offsets 0..2
            plain(log, "x");               // 3
            long abort = marker(log, 7, false); // 4
            assertEquals(4, abort);
        }
        byte[] bytes = Files.readAllBytes(txnIndexFile(0));
        assertEquals(34, bytes.length, "one entry of 34 bytes");
        ByteBuffer b = ByteBuffer.wrap(bytes);
        assertEquals(0, b.getShort(), "version");
        assertEquals(7L, b.getLong(), "producer id");
        assertEquals(0L, b.getLong(), "first offset");
        assertEquals(4L, b.getLong(), "last offset: the ABORT marker");
        assertEquals(5L, b.getLong(), "last stable offset: no other transaction was open");
    }

    @Test
    void aCommitWritesNoIndexAndAMarkerWithoutDataChangesNothing() throws IOException {
        try (PartitionLog log = open(LogConfig.defaults())) {
            txData(log, 1, 2);
            marker(log, 1, true);
            marker(log, 2, false); // producer 2 never wrote here (the coordinator still sends the marker)
            assertEquals(log.logEndOffset(), log.lastStableOffset());
            assertTrue(allIndexed(log).isEmpty());
        }
        assertFalse(Files.exists(txnIndexFile(0)), "as Kafka: no .txnindex file until a transaction aborts");
    }

    @Test
    void theLastStableOffsetFollowsTheEarliestOpenTransactionOfInterleavedProducers() throws IOException {
        try (PartitionLog log = open(LogConfig.defaults())) {
            assertEquals(0, log.lastStableOffset());
            plain(log, "a");                       // 0
            assertEquals(1, log.lastStableOffset());
            long a = txData(log, 10, 2);           // 1..2  A opens
            plain(log, "b");                       // 3
            long c = txData(log, 30, 1);           // 4     C opens
            txData(log, 10, 1);                    // 5     A continues
            assertEquals(6, log.highWatermark());
            assertEquals(a, log.lastStableOffset(), "pinned at A's first offset");
            assertEquals(2, log.openTransactions().size());

            long commitA = marker(log, 10, true);  // 6
            assertEquals(c, log.lastStableOffset(), "A decided: now C's first offset");
            long abortC = marker(log, 30, false);  // 7
            assertEquals(8, log.lastStableOffset(), "nothing open: the high watermark");
            assertTrue(log.openTransactions().isEmpty());

            List<AbortedTxn> idx = allIndexed(log);
            assertEquals(List.of(new AbortedTxn(30, c, abortC, 8)), idx);
            assertTrue(commitA < abortC);

            // read_committed reads stop at the LSO: C reopened by another batch pins the reads again
            long c2 = txData(log, 30, 1);          // 8
            assertEquals(c2, log.lastStableOffset());
            LogReadResult r = log.read(0, Integer.MAX_VALUE, log.lastStableOffset());
            List<Record> recs = kafkaRecords(r.toByteBuffer());
            assertEquals(c2 - 1, recs.get(recs.size() - 1).offset(), "the last record read is the ABORT marker before C's new transaction");
        }
    }

    @Test
    void aCompletedTransactionPinsTheLastStableOffsetUntilTheHighWatermarkPassesItsMarker() throws IOException {
        try (PartitionLog log = open(LogConfig.defaults())) {
            long first = txData(log, 1, 3); // 0..2
            AppendResult m = log.append(EndTxnMarker.batch(1, (short) 0, 0, true, T0), 0, AppendOrigin.COORDINATOR);
            assertTrue(m.isOk());
            log.updateHighWatermark(3); // a follower has not copied the marker yet
            assertEquals(first, log.lastStableOffset());
            log.updateHighWatermark(4);
            assertEquals(4, log.lastStableOffset());
        }
    }

    @Test
    void abortEntriesCarryTheLastStableOffsetOfTheOtherOpenTransactions() throws IOException {
        try (PartitionLog log = open(LogConfig.defaults())) {
            long a = txData(log, 1, 1);            // 0 A
            long b = txData(log, 2, 1);            // 1 B
            long abortA = marker(log, 1, false);   // 2
            long abortB = marker(log, 2, false);   // 3
            assertEquals(List.of(new AbortedTxn(1, a, abortA, b), new AbortedTxn(2, b, abortB, abortB + 1)), allIndexed(log));

            // Kafka's collectAbortedTxns: lastOffset >= fetch offset and firstOffset < end of the fetched data
            assertEquals(2, abortedFor(log, 0).size());
            assertEquals(2, abortedFor(log, 2).size(), "A's marker is at 2");
            assertEquals(List.of(new AbortedTxn(2, b, abortB, abortB + 1)), abortedFor(log, 3));
            plain(log, "after");
            assertEquals(List.of(), abortedFor(log, 4));
            LogReadResult onlyFirst = log.read(0, 1, log.lastStableOffset()); // one batch: offset 0
            assertEquals(List.of(new AbortedTxn(1, a, abortA, b)), log.abortedTransactions(0, onlyFirst),
                    "B's transaction starts after the fetched data");
        }
    }

    @Test
    void markersWrittenByKafkasOwnCodeAreUnderstood() throws IOException {
        try (PartitionLog log = open(LogConfig.defaults())) {
            long first = txData(log, 42, 2);
            MemoryRecords kafkaMarker = MemoryRecords.withEndTransactionMarker(T0, 42L, (short) 0,
                    new EndTransactionMarker(ControlRecordType.ABORT, 3));
            AppendResult r = log.append(kafkaMarker.buffer(), 0, AppendOrigin.COORDINATOR);
            assertTrue(r.isOk(), r.toString());
            commitAll(log);
            assertEquals(List.of(new AbortedTxn(42, first, r.firstOffset(), r.firstOffset() + 1)), allIndexed(log));
            assertEquals(3, log.producerStates().get(0).coordinatorEpoch());
            assertEquals(-1, log.producerStates().get(0).currentTxnFirstOffset());
        }
    }

    @Test
    void aMarkerFromAnOlderCoordinatorEpochIsFenced() throws IOException {
        try (PartitionLog log = open(LogConfig.defaults())) {
            txData(log, 1, 1);
            assertTrue(log.append(EndTxnMarker.batch(1, (short) 0, 5, true, T0), 0, AppendOrigin.COORDINATOR).isOk());
            txData(log, 1, 1);
            AppendResult stale = log.append(EndTxnMarker.batch(1, (short) 0, 4, false, T0), 0, AppendOrigin.COORDINATOR);
            assertEquals(LogErrors.TRANSACTION_COORDINATOR_FENCED, stale.errorCode());
            assertEquals(2, log.lastStableOffset(), "the second transaction is still open");
        }
    }

    @Test
    void aFollowerCopyingTheLeaderBuildsTheSameIndexAndLastStableOffset() throws IOException {
        ByteBuffer leaderBytes;
        List<AbortedTxn> leaderIndex;
        try (PartitionLog leader = open(LogConfig.defaults())) {
            txData(leader, 1, 2);
            txData(leader, 2, 1);
            marker(leader, 1, false);
            txData(leader, 3, 1);
            marker(leader, 2, true);
            leaderBytes = leader.readBytes(0, Integer.MAX_VALUE);
            leaderIndex = allIndexed(leader);
            assertEquals(1, leaderIndex.size());
        }
        try (PartitionLog follower = PartitionLog.open(tmp.resolve("f-0"), LogConfig.defaults(), clock::get)) {
            assertTrue(follower.appendAsFollower(leaderBytes).isOk());
            follower.updateHighWatermark(Long.MAX_VALUE);
            assertEquals(leaderIndex, follower.abortedTransactionsBelow(Long.MAX_VALUE));
            assertEquals(4, follower.lastStableOffset(), "producer 3's transaction (offset 4) is open");
        }
    }

    @Test
    void aCleanRestartMidTransactionKeepsTheLastStableOffsetPinned() throws IOException {
        long open;
        try (PartitionLog log = open(LogConfig.defaults())) {
            txData(log, 1, 1);
            marker(log, 1, false);
            plain(log, "x");
            open = txData(log, 9, 2);
            plain(log, "y");
            assertEquals(open, log.lastStableOffset());
        }
        assertTrue(Files.exists(dir().resolve(ShutdownSnapshot.FILE)));
        try (PartitionLog log = open(LogConfig.defaults())) {
            assertEquals(open, log.lastStableOffset(), "the snapshot kept producer 9's open transaction");
            assertEquals(1, allIndexed(log).size());
            long abort = marker(log, 9, false);
            assertEquals(log.logEndOffset(), log.lastStableOffset());
            assertEquals(new AbortedTxn(9, open, abort, abort + 1), allIndexed(log).get(1));
        }
    }

    @Test
    void aCrashMidTransactionKeepsTheLastStableOffsetPinnedAndRebuildsTheIndex() throws IOException {
        long open;
        List<AbortedTxn> before;
        PartitionLog log = open(small());
        for (int i = 0; i < 6; i++) {
            txData(log, 100 + i, 3);
            plain(log, "between-" + i);
            marker(log, 100 + i, i % 2 == 0);
        }
        open = txData(log, 7, 1);
        plain(log, "z");
        before = allIndexed(log);
        assertEquals(3, before.size());
        assertTrue(log.segmentCount() > 2, "the aborts are spread over several segments");
        log.simulateCrash();
        // the crash also lost the index files
        try (var files = Files.list(dir())) {
            for (Path p : files.filter(p -> p.toString().endsWith(".txnindex")).toList()) {
                Files.delete(p);
            }
        }
        try (PartitionLog reopened = open(small())) {
            assertEquals(open, reopened.lastStableOffset());
            assertEquals(before, allIndexed(reopened));
        }
    }

    @Test
    void aTornOrMissingIndexAfterACleanShutdownIsRebuilt() throws IOException {
        List<AbortedTxn> before;
        try (PartitionLog log = open(LogConfig.defaults())) {
            for (int i = 0; i < 3; i++) {
                txData(log, 1 + i, 2);
                marker(log, 1 + i, false);
            }
            before = allIndexed(log);
        }
        // cut the last entry in half while the broker is down
        try (FileChannel ch = FileChannel.open(txnIndexFile(0), StandardOpenOption.WRITE)) {
            ch.truncate(34 * 2 + 17);
        }
        try (PartitionLog log = open(LogConfig.defaults())) {
            assertEquals(before, allIndexed(log));
        }
        assertEquals(34 * 3, Files.size(txnIndexFile(0)));
        Files.delete(txnIndexFile(0));
        try (PartitionLog log = open(LogConfig.defaults())) {
            assertEquals(before, allIndexed(log));
            assertEquals(before.subList(1, 3), abortedFor(log, 3));
        }
        assertEquals(34 * 3, Files.size(txnIndexFile(0)));
    }

    @Test
    void truncationDropsTheEntriesOfRemovedMarkersAndReopensTheirTransactions() throws IOException {
        try (PartitionLog log = open(LogConfig.defaults())) {
            long a = txData(log, 1, 2);      // 0..1
            marker(log, 1, false);           // 2
            long b = txData(log, 2, 1);      // 3
            long abortB = marker(log, 2, false); // 4
            assertEquals(2, allIndexed(log).size());
            assertTrue(log.truncateTo(abortB));
            assertEquals(List.of(new AbortedTxn(1, a, 2, 3)), allIndexed(log));
            assertEquals(b, log.lastStableOffset(), "B's marker is gone: its transaction is open again");
            assertEquals(34, Files.size(txnIndexFile(0)));
        }
    }

    @Test
    void retentionDeletesTheIndexWithItsSegment() throws IOException {
        LogConfig cfg = small().withRetentionMs(60_000).withCleanup(LogConfig.Cleanup.defaults().withFileDeleteDelayMs(0));
        try (PartitionLog log = open(cfg)) {
            for (int i = 0; i < 8; i++) {
                txData(log, 1 + i, 3);
                marker(log, 1 + i, false);
            }
            long[] bases = log.segmentBaseOffsets();
            assertTrue(bases.length >= 3);
            long withIndex = 0;
            for (long base : bases) {
                withIndex += Files.exists(txnIndexFile(base)) ? 1 : 0;
            }
            assertTrue(withIndex >= 2, "several segments have aborts");
            clock.addAndGet(3_600_000L); // everything is an hour old
            assertTrue(log.deleteOldSegments() > 0);
            log.deleteExpiredSegmentFiles();
            for (long base : bases) {
                if (base < log.logStartOffset()) {
                    assertFalse(Files.exists(txnIndexFile(base)), "index of deleted segment " + base);
                    assertFalse(Files.exists(dir().resolve(String.format("%020d.txnindex.deleted", base))));
                }
            }
            for (AbortedTxn t : allIndexed(log)) {
                assertTrue(t.lastOffset() >= log.segmentBaseOffsets()[0]);
            }
        }
    }

    @Test
    void compactionRemovesAbortedDataKeepsMarkersAndCarriesTheIndex() throws IOException {
        LogConfig cfg = small().withCleanup(LogConfig.Cleanup.defaults().withPolicy("compact").withDeleteRetentionMs(10_000));
        List<AbortedTxn> before;
        try (PartitionLog log = open(cfg)) {
            // committed key k1-0 = "txn-1-0", then an aborted overwrite of the same key by producer 2
            BatchBuilder committed = new BatchBuilder().producer(1, (short) 0, 0).transactional(true).append(T0, "key", "committed");
            assertTrue(log.append(committed.build(), 0).isOk());
            commitAll(log);
            marker(log, 1, true);
            BatchBuilder aborted = new BatchBuilder().producer(2, (short) 0, 0).transactional(true).append(T0, "key", "aborted");
            assertTrue(log.append(aborted.build(), 0).isOk());
            commitAll(log);
            long abort = marker(log, 2, false);
            for (int i = 0; i < 20; i++) {
                plain(log, "filler-" + i);
            }
            before = allIndexed(log);
            assertEquals(1, before.size());
            assertEquals(abort, before.get(0).lastOffset());
            assertTrue(log.segmentCount() > 2);
            LogCleaner.Result r = log.clean(true, LogCleaner.DEFAULT_MAX_MAP_ENTRIES);
            assertTrue(r != null && r.recordsRemoved() > 0, String.valueOf(r));
            assertEquals(before, allIndexed(log), "the entry stays, in the cleaned segment's index");

            List<String> values = new ArrayList<>();
            List<Long> controls = new ArrayList<>();
            for (org.apache.kafka.common.record.MutableRecordBatch b : TestBatches.kafkaBatches(log.readBytes(0, Integer.MAX_VALUE))) {
                if (b.isControlBatch()) {
                    controls.add(b.baseOffset());
                } else {
                    for (Record rec : b) {
                        if (rec.hasKey() && new String(org.apache.kafka.common.utils.Utils.toArray(rec.key())).equals("key")) {
                            values.add(new String(org.apache.kafka.common.utils.Utils.toArray(rec.value())));
                        }
                    }
                }
            }
            assertEquals(List.of("committed"), values, "the aborted overwrite did not shadow the committed value");
            assertEquals(2, controls.size(), "both markers stay");
        }
        try (PartitionLog log = open(cfg)) {
            assertEquals(before, allIndexed(log));
        }
    }

    @Test
    void compactionNeverCleansAnOpenTransaction() throws IOException {
        LogConfig cfg = small().withCleanup(LogConfig.Cleanup.defaults().withPolicy("compact").withDeleteRetentionMs(10_000));
        try (PartitionLog log = open(cfg)) {
            long open = txData(log, 5, 2);
            for (int i = 0; i < 30; i++) {
                plain(log, "filler-" + i); // one key, rewritten: most of it is cleanable
            }
            assertTrue(log.segmentCount() > 3);
            assertEquals(open, log.lastStableOffset());
            assertEquals(null, log.clean(true, LogCleaner.DEFAULT_MAX_MAP_ENTRIES),
                    "the first segment holds an open transaction: nothing from it on is cleaned");
            marker(log, 5, true);
            LogCleaner.Result r = log.clean(true, LogCleaner.DEFAULT_MAX_MAP_ENTRIES);
            assertTrue(r != null && r.recordsRemoved() > 0, String.valueOf(r));
        }
    }

    @Test
    void aControlBatchWithoutAMarkerIsRefusedAndClientsCannotWriteMarkers() throws IOException {
        try (PartitionLog log = open(LogConfig.defaults())) {
            long open = txData(log, 1, 1);
            ByteBuffer garbage = new BatchBuilder().producer(1, (short) 0, -1).transactional(true).control(true)
                    .append(T0, "not-a-marker", "x").build();
            assertEquals(LogErrors.INVALID_RECORD, log.append(garbage, 0, AppendOrigin.COORDINATOR).errorCode());
            AppendResult fromClient = log.append(EndTxnMarker.batch(1, (short) 0, 0, false, T0), 0);
            assertFalse(fromClient.isOk(), "a producer cannot end a transaction by writing a marker itself");
            assertEquals(open, log.lastStableOffset());
            assertTrue(allIndexed(log).isEmpty());
        }
    }

    @Test
    void anOpenTransactionWhoseStartWasDeletedPinsTheLastStableOffsetAtTheLogStart() throws IOException {
        try (PartitionLog log = open(LogConfig.defaults())) {
            long open = txData(log, 1, 1);
            plain(log, "a");
            plain(log, "b");
            assertEquals(open, log.lastStableOffset());
            assertEquals(2, log.maybeIncrementLogStartOffset(2));
            assertEquals(2, log.lastStableOffset(), "not below the log start offset");
            marker(log, 1, false);
            assertEquals(log.logEndOffset(), log.lastStableOffset());
        }
    }
}
