package dev.runnel.broker.handlers;

import dev.runnel.broker.Broker;
import dev.runnel.broker.groups.GroupsService;
import dev.runnel.broker.network.RequestContext;
import dev.runnel.groupcoord.GroupCoordinator;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.ListGroupsRequestData;
import java.util.concurrent.CompletableFuture;

/**
 * ListGroups (16), v0-5: every group, filtered by state (v4+) and type (v5+; all Runnel groups are "classic").
 * The semantics live in {@link GroupCoordinator} (runnel-groupcoord); this adapts it to the network.
 */
public final class ListGroupsHandler implements ApiHandler {
    private final GroupCoordinator groups;

    private ListGroupsHandler(GroupCoordinator groups) {
        this.groups = groups;
    }

    public static ListGroupsHandler create(Broker broker) {
        return new ListGroupsHandler(GroupsService.of(broker).coordinator());
    }

    @Override
    public ApiKeys api() {
        return ApiKeys.LIST_GROUPS;
    }

    @Override
    public short highestVersion() {
        return 5;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        return groups.listGroups(GroupsService.context(ctx), (ListGroupsRequestData) request).thenApply(r -> r);
    }
}
