package dev.runnel.metadata.raft;

import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.ratis.io.MD5Hash;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.LifeCycle;
import org.apache.ratis.util.MD5FileUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Ratis state machine of a voter: hands committed batches to the {@link MetadataLogListener}, writes and loads
 * its snapshots (one file per snapshot, {@code snapshot.<term>_<index>} plus an {@code .md5} companion, in Ratis'
 * state-machine directory), keeps the {@link CommittedTail} for observers, and passes read-only queries and leader
 * events to the {@link RatisMetadataLog} that owns it.
 *
 * <p>{@code onCommit}, {@code snapshot} and {@code loadSnapshot} are only called under {@link #lock}, so never
 * concurrently. Ratis calls {@code applyTransaction} and {@code takeSnapshot} from its single StateMachineUpdater
 * thread; the lock additionally covers snapshots taken for observers on request threads.
 */
final class MetadataStateMachine extends BaseStateMachine {
    private static final Logger LOG = LoggerFactory.getLogger(MetadataStateMachine.class);

    /** First bytes of every snapshot file, followed by the listener's snapshot bytes. */
    static final byte[] SNAPSHOT_MAGIC = "RUNNEL-METADATA-SNAPSHOT-1\n".getBytes(StandardCharsets.US_ASCII);

    /** What the state machine needs from its owner. */
    interface Host {
        /** The leader or the term may have changed. */
        void leaderMayHaveChanged();

        /** This node became a ready leader (Ratis' notifyLeaderReady, called on the apply thread). */
        void leaderReady();

        /** A read-only query (controller call or observer fetch) that Ratis runs on the leader. */
        CompletableFuture<Message> query(ByteString content);

        /** Completes parked observer fetches off the calling thread. */
        void wake(List<CompletableFuture<Void>> waiters);
    }

    /** A consistent copy of the listener's state and the log index it reflects. */
    record StateSnapshot(long index, byte[] bytes) {
    }

    private final MetadataLogListener listener;
    private final CommittedTail tail;
    private final Host host;
    private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();
    private final Object lock = new Object();
    /** Index of the last batch handed to the listener (or of the loaded snapshot). */
    private volatile long lastBatchIndex = RaftLog.INVALID_LOG_INDEX;
    /** Index of the latest snapshot loaded into the listener by {@link #loadLatestSnapshot}. */
    private volatile long lastLoadedSnapshotIndex = RaftLog.INVALID_LOG_INDEX;

    MetadataStateMachine(MetadataLogListener listener, CommittedTail tail, Host host) {
        this.listener = listener;
        this.tail = tail;
        this.host = host;
    }

    // ------------------------------------------------------------------ life cycle and snapshots

    @Override
    public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
        getLifeCycle().startAndTransition(() -> {
            super.initialize(server, groupId, raftStorage);
            storage.init(raftStorage);
            loadLatestSnapshot();
        }, IOException.class);
    }

    /** Called by Ratis after a snapshot from the leader was installed (the state machine was paused first). */
    @Override
    public void reinitialize() throws IOException {
        loadLatestSnapshot();
        if (getLifeCycleState() == LifeCycle.State.PAUSED) {
            getLifeCycle().transition(LifeCycle.State.STARTING);
            getLifeCycle().transition(LifeCycle.State.RUNNING);
        }
    }

    @Override
    public void pause() {
        if (getLifeCycleState() == LifeCycle.State.RUNNING) {
            getLifeCycle().transition(LifeCycle.State.PAUSING);
            getLifeCycle().transition(LifeCycle.State.PAUSED);
        }
    }

    @Override
    public SimpleStateMachineStorage getStateMachineStorage() {
        return storage;
    }

    private void loadLatestSnapshot() throws IOException {
        final SingleFileSnapshotInfo latest = storage.loadLatestSnapshot();
        if (latest == null) {
            return;
        }
        final Path path = latest.getFile().getPath();
        if (!Files.exists(path)) {
            LOG.warn("snapshot file {} of {} does not exist", path, latest);
            return;
        }
        final MD5Hash md5 = latest.getFile().getFileDigest();
        if (md5 != null) {
            MD5FileUtil.verifySavedMD5(path.toFile(), md5);
        }
        final byte[] content = Files.readAllBytes(path);
        if (content.length < SNAPSHOT_MAGIC.length
                || !Arrays.equals(content, 0, SNAPSHOT_MAGIC.length, SNAPSHOT_MAGIC, 0, SNAPSHOT_MAGIC.length)) {
            throw new IOException("not a Runnel metadata snapshot: " + path);
        }
        final byte[] state = Arrays.copyOfRange(content, SNAPSHOT_MAGIC.length, content.length);
        final TermIndex termIndex = latest.getTermIndex();
        final List<CompletableFuture<Void>> waiters;
        synchronized (lock) {
            listener.loadSnapshot(termIndex.getIndex(), state);
            setLastAppliedTermIndex(termIndex);
            lastBatchIndex = termIndex.getIndex();
            lastLoadedSnapshotIndex = termIndex.getIndex();
            waiters = tail.reset(termIndex.getIndex());
        }
        host.wake(waiters);
        LOG.info("loaded metadata snapshot {} ({} bytes)", termIndex, state.length);
    }

    @Override
    public long takeSnapshot() throws IOException {
        final TermIndex last;
        final byte[] state;
        synchronized (lock) {
            last = getLastAppliedTermIndex();
            if (last == null || last.getIndex() < 0 || last.getTerm() < 0) {
                return RaftLog.INVALID_LOG_INDEX;
            }
            final SingleFileSnapshotInfo latest = storage.getLatestSnapshot();
            if (latest != null && latest.getIndex() >= last.getIndex()) {
                return latest.getIndex();
            }
            state = listener.snapshot();
        }
        final File file = storage.getSnapshotFile(last.getTerm(), last.getIndex());
        final Path tmp = file.toPath().resolveSibling(file.getName() + ".writing");
        try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            final ByteBuffer magic = ByteBuffer.wrap(SNAPSHOT_MAGIC);
            while (magic.hasRemaining()) {
                out.write(magic);
            }
            final ByteBuffer body = ByteBuffer.wrap(state);
            while (body.hasRemaining()) {
                out.write(body);
            }
            out.force(true);
        }
        Files.move(tmp, file.toPath(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        final MD5Hash md5 = MD5FileUtil.computeAndSaveMd5ForFile(file);
        storage.updateLatestSnapshot(new SingleFileSnapshotInfo(new FileInfo(file.toPath(), md5), last));
        LOG.info("took metadata snapshot {} ({} bytes)", last, state.length);
        return last.getIndex();
    }

    /** The listener's state now, with the index it reflects (for observers too far behind the in-memory tail). */
    StateSnapshot snapshotNow() {
        synchronized (lock) {
            final TermIndex last = getLastAppliedTermIndex();
            final long index = last == null ? RaftLog.INVALID_LOG_INDEX : last.getIndex();
            return new StateSnapshot(index, listener.snapshot());
        }
    }

    long lastAppliedIndex() {
        final TermIndex last = getLastAppliedTermIndex();
        return last == null ? RaftLog.INVALID_LOG_INDEX : last.getIndex();
    }

    long lastBatchIndex() {
        return lastBatchIndex;
    }

    long latestSnapshotIndex() {
        final SingleFileSnapshotInfo latest = storage.getLatestSnapshot();
        return latest == null ? RaftLog.INVALID_LOG_INDEX : latest.getIndex();
    }

    long lastLoadedSnapshotIndex() {
        return lastLoadedSnapshotIndex;
    }

    // ------------------------------------------------------------------ the log

    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
        final LogEntryProto entry = trx.getLogEntry();
        final byte[] batch = entry.getStateMachineLogEntry().getLogData().toByteArray();
        final List<CompletableFuture<Void>> waiters;
        synchronized (lock) {
            try {
                listener.onCommit(entry.getIndex(), entry.getTerm(), batch);
            } catch (RuntimeException | Error e) {
                // Fail-stop: a listener that cannot apply a committed batch must not go on with a diverged state.
                // Ratis stops this server when applyTransaction throws.
                LOG.error("listener failed to apply committed batch {} (term {}); stopping this metadata voter",
                        entry.getIndex(), entry.getTerm(), e);
                throw e;
            }
            updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
            lastBatchIndex = entry.getIndex();
            waiters = tail.add(entry.getIndex(), entry.getTerm(), batch);
        }
        host.wake(waiters);
        return CompletableFuture.completedFuture(Message.EMPTY);
    }

    @Override
    public void notifyTermIndexUpdated(long term, long index) {
        super.notifyTermIndexUpdated(term, index);
        host.leaderMayHaveChanged();
    }

    @Override
    public void notifyLeaderChanged(RaftGroupMemberId groupMemberId, RaftPeerId newLeaderId) {
        host.leaderMayHaveChanged();
    }

    @Override
    public void notifyLogFailed(Throwable cause, LogEntryProto failedEntry) {
        // Ratis keeps the log failed (no more appends on this node) until the process restarts, e.g. after disk full.
        LOG.error("the Raft log failed{}; this metadata voter cannot write until restarted",
                failedEntry == null ? "" : " at index " + failedEntry.getIndex(), cause);
    }

    @Override
    public void notifyLeaderReady() {
        host.leaderReady();
    }

    @Override
    public CompletableFuture<Message> query(Message request) {
        return host.query(request.getContent());
    }

    @Override
    public void close() {
        host.wake(tail.takeWaiters());
    }
}
