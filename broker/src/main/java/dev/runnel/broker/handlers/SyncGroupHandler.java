package dev.runnel.broker.handlers;

import dev.runnel.broker.Broker;
import dev.runnel.broker.groups.GroupsService;
import dev.runnel.broker.network.RequestContext;
import dev.runnel.groupcoord.GroupCoordinator;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.SyncGroupRequestData;
import java.util.concurrent.CompletableFuture;

/**
 * SyncGroup (14), v0-5: followers wait here until the leader's assignment is written; the leader's request
 * carries everybody's assignment.
 * The semantics live in {@link GroupCoordinator} (runnel-groupcoord); this adapts it to the network.
 */
public final class SyncGroupHandler implements ApiHandler {
    private final GroupCoordinator groups;

    private SyncGroupHandler(GroupCoordinator groups) {
        this.groups = groups;
    }

    public static SyncGroupHandler create(Broker broker) {
        return new SyncGroupHandler(GroupsService.of(broker).coordinator());
    }

    @Override
    public ApiKeys api() {
        return ApiKeys.SYNC_GROUP;
    }

    @Override
    public short highestVersion() {
        return 5;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        return groups.syncGroup(GroupsService.context(ctx), (SyncGroupRequestData) request).thenApply(r -> r);
    }
}
