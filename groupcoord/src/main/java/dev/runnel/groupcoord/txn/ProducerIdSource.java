package dev.runnel.groupcoord.txn;

import java.util.concurrent.CompletableFuture;

/** Hands out producer ids unique in the cluster (the broker's producer-id blocks). */
@FunctionalInterface
public interface ProducerIdSource {
    CompletableFuture<Long> nextId();
}
