package dev.runnel.broker.handlers;

import dev.runnel.broker.Broker;
import dev.runnel.broker.groups.GroupsService;
import dev.runnel.broker.network.RequestContext;
import dev.runnel.groupcoord.GroupCoordinator;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.TxnOffsetCommitRequestData;
import dev.runnel.wire.message.TxnOffsetCommitResponseData;
import java.util.concurrent.CompletableFuture;

/**
 * TxnOffsetCommit (28), v0-4: offsets a transactional producer commits for a consumer group (sendOffsetsToTransaction).
 * The group coordinator holds them until the transaction's marker reaches {@code __consumer_offsets}. Before v3,
 * PRODUCER_FENCED is reported as INVALID_PRODUCER_EPOCH.
 */
public final class TxnOffsetCommitHandler implements ApiHandler {
    private final GroupCoordinator groups;

    private TxnOffsetCommitHandler(GroupCoordinator groups) {
        this.groups = groups;
    }

    public static TxnOffsetCommitHandler create(Broker broker) {
        return new TxnOffsetCommitHandler(GroupsService.of(broker).coordinator());
    }

    @Override
    public ApiKeys api() {
        return ApiKeys.TXN_OFFSET_COMMIT;
    }

    @Override
    public short highestVersion() {
        return 4;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        short version = ctx.apiVersion();
        return groups.commitTransactionalOffsets(GroupsService.context(ctx), (TxnOffsetCommitRequestData) request).thenApply(r -> {
            if (version < 3) {
                for (TxnOffsetCommitResponseData.TxnOffsetCommitResponseTopic t : r.topics) {
                    for (TxnOffsetCommitResponseData.TxnOffsetCommitResponsePartition p : t.partitions) {
                        if (p.errorCode == Errors.PRODUCER_FENCED.code()) {
                            p.errorCode = Errors.INVALID_PRODUCER_EPOCH.code();
                        }
                    }
                }
            }
            return r;
        });
    }
}
