package dev.runnel.broker.handlers;

import dev.runnel.broker.Broker;
import dev.runnel.broker.network.RequestContext;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.ApiVersionsRequestData;
import dev.runnel.wire.message.ApiVersionsResponseData;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Pattern;

/**
 * ApiVersions (18): the version range of every API this broker handles, each starting where Kafka's does. From v5
 * a client that knows the cluster id and node id it expects sends both: another cluster or node answers
 * REBOOTSTRAP_REQUIRED with no API list (KIP-1242).
 */
public final class ApiVersionsHandler implements ApiHandler {
    private static final Pattern SOFTWARE = Pattern.compile("[a-zA-Z0-9](?:[a-zA-Z0-9\\-.]*[a-zA-Z0-9])?");

    @Override
    public ApiKeys api() {
        return ApiKeys.API_VERSIONS;
    }

    @Override
    public short highestVersion() {
        return 5;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        ApiVersionsRequestData req = (ApiVersionsRequestData) request;
        ApiVersionsResponseData resp = build(ctx.broker());
        if (ctx.apiVersion() >= 5 && (req.clusterId == null) != (req.nodeId == -1)) {
            // Kafka's ApiVersionsRequest.isValid: ClusterId and NodeId come together or not at all.
            resp.errorCode = Errors.INVALID_REQUEST.code();
        } else if (ctx.apiVersion() >= 3 && (!SOFTWARE.matcher(req.clientSoftwareName).matches()
                || !SOFTWARE.matcher(req.clientSoftwareVersion).matches())) {
            resp.errorCode = Errors.INVALID_REQUEST.code();
        } else if (ctx.apiVersion() >= 5 && req.clusterId != null && isOtherNode(ctx.broker(), req.clusterId, req.nodeId)) {
            // v5 (KIP-1242): the client expected another cluster or node at this address (stale bootstrap or
            // metadata); it must rebootstrap instead of talking to us as if we were that node.
            resp = new ApiVersionsResponseData().setErrorCode(Errors.REBOOTSTRAP_REQUIRED.code());
        }
        return CompletableFuture.completedFuture(resp);
    }

    private static boolean isOtherNode(Broker broker, String clusterId, int nodeId) {
        return !clusterId.equals(broker.clusterId()) || nodeId != broker.nodeId();
    }

    /** The list of supported APIs, also sent (in v0) when a client asks with a version we do not know. */
    public static ApiVersionsResponseData build(Broker broker) {
        ApiVersionsResponseData resp = new ApiVersionsResponseData();
        for (ApiHandler h : broker.handlers().values()) {
            resp.apiKeys.add(new ApiVersionsResponseData.ApiVersion()
                    .setApiKey(h.api().id)
                    .setMinVersion(h.lowestVersion())
                    .setMaxVersion(h.highestVersion()));
        }
        resp.apiKeys.sort((a, b) -> Short.compare(a.apiKey, b.apiKey));
        // transaction.version: Kafka 4.x clients use transactions V2 (KIP-890) when it is finalized at 2
        short txnVersion = dev.runnel.broker.txn.TransactionsV2.level(broker);
        resp.supportedFeatures.add(new ApiVersionsResponseData.SupportedFeatureKey()
                .setName(dev.runnel.broker.txn.TransactionsV2.FEATURE).setMinVersion((short) 0)
                .setMaxVersion(dev.runnel.broker.txn.TransactionsV2.MAX_LEVEL));
        resp.finalizedFeatures.add(new ApiVersionsResponseData.FinalizedFeatureKey()
                .setName(dev.runnel.broker.txn.TransactionsV2.FEATURE).setMinVersionLevel(txnVersion)
                .setMaxVersionLevel(txnVersion));
        resp.finalizedFeaturesEpoch = 1;
        return resp;
    }
}
