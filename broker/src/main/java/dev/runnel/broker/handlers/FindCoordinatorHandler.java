package dev.runnel.broker.handlers;

import dev.runnel.broker.Broker;
import dev.runnel.broker.groups.GroupsService;
import dev.runnel.broker.network.RequestContext;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.FindCoordinatorRequestData;
import dev.runnel.wire.message.FindCoordinatorResponseData;
import java.util.concurrent.CompletableFuture;

/**
 * FindCoordinator (10), v0-6. A single node coordinates every group: the answer is this node, once
 * {@code __consumer_offsets} exists (it is created on the first lookup, as Kafka does). v4+ asks for several keys at
 * once. Transactional ids (key type 1) are answered the same way over {@code __transaction_state}; share-group keys get
 * INVALID_REQUEST before v6 and COORDINATOR_NOT_AVAILABLE after, as in Kafka 3.9.
 */
public final class FindCoordinatorHandler implements ApiHandler {
    static final byte GROUP = 0;
    static final byte TRANSACTION = 1;
    static final byte SHARE = 2;

    private final GroupsService groups;
    private final dev.runnel.broker.txn.TransactionsService transactions;

    private FindCoordinatorHandler(GroupsService groups, dev.runnel.broker.txn.TransactionsService transactions) {
        this.groups = groups;
        this.transactions = transactions;
    }

    public static FindCoordinatorHandler create(Broker broker) {
        return new FindCoordinatorHandler(GroupsService.of(broker), dev.runnel.broker.txn.TransactionsService.of(broker));
    }

    @Override
    public ApiKeys api() {
        return ApiKeys.FIND_COORDINATOR;
    }

    @Override
    public short highestVersion() {
        return 6;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        FindCoordinatorRequestData req = (FindCoordinatorRequestData) request;
        short version = ctx.apiVersion();
        Broker broker = ctx.broker();
        FindCoordinatorResponseData resp = new FindCoordinatorResponseData();
        if (broker.cluster() != null) {
            return CompletableFuture.completedFuture(inCluster(broker, req, version));
        }
        if (version >= 4) {
            for (String key : req.coordinatorKeys) {
                Errors error = lookup(req.keyType, key, version);
                FindCoordinatorResponseData.Coordinator c = new FindCoordinatorResponseData.Coordinator().setKey(key)
                        .setErrorCode(error.code());
                if (error == Errors.NONE) {
                    c.setNodeId(broker.nodeId()).setHost(broker.advertisedHost()).setPort(broker.advertisedPort()).setErrorMessage(null);
                } else {
                    c.setNodeId(-1).setHost("").setPort(-1).setErrorMessage(message(error));
                }
                resp.coordinators.add(c);
            }
            return CompletableFuture.completedFuture(resp);
        }
        Errors error = lookup(req.keyType, req.key, version);
        resp.setErrorCode(error.code());
        if (error == Errors.NONE) {
            resp.setNodeId(broker.nodeId()).setHost(broker.advertisedHost()).setPort(broker.advertisedPort()).setErrorMessage(null);
        } else {
            resp.setNodeId(-1).setHost("").setPort(-1).setErrorMessage(message(error));
        }
        return CompletableFuture.completedFuture(resp);
    }

    /**
     * The node that leads the key's {@code __consumer_offsets} partition (a group) or {@code __transaction_state}
     * partition (a transactional id), which is where its coordinator runs.
     */
    private FindCoordinatorResponseData inCluster(Broker broker, FindCoordinatorRequestData req, short version) {
        FindCoordinatorResponseData resp = new FindCoordinatorResponseData();
        java.util.List<String> keys = version >= 4 ? req.coordinatorKeys : java.util.List.of(req.key);
        for (String key : keys) {
            Errors error = lookup(req.keyType, key, version);
            dev.runnel.metadata.image.BrokerRegistration.Endpoint endpoint = null;
            int nodeId = -1;
            if (error == Errors.NONE) {
                dev.runnel.metadata.image.MetadataImage img = broker.cluster().image();
                boolean txn = req.keyType == TRANSACTION;
                dev.runnel.metadata.image.TopicImage t = img.topic(txn ? dev.runnel.groupcoord.txn.TransactionStateTopic.NAME
                        : dev.runnel.groupcoord.OffsetsTopic.NAME);
                int index = txn ? transactions.coordinator().partitionFor(key)
                        : t == null ? 0 : dev.runnel.groupcoord.OffsetsTopic.partitionFor(key, t.partitionCount());
                dev.runnel.metadata.image.PartitionRegistration p = t == null ? null : t.partition(index);
                dev.runnel.metadata.image.BrokerRegistration b = p == null || !p.hasLeader() ? null : img.broker(p.leader());
                endpoint = b == null || b.fenced() ? null : broker.cluster().endpoint(b);
                if (endpoint == null) {
                    error = Errors.COORDINATOR_NOT_AVAILABLE;
                } else {
                    nodeId = b.id();
                }
            }
            if (version >= 4) {
                FindCoordinatorResponseData.Coordinator c = new FindCoordinatorResponseData.Coordinator().setKey(key).setErrorCode(error.code());
                if (error == Errors.NONE) {
                    c.setNodeId(nodeId).setHost(endpoint.host()).setPort(endpoint.port()).setErrorMessage(null);
                } else {
                    c.setNodeId(-1).setHost("").setPort(-1).setErrorMessage(message(error));
                }
                resp.coordinators.add(c);
            } else {
                resp.setErrorCode(error.code());
                if (error == Errors.NONE) {
                    resp.setNodeId(nodeId).setHost(endpoint.host()).setPort(endpoint.port()).setErrorMessage(null);
                } else {
                    resp.setNodeId(-1).setHost("").setPort(-1).setErrorMessage(message(error));
                }
            }
        }
        return resp;
    }

    private Errors lookup(byte keyType, String key, short version) {
        return switch (keyType) {
            case GROUP -> groups.ensureOffsetsTopic() == Errors.NONE ? Errors.NONE : Errors.COORDINATOR_NOT_AVAILABLE;
            case TRANSACTION -> key == null || key.isEmpty() ? Errors.INVALID_REQUEST
                    : transactions.ensureTopic() == Errors.NONE ? Errors.NONE : Errors.COORDINATOR_NOT_AVAILABLE;
            case SHARE -> version < 6 ? Errors.INVALID_REQUEST : Errors.COORDINATOR_NOT_AVAILABLE;
            default -> Errors.INVALID_REQUEST;
        };
    }

    private static String message(Errors error) {
        return switch (error) {
            case COORDINATOR_NOT_AVAILABLE -> "The coordinator is not available.";
            case INVALID_REQUEST -> "Unknown or unsupported coordinator key type.";
            default -> error.name();
        };
    }
}
