package dev.runnel.broker.handlers;

import dev.runnel.broker.Broker;
import dev.runnel.broker.groups.GroupsService;
import dev.runnel.broker.network.RequestContext;
import dev.runnel.groupcoord.GroupCoordinator;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.OffsetFetchRequestData;
import java.util.concurrent.CompletableFuture;

/**
 * OffsetFetch (9), v0-9: committed offsets of some or all partitions (null topics, v2+), of several groups at
 * once (v8+).
 * The semantics live in {@link GroupCoordinator} (runnel-groupcoord); this adapts it to the network.
 */
public final class OffsetFetchHandler implements ApiHandler {
    private final GroupCoordinator groups;

    private OffsetFetchHandler(GroupCoordinator groups) {
        this.groups = groups;
    }

    public static OffsetFetchHandler create(Broker broker) {
        return new OffsetFetchHandler(GroupsService.of(broker).coordinator());
    }

    @Override
    public ApiKeys api() {
        return ApiKeys.OFFSET_FETCH;
    }

    @Override
    public short highestVersion() {
        return 10;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        OffsetFetchRequestData req = (OffsetFetchRequestData) request;
        if (ctx.apiVersion() < OffsetTopicIds.FIRST_ID_VERSION) {
            return groups.fetchOffsets(GroupsService.context(ctx), req).thenApply(r -> r);
        }
        var topics = ctx.broker().topics();
        var unknown = OffsetTopicIds.resolveFetch(topics, req);
        return groups.fetchOffsets(GroupsService.context(ctx), req).thenApply(resp -> {
            OffsetTopicIds.completeFetch(topics, req, resp, unknown);
            return resp;
        });
    }
}
