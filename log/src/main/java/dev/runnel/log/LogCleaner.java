package dev.runnel.log;

import com.github.luben.zstd.ZstdInputStream;
import com.github.luben.zstd.ZstdOutputStream;
import dev.runnel.wire.records.Compression;
import dev.runnel.wire.records.RecordBatch;
import dev.runnel.wire.records.TimestampType;
import net.jpountz.lz4.LZ4FrameInputStream;
import net.jpountz.lz4.LZ4FrameOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xerial.snappy.SnappyInputStream;
import org.xerial.snappy.SnappyOutputStream;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * One compaction of a partition log ({@code cleanup.policy=compact}), following Kafka's cleaner:
 * <ol>
 *   <li>The <em>dirty</em> part is the inactive segments from the first offset not yet compacted up to the
 *       active segment (or to the first segment younger than {@code min.compaction.lag.ms}). It is cleaned when
 *       dirty bytes / (clean + dirty bytes) reaches {@code min.cleanable.dirty.ratio}, when its oldest record is
 *       older than {@code max.compaction.lag.ms}, or when a tombstone's delete horizon has passed.</li>
 *   <li>A map from each key (its MD5) to the last offset holding it is built over the dirty part, bounded
 *       by a number of entries (the rest waits for the next clean).</li>
 *   <li>Every segment from the log start to the end of the dirty part is rewritten, grouped into segments of
 *       at most {@code segment.bytes}: a record stays if no later record has its key. Batches keep their base
 *       offset, last offset delta, producer id, epoch and base sequence (offsets only gain gaps; idempotent
 *       producers' sequences stay valid); a batch that loses records is rebuilt with the same codec. A
 *       batch left with no records is dropped, unless it is its producer's last batch or the last of its
 *       output segment, which stay as an empty batch header. Control batches and records without a key are
 *       kept.</li>
 *   <li>Tombstones (null values) that are the latest for their key first get a delete horizon
 *       ({@code now + delete.retention.ms}, stored in the batch as Kafka does: the delete-horizon attribute
 *       with BaseTimestamp holding the horizon) and are removed by the first clean after it.</li>
 *   <li>Each rewritten group is written to {@code .cleaned} files off the append lock, fsynced, then swapped
 *       in under the lock: {@code .cleaned} → {@code .swap} (the commit point), the old segments →
 *       {@code .deleted} (deleted after {@code file.delete.delay.ms}), then the final names.</li>
 * </ol>
 * Runs on the caller's thread, one clean per log at a time; gives up at the next batch when the log is
 * closed or deleted. Batches it cannot decode are kept as they are.
 */
public final class LogCleaner {
    private static final Logger LOG = LoggerFactory.getLogger(LogCleaner.class);
    /** Kafka's log.cleaner.dedupe.buffer.size default (128 MiB) at 24 bytes per entry. */
    public static final int DEFAULT_MAX_MAP_ENTRIES = (128 << 20) / 24;
    /** Largest decompressed batch the cleaner reads; a larger one is kept as it is. */
    static final int MAX_DECOMPRESSED_BYTES = 128 << 20;
    /** The smallest possible record: length, attributes, timestamp, offset, key, value, header count. */
    private static final int MIN_RECORD_BYTES = 7;
    private static final Pattern SWAP = Pattern.compile("(\\d{20})\\.log\\.swap");

    /** What one clean did. */
    public record Result(int segmentsBefore, int segmentsAfter, long bytesBefore, long bytesAfter, long recordsRead,
                         long recordsRemoved, long firstDirtyOffset, long endOffset) {
    }

    private static final class Aborted extends IOException {
        Aborted() {
            super("cleaning aborted: the log was closed");
        }
    }

    private final PartitionLog log;
    private final long now;
    private final LogConfig config;
    private final OffsetMap map;
    private final MessageDigest md5;
    private Map<Long, Long> producerLastOffsets;
    /** Aborted transactions with data in the part being cleaned, by producer: their batches are removed. */
    private Map<Long, List<AbortedTxn>> abortedByProducer = Map.of();
    private long minHorizon = Long.MAX_VALUE;
    private long recordsRead;
    private long recordsRemoved;
    private ByteBuffer readBuffer = ByteBuffer.allocate(64 * 1024);

    LogCleaner(PartitionLog log, long now, int maxMapEntries) {
        this.log = log;
        this.now = now;
        this.config = log.config();
        this.map = new OffsetMap(Math.max(1, maxMapEntries));
        try {
            this.md5 = MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("MD5 is part of every JDK", e);
        }
    }

    Result run(boolean force) throws IOException {
        LogSegment[] segs = log.segmentArray();
        LogSegment active = log.activeSegment();
        int limit = 0;
        while (limit < segs.length - 1 && segs[limit] != active) {
            limit++;
        }
        if (limit == 0) {
            return null; // only the active segment
        }
        long firstDirty = log.firstDirtyOffset();
        int dirtyFrom = 0;
        for (int i = 0; i < limit; i++) {
            if (segs[i].baseOffset <= firstDirty) {
                dirtyFrom = i;
            }
        }
        if (firstDirty >= segs[limit].baseOffset) {
            dirtyFrom = limit;
        }
        int uncleanable = limit;
        long minLag = config.cleanup().minCompactionLagMs();
        if (minLag > 0) {
            for (int i = dirtyFrom; i < limit; i++) {
                if (segs[i].largestTimestamp() > now - minLag) {
                    uncleanable = i;
                    break;
                }
            }
        }
        // Kafka's rule: nothing at or above the first undecided transaction is cleaned (open transactions stay as
        // written). Unlike Kafka, not bounded by the high watermark: the cleaner never was, on a single node it is
        // the log end, and a leader's followers only ever copy whole batches whose offsets cleaning keeps.
        long lastStable = log.firstUnstableOffset();
        for (int i = dirtyFrom; i < uncleanable; i++) {
            if (segs[i + 1].baseOffset > lastStable) {
                uncleanable = i;
                break;
            }
        }
        abortedByProducer = new HashMap<>();
        for (AbortedTxn t : log.abortedTransactionsBelow(segs[uncleanable].baseOffset)) {
            abortedByProducer.computeIfAbsent(t.producerId(), k -> new ArrayList<>(1)).add(t);
        }
        long cleanBytes = 0;
        long dirtyBytes = 0;
        for (int i = 0; i < uncleanable; i++) {
            if (i < dirtyFrom) {
                cleanBytes += segs[i].size;
            } else {
                dirtyBytes += segs[i].size;
            }
        }
        boolean horizonDue = log.nextDeleteHorizonMs() <= now;
        double ratio = cleanBytes + dirtyBytes == 0 ? 0 : (double) dirtyBytes / (cleanBytes + dirtyBytes);
        long maxLag = config.cleanup().maxCompactionLagMs();
        long firstTs = dirtyFrom < uncleanable ? segs[dirtyFrom].rollingBasedTimestamp : -1;
        boolean lagForced = dirtyBytes > 0 && maxLag < Long.MAX_VALUE && firstTs >= 0 && now - firstTs > maxLag;
        boolean dirtyEnough = dirtyBytes > 0 && (ratio >= config.cleanup().minCleanableDirtyRatio() || force);
        if (!dirtyEnough && !lagForced && !(horizonDue && uncleanable > 0)) {
            return null;
        }

        // 1. the offset map over the dirty part
        int endDirty = dirtyFrom;
        for (int i = dirtyFrom; i < uncleanable; i++) {
            if (!mapSegment(segs[i])) {
                LOG.info("Cleaning {}: the key map is full ({} keys) at segment {}; the rest waits for the next clean",
                        log.dir().getFileName(), map.size(), segs[i].baseOffset);
                break;
            }
            endDirty = i + 1;
        }
        if (endDirty == 0) {
            return null;
        }
        producerLastOffsets = new HashMap<>();
        for (ProducerStateManager.ProducerState p : log.producerStates()) {
            producerLastOffsets.put(p.producerId(), p.lastDataOffset());
        }

        // 2. rewrite [0, endDirty) in groups of at most segment.bytes
        long bytesBefore = 0;
        long bytesAfter = 0;
        int groups = 0;
        int from = 0;
        while (from < endDirty) {
            int to = from + 1;
            long groupBytes = segs[from].size;
            long maxSize = Math.min(config.segmentBytes(), Integer.MAX_VALUE / 2);
            while (to < endDirty && groupBytes + segs[to].size <= maxSize
                    && segs[to + 1].baseOffset - 1 - segs[from].baseOffset <= Integer.MAX_VALUE) {
                groupBytes += segs[to].size;
                to++;
            }
            LogSegment[] group = Arrays.copyOfRange(segs, from, to);
            long written;
            try {
                written = cleanGroup(group, groupBytes);
            } catch (Aborted a) {
                return null;
            }
            if (written < 0) {
                LOG.info("Cleaning {} stopped: the log changed under it", log.dir().getFileName());
                return null;
            }
            bytesBefore += groupBytes;
            bytesAfter += written;
            groups++;
            from = to;
        }
        long newFirstDirty = segs[endDirty].baseOffset;
        log.cleaned(newFirstDirty, minHorizon);
        Result r = new Result(endDirty, groups, bytesBefore, bytesAfter, recordsRead, recordsRemoved, firstDirty,
                newFirstDirty);
        LOG.info("Cleaned {}: {} segment(s) of {} bytes into {} of {} bytes, {} of {} record(s) removed, offsets below {} "
                        + "now compacted (dirty ratio was {})", log.dir().getFileName(), endDirty, bytesBefore, groups,
                bytesAfter, recordsRemoved, recordsRead, newFirstDirty, String.format("%.2f", ratio));
        return r;
    }

    // ------------------------------------------------------------------ the key map

    /** Adds the keys of a segment to the map; false if the map filled up (then the segment is not cleaned). */
    private boolean mapSegment(LogSegment seg) throws IOException {
        SegmentScanner sc = new SegmentScanner(seg.channel, seg.baseOffset, 0, seg.size, false);
        while (sc.next()) {
            checkAbort();
            int pos = (int) sc.position();
            int size = sc.batch().sizeInBytes();
            if (sc.batch().isControl() || isAborted(sc.batch())) {
                continue;
            }
            RecordBatch batch = readBatch(seg, pos, size);
            Parsed p = Parsed.of(batch);
            if (p == null) {
                continue;
            }
            for (int i = 0; i < p.count; i++) {
                if (p.keyLen[i] < 0) {
                    continue;
                }
                hash(p.data, p.keyStart[i], p.keyLen[i]);
                if (!map.put(hashHi, hashLo, batch.baseOffset() + p.offsetDelta[i])) {
                    return false;
                }
            }
        }
        if (sc.problem() != null) {
            throw new IOException("Segment " + seg.logPath + " is unreadable " + sc.problem());
        }
        return true;
    }

    private long hashHi;
    private long hashLo;

    private void hash(byte[] data, int off, int len) {
        md5.reset();
        md5.update(data, off, len);
        byte[] d = md5.digest();
        ByteBuffer b = ByteBuffer.wrap(d);
        hashHi = b.getLong();
        hashLo = b.getLong();
    }

    private void checkAbort() throws Aborted {
        if (log.isAborting()) {
            throw new Aborted();
        }
    }

    private RecordBatch readBatch(LogSegment seg, int pos, int size) throws IOException {
        if (readBuffer.capacity() < size) {
            readBuffer = ByteBuffer.allocate(Math.max(size, readBuffer.capacity() * 2));
        }
        ByteBuffer b = readBuffer;
        b.clear();
        new LogRegion(seg.channel, pos, size).readInto(b);
        b.flip();
        return RecordBatch.at(b, 0);
    }

    // ------------------------------------------------------------------ rewriting

    /**
     * Writes the cleaned copy of {@code group} and swaps it in. Returns its size, or -1 if the log changed and
     * nothing was swapped.
     */
    private long cleanGroup(LogSegment[] group, long groupBytes) throws IOException {
        Path dir = log.dir();
        long base = group[0].baseOffset;
        LogSegment out = LogSegment.createCleaned(dir, base, now);
        boolean swapped = false;
        try {
            int interval = config.indexIntervalBytes();
            long maxEntries = groupBytes / Math.max(RecordBatch.RECORD_BATCH_OVERHEAD, interval + 1L) + 2;
            long indexBytes = Math.max(config.segmentIndexBytes(), maxEntries * TimeIndex.ENTRY_SIZE);
            out.makeActive((int) Math.min(indexBytes, Integer.MAX_VALUE - 16));
            int pos = 0;
            ByteBuffer lastHeader = null;
            for (LogSegment seg : group) {
                SegmentScanner sc = new SegmentScanner(seg.channel, seg.baseOffset, 0, seg.size, false);
                while (sc.next()) {
                    checkAbort();
                    RecordBatch batch = readBatch(seg, (int) sc.position(), sc.batch().sizeInBytes());
                    ByteBuffer kept = filter(batch);
                    if (kept == null) {
                        lastHeader = copyHeader(batch);
                        continue;
                    }
                    lastHeader = null;
                    pos = append(out, kept, pos, interval);
                }
                if (sc.problem() != null) {
                    throw new IOException("Segment " + seg.logPath + " is unreadable " + sc.problem());
                }
            }
            if (lastHeader != null) {
                // keep the segment's last offset: an empty header (no segment is left empty, none loses its place)
                pos = append(out, emptyBatch(lastHeader), pos, interval);
            }
            // the markers all stay, so do their aborted-transaction index entries
            List<AbortedTxn> aborted = new ArrayList<>();
            for (LogSegment seg : group) {
                aborted.addAll(seg.txnIndex.all());
            }
            if (!aborted.isEmpty()) {
                out.txnIndex.replaceAll(aborted);
            }
            out.size = pos;
            out.onBecomeInactive();
            out.dirty = true;
            out.flush();
            out.close();
            swapped = log.replaceSegments(group, out);
            return swapped ? pos : -1;
        } finally {
            if (!swapped) {
                out.close();
                for (String suffix : new String[] {LogSegment.LOG_SUFFIX, LogSegment.INDEX_SUFFIX, LogSegment.TIME_INDEX_SUFFIX,
                        TransactionIndex.SUFFIX}) {
                    Files.deleteIfExists(dir.resolve(LogSegment.fileName(base, suffix) + LogSegment.CLEANED_SUFFIX));
                }
            }
        }
    }

    private static int append(LogSegment out, ByteBuffer batchBytes, int pos, int interval) throws IOException {
        RecordBatch b = RecordBatch.at(batchBytes, batchBytes.position());
        int size = b.sizeInBytes();
        long lastOffset = b.lastOffset();
        long maxTs = b.maxTimestamp();
        out.write(batchBytes.duplicate(), pos);
        out.onBatch(lastOffset, maxTs, pos, size, interval);
        return pos + size;
    }

    private static ByteBuffer copyHeader(RecordBatch batch) {
        ByteBuffer h = ByteBuffer.allocate(RecordBatch.RECORD_BATCH_OVERHEAD);
        ByteBuffer src = batch.buffer().duplicate();
        src.position(batch.position()).limit(batch.position() + RecordBatch.RECORD_BATCH_OVERHEAD);
        h.put(src).flip();
        return h;
    }

    /**
     * The batch as it stays in the log: {@code batch}'s own bytes (a view, valid until the next read) when
     * nothing changes, a rebuilt batch, an empty header, or null when it goes.
     */
    private ByteBuffer filter(RecordBatch batch) throws IOException {
        ByteBuffer original = batch.buffer().duplicate();
        original.position(batch.position()).limit(batch.position() + batch.sizeInBytes());
        if (batch.isControl()) {
            // markers stay (Kafka removes them only after delete.retention.ms, which Runnel does not do yet)
            return original;
        }
        if (isAborted(batch)) {
            recordsRead += batch.recordsCount();
            recordsRemoved += batch.recordsCount();
            return isProducersLastBatch(batch) ? emptyBatch(copyHeader(batch)) : null;
        }
        Parsed p = Parsed.of(batch);
        if (p == null) {
            LOG.warn("Cleaning {}: cannot decode the batch at offset {}; keeping it as it is", log.dir().getFileName(),
                    batch.baseOffset());
            return original;
        }
        if (p.count == 0) {
            // an empty batch left by an earlier clean: it stays only as its producer's last batch (cleanGroup
            // puts one back at the end of the segment if the segment's last batch goes)
            return isProducersLastBatch(batch) ? original : null;
        }
        boolean hasHorizon = batch.hasDeleteHorizon();
        long baseTs = batch.baseTimestamp();
        boolean retainDeletes = !hasHorizon || now < baseTs;
        boolean[] keep = new boolean[p.count];
        int kept = 0;
        boolean keptTombstone = false;
        for (int i = 0; i < p.count; i++) {
            recordsRead++;
            boolean k;
            if (p.keyLen[i] < 0) {
                k = true;
            } else {
                hash(p.data, p.keyStart[i], p.keyLen[i]);
                long latest = map.get(hashHi, hashLo);
                long offset = batch.baseOffset() + p.offsetDelta[i];
                if (latest >= 0 && offset < latest) {
                    k = false;
                } else {
                    k = !p.tombstone[i] || retainDeletes;
                }
                keptTombstone |= k && p.tombstone[i];
            }
            keep[i] = k;
            if (k) {
                kept++;
            }
        }
        if (keptTombstone) {
            minHorizon = Math.min(minHorizon, hasHorizon ? baseTs : now + config.cleanup().deleteRetentionMs());
        }
        if (kept == p.count && (!keptTombstone || hasHorizon)) {
            return original;
        }
        recordsRemoved += p.count - kept;
        if (kept == 0) {
            return isProducersLastBatch(batch) ? emptyBatch(copyHeader(batch)) : null;
        }
        long newBase = keptTombstone && !hasHorizon ? now + config.cleanup().deleteRetentionMs() : baseTs;
        boolean newHasHorizon = hasHorizon || keptTombstone;
        boolean logAppendTime = batch.timestampType() == TimestampType.LOG_APPEND_TIME;
        long maxTs = logAppendTime ? batch.maxTimestamp() : RecordBatch.NO_TIMESTAMP;
        ByteArrayOutputStream records = new ByteArrayOutputStream(p.data.length);
        VarWriter w = new VarWriter(records);
        for (int i = 0; i < p.count; i++) {
            if (!keep[i]) {
                continue;
            }
            long ts = baseTs + p.timestampDelta[i];
            if (!logAppendTime) {
                maxTs = Math.max(maxTs, ts);
            }
            if (newBase == baseTs) {
                records.write(p.data, p.start[i], p.end[i] - p.start[i]);
            } else {
                // same body with the timestamp delta taken against the new base (the delete horizon)
                ByteArrayOutputStream head = new ByteArrayOutputStream(16);
                VarWriter hw = new VarWriter(head);
                head.write(p.data[p.bodyStart[i]]);
                hw.varlong(ts - newBase);
                int restLen = p.end[i] - p.afterTimestamp[i];
                w.varint(head.size() + restLen);
                head.writeTo(records);
                records.write(p.data, p.afterTimestamp[i], restLen);
            }
        }
        byte[] payload = compress(batch.compression(), records.toByteArray(), records.size());
        int size = RecordBatch.RECORD_BATCH_OVERHEAD + payload.length;
        ByteBuffer b = ByteBuffer.allocate(size);
        int attributes = (batch.attributes() & ~RecordBatch.DELETE_HORIZON_FLAG_MASK)
                | (newHasHorizon ? RecordBatch.DELETE_HORIZON_FLAG_MASK : 0);
        b.putLong(RecordBatch.BASE_OFFSET_OFFSET, batch.baseOffset());
        b.putInt(RecordBatch.LENGTH_OFFSET, size - RecordBatch.LOG_OVERHEAD);
        b.putInt(RecordBatch.PARTITION_LEADER_EPOCH_OFFSET, batch.partitionLeaderEpoch());
        b.put(RecordBatch.MAGIC_OFFSET, RecordBatch.MAGIC_V2);
        b.putShort(RecordBatch.ATTRIBUTES_OFFSET, (short) attributes);
        b.putInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET, batch.lastOffsetDelta());
        b.putLong(RecordBatch.BASE_TIMESTAMP_OFFSET, newBase);
        b.putLong(RecordBatch.MAX_TIMESTAMP_OFFSET, maxTs);
        b.putLong(RecordBatch.PRODUCER_ID_OFFSET, batch.producerId());
        b.putShort(RecordBatch.PRODUCER_EPOCH_OFFSET, batch.producerEpoch());
        b.putInt(RecordBatch.BASE_SEQUENCE_OFFSET, batch.baseSequence());
        b.putInt(RecordBatch.RECORDS_COUNT_OFFSET, kept);
        b.put(RecordBatch.RECORDS_OFFSET, payload, 0, payload.length);
        b.putInt(RecordBatch.CRC_OFFSET, (int) RecordBatch.at(b, 0).computeChecksum());
        return b;
    }

    /** A data batch of a transaction that was aborted (its producer's aborted range holds the batch). */
    private boolean isAborted(RecordBatch batch) {
        if (!batch.isTransactional() || batch.isControl() || !batch.hasProducerId()) {
            return false;
        }
        List<AbortedTxn> ts = abortedByProducer.get(batch.producerId());
        if (ts == null) {
            return false;
        }
        for (AbortedTxn t : ts) {
            if (t.firstOffset() <= batch.baseOffset() && batch.baseOffset() < t.lastOffset()) {
                return true;
            }
        }
        return false;
    }

    private boolean isProducersLastBatch(RecordBatch batch) {
        Long last = batch.hasProducerId() ? producerLastOffsets.get(batch.producerId()) : null;
        return last != null && last == batch.lastOffset();
    }

    /**
     * A batch with no records that keeps {@code header}'s offsets, producer fields and epoch (Kafka writes the
     * same for a producer's emptied last batch): uncompressed, and without timestamps (-1), so that no time
     * index entry points at it (kafka-dump-log checks entries against the records' timestamps).
     */
    static ByteBuffer emptyBatch(ByteBuffer header) {
        RecordBatch h = RecordBatch.at(header, 0);
        ByteBuffer b = ByteBuffer.allocate(RecordBatch.RECORD_BATCH_OVERHEAD);
        int attributes = h.attributes() & ~(RecordBatch.COMPRESSION_CODEC_MASK | RecordBatch.DELETE_HORIZON_FLAG_MASK);
        b.putLong(RecordBatch.BASE_OFFSET_OFFSET, h.baseOffset());
        b.putInt(RecordBatch.LENGTH_OFFSET, RecordBatch.RECORD_BATCH_OVERHEAD - RecordBatch.LOG_OVERHEAD);
        b.putInt(RecordBatch.PARTITION_LEADER_EPOCH_OFFSET, h.partitionLeaderEpoch());
        b.put(RecordBatch.MAGIC_OFFSET, RecordBatch.MAGIC_V2);
        b.putShort(RecordBatch.ATTRIBUTES_OFFSET, (short) attributes);
        b.putInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET, h.lastOffsetDelta());
        b.putLong(RecordBatch.BASE_TIMESTAMP_OFFSET, RecordBatch.NO_TIMESTAMP);
        b.putLong(RecordBatch.MAX_TIMESTAMP_OFFSET, RecordBatch.NO_TIMESTAMP);
        b.putLong(RecordBatch.PRODUCER_ID_OFFSET, h.producerId());
        b.putShort(RecordBatch.PRODUCER_EPOCH_OFFSET, h.producerEpoch());
        b.putInt(RecordBatch.BASE_SEQUENCE_OFFSET, h.baseSequence());
        b.putInt(RecordBatch.RECORDS_COUNT_OFFSET, 0);
        b.putInt(RecordBatch.CRC_OFFSET, (int) RecordBatch.at(b, 0).computeChecksum());
        return b;
    }

    // ------------------------------------------------------------------ records as raw bytes

    /**
     * The records of one batch, decompressed, with each record's byte range and the positions of the fields
     * the cleaner needs; retained records are copied byte for byte.
     */
    static final class Parsed {
        byte[] data;
        int count;
        int[] start;
        int[] end;
        int[] bodyStart;
        int[] afterTimestamp;
        long[] timestampDelta;
        int[] offsetDelta;
        int[] keyStart;
        int[] keyLen;
        boolean[] tombstone;

        /** The records of {@code batch}, or null if they cannot be decoded (corrupt, too large, unknown codec). */
        static Parsed of(RecordBatch batch) {
            try {
                byte[] data = decompress(batch);
                int count = batch.recordsCount();
                if (data == null || count < 0 || (long) count * MIN_RECORD_BYTES > data.length) {
                    return null;
                }
                Parsed p = new Parsed();
                p.data = data;
                p.count = count;
                p.start = new int[count];
                p.end = new int[count];
                p.bodyStart = new int[count];
                p.afterTimestamp = new int[count];
                p.timestampDelta = new long[count];
                p.offsetDelta = new int[count];
                p.keyStart = new int[count];
                p.keyLen = new int[count];
                p.tombstone = new boolean[count];
                VarReader r = new VarReader(data);
                for (int i = 0; i < count; i++) {
                    p.start[i] = r.pos;
                    int len = r.varint();
                    int bodyStart = r.pos;
                    if (len < 0 || (long) bodyStart + len > data.length) {
                        return null;
                    }
                    int bodyEnd = bodyStart + len;
                    r.limit = bodyEnd;
                    p.bodyStart[i] = bodyStart;
                    r.pos++; // attributes
                    p.timestampDelta[i] = r.varlong();
                    p.afterTimestamp[i] = r.pos;
                    p.offsetDelta[i] = r.varint();
                    int keyLen = r.varint();
                    if (keyLen < -1 || (keyLen > 0 && r.pos + keyLen > bodyEnd)) {
                        return null;
                    }
                    p.keyLen[i] = keyLen;
                    p.keyStart[i] = r.pos;
                    r.pos += Math.max(0, keyLen);
                    int valueLen = r.varint();
                    if (valueLen < -1 || (valueLen > 0 && r.pos + valueLen > bodyEnd)) {
                        return null;
                    }
                    p.tombstone[i] = valueLen < 0;
                    if (p.offsetDelta[i] < 0 || p.offsetDelta[i] > batch.lastOffsetDelta()) {
                        return null;
                    }
                    p.end[i] = bodyEnd;
                    r.pos = bodyEnd;
                    r.limit = data.length;
                }
                return r.pos == data.length ? p : null;
            } catch (IOException | RuntimeException e) {
                return null;
            }
        }
    }

    private static byte[] decompress(RecordBatch batch) throws IOException {
        Compression codec = batch.compression();
        int from = batch.position() + RecordBatch.RECORDS_OFFSET;
        int len = batch.sizeInBytes() - RecordBatch.RECORDS_OFFSET;
        ByteBuffer src = batch.buffer().duplicate();
        src.position(from).limit(from + len);
        if (codec == null) {
            return null;
        }
        if (codec == Compression.NONE) {
            byte[] out = new byte[len];
            src.get(out);
            return out;
        }
        byte[] compressed = new byte[len];
        src.get(compressed);
        InputStream raw = new java.io.ByteArrayInputStream(compressed);
        try (InputStream in = switch (codec) {
            case GZIP -> new GZIPInputStream(raw, 8192);
            case SNAPPY -> new SnappyInputStream(raw);
            case LZ4 -> new LZ4FrameInputStream(raw);
            case ZSTD -> new ZstdInputStream(raw);
            case NONE -> raw;
        }) {
            ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(64, len * 2));
            byte[] buf = new byte[16 * 1024];
            int n;
            while ((n = in.read(buf)) > 0) {
                if (out.size() + (long) n > MAX_DECOMPRESSED_BYTES) {
                    return null;
                }
                out.write(buf, 0, n);
            }
            return out.toByteArray();
        }
    }

    private static byte[] compress(Compression codec, byte[] data, int len) throws IOException {
        if (codec == Compression.NONE) {
            return len == data.length ? data : Arrays.copyOf(data, len);
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(Math.max(64, len / 2));
        try (OutputStream os = switch (codec) {
            case GZIP -> new GZIPOutputStream(bytes, 8192);
            case SNAPPY -> new SnappyOutputStream(bytes);
            case LZ4 -> new LZ4FrameOutputStream(bytes, LZ4FrameOutputStream.BLOCKSIZE.SIZE_64KB);
            case ZSTD -> new ZstdOutputStream(bytes);
            case NONE -> throw new IllegalStateException();
        }) {
            os.write(data, 0, len);
        }
        return bytes.toByteArray();
    }

    /** Zig-zag varints over a byte array, bounded by {@link #limit}. */
    private static final class VarReader {
        final byte[] data;
        int pos;
        int limit;

        VarReader(byte[] data) {
            this.data = data;
            this.limit = data.length;
        }

        private int next() {
            if (pos >= limit) {
                throw new IndexOutOfBoundsException("record ends early");
            }
            return data[pos++] & 0xFF;
        }

        int varint() {
            int raw = 0;
            for (int shift = 0; ; shift += 7) {
                if (shift > 28) {
                    throw new IllegalArgumentException("varint too long");
                }
                int b = next();
                raw |= (b & 0x7F) << shift;
                if ((b & 0x80) == 0) {
                    break;
                }
            }
            return (raw >>> 1) ^ -(raw & 1);
        }

        long varlong() {
            long raw = 0;
            for (int shift = 0; ; shift += 7) {
                if (shift > 63) {
                    throw new IllegalArgumentException("varlong too long");
                }
                int b = next();
                raw |= (long) (b & 0x7F) << shift;
                if ((b & 0x80) == 0) {
                    break;
                }
            }
            return (raw >>> 1) ^ -(raw & 1);
        }
    }

    private static final class VarWriter {
        final ByteArrayOutputStream out;

        VarWriter(ByteArrayOutputStream out) {
            this.out = out;
        }

        void varint(int value) {
            int v = (value << 1) ^ (value >> 31);
            while ((v & 0xFFFFFF80) != 0) {
                out.write((v & 0x7F) | 0x80);
                v >>>= 7;
            }
            out.write(v);
        }

        void varlong(long value) {
            long v = (value << 1) ^ (value >> 63);
            while ((v & 0xFFFFFFFFFFFFFF80L) != 0) {
                out.write((int) ((v & 0x7F) | 0x80));
                v >>>= 7;
            }
            out.write((int) v);
        }
    }

    // ------------------------------------------------------------------ the map

    /** Key hash (128 bits) → latest offset, open addressing over three arrays; grows up to a bound. */
    static final class OffsetMap {
        private final int maxEntries;
        private long[] hi;
        private long[] lo;
        private long[] offsets;
        private int size;

        OffsetMap(int maxEntries) {
            this.maxEntries = maxEntries;
            allocate(1024);
        }

        private void allocate(int capacity) {
            hi = new long[capacity];
            lo = new long[capacity];
            offsets = new long[capacity];
            Arrays.fill(offsets, -1L);
        }

        int size() {
            return size;
        }

        private int slot(long h, long l, long[] his, long[] los, long[] offs) {
            int mask = offs.length - 1;
            int i = (int) (h ^ (h >>> 32)) & mask;
            while (offs[i] >= 0 && (his[i] != h || los[i] != l)) {
                i = (i + 1) & mask;
            }
            return i;
        }

        /** Records {@code offset} for the key; false (nothing stored) if a new key would exceed the bound. */
        boolean put(long h, long l, long offset) {
            int i = slot(h, l, hi, lo, offsets);
            if (offsets[i] >= 0) {
                offsets[i] = Math.max(offsets[i], offset);
                return true;
            }
            if (size >= maxEntries) {
                return false;
            }
            if ((size + 1) * 4L > offsets.length * 3L) {
                grow();
                i = slot(h, l, hi, lo, offsets);
            }
            hi[i] = h;
            lo[i] = l;
            offsets[i] = offset;
            size++;
            return true;
        }

        long get(long h, long l) {
            int i = slot(h, l, hi, lo, offsets);
            return offsets[i];
        }

        private void grow() {
            long[] oh = hi;
            long[] ol = lo;
            long[] oo = offsets;
            allocate(oo.length * 2);
            for (int j = 0; j < oo.length; j++) {
                if (oo[j] >= 0) {
                    int i = slot(oh[j], ol[j], hi, lo, offsets);
                    hi[i] = oh[j];
                    lo[i] = ol[j];
                    offsets[i] = oo[j];
                }
            }
        }
    }

    // ------------------------------------------------------------------ files left by a crash

    /**
     * Before a log loads: deletes {@code *.deleted} files (segments already removed) and {@code *.cleaned}
     * files (a clean that never committed), and completes a committed swap: a {@code <base>.log.swap}
     * replaces the segments whose base offsets lie in its offset range (their indexes are rebuilt on load).
     */
    static void resolveLeftovers(Path dir) throws IOException {
        List<Path> swaps = new ArrayList<>();
        List<Long> logBases = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path f : files) {
                String name = f.getFileName().toString();
                if (name.endsWith(LogSegment.DELETED_SUFFIX) || name.endsWith(LogSegment.CLEANED_SUFFIX)) {
                    Files.deleteIfExists(f);
                } else if (SWAP.matcher(name).matches()) {
                    swaps.add(f);
                } else if (name.matches("\\d{20}\\.log")) {
                    logBases.add(Long.parseLong(name.substring(0, 20)));
                }
            }
        }
        for (Path swap : swaps) {
            Matcher m = SWAP.matcher(swap.getFileName().toString());
            if (!m.matches()) {
                continue;
            }
            long base = Long.parseLong(m.group(1));
            long next = base;
            try (FileChannel ch = FileChannel.open(swap, StandardOpenOption.READ)) {
                SegmentScanner sc = new SegmentScanner(ch, base, 0, ch.size(), false);
                while (sc.next()) {
                    next = sc.batch().lastOffset() + 1;
                }
            }
            for (long b : logBases) {
                if (b >= base && (b < next || b == base)) {
                    // a replaced segment's .txnindex goes too (its entries are rebuilt from the markers on load),
                    // except the first one's, which the load merges with what it recomputes
                    for (String suffix : b == base ? new String[] {LogSegment.LOG_SUFFIX, LogSegment.INDEX_SUFFIX,
                            LogSegment.TIME_INDEX_SUFFIX} : new String[] {LogSegment.LOG_SUFFIX, LogSegment.INDEX_SUFFIX,
                            LogSegment.TIME_INDEX_SUFFIX, TransactionIndex.SUFFIX}) {
                        Files.deleteIfExists(dir.resolve(LogSegment.fileName(b, suffix)));
                    }
                }
            }
            Files.deleteIfExists(dir.resolve(LogSegment.fileName(base, LogSegment.INDEX_SUFFIX)));
            Files.deleteIfExists(dir.resolve(LogSegment.fileName(base, LogSegment.TIME_INDEX_SUFFIX)));
            LogSegment.move(swap, dir.resolve(LogSegment.fileName(base, LogSegment.LOG_SUFFIX)));
            LOG.warn("Completed an interrupted cleaner swap in {}: segment {} replaces the segments in offsets [{}, {})",
                    dir.getFileName(), base, base, next);
        }
    }
}
