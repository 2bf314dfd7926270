package dev.runnel.broker.handlers;

import dev.runnel.broker.Broker;
import dev.runnel.broker.groups.GroupsService;
import dev.runnel.broker.network.RequestContext;
import dev.runnel.groupcoord.GroupCoordinator;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.DescribeGroupsRequestData;
import java.util.concurrent.CompletableFuture;

/**
 * DescribeGroups (15), v0-5: state, protocol and members (with metadata and assignment) of classic groups.
 * The semantics live in {@link GroupCoordinator} (runnel-groupcoord); this adapts it to the network.
 */
public final class DescribeGroupsHandler implements ApiHandler {
    private final GroupCoordinator groups;

    private DescribeGroupsHandler(GroupCoordinator groups) {
        this.groups = groups;
    }

    public static DescribeGroupsHandler create(Broker broker) {
        return new DescribeGroupsHandler(GroupsService.of(broker).coordinator());
    }

    @Override
    public ApiKeys api() {
        return ApiKeys.DESCRIBE_GROUPS;
    }

    @Override
    public short highestVersion() {
        return 5;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        return groups.describeGroups(GroupsService.context(ctx), (DescribeGroupsRequestData) request).thenApply(r -> r);
    }
}
