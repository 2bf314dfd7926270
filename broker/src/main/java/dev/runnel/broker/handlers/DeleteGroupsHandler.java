package dev.runnel.broker.handlers;

import dev.runnel.broker.Broker;
import dev.runnel.broker.groups.GroupsService;
import dev.runnel.broker.network.RequestContext;
import dev.runnel.groupcoord.GroupCoordinator;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.DeleteGroupsRequestData;
import java.util.concurrent.CompletableFuture;

/**
 * DeleteGroups (42), v0-3: deletes empty groups and their offsets (NON_EMPTY_GROUP, GROUP_ID_NOT_FOUND otherwise).
 * v3 adds a per-group ErrorMessage, which Kafka 4.4 fills for its streams-topology plugin failures
 * (GROUP_DELETION_FAILED); there is no such plugin here, so it stays null as in Kafka without one.
 * The semantics live in {@link GroupCoordinator} (runnel-groupcoord); this adapts it to the network.
 */
public final class DeleteGroupsHandler implements ApiHandler {
    private final GroupCoordinator groups;

    private DeleteGroupsHandler(GroupCoordinator groups) {
        this.groups = groups;
    }

    public static DeleteGroupsHandler create(Broker broker) {
        return new DeleteGroupsHandler(GroupsService.of(broker).coordinator());
    }

    @Override
    public ApiKeys api() {
        return ApiKeys.DELETE_GROUPS;
    }

    @Override
    public short highestVersion() {
        return 3;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        return groups.deleteGroups(GroupsService.context(ctx), (DeleteGroupsRequestData) request).thenApply(r -> r);
    }
}
