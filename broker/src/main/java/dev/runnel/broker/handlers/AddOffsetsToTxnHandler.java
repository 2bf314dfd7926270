package dev.runnel.broker.handlers;

import dev.runnel.broker.Broker;
import dev.runnel.broker.groups.GroupsService;
import dev.runnel.broker.network.RequestContext;
import dev.runnel.broker.txn.TransactionsService;
import dev.runnel.groupcoord.OffsetsTopic;
import dev.runnel.groupcoord.txn.TransactionCoordinator;
import dev.runnel.groupcoord.txn.TxnPartition;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.AddOffsetsToTxnRequestData;
import dev.runnel.wire.message.AddOffsetsToTxnResponseData;
import dev.runnel.wire.message.ApiKeys;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * AddOffsetsToTxn (25), v0-4: sendOffsetsToTransaction adds the group's {@code __consumer_offsets} partition to the
 * transaction, so the COMMIT/ABORT marker reaches it and the group coordinator commits or drops the offsets the
 * producer then sends with TxnOffsetCommit.
 */
public final class AddOffsetsToTxnHandler implements ApiHandler {
    private final TransactionCoordinator coordinator;
    private final GroupsService groups;

    private AddOffsetsToTxnHandler(TransactionCoordinator coordinator, GroupsService groups) {
        this.coordinator = coordinator;
        this.groups = groups;
    }

    public static AddOffsetsToTxnHandler create(Broker broker) {
        return new AddOffsetsToTxnHandler(TransactionsService.of(broker).coordinator(), GroupsService.of(broker));
    }

    @Override
    public ApiKeys api() {
        return ApiKeys.ADD_OFFSETS_TO_TXN;
    }

    @Override
    public short highestVersion() {
        return 4;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        AddOffsetsToTxnRequestData req = (AddOffsetsToTxnRequestData) request;
        if (req.groupId == null || req.groupId.isEmpty()) {
            return CompletableFuture.completedFuture(new AddOffsetsToTxnResponseData().setErrorCode(Errors.INVALID_GROUP_ID.code()));
        }
        if (groups.ensureOffsetsTopic() != Errors.NONE) {
            return CompletableFuture.completedFuture(new AddOffsetsToTxnResponseData()
                    .setErrorCode(Errors.COORDINATOR_NOT_AVAILABLE.code()));
        }
        int partition = groups.coordinator().partitionFor(req.groupId);
        short version = ctx.apiVersion();
        return coordinator.addPartitions(req.transactionalId, req.producerId, req.producerEpoch,
                List.of(new TxnPartition(OffsetsTopic.NAME, partition))).thenApply(e -> {
                    Errors error = e == Errors.PRODUCER_FENCED && version < 2 ? Errors.INVALID_PRODUCER_EPOCH : e;
                    return new AddOffsetsToTxnResponseData().setErrorCode(error.code());
                });
    }
}
