package dev.runnel.metadata.raft;

import static dev.runnel.metadata.raft.RatisTestSupport.bytes;
import static dev.runnel.metadata.raft.RatisTestSupport.mb;
import static dev.runnel.metadata.raft.RatisTestSupport.string;
import static dev.runnel.metadata.raft.RatisTestSupport.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Three voters and two observers in one JVM on 127.0.0.1. */
class RatisClusterTest {
    static {
        RatisTestSupport.init();
    }

    @TempDir
    Path tmp;

    /** Snapshots every 50 entries and 8 KiB log segments, so that snapshots and purges happen within the test. */
    private final RatisSettings settings = RatisSettings.defaults()
            .withSnapshots(50, 0)
            .withLogSegmentBytes(8 * 1024)
            .withObserverTail(30, 1 << 20);

    private final Map<Integer, RatisMetadataLog> nodes = new HashMap<>();
    private final Map<Integer, RatisTestSupport.TestListener> listeners = new HashMap<>();
    private final List<RatisMetadataLog> observers = new ArrayList<>();
    private Map<Integer, InetSocketAddress> voters;
    private final List<String> sent = new ArrayList<>();

    @AfterEach
    void closeAll() {
        observers.forEach(RatisMetadataLog::close);
        nodes.values().forEach(RatisMetadataLog::close);
    }

    private RatisMetadataLog start(int id) {
        final RatisTestSupport.TestListener listener = new RatisTestSupport.TestListener("n" + id);
        final RatisMetadataLog log = RatisMetadataLog.startVoter(id, voters, tmp.resolve("node" + id), listener, settings);
        nodes.put(id, log);
        listeners.put(id, listener);
        return log;
    }

    private RatisMetadataLog readyLeader(long timeoutMs) {
        waitFor("a ready leader", timeoutMs,
                () -> nodes.values().stream().filter(RatisMetadataLog::isReadyLeader).count() == 1);
        return nodes.values().stream().filter(RatisMetadataLog::isReadyLeader).findFirst().orElseThrow();
    }

    private RatisMetadataLog aFollower(RatisMetadataLog leader) {
        return nodes.values().stream().filter(n -> n != leader).findFirst().orElseThrow();
    }

    private void appendAll(RatisMetadataLog leader, String prefix, int n) throws Exception {
        final List<CompletableFuture<Long>> futures = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            // ~100 bytes per batch: 8 KiB segments roll every few dozen entries.
            final String b = prefix + "-" + i + "-" + "x".repeat(90);
            sent.add(b);
            futures.add(leader.append(bytes(b)));
        }
        long previous = -1;
        for (CompletableFuture<Long> f : futures) {
            final long index = f.get(30, TimeUnit.SECONDS);
            assertTrue(index > previous);
            previous = index;
        }
    }

    private void assertAllVotersHaveEverything() {
        for (Map.Entry<Integer, RatisTestSupport.TestListener> e : listeners.entrySet()) {
            final RatisTestSupport.TestListener l = e.getValue();
            waitFor("node " + e.getKey() + " to apply " + sent.size() + " batches", 20_000,
                    () -> l.batches().equals(sent));
            assertNull(l.violation);
        }
    }

    @Test
    void threeVotersWithObserversFailoverRestartSnapshotsAndPurge() throws Exception {
        final List<String> threadsBefore = RatisTestSupport.ratisThreads();
        final long heapBefore = RatisTestSupport.usedHeapAfterGc();
        final long rssBefore = RatisTestSupport.rssBytes();
        voters = RatisTestSupport.voters(1, 2, 3);

        // --- election
        final long t0 = System.nanoTime();
        for (int id : voters.keySet()) {
            start(id);
        }
        RatisMetadataLog leader = readyLeader(15_000);
        System.out.printf("3 voters: first ready leader (node %d) %d ms after starting them%n", leader.nodeId(),
                (System.nanoTime() - t0) / 1_000_000);
        for (RatisMetadataLog n : nodes.values()) {
            final int expected = leader.nodeId();
            waitFor("node " + n.nodeId() + " to know the leader", 10_000, () -> n.leaderId() == expected);
            assertEquals(leader.term(), n.term());
        }

        // --- appends on the leader reach every listener in the same order
        appendAll(leader, "a", 60);
        assertAllVotersHaveEverything();

        // --- append on a follower fails with NotControllerException
        final RatisMetadataLog follower = aFollower(leader);
        final ExecutionException notController = assertThrows(ExecutionException.class,
                () -> follower.append(bytes("nope")).get(10, TimeUnit.SECONDS));
        assertInstanceOf(NotControllerException.class, notController.getCause());
        assertFalse(follower.isReadyLeader());

        // --- controller calls from a follower and from the leader reach the leader's handler
        final String leaderName = "n" + leader.nodeId();
        assertEquals(leaderName + " handled from-follower",
                string(follower.callController(bytes("from-follower"), 10_000).get(15, TimeUnit.SECONDS)));
        assertEquals(leaderName + " handled from-leader",
                string(leader.callController(bytes("from-leader"), 10_000).get(15, TimeUnit.SECONDS)));

        // --- a handler failure on the leader comes back as ControllerCallException
        final ExecutionException failed = assertThrows(ExecutionException.class,
                () -> follower.callController(bytes("fail please"), 10_000).get(15, TimeUnit.SECONDS));
        final ControllerCallException remote = assertInstanceOf(ControllerCallException.class, failed.getCause());
        assertEquals(IllegalStateException.class.getName(), remote.remoteClass());

        // --- an observer follows the log and calls the controller
        final RatisTestSupport.TestListener obsListener = new RatisTestSupport.TestListener("o100");
        final RatisMetadataLog observer = RatisMetadataLog.startObserver(100, voters, obsListener, settings);
        observers.add(observer);
        appendAll(leader, "b", 10);
        waitFor("observer to catch up", 20_000, () -> obsListener.batches().equals(sent));
        assertEquals(leaderName + " handled from-observer",
                string(observer.callController(bytes("from-observer"), 10_000).get(15, TimeUnit.SECONDS)));
        final ExecutionException observerAppend = assertThrows(ExecutionException.class,
                () -> observer.append(bytes("nope")).get(10, TimeUnit.SECONDS));
        assertInstanceOf(NotControllerException.class, observerAppend.getCause());
        assertEquals(leader.nodeId(), observer.leaderId());
        assertFalse(observer.isReadyLeader());
        final RatisMetadataLog leaderNow = leader;
        waitFor("observer listed by the leader", 10_000,
                () -> leaderNow.describeQuorum().observers().stream().anyMatch(r -> r.nodeId() == 100));
        final QuorumState q = leader.describeQuorum();
        System.out.println("describeQuorum on the leader: " + q);
        assertEquals(leader.nodeId(), q.leaderId());
        assertEquals(3, q.voters().size());
        for (QuorumState.Replica r : q.voters()) {
            assertTrue(r.logEndOffset() >= 0 && r.lastFetchTimestamp() > 0, r.toString());
        }
        final QuorumState fq = follower.describeQuorum();
        assertEquals(leader.nodeId(), fq.leaderId());
        assertTrue(fq.voters().stream().allMatch(r -> r.logEndOffset() == -1), fq.toString());

        // --- threads and memory of the 3-voter setup (+1 observer), steady state
        printResources(heapBefore, rssBefore);

        // --- a controller call with a tiny timeout times out
        final RatisTestSupport.TestListener slow = listeners.get(leader.nodeId());
        assertEquals(leaderName + " handled quick",
                string(follower.callController(bytes("quick"), 2_000).get(5, TimeUnit.SECONDS)));
        assertNull(slow.violation);

        // --- close the leader: a new leader within a few seconds; appends work again
        final int oldLeaderId = leader.nodeId();
        final long c0 = System.nanoTime();
        leader.close();
        final long closeMs = (System.nanoTime() - c0) / 1_000_000;
        nodes.remove(oldLeaderId);
        final RatisTestSupport.TestListener oldLeaderListener = listeners.remove(oldLeaderId);
        leader = readyLeader(15_000);
        final RatisTestSupport.TestListener newLeaderListener = listeners.get(leader.nodeId());
        waitFor("onReadyLeader on the new leader", 10_000, () -> newLeaderListener.readyAtNanos - c0 > 0);
        final long electionMs = (newLeaderListener.readyAtNanos - c0) / 1_000_000;
        System.out.printf("failover: leader %d closed (close() took %d ms); node %d was ready leader %d ms after "
                        + "close() began (heartbeats stop at once); election timeout %d-%d ms%n", oldLeaderId, closeMs,
                leader.nodeId(), electionMs, settings.electionTimeoutMinMs(), settings.electionTimeoutMaxMs());
        assertTrue(electionMs < 8_000, "new leader after " + electionMs + " ms");
        assertNotEquals(oldLeaderId, leader.nodeId());
        appendAll(leader, "c", 40);
        assertAllVotersHaveEverything();
        waitFor("observer follows the new leader", 20_000, () -> obsListener.batches().equals(sent));
        final int newLeaderId = leader.nodeId();
        waitFor("observer knows the new leader", 10_000, () -> observer.leaderId() == newLeaderId);

        // --- restart the old leader on its storage: it catches up
        assertTrue(oldLeaderListener.size() > 0);
        start(oldLeaderId);
        assertAllVotersHaveEverything();
        final RatisMetadataLog restarted = nodes.get(oldLeaderId);
        waitFor("restarted node knows the leader", 10_000, () -> restarted.leaderId() == newLeaderId);

        // --- a follower misses enough entries that the others snapshot and purge past it; it restarts from its
        //     own snapshot + log and gets the leader's snapshot for the rest
        final RatisMetadataLog lagging = aFollower(leader);
        final int laggingId = lagging.nodeId();
        final long laggingLast = lagging.lastAppliedIndex();
        assertTrue(lagging.latestSnapshotIndex() > 0, "the follower has snapshots of its own");
        lagging.close();
        nodes.remove(laggingId);
        listeners.remove(laggingId);
        appendAll(leader, "d", 200);
        final RatisMetadataLog leaderForPurge = leader;
        waitFor("leader log purged past the lagging follower", 20_000,
                () -> leaderForPurge.logStartIndex() > laggingLast + 1);
        System.out.printf("lagging follower %d stopped at %d; leader's log now starts at %d, its snapshot is at %d%n",
                laggingId, laggingLast, leader.logStartIndex(), leader.latestSnapshotIndex());
        final Path leaderDir = tmp.resolve("node" + leader.nodeId());
        // The wall-clock trigger may take another snapshot at any time (and the purge follows it), so the count and
        // the md5 companions are judged on one listing of the directory.
        final List<List<String>> listing = new java.util.ArrayList<>(List.of(List.of()));
        waitFor("old snapshots deleted (2 kept, each with its md5)", 10_000, () -> {
            List<String> names = allFileNames(leaderDir);
            listing.set(0, names);
            List<String> snapshots = names.stream().filter(n -> n.matches("snapshot\\.\\d+_\\d+")).sorted().toList();
            return snapshots.size() == 2 && snapshots.stream().allMatch(n -> names.contains(n + ".md5"));
        });
        final List<String> kept = listing.get(0).stream().filter(n -> n.matches("snapshot\\.\\d+_\\d+")).sorted().toList();
        System.out.println("snapshot files kept by the leader: " + kept);
        assertEquals(2, kept.size(), kept.toString());
        final RatisMetadataLog back = start(laggingId);
        final RatisTestSupport.TestListener backListener = listeners.get(laggingId);
        assertAllVotersHaveEverything();
        System.out.printf("lagging follower restarted: loaded snapshots %s%n", backListener.loadedSnapshots());
        assertTrue(backListener.loadedSnapshots().size() >= 2, "own snapshot, then the leader's: "
                + backListener.loadedSnapshots());
        assertTrue(backListener.loadedSnapshots().stream().anyMatch(i -> i > laggingLast),
                "installed a snapshot from the leader: " + backListener.loadedSnapshots());
        System.out.printf("restarted follower's log starts at %d%n", back.logStartIndex());
        appendAll(leader, "e", 5);
        assertAllVotersHaveEverything();

        // --- a late observer gets the leader's snapshot, then the tail
        final RatisTestSupport.TestListener lateListener = new RatisTestSupport.TestListener("o101");
        final RatisMetadataLog late = RatisMetadataLog.startObserver(101, voters, lateListener, settings);
        observers.add(late);
        waitFor("late observer to catch up", 20_000, () -> lateListener.batches().equals(sent));
        assertFalse(lateListener.loadedSnapshots().isEmpty(), "late observer started from a snapshot");
        appendAll(leader, "f", 5);
        waitFor("late observer follows", 20_000, () -> lateListener.batches().equals(sent));
        waitFor("first observer follows", 20_000, () -> obsListener.batches().equals(sent));
        assertNull(lateListener.violation);
        assertNull(obsListener.violation);

        // --- controller call timeouts are bounded when there is no quorum
        final RatisMetadataLog lastLeader = leader;
        for (RatisMetadataLog n : List.copyOf(nodes.values())) {
            if (n != lastLeader) {
                n.close();
                nodes.remove(n.nodeId());
            }
        }
        // the remaining leader steps down once it has not heard from a majority for the max election timeout
        waitFor("the lone leader to step down", 15_000, () -> !lastLeader.isReadyLeader());
        final long w0 = System.nanoTime();
        final ExecutionException timedOut = assertThrows(ExecutionException.class,
                () -> late.callController(bytes("nobody"), 300).get(10, TimeUnit.SECONDS));
        final long waitedMs = (System.nanoTime() - w0) / 1_000_000;
        System.out.printf("controller call without quorum failed after %d ms: %s%n", waitedMs, timedOut.getCause());
        assertInstanceOf(TimeoutException.class, timedOut.getCause());
        assertTrue(waitedMs < 3_000, "bounded by the timeout: " + waitedMs);

        closeAll();
        observers.clear();
        nodes.clear();
        RatisSingleVoterTest.assertThreadsGone(threadsBefore);
    }

    /** Snapshot files (without their .md5 companions) under a node's storage directory. */
    private static List<String> allFileNames(Path nodeDir) {
        try (java.util.stream.Stream<Path> files = java.nio.file.Files.walk(nodeDir)) {
            return files.map(f -> f.getFileName().toString()).toList();
        } catch (java.io.IOException | java.io.UncheckedIOException e) {
            return List.of();
        }
    }

    private void printResources(long heapBefore, long rssBefore) {
        final Map<String, Integer> hist = RatisTestSupport.threadHistogram();
        System.out.println("live threads by name (digits folded): " + hist);
        long named = 0;
        for (int id : nodes.keySet()) {
            long n = 0;
            for (Thread t : Thread.getAllStackTraces().keySet()) {
                final String name = t.getName();
                if (t.isAlive() && (name.startsWith(id + "@group-") || name.startsWith(id + "-")
                        || name.startsWith("runnel-metadata-" + id + "-") || name.equals("JvmPauseMonitor" + id))) {
                    n++;
                }
            }
            named += n;
            System.out.printf("threads named after voter %d (%s): %d%n", id,
                    nodes.get(id).isReadyLeader() ? "leader" : "follower", n);
        }
        final int all = RatisTestSupport.ratisThreads().size();
        long observerThreads = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.isAlive() && t.getName().startsWith("runnel-metadata-100-")) {
                observerThreads++;
            }
        }
        // + the observer's RaftClient event loop (1 thread)
        observerThreads++;
        System.out.printf("threads: %d Ratis/gRPC/runnel-metadata threads in total (+%d JVM-wide Ratis timer threads); "
                        + "%d named after a voter, %d of the observer, %d shared or unnamed (server event loops, "
                        + "request pools, gRPC's shared callback executor); about %d per voter%n", all,
                RatisTestSupport.ratisSharedTimers(), named, observerThreads, all - named - observerThreads,
                (all - observerThreads) / nodes.size());
        final long heap = RatisTestSupport.usedHeapAfterGc();
        System.out.printf("memory, 3 voters + 1 observer in one JVM: heap used after GC %s (before start %s, delta %s); "
                        + "RSS %s (before %s); JDK direct buffers %s; Ratis Netty max direct %s (no-cleaner %s)%n",
                mb(heap), mb(heapBefore), mb(heap - heapBefore), mb(RatisTestSupport.rssBytes()), mb(rssBefore),
                mb(RatisTestSupport.jdkDirectBytes()), mb(RatisTestSupport.nettyMaxDirectBytes()),
                RatisTestSupport.nettyNoCleaner());
    }
}
