package dev.runnel.log;

import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * What a clean close knows and the next open would otherwise rebuild from every batch header: the leader
 * epochs and the idempotent-producer state, in {@code runnel-shutdown-state} in the partition directory (ours;
 * Kafka's {@code .snapshot} files keep only each producer's last batch, this keeps all {@value
 * ProducerStateManager#NUM_BATCHES_TO_RETAIN} so that a producer retrying after the restart is still
 * deduplicated).
 *
 * <p>It is trusted only when it is intact (CRC) and names the log end offset that the state file's clean
 * shutdown record names; anything else — missing, torn by a power loss, older — means a scan of the log, so
 * the file is written without an fsync of its own.
 *
 * <p>Layout (big-endian): version int16 (1), log end offset int64, epoch count int32 and per epoch: epoch
 * int32, start offset int64; producer count int32 and per producer: id int64, epoch int16, last timestamp int64,
 * current transaction's first offset int64 (-1: none; an open transaction keeps the last stable offset pinned
 * across the restart), coordinator epoch int32, batch count int8, and per batch: first sequence int32, last
 * sequence int32, first offset int64, last offset int64, timestamp int64; then the number of aborted-transaction
 * index entries of all segments int32 (a {@code .txnindex} lost or cut while the broker was down makes the next
 * open rebuild the indexes); finally a CRC-32C int32 of all before. Version 0 (no coordinator epoch, no index
 * count) is still read.
 */
final class ShutdownSnapshot {
    static final String FILE = "runnel-shutdown-state";
    private static final short VERSION = 1;
    private static final int EPOCH_BYTES = 4 + 8;
    private static final int PRODUCER_BYTES_V0 = 8 + 2 + 8 + 8 + 1;
    private static final int PRODUCER_BYTES = PRODUCER_BYTES_V0 + 4;
    private static final int BATCH_BYTES = 4 + 4 + 8 + 8 + 8;

    private ShutdownSnapshot() {
    }

    static void write(Path dir, long logEndOffset, LeaderEpochCache epochs, ProducerStateManager producers,
                      int txnIndexEntries) throws IOException {
        List<long[]> epochPairs = epochs.entryPairs();
        int count = producers.producerCount();
        ByteBuffer b = ByteBuffer.allocate(2 + 8 + 4 + epochPairs.size() * EPOCH_BYTES + 4
                + count * (PRODUCER_BYTES + ProducerStateManager.NUM_BATCHES_TO_RETAIN * BATCH_BYTES) + 4 + 4);
        b.putShort(VERSION).putLong(logEndOffset).putInt(epochPairs.size());
        for (long[] p : epochPairs) {
            b.putInt((int) p[0]).putLong(p[1]);
        }
        b.putInt(count);
        producers.forEachEntry(e -> {
            b.putLong(e.producerId).putShort(e.epoch).putLong(e.lastTimestamp).putLong(e.currentTxnFirstOffset)
                    .putInt(e.coordinatorEpoch).put((byte) e.count);
            for (int i = 0; i < e.count; i++) {
                int s = e.slot(i);
                b.putInt(e.firstSeq[s]).putInt(e.lastSeq[s]).putLong(e.firstOffset[s]).putLong(e.lastOffset[s])
                        .putLong(e.timestamp[s]);
            }
        });
        b.putInt(txnIndexEntries);
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, b.position());
        b.putInt((int) crc.getValue());
        StateFiles.writeAtomically(dir.resolve(FILE), java.util.Arrays.copyOf(b.array(), b.position()), false);
    }

    /**
     * Loads the snapshot into {@code epochs} and {@code producers} (both empty) if there is one, intact, for
     * exactly {@code logEndOffset}; returns why not otherwise (and leaves both empty). {@code txnIndexEntries[0]}
     * receives the number of aborted-transaction index entries the log had.
     */
    static String read(Path dir, long logEndOffset, LeaderEpochCache epochs, ProducerStateManager producers,
                       int[] txnIndexEntries) {
        Path p = dir.resolve(FILE);
        if (!Files.exists(p)) {
            return "no shutdown snapshot";
        }
        try {
            byte[] bytes = Files.readAllBytes(p);
            if (bytes.length < 2 + 8 + 4 + 4 + 4) {
                return "the shutdown snapshot is truncated";
            }
            CRC32C crc = new CRC32C();
            crc.update(bytes, 0, bytes.length - 4);
            ByteBuffer b = ByteBuffer.wrap(bytes);
            if ((int) crc.getValue() != b.getInt(bytes.length - 4)) {
                return "the shutdown snapshot fails its CRC";
            }
            b.limit(bytes.length - 4);
            short version = b.getShort();
            if (version != 0 && version != VERSION) {
                return "the shutdown snapshot has an unknown version";
            }
            long offset = b.getLong();
            if (offset != logEndOffset) {
                return "the shutdown snapshot is for offset " + offset + ", not " + logEndOffset;
            }
            int epochCount = b.getInt();
            if (epochCount < 0 || (long) epochCount * EPOCH_BYTES > b.remaining()) {
                return "the shutdown snapshot has a bad epoch count " + epochCount;
            }
            List<long[]> pairs = new ArrayList<>(epochCount);
            for (int i = 0; i < epochCount; i++) {
                long[] pair = {b.getInt(), b.getLong()};
                if (pair[0] < 0 || pair[1] < 0 || pair[1] > logEndOffset
                        || (i > 0 && (pair[0] <= pairs.get(i - 1)[0] || pair[1] < pairs.get(i - 1)[1]))) {
                    return "the shutdown snapshot has an invalid epoch entry " + i;
                }
                pairs.add(pair);
            }
            int count = b.getInt();
            if (count < 0 || (long) count * (version == 0 ? PRODUCER_BYTES_V0 : PRODUCER_BYTES) > b.remaining()) {
                return "the shutdown snapshot has a bad producer count " + count;
            }
            for (int i = 0; i < count; i++) {
                ProducerStateManager.Entry e = new ProducerStateManager.Entry(b.getLong());
                e.epoch = b.getShort();
                e.lastTimestamp = b.getLong();
                e.currentTxnFirstOffset = b.getLong();
                e.coordinatorEpoch = version == 0 ? -1 : b.getInt();
                int batches = b.get();
                if (batches < 0 || batches > ProducerStateManager.NUM_BATCHES_TO_RETAIN) {
                    producers.clear();
                    return "the shutdown snapshot has a bad batch count " + batches;
                }
                for (int j = 0; j < batches; j++) {
                    e.firstSeq[j] = b.getInt();
                    e.lastSeq[j] = b.getInt();
                    e.firstOffset[j] = b.getLong();
                    e.lastOffset[j] = b.getLong();
                    e.timestamp[j] = b.getLong();
                }
                e.head = 0;
                e.count = batches;
                producers.put(e);
            }
            txnIndexEntries[0] = version == 0 ? 0 : b.getInt();
            if (b.hasRemaining()) {
                producers.clear();
                return "the shutdown snapshot has trailing bytes";
            }
            epochs.restore(pairs);
            return null;
        } catch (IOException | BufferUnderflowException e) {
            producers.clear();
            return "the shutdown snapshot is unreadable: " + e;
        }
    }

    static void delete(Path dir) throws IOException {
        Files.deleteIfExists(dir.resolve(FILE));
    }
}
