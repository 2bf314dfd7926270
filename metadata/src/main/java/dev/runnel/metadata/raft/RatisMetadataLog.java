package dev.runnel.metadata.raft;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.client.retry.ClientRetryEvent;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.proto.RaftProtos.RoleInfoProto;
import org.apache.ratis.proto.RaftProtos.ServerRpcProto;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SnapshotManagementRequest;
import org.apache.ratis.protocol.exceptions.AlreadyClosedException;
import org.apache.ratis.protocol.exceptions.LeaderNotReadyException;
import org.apache.ratis.protocol.exceptions.LeaderSteppingDownException;
import org.apache.ratis.protocol.exceptions.NotLeaderException;
import org.apache.ratis.protocol.exceptions.ServerNotReadyException;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.retry.RetryPolicy;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster-metadata log on Apache Ratis (gRPC transport): one Raft group whose voters are the controller-eligible
 * nodes, plus client-only observers (broker-only nodes) that follow the log by polling the leader.
 *
 * <p><b>Voters</b> ({@link #startVoter}) run a {@link RaftServer} (peer id = node id, group id fixed, see
 * {@link #GROUP_ID}) storing its log and snapshots under the given directory and recovering from it on restart.
 * Committed batches reach {@link MetadataLogListener#onCommit} on Ratis' StateMachineUpdater thread, in log order,
 * exactly once per process lifetime (after a restart: the latest snapshot via {@code loadSnapshot}, then the log
 * after it). Snapshots are taken every {@link RatisSettings#snapshotThreshold} entries and every
 * {@link RatisSettings#snapshotIntervalMs} if anything was applied; the log is purged up to the snapshot (whole closed
 * segments only); the leader sends its latest snapshot file to a follower whose missing entries were purged.
 *
 * <p><b>Observers</b> ({@link #startObserver}) have no Raft server and no storage: a thread long-polls the leader
 * ("batches after index N") through a read-only Ratis query; voters keep a bounded in-memory tail of committed batches
 * for this, and an observer further behind first gets {@link MetadataLogListener#snapshot} of the leader. All observer
 * callbacks run on that one polling thread, in log order.
 *
 * <p><b>Threads and callbacks.</b> Besides Ratis' own threads each node has two: {@code runnel-metadata-<id>-events}
 * (runs {@code onLeaderChange}/{@code onReadyLeader} on voters, and completes every future this class returns: do not
 * block in their continuations) and {@code runnel-metadata-<id>-timer} (timeouts, retries, periodic checks); an
 * observer has a third, {@code runnel-metadata-<id>-observer}. {@code handleControllerRequest} runs on a Ratis request
 * thread of the leader (or on the caller's thread when the caller is the ready leader itself) and must not block.
 */
public final class RatisMetadataLog implements MetadataLog {

    /** Ratis' shaded Netty reads this once; we cap its pooled direct memory unless the operator set it already. */
    public static final String NETTY_MAX_DIRECT_MEMORY_PROPERTY = "org.apache.ratis.thirdparty.io.netty.maxDirectMemory";
    /** Default cap of Ratis' shaded Netty direct memory (bytes). */
    public static final long DEFAULT_NETTY_MAX_DIRECT_MEMORY = 64L << 20;

    static {
        capNettyDirectMemory();
    }

    private static final Logger LOG = LoggerFactory.getLogger(RatisMetadataLog.class);

    /** The one Raft group of the cluster metadata, the same on every node. */
    public static final RaftGroupId GROUP_ID =
            RaftGroupId.valueOf(UUID.nameUUIDFromBytes("runnel-cluster-metadata".getBytes(StandardCharsets.UTF_8)));

    private static final long RETRY_BACKOFF_MS = 50;
    private static final long OBSERVER_BACKOFF_MAX_MS = 1000;
    private static final long OBSERVER_SESSION_MS = 5 * 60_000L;
    private static final long OBSERVER_SNAPSHOT_CACHE_MS = 30_000L;
    private static final long LEADER_POLL_MS = 200;
    private static final int BATCH_OVERHEAD_BYTES = 64 << 10;
    private static final long MAX_CALL_TIMEOUT_MS = 24L * 3600 * 1000;

    private final int nodeId;
    private final Map<Integer, InetSocketAddress> voters;
    private final MetadataLogListener listener;
    private final RatisSettings settings;
    private final RaftGroup group;
    private final ExecutorService events;
    private final ScheduledThreadPoolExecutor timer;
    private final Set<CompletableFuture<?>> inflight = ConcurrentHashMap.newKeySet();
    private final AtomicLong callIds = new AtomicLong();
    private final ClientId localClientId = ClientId.randomId();
    private final Object clientLock = new Object();
    private final CountDownLatch closing = new CountDownLatch(1);
    private volatile boolean closed;
    private RaftClient client;

    // voter only
    private final CommittedTail tail;
    private volatile MetadataStateMachine stateMachine;
    private volatile RaftServer server;
    private volatile RaftServer.Division division;
    private final Map<Integer, ObserverInfo> observers = new ConcurrentHashMap<>();
    private final Map<Integer, Long> voterCaughtUp = new ConcurrentHashMap<>();
    private final Object snapshotCacheLock = new Object();
    private CachedSnapshot snapshotCache;
    // touched on the events thread only
    private int publishedLeader = Integer.MIN_VALUE;
    private long publishedTerm = Long.MIN_VALUE;
    private long publishedReadyTerm = Long.MIN_VALUE;

    // observer only
    private final Thread observerThread;
    private volatile int observedLeader = -1;
    private volatile long observedTerm = 0;
    private volatile long observedCommitIndex = -1;
    private volatile long observedIndex = RaftLog.INVALID_LOG_INDEX;

    private record ObserverInfo(long fetchedIndex, long lastFetchMs, long lastCaughtUpMs) {
    }

    private record CachedSnapshot(MetadataStateMachine.StateSnapshot snapshot, long createdNanos) {
    }

    private RatisMetadataLog(int nodeId, Map<Integer, InetSocketAddress> voters, MetadataLogListener listener,
                             RatisSettings settings, boolean observer) {
        this.nodeId = nodeId;
        this.voters = Collections.unmodifiableMap(new TreeMap<>(voters));
        this.listener = Objects.requireNonNull(listener, "listener");
        this.settings = Objects.requireNonNull(settings, "settings");
        if (this.voters.isEmpty()) {
            throw new IllegalArgumentException("no voters");
        }
        final List<RaftPeer> peers = new ArrayList<>();
        this.voters.forEach((id, address) -> peers.add(RaftPeer.newBuilder()
                .setId(peerId(id))
                .setAddress(hostPort(address))
                .build()));
        this.group = RaftGroup.valueOf(GROUP_ID, peers);
        this.events = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(),
                daemonFactory("runnel-metadata-" + nodeId + "-events"));
        this.timer = new ScheduledThreadPoolExecutor(1, daemonFactory("runnel-metadata-" + nodeId + "-timer"));
        this.timer.setRemoveOnCancelPolicy(true);
        this.timer.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        this.tail = observer ? null
                : new CommittedTail(settings.observerTailEntries(), settings.observerTailBytes(),
                        RaftLog.INVALID_LOG_INDEX);
        this.observerThread = observer ? daemonFactory("runnel-metadata-" + nodeId + "-observer")
                .newThread(this::observerLoop) : null;
    }

    // =================================================================================================== factories

    /**
     * Starts a voter: a Raft server on this node's voter address (bound to that host and port) whose peers are
     * {@code voters}, with its log and snapshots under {@code storageDir}. Existing storage is recovered (the listener
     * first gets the latest snapshot, then the log after it). Returns once the server runs; a leader is elected
     * asynchronously (watch {@link #leaderId()} or {@link MetadataLogListener#onLeaderChange}).
     */
    public static RatisMetadataLog startVoter(int nodeId, Map<Integer, InetSocketAddress> voters, Path storageDir,
                                              MetadataLogListener listener, RatisSettings settings) {
        return startVoter(nodeId, voters, storageDir, listener, settings, null);
    }

    /**
     * As {@link #startVoter(int, Map, Path, MetadataLogListener, RatisSettings)}, but the Raft server binds
     * {@code bind} (port 0: any free port; see {@link #boundAddress()}) instead of this node's voter address: for a
     * node whose voter address is served by a front that hands Raft's connections on (the controller listener,
     * which also speaks Kafka's protocol).
     */
    public static RatisMetadataLog startVoter(int nodeId, Map<Integer, InetSocketAddress> voters, Path storageDir,
                                              MetadataLogListener listener, RatisSettings settings, InetSocketAddress bind) {
        Objects.requireNonNull(voters, "voters");
        Objects.requireNonNull(storageDir, "storageDir");
        final InetSocketAddress self = voters.get(nodeId);
        if (self == null) {
            throw new IllegalArgumentException("node " + nodeId + " is not among the voters " + voters.keySet());
        }
        final RatisMetadataLog log = new RatisMetadataLog(nodeId, voters, listener, settings, false);
        try {
            log.startServer(bind != null ? bind : self, storageDir);
        } catch (IOException e) {
            log.close();
            throw new UncheckedIOException("failed to start metadata voter " + nodeId, e);
        } catch (RuntimeException | Error e) {
            log.close();
            throw e;
        }
        return log;
    }

    /**
     * Starts an observer: no Raft server, no storage. It follows the committed log by polling the leader, from the
     * beginning (or from the leader's snapshot when the leader no longer holds the batches in memory).
     */
    public static RatisMetadataLog startObserver(int nodeId, Map<Integer, InetSocketAddress> voters,
                                                 MetadataLogListener listener, RatisSettings settings) {
        Objects.requireNonNull(voters, "voters");
        if (voters.containsKey(nodeId)) {
            throw new IllegalArgumentException("node " + nodeId + " is a voter; start it with startVoter");
        }
        final RatisMetadataLog log = new RatisMetadataLog(nodeId, voters, listener, settings, true);
        try {
            log.client();
            log.observerThread.start();
        } catch (RuntimeException | Error e) {
            log.close();
            throw e;
        }
        return log;
    }

    /**
     * Sets {@link #NETTY_MAX_DIRECT_MEMORY_PROPERTY} to {@link #DEFAULT_NETTY_MAX_DIRECT_MEMORY} unless already set.
     * Runs when this class initializes; it only has an effect if Ratis' shaded Netty was not used before.
     */
    public static void capNettyDirectMemory() {
        if (System.getProperty(NETTY_MAX_DIRECT_MEMORY_PROPERTY) == null) {
            System.setProperty(NETTY_MAX_DIRECT_MEMORY_PROPERTY, Long.toString(DEFAULT_NETTY_MAX_DIRECT_MEMORY));
        }
    }

    private void startServer(InetSocketAddress self, Path storageDir) throws IOException {
        Files.createDirectories(storageDir);
        final RaftProperties p = new RaftProperties();
        RaftServerConfigKeys.setStorageDir(p, List.of(storageDir.toFile()));
        RaftServerConfigKeys.setRemovedGroupsDir(p, storageDir.resolve("removed-groups").toFile());
        GrpcConfigKeys.Server.setHost(p, self.getHostString());
        GrpcConfigKeys.Server.setPort(p, self.getPort());
        // Threads: small dedicated event loops instead of Netty's 2 x cores defaults.
        GrpcConfigKeys.Server.setBossGroupSize(p, 1);
        GrpcConfigKeys.Server.setWorkerGroupSize(p, 2);
        GrpcConfigKeys.Client.setWorkerGroupSize(p, 1);
        GrpcConfigKeys.Server.setAsyncRequestThreadPoolSize(p, 8);
        // Elections and RPCs.
        RaftServerConfigKeys.Rpc.setTimeoutMin(p, ms(settings.electionTimeoutMinMs()));
        RaftServerConfigKeys.Rpc.setTimeoutMax(p, ms(settings.electionTimeoutMaxMs()));
        RaftServerConfigKeys.Rpc.setFirstElectionTimeoutMin(p, ms(settings.firstElectionTimeoutMinMs()));
        RaftServerConfigKeys.Rpc.setFirstElectionTimeoutMax(p, ms(settings.firstElectionTimeoutMaxMs()));
        RaftServerConfigKeys.Rpc.setRequestTimeout(p, ms(settings.requestTimeoutMs()));
        // Snapshots and purging.
        RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, true);
        RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(p, settings.snapshotThreshold());
        RaftServerConfigKeys.Snapshot.setRetentionFileNum(p, settings.snapshotRetention());
        RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(p, true);
        RaftServerConfigKeys.Log.setPurgeGap(p, (int) Math.min(1024, settings.snapshotThreshold()));
        // Log segments and entry size.
        RaftServerConfigKeys.Log.setSegmentSizeMax(p, SizeInBytes.valueOf(settings.logSegmentBytes()));
        RaftServerConfigKeys.Log.setPreallocatedSize(p, SizeInBytes.valueOf(Math.min(1 << 20, settings.logSegmentBytes())));
        final int entryLimit = settings.maxBatchBytes() + BATCH_OVERHEAD_BYTES;
        RaftServerConfigKeys.Log.Appender.setBufferByteLimit(p, SizeInBytes.valueOf(entryLimit));
        RaftServerConfigKeys.Log.setWriteBufferSize(p, SizeInBytes.valueOf(entryLimit + BATCH_OVERHEAD_BYTES));
        RaftClientConfigKeys.Rpc.setRequestTimeout(p, ms(settings.requestTimeoutMs()));

        final MetadataStateMachine sm = new MetadataStateMachine(listener, tail, new StateMachineHost());
        this.stateMachine = sm;
        final RaftServer s = RaftServer.newBuilder()
                .setServerId(RaftPeerId.valueOf(peerId(nodeId)))
                .setGroup(group)
                .setProperties(p)
                .setStateMachine(sm)
                .setOption(RaftStorage.StartupOption.RECOVER)
                .build();
        this.server = s;
        s.start();
        this.division = s.getDivision(GROUP_ID);
        timer.scheduleWithFixedDelay(() -> runOnEvents(this::publishLeaderState),
                LEADER_POLL_MS, LEADER_POLL_MS, TimeUnit.MILLISECONDS);
        if (settings.snapshotIntervalMs() > 0) {
            timer.scheduleWithFixedDelay(this::snapshotIfChanged,
                    settings.snapshotIntervalMs(), settings.snapshotIntervalMs(), TimeUnit.MILLISECONDS);
        }
        runOnEvents(this::publishLeaderState);
    }

    /** Where this voter's Raft server listens (null on an observer). */
    public InetSocketAddress boundAddress() {
        RaftServer s = server;
        if (s == null) {
            return null;
        }
        try {
            return s.getServerRpc().getInetSocketAddress();
        } catch (RuntimeException e) {
            return null;
        }
    }

    // =================================================================================================== MetadataLog

    @Override
    public CompletableFuture<Long> append(byte[] batch) {
        Objects.requireNonNull(batch, "batch");
        final RaftServer s = server;
        final RaftServer.Division d = division;
        if (s == null || d == null) {
            return CompletableFuture.failedFuture(new NotControllerException(
                    "node " + nodeId + " is an observer; the active controller is " + leaderId()));
        }
        if (closed) {
            return CompletableFuture.failedFuture(new NotControllerException("metadata log of node " + nodeId
                    + " is closed"));
        }
        if (batch.length > settings.maxBatchBytes()) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("batch of " + batch.length
                    + " bytes exceeds maxBatchBytes " + settings.maxBatchBytes()));
        }
        if (!d.getInfo().isLeader()) {
            return CompletableFuture.failedFuture(notController());
        }
        final RaftClientRequest request = RaftClientRequest.newBuilder()
                .setClientId(localClientId)
                .setServerId(s.getId())
                .setGroupId(GROUP_ID)
                .setCallId(callIds.incrementAndGet())
                .setMessage(Message.valueOf(UnsafeByteOperations.unsafeWrap(batch)))
                .setType(RaftClientRequest.writeRequestType())
                .build();
        final CompletableFuture<Long> result = track(new CompletableFuture<>());
        CompletableFuture<RaftClientReply> reply;
        try {
            // Appends the entry to the local log before returning, so appends from one thread keep their order.
            reply = s.submitClientRequestAsync(request);
        } catch (IOException | RuntimeException e) {
            reply = CompletableFuture.failedFuture(e);
        }
        reply.whenComplete((r, e) -> completeOnEvents(() -> {
            if (e != null) {
                result.completeExceptionally(appendFailure(unwrap(e)));
            } else if (r.isSuccess()) {
                result.complete(r.getLogIndex());
            } else {
                result.completeExceptionally(appendFailure(r.getException()));
            }
        }));
        return result;
    }

    @Override
    public int leaderId() {
        if (server == null) {
            return observedLeader;
        }
        final RaftServer.Division d = division;
        if (closed || d == null || !d.getInfo().isAlive()) {
            return -1;
        }
        return nodeIdOf(d.getInfo().getLeaderId());
    }

    @Override
    public long term() {
        if (server == null) {
            return observedTerm;
        }
        final RaftServer.Division d = division;
        return d == null ? 0 : d.getInfo().getCurrentTerm();
    }

    @Override
    public boolean isReadyLeader() {
        final RaftServer.Division d = division;
        if (closed || d == null) {
            return false;
        }
        final DivisionInfo info = d.getInfo();
        return info.isAlive() && info.isLeader() && info.isLeaderReady();
    }

    @Override
    public CompletableFuture<byte[]> callController(byte[] request, long timeoutMs) {
        Objects.requireNonNull(request, "request");
        final CompletableFuture<byte[]> attempts = new CompletableFuture<>();
        final CompletableFuture<byte[]> result = track(new CompletableFuture<>());
        attempts.whenComplete((v, e) -> completeOnEvents(() -> {
            if (e == null) {
                result.complete(v);
            } else {
                result.completeExceptionally(unwrap(e));
            }
        }));
        if (closed) {
            attempts.completeExceptionally(closedException());
            return result;
        }
        final long boundedMs = Math.max(0, Math.min(timeoutMs, MAX_CALL_TIMEOUT_MS));
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(boundedMs);
        try {
            final ScheduledFuture<?> timeout = timer.schedule(() -> attempts.completeExceptionally(
                    new TimeoutException("no answer from the active controller within " + timeoutMs + " ms")),
                    boundedMs, TimeUnit.MILLISECONDS);
            attempts.whenComplete((v, e) -> timeout.cancel(false));
        } catch (RejectedExecutionException e) {
            attempts.completeExceptionally(closedException());
            return result;
        }
        attemptControllerCall(request, deadline, attempts);
        return result;
    }

    @Override
    public QuorumState describeQuorum() {
        final RaftServer.Division d = division;
        if (server == null || d == null || closed) {
            final List<QuorumState.Replica> vs = new ArrayList<>();
            voters.keySet().forEach(id -> vs.add(new QuorumState.Replica(id, -1, -1, -1)));
            return new QuorumState(leaderId(), term(), server == null ? observedCommitIndex : -1, vs, List.of());
        }
        final DivisionInfo info = d.getInfo();
        final int leader = leaderId();
        final long term = info.getCurrentTerm();
        final long highWatermark = d.getRaftLog().getLastCommittedIndex();
        final Map<Integer, QuorumState.Replica> known = new HashMap<>();
        final List<QuorumState.Replica> observerList = new ArrayList<>();
        if (info.isLeader()) {
            final long now = System.currentTimeMillis();
            final RoleInfoProto role = info.getRoleInfoProto();
            final long[] match = info.getFollowerMatchIndices();
            final List<ServerRpcProto> followers = role.hasLeaderInfo()
                    ? role.getLeaderInfo().getFollowerInfoList() : List.of();
            // Both lists come from the leader's appenders in the same order.
            if (match != null && match.length == followers.size()) {
                for (int i = 0; i < match.length; i++) {
                    final ServerRpcProto f = followers.get(i);
                    final int id = nodeIdOf(f.getId().getId().toStringUtf8());
                    final long lastFetch = now - f.getLastRpcElapsedTimeMs();
                    final long caughtUp = match[i] >= highWatermark
                            ? voterCaughtUp.merge(id, lastFetch, Math::max)
                            : voterCaughtUp.getOrDefault(id, -1L);
                    known.put(id, new QuorumState.Replica(id, match[i], lastFetch, caughtUp));
                }
            }
            final TermIndex last = d.getRaftLog().getLastEntryTermIndex();
            known.put(nodeId, new QuorumState.Replica(nodeId, last == null ? -1 : last.getIndex(), now, now));
            observers.entrySet().removeIf(e -> now - e.getValue().lastFetchMs() > OBSERVER_SESSION_MS);
            new TreeMap<>(observers).forEach((id, o) -> observerList.add(
                    new QuorumState.Replica(id, o.fetchedIndex(), o.lastFetchMs(), o.lastCaughtUpMs())));
        }
        final List<QuorumState.Replica> voterList = new ArrayList<>();
        voters.keySet().forEach(id -> voterList.add(known.getOrDefault(id, new QuorumState.Replica(id, -1, -1, -1))));
        return new QuorumState(leader, term, highWatermark, voterList, observerList);
    }

    @Override
    public void close() {
        synchronized (closing) {
            if (closed) {
                return;
            }
            closed = true;
        }
        closing.countDown();
        // An observer's poller ends after its current fetch (at most a long poll); then nothing uses the client.
        if (observerThread != null && observerThread.isAlive() && observerThread != Thread.currentThread()) {
            try {
                observerThread.join(settings.requestTimeoutMs() + settings.observerFetchWaitMs() + 2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (observerThread.isAlive()) {
                observerThread.interrupt();
            }
        }
        // Netty's graceful event-loop shutdown takes ~2 s (its quiet period): close client and server side by side.
        final Thread clientCloser = daemonFactory("runnel-metadata-" + nodeId + "-close").newThread(this::closeClient);
        clientCloser.start();
        final RaftServer s = server;
        if (s != null) {
            try {
                s.close();
            } catch (IOException | RuntimeException e) {
                LOG.warn("node {}: closing the Raft server failed", nodeId, e);
            }
        }
        try {
            clientCloser.join(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (tail != null) {
            tail.takeWaiters().forEach(w -> w.complete(null));
        }
        timer.shutdownNow();
        for (CompletableFuture<?> f : List.copyOf(inflight)) {
            f.completeExceptionally(closedException());
        }
        events.shutdown();
        final String current = Thread.currentThread().getName();
        if (current.startsWith("runnel-metadata-" + nodeId + "-")) {
            return; // called from one of our own threads (a callback): they end when it returns
        }
        try {
            if (!events.awaitTermination(5, TimeUnit.SECONDS)) {
                events.shutdownNow();
            }
            timer.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // =================================================================================================== extras

    /** This node's id. */
    public int nodeId() {
        return nodeId;
    }

    /** True for a client-only observer. */
    public boolean isObserver() {
        return server == null;
    }

    /**
     * Asks Ratis to take a snapshot now (voters only) if anything was applied since the latest one; completes with
     * the index of the latest snapshot afterwards.
     */
    public CompletableFuture<Long> requestSnapshot() {
        final RaftServer s = server;
        if (s == null || closed) {
            return CompletableFuture.failedFuture(new IllegalStateException("not a running voter"));
        }
        final SnapshotManagementRequest request = SnapshotManagementRequest.newCreate(localClientId, s.getId(),
                GROUP_ID, callIds.incrementAndGet(), 60_000, 1);
        final CompletableFuture<Long> result = track(new CompletableFuture<>());
        CompletableFuture<RaftClientReply> reply;
        try {
            reply = s.snapshotManagementAsync(request);
        } catch (RuntimeException e) {
            reply = CompletableFuture.failedFuture(e);
        }
        reply.whenComplete((r, e) -> completeOnEvents(() -> {
            if (e != null) {
                result.completeExceptionally(unwrap(e));
            } else if (!r.isSuccess()) {
                result.completeExceptionally(r.getException());
            } else {
                result.complete(stateMachine.latestSnapshotIndex());
            }
        }));
        return result;
    }

    /** Index of the latest snapshot on this voter's disk, -1 if none (or an observer). */
    public long latestSnapshotIndex() {
        final MetadataStateMachine sm = stateMachine;
        return sm == null ? RaftLog.INVALID_LOG_INDEX : sm.latestSnapshotIndex();
    }

    /** Index of the last log entry applied on this node (for observers: the last batch or snapshot received). */
    public long lastAppliedIndex() {
        final MetadataStateMachine sm = stateMachine;
        return sm == null ? observedIndex : sm.lastAppliedIndex();
    }

    /** First index still in this voter's Raft log (entries before it were purged), -1 for observers. */
    public long logStartIndex() {
        final RaftServer.Division d = division;
        return d == null ? RaftLog.INVALID_LOG_INDEX : d.getRaftLog().getStartIndex();
    }

    // =================================================================================================== voter internals

    /** Bridges the state machine to this object. */
    private final class StateMachineHost implements MetadataStateMachine.Host {
        @Override
        public void leaderMayHaveChanged() {
            runOnEvents(RatisMetadataLog.this::publishLeaderState);
        }

        @Override
        public void leaderReady() {
            runOnEvents(RatisMetadataLog.this::publishReady);
        }

        @Override
        public CompletableFuture<Message> query(ByteString content) {
            return handleQuery(content);
        }

        @Override
        public void wake(List<CompletableFuture<Void>> waiters) {
            if (waiters.isEmpty()) {
                return;
            }
            try {
                timer.execute(() -> waiters.forEach(w -> w.complete(null)));
            } catch (RejectedExecutionException e) {
                waiters.forEach(w -> w.complete(null));
            }
        }
    }

    /** Events thread: tells the listener about a new leader or term (deduplicated). */
    private void publishLeaderState() {
        if (closed || division == null) {
            return;
        }
        final int leader = leaderId();
        final long term = term();
        if (leader != publishedLeader || term != publishedTerm) {
            publishedLeader = leader;
            publishedTerm = term;
            try {
                listener.onLeaderChange(leader, term);
            } catch (RuntimeException e) {
                LOG.error("node {}: onLeaderChange({}, {}) failed", nodeId, leader, term, e);
            }
        }
    }

    /** Events thread: tells the listener that this node is the ready leader of the current term. */
    private void publishReady() {
        publishLeaderState();
        if (closed || !isReadyLeader()) {
            return;
        }
        final long term = term();
        if (term != publishedReadyTerm) {
            publishedReadyTerm = term;
            try {
                listener.onReadyLeader(term);
            } catch (RuntimeException e) {
                LOG.error("node {}: onReadyLeader({}) failed", nodeId, term, e);
            }
        }
    }

    /** Timer thread: the wall-clock snapshot trigger (the entry-count trigger alone never fires at low write rates). */
    private void snapshotIfChanged() {
        final MetadataStateMachine sm = stateMachine;
        if (closed || sm == null || sm.lastAppliedIndex() <= sm.latestSnapshotIndex()) {
            return;
        }
        requestSnapshot().whenComplete((index, e) -> {
            if (e != null && !closed) {
                LOG.warn("node {}: periodic snapshot failed", nodeId, e);
            }
        });
    }

    /** Leader side of the read-only queries (Ratis only runs them on the ready leader). */
    private CompletableFuture<Message> handleQuery(ByteString content) {
        switch (MetadataWire.op(content)) {
            case MetadataWire.OP_CONTROLLER:
                return handleControllerQuery(MetadataWire.controllerPayload(content));
            case MetadataWire.OP_FETCH:
                return handleFetch(MetadataWire.parseFetch(content));
            default:
                return CompletableFuture.failedFuture(new IllegalArgumentException("unknown metadata query"));
        }
    }

    private CompletableFuture<Message> handleControllerQuery(byte[] request) {
        if (!isReadyLeader()) {
            return CompletableFuture.completedFuture(MetadataWire.controllerRetry(
                    "node " + nodeId + " is not the ready leader"));
        }
        return invokeHandler(request).handle((answer, e) -> {
            if (e == null) {
                return MetadataWire.controllerOk(answer);
            }
            final Throwable cause = unwrap(e);
            return cause instanceof NotControllerException
                    ? MetadataWire.controllerRetry(String.valueOf(cause.getMessage()))
                    : MetadataWire.controllerError(cause);
        });
    }

    private CompletableFuture<byte[]> invokeHandler(byte[] request) {
        try {
            final CompletableFuture<byte[]> f = listener.handleControllerRequest(request);
            if (f == null) {
                return CompletableFuture.failedFuture(new NullPointerException("handleControllerRequest returned null"));
            }
            return f.thenApply(answer -> answer == null ? new byte[0] : answer);
        } catch (RuntimeException | Error e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private CompletableFuture<Message> handleFetch(MetadataWire.FetchRequest fetch) {
        final MetadataStateMachine sm = stateMachine;
        if (!isReadyLeader()) {
            return CompletableFuture.failedFuture(new LeaderNotReadyException(division.getMemberId()));
        }
        final long now = System.currentTimeMillis();
        final boolean caughtUp = fetch.afterIndex() >= sm.lastBatchIndex();
        observers.compute(fetch.observerId(), (id, old) -> new ObserverInfo(fetch.afterIndex(), now,
                caughtUp ? now : old == null ? -1 : old.lastCaughtUpMs()));
        final int maxBytes = Math.max(1, Math.min(fetch.maxBytes(), settings.observerFetchMaxBytes()));
        if (fetch.afterIndex() > sm.lastAppliedIndex()) {
            // The observer claims more than this ready leader ever applied: its history is not ours; start it over.
            return CompletableFuture.completedFuture(snapshotReply());
        }
        final CommittedTail.Read read = tail.read(fetch.afterIndex(), maxBytes);
        final long waitMs = Math.min(fetch.waitMs(), settings.observerFetchWaitMs());
        if (read.needSnapshot() || !read.batches().isEmpty() || waitMs <= 0) {
            return CompletableFuture.completedFuture(fetchReply(read));
        }
        final CompletableFuture<Void> parked = tail.awaitAfter(fetch.afterIndex());
        if (!parked.isDone()) {
            try {
                final ScheduledFuture<?> expiry = timer.schedule(() -> {
                    tail.removeWaiter(parked);
                    parked.complete(null);
                }, waitMs, TimeUnit.MILLISECONDS);
                parked.whenComplete((v, e) -> expiry.cancel(false));
            } catch (RejectedExecutionException e) {
                parked.complete(null);
            }
        }
        return parked.thenApply(v -> fetchReply(tail.read(fetch.afterIndex(), maxBytes)));
    }

    private Message fetchReply(CommittedTail.Read read) {
        if (read.needSnapshot()) {
            return snapshotReply();
        }
        return MetadataWire.fetchBatches(nodeId, term(), division.getRaftLog().getLastCommittedIndex(),
                read.batches());
    }

    private Message snapshotReply() {
        final MetadataStateMachine.StateSnapshot snapshot;
        synchronized (snapshotCacheLock) {
            final CachedSnapshot cached = snapshotCache;
            if (cached != null && cached.snapshot().index() >= tail.base()
                    && System.nanoTime() - cached.createdNanos() < TimeUnit.MILLISECONDS.toNanos(OBSERVER_SNAPSHOT_CACHE_MS)) {
                snapshot = cached.snapshot();
            } else {
                snapshot = stateMachine.snapshotNow();
                snapshotCache = new CachedSnapshot(snapshot, System.nanoTime());
            }
        }
        return MetadataWire.fetchSnapshot(nodeId, term(), division.getRaftLog().getLastCommittedIndex(),
                snapshot.index(), snapshot.bytes());
    }

    private NotControllerException notController() {
        final int leader = leaderId();
        return new NotControllerException("node " + nodeId + " is not the active controller"
                + (leader >= 0 ? "; the leader is node " + leader : "; no leader is known"));
    }

    private Throwable appendFailure(Throwable e) {
        if (e instanceof NotLeaderException || e instanceof LeaderNotReadyException
                || e instanceof LeaderSteppingDownException || e instanceof ServerNotReadyException
                || e instanceof AlreadyClosedException) {
            final NotControllerException nce = closed
                    ? new NotControllerException("metadata log of node " + nodeId + " is closed") : notController();
            nce.initCause(e);
            return nce;
        }
        if (e instanceof StateMachineException && e.getCause() != null) {
            return e.getCause();
        }
        return e;
    }

    // =================================================================================================== controller calls

    private void attemptControllerCall(byte[] request, long deadline, CompletableFuture<byte[]> result) {
        if (result.isDone()) {
            return;
        }
        if (closed) {
            result.completeExceptionally(closedException());
            return;
        }
        if (System.nanoTime() - deadline >= 0) {
            result.completeExceptionally(new TimeoutException("no answer from the active controller in time"));
            return;
        }
        if (isReadyLeader()) {
            invokeHandler(request).whenComplete((answer, e) -> {
                if (e == null) {
                    result.complete(answer);
                } else if (unwrap(e) instanceof NotControllerException) {
                    retryControllerCall(request, deadline, result);
                } else {
                    result.completeExceptionally(unwrap(e));
                }
            });
            return;
        }
        final CompletableFuture<RaftClientReply> reply;
        try {
            // To the leader this node knows (its own Raft view, or what an observer last heard), not to the one the
            // Raft client cached: after a failover the client would keep asking the old leader until its own request
            // timeout, longer than a heartbeat's deadline, and a connected broker would be fenced.
            final int known = leaderId();
            final RaftPeerId target = known >= 0 && voters.containsKey(known) ? RaftPeerId.valueOf(peerId(known)) : null;
            reply = client().async().sendReadOnlyUnordered(MetadataWire.controllerRequest(deadline, request), target);
        } catch (RuntimeException e) {
            if (closed) {
                result.completeExceptionally(closedException());
            } else {
                result.completeExceptionally(e);
            }
            return;
        }
        reply.whenComplete((r, e) -> {
            if (e != null) {
                final Throwable cause = unwrap(e);
                if (closed) {
                    result.completeExceptionally(closedException());
                } else if (cause instanceof StateMachineException) {
                    result.completeExceptionally(cause.getCause() != null ? cause.getCause() : cause);
                } else {
                    retryControllerCall(request, deadline, result);
                }
                return;
            }
            final MetadataWire.ControllerReply answer;
            try {
                answer = MetadataWire.parseControllerReply(r.getMessage().getContent());
            } catch (RuntimeException bad) {
                result.completeExceptionally(bad);
                return;
            }
            switch (answer.status()) {
                case MetadataWire.STATUS_OK:
                    result.complete(answer.answer());
                    break;
                case MetadataWire.STATUS_RETRY:
                    retryControllerCall(request, deadline, result);
                    break;
                default:
                    if (NotControllerException.class.getName().equals(answer.errorClass())) {
                        retryControllerCall(request, deadline, result);
                    } else {
                        result.completeExceptionally(new ControllerCallException(answer.errorClass(), answer.message()));
                    }
            }
        });
    }

    private void retryControllerCall(byte[] request, long deadline, CompletableFuture<byte[]> result) {
        final long remainingMs = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (remainingMs <= 0) {
            result.completeExceptionally(new TimeoutException("no answer from the active controller in time"));
            return;
        }
        try {
            timer.schedule(() -> attemptControllerCall(request, deadline, result),
                    Math.min(RETRY_BACKOFF_MS, remainingMs), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            result.completeExceptionally(closedException());
        }
    }

    // =================================================================================================== observers

    private void observerLoop() {
        long backoff = RETRY_BACKOFF_MS;
        while (!closed) {
            try {
                final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(settings.requestTimeoutMs());
                final Message request = MetadataWire.fetchRequest(deadline, nodeId, observedIndex,
                        settings.observerFetchWaitMs(), settings.observerFetchMaxBytes());
                final RaftClientReply reply = client().async().sendReadOnlyUnordered(request, null)
                        .get(settings.requestTimeoutMs() + settings.observerFetchWaitMs() + 1000, TimeUnit.MILLISECONDS);
                final MetadataWire.FetchReply fetched = MetadataWire.parseFetchReply(reply.getMessage().getContent());
                try {
                    applyFetched(fetched);
                } catch (RuntimeException e) {
                    LOG.error("observer {}: the listener failed to apply fetched metadata; fetching again after {}",
                            nodeId, observedIndex, e);
                    throw e;
                }
                backoff = RETRY_BACKOFF_MS;
            } catch (InterruptedException e) {
                if (closed) {
                    break;
                }
            } catch (ExecutionException | TimeoutException | RuntimeException e) {
                if (closed) {
                    break;
                }
                LOG.debug("observer {}: fetch failed: {}", nodeId, e.toString());
                observedLeaderChanged(-1, observedTerm);
                try {
                    if (closing.await(backoff, TimeUnit.MILLISECONDS)) {
                        break;
                    }
                } catch (InterruptedException ie) {
                    if (closed) {
                        break;
                    }
                }
                backoff = Math.min(backoff * 2, OBSERVER_BACKOFF_MAX_MS);
            }
        }
    }

    /** Observer thread: applies one fetch answer. */
    private void applyFetched(MetadataWire.FetchReply reply) {
        observedLeaderChanged(reply.leaderId(), reply.term());
        observedCommitIndex = reply.commitIndex();
        if (reply.snapshot() != null) {
            listener.loadSnapshot(reply.snapshotIndex(), reply.snapshot());
            observedIndex = reply.snapshotIndex();
        }
        for (CommittedTail.Batch batch : reply.batches()) {
            if (batch.index() > observedIndex) {
                listener.onCommit(batch.index(), batch.term(), batch.data());
                observedIndex = batch.index();
            }
        }
    }

    private void observedLeaderChanged(int leader, long term) {
        if (leader == observedLeader && term == observedTerm) {
            return;
        }
        observedLeader = leader;
        observedTerm = Math.max(observedTerm, term);
        try {
            listener.onLeaderChange(leader, observedTerm);
        } catch (RuntimeException e) {
            LOG.error("observer {}: onLeaderChange failed", nodeId, e);
        }
    }

    // =================================================================================================== helpers

    private RaftClient client() {
        synchronized (clientLock) {
            if (closed) {
                throw new IllegalStateException("metadata log of node " + nodeId + " is closed");
            }
            if (client == null) {
                final RaftProperties p = new RaftProperties();
                RaftClientConfigKeys.Rpc.setRequestTimeout(p, ms(settings.requestTimeoutMs()));
                GrpcConfigKeys.Client.setWorkerGroupSize(p, 1);
                final RetryPolicy retry = event -> {
                    if (closed || !(event instanceof ClientRetryEvent)) {
                        return RetryPolicy.NO_RETRY_ACTION;
                    }
                    final long deadline = MetadataWire.retryDeadlineNanos(((ClientRetryEvent) event).getRequest()
                            .getMessage());
                    final long remainingMs = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                    if (deadline == Long.MIN_VALUE || remainingMs <= 0) {
                        return RetryPolicy.NO_RETRY_ACTION;
                    }
                    final TimeDuration sleep = ms(Math.min(RETRY_BACKOFF_MS, remainingMs));
                    return () -> sleep;
                };
                client = RaftClient.newBuilder()
                        .setProperties(p)
                        .setRaftGroup(group)
                        .setClientId(ClientId.randomId())
                        .setRetryPolicy(retry)
                        .build();
            }
            return client;
        }
    }

    private void closeClient() {
        final RaftClient c;
        synchronized (clientLock) {
            c = client;
            client = null;
        }
        if (c != null) {
            try {
                c.close();
            } catch (IOException | RuntimeException e) {
                LOG.warn("node {}: closing the Raft client failed", nodeId, e);
            }
        }
    }

    private <T> CompletableFuture<T> track(CompletableFuture<T> f) {
        inflight.add(f);
        f.whenComplete((v, e) -> inflight.remove(f));
        return f;
    }

    /** Runs a listener notification on the events thread; dropped once closed. */
    private void runOnEvents(Runnable r) {
        if (closed) {
            return;
        }
        try {
            events.execute(r);
        } catch (RejectedExecutionException e) {
            // closing
        }
    }

    /** Completes a caller's future on the events thread (inline once that thread is gone). */
    private void completeOnEvents(Runnable r) {
        try {
            events.execute(r);
        } catch (RejectedExecutionException e) {
            r.run();
        }
    }

    private IllegalStateException closedException() {
        return new IllegalStateException("metadata log of node " + nodeId + " is closed");
    }

    private static Throwable unwrap(Throwable e) {
        Throwable t = e;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    private static TimeDuration ms(long millis) {
        return TimeDuration.valueOf(millis, TimeUnit.MILLISECONDS);
    }

    private static String peerId(int nodeId) {
        return Integer.toString(nodeId);
    }

    private static int nodeIdOf(RaftPeerId peer) {
        return peer == null ? -1 : nodeIdOf(peer.toString());
    }

    private static int nodeIdOf(String peer) {
        try {
            return Integer.parseInt(peer);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static String hostPort(InetSocketAddress address) {
        final String host = address.getHostString();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + address.getPort();
    }

    private static ThreadFactory daemonFactory(String name) {
        final AtomicInteger n = new AtomicInteger();
        return r -> {
            final Thread t = new Thread(r, n.getAndIncrement() == 0 ? name : name + "-" + n.get());
            t.setDaemon(true);
            return t;
        };
    }

    @Override
    public String toString() {
        return "RatisMetadataLog(node " + nodeId + (server == null ? ", observer" : ", voter") + ")";
    }
}
