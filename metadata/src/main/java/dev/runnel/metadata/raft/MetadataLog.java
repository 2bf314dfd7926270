package dev.runnel.metadata.raft;

import java.util.concurrent.CompletableFuture;

/**
 * The replicated cluster-metadata log as the controller and the brokers use it. Entries are opaque batches of
 * metadata records (the {@code metadata} module frames them); consensus (Apache Ratis) orders and commits them.
 * Every node that follows the log hears every committed batch, in order, through its {@link MetadataLogListener}.
 */
public interface MetadataLog extends AutoCloseable {

    /**
     * Appends one batch to the log. Only the leader (the active controller) appends; on any other node the future
     * fails with {@link NotControllerException}. Completes with the batch's log index once it is committed (a
     * majority of the voters has it); the local listener has been told of it by then.
     */
    CompletableFuture<Long> append(byte[] batch);

    /** The node id of the current leader (the active controller), or -1 while there is none. */
    int leaderId();

    /** The current term (Kafka's "leader epoch" of the metadata quorum). */
    long term();

    /** True while this node is the leader and has applied every entry of earlier terms (it may serve as controller). */
    boolean isReadyLeader();

    /**
     * Sends a request to the active controller, wherever it runs, and completes with its answer: on the leader
     * {@link MetadataLogListener#handleControllerRequest} is called. Retried on leader changes until
     * {@code timeoutMs} has passed, then fails with {@link java.util.concurrent.TimeoutException}.
     */
    CompletableFuture<byte[]> callController(byte[] request, long timeoutMs);

    /** What {@code DescribeQuorum} reports: leader, term, high watermark, voters and observers. */
    QuorumState describeQuorum();

    @Override
    void close();
}
