package dev.runnel.groupcoord.txn;

import dev.runnel.wire.Errors;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Writes COMMIT or ABORT markers (control batches) to the partitions of a transaction: appended locally for
 * partitions this broker leads, sent with WriteTxnMarkers to the leaders of the others. The answer holds one error
 * per partition: NONE when the marker is in the partition's log, or the partition is gone for good (deleted); any
 * other error is retried by the coordinator.
 */
@FunctionalInterface
public interface TxnMarkerWriter {
    CompletableFuture<Map<TxnPartition, Errors>> write(long producerId, short producerEpoch, boolean commit,
                                                       int coordinatorEpoch, Set<TxnPartition> partitions);
}
