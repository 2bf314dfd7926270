package dev.runnel.broker.handlers;

import dev.runnel.broker.Broker;
import dev.runnel.broker.network.RequestContext;
import dev.runnel.broker.state.ProducerIdManager;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.InitProducerIdRequestData;
import dev.runnel.wire.message.InitProducerIdResponseData;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * InitProducerId (22), versions 0-5: a new producer id with epoch 0 for idempotent producers (no
 * transactional id), as Kafka's transaction coordinator answers them: the id is always fresh, also when a
 * v3+ client passes its old id and epoch. (v4 adds PRODUCER_FENCED and v5 TRANSACTION_ABORTABLE to the
 * possible errors; neither can happen without transactions, so all versions behave alike.)
 * <p>
 * <b>Transactional ids.</b> There is no transaction coordinator yet. Kafka's answers for a coordinator
 * that is not ready (COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR) are retriable: a Java producer would
 * re-discover the coordinator and retry until {@code max.block.ms} (60 s) and then throw a TimeoutException
 * that does not say why. Instead a transactional id gets INVALID_REQUEST, which the Java producer's
 * InitProducerIdHandler treats as fatal at once: {@code initTransactions()} throws "Unexpected error in
 * InitProducerIdResponse; ... sent to an incompatible broker. See the broker logs for more details." and
 * the broker log says that transactions are not supported. (An empty transactional id is INVALID_REQUEST
 * in Kafka too.)
 */
public final class InitProducerIdHandler implements ApiHandler {
    private static final Logger LOG = LoggerFactory.getLogger(InitProducerIdHandler.class);

    private final ProducerIdManager producerIds;

    private final dev.runnel.broker.cluster.ClusterProducerIds clusterIds;

    public InitProducerIdHandler(ProducerIdManager producerIds) {
        this(producerIds, null);
    }

    private InitProducerIdHandler(ProducerIdManager producerIds, dev.runnel.broker.cluster.ClusterProducerIds clusterIds) {
        this.producerIds = producerIds;
        this.clusterIds = clusterIds;
    }

    /** The handler with the node's producer id state, kept in the first log directory. */
    public static InitProducerIdHandler create(Broker broker) {
        try {
            return new InitProducerIdHandler(ProducerIdManager.open(broker.config().logDirs().get(0)),
                    broker.cluster() == null ? null : new dev.runnel.broker.cluster.ClusterProducerIds(broker.cluster()));
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot open the producer id state: " + e.getMessage(), e);
        }
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
        if (req.transactionalId != null) {
            LOG.warn("Client {} at {} asked for a transactional producer id (transactional.id={}): transactions are not "
                    + "supported by this broker yet", ctx.clientId(), ctx.clientHost(), req.transactionalId);
            return error(Errors.INVALID_REQUEST);
        }
        // Kafka: an id without an epoch (or the reverse) is malformed
        boolean noId = req.producerId == -1L;
        boolean noEpoch = req.producerEpoch == (short) -1;
        if (noId != noEpoch) {
            return error(Errors.INVALID_REQUEST);
        }
        if (clusterIds != null) {
            return clusterIds.nextId().handle((id, failure) -> {
                if (failure != null) {
                    LOG.error("Cannot allocate a producer id: {}", failure.getMessage());
                    return new InitProducerIdResponseData().setErrorCode(Errors.COORDINATOR_NOT_AVAILABLE.code())
                            .setProducerId(-1L).setProducerEpoch((short) -1);
                }
                return (ApiMessage) new InitProducerIdResponseData().setErrorCode(Errors.NONE.code()).setProducerId(id)
                        .setProducerEpoch((short) 0);
            });
        }
        long id;
        try {
            id = producerIds.nextId();
        } catch (RuntimeException e) {
            LOG.error("Cannot allocate a producer id", e);
            return error(Errors.UNKNOWN_SERVER_ERROR); // as Kafka when its id manager fails
        }
        return CompletableFuture.completedFuture(new InitProducerIdResponseData()
                .setErrorCode(Errors.NONE.code())
                .setProducerId(id)
                .setProducerEpoch((short) 0));
    }

    private static CompletableFuture<ApiMessage> error(Errors e) {
        return CompletableFuture.completedFuture(new InitProducerIdResponseData()
                .setErrorCode(e.code())
                .setProducerId(-1L)
                .setProducerEpoch((short) -1));
    }
}
