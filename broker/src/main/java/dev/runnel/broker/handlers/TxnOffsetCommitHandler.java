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
import dev.runnel.broker.txn.TxnPartitionAdder;
import dev.runnel.groupcoord.OffsetsTopic;
import dev.runnel.groupcoord.txn.TxnPartition;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * TxnOffsetCommit (28), v0-6: offsets a transactional producer commits for a consumer group (sendOffsetsToTransaction).
 * The group coordinator holds them until the transaction's marker reaches {@code __consumer_offsets}. Before v3,
 * PRODUCER_FENCED is reported as INVALID_PRODUCER_EPOCH. v5 (transactions V2) adds the group's offsets partition to
 * the transaction itself. v6 (KIP-1319) names topics by id: ids are resolved first ({@link OffsetTopicIds}); an
 * unknown id gets UNKNOWN_TOPIC_ID for each of its partitions, and a request left with no known topic is answered
 * without touching the transaction or the coordinator, as Kafka does for topics it filters out.
 */
public final class TxnOffsetCommitHandler implements ApiHandler {
    private final GroupCoordinator groups;
    private final GroupsService service;

    private TxnOffsetCommitHandler(GroupsService service) {
        this.service = service;
        this.groups = service.coordinator();
    }

    public static TxnOffsetCommitHandler create(Broker broker) {
        return new TxnOffsetCommitHandler(GroupsService.of(broker));
    }

    @Override
    public ApiKeys api() {
        return ApiKeys.TXN_OFFSET_COMMIT;
    }

    @Override
    public short highestVersion() {
        return 6;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        short version = ctx.apiVersion();
        TxnOffsetCommitRequestData req = (TxnOffsetCommitRequestData) request;
        if (version < OffsetTopicIds.FIRST_TXN_ID_VERSION) {
            return handleByName(ctx, req, version);
        }
        var topics = ctx.broker().topics();
        var unknown = OffsetTopicIds.resolveTxnCommit(topics, req);
        if (req.topics.isEmpty()) {
            TxnOffsetCommitResponseData resp = new TxnOffsetCommitResponseData();
            resp.topics.addAll(unknown);
            return CompletableFuture.completedFuture(resp);
        }
        return handleByName(ctx, req, version).thenApply(r -> {
            OffsetTopicIds.completeTxnCommit(topics, (TxnOffsetCommitResponseData) r, unknown);
            return r;
        });
    }

    private CompletableFuture<ApiMessage> handleByName(RequestContext ctx, TxnOffsetCommitRequestData req, short version) {
        if (version >= 5) {
            // transactions V2 (KIP-890): no AddOffsetsToTxn; the group's offsets partition is added to the transaction here
            if (req.groupId == null || req.groupId.isEmpty() || service.ensureOffsetsTopic() != Errors.NONE) {
                return CompletableFuture.completedFuture(failAll(req, req.groupId == null || req.groupId.isEmpty()
                        ? Errors.INVALID_GROUP_ID : Errors.COORDINATOR_NOT_AVAILABLE));
            }
            TxnPartition offsets = new TxnPartition(OffsetsTopic.NAME, groups.partitionFor(req.groupId));
            return TxnPartitionAdder.of(ctx.broker()).addRetrying(req.transactionalId, req.producerId, req.producerEpoch,
                    List.of(offsets)).thenCompose(e -> e == Errors.NONE ? commit(ctx, req, version)
                    : CompletableFuture.completedFuture(failAll(req, e)));
        }
        return commit(ctx, req, version);
    }

    private static ApiMessage failAll(TxnOffsetCommitRequestData req, Errors error) {
        TxnOffsetCommitResponseData resp = new TxnOffsetCommitResponseData();
        for (TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic t : req.topics) {
            TxnOffsetCommitResponseData.TxnOffsetCommitResponseTopic rt = new TxnOffsetCommitResponseData.TxnOffsetCommitResponseTopic()
                    .setName(t.name);
            for (TxnOffsetCommitRequestData.TxnOffsetCommitRequestPartition p : t.partitions) {
                rt.partitions.add(new TxnOffsetCommitResponseData.TxnOffsetCommitResponsePartition()
                        .setPartitionIndex(p.partitionIndex).setErrorCode(error.code()));
            }
            resp.topics.add(rt);
        }
        return resp;
    }

    private CompletableFuture<ApiMessage> commit(RequestContext ctx, TxnOffsetCommitRequestData req, short version) {
        return groups.commitTransactionalOffsets(GroupsService.context(ctx), req).thenCompose(r -> {
            // With a replicated __consumer_offsets, answer once the in-sync replicas have the offsets (as OffsetCommit).
            dev.runnel.broker.state.Partition p = service.replicatedOffsetsPartitionOf(req.groupId);
            if (p == null || r.topics.stream().noneMatch(t -> t.partitions.stream().anyMatch(x -> x.errorCode == 0))) {
                return CompletableFuture.completedFuture(r);
            }
            return dev.runnel.broker.produce.AcksAllWait.start(p, p.logEndOffset(), 5_000, ctx.broker().timer(),
                    ctx.broker().metrics()).thenApply(e -> {
                        if (e != Errors.NONE) {
                            short code = (e == Errors.REQUEST_TIMED_OUT ? Errors.REQUEST_TIMED_OUT : Errors.NOT_COORDINATOR).code();
                            r.topics.forEach(t -> t.partitions.forEach(x -> {
                                if (x.errorCode == 0) {
                                    x.errorCode = code;
                                }
                            }));
                        }
                        return r;
                    });
        }).thenApply(r -> {
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
