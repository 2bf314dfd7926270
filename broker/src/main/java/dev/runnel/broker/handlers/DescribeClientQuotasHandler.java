package dev.runnel.broker.handlers;

import dev.runnel.broker.network.RequestContext;
import dev.runnel.broker.quota.ClientQuotas;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.DescribeClientQuotasRequestData;
import java.util.concurrent.CompletableFuture;

/**
 * DescribeClientQuotas (48), v0-1: the client quotas whose entity matches the request's filter
 * ({@code kafka-configs --describe --entity-type users/clients/ips}); see {@link ClientQuotas#describe}.
 */
public final class DescribeClientQuotasHandler implements ApiHandler {
    @Override
    public ApiKeys api() {
        return ApiKeys.DESCRIBE_CLIENT_QUOTAS;
    }

    @Override
    public short highestVersion() {
        return 1;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        return CompletableFuture.completedFuture(ClientQuotas.forBroker(ctx.broker()).describe((DescribeClientQuotasRequestData) request));
    }
}
