package dev.runnel.broker.handlers;

import dev.runnel.broker.Broker;
import dev.runnel.broker.groups.GroupsService;
import dev.runnel.broker.network.RequestContext;
import dev.runnel.groupcoord.GroupCoordinator;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.OffsetDeleteRequestData;
import java.util.concurrent.CompletableFuture;

/**
 * OffsetDelete (47), v0: deletes a group's offsets for topics it does not consume (GROUP_SUBSCRIBED_TO_TOPIC
 * otherwise).
 * The semantics live in {@link GroupCoordinator} (runnel-groupcoord); this adapts it to the network.
 */
public final class OffsetDeleteHandler implements ApiHandler {
    private final GroupCoordinator groups;

    private OffsetDeleteHandler(GroupCoordinator groups) {
        this.groups = groups;
    }

    public static OffsetDeleteHandler create(Broker broker) {
        return new OffsetDeleteHandler(GroupsService.of(broker).coordinator());
    }

    @Override
    public ApiKeys api() {
        return ApiKeys.OFFSET_DELETE;
    }

    @Override
    public short highestVersion() {
        return 0;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        return groups.deleteOffsets(GroupsService.context(ctx), (OffsetDeleteRequestData) request).thenApply(r -> r);
    }
}
