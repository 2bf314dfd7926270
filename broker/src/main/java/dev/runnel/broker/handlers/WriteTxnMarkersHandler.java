package dev.runnel.broker.handlers;

import dev.runnel.broker.Broker;
import dev.runnel.broker.network.RequestContext;
import dev.runnel.broker.txn.MarkerWriter;
import dev.runnel.broker.txn.TransactionsService;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.WriteTxnMarkersRequestData;
import dev.runnel.wire.message.WriteTxnMarkersResponseData;
import java.util.concurrent.CompletableFuture;

/**
 * WriteTxnMarkers (27), v0-2: a transaction coordinator (on another broker) asks this leader to append COMMIT or
 * ABORT markers to partitions; one error per partition (NOT_LEADER_OR_FOLLOWER when this node does not lead it).
 * v2 tells the marker's transaction version (KIP-1228); this broker runs transactions V1 only (transaction.version
 * is not advertised), so the markers it is sent are V1 markers and the field is not consulted.
 */
public final class WriteTxnMarkersHandler implements ApiHandler {
    private final MarkerWriter markers;

    private WriteTxnMarkersHandler(MarkerWriter markers) {
        this.markers = markers;
    }

    public static WriteTxnMarkersHandler create(Broker broker) {
        return new WriteTxnMarkersHandler(TransactionsService.of(broker).markers());
    }

    @Override
    public ApiKeys api() {
        return ApiKeys.WRITE_TXN_MARKERS;
    }

    @Override
    public short highestVersion() {
        return 2;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        WriteTxnMarkersRequestData req = (WriteTxnMarkersRequestData) request;
        WriteTxnMarkersResponseData resp = new WriteTxnMarkersResponseData();
        java.util.List<CompletableFuture<Void>> appends = new java.util.ArrayList<>();
        for (WriteTxnMarkersRequestData.WritableTxnMarker m : req.markers) {
            WriteTxnMarkersResponseData.WritableTxnMarkerResult mr = new WriteTxnMarkersResponseData.WritableTxnMarkerResult()
                    .setProducerId(m.producerId);
            for (WriteTxnMarkersRequestData.WritableTxnMarkerTopic t : m.topics) {
                WriteTxnMarkersResponseData.WritableTxnMarkerTopicResult tr =
                        new WriteTxnMarkersResponseData.WritableTxnMarkerTopicResult().setName(t.name);
                for (int p : t.partitionIndexes) {
                    WriteTxnMarkersResponseData.WritableTxnMarkerPartitionResult pr =
                            new WriteTxnMarkersResponseData.WritableTxnMarkerPartitionResult().setPartitionIndex(p);
                    tr.partitions.add(pr);
                    appends.add(markers.appendLocal(t.name, p, m.producerId, m.producerEpoch, m.transactionResult,
                            m.coordinatorEpoch).thenAccept(e -> pr.setErrorCode(e.code())));
                }
                mr.topics.add(tr);
            }
            resp.markers.add(mr);
        }
        return CompletableFuture.allOf(appends.toArray(new CompletableFuture[0])).thenApply(v -> resp);
    }
}
