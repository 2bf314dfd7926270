package dev.runnel.replication;

import static dev.runnel.replication.TestSupport.assertSameBatches;
import static dev.runnel.replication.TestSupport.await;
import static dev.runnel.replication.TestSupport.batch;
import static dev.runnel.replication.TestSupport.batchAt;
import static dev.runnel.replication.TestSupport.threads;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.log.PartitionLog;
import dev.runnel.wire.Errors;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(120)
class ReplicaFetcherManagerTest {
    private static final int BACKOFF_MS = 200;

    @TempDir
    Path tmp;

    private final List<AutoCloseable> toClose = new ArrayList<>();

    private static ReplicaFetcherConfig config() {
        return ReplicaFetcherConfig.defaults()
                .withFetchMaxBytes(16 * 1024)
                .withFetchResponseMaxBytes(48 * 1024)
                .withFetchWaitMaxMs(100)
                .withFetchBackoffMs(BACKOFF_MS)
                .withSocketTimeoutMs(5000);
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private <T extends AutoCloseable> T closing(T c) {
        toClose.add(c);
        return c;
    }

    private PartitionLog log(String name) throws IOException {
        return closing(TestSupport.open(tmp.resolve(name)));
    }

    private FakeLeader leader(int nodeId) throws IOException {
        return closing(new FakeLeader(nodeId));
    }

    private ReplicaFetcherManager manager(int replicaId, ReplicaFetcherConfig config) {
        return closing(new ReplicaFetcherManager(replicaId, () -> 42L, config));
    }

    private static String state(LogFollower f, PartitionLog leaderLog) {
        return "follower LEO " + f.log.logEndOffset() + " HW " + f.log.highWatermark() + " start " + f.log.logStartOffset()
                + " epoch " + f.log.leaderEpochCache().latestEpoch() + "; leader LEO " + leaderLog.logEndOffset()
                + " HW " + leaderLog.highWatermark() + " start " + leaderLog.logStartOffset();
    }

    private static void awaitCaughtUp(LogFollower f, PartitionLog leaderLog) {
        await("the follower to catch up", () -> f.log.logEndOffset() == leaderLog.logEndOffset()
                        && f.log.highWatermark() == leaderLog.highWatermark()
                        && f.log.leaderEpochCache().latestEpoch() == leaderLog.leaderEpochCache().latestEpoch(),
                () -> state(f, leaderLog));
    }

    // ------------------------------------------------------------------ catching up and following

    @Test
    void catchesUpFromEmptyOverManyFetchesThenFollowsAppendsAndTheHighWatermark() throws Exception {
        FakeLeader leader = leader(1);
        PartitionLog leaderLog = log("leader/orders-0");
        leader.lead("orders", 0, leaderLog, 5);
        for (int i = 0; i < 300; i++) {
            leader.append("orders", 0, batch(5, "b" + i));
        }
        leader.setHighWatermark("orders", 0, leaderLog.logEndOffset());
        assertTrue(leaderLog.size() > 5 * 16 * 1024, "enough data for several fetches: " + leaderLog.size());

        LogFollower f = new LogFollower("orders", 0, log("follower/orders-0"), 5);
        ReplicaFetcherManager manager = manager(2, config());
        manager.addPartitions(leader.endpoint(), List.of(f));
        assertEquals(Optional.of(leader.endpoint()), manager.leaderOf("orders", 0));

        awaitCaughtUp(f, leaderLog);
        assertSameBatches(leaderLog, f.log, 0);
        int fetchesToCatchUp = leader.fetches.size();
        assertTrue(fetchesToCatchUp >= 5, "catching up took several fetches: " + fetchesToCatchUp);
        await("lag 0", () -> manager.lag("orders", 0) == 0);

        // new appends with the high watermark behind the log end: the follower keeps min(leader HW, its LEO)
        for (int i = 0; i < 10; i++) {
            leader.append("orders", 0, batch(3, "n" + i));
        }
        long hw = leaderLog.logEndOffset() - 7;
        leader.setHighWatermark("orders", 0, hw);
        await("the new batches and the leader's high watermark", () -> f.log.logEndOffset() == leaderLog.logEndOffset()
                && f.log.highWatermark() == hw, () -> state(f, leaderLog));
        assertEquals(0, manager.lag("orders", 0), "Kafka's lag: max(0, leader HW - our log end)");
        leader.setHighWatermark("orders", 0, leaderLog.logEndOffset());
        awaitCaughtUp(f, leaderLog);
        assertSameBatches(leaderLog, f.log, 0);
        await("lag 0", () -> manager.lag("orders", 0) == 0);
        assertEquals(leaderLog.logEndOffset(), manager.leaderHighWatermark("orders", 0));
        assertEquals(leaderLog.size(), manager.fetchedBytes(), "every byte fetched once");

        // what the leader was sent: Fetch v12 as replica 2, sessionless, with the partition's epochs
        List<FakeLeader.FetchSeen> fetches = List.copyOf(leader.fetches);
        for (FakeLeader.FetchSeen seen : fetches) {
            assertEquals(12, seen.version());
            assertEquals("runnel-replica-fetcher-2", seen.clientId());
            assertEquals(2, seen.replicaId());
            assertEquals(0, seen.sessionId());
            assertEquals(-1, seen.sessionEpoch());
            assertEquals(100, seen.maxWaitMs());
            assertEquals(1, seen.minBytes());
            assertEquals(48 * 1024, seen.maxBytes());
            assertEquals(1, seen.partitions().size());
            assertEquals(5, seen.partitions().get(0).currentLeaderEpoch());
            assertEquals(16 * 1024, seen.partitions().get(0).partitionMaxBytes());
        }
        FakeLeader.FetchedPartition first = fetches.get(0).partitions().get(0);
        assertEquals(0, first.fetchOffset());
        assertEquals(-1, first.lastFetchedEpoch(), "an empty log has no epoch");
        FakeLeader.FetchedPartition second = fetches.get(1).partitions().get(0);
        assertTrue(second.fetchOffset() > 0);
        assertEquals(5, second.lastFetchedEpoch(), "the epoch of the batches appended");
        for (FakeLeader.FetchedPartition p : leader.fetchedPartitions("orders", 0)) {
            assertTrue(p.logStartOffset() == 0, "LogStartOffset sent: " + p);
        }

        assertEquals(0, f.overlappingCalls.get());
        assertEquals(Set.of(ReplicaFetcherManager.threadNamePrefix(2) + "1-0"), f.callingThreads);
    }

    // ------------------------------------------------------------------ truncation

    @Test
    void divergingEpochTruncatesTheFollowerInStepsUntilItMatchesTheLeader() throws Exception {
        FakeLeader leader = leader(1);
        PartitionLog leaderLog = log("leader/t-0");
        PartitionLog followerLog = log("follower/t-0");
        // both had epoch 1 (offsets 0..11); then the follower led epochs 2 and 4 and the leader epochs 3 and 5,
        // none of which the other replicated
        for (int i = 0; i < 4; i++) {
            assertTrue(leaderLog.append(batch(3, "e1-" + i), 1).isOk());
        }
        assertTrue(followerLog.appendAsFollower(leaderLog.read(0, Integer.MAX_VALUE).toByteBuffer()).isOk());
        for (int i = 0; i < 3; i++) {
            assertTrue(followerLog.append(batch(3, "f2-" + i), 2).isOk());
        }
        for (int i = 0; i < 2; i++) {
            assertTrue(followerLog.append(batch(3, "f4-" + i), 4).isOk());
        }
        for (int i = 0; i < 2; i++) {
            assertTrue(leaderLog.append(batch(3, "l3-" + i), 3).isOk());
        }
        for (int i = 0; i < 3; i++) {
            assertTrue(leaderLog.append(batch(3, "l5-" + i), 5).isOk());
        }
        leaderLog.updateHighWatermark(leaderLog.logEndOffset());
        assertEquals(27, leaderLog.logEndOffset());
        assertEquals(27, followerLog.logEndOffset());
        leader.lead("t", 0, leaderLog, 5);

        LogFollower f = new LogFollower("t", 0, followerLog, 5);
        ReplicaFetcherManager manager = manager(3, config());
        manager.addPartitions(leader.endpoint(), List.of(f));

        awaitCaughtUp(f, leaderLog);
        assertSameBatches(leaderLog, followerLog, 0);
        assertEquals(2, f.truncations.get(), "one intermediate truncation (to 21), then the final one (to 12)");
        assertEquals(0, f.fullTruncations.get());

        await("a fetch with the leader's last epoch", () -> leader.fetchedPartitions("t", 0).stream()
                .anyMatch(p -> p.lastFetchedEpoch() == 5 && p.fetchOffset() == 27));
        List<FakeLeader.FetchedPartition> seen = leader.fetchedPartitions("t", 0);
        assertEquals(List.of(27L, 21L, 12L, 27L),
                seen.subList(0, 4).stream().map(FakeLeader.FetchedPartition::fetchOffset).toList());
        assertEquals(List.of(4, 2, 1, 5),
                seen.subList(0, 4).stream().map(FakeLeader.FetchedPartition::lastFetchedEpoch).toList());

        // and it keeps following
        leader.append("t", 0, batch(4, "after"));
        leader.setHighWatermark("t", 0, leaderLog.logEndOffset());
        awaitCaughtUp(f, leaderLog);
        assertSameBatches(leaderLog, followerLog, 0);
    }

    @Test
    void outOfRangeBehindTheLeadersLogStartRestartsTheLogAtIt() throws Exception {
        FakeLeader leader = leader(1);
        PartitionLog leaderLog = log("leader/t-0");
        PartitionLog followerLog = log("follower/t-0");
        for (int i = 0; i < 50; i++) {
            assertTrue(leaderLog.append(batch(4, "b" + i), 1).isOk());
        }
        leaderLog.updateHighWatermark(leaderLog.logEndOffset());
        // the follower has the first 10 batches, then the leader's log start moves into the batch [100, 103]
        assertTrue(followerLog.appendAsFollower(leaderLog.read(0, Integer.MAX_VALUE, 40).toByteBuffer()).isOk());
        assertEquals(40, followerLog.logEndOffset());
        leaderLog.maybeIncrementLogStartOffset(102);
        leader.lead("t", 0, leaderLog, 1);

        LogFollower f = new LogFollower("t", 0, followerLog, 1);
        ReplicaFetcherManager manager = manager(3, config());
        manager.addPartitions(leader.endpoint(), List.of(f));

        await("the follower to start at the leader's log start and catch up", () -> followerLog.logEndOffset() == 200
                && followerLog.logStartOffset() == 102 && followerLog.highWatermark() == 200, () -> state(f, leaderLog));
        assertSameBatches(leaderLog, followerLog, 102);
        assertEquals(100, TestSupport.batches(followerLog, 102).get(0).baseOffset(), "the whole batch holding 102");
        // once to the leader's start (102), once more to the base of the batch holding it (100), as Kafka does
        assertEquals(2, f.fullTruncations.get());

        List<FakeLeader.ListOffsetsSeen> lo = List.copyOf(leader.listOffsets);
        assertEquals(2, lo.size(), lo.toString());
        assertEquals(PartitionLog.LATEST_TIMESTAMP, lo.get(0).timestamp());
        assertEquals(PartitionLog.EARLIEST_TIMESTAMP, lo.get(1).timestamp());
        for (FakeLeader.ListOffsetsSeen s : lo) {
            assertEquals(3, s.replicaId());
            assertEquals(1, s.currentLeaderEpoch());
            assertEquals("t", s.topic());
            assertEquals(0, s.partition());
        }
    }

    @Test
    void outOfRangeAheadOfTheLeaderTruncatesToTheLeadersLogEnd() throws Exception {
        FakeLeader leader = leader(1);
        PartitionLog leaderLog = log("leader/t-0");
        PartitionLog followerLog = log("follower/t-0");
        for (int i = 0; i < 10; i++) {
            assertTrue(leaderLog.append(batch(4, "b" + i), 1).isOk());
        }
        leaderLog.updateHighWatermark(leaderLog.logEndOffset());
        // a follower whose batches carry no leader epoch (so it sends no LastFetchedEpoch) and go past the leader's end
        for (int i = 0; i < 15; i++) {
            assertTrue(followerLog.appendAsFollower(batchAt(i * 4L, -1, 4, "old" + i)).isOk());
        }
        assertEquals(60, followerLog.logEndOffset());
        assertEquals(-1, followerLog.leaderEpochCache().latestEpoch());
        // its high watermark at its end: the truncation of an epoch-less log to its high watermark removes nothing
        followerLog.updateHighWatermark(60);
        leader.lead("t", 0, leaderLog, 1);

        LogFollower f = new LogFollower("t", 0, followerLog, 1);
        ReplicaFetcherManager manager = manager(3, config());
        manager.addPartitions(leader.endpoint(), List.of(f));

        await("truncation to the leader's end", () -> followerLog.logEndOffset() == 40, () -> state(f, leaderLog));
        assertEquals(1, f.truncations.get());
        assertEquals(List.of(PartitionLog.LATEST_TIMESTAMP),
                leader.listOffsets.stream().map(FakeLeader.ListOffsetsSeen::timestamp).toList());
        assertEquals(-1, leader.fetchedPartitions("t", 0).get(0).lastFetchedEpoch());

        for (int i = 0; i < 5; i++) {
            leader.append("t", 0, batch(4, "new" + i));
        }
        leader.setHighWatermark("t", 0, leaderLog.logEndOffset());
        awaitCaughtUp(f, leaderLog);
        assertSameBatches(leaderLog, followerLog, 40);
    }

    @Test
    void aLogWithoutLeaderEpochsIsTruncatedToItsHighWatermarkBeforeItsFirstFetch() throws Exception {
        FakeLeader leader = leader(1);
        PartitionLog leaderLog = log("leader/t-0");
        PartitionLog followerLog = log("follower/t-0");
        for (int i = 0; i < 10; i++) {
            assertTrue(leaderLog.append(batch(4, "b" + i), 1).isOk());
        }
        leaderLog.updateHighWatermark(leaderLog.logEndOffset());
        // the first 5 batches as the leader has them, then 5 batches the leader never had, no epochs known
        ByteBuffer same = leaderLog.read(0, Integer.MAX_VALUE, 20L).toByteBuffer();
        assertTrue(followerLog.appendAsFollower(same).isOk());
        for (int i = 5; i < 10; i++) {
            assertTrue(followerLog.appendAsFollower(batchAt(i * 4L, -1, 4, "other" + i)).isOk());
        }
        followerLog.leaderEpochCache().clear();
        followerLog.updateHighWatermark(20);
        assertEquals(40, followerLog.logEndOffset());
        assertEquals(-1, followerLog.leaderEpochCache().latestEpoch());
        leader.lead("t", 0, leaderLog, 1);

        LogFollower f = new LogFollower("t", 0, followerLog, 1);
        ReplicaFetcherManager manager = manager(3, config());
        manager.addPartitions(leader.endpoint(), List.of(f));

        awaitCaughtUp(f, leaderLog);
        assertEquals(1, f.truncations.get(), "one truncation, to the high watermark");
        assertEquals(20, leader.fetchedPartitions("t", 0).get(0).fetchOffset(), "the first fetch starts at the high watermark");
        assertSameBatches(leaderLog, followerLog, 0);
    }

    // ------------------------------------------------------------------ errors

    @Test
    void partitionErrorsBackOffWithoutStoppingTheFetcher() throws Exception {
        FakeLeader leader = leader(1);
        PartitionLog leaderLog = log("leader/t-0");
        leader.lead("t", 0, leaderLog, 5);
        for (int i = 0; i < 5; i++) {
            leader.append("t", 0, batch(2, "b" + i));
        }
        leader.setHighWatermark("t", 0, leaderLog.logEndOffset());
        leader.forcedError = Errors.NOT_LEADER_OR_FOLLOWER;

        LogFollower f = new LogFollower("t", 0, log("follower/t-0"), 5);
        ReplicaFetcherManager manager = manager(4, config());
        manager.addPartitions(leader.endpoint(), List.of(f));

        await("four refused fetches", () -> leader.fetches.size() >= 4);
        assertBackedOff(leader.fetches.subList(0, 4));
        assertEquals(0, f.log.logEndOffset());
        assertEquals(-1, manager.lag("t", 0));
        assertEquals(1, threads(ReplicaFetcherManager.threadNamePrefix(4)).size(), "the fetcher thread still runs");

        leader.forcedError = null;
        awaitCaughtUp(f, leaderLog);
        assertSameBatches(leaderLog, f.log, 0);

        // a stale leader epoch: FENCED_LEADER_EPOCH, backoff, until the metadata gives the partition the new epoch
        f.leaderEpoch = 4;
        await("three fenced fetches", () -> leader.fetchedPartitions("t", 0).stream()
                .filter(p -> p.currentLeaderEpoch() == 4).count() >= 3);
        leader.append("t", 0, batch(2, "late"));
        leader.setHighWatermark("t", 0, leaderLog.logEndOffset());
        await("a fenced fetch after the append", () -> leader.fetchedPartitions("t", 0).stream()
                .filter(p -> p.currentLeaderEpoch() == 4).count() >= 4);
        List<FakeLeader.FetchSeen> fenced = leader.fetches.stream()
                .filter(s -> s.partitions().get(0).currentLeaderEpoch() == 4).toList();
        assertBackedOff(fenced.subList(0, 4));
        assertTrue(f.log.logEndOffset() < leaderLog.logEndOffset(), "a fenced follower gets no data");
        f.leaderEpoch = 5;
        awaitCaughtUp(f, leaderLog);
        assertSameBatches(leaderLog, f.log, 0);
        assertEquals(1, threads(ReplicaFetcherManager.threadNamePrefix(4)).size());
    }

    private static void assertBackedOff(List<FakeLeader.FetchSeen> fetches) {
        for (int i = 1; i < fetches.size(); i++) {
            long gapMs = TimeUnit.NANOSECONDS.toMillis(fetches.get(i).nanoTime() - fetches.get(i - 1).nanoTime());
            assertTrue(gapMs >= BACKOFF_MS * 3 / 4, "fetch " + i + " came " + gapMs + " ms after the previous one");
        }
    }

    @Test
    void aDroppedConnectionIsReopenedAfterTheBackoff() throws Exception {
        FakeLeader leader = leader(1);
        PartitionLog leaderLog = log("leader/t-0");
        leader.lead("t", 0, leaderLog, 2);
        for (int i = 0; i < 20; i++) {
            leader.append("t", 0, batch(3, "b" + i));
        }
        leader.setHighWatermark("t", 0, leaderLog.logEndOffset());
        leader.dropNextFetches.set(2);

        LogFollower f = new LogFollower("t", 0, log("follower/t-0"), 2);
        ReplicaFetcherManager manager = manager(5, config());
        manager.addPartitions(leader.endpoint(), List.of(f));

        awaitCaughtUp(f, leaderLog);
        assertSameBatches(leaderLog, f.log, 0);
        assertTrue(leader.connectionsAccepted.get() >= 3, "reconnected: " + leader.connectionsAccepted.get());
        assertBackedOff(leader.fetches.subList(0, 3));
    }

    @Test
    void aBatchThatFailsToAppendIsFetchedAgainAfterTheBackoff() throws Exception {
        FakeLeader leader = leader(1);
        PartitionLog leaderLog = log("leader/t-0");
        leader.lead("t", 0, leaderLog, 2);
        for (int i = 0; i < 30; i++) {
            leader.append("t", 0, batch(3, "b" + i));
        }
        leader.setHighWatermark("t", 0, leaderLog.logEndOffset());
        leader.corruptNextFetches.set(1);

        LogFollower f = new LogFollower("t", 0, log("follower/t-0"), 2);
        ReplicaFetcherManager manager = manager(6, config());
        manager.addPartitions(leader.endpoint(), List.of(f));

        awaitCaughtUp(f, leaderLog);
        assertSameBatches(leaderLog, f.log, 0);
        List<FakeLeader.FetchSeen> fromZero = leader.fetches.stream()
                .filter(s -> s.partitions().get(0).fetchOffset() == 0).toList();
        assertEquals(2, fromZero.size(), "the corrupt answer was not appended, offset 0 fetched again");
        assertBackedOff(fromZero);
    }

    // ------------------------------------------------------------------ moving partitions, closing

    @Test
    void removedPartitionsAreNotTouchedAndCanFollowAnotherLeader() throws Exception {
        FakeLeader a = leader(1);
        FakeLeader b = leader(2);
        List<PartitionLog> logsA = new ArrayList<>();
        List<PartitionLog> logsB = new ArrayList<>();
        List<LogFollower> followers = new ArrayList<>();
        for (int p = 0; p < 2; p++) {
            PartitionLog la = log("a/t-" + p);
            a.lead("t", p, la, 5);
            for (int i = 0; i < 20; i++) {
                a.append("t", p, batch(3, "a" + p + "-" + i));
            }
            a.setHighWatermark("t", p, la.logEndOffset());
            // b has a's log, then led epoch 6
            PartitionLog lb = log("b/t-" + p);
            assertTrue(lb.appendAsFollower(la.read(0, Integer.MAX_VALUE).toByteBuffer()).isOk());
            b.lead("t", p, lb, 6);
            for (int i = 0; i < 10; i++) {
                b.append("t", p, batch(3, "b" + p + "-" + i));
            }
            b.setHighWatermark("t", p, lb.logEndOffset());
            logsA.add(la);
            logsB.add(lb);
            followers.add(new LogFollower("t", p, log("follower/t-" + p), 5));
        }
        LogFollower f0 = followers.get(0);
        LogFollower f1 = followers.get(1);
        ReplicaFetcherManager manager = manager(7, config());
        manager.addPartitions(a.endpoint(), followers);
        awaitCaughtUp(f0, logsA.get(0));
        awaitCaughtUp(f1, logsA.get(1));

        manager.removePartitions(List.of(f0));
        f0.removed = true;
        long removedAt = System.nanoTime();
        assertEquals(Optional.empty(), manager.leaderOf("t", 0));
        assertEquals(-1, manager.lag("t", 0));
        // a keeps writing t-0: the fetcher (still fetching t-1 from a) must not touch f0 any more
        a.append("t", 0, batch(3, "unseen"));
        a.setHighWatermark("t", 0, logsA.get(0).logEndOffset());
        await("two fetches of t-1 alone after the removal", () -> a.fetches.stream()
                .filter(s -> s.nanoTime() > removedAt && s.partitions().size() == 1
                        && s.partitions().get(0).partition() == 1).count() >= 2);
        assertEquals(0, f0.callsWhileRemoved.get());
        assertTrue(f0.log.logEndOffset() < logsA.get(0).logEndOffset());
        assertEquals(1, threads(ReplicaFetcherManager.threadNamePrefix(7) + "1-").size());

        // t-1 moves to b directly (removed from a's fetcher first), t-0 is added to b again
        f1.leaderEpoch = 6;
        manager.addPartitions(b.endpoint(), List.of(f1));
        assertEquals(Optional.of(b.endpoint()), manager.leaderOf("t", 1));
        assertEquals(0, threads(ReplicaFetcherManager.threadNamePrefix(7) + "1-").size(), "a's idle fetcher ended");
        assertEquals(1, manager.fetcherCount());
        f0.removed = false;
        f0.leaderEpoch = 6;
        manager.addPartitions(b.endpoint(), List.of(f0));

        awaitCaughtUp(f0, logsB.get(0));
        awaitCaughtUp(f1, logsB.get(1));
        assertSameBatches(logsB.get(0), f0.log, 0);
        assertSameBatches(logsB.get(1), f1.log, 0);
        assertEquals(0, f0.overlappingCalls.get());
        assertEquals(0, f1.overlappingCalls.get());
        assertEquals(1, threads(ReplicaFetcherManager.threadNamePrefix(7)).size());
        for (FakeLeader.FetchedPartition p : b.fetchedPartitions("t", 0)) {
            assertEquals(6, p.currentLeaderEpoch());
        }

        manager.removePartitions(followers);
        assertEquals(0, manager.fetcherCount());
        assertEquals(0, threads(ReplicaFetcherManager.threadNamePrefix(7)).size(), "no partitions, no threads");
    }

    @Test
    void closeEndsEveryFetcherThreadAtOnceEvenDuringLongPolls() throws Exception {
        int replicaId = 8;
        int fetchers = 3;
        FakeLeader a = leader(1);
        FakeLeader b = leader(2);
        List<LogFollower> onA = new ArrayList<>();
        List<LogFollower> onB = new ArrayList<>();
        Set<String> expectedThreads = new HashSet<>();
        List<PartitionLog> leaderLogs = new ArrayList<>();
        List<LogFollower> all = new ArrayList<>();
        for (String topic : List.of("x", "y", "z")) {
            for (int p = 0; p < 2; p++) {
                for (FakeLeader leader : List.of(a, b)) {
                    String name = topic + (leader == a ? "a" : "b");
                    PartitionLog ll = log("leader-" + leader.nodeId + "/" + name + "-" + p);
                    leader.lead(name, p, ll, 1);
                    leader.append(name, p, batch(2, name));
                    leader.setHighWatermark(name, p, ll.logEndOffset());
                    LogFollower f = new LogFollower(name, p, log("follower/" + name + "-" + p), 1);
                    (leader == a ? onA : onB).add(f);
                    expectedThreads.add(ReplicaFetcherManager.threadNamePrefix(replicaId) + leader.nodeId + "-"
                            + ReplicaFetcherManager.fetcherId(name, p, fetchers));
                    leaderLogs.add(ll);
                    all.add(f);
                }
            }
        }
        // long polls of 3 s: close must not wait for them
        ReplicaFetcherManager manager = closing(new ReplicaFetcherManager(replicaId, () -> 1L,
                config().withNumReplicaFetchers(fetchers).withFetchWaitMaxMs(3000)));
        manager.addPartitions(a.endpoint(), onA);
        manager.addPartitions(b.endpoint(), onB);
        for (int i = 0; i < all.size(); i++) {
            awaitCaughtUp(all.get(i), leaderLogs.get(i));
        }
        List<Thread> running = threads(ReplicaFetcherManager.threadNamePrefix(replicaId));
        assertEquals(expectedThreads, new HashSet<>(running.stream().map(Thread::getName).toList()));
        assertTrue(running.size() >= 3, "partitions are spread over the fetchers: " + running);
        assertEquals(running.size(), manager.fetcherCount());
        for (LogFollower f : all) {
            assertEquals(1, f.callingThreads.size(), "one thread per partition: " + f.callingThreads);
        }

        long start = System.nanoTime();
        assertTimeoutPreemptively(Duration.ofSeconds(10), manager::close);
        long closeMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(closeMs < 2000, "close aborted the long polls, took " + closeMs + " ms");
        for (Thread t : running) {
            assertFalse(t.isAlive(), t.getName() + " still runs");
        }
        assertEquals(List.of(), threads(ReplicaFetcherManager.threadNamePrefix(replicaId)));
        assertEquals(0, manager.fetcherCount());
        assertThrows(IllegalStateException.class, () -> manager.addPartitions(a.endpoint(), onA));
        manager.close(); // idempotent
    }

    @Test
    void aLeaderWhoseEndpointChangedIsReachedAtItsNewAddress() throws Exception {
        FakeLeader old = leader(1);
        FakeLeader moved = leader(1); // same node id, another port
        PartitionLog logOld = log("old/t-0");
        PartitionLog logNew = log("new/t-0");
        old.lead("t", 0, logOld, 1);
        moved.lead("t", 0, logNew, 1);
        for (int i = 0; i < 5; i++) {
            old.append("t", 0, batch(2, "o" + i));
        }
        old.setHighWatermark("t", 0, logOld.logEndOffset());
        assertTrue(logNew.appendAsFollower(logOld.read(0, Integer.MAX_VALUE).toByteBuffer()).isOk());
        for (int i = 0; i < 5; i++) {
            moved.append("t", 0, batch(2, "m" + i));
        }
        moved.setHighWatermark("t", 0, logNew.logEndOffset());

        LogFollower f = new LogFollower("t", 0, log("follower/t-0"), 1);
        LogFollower g = new LogFollower("u", 0, log("follower/u-0"), 1);
        old.lead("u", 0, log("old/u-0"), 1);
        moved.lead("u", 0, log("new/u-0"), 1);
        ReplicaFetcherManager manager = manager(9, config());
        manager.addPartitions(old.endpoint(), List.of(f, g));
        awaitCaughtUp(f, logOld);

        manager.addPartitions(moved.endpoint(), List.of(f));
        awaitCaughtUp(f, logNew);
        assertSameBatches(logNew, f.log, 0);
        // the other partition of the old fetcher moved along to the new address
        assertEquals(Optional.of(moved.endpoint()), manager.leaderOf("u", 0));
        await("u-0 fetched from the new address", () -> !moved.fetchedPartitions("u", 0).isEmpty());
        assertEquals(1, manager.fetcherCount());
    }

    @Test
    void recordsBufferIsAViewOfTheResponseBuffer() {
        byte[] frame = new byte[100];
        io.netty.buffer.ByteBuf buf = io.netty.buffer.Unpooled.wrappedBuffer(frame).slice(10, 50);
        ByteBuffer view = ReplicaFetcherThread.recordsBuffer(new dev.runnel.wire.ByteBufRecords(buf));
        assertEquals(50, view.remaining());
        frame[10] = 7;
        assertEquals(7, view.get(view.position()), "no copy");
        assertEquals(0, ReplicaFetcherThread.recordsBuffer(null).remaining());
    }
}
