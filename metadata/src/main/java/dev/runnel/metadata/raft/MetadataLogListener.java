package dev.runnel.metadata.raft;

import java.util.concurrent.CompletableFuture;

/**
 * What a node does with the metadata log. Ratis calls these from its own threads; {@link #onCommit},
 * {@link #snapshot} and {@link #loadSnapshot} are never called concurrently with one another.
 */
public interface MetadataLogListener {

    /** A committed batch, in log order. Must apply it before returning. */
    void onCommit(long index, long term, byte[] batch);

    /** The state after every batch committed so far, as bytes that {@link #loadSnapshot} reads back. */
    byte[] snapshot();

    /** Replaces the state with a snapshot taken at {@code index} (on start-up, or when a leader sends one). */
    void loadSnapshot(long index, byte[] snapshot);

    /** The leader or term changed; {@code leaderId} -1 when there is none. */
    void onLeaderChange(int leaderId, long term);

    /** Called on the leader only, for {@link MetadataLog#callController}; answers with the reply bytes. */
    CompletableFuture<byte[]> handleControllerRequest(byte[] request);

    /**
     * Optional: this node became the leader of {@code term} and every batch of earlier terms has been passed to
     * {@link #onCommit}, so it may now act as the active controller (until the next {@link #onLeaderChange}). Comes
     * after the {@link #onLeaderChange} that announced this node as leader of {@code term}.
     */
    default void onReadyLeader(long term) {
    }
}
