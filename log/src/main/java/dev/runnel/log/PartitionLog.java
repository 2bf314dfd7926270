package dev.runnel.log;

import dev.runnel.wire.records.BatchCursor;
import dev.runnel.wire.records.BatchValidator;
import dev.runnel.wire.records.RecordBatch;
import dev.runnel.wire.records.RecordCursor;
import dev.runnel.wire.records.RecordsException;
import dev.runnel.wire.records.TimestampType;
import dev.runnel.wire.records.ValidationResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;

/**
 * One partition's log in Kafka's on-disk format, in {@code <log.dir>/<topic>-<partition>/}:
 * segments named by their 20-digit base offset ({@code .log} holding RecordBatches exactly as Kafka
 * stores them, {@code .index}, {@code .timeindex}).
 *
 * <p><b>Writes</b> ({@link #append}) validate every batch first, then under a per-partition lock
 * check producer sequences, assign offsets by rewriting BaseOffset and PartitionLeaderEpoch in the
 * caller's buffer, and write the whole request with one positional FileChannel write. No per-record
 * objects. <b>Reads</b> ({@link #read}) take no lock: they see the log end through one volatile
 * snapshot published after a write completes, so they never see part of a batch, and return file
 * regions for zero-copy sending.
 *
 * <p><b>Durability</b>: data is fsynced on {@link #flush()}, on {@link #close()}, and every
 * {@code flush.messages} records. On open, a log that was not closed cleanly is recovered from its
 * recovery point: batches are re-read and CRC-checked, the file is cut at the first torn, zeroed or
 * corrupt batch (later segments are then dropped) and the indexes are rebuilt. Producer state and the
 * leader epoch cache are rebuilt from batch headers on every open.
 */
public final class PartitionLog implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PartitionLog.class);
    private static final Pattern LOG_FILE = Pattern.compile("\\d{20}\\.log");
    private static final Pattern INDEX_FILE = Pattern.compile("(\\d{20})\\.(index|timeindex|txnindex)");

    /** ListOffsets special timestamps. */
    public static final long LATEST_TIMESTAMP = -1L;
    public static final long EARLIEST_TIMESTAMP = -2L;
    public static final long MAX_TIMESTAMP = -3L;
    public static final long EARLIEST_LOCAL_TIMESTAMP = -4L;

    private record EndState(long offset, LogSegment segment, int segmentSize) {
    }

    private final Path dir;
    private volatile LogConfig config;
    private final LongSupplier clock;
    private final ReentrantLock lock = new ReentrantLock();
    private volatile BatchValidator clientValidator;
    private volatile BatchValidator trustedValidator;
    private final BatchValidator followerValidator;
    private final ProducerStateManager producers = new ProducerStateManager();
    private final LeaderEpochCache epochCache = new LeaderEpochCache();
    /** Open and completed transactions, the last stable offset (see {@link LogTransactions}). */
    private final TransactionTracker txns = new TransactionTracker();

    private volatile LogSegment[] segments;
    private volatile EndState end;
    private volatile long logStartOffset;
    private volatile long highWatermark;
    private volatile boolean closed;
    /** Serialises retention and the cleaner (long work, taken before {@link #lock}, which they hold only briefly). */
    private final ReentrantLock maintenanceLock = new ReentrantLock();
    /** Set by close/deleteAll before they wait for {@link #maintenanceLock}: a running clean gives up. */
    private volatile boolean aborting;
    /** Segments taken out of the log, renamed {@code .deleted}, closed and deleted once due. */
    private final ConcurrentLinkedQueue<PendingDeletion> pendingDeletions = new ConcurrentLinkedQueue<>();
    /** Cleaner: the first offset not yet compacted (-1: unknown, the log start), and when a tombstone expires. */
    private volatile long firstDirtyOffset = -1L;
    private volatile long nextDeleteHorizonMs = Long.MAX_VALUE;

    private record PendingDeletion(LogSegment segment, long dueMs) {
    }

    // writer state (lock)
    private long recoveryPoint;
    private long unflushedMessages;
    /** A segment file was created since the last flush (its directory entry is not durable yet). */
    private boolean directoryDirty;
    private IOException failure;

    private PartitionLog(Path dir, LogConfig config, LongSupplier clock) {
        this.dir = dir;
        this.config = config;
        this.clock = clock;
        this.clientValidator = BatchValidator.forClient(config.maxMessageBytes(), config.messageTimestampType());
        this.trustedValidator = BatchValidator.forTrusted(config.maxMessageBytes());
        this.followerValidator = BatchValidator.forTrusted(Integer.MAX_VALUE);
    }

    /** Opens (creating if needed) the log in {@code dir}, recovering it if it was not closed cleanly. */
    public static PartitionLog open(Path dir, LogConfig config) throws IOException {
        return open(dir, config, System::currentTimeMillis);
    }

    /** As {@link #open(Path, LogConfig)} with an injected clock (ms) for LogAppendTime and segment.ms. */
    public static PartitionLog open(Path dir, LogConfig config, LongSupplier clock) throws IOException {
        PartitionLog log = new PartitionLog(dir, config, clock);
        log.load();
        return log;
    }

    // ------------------------------------------------------------------ loading and recovery

    private void load() throws IOException {
        long started = System.nanoTime();
        Files.createDirectories(dir);
        LogCleaner.resolveLeftovers(dir);
        // A brand-new log (no state file, no segments) has nothing to recover and nothing to make durable
        // yet: it skips the recovery path and its fsyncs, which would cost a topic of 50 partitions
        // (__consumer_offsets) hundreds of syncs at creation.
        boolean fresh = !Files.exists(dir.resolve(StateFiles.STATE_FILE));
        StateFiles.LogState state = fresh ? new StateFiles.LogState(true, 0L, 0L) : StateFiles.readState(dir);
        long now = clock.getAsLong();

        List<Long> bases = new ArrayList<>();
        List<Path> orphans = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path f : files) {
                String name = f.getFileName().toString();
                if (name.endsWith(".tmp")) {
                    Files.deleteIfExists(f);
                } else if (LOG_FILE.matcher(name).matches()) {
                    bases.add(Long.parseLong(name.substring(0, 20)));
                } else if (INDEX_FILE.matcher(name).matches()) {
                    orphans.add(f);
                }
            }
        }
        bases.sort(null);
        int orphanIndexes = 0;
        for (Path f : orphans) {
            long base = Long.parseLong(f.getFileName().toString().substring(0, 20));
            if (!bases.contains(base)) {
                Files.deleteIfExists(f);
                orphanIndexes++;
            }
        }
        if (!bases.isEmpty() && fresh) {
            // segments without a state file: recover them as after a crash
            fresh = false;
            state = StateFiles.LogState.NONE;
        }
        if (bases.isEmpty()) {
            bases.add(Math.max(0L, state.logStartOffset()));
        }
        String notTrusted = null;
        if (state.clean() && !fresh) {
            notTrusted = loadTrusted(bases, state, now, started, orphanIndexes);
            if (notTrusted == null) {
                return;
            }
            // the files disagree with what the clean shutdown recorded: look at them as after a crash
            // (segments below the recovery point were fsynced then and are not CRC-checked again)
            state = new StateFiles.LogState(false, state.recoveryPoint(), state.logStartOffset());
        }

        txns.clear();
        List<LogSegment> loaded = new ArrayList<>();
        int recovered = 0;
        int rebuilt = 0;
        int deleted = 0;
        long truncatedBytes = 0;
        List<String> problems = new ArrayList<>();
        boolean truncatedEarlier = false;
        for (int i = 0; i < bases.size(); i++) {
            long base = bases.get(i);
            if (truncatedEarlier) {
                LogSegment.open(dir, base, now).closeAndDelete();
                deleted++;
                continue;
            }
            boolean last = i == bases.size() - 1;
            boolean needRecovery = !state.clean() && (last || bases.get(i + 1) > state.recoveryPoint());
            boolean hadIndexes = LogSegment.indexFilesExist(dir, base);
            if (!hadIndexes && !fresh) {
                problems.add(LogSegment.fileName(base, LogSegment.LOG_SUFFIX) + " had no index files");
            }
            LogSegment seg = LogSegment.open(dir, base, now);
            boolean rebuild = needRecovery || !hadIndexes;
            if (rebuild) {
                seg.resetIndexes();
                seg.makeActive(config.segmentIndexBytes());
            }
            ScanOutcome out = scanOnLoad(seg, needRecovery, rebuild);
            if (needRecovery) {
                recovered++;
            }
            String txnProblem = LogTransactions.reconcileIndex(seg, out.abortedTxns);
            if (txnProblem != null) {
                problems.add(txnProblem);
            }
            if (out.problem != null) {
                truncatedBytes += seg.size - out.validEnd;
                problems.add(seg.logPath.getFileName() + " " + out.problem);
                seg.channel.truncate(out.validEnd);
                seg.size = (int) out.validEnd;
                seg.dirty = true;
                truncatedEarlier = true;
                if (!rebuild) {
                    rebuild = true;
                    rebuildIndexes(seg);
                }
            } else if (!rebuild && !out.indexesConsistent) {
                problems.add(seg.logPath.getFileName() + " index files were inconsistent with the log");
                rebuild = true;
                rebuildIndexes(seg);
            }
            if (rebuild) {
                rebuilt++;
            }
            loaded.add(seg);
        }
        // stray empty segments: any empty one but the last; an empty last one that leaves an offset gap
        for (int i = loaded.size() - 1; i >= 0 && loaded.size() > 1; i--) {
            LogSegment seg = loaded.get(i);
            if (seg.size != 0) {
                continue;
            }
            boolean isLast = i == loaded.size() - 1;
            if (!isLast || (i > 0 && loaded.get(i - 1).nextOffset != seg.baseOffset)) {
                seg.closeAndDelete();
                loaded.remove(i);
                deleted++;
            }
        }
        for (int i = 0; i < loaded.size() - 1; i++) {
            loaded.get(i).onBecomeInactive();
        }
        LogSegment active = loaded.get(loaded.size() - 1);
        active.makeActive(config.segmentIndexBytes());
        segments = loaded.toArray(new LogSegment[0]);

        long leo = active.nextOffset;
        long start = loaded.get(0).baseOffset;
        if (state.logStartOffset() > start && state.logStartOffset() <= leo) {
            start = state.logStartOffset();
        }
        logStartOffset = start;
        epochCache.truncateFromStart(start);
        // After a crash that left nothing past the durable recovery point (no new data, nothing cut or deleted; e.g.
        // the many empty partitions of internal topics) there is nothing to fsync and the state file already says
        // what it would say: skipping both saves several fsyncs per partition on a restart.
        boolean untouched = !state.clean() && !fresh && leo == state.recoveryPoint() && truncatedBytes == 0 && deleted == 0
                && loaded.stream().noneMatch(seg -> seg.dirty)
                && StateFiles.onDisk(dir, new StateFiles.LogState(false, leo, start));
        if (!state.clean() && !untouched) {
            for (LogSegment seg : loaded) {
                if (seg.dirty || seg.baseOffset >= state.recoveryPoint() || seg == active) {
                    seg.dirty = true;
                    seg.flush();
                }
            }
        }
        for (LogSegment seg : loaded) {
            seg.dirty = false;
        }
        recoveryPoint = leo;
        highWatermark = leo;
        txns.onHighWatermark(leo);
        end = new EndState(leo, active, active.size);
        if (!untouched) {
            StateFiles.writeState(dir, new StateFiles.LogState(false, recoveryPoint, start), !fresh);
        }

        long ms = (System.nanoTime() - started) / 1_000_000;
        String how = fresh ? "new" : notTrusted != null ? "clean shutdown, but " + notTrusted
                : state.clean() ? "clean shutdown" : "unclean shutdown";
        String summary = "Loaded log " + dir.getFileName() + " (" + how + "): " + loaded.size() + " segment(s), offsets " + start + ".." + leo + ", " + recovered
                + " segment(s) recovered, " + rebuilt + " index set(s) rebuilt, " + truncatedBytes
                + " byte(s) truncated, " + deleted + " segment(s) deleted, " + orphanIndexes + " orphan index file(s) deleted, "
                + producers.producerCount() + " producer(s), in " + ms + " ms";
        if (problems.isEmpty()) {
            // A new or cleanly closed log that needed no repair is routine: a broker opens dozens at a time (50 for
            // __consumer_offsets alone), and the topic creation or start-up already has its own line.
            boolean routine = fresh || (state.clean() && recovered == 0 && truncatedBytes == 0 && deleted == 0);
            if (routine) {
                LOG.debug(summary);
            } else {
                LOG.info(summary);
            }
        } else {
            LOG.warn(summary + "; problems: " + String.join("; ", problems));
        }
    }

    /**
     * Opening after a clean shutdown: trusts what {@link #close()} wrote — the recovery point (the log end
     * offset then), the {@link ShutdownSnapshot} (leader epochs, producer state) and the indexes (after their
     * cheap sanity checks) — so that a segment costs the read of its tail behind its last offset-index entry (about
     * {@code index.interval.bytes}), not of every batch header. That tail read also proves each segment still
     * ends in whole batches, so a file truncated or zero-filled after the shutdown is noticed. Returns null once
     * the log is loaded, else why it must be scanned (nothing of this attempt is kept then).
     */
    private String loadTrusted(List<Long> bases, StateFiles.LogState state, long now, long started, int orphanIndexes)
            throws IOException {
        int[] txnIndexEntries = new int[1];
        String why = ShutdownSnapshot.read(dir, state.recoveryPoint(), epochCache, producers, txnIndexEntries);
        List<LogSegment> loaded = new ArrayList<>();
        try {
            for (int i = 0; why == null && i < bases.size(); i++) {
                long base = bases.get(i);
                boolean last = i == bases.size() - 1;
                if (!LogSegment.indexFilesExist(dir, base)) {
                    why = LogSegment.fileName(base, LogSegment.LOG_SUFFIX) + " has no index files";
                    break;
                }
                LogSegment seg = LogSegment.open(dir, base, now);
                loaded.add(seg);
                why = trustSegment(seg, last);
                if (why == null && !last && seg.size == 0) {
                    why = seg.logPath.getFileName() + " is empty";
                }
                if (why == null && i > 0 && loaded.get(i - 1).nextOffset > base) {
                    why = seg.logPath.getFileName() + " overlaps the segment before it";
                }
            }
            if (why == null && loaded.get(loaded.size() - 1).nextOffset != state.recoveryPoint()) {
                why = "the log ends at offset " + loaded.get(loaded.size() - 1).nextOffset
                        + ", not at the recovery point " + state.recoveryPoint();
            }
            if (why == null) {
                why = LogTransactions.checkIndexes(loaded, txnIndexEntries[0]);
            }
        } catch (IOException | RuntimeException e) {
            why = "its files could not be trusted: " + e;
        }
        if (why != null) {
            for (LogSegment seg : loaded) {
                seg.close();
            }
            producers.clear();
            epochCache.clear();
            txns.clear();
            return why;
        }
        LogTransactions.restoreOpen(producers, txns);
        for (int i = 0; i < loaded.size() - 1; i++) {
            loaded.get(i).onBecomeInactive();
        }
        LogSegment active = loaded.get(loaded.size() - 1);
        active.makeActive(config.segmentIndexBytes());
        segments = loaded.toArray(new LogSegment[0]);
        long leo = active.nextOffset;
        long start = loaded.get(0).baseOffset;
        if (state.logStartOffset() > start && state.logStartOffset() <= leo) {
            start = state.logStartOffset();
        }
        logStartOffset = start;
        epochCache.truncateFromStart(start);
        recoveryPoint = leo;
        highWatermark = leo;
        txns.onHighWatermark(leo);
        end = new EndState(leo, active, active.size);
        // No fsync (a partition's open would cost one, seconds for a few hundred on a busy disk): should a power
        // loss undo this write, the clean record that comes back names the old log end, and anything appended
        // since then makes the next open find a different end and recover the log.
        StateFiles.writeState(dir, new StateFiles.LogState(false, recoveryPoint, start), false);
        ShutdownSnapshot.delete(dir);
        long ms = (System.nanoTime() - started) / 1_000_000;
        String summary = "Loaded log " + dir.getFileName() + " (clean shutdown, recovery point trusted): " + loaded.size()
                + " segment(s), offsets " + start + ".." + leo + ", 0 segment(s) recovered, 0 index set(s) rebuilt, "
                + "0 byte(s) truncated, 0 segment(s) deleted, " + orphanIndexes + " orphan index file(s) deleted, "
                + producers.producerCount() + " producer(s), in " + ms + " ms";
        // Routine on every clean restart (and __consumer_offsets alone has 50 partitions): INFO only if files went.
        if (orphanIndexes == 0) {
            LOG.debug(summary);
        } else {
            LOG.info(summary);
        }
        return null;
    }

    /**
     * Sets a segment's bookkeeping from its indexes and the batches behind its last offset-index entry; returns
     * why the segment cannot be trusted, or null.
     */
    private static String trustSegment(LogSegment seg, boolean active) throws IOException {
        String problem = seg.offsetIndex.sanityProblem(seg.size);
        if (problem == null) {
            problem = seg.timeIndex.sanityProblem();
        }
        if (problem != null) {
            return "the indexes of " + seg.logPath.getFileName() + " are damaged (" + problem + ")";
        }
        boolean indexed = seg.offsetIndex.entries() > 0;
        int from = indexed ? seg.offsetIndex.lookup(seg.offsetIndex.lastOffset()) : 0;
        long next = seg.baseOffset;
        long maxTs = seg.timeIndex.entries() > 0 ? seg.timeIndex.lastTimestamp() : RecordBatch.NO_TIMESTAMP;
        long maxTsOffset = seg.timeIndex.entries() > 0 ? seg.timeIndex.lastEntryOffset() : -1L;
        SegmentScanner sc = new SegmentScanner(seg.channel, seg.baseOffset, from, seg.size, false);
        boolean first = true;
        while (sc.next()) {
            RecordBatch b = sc.batch();
            if (first && indexed && b.lastOffset() != seg.offsetIndex.lastOffset()) {
                return "the last offset-index entry of " + seg.logPath.getFileName() + " does not point at its batch";
            }
            first = false;
            next = b.lastOffset() + 1;
            if (b.maxTimestamp() > maxTs) {
                maxTs = b.maxTimestamp();
                maxTsOffset = b.lastOffset();
            }
        }
        if (sc.problem() != null) {
            return seg.logPath.getFileName() + " does not end in whole batches (" + sc.problem() + ")";
        }
        if (indexed && first) {
            return "the last offset-index entry of " + seg.logPath.getFileName() + " points past its data";
        }
        seg.nextOffset = next;
        seg.maxTimestamp = maxTsOffset >= 0 ? new LogSegment.MaxTimestamp(maxTs, maxTsOffset) : LogSegment.MaxTimestamp.NONE;
        if (active) {
            seg.bytesSinceLastIndexEntry = indexed ? seg.size - from : seg.size;
            ByteBuffer header = ByteBuffer.allocate(RecordBatch.RECORD_BATCH_OVERHEAD);
            if (seg.readHeader(0, seg.size, header)) {
                seg.rollingBasedTimestamp = RecordBatch.at(header, 0).maxTimestamp();
            }
        }
        return null;
    }

    private static final class ScanOutcome {
        /** Aborted transactions whose ABORT marker is in the segment, as the replay found them. */
        final List<AbortedTxn> abortedTxns = new ArrayList<>(0);
        String problem;
        long validEnd;
        boolean indexesConsistent = true;
    }

    /**
     * One pass over a segment on load: replays producer state and leader epochs, sets the segment's
     * bookkeeping, builds the indexes ({@code rebuild}) or checks the existing ones would be
     * exactly what we would have written.
     */
    private ScanOutcome scanOnLoad(LogSegment seg, boolean verifyCrc, boolean rebuild) throws IOException {
        ScanOutcome out = new ScanOutcome();
        SegmentScanner sc = new SegmentScanner(seg.channel, seg.baseOffset, 0, seg.size, verifyCrc);
        int interval = config.indexIntervalBytes();
        // what the indexes should hold, computed with the append-time cadence
        long vBytesSince = 0;
        int vOffsetEntries = 0;
        long vLastIndexedOffset = -1;
        long vLastIndexedPosition = -1;
        int vTimeEntries = 0;
        long vLastTime = Long.MIN_VALUE;
        long vLastTimeOffset = -1;
        long maxTs = RecordBatch.NO_TIMESTAMP;
        long maxTsOffset = -1;
        while (sc.next()) {
            RecordBatch b = sc.batch();
            int pos = (int) sc.position();
            int size = b.sizeInBytes();
            long lastOffset = b.lastOffset();
            long batchMax = b.maxTimestamp();
            if (b.hasProducerId()) {
                LogTransactions.replay(b, seg, pos, producers, txns, out.abortedTxns);
            }
            epochCache.assign(b.partitionLeaderEpoch(), b.baseOffset());
            if (rebuild) {
                seg.onBatch(lastOffset, batchMax, pos, size, interval);
            } else {
                seg.onBatchNoIndex(lastOffset, batchMax, pos, size);
                if (batchMax > maxTs) {
                    maxTs = batchMax;
                    maxTsOffset = lastOffset;
                }
                if (vBytesSince > interval) {
                    vOffsetEntries++;
                    vLastIndexedOffset = lastOffset;
                    vLastIndexedPosition = pos;
                    if (vTimeEntries == 0 || maxTs > vLastTime) {
                        vTimeEntries++;
                        vLastTime = maxTs;
                        vLastTimeOffset = maxTsOffset;
                    }
                    vBytesSince = 0;
                }
                vBytesSince += size;
            }
        }
        out.problem = sc.problem();
        out.validEnd = sc.validEnd();
        if (!rebuild) {
            // the final entry written when the segment was rolled or closed
            if (maxTsOffset >= 0 && (vTimeEntries == 0 || maxTs > vLastTime)) {
                vTimeEntries++;
                vLastTime = maxTs;
                vLastTimeOffset = maxTsOffset;
            }
            OffsetIndex oi = seg.offsetIndex;
            TimeIndex ti = seg.timeIndex;
            boolean ok = oi.sanityProblem(seg.size) == null && ti.sanityProblem() == null
                    && oi.entries() == vOffsetEntries && ti.entries() == vTimeEntries;
            if (ok && vOffsetEntries > 0) {
                ok = oi.lastOffset() == vLastIndexedOffset && oi.lookup(vLastIndexedOffset) == vLastIndexedPosition;
            }
            if (ok && vTimeEntries > 0) {
                ok = ti.lastTimestamp() == vLastTime && ti.lastEntryOffset() == vLastTimeOffset;
            }
            out.indexesConsistent = ok;
        }
        return out;
    }

    /** Empties and rebuilds the indexes (and bookkeeping) of a segment from its batch headers. */
    private void rebuildIndexes(LogSegment seg) throws IOException {
        seg.resetIndexes();
        seg.makeActive(config.segmentIndexBytes());
        seg.maxTimestamp = LogSegment.MaxTimestamp.NONE;
        seg.nextOffset = seg.baseOffset;
        seg.rollingBasedTimestamp = RecordBatch.NO_TIMESTAMP;
        SegmentScanner sc = new SegmentScanner(seg.channel, seg.baseOffset, 0, seg.size, false);
        while (sc.next()) {
            RecordBatch b = sc.batch();
            seg.onBatch(b.lastOffset(), b.maxTimestamp(), (int) sc.position(), b.sizeInBytes(), config.indexIntervalBytes());
        }
        if (sc.problem() != null) {
            throw new IOException("Segment " + seg.logPath + " changed while rebuilding its indexes: " + sc.problem());
        }
    }

    // ------------------------------------------------------------------ appends

    /**
     * Applies new topic settings to the open log (AlterConfigs): validation limits, timestamp type,
     * roll rules and flush interval apply to the next append; {@code segment.index.bytes} applies to
     * segments created from now on.
     */
    public void updateConfig(LogConfig newConfig) {
        lock.lock();
        try {
            config = newConfig;
            clientValidator = BatchValidator.forClient(newConfig.maxMessageBytes(), newConfig.messageTimestampType());
            trustedValidator = BatchValidator.forTrusted(newConfig.maxMessageBytes());
        } finally {
            lock.unlock();
        }
    }

    /** Kafka's per-record key check for compacted topics ({@link KeylessRecordCheck}), or null when every record has one. */
    private AppendResult checkKeys(ByteBuffer records) {
        java.util.List<AppendResult.RecordError> errors;
        try {
            errors = KeylessRecordCheck.find(records.duplicate(), dir.getFileName().toString());
        } catch (dev.runnel.wire.records.RecordsException e) {
            return AppendResult.error(e.errorCode(), e.getMessage(), logStartOffset);
        }
        if (errors.isEmpty()) {
            return null;
        }
        return new AppendResult(LogErrors.INVALID_RECORD, KeylessRecordCheck.summary(errors), -1L, -1L, -1L, logStartOffset, 0,
                false, java.util.List.copyOf(errors));
    }

    /** Appends a producer's batches: {@code append(records, leaderEpoch, AppendOrigin.CLIENT)}. */
    public AppendResult append(ByteBuffer records, int leaderEpoch) {
        return append(records, leaderEpoch, AppendOrigin.CLIENT);
    }

    /**
     * Validates the batches in {@code records} (position to limit), and if all are good appends them
     * as the leader: offsets from the log end offset, PartitionLeaderEpoch = {@code leaderEpoch}, and
     * for LogAppendTime topics the broker's time (which rewrites MaxTimestamp, attributes and CRC).
     * The header fields are rewritten <em>in the caller's buffer</em>. Nothing is written if any
     * batch is rejected. A retried idempotent batch is acknowledged with its original offsets.
     */
    public AppendResult append(ByteBuffer records, int leaderEpoch, AppendOrigin origin) {
        BatchValidator validator = origin == AppendOrigin.CLIENT ? clientValidator : trustedValidator;
        ValidationResult v = validator.validate(records);
        if (!v.isOk()) {
            return AppendResult.error(v.errorCode(), v.message(), logStartOffset);
        }
        if (origin == AppendOrigin.CLIENT && config.cleanup().compact()) {
            AppendResult keyless = checkKeys(records);
            if (keyless != null) {
                return keyless;
            }
        }
        int size = v.validBytes();
        if (size > config.segmentBytes()) {
            return AppendResult.error(LogErrors.RECORD_LIST_TOO_LARGE, "Append of " + size
                    + " bytes exceeds the segment size " + config.segmentBytes(), logStartOffset);
        }
        lock.lock();
        try {
            AppendResult unavailable = checkWritable();
            if (unavailable != null) {
                return unavailable;
            }
            long now = clock.getAsLong();
            boolean logAppendTime = config.messageTimestampType() == TimestampType.LOG_APPEND_TIME;
            long firstOffset = end.offset();

            // 1. producer state, with the offsets the batches will get
            ProducerStateManager.Append pending = null;
            long next = firstOffset;
            long maxTimestamp = RecordBatch.NO_TIMESTAMP;
            BatchCursor cursor = new BatchCursor(records);
            while (cursor.next()) {
                RecordBatch b = cursor.batch();
                long last = next + b.lastOffsetDelta();
                long batchMax = logAppendTime ? now : b.maxTimestamp();
                if (b.hasProducerId()) {
                    if (origin == AppendOrigin.CLIENT) {
                        ProducerStateManager.Duplicate d = producers.findDuplicate(b);
                        if (d != null) {
                            return new AppendResult(LogErrors.NONE, null, d.firstOffset(), d.lastOffset(), d.timestamp(),
                                    logStartOffset, 0, true);
                        }
                    }
                    if (pending == null) {
                        pending = producers.begin(origin);
                    }
                    EndTxnMarker marker = null;
                    if (b.isControl()) {
                        marker = EndTxnMarker.read(b);
                        if (marker == null) {
                            return AppendResult.error(LogErrors.INVALID_RECORD, "The control batch at offset " + next
                                    + " holds no COMMIT or ABORT marker", logStartOffset);
                        }
                    }
                    if (!pending.add(b, next, last, batchMax, marker)) {
                        return AppendResult.error(pending.errorCode, pending.errorMessage, logStartOffset);
                    }
                }
                maxTimestamp = Math.max(maxTimestamp, batchMax);
                next = last + 1;
            }
            long lastOffset = next - 1;

            // 2. roll, 3. assign offsets in place, 4. one write, 5. indexes and publication
            LogSegment seg = maybeRoll(size, maxTimestamp, firstOffset, lastOffset, now);
            cursor = new BatchCursor(records);
            next = firstOffset;
            while (cursor.next()) {
                RecordBatch b = cursor.batch();
                b.setBaseOffset(next);
                b.setPartitionLeaderEpoch(leaderEpoch);
                if (logAppendTime) {
                    b.setMaxTimestampAndLogAppendTime(now);
                }
                next = b.lastOffset() + 1;
            }
            writeAndPublish(records, size, seg, next);
            if (pending != null) {
                producers.commit(pending);
            }
            unflushedMessages += v.recordCount();
            if (unflushedMessages >= config.flushIntervalMessages()) {
                flushLocked();
            }
            return new AppendResult(LogErrors.NONE, null, firstOffset, lastOffset, logAppendTime ? now : -1L,
                    logStartOffset, v.recordCount(), false);
        } catch (IOException e) {
            return storageFailure(e);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Appends batches that already carry their offsets (a follower copying its leader): framing and
     * CRC are checked, offsets must start at or after the log end offset and increase; producer
     * state and leader epochs are replayed without validation.
     */
    public AppendResult appendAsFollower(ByteBuffer records) {
        ValidationResult v = followerValidator.validate(records);
        if (!v.isOk()) {
            return AppendResult.error(v.errorCode(), v.message(), logStartOffset);
        }
        int size = v.validBytes();
        if (size > config.segmentBytes()) {
            return AppendResult.error(LogErrors.RECORD_LIST_TOO_LARGE, "Append of " + size
                    + " bytes exceeds the segment size " + config.segmentBytes(), logStartOffset);
        }
        lock.lock();
        try {
            AppendResult unavailable = checkWritable();
            if (unavailable != null) {
                return unavailable;
            }
            long expected = end.offset();
            long firstOffset = -1;
            long maxTimestamp = RecordBatch.NO_TIMESTAMP;
            BatchCursor cursor = new BatchCursor(records);
            while (cursor.next()) {
                RecordBatch b = cursor.batch();
                if (b.baseOffset() < expected || b.lastOffsetDelta() < 0) {
                    return AppendResult.error(LogErrors.INVALID_RECORD, "Unexpected offset in follower append: batch ["
                            + b.baseOffset() + ", " + b.lastOffset() + "] but the next offset is " + expected, logStartOffset);
                }
                if (firstOffset < 0) {
                    firstOffset = b.baseOffset();
                }
                maxTimestamp = Math.max(maxTimestamp, b.maxTimestamp());
                expected = b.lastOffset() + 1;
            }
            long lastOffset = expected - 1;
            LogSegment seg = maybeRoll(size, maxTimestamp, firstOffset, lastOffset, clock.getAsLong());
            cursor = new BatchCursor(records);
            while (cursor.next()) {
                RecordBatch b = cursor.batch();
                if (b.hasProducerId()) {
                    producers.replay(b, b.isControl() ? EndTxnMarker.read(b) : null);
                }
            }
            writeAndPublish(records, size, seg, expected);
            unflushedMessages += v.recordCount();
            if (unflushedMessages >= config.flushIntervalMessages()) {
                flushLocked();
            }
            return new AppendResult(LogErrors.NONE, null, firstOffset, lastOffset, -1L, logStartOffset, v.recordCount(), false);
        } catch (IOException e) {
            return storageFailure(e);
        } finally {
            lock.unlock();
        }
    }

    private AppendResult checkWritable() {
        if (closed) {
            return AppendResult.error(LogErrors.KAFKA_STORAGE_ERROR, "Log " + dir.getFileName() + " is closed", logStartOffset);
        }
        if (failure != null) {
            return AppendResult.error(LogErrors.KAFKA_STORAGE_ERROR, "Log " + dir.getFileName()
                    + " is offline after an I/O error: " + failure, logStartOffset);
        }
        return null;
    }

    private AppendResult storageFailure(IOException e) {
        failure = e;
        LOG.error("I/O error appending to {}; the log refuses further writes", dir, e);
        return AppendResult.error(LogErrors.KAFKA_STORAGE_ERROR, "I/O error: " + e, logStartOffset);
    }

    /** Writes the validated bytes at the end of {@code seg}, indexes them, then publishes the new end. */
    private void writeAndPublish(ByteBuffer records, int size, LogSegment seg, long nextOffset) throws IOException {
        int pos = seg.size;
        ByteBuffer data = records.duplicate();
        data.limit(records.position() + size);
        seg.write(data, pos);
        BatchCursor cursor = new BatchCursor(records);
        int p = pos;
        while (cursor.next()) {
            RecordBatch b = cursor.batch();
            int batchSize = b.sizeInBytes();
            seg.onBatch(b.lastOffset(), b.maxTimestamp(), p, batchSize, config.indexIntervalBytes());
            epochCache.assign(b.partitionLeaderEpoch(), b.baseOffset());
            if (b.hasProducerId() && (b.isTransactional() || b.isControl())) {
                LogTransactions.onAppended(b, seg, txns);
            }
            p += batchSize;
        }
        seg.size = pos + size;
        end = new EndState(nextOffset, seg, pos + size);
    }

    /** Kafka's roll rules: size, segment.ms (by record timestamps), full indexes, relative offset overflow. */
    private LogSegment maybeRoll(int appendSize, long maxTimestampInAppend, long firstOffset, long lastOffset, long now)
            throws IOException {
        LogSegment seg = end.segment();
        boolean overflow = lastOffset - seg.baseOffset > Integer.MAX_VALUE || firstOffset < seg.baseOffset;
        if (seg.size == 0) {
            if (!overflow) {
                return seg;
            }
            // an empty active segment whose base cannot hold these offsets (follower gap): replace it
            LogSegment[] segs = segments;
            seg.closeAndDelete();
            LogSegment n = LogSegment.open(dir, firstOffset, now);
            n.makeActive(config.segmentIndexBytes());
            directoryDirty = true;
            LogSegment[] copy = Arrays.copyOf(segs, segs.length);
            copy[copy.length - 1] = n;
            segments = copy;
            end = new EndState(firstOffset, n, 0);
            return n;
        }
        long waited = seg.rollingBasedTimestamp >= 0 ? maxTimestampInAppend - seg.rollingBasedTimestamp : now - seg.created;
        boolean roll = seg.size > config.segmentBytes() - appendSize
                || waited > config.segmentMs()
                || seg.indexesFull()
                || overflow;
        return roll ? roll(firstOffset, now) : seg;
    }

    private LogSegment roll(long newBase, long now) throws IOException {
        LogSegment old = end.segment();
        old.onBecomeInactive();
        LogSegment n = LogSegment.open(dir, newBase, now);
        if (n.size != 0) {
            n.close();
            throw new IOException("Cannot roll " + dir.getFileName() + " to offset " + newBase + ": the segment file exists");
        }
        n.makeActive(config.segmentIndexBytes());
        directoryDirty = true;
        LogSegment[] segs = segments;
        LogSegment[] copy = Arrays.copyOf(segs, segs.length + 1);
        copy[segs.length] = n;
        segments = copy;
        LOG.debug("Rolled {} to a new segment at offset {}", dir.getFileName(), newBase);
        return n;
    }

    // ------------------------------------------------------------------ reads

    /** Reads from {@code fetchOffset} up to the log end offset. */
    public LogReadResult read(long fetchOffset, int maxBytes) {
        return read(fetchOffset, maxBytes, Long.MAX_VALUE);
    }

    /**
     * Whole batches from the one containing {@code fetchOffset}, each wholly below
     * {@code maxOffsetExclusive} (e.g. the high watermark for consumers) and the log end offset,
     * within {@code maxBytes} — except that the first batch is always returned, however large, so
     * consumers make progress. Lock-free. An offset below the log start or above the log end gives
     * {@link LogErrors#OFFSET_OUT_OF_RANGE}; the log end offset itself gives an empty result.
     */
    public LogReadResult read(long fetchOffset, int maxBytes, long maxOffsetExclusive) {
        return read(fetchOffset, maxBytes, maxOffsetExclusive, true);
    }

    /**
     * As {@link #read(long, int, long)}; with {@code minOneBatch} false a first batch larger than
     * {@code maxBytes} is not returned (Kafka's rule for all but the first partition with data in a fetch).
     */
    public LogReadResult read(long fetchOffset, int maxBytes, long maxOffsetExclusive, boolean minOneBatch) {
        EndState e = end;
        LogSegment[] segs = segments;
        long start = logStartOffset;
        long hw = highWatermark;
        if (fetchOffset < start || fetchOffset > e.offset()) {
            return LogReadResult.error(LogErrors.OFFSET_OUT_OF_RANGE, hw, start, e.offset());
        }
        long limitOffset = Math.min(maxOffsetExclusive, e.offset());
        if (fetchOffset >= limitOffset) {
            return new LogReadResult(LogErrors.NONE, hw, start, e.offset(), List.of(), 0);
        }
        ByteBuffer header = ByteBuffer.allocate(RecordBatch.RECORD_BATCH_OVERHEAD);
        RecordBatch fw = new RecordBatch();
        List<LogRegion> regions = new ArrayList<>(2);
        int total = 0;
        try {
            for (int i = Math.max(0, floorSegment(segs, fetchOffset)); i < segs.length; i++) {
                LogSegment s = segs[i];
                boolean isEnd = s == e.segment();
                int segLimit = isEnd ? e.segmentSize() : s.size;
                int startPos = regions.isEmpty() ? s.positionOf(fetchOffset, segLimit, header, fw) : 0;
                if (startPos >= 0 && startPos < segLimit) {
                    int endPos = scanEnd(s, startPos, segLimit, maxBytes - total, limitOffset, limitOffset < e.offset(),
                            minOneBatch && regions.isEmpty(), header, fw);
                    if (endPos > startPos) {
                        regions.add(new LogRegion(s.channel, startPos, endPos - startPos));
                        total += endPos - startPos;
                    }
                    if (endPos < segLimit) {
                        break;
                    }
                }
                if (isEnd || total >= maxBytes) {
                    break;
                }
            }
        } catch (IOException ex) {
            return LogReadResult.error(LogErrors.KAFKA_STORAGE_ERROR, hw, start, e.offset());
        }
        return new LogReadResult(LogErrors.NONE, hw, start, e.offset(), List.copyOf(regions), total);
    }

    /**
     * End position of the run of whole batches starting at {@code startPos}: within {@code budget}
     * bytes (the first batch always, if {@code mustIncludeFirst}) and below {@code limitOffset}.
     * Jumps with the offset index, then scans at most an index interval of headers.
     */
    private static int scanEnd(LogSegment s, int startPos, int segLimit, int budget, long limitOffset, boolean capByOffset,
                               boolean mustIncludeFirst, ByteBuffer header, RecordBatch fw) throws IOException {
        if (!s.readHeader(startPos, segLimit, header)) {
            return startPos;
        }
        fw.wrap(header, 0);
        int firstSize = fw.sizeInBytes();
        if (fw.lastOffset() >= limitOffset || startPos + (long) firstSize > segLimit) {
            return startPos;
        }
        if (firstSize > budget) {
            return mustIncludeFirst ? startPos + firstSize : startPos;
        }
        int pos = startPos + firstSize;
        int target = (int) Math.min(segLimit, (long) startPos + budget);
        if (capByOffset) {
            int cap = s.positionOf(limitOffset, segLimit, header, fw);
            if (cap >= 0) {
                target = Math.min(target, cap);
            }
        }
        int jump = s.offsetIndex.floorPosition(target);
        if (jump > pos) {
            pos = jump;
        }
        while (pos < target && s.readHeader(pos, segLimit, header)) {
            fw.wrap(header, 0);
            int size = fw.sizeInBytes();
            if (size < RecordBatch.RECORD_BATCH_OVERHEAD || pos + (long) size > target) {
                break;
            }
            pos += size;
        }
        return pos;
    }

    /** Index of the segment with the largest base offset &lt;= offset, or -1. */
    private static int floorSegment(LogSegment[] segs, long offset) {
        int lo = 0;
        int hi = segs.length - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (segs[mid].baseOffset <= offset) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found;
    }

    /** Copying read, for tests and non-zero-copy paths. */
    public ByteBuffer readBytes(long fetchOffset, int maxBytes) throws IOException {
        LogReadResult r = read(fetchOffset, maxBytes);
        if (!r.isOk()) {
            throw new LogException(r.errorCode(), "Cannot read " + dir.getFileName() + " at offset " + fetchOffset
                    + " (log start " + r.logStartOffset() + ", log end " + r.logEndOffset() + ")");
        }
        return r.toByteBuffer();
    }

    // ------------------------------------------------------------------ ListOffsets

    /**
     * ListOffsets: {@link #EARLIEST_TIMESTAMP} (and {@link #EARLIEST_LOCAL_TIMESTAMP}) → log start
     * offset; {@link #LATEST_TIMESTAMP} → log end offset; {@link #MAX_TIMESTAMP} → the record with the
     * largest timestamp (its offset, as Kafka 3.x); a timestamp &gt;= 0 → the first record whose
     * timestamp is &gt;= it. Returns null when there is no such record.
     */
    public TimestampAndOffset offsetForTimestamp(long timestamp) throws IOException {
        EndState e = end;
        LogSegment[] segs = segments;
        long start = logStartOffset;
        if (timestamp == EARLIEST_TIMESTAMP || timestamp == EARLIEST_LOCAL_TIMESTAMP) {
            return new TimestampAndOffset(RecordBatch.NO_TIMESTAMP, start, epochCache.epochForOffset(start));
        }
        if (timestamp == LATEST_TIMESTAMP) {
            return new TimestampAndOffset(RecordBatch.NO_TIMESTAMP, e.offset(), epochCache.latestEpoch());
        }
        if (timestamp == MAX_TIMESTAMP) {
            return maxTimestampRecord(segs, e);
        }
        if (timestamp < 0) {
            throw new IllegalArgumentException("Unsupported ListOffsets timestamp " + timestamp);
        }
        ByteBuffer header = ByteBuffer.allocate(RecordBatch.RECORD_BATCH_OVERHEAD);
        RecordBatch fw = new RecordBatch();
        for (LogSegment s : segs) {
            if (s.maxTimestamp.timestamp() < timestamp) {
                if (s == e.segment()) {
                    break;
                }
                continue;
            }
            int segLimit = s == e.segment() ? e.segmentSize() : s.size;
            long fromOffset = Math.max(s.timeIndex.lookup(timestamp), start);
            int pos = Math.min(s.offsetIndex.lookup(fromOffset), segLimit);
            while (s.readHeader(pos, segLimit, header)) {
                fw.wrap(header, 0);
                int size = fw.sizeInBytes();
                if (pos + (long) size > segLimit) {
                    break;
                }
                if (fw.maxTimestamp() >= timestamp && fw.lastOffset() >= start) {
                    RecordBatch batch = readBatch(s, pos, size);
                    try (RecordCursor c = RecordCursor.open(batch)) {
                        while (c.next()) {
                            if (c.timestamp() >= timestamp && c.offset() >= start) {
                                return new TimestampAndOffset(c.timestamp(), c.offset(), batch.partitionLeaderEpoch());
                            }
                        }
                    } catch (RecordsException ex) {
                        throw new IOException("Cannot read records of the batch at " + pos + " in " + s.logPath + ": "
                                + ex.getMessage(), ex);
                    }
                }
                pos += size;
            }
            if (s == e.segment()) {
                break;
            }
        }
        return null;
    }

    private TimestampAndOffset maxTimestampRecord(LogSegment[] segs, EndState e) throws IOException {
        LogSegment best = null;
        for (LogSegment s : segs) {
            if (best == null || s.maxTimestamp.timestamp() > best.maxTimestamp.timestamp()) {
                best = s;
            }
            if (s == e.segment()) {
                break;
            }
        }
        if (best == null || best.maxTimestamp.offset() < 0) {
            return null;
        }
        LogSegment.MaxTimestamp m = best.maxTimestamp;
        int segLimit = best == e.segment() ? e.segmentSize() : best.size;
        ByteBuffer header = ByteBuffer.allocate(RecordBatch.RECORD_BATCH_OVERHEAD);
        RecordBatch fw = new RecordBatch();
        int pos = best.positionOf(m.offset(), segLimit, header, fw);
        while (pos >= 0 && best.readHeader(pos, segLimit, header)) {
            fw.wrap(header, 0);
            int size = fw.sizeInBytes();
            if (pos + (long) size > segLimit) {
                break;
            }
            if (fw.maxTimestamp() == m.timestamp()) {
                RecordBatch batch = readBatch(best, pos, size);
                try (RecordCursor c = RecordCursor.open(batch)) {
                    while (c.next()) {
                        if (c.timestamp() == m.timestamp()) {
                            return new TimestampAndOffset(c.timestamp(), c.offset(), batch.partitionLeaderEpoch());
                        }
                    }
                } catch (RecordsException ex) {
                    throw new IOException("Cannot read records of the batch at " + pos + " in " + best.logPath, ex);
                }
                return null;
            }
            pos += size;
        }
        return null;
    }

    private static RecordBatch readBatch(LogSegment s, int pos, int size) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(size);
        new LogRegion(s.channel, pos, size).readInto(buf);
        return RecordBatch.at(buf.flip(), 0);
    }

    // ------------------------------------------------------------------ offsets, epochs, producers

    public long logStartOffset() {
        return logStartOffset;
    }

    public long logEndOffset() {
        return end.offset();
    }

    /**
     * The high watermark, as set by {@link #updateHighWatermark}. It starts at the log end offset when
     * the log is opened (a single-replica broker can simply keep it equal to the log end offset).
     */
    public long highWatermark() {
        return highWatermark;
    }

    /**
     * The last stable offset: min(high watermark, first offset of the earliest transaction not yet decided, or
     * decided by a marker above the high watermark, but not below the log start offset). read_committed consumers
     * read below it. Lock-free.
     */
    public long lastStableOffset() {
        long hw = highWatermark;
        // As Kafka: an open transaction whose first batches were deleted (retention, DeleteRecords) pins the LSO at
        // the log start offset, never below it, where no read could ever start.
        return Math.min(hw, Math.max(txns.firstUnstableOffset(hw), logStartOffset));
    }

    /** Open transactions as (producer id, first offset) pairs, oldest first. */
    public List<long[]> openTransactions() {
        lock.lock();
        try {
            return txns.openTransactions();
        } finally {
            lock.unlock();
        }
    }

    /**
     * The aborted transactions a read_committed fetch at {@code fetchOffset} must return with {@code read}'s data
     * (Kafka's rule: those whose ABORT marker is at or after the fetch offset and whose first offset is below the
     * end of the data), searched in memory from the fetch offset's segment on. Empty when the read has no data.
     * Lock-free.
     */
    public List<AbortedTxn> abortedTransactions(long fetchOffset, LogReadResult read) {
        return LogTransactions.collect(segments, fetchOffset, read);
    }

    /** Sets the high watermark, clamped to [log start offset, log end offset]; returns the value set. */
    public long updateHighWatermark(long hw) {
        lock.lock();
        try {
            long v = Math.max(logStartOffset, Math.min(hw, end.offset()));
            highWatermark = v;
            txns.onHighWatermark(v);
            return v;
        } finally {
            lock.unlock();
        }
    }

    /** Total bytes of all segment files. */
    public long size() {
        long total = 0;
        for (LogSegment s : segments) {
            total += s.size;
        }
        return total;
    }

    public int segmentCount() {
        return segments.length;
    }

    /** Base offsets of the segments, oldest first. */
    public long[] segmentBaseOffsets() {
        LogSegment[] segs = segments;
        long[] out = new long[segs.length];
        for (int i = 0; i < segs.length; i++) {
            out[i] = segs[i].baseOffset;
        }
        return out;
    }

    public Path dir() {
        return dir;
    }

    public LogConfig config() {
        return config;
    }

    /** Leader epochs of this log (OffsetForLeaderEpoch). */
    public LeaderEpochCache leaderEpochCache() {
        return epochCache;
    }

    /** {@code leaderEpochCache().endOffsetFor(epoch, logEndOffset())}. */
    public EpochEndOffset endOffsetForEpoch(int leaderEpoch) {
        return epochCache.endOffsetFor(leaderEpoch, logEndOffset());
    }

    /**
     * Whether the producer has a transaction open in this partition at this epoch (transactions V2: its partition
     * was added to the transaction already, so a produce need not ask the coordinator).
     */
    public boolean hasOngoingTransaction(long producerId, short epoch) {
        lock.lock();
        try {
            return producers.inTransaction(producerId, epoch);
        } finally {
            lock.unlock();
        }
    }

    /** A copy of every producer's state. */
    public List<ProducerStateManager.ProducerState> producerStates() {
        lock.lock();
        try {
            return producers.snapshot();
        } finally {
            lock.unlock();
        }
    }

    /** Writes Kafka's {@code partition.metadata} (version 0, the topic id in Kafka's base64 form). */
    public void writePartitionMetadata(UUID topicId) throws IOException {
        StateFiles.writePartitionMetadata(dir, topicId);
    }

    /** The topic id from {@code partition.metadata}, or null if there is none. */
    public UUID readPartitionMetadata() throws IOException {
        return StateFiles.readPartitionMetadata(dir);
    }

    /** Kafka's textual topic id (URL-safe base64, no padding). */
    public static String topicIdString(UUID topicId) {
        return StateFiles.topicIdString(topicId);
    }

    // ------------------------------------------------------------------ retention, log start offset, cleaning

    /**
     * Kafka's periodic retention pass: removes whole segments that lie entirely below the log start offset
     * and, when {@code cleanup.policy} includes {@code delete}, the oldest segments whose largest timestamp is
     * older than {@code retention.ms} and those beyond {@code retention.bytes} — oldest first, stopping at the
     * first segment that must stay, and only below the high watermark. The active segment is never deleted
     * while active: when every segment has expired, the log first rolls to a new empty segment at the log end
     * offset. Removed segments are renamed {@code .deleted} and their files deleted by
     * {@link #deleteExpiredSegmentFiles()} after {@code file.delete.delay.ms}, so in-flight reads finish.
     * Returns how many segments were removed.
     */
    public int deleteOldSegments() throws IOException {
        maintenanceLock.lock();
        try {
            lock.lock();
            try {
                if (closed || aborting || failure != null) {
                    return 0;
                }
                long now = clock.getAsLong();
                LogConfig cfg = config;
                LogSegment[] segs = segments;
                EndState e = end;
                int n = 0;
                while (n < segs.length - 1 && segs[n + 1].baseOffset <= logStartOffset) {
                    n++;
                }
                String reason = n > 0 ? "below the log start offset " + logStartOffset : null;
                if (cfg.cleanup().delete() && cfg.retentionMs() >= 0) {
                    int before = n;
                    while (n < segs.length && deletable(segs, n, e) && segs[n].largestTimestamp() < now - cfg.retentionMs()) {
                        n++;
                    }
                    if (n > before) {
                        reason = "older than retention.ms " + cfg.retentionMs();
                    }
                }
                if (cfg.cleanup().delete() && cfg.retentionBytes() >= 0) {
                    long size = 0;
                    for (int i = n; i < segs.length; i++) {
                        size += s(segs[i], e);
                    }
                    long excess = size - cfg.retentionBytes();
                    int before = n;
                    while (n < segs.length && deletable(segs, n, e) && excess - s(segs[n], e) >= 0) {
                        excess -= s(segs[n], e);
                        n++;
                    }
                    if (n > before) {
                        reason = "beyond retention.bytes " + cfg.retentionBytes();
                    }
                }
                if (n == 0) {
                    return 0;
                }
                if (n == segs.length) {
                    // everything expired: keep a log by rolling to an empty active segment first
                    LogSegment fresh = roll(e.offset(), now);
                    end = new EndState(e.offset(), fresh, 0);
                    segs = segments;
                }
                LogSegment[] removed = Arrays.copyOfRange(segs, 0, n);
                segments = Arrays.copyOfRange(segs, n, segs.length);
                long newStart = Math.max(logStartOffset, segments[0].baseOffset);
                long oldStart = logStartOffset;
                logStartOffset = newStart;
                highWatermark = Math.max(highWatermark, newStart);
                txns.onHighWatermark(highWatermark);
                epochCache.truncateFromStart(newStart);
                StateFiles.writeState(dir, new StateFiles.LogState(false, Math.max(recoveryPoint, newStart), newStart), true);
                scheduleDeletion(removed, now);
                LOG.info("Deleted {} segment(s) of {} {} (log start offset {} -> {})", n, dir.getFileName(), reason,
                        oldStart, newStart);
                return n;
            } finally {
                lock.unlock();
            }
        } finally {
            maintenanceLock.unlock();
        }
    }

    private static int s(LogSegment seg, EndState e) {
        return seg == e.segment() ? e.segmentSize() : seg.size;
    }

    /** Kafka's rule: a segment may go once all its offsets are below the high watermark, unless it is the empty last one. */
    private boolean deletable(LogSegment[] segs, int i, EndState e) {
        long upper = i + 1 < segs.length ? segs[i + 1].baseOffset : e.offset();
        boolean lastAndEmpty = i == segs.length - 1 && s(segs[i], e) == 0;
        return highWatermark >= upper && !lastAndEmpty;
    }

    /** Takes segments out of the log's files (renamed {@code .deleted}) and queues them for deletion. Under {@link #lock}. */
    void scheduleDeletion(LogSegment[] removed, long now) throws IOException {
        long due = now + config.cleanup().fileDeleteDelayMs();
        for (LogSegment seg : removed) {
            seg.renameForDeletion();
            pendingDeletions.add(new PendingDeletion(seg, due));
        }
    }

    /**
     * Closes and deletes the files of removed segments whose {@code file.delete.delay.ms} has passed; the
     * broker calls this periodically. Returns how many segments were deleted.
     */
    public int deleteExpiredSegmentFiles() {
        return deletePendingSegments(clock.getAsLong());
    }

    private int deletePendingSegments(long now) {
        int n = 0;
        for (PendingDeletion p : pendingDeletions) {
            if (p.dueMs() <= now && pendingDeletions.remove(p)) {
                try {
                    p.segment().closeAndDeleteRenamed();
                    n++;
                } catch (IOException ex) {
                    LOG.warn("Cannot delete the files of removed segment {} of {}", p.segment(), dir.getFileName(), ex);
                }
            }
        }
        return n;
    }

    /** Removed segments whose files are not deleted yet (tests). */
    int pendingDeletionCount() {
        return pendingDeletions.size();
    }

    /**
     * DeleteRecords: moves the log start offset up to {@code newStart} (never down) and persists it at once;
     * records below it can no longer be read, and whole segments below it are removed by the next
     * {@link #deleteOldSegments()}. Returns the log start offset afterwards.
     *
     * @throws LogException {@link LogErrors#OFFSET_OUT_OF_RANGE} if {@code newStart} is negative or above the high watermark
     */
    public long maybeIncrementLogStartOffset(long newStart) throws IOException {
        lock.lock();
        try {
            ensureOpen();
            if (newStart < 0 || newStart > highWatermark) {
                throw new LogException(LogErrors.OFFSET_OUT_OF_RANGE, "Cannot increment the log start offset of "
                        + dir.getFileName() + " to " + newStart + ": it is above the high watermark " + highWatermark);
            }
            if (newStart > logStartOffset) {
                long old = logStartOffset;
                logStartOffset = newStart;
                epochCache.truncateFromStart(newStart);
                StateFiles.writeState(dir, new StateFiles.LogState(false, Math.max(recoveryPoint, newStart), newStart), true);
                LOG.info("Log start offset of {} moved from {} to {}", dir.getFileName(), old, newStart);
            }
            return logStartOffset;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Compacts the log if {@code cleanup.policy} includes {@code compact} and it is dirty enough
     * ({@code min.cleanable.dirty.ratio}, {@code max.compaction.lag.ms}, or a tombstone's delete horizon
     * passed) — or whenever there is anything to clean with {@code force}. Runs on the caller's thread and
     * takes the append lock only to swap cleaned segments in. Returns what was done, or null if nothing.
     *
     * @param maxMapEntries bound on distinct keys held in memory per clean (Kafka's dedupe buffer)
     */
    public LogCleaner.Result clean(boolean force, int maxMapEntries) throws IOException {
        maintenanceLock.lock();
        try {
            if (closed || aborting || failure != null || !config.cleanup().compact()) {
                return null;
            }
            return new LogCleaner(this, clock.getAsLong(), maxMapEntries).run(force);
        } finally {
            maintenanceLock.unlock();
        }
    }

    /**
     * The cleaner's progress for Kafka's {@code cleaner-offset-checkpoint}: the offsets below it are compacted
     * (-1 when unknown; a clean then treats the whole log as dirty).
     */
    public long cleanerCheckpoint() {
        return firstDirtyOffset;
    }

    /** Restores the cleaner's progress from a checkpoint; ignored when it lies outside the log. */
    public void restoreCleanerCheckpoint(long offset) {
        if (offset >= logStartOffset && offset <= end.offset()) {
            firstDirtyOffset = offset;
        }
    }

    // --- for the cleaner (same package)

    LogSegment[] segmentArray() {
        return segments;
    }

    LogSegment activeSegment() {
        return end.segment();
    }

    /** The first offset of the earliest undecided (or not yet replicated) transaction, or Long.MAX_VALUE. */
    long firstUnstableOffset() {
        return Math.max(txns.firstUnstableOffset(highWatermark), logStartOffset);
    }

    /** Every aborted transaction indexed in the log whose first offset is below {@code offset}. */
    List<AbortedTxn> abortedTransactionsBelow(long offset) {
        List<AbortedTxn> out = new ArrayList<>();
        for (LogSegment seg : segments) {
            for (AbortedTxn t : seg.txnIndex.all()) {
                if (t.firstOffset() < offset) {
                    out.add(t);
                }
            }
        }
        return out;
    }

    boolean isAborting() {
        return aborting || closed;
    }

    long firstDirtyOffset() {
        return Math.max(firstDirtyOffset, logStartOffset);
    }

    long nextDeleteHorizonMs() {
        return nextDeleteHorizonMs;
    }

    void cleaned(long newFirstDirtyOffset, long deleteHorizonMs) {
        firstDirtyOffset = newFirstDirtyOffset;
        nextDeleteHorizonMs = deleteHorizonMs;
    }

    /**
     * Swaps a cleaned segment (written as {@code <base>.log.cleaned} etc., closed) in for {@code old}, a run of
     * consecutive inactive segments starting at the same base offset. Returns false (and changes nothing) if
     * the log changed meanwhile.
     */
    boolean replaceSegments(LogSegment[] old, LogSegment cleaned) throws IOException {
        lock.lock();
        try {
            if (closed || aborting || failure != null) {
                return false;
            }
            LogSegment[] segs = segments;
            int at = -1;
            for (int i = 0; i < segs.length; i++) {
                if (segs[i] == old[0]) {
                    at = i;
                    break;
                }
            }
            if (at < 0 || at + old.length > segs.length - 1 || cleaned.baseOffset != old[0].baseOffset) {
                return false;
            }
            for (int i = 0; i < old.length; i++) {
                if (segs[at + i] != old[i] || old[i] == end.segment()) {
                    return false;
                }
            }
            long now = clock.getAsLong();
            LogSegment.commitCleaned(dir, cleaned.baseOffset);
            LogSegment n;
            try {
                for (LogSegment o : old) {
                    o.renameForDeletion();
                }
                LogSegment.finishSwap(dir, cleaned.baseOffset);
                n = LogSegment.open(dir, cleaned.baseOffset, cleaned.created);
            } catch (IOException e) {
                // past the commit point: the files no longer match memory; a restart completes the swap
                failure = e;
                LOG.error("I/O error swapping cleaned segments into {}; the log refuses further writes until restarted",
                        dir, e);
                throw e;
            }
            n.nextOffset = cleaned.nextOffset;
            n.maxTimestamp = cleaned.maxTimestamp;
            n.rollingBasedTimestamp = cleaned.rollingBasedTimestamp;
            n.bytesSinceLastIndexEntry = cleaned.bytesSinceLastIndexEntry;
            LogSegment[] replaced = new LogSegment[segs.length - old.length + 1];
            System.arraycopy(segs, 0, replaced, 0, at);
            replaced[at] = n;
            System.arraycopy(segs, at + old.length, replaced, at + 1, segs.length - at - old.length);
            segments = replaced;
            long due = now + config.cleanup().fileDeleteDelayMs();
            for (LogSegment o : old) {
                pendingDeletions.add(new PendingDeletion(o, due));
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ flush, truncate, close, delete

    /** The offset below which the log is known to be on disk (fsynced): recovery after a crash starts there. */
    public long recoveryPoint() {
        lock.lock();
        try {
            return recoveryPoint;
        } finally {
            lock.unlock();
        }
    }

    /** Fsyncs all unflushed data and indexes and advances the recovery point to the log end offset. */
    public void flush() throws IOException {
        lock.lock();
        try {
            if (!closed) {
                flushLocked();
            }
        } finally {
            lock.unlock();
        }
    }

    private void flushLocked() throws IOException {
        long point = end.offset();
        for (LogSegment s : segments) {
            if (s.dirty || s == end.segment() || s.nextOffset > recoveryPoint) {
                s.flush();
            }
        }
        if (directoryDirty) {
            // a segment created since the last flush exists after a power loss only once its name is durable
            StateFiles.syncDirectory(dir);
            directoryDirty = false;
        }
        recoveryPoint = point;
        unflushedMessages = 0;
        // Not synced: while the log is open the recovery point only spares work after a crash. It is written
        // after the data it vouches for was fsynced, and a lost or torn write leaves an older (or no) recovery
        // point, which means more checking, never less. (With flush.messages=1 this saves an fsync per append.)
        StateFiles.writeState(dir, new StateFiles.LogState(false, recoveryPoint, logStartOffset), false);
    }

    /**
     * Removes everything from {@code offset} on (the batch containing it included), e.g. for a
     * follower whose leader diverged. Readers must not be reading the removed range concurrently.
     * Returns whether anything was removed.
     */
    public boolean truncateTo(long offset) throws IOException {
        if (offset < 0) {
            throw new IllegalArgumentException("Cannot truncate to a negative offset " + offset);
        }
        lock.lock();
        try {
            ensureOpen();
            if (offset >= end.offset()) {
                if (offset == end.offset() && epochCache.latestEpoch() >= 0) {
                    // Nothing to remove but epochs that start at the log end and hold no record (Kafka's
                    // truncateFromEnd): a follower must not report such an epoch as its last fetched one.
                    epochCache.truncateFromEnd(offset);
                }
                return false;
            }
            LogSegment[] segs = segments;
            if (segs[0].baseOffset > offset || offset <= logStartOffset) {
                truncateFullyAndStartAtLocked(offset);
                return true;
            }
            int keep = floorSegment(segs, offset) + 1;
            for (int i = keep; i < segs.length; i++) {
                segs[i].closeAndDelete();
            }
            LogSegment last = segs[keep - 1];
            ByteBuffer header = ByteBuffer.allocate(RecordBatch.RECORD_BATCH_OVERHEAD);
            int pos = last.positionOf(offset, last.size, header, new RecordBatch());
            if (pos >= 0) {
                last.channel.truncate(pos);
                last.size = pos;
                last.dirty = true;
            }
            rebuildIndexes(last);
            LogSegment[] kept = Arrays.copyOf(segs, keep);
            segments = kept;
            long newEnd = last.nextOffset;
            end = new EndState(newEnd, last, last.size);
            last.txnIndex.truncateTo(newEnd);
            producers.clear();
            txns.clear();
            for (LogSegment s : kept) {
                SegmentScanner sc = new SegmentScanner(s.channel, s.baseOffset, 0, s.size, false);
                while (sc.next()) {
                    if (sc.batch().hasProducerId()) {
                        LogTransactions.replay(sc.batch(), s, (int) sc.position(), producers, txns, null);
                    }
                }
            }
            epochCache.truncateFromEnd(newEnd);
            highWatermark = Math.min(highWatermark, newEnd);
            txns.onHighWatermark(highWatermark);
            recoveryPoint = Math.min(recoveryPoint, newEnd);
            StateFiles.writeState(dir, new StateFiles.LogState(false, recoveryPoint, logStartOffset), true);
            LOG.info("Truncated {} to offset {} (log end offset now {})", dir.getFileName(), offset, newEnd);
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Deletes all data and restarts the log (empty) at {@code newOffset}, which becomes the log start. */
    public void truncateFullyAndStartAt(long newOffset) throws IOException {
        lock.lock();
        try {
            ensureOpen();
            truncateFullyAndStartAtLocked(newOffset);
        } finally {
            lock.unlock();
        }
    }

    private void truncateFullyAndStartAtLocked(long newOffset) throws IOException {
        LogSegment[] segs = segments;
        for (LogSegment s : segs) {
            s.closeAndDelete();
        }
        LogSegment n = LogSegment.open(dir, newOffset, clock.getAsLong());
        n.makeActive(config.segmentIndexBytes());
        directoryDirty = true;
        segments = new LogSegment[] {n};
        logStartOffset = newOffset;
        end = new EndState(newOffset, n, 0);
        producers.clear();
        txns.clear();
        epochCache.clear();
        highWatermark = newOffset;
        recoveryPoint = newOffset;
        StateFiles.writeState(dir, new StateFiles.LogState(false, recoveryPoint, newOffset), true);
        LOG.info("Truncated {} fully; it restarts at offset {}", dir.getFileName(), newOffset);
    }

    private void ensureOpen() throws IOException {
        if (closed) {
            throw new IOException("Log " + dir + " is closed");
        }
    }

    /**
     * Flushes everything, trims the indexes, and marks the shutdown clean (the next open skips
     * recovery). Reads after close fail.
     */
    @Override
    public void close() throws IOException {
        aborting = true;
        maintenanceLock.lock();
        lock.lock();
        try {
            deletePendingSegments(Long.MAX_VALUE);
            if (closed) {
                return;
            }
            closed = true;
            IOException first = null;
            if (failure == null) {
                try {
                    end.segment().onBecomeInactive();
                    for (LogSegment s : segments) {
                        s.flush();
                    }
                    epochCache.writeCheckpoint(dir);
                    ShutdownSnapshot.write(dir, end.offset(), epochCache, producers, LogTransactions.indexEntries(segments));
                    StateFiles.writeState(dir, new StateFiles.LogState(true, end.offset(), logStartOffset), true);
                } catch (IOException e) {
                    first = e;
                }
            }
            for (LogSegment s : segments) {
                try {
                    s.close();
                } catch (IOException e) {
                    if (first == null) {
                        first = e;
                    }
                }
            }
            if (first != null) {
                throw first;
            }
        } finally {
            lock.unlock();
            maintenanceLock.unlock();
        }
    }

    /** Closes the log and deletes its directory with everything in it (DeleteTopics). */
    public void deleteAll() throws IOException {
        aborting = true;
        maintenanceLock.lock();
        lock.lock();
        try {
            closed = true;
            deletePendingSegments(Long.MAX_VALUE);
            for (LogSegment s : segments) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // deleting anyway
                }
            }
            deleteRecursively(dir);
        } finally {
            lock.unlock();
            maintenanceLock.unlock();
        }
    }

    static void deleteRecursively(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.deleteIfExists(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                if (exc != null) {
                    throw exc;
                }
                Files.deleteIfExists(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /** Test hook: drops the log as a crashed process would (files closed, nothing flushed or marked clean). */
    void simulateCrash() throws IOException {
        lock.lock();
        try {
            closed = true;
            for (LogSegment s : segments) {
                s.close();
            }
        } finally {
            lock.unlock();
        }
    }

    public boolean isClosed() {
        return closed;
    }

    @Override
    public String toString() {
        return "PartitionLog(" + dir + ", start=" + logStartOffset + ", end=" + end.offset() + ")";
    }
}
