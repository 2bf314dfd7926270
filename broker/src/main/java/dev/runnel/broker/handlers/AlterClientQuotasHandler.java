package dev.runnel.broker.handlers;

import dev.runnel.broker.network.RequestContext;
import dev.runnel.broker.quota.ClientQuotaRules;
import dev.runnel.broker.quota.ClientQuotas;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.message.AlterClientQuotasRequestData;
import dev.runnel.wire.message.ApiKeys;
import java.util.concurrent.CompletableFuture;

/**
 * AlterClientQuotas (49), v0-1: sets and removes client quotas ({@code kafka-configs --alter --entity-type
 * users/clients/ips [--entity-default] --add-config/--delete-config}) under Kafka's rules
 * ({@link ClientQuotaRules}); {@code validate_only} stops after them. In a cluster the change goes through the
 * active controller and is answered once this broker has applied it.
 */
public final class AlterClientQuotasHandler implements ApiHandler {
    @Override
    public ApiKeys api() {
        return ApiKeys.ALTER_CLIENT_QUOTAS;
    }

    @Override
    public short highestVersion() {
        return 1;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        return ClientQuotas.forBroker(ctx.broker()).alter((AlterClientQuotasRequestData) request).thenApply(r -> r);
    }
}
