package dev.runnel.broker.handlers;

import dev.runnel.broker.Broker;
import dev.runnel.broker.network.RequestContext;
import dev.runnel.broker.txn.TransactionsService;
import dev.runnel.groupcoord.txn.ProducerIdSource;
import dev.runnel.groupcoord.txn.TransactionCoordinator;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.InitProducerIdRequestData;
import dev.runnel.wire.message.InitProducerIdResponseData;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * InitProducerId (22), versions 0-5. Without a transactional id (idempotent producers): a new producer id with
 * epoch 0, as Kafka's transaction coordinator answers them; the id is always fresh, also when a v3+ client passes
 * its old id and epoch. With a transactional id: the transaction coordinator's answer (the id's producer id with a
 * bumped epoch, fencing older producers of the same id and aborting their open transaction; KIP-360 bumps of the
 * client's own epoch). Before v4, PRODUCER_FENCED is reported as INVALID_PRODUCER_EPOCH, as Kafka does.
 */
public final class InitProducerIdHandler implements ApiHandler {
    private static final Logger LOG = LoggerFactory.getLogger(InitProducerIdHandler.class);

    private final ProducerIdSource producerIds;
    private final TransactionCoordinator transactions;

    private InitProducerIdHandler(ProducerIdSource producerIds, TransactionCoordinator transactions) {
        this.producerIds = producerIds;
        this.transactions = transactions;
    }

    /** The handler with the node's producer ids and transaction coordinator. */
    public static InitProducerIdHandler create(Broker broker) {
        TransactionsService txn = TransactionsService.of(broker);
        return new InitProducerIdHandler(txn.producerIds(), txn.coordinator());
    }

    @Override
    public ApiKeys api() {
        return ApiKeys.INIT_PRODUCER_ID;
    }

    @Override
    public short highestVersion() {
        return 5;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        InitProducerIdRequestData req = (InitProducerIdRequestData) request;
        // Kafka: an id without an epoch (or the reverse) is malformed
        boolean noId = req.producerId == -1L;
        boolean noEpoch = req.producerEpoch == (short) -1;
        if (noId != noEpoch) {
            return error(Errors.INVALID_REQUEST);
        }
        short version = ctx.apiVersion();
        if (req.transactionalId != null) {
            return transactions.initProducerId(req.transactionalId, req.transactionTimeoutMs, req.producerId, req.producerEpoch)
                    .thenApply(r -> {
                        Errors e = r.error() == Errors.PRODUCER_FENCED && version < 4 ? Errors.INVALID_PRODUCER_EPOCH : r.error();
                        return (ApiMessage) new InitProducerIdResponseData().setErrorCode(e.code())
                                .setProducerId(r.producerId()).setProducerEpoch(r.producerEpoch());
                    });
        }
        boolean cluster = ctx.broker().cluster() != null;
        return producerIds.nextId().handle((id, failure) -> {
            if (failure != null) {
                LOG.error("Cannot allocate a producer id: {}", failure.getMessage());
                // a cluster waits for the controller's next block (retriable); a single node's id file failed (as Kafka
                // when its id manager fails)
                Errors e = cluster ? Errors.COORDINATOR_NOT_AVAILABLE : Errors.UNKNOWN_SERVER_ERROR;
                return new InitProducerIdResponseData().setErrorCode(e.code()).setProducerId(-1L).setProducerEpoch((short) -1);
            }
            return (ApiMessage) new InitProducerIdResponseData().setErrorCode(Errors.NONE.code()).setProducerId(id)
                    .setProducerEpoch((short) 0);
        });
    }

    private static CompletableFuture<ApiMessage> error(Errors e) {
        return CompletableFuture.completedFuture(new InitProducerIdResponseData()
                .setErrorCode(e.code())
                .setProducerId(-1L)
                .setProducerEpoch((short) -1));
    }
}
