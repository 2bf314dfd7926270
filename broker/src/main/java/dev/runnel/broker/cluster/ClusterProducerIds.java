package dev.runnel.broker.cluster;

import dev.runnel.wire.Errors;
import dev.runnel.wire.message.AllocateProducerIdsRequestData;
import dev.runnel.wire.message.AllocateProducerIdsResponseData;
import java.util.concurrent.CompletableFuture;

/**
 * Producer ids in a cluster: blocks handed out by the active controller (Kafka's AllocateProducerIds), so that no
 * two brokers ever give out the same id. One block request in flight at a time.
 */
public final class ClusterProducerIds {
    private final ClusterNode node;
    private long next;
    private long end;
    private CompletableFuture<Void> refill;

    public ClusterProducerIds(ClusterNode node) {
        this.node = node;
    }

    public CompletableFuture<Long> nextId() {
        CompletableFuture<Void> wait;
        synchronized (this) {
            if (next < end) {
                return CompletableFuture.completedFuture(next++);
            }
            if (refill == null) {
                refill = fetchBlock();
            }
            wait = refill;
        }
        return wait.thenCompose(v -> nextId());
    }

    private CompletableFuture<Void> fetchBlock() {
        AllocateProducerIdsRequestData req = new AllocateProducerIdsRequestData().setBrokerId(node.nodeId()).setBrokerEpoch(node.brokerEpoch());
        return node.call(req, new AllocateProducerIdsResponseData(), ClusterTopicAdmin.TIMEOUT_MS).handle((resp, failure) -> {
            synchronized (this) {
                refill = null;
                if (failure != null) {
                    throw new IllegalStateException("No producer id block from the controller: " + failure.getMessage(), failure);
                }
                if (resp.errorCode != 0) {
                    throw new IllegalStateException("The controller refused a producer id block: " + Errors.forCode(resp.errorCode));
                }
                next = resp.producerIdStart;
                end = resp.producerIdStart + resp.producerIdLen;
                return null;
            }
        });
    }
}
