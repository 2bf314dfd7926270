package dev.runnel.broker.handlers;

import dev.runnel.broker.Broker;
import dev.runnel.broker.groups.GroupsService;
import dev.runnel.broker.network.RequestContext;
import dev.runnel.groupcoord.GroupCoordinator;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.JoinGroupRequestData;
import java.util.concurrent.CompletableFuture;

/**
 * JoinGroup (11), v0-9: joins a classic group. The response may wait for the rebalance (other members rejoining,
 * group.initial.rebalance.delay.ms) and is completed by the group coordinator when the group moves on.
 * The semantics live in {@link GroupCoordinator} (runnel-groupcoord); this adapts it to the network.
 */
public final class JoinGroupHandler implements ApiHandler {
    private final GroupCoordinator groups;

    private JoinGroupHandler(GroupCoordinator groups) {
        this.groups = groups;
    }

    public static JoinGroupHandler create(Broker broker) {
        return new JoinGroupHandler(GroupsService.of(broker).coordinator());
    }

    @Override
    public ApiKeys api() {
        return ApiKeys.JOIN_GROUP;
    }

    @Override
    public short highestVersion() {
        return 9;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        return groups.joinGroup(GroupsService.context(ctx), (JoinGroupRequestData) request).thenApply(r -> r);
    }
}
