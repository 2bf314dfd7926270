package dev.runnel.broker.handlers;

import dev.runnel.broker.Broker;
import dev.runnel.broker.network.RequestContext;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.DescribeClusterRequestData;
import dev.runnel.wire.message.DescribeClusterResponseData;
import java.util.concurrent.CompletableFuture;

/**
 * DescribeCluster (60), v0-2: this node as the only broker and the controller, with the cluster id. v1 asks for
 * an endpoint type: BROKER (1) is what this listener is; CONTROLLER (2) gets MISMATCHED_ENDPOINT_TYPE and any
 * other value UNSUPPORTED_ENDPOINT_TYPE, with Kafka's messages. There is no authorizer, so when asked the
 * authorized cluster operations are all of them, as Kafka reports without an authorizer. v2 can ask for the
 * fenced brokers too (IncludeFencedBrokers), each with IsFenced.
 */
public final class DescribeClusterHandler implements ApiHandler {
    private static final byte BROKER_ENDPOINT = 1;
    private static final byte CONTROLLER_ENDPOINT = 2;

    /** Every ACL operation on a cluster, as Kafka reports without an authorizer. */
    static final int ALL_CLUSTER_OPERATIONS = AuthorizedOperations.CLUSTER;

    @Override
    public ApiKeys api() {
        return ApiKeys.DESCRIBE_CLUSTER;
    }

    @Override
    public short highestVersion() {
        return 2;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        DescribeClusterRequestData req = (DescribeClusterRequestData) request;
        Broker broker = ctx.broker();
        DescribeClusterResponseData resp = new DescribeClusterResponseData();
        resp.endpointType = BROKER_ENDPOINT;
        byte wanted = ctx.apiVersion() >= 1 ? req.endpointType : BROKER_ENDPOINT;
        if (broker.isControllerEndpoint()) {
            return CompletableFuture.completedFuture(controllers(broker, req, wanted));
        }
        if (wanted == CONTROLLER_ENDPOINT) {
            resp.errorCode = Errors.MISMATCHED_ENDPOINT_TYPE.code();
            resp.errorMessage = "The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER";
            resp.clusterId = "";
            return CompletableFuture.completedFuture(resp);
        }
        if (wanted != BROKER_ENDPOINT) {
            resp.errorCode = Errors.UNSUPPORTED_ENDPOINT_TYPE.code();
            resp.errorMessage = "Unsupported endpoint type " + wanted;
            resp.clusterId = "";
            return CompletableFuture.completedFuture(resp);
        }
        resp.errorCode = Errors.NONE.code();
        resp.errorMessage = null;
        resp.clusterId = broker.clusterId();
        if (broker.cluster() != null) {
            dev.runnel.broker.cluster.ClusterNode cluster = broker.cluster();
            resp.controllerId = cluster.controllerIdForClients();
            // v2 (KIP-1073): IncludeFencedBrokers lists the fenced brokers too, each marked IsFenced.
            boolean withFenced = ctx.apiVersion() >= 2 && req.includeFencedBrokers;
            java.util.Collection<dev.runnel.metadata.image.BrokerRegistration> listed =
                    withFenced ? cluster.image().brokers().values() : cluster.liveBrokers();
            for (dev.runnel.metadata.image.BrokerRegistration b : listed) {
                dev.runnel.metadata.image.BrokerRegistration.Endpoint e = cluster.endpoint(b);
                if (e != null) {
                    resp.brokers.add(new DescribeClusterResponseData.DescribeClusterBroker().setBrokerId(b.id()).setHost(e.host())
                            .setPort(e.port()).setRack(b.rack().isEmpty() ? null : b.rack()).setIsFenced(b.fenced()));
                }
            }
            if (req.includeClusterAuthorizedOperations) {
                resp.clusterAuthorizedOperations = ALL_CLUSTER_OPERATIONS;
            }
            return CompletableFuture.completedFuture(resp);
        }
        resp.controllerId = broker.nodeId();
        resp.brokers.add(new DescribeClusterResponseData.DescribeClusterBroker()
                .setBrokerId(broker.nodeId())
                .setHost(broker.advertisedHost())
                .setPort(broker.advertisedPort())
                .setRack(null));
        if (req.includeClusterAuthorizedOperations) {
            resp.clusterAuthorizedOperations = ALL_CLUSTER_OPERATIONS;
        }
        return CompletableFuture.completedFuture(resp);
    }

    /** On a controller listener: the quorum's voters at their controller endpoints, and the active one. */
    private static DescribeClusterResponseData controllers(Broker broker, DescribeClusterRequestData req, byte wanted) {
        DescribeClusterResponseData resp = new DescribeClusterResponseData();
        resp.endpointType = CONTROLLER_ENDPOINT;
        if (wanted != CONTROLLER_ENDPOINT) {
            resp.errorCode = Errors.MISMATCHED_ENDPOINT_TYPE.code();
            resp.errorMessage = "The request was sent to an endpoint of type CONTROLLER, but we wanted an endpoint of type BROKER";
            resp.clusterId = "";
            return resp;
        }
        dev.runnel.broker.cluster.ClusterNode cluster = broker.cluster();
        resp.errorCode = Errors.NONE.code();
        resp.errorMessage = null;
        resp.clusterId = cluster.image().clusterId() == null ? "" : cluster.image().clusterId();
        resp.controllerId = cluster.controllerId();
        cluster.kraft().voters().forEach((id, addr) -> resp.brokers.add(new DescribeClusterResponseData.DescribeClusterBroker()
                .setBrokerId(id).setHost(addr.getHostString()).setPort(addr.getPort()).setRack(null)));
        if (req.includeClusterAuthorizedOperations) {
            resp.clusterAuthorizedOperations = ALL_CLUSTER_OPERATIONS;
        }
        return resp;
    }
}
