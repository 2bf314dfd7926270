package dev.runnel.broker.handlers;

import dev.runnel.broker.network.RequestContext;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.ListClientMetricsResourcesResponseData;
import java.util.concurrent.CompletableFuture;

/**
 * ListClientMetricsResources (74) v0, which Kafka 4.1 renamed ListConfigResources (v1 adds resource types):
 * {@code kafka-client-metrics --list} and {@code kafka-configs --describe --entity-type client-metrics}. Runnel has
 * no client metrics subscriptions (KIP-714; they cannot be created here), so the list is always empty, which is
 * what Kafka answers when none exist.
 */
public final class ListClientMetricsResourcesHandler implements ApiHandler {

    @Override
    public ApiKeys api() {
        return ApiKeys.LIST_CLIENT_METRICS_RESOURCES;
    }

    @Override
    public short highestVersion() {
        return 0;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        ListClientMetricsResourcesResponseData resp = new ListClientMetricsResourcesResponseData();
        resp.errorCode = Errors.NONE.code();
        return CompletableFuture.completedFuture(resp);
    }
}
