package dev.runnel.broker.handlers;

import dev.runnel.broker.Broker;
import dev.runnel.broker.network.RequestContext;
import dev.runnel.broker.txn.TransactionsService;
import dev.runnel.groupcoord.txn.TransactionCoordinator;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.DescribeTransactionsRequestData;
import dev.runnel.wire.message.DescribeTransactionsResponseData;
import java.util.concurrent.CompletableFuture;

/** DescribeTransactions (65), v0: {@code kafka-transactions describe}: state, producer, timeout, partitions per id. */
public final class DescribeTransactionsHandler implements ApiHandler {
    private final TransactionCoordinator coordinator;

    private DescribeTransactionsHandler(TransactionCoordinator coordinator) {
        this.coordinator = coordinator;
    }

    public static DescribeTransactionsHandler create(Broker broker) {
        return new DescribeTransactionsHandler(TransactionsService.of(broker).coordinator());
    }

    @Override
    public ApiKeys api() {
        return ApiKeys.DESCRIBE_TRANSACTIONS;
    }

    @Override
    public short highestVersion() {
        return 0;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        DescribeTransactionsRequestData req = (DescribeTransactionsRequestData) request;
        DescribeTransactionsResponseData resp = new DescribeTransactionsResponseData();
        for (String id : req.transactionalIds) {
            resp.transactionStates.add(coordinator.describe(id));
        }
        return CompletableFuture.completedFuture(resp);
    }
}
