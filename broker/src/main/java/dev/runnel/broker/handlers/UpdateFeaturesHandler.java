package dev.runnel.broker.handlers;

import dev.runnel.broker.Broker;
import dev.runnel.broker.features.FeatureUpdates;
import dev.runnel.broker.network.RequestContext;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.UpdateFeaturesRequestData;
import dev.runnel.wire.message.UpdateFeaturesResponseData;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * UpdateFeatures (57): {@code kafka-features upgrade/downgrade/disable} and {@code Admin.updateFeatures}. The request
 * is judged as Kafka's controller judges it ({@link FeatureUpdates}); Runnel's levels are fixed, and with them
 * Kafka's rules accept only updates that keep a level, so {@code validate_only} (the tool's {@code --dry-run}) and
 * real requests get the same answer and nothing ever changes. As in Kafka: one refused update fails all of them
 * with a top-level INVALID_UPDATE_VERSION ("The update failed for all features since ..."); on success v0-1 list
 * every feature with NONE (v2 answers without the list).
 */
public final class UpdateFeaturesHandler implements ApiHandler {

    @Override
    public ApiKeys api() {
        return ApiKeys.UPDATE_FEATURES;
    }

    @Override
    public short highestVersion() {
        return 2;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        UpdateFeaturesRequestData req = (UpdateFeaturesRequestData) request;
        short version = ctx.apiVersion();
        List<FeatureUpdates.Update> updates = new ArrayList<>(req.featureUpdates.size());
        for (UpdateFeaturesRequestData.FeatureUpdateKey k : req.featureUpdates) {
            // v0 has only allow_downgrade; Kafka reads it as SAFE_DOWNGRADE or UPGRADE.
            byte type = version == 0 ? (k.allowDowngrade ? FeatureUpdates.SAFE_DOWNGRADE : FeatureUpdates.UPGRADE) : k.upgradeType;
            updates.add(new FeatureUpdates.Update(k.feature, k.maxVersionLevel, type));
        }
        String error = FeatureUpdates.firstError(updates, controllerId(ctx.broker()),
                dev.runnel.broker.txn.TransactionsV2.level(ctx.broker()));
        UpdateFeaturesResponseData resp = new UpdateFeaturesResponseData();
        if (error != null) {
            resp.errorCode = Errors.INVALID_UPDATE_VERSION.code();
            resp.errorMessage = "The update failed for all features since the following feature had an error: " + error;
            return CompletableFuture.completedFuture(resp);
        }
        resp.errorCode = Errors.NONE.code();
        resp.errorMessage = null;
        if (version <= 1) {
            for (UpdateFeaturesRequestData.FeatureUpdateKey k : req.featureUpdates) {
                resp.results.add(new UpdateFeaturesResponseData.UpdatableFeatureResult()
                        .setFeature(k.feature).setErrorCode(Errors.NONE.code()).setErrorMessage(null));
            }
        }
        return CompletableFuture.completedFuture(resp);
    }

    private static int controllerId(Broker broker) {
        return broker.cluster() != null ? broker.cluster().controllerIdForClients() : broker.nodeId();
    }
}
