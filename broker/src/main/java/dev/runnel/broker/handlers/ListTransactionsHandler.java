package dev.runnel.broker.handlers;

import dev.runnel.broker.Broker;
import dev.runnel.broker.network.RequestContext;
import dev.runnel.broker.txn.TransactionsService;
import dev.runnel.groupcoord.txn.TransactionCoordinator;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.ListTransactionsRequestData;
import java.util.concurrent.CompletableFuture;

/**
 * ListTransactions (66), v0-1: {@code kafka-transactions list}: the transactional ids this broker coordinates, filtered
 * by state, producer id and (v1) how long the transaction has been running. The admin client asks every broker.
 */
public final class ListTransactionsHandler implements ApiHandler {
    private final TransactionCoordinator coordinator;

    private ListTransactionsHandler(TransactionCoordinator coordinator) {
        this.coordinator = coordinator;
    }

    public static ListTransactionsHandler create(Broker broker) {
        return new ListTransactionsHandler(TransactionsService.of(broker).coordinator());
    }

    @Override
    public ApiKeys api() {
        return ApiKeys.LIST_TRANSACTIONS;
    }

    @Override
    public short highestVersion() {
        return 2;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        ListTransactionsRequestData req = (ListTransactionsRequestData) request;
        long duration = ctx.apiVersion() >= 1 ? req.durationFilter : -1L;
        // v2 (KIP-1152): only the transactional ids the whole pattern matches (Kafka: RE2J's matches()); null or
        // empty means no filter; a pattern that does not compile is INVALID_REGULAR_EXPRESSION.
        java.util.regex.Pattern pattern = null;
        if (ctx.apiVersion() >= 2 && req.transactionalIdPattern != null && !req.transactionalIdPattern.isEmpty()) {
            try {
                pattern = java.util.regex.Pattern.compile(req.transactionalIdPattern);
            } catch (java.util.regex.PatternSyntaxException e) {
                return CompletableFuture.completedFuture(new dev.runnel.wire.message.ListTransactionsResponseData()
                        .setErrorCode(dev.runnel.wire.Errors.INVALID_REGULAR_EXPRESSION.code()));
            }
        }
        var resp = coordinator.list(req.stateFilters, req.producerIdFilters, duration);
        if (pattern != null) {
            java.util.regex.Pattern p = pattern;
            resp.transactionStates.removeIf(t -> !p.matcher(t.transactionalId).matches());
        }
        return CompletableFuture.completedFuture(resp);
    }
}
