package dev.runnel.broker.handlers;

import dev.runnel.broker.Broker;
import dev.runnel.broker.groups.GroupsService;
import dev.runnel.broker.network.RequestContext;
import dev.runnel.groupcoord.GroupCoordinator;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.HeartbeatRequestData;
import java.util.concurrent.CompletableFuture;

/**
 * Heartbeat (12), v0-4: keeps a member's session alive and tells it when the group rebalances.
 * The semantics live in {@link GroupCoordinator} (runnel-groupcoord); this adapts it to the network.
 */
public final class HeartbeatHandler implements ApiHandler {
    private final GroupCoordinator groups;

    private HeartbeatHandler(GroupCoordinator groups) {
        this.groups = groups;
    }

    public static HeartbeatHandler create(Broker broker) {
        return new HeartbeatHandler(GroupsService.of(broker).coordinator());
    }

    @Override
    public ApiKeys api() {
        return ApiKeys.HEARTBEAT;
    }

    @Override
    public short highestVersion() {
        return 4;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        return groups.heartbeat(GroupsService.context(ctx), (HeartbeatRequestData) request).thenApply(r -> r);
    }
}
