package dev.runnel.replication;

import dev.runnel.replication.ReplicaFetcherThread.PartitionKey;
import dev.runnel.replication.ReplicaFetcherThread.PartitionState;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The follower side of replication (Kafka's ReplicaFetcherManager): the partitions this node follows, each fetched from
 * its leader by one of {@code num.replica.fetchers} threads per leader broker.
 *
 * <p><b>Threads.</b> Each (leader broker, fetcher index) pair has one thread, named
 * {@code runnel-replica-fetcher-<replicaId>-leader-<leaderId>-<index>}, with one blocking connection to the leader.
 * Every {@link FollowerPartition} method other than {@code topic()} and {@code partition()} is called only from the
 * fetcher thread the partition is assigned to, never concurrently for one partition; {@code addPartitions} and
 * {@code removePartitions} call {@code topic()} and {@code partition()} on the caller's thread.
 *
 * <p><b>Removal.</b> When {@link #removePartitions} returns, no fetcher thread is inside a call on those partitions,
 * and none will call them again (until they are added again), so the caller can make the partition a leader,
 * truncate it or close its log. It waits for the fetcher to finish what it is doing with its partitions (at most the
 * processing of one partition's data; never a network round trip). Do not call it while holding a lock that the
 * {@code FollowerPartition} methods take, or from inside one of them.
 *
 * <p>Fetch requests use Fetch v12 (topic names, top-level ReplicaId): the broker epoch is accepted for the v15+
 * ReplicaState and not sent yet.
 */
public final class ReplicaFetcherManager implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicaFetcherManager.class);

    private record FetcherKey(int leaderId, int fetcherId) {
    }

    private final int replicaId;
    private final LongSupplier brokerEpoch;
    private final ReplicaFetcherConfig config;
    private final LongAdder fetchedBytes = new LongAdder();

    // mutated only under this object's monitor; the concurrent maps let the metric getters read without it
    private final Map<FetcherKey, ReplicaFetcherThread> fetchers = new HashMap<>();
    private final Map<PartitionKey, ReplicaFetcherThread> assignment = new ConcurrentHashMap<>();
    private final Map<PartitionKey, PartitionState> states = new ConcurrentHashMap<>();
    private boolean closed;

    /**
     * @param replicaId   this broker's node id, sent as the fetch's ReplicaId
     * @param brokerEpoch this broker's epoch (Fetch v15+ ReplicaState; not sent by the v12 fetches of this version)
     * @param config      the fetch settings
     */
    public ReplicaFetcherManager(int replicaId, LongSupplier brokerEpoch, ReplicaFetcherConfig config) {
        if (replicaId < 0) {
            throw new IllegalArgumentException("replicaId must be a node id (>= 0): " + replicaId);
        }
        this.replicaId = replicaId;
        this.brokerEpoch = brokerEpoch;
        this.config = config;
    }

    /** The client id of the fetch connections: {@code runnel-replica-fetcher-<replicaId>}. */
    public static String clientId(int replicaId) {
        return "runnel-replica-fetcher-" + replicaId;
    }

    /** The prefix of this manager's thread names: {@code runnel-replica-fetcher-<replicaId>-leader-}. */
    public static String threadNamePrefix(int replicaId) {
        return clientId(replicaId) + "-leader-";
    }

    public int replicaId() {
        return replicaId;
    }

    public long brokerEpoch() {
        return brokerEpoch.getAsLong();
    }

    public ReplicaFetcherConfig config() {
        return config;
    }

    /** Kafka's fetcher choice: {@code Utils.abs(31 * topic.hashCode() + partition) % numFetchers}. */
    static int fetcherId(String topic, int partition, int numFetchers) {
        int h = 31 * topic.hashCode() + partition;
        int abs = h == Integer.MIN_VALUE ? 0 : Math.abs(h);
        return abs % numFetchers;
    }

    /**
     * Follows {@code partitions} from {@code leader}, starting at their log end offsets. A partition followed from
     * another leader is first removed there (with {@link #removePartitions}'s guarantee); one already followed from
     * this leader is kept (its backoff cleared), or replaced if a different object is passed. A leader whose host or
     * port changed gets new connections.
     *
     * @throws IllegalStateException after {@link #close()}
     */
    public synchronized void addPartitions(LeaderEndpoint leader, Collection<? extends FollowerPartition> partitions) {
        if (closed) {
            throw new IllegalStateException("The replica fetcher manager of node " + replicaId + " is closed");
        }
        if (leader.nodeId() == replicaId) {
            throw new IllegalArgumentException("Node " + replicaId + " cannot follow itself");
        }
        for (FollowerPartition p : partitions) {
            PartitionKey key = new PartitionKey(p.topic(), p.partition());
            FetcherKey fk = new FetcherKey(leader.nodeId(), fetcherId(key.topic(), key.partition(), config.numReplicaFetchers()));
            ReplicaFetcherThread target = fetcherFor(fk, leader);
            ReplicaFetcherThread current = assignment.get(key);
            if (current != null && current != target) {
                current.removePartition(key);
                assignment.remove(key);
                states.remove(key);
            }
            PartitionState s = target.addPartition(key, p);
            assignment.put(key, target);
            states.put(key, s);
        }
        shutdownIdleFetchers();
    }

    /** The running fetcher for {@code fk}, started if needed, restarted (with its partitions) if the endpoint moved. */
    private ReplicaFetcherThread fetcherFor(FetcherKey fk, LeaderEndpoint leader) {
        ReplicaFetcherThread t = fetchers.get(fk);
        if (t != null && t.leader().equals(leader)) {
            return t;
        }
        List<PartitionState> moved = List.of();
        if (t != null) {
            LOG.info("Leader {} moved from {}:{} to {}:{}; restarting fetcher {}", leader.nodeId(), t.leader().host(),
                    t.leader().port(), leader.host(), leader.port(), t.getName());
            moved = t.removeAll();
            stop(List.of(t));
            fetchers.remove(fk);
        }
        ReplicaFetcherThread n = new ReplicaFetcherThread(threadNamePrefix(replicaId) + leader.nodeId() + "-" + fk.fetcherId(),
                replicaId, fk.fetcherId(), leader, config, fetchedBytes);
        fetchers.put(fk, n);
        n.start();
        for (PartitionState s : moved) {
            states.put(s.key, n.addPartition(s.key, s.partition));
            assignment.put(s.key, n);
        }
        return n;
    }

    /**
     * Stops following {@code partitions} (matched by topic and partition; unknown ones are ignored). Returns once no
     * fetcher thread touches them any more: see the class comment.
     */
    public synchronized void removePartitions(Collection<? extends FollowerPartition> partitions) {
        for (FollowerPartition p : partitions) {
            PartitionKey key = new PartitionKey(p.topic(), p.partition());
            ReplicaFetcherThread t = assignment.remove(key);
            if (t != null) {
                t.removePartition(key);
                states.remove(key);
            }
        }
        shutdownIdleFetchers();
    }

    /** Kafka's shutdownIdleFetcherThreads: a fetcher left without partitions ends. */
    private void shutdownIdleFetchers() {
        List<ReplicaFetcherThread> idle = new ArrayList<>();
        for (Iterator<ReplicaFetcherThread> it = fetchers.values().iterator(); it.hasNext(); ) {
            ReplicaFetcherThread t = it.next();
            if (t.partitionCount() == 0) {
                it.remove();
                idle.add(t);
            }
        }
        stop(idle);
    }

    /**
     * Ends the threads, waiting at most {@code replica.socket.timeout.ms} in all: their network I/O is aborted at once,
     * so only a {@code FollowerPartition} call still running can make them take longer (they then end after it).
     */
    private void stop(List<ReplicaFetcherThread> threads) {
        for (ReplicaFetcherThread t : threads) {
            t.initiateShutdown();
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.socketTimeoutMs());
        for (ReplicaFetcherThread t : threads) {
            if (t == Thread.currentThread()) {
                continue; // called from a FollowerPartition callback: the thread ends when the callback returns
            }
            try {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                // never interrupted (as Kafka's replica fetchers are not): an interrupt during a FollowerPartition
                // call would close the log's FileChannels (ClosedByInterruptException)
                t.join(Math.max(1, left));
                if (t.isAlive()) {
                    LOG.warn("Replica fetcher {} did not end within {} ms", t.getName(), config.socketTimeoutMs());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * Leader high watermark minus our log end offset after the partition's last successful fetch (0 when caught up),
     * or -1 when the partition is not followed or has had no answer yet.
     */
    public long lag(String topic, int partition) {
        PartitionState s = states.get(new PartitionKey(topic, partition));
        return s == null ? -1L : s.lag;
    }

    /** The leader's high watermark from the partition's last successful fetch, or -1. */
    public long leaderHighWatermark(String topic, int partition) {
        PartitionState s = states.get(new PartitionKey(topic, partition));
        return s == null ? -1L : s.leaderHighWatermark;
    }

    /** The leader the partition is followed from, if it is. */
    public Optional<LeaderEndpoint> leaderOf(String topic, int partition) {
        ReplicaFetcherThread t = assignment.get(new PartitionKey(topic, partition));
        return t == null ? Optional.empty() : Optional.of(t.leader());
    }

    /** Record-batch bytes appended from fetches since this manager started. */
    public long fetchedBytes() {
        return fetchedBytes.sum();
    }

    /** Running fetcher threads. */
    public synchronized int fetcherCount() {
        return fetchers.size();
    }

    /** Stops every fetcher thread and waits (bounded by {@code replica.socket.timeout.ms}) until they have ended. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<ReplicaFetcherThread> all = new ArrayList<>(fetchers.values());
        fetchers.clear();
        assignment.clear();
        states.clear();
        stop(all);
    }
}
