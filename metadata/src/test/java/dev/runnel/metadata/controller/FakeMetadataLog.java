package dev.runnel.metadata.controller;

import dev.runnel.metadata.MetadataRecords;
import dev.runnel.metadata.image.MetadataImage;
import dev.runnel.metadata.raft.MetadataLog;
import dev.runnel.metadata.raft.QuorumState;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A metadata log of one voter, the ready leader unless a test says otherwise: an append commits at once, is applied
 * to the image this log holds, and completes with its index (1, 2, ...).
 */
final class FakeMetadataLog implements MetadataLog {
    private final List<byte[]> batches = new ArrayList<>();
    private volatile MetadataImage image = MetadataImage.EMPTY;
    /** Whether this node is the ready leader (a test may depose it). */
    volatile boolean leader = true;

    @Override
    public synchronized CompletableFuture<Long> append(byte[] batch) {
        long index = batches.size() + 1;
        image = image.apply(MetadataRecords.decodeBatch(batch), index);
        batches.add(batch.clone());
        return CompletableFuture.completedFuture(index);
    }

    MetadataImage image() {
        return image;
    }

    /** The index of the last batch, 0 for none. */
    synchronized long lastIndex() {
        return batches.size();
    }

    synchronized List<byte[]> batches() {
        return List.copyOf(batches);
    }

    @Override
    public int leaderId() {
        return leader ? 1 : 2;
    }

    @Override
    public long term() {
        return 1;
    }

    @Override
    public boolean isReadyLeader() {
        return leader;
    }

    @Override
    public CompletableFuture<byte[]> callController(byte[] request, long timeoutMs) {
        return CompletableFuture.failedFuture(new UnsupportedOperationException("tests call the controller directly"));
    }

    @Override
    public synchronized QuorumState describeQuorum() {
        return new QuorumState(1, 1, batches.size(), List.of(), List.of());
    }

    @Override
    public void close() {
    }
}
