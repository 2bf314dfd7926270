package dev.runnel.metadata.raft;

import static dev.runnel.metadata.raft.RatisTestSupport.bytes;
import static dev.runnel.metadata.raft.RatisTestSupport.string;
import static dev.runnel.metadata.raft.RatisTestSupport.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RatisSingleVoterTest {
    static {
        RatisTestSupport.init();
    }

    @TempDir
    Path tmp;

    @Test
    void singleVoterElectsItselfQuicklyAppendsInOrderAndRecovers() throws Exception {
        final List<String> threadsBefore = RatisTestSupport.ratisThreads();
        final RatisSettings settings = RatisSettings.defaults();

        // Cold start (first use of Ratis, gRPC and Netty in this JVM: class loading included).
        final long cold;
        {
            final RatisTestSupport.TestListener listener = new RatisTestSupport.TestListener("cold");
            final long t0 = System.nanoTime();
            try (RatisMetadataLog log = RatisMetadataLog.startVoter(1, RatisTestSupport.voters(1), tmp.resolve("cold"),
                    listener, settings)) {
                waitFor("ready leader (cold)", 10_000, log::isReadyLeader);
                cold = (System.nanoTime() - t0) / 1_000_000;
            }
        }

        final Map<Integer, InetSocketAddress> voters = RatisTestSupport.voters(1);
        final Path dir = tmp.resolve("node1");
        final RatisTestSupport.TestListener listener = new RatisTestSupport.TestListener("n1");
        final long t0 = System.nanoTime();
        final List<String> sent = new ArrayList<>();
        try (RatisMetadataLog log = RatisMetadataLog.startVoter(1, voters, dir, listener, settings)) {
            final long startedMs = (System.nanoTime() - t0) / 1_000_000;
            waitFor("ready leader", 5_000, log::isReadyLeader);
            final long warm = (System.nanoTime() - t0) / 1_000_000;
            System.out.printf("single voter: start to ready leader %d ms (cold JVM %d ms); startVoter returned after %d ms%n",
                    warm, cold, startedMs);
            assertTrue(warm < 1000, "ready leader after " + warm + " ms");
            assertEquals(1, log.leaderId());
            assertTrue(log.term() >= 1);
            waitFor("onReadyLeader", 5_000, () -> listener.readyTerms().contains(log.term()));
            assertTrue(listener.leaderEvents().contains("1@" + log.term()), listener.leaderEvents().toString());

            // 100 appends from one thread, not waiting in between: committed in call order.
            final List<CompletableFuture<Long>> futures = new ArrayList<>();
            final long a0 = System.nanoTime();
            for (int i = 0; i < 100; i++) {
                final String b = "batch-" + i;
                sent.add(b);
                futures.add(log.append(bytes(b)));
            }
            long previous = -1;
            for (CompletableFuture<Long> f : futures) {
                final long index = f.get(10, TimeUnit.SECONDS);
                assertTrue(index > previous, "indexes increase: " + index + " after " + previous);
                previous = index;
            }
            System.out.printf("single voter: 100 pipelined appends committed+applied in %d ms%n",
                    (System.nanoTime() - a0) / 1_000_000);
            // The future completes only after the local listener applied the batch.
            assertEquals(sent, listener.batches());
            assertEquals(previous, listener.lastIndex());
            assertNull(listener.violation);

            // One synchronous append: the listener has it when the future completes.
            final long index = log.append(bytes("sync")).get(10, TimeUnit.SECONDS);
            sent.add("sync");
            assertEquals(index, listener.lastIndex());

            // The controller is local here.
            assertEquals("n1 handled ping", string(log.callController(bytes("ping"), 5_000).get(10, TimeUnit.SECONDS)));

            // Too large a batch is refused.
            final ExecutionException tooBig = assertThrows(ExecutionException.class,
                    () -> log.append(new byte[settings.maxBatchBytes() + 1]).get(10, TimeUnit.SECONDS));
            assertInstanceOf(IllegalArgumentException.class, tooBig.getCause());

            final QuorumState q = log.describeQuorum();
            assertEquals(1, q.leaderId());
            assertEquals(1, q.voters().size());
            assertTrue(q.highWatermark() >= index, q.toString());
            assertTrue(q.voters().get(0).logEndOffset() >= index, q.toString());

            // Manual snapshot.
            final long snap = log.requestSnapshot().get(30, TimeUnit.SECONDS);
            assertTrue(snap >= index, "snapshot index " + snap);
            final long c0 = System.nanoTime();
            log.close();
            System.out.printf("single voter: close() took %d ms%n", (System.nanoTime() - c0) / 1_000_000);
        }

        // Restart on the same storage: the new listener gets the snapshot (and the log after it).
        final RatisTestSupport.TestListener again = new RatisTestSupport.TestListener("n1-again");
        try (RatisMetadataLog log = RatisMetadataLog.startVoter(1, voters, dir, again, settings)) {
            waitFor("ready leader after restart", 10_000, log::isReadyLeader);
            waitFor("state recovered", 10_000, () -> again.batches().equals(sent));
            assertTrue(!again.loadedSnapshots().isEmpty(), "recovered from a snapshot");
            final long index = log.append(bytes("after-restart")).get(10, TimeUnit.SECONDS);
            assertEquals(index, again.lastIndex());
        }

        final long g0 = System.nanoTime();
        assertThreadsGone(threadsBefore);
        System.out.printf("single voter: threads gone %d ms after the last close()%n", (System.nanoTime() - g0) / 1_000_000);
    }

    @Test
    void wallClockTriggerSnapshotsAtLowWriteRates() throws Exception {
        final RatisSettings settings = RatisSettings.defaults().withSnapshots(1_000_000, 300);
        final RatisTestSupport.TestListener listener = new RatisTestSupport.TestListener("n1");
        try (RatisMetadataLog log = RatisMetadataLog.startVoter(1, RatisTestSupport.voters(1), tmp.resolve("n"),
                listener, settings)) {
            waitFor("ready leader", 10_000, log::isReadyLeader);
            long last = -1;
            for (int i = 0; i < 5; i++) {
                last = log.append(bytes("b" + i)).get(10, TimeUnit.SECONDS);
            }
            final long target = last;
            final long waited = waitFor("periodic snapshot", 10_000, () -> log.latestSnapshotIndex() >= target);
            System.out.printf("wall-clock trigger: snapshot at %d within %d ms (interval 300 ms)%n",
                    log.latestSnapshotIndex(), waited);
        }
    }

    static void assertThreadsGone(List<String> before) {
        final int timersBefore = RatisTestSupport.ratisSharedTimers();
        try {
            waitFor("Ratis/gRPC threads to end", 15_000,
                    () -> RatisTestSupport.ratisThreads().size() <= before.size());
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; still alive: " + RatisTestSupport.ratisThreads()
                    + " (before: " + before + ")");
        }
        System.out.printf("threads after close: %d Ratis/gRPC threads (as before); %d JVM-wide Ratis timer threads%n",
                RatisTestSupport.ratisThreads().size(), timersBefore);
    }
}
