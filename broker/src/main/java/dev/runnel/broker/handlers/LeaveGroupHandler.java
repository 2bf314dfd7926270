package dev.runnel.broker.handlers;

import dev.runnel.broker.Broker;
import dev.runnel.broker.groups.GroupsService;
import dev.runnel.broker.network.RequestContext;
import dev.runnel.groupcoord.GroupCoordinator;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.LeaveGroupRequestData;
import java.util.concurrent.CompletableFuture;

/**
 * LeaveGroup (13), v0-5: one member (v0-2) or a batch of members, also by group.instance.id (v3+).
 * The semantics live in {@link GroupCoordinator} (runnel-groupcoord); this adapts it to the network.
 */
public final class LeaveGroupHandler implements ApiHandler {
    private final GroupCoordinator groups;

    private LeaveGroupHandler(GroupCoordinator groups) {
        this.groups = groups;
    }

    public static LeaveGroupHandler create(Broker broker) {
        return new LeaveGroupHandler(GroupsService.of(broker).coordinator());
    }

    @Override
    public ApiKeys api() {
        return ApiKeys.LEAVE_GROUP;
    }

    @Override
    public short highestVersion() {
        return 5;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        return groups.leaveGroup(GroupsService.context(ctx), (LeaveGroupRequestData) request).thenApply(r -> r);
    }
}
