package dev.runnel.broker.handlers;

import dev.runnel.broker.Broker;
import dev.runnel.broker.groups.GroupsService;
import dev.runnel.broker.network.RequestContext;
import dev.runnel.groupcoord.GroupCoordinator;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.OffsetCommitRequestData;
import dev.runnel.wire.message.OffsetCommitResponseData;
import java.util.concurrent.CompletableFuture;

/**
 * OffsetCommit (8), v0-9: stores offsets in __consumer_offsets. v0 (ZooKeeper in Kafka) is served by the
 * coordinator too, as a commit without generation.
 * The semantics live in {@link GroupCoordinator} (runnel-groupcoord); this adapts it to the network.
 */
public final class OffsetCommitHandler implements ApiHandler {
    private final GroupCoordinator groups;
    private final GroupsService service;

    private OffsetCommitHandler(GroupsService service) {
        this.service = service;
        this.groups = service.coordinator();
    }

    public static OffsetCommitHandler create(Broker broker) {
        return new OffsetCommitHandler(GroupsService.of(broker));
    }

    @Override
    public ApiKeys api() {
        return ApiKeys.OFFSET_COMMIT;
    }

    @Override
    public short highestVersion() {
        return 10;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        OffsetCommitRequestData req = (OffsetCommitRequestData) request;
        CompletableFuture<OffsetCommitResponseData> committed;
        if (ctx.apiVersion() >= OffsetTopicIds.FIRST_ID_VERSION) {
            var topics = ctx.broker().topics();
            var unknown = OffsetTopicIds.resolveCommit(topics, req);
            committed = groups.commitOffsets(GroupsService.context(ctx), req).thenApply(resp -> {
                OffsetTopicIds.completeCommit(topics, resp, unknown);
                return resp;
            });
        } else {
            committed = groups.commitOffsets(GroupsService.context(ctx), req);
        }
        if (ctx.broker().cluster() == null) {
            return committed.thenApply(r -> r);
        }
        // With a replicated __consumer_offsets, answer once the in-sync replicas have the commit (Kafka's
        // offsets.commit.required.acks=-1), so an acknowledged commit survives the coordinator's broker.
        return committed.thenCompose(resp -> {
            dev.runnel.broker.state.Partition p = service.replicatedOffsetsPartitionOf(req.groupId);
            if (p == null || !anySucceeded(resp)) {
                return CompletableFuture.completedFuture((ApiMessage) resp);
            }
            return dev.runnel.broker.produce.AcksAllWait.start(p, p.logEndOffset(), commitTimeoutMs(ctx), ctx.broker().timer(),
                    ctx.broker().metrics()).thenApply(e -> {
                        if (e != dev.runnel.wire.Errors.NONE) {
                            // Kafka: a commit the replicas did not confirm in time is retriable for the client.
                            short code = (e == dev.runnel.wire.Errors.REQUEST_TIMED_OUT ? dev.runnel.wire.Errors.REQUEST_TIMED_OUT
                                    : dev.runnel.wire.Errors.NOT_COORDINATOR).code();
                            resp.topics.forEach(t -> t.partitions.forEach(x -> {
                                if (x.errorCode == 0) {
                                    x.errorCode = code;
                                }
                            }));
                        }
                        return (ApiMessage) resp;
                    });
        });
    }

    private static boolean anySucceeded(OffsetCommitResponseData resp) {
        return resp.topics.stream().anyMatch(t -> t.partitions.stream().anyMatch(p -> p.errorCode == 0));
    }

    private static long commitTimeoutMs(RequestContext ctx) {
        String v = ctx.broker().config().get("offsets.commit.timeout.ms");
        try {
            return v == null ? 5_000 : Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            return 5_000;
        }
    }
}
