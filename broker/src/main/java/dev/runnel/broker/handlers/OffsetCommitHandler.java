package dev.runnel.broker.handlers;

import dev.runnel.broker.Broker;
import dev.runnel.broker.groups.GroupsService;
import dev.runnel.broker.network.RequestContext;
import dev.runnel.groupcoord.GroupCoordinator;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.OffsetCommitRequestData;
import java.util.concurrent.CompletableFuture;

/**
 * OffsetCommit (8), v0-9: stores offsets in __consumer_offsets. v0 (ZooKeeper in Kafka) is served by the
 * coordinator too, as a commit without generation.
 * The semantics live in {@link GroupCoordinator} (runnel-groupcoord); this adapts it to the network.
 */
public final class OffsetCommitHandler implements ApiHandler {
    private final GroupCoordinator groups;

    private OffsetCommitHandler(GroupCoordinator groups) {
        this.groups = groups;
    }

    public static OffsetCommitHandler create(Broker broker) {
        return new OffsetCommitHandler(GroupsService.of(broker).coordinator());
    }

    @Override
    public ApiKeys api() {
        return ApiKeys.OFFSET_COMMIT;
    }

    @Override
    public short highestVersion() {
        return 9;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        return groups.commitOffsets(GroupsService.context(ctx), (OffsetCommitRequestData) request).thenApply(r -> r);
    }
}
