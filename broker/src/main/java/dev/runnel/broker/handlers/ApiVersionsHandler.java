package dev.runnel.broker.handlers;

import dev.runnel.broker.Broker;
import dev.runnel.broker.features.BrokerFeatures;
import dev.runnel.broker.network.RequestContext;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.ApiVersionsRequestData;
import dev.runnel.wire.message.ApiVersionsResponseData;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Pattern;

/**
 * ApiVersions (18): the version range of every API this broker handles, each starting where Kafka's does, and
 * (v3+) the feature levels of {@link BrokerFeatures}. From v5 a client that knows the cluster id and node id it
 * expects sends both: another cluster or node answers REBOOTSTRAP_REQUIRED with no API list (KIP-1242).
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
        addFeatures(ctx.broker(), resp, ctx.apiVersion());
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
        resp.finalizedFeaturesEpoch = -1;
        return resp;
    }

    /**
     * SupportedFeatures, FinalizedFeatures and their epoch (v3+), from {@link BrokerFeatures}. As in Kafka, a feature
     * whose lowest supported level is 0 is left out below v4 (older clients fail on it, KAFKA-17492), and a
     * finalized level of 0 is never listed.
     */
    static void addFeatures(Broker broker, ApiVersionsResponseData resp, short version) {
        if (version < 3) {
            return;
        }
        for (BrokerFeatures.Feature f : BrokerFeatures.all(dev.runnel.broker.txn.TransactionsV2.level(broker))) {
            if (version >= 4 || f.minSupported() > 0) {
                resp.supportedFeatures.add(new ApiVersionsResponseData.SupportedFeatureKey()
                        .setName(f.name()).setMinVersion(f.minSupported()).setMaxVersion(f.maxSupported()));
            }
            if (f.finalized() > 0) {
                resp.finalizedFeatures.add(new ApiVersionsResponseData.FinalizedFeatureKey()
                        .setName(f.name()).setMinVersionLevel(f.finalized()).setMaxVersionLevel(f.finalized()));
            }
        }
        resp.finalizedFeaturesEpoch = BrokerFeatures.FINALIZED_EPOCH;
    }
}
