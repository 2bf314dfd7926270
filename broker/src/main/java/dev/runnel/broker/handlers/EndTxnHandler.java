package dev.runnel.broker.handlers;

import dev.runnel.broker.Broker;
import dev.runnel.broker.network.RequestContext;
import dev.runnel.broker.txn.TransactionsService;
import dev.runnel.groupcoord.txn.TransactionCoordinator;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.EndTxnRequestData;
import dev.runnel.wire.message.EndTxnResponseData;
import java.util.concurrent.CompletableFuture;

/**
 * EndTxn (26), v0-4: commitTransaction/abortTransaction. Answered once PrepareCommit/PrepareAbort is durable (as
 * Kafka's transactions V1); the markers follow, and the producer's next transaction waits (CONCURRENT_TRANSACTIONS)
 * until they are all written. Before v2, PRODUCER_FENCED is reported as INVALID_PRODUCER_EPOCH.
 */
public final class EndTxnHandler implements ApiHandler {
    private final TransactionCoordinator coordinator;

    private EndTxnHandler(TransactionCoordinator coordinator) {
        this.coordinator = coordinator;
    }

    public static EndTxnHandler create(Broker broker) {
        return new EndTxnHandler(TransactionsService.of(broker).coordinator());
    }

    @Override
    public ApiKeys api() {
        return ApiKeys.END_TXN;
    }

    @Override
    public short highestVersion() {
        return 5;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        EndTxnRequestData req = (EndTxnRequestData) request;
        short version = ctx.apiVersion();
        // v5 is transactions V2 (KIP-890): the end bumps the epoch and the answer carries the id and epoch to go on with
        boolean transactionsV2 = version >= 5;
        return coordinator.endTransaction(req.transactionalId, req.producerId, req.producerEpoch, req.committed, transactionsV2)
                .thenApply(r -> {
                    Errors error = r.error() == Errors.PRODUCER_FENCED && version < 2 ? Errors.INVALID_PRODUCER_EPOCH : r.error();
                    EndTxnResponseData resp = new EndTxnResponseData().setErrorCode(error.code());
                    if (transactionsV2) {
                        resp.setProducerId(r.producerId()).setProducerEpoch(r.producerEpoch());
                    }
                    return resp;
                });
    }
}
