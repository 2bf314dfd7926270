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
 * DescribeGroups (15), v0-6: state, protocol and members (with metadata and assignment) of classic groups; from
 * v6 a group that does not exist is GROUP_ID_NOT_FOUND with a message (KIP-1043), before that a Dead group.
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
        return 6;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        boolean notFoundError = ctx.apiVersion() >= 6;
        return groups.describeGroups(GroupsService.context(ctx), (DescribeGroupsRequestData) request).thenApply(r -> {
            if (notFoundError) {
                // v6 (KIP-1043): a group that does not exist is GROUP_ID_NOT_FOUND, not an error-free Dead group.
                for (var g : r.groups) {
                    if (g.errorCode == 0 && "Dead".equals(g.groupState) && g.members.isEmpty()) {
                        g.setErrorCode(dev.runnel.wire.Errors.GROUP_ID_NOT_FOUND.code())
                                .setErrorMessage("Group " + g.groupId + " not found.");
                    }
                }
            }
            return r;
        });
    }
}
