package dev.runnel.groupcoord;

import dev.runnel.wire.Errors;
import dev.runnel.wire.message.DeleteGroupsRequestData;
import dev.runnel.wire.message.DeleteGroupsResponseData;
import dev.runnel.wire.message.DeleteGroupsResponseData.DeletableGroupResult;
import dev.runnel.wire.message.DescribeGroupsRequestData;
import dev.runnel.wire.message.DescribeGroupsResponseData;
import dev.runnel.wire.message.DescribeGroupsResponseData.DescribedGroup;
import dev.runnel.wire.message.HeartbeatRequestData;
import dev.runnel.wire.message.HeartbeatResponseData;
import dev.runnel.wire.message.JoinGroupRequestData;
import dev.runnel.wire.message.JoinGroupResponseData;
import dev.runnel.wire.message.LeaveGroupRequestData;
import dev.runnel.wire.message.LeaveGroupRequestData.MemberIdentity;
import dev.runnel.wire.message.LeaveGroupResponseData;
import dev.runnel.wire.message.LeaveGroupResponseData.MemberResponse;
import dev.runnel.wire.message.ListGroupsRequestData;
import dev.runnel.wire.message.ListGroupsResponseData;
import dev.runnel.wire.message.ListGroupsResponseData.ListedGroup;
import dev.runnel.wire.message.OffsetCommitRequestData;
import dev.runnel.wire.message.OffsetCommitResponseData;
import dev.runnel.wire.message.OffsetDeleteRequestData;
import dev.runnel.wire.message.OffsetDeleteResponseData;
import dev.runnel.wire.message.OffsetFetchRequestData;
import dev.runnel.wire.message.OffsetFetchRequestData.OffsetFetchRequestGroup;
import dev.runnel.wire.message.OffsetFetchRequestData.OffsetFetchRequestTopics;
import dev.runnel.wire.message.OffsetFetchResponseData;
import dev.runnel.wire.message.OffsetFetchResponseData.OffsetFetchResponseGroup;
import dev.runnel.wire.message.OffsetFetchResponseData.OffsetFetchResponsePartition;
import dev.runnel.wire.message.OffsetFetchResponseData.OffsetFetchResponsePartitions;
import dev.runnel.wire.message.OffsetFetchResponseData.OffsetFetchResponseTopic;
import dev.runnel.wire.message.OffsetFetchResponseData.OffsetFetchResponseTopics;
import dev.runnel.wire.message.SyncGroupRequestData;
import dev.runnel.wire.message.SyncGroupResponseData;
import dev.runnel.wire.message.TxnOffsetCommitRequestData;
import dev.runnel.wire.message.TxnOffsetCommitResponseData;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The group coordinator of a broker: one {@link GroupCoordinatorShard} per {@code __consumer_offsets} partition,
 * and the API layer in front of them (request validation and the differences between API versions).
 *
 * <p>Each shard runs one operation at a time. An operation's records are appended to the shard's partition through
 * {@link CoordinatorLog} and replayed into the shard before its response is released, so a response never reports
 * something that is not durable. Timeouts come from the injected {@link Scheduler} and run as operations too; a
 * timeout of 0 ms runs right after the operation that set it. Nothing here starts a thread or reads a clock.
 */
public final class GroupCoordinator {
    private static final Logger log = LoggerFactory.getLogger(GroupCoordinator.class);
    /** READ, DELETE, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS: what a group allows when there is no authorizer. */
    static final int GROUP_AUTHORIZED_OPERATIONS = (1 << 3) | (1 << 6) | (1 << 8) | (1 << 10) | (1 << 11);

    /** Where a partition's shard is. */
    public enum ShardStatus {
        /** Not owned here: requests get NOT_COORDINATOR. */
        NOT_LOADED,
        /** Replaying the partition: requests get COORDINATOR_LOAD_IN_PROGRESS. */
        LOADING,
        ACTIVE,
        /** Loading or an append failed: requests get NOT_COORDINATOR until it is loaded again. */
        FAILED
    }

    /** Tells the coordinator which partitions exist, so offsets of unknown partitions are refused. */
    @FunctionalInterface
    public interface PartitionLookup {
        boolean partitionExists(String topic, int partition);
    }

    private final GroupCoordinatorConfig config;
    private final Time time;
    private final Scheduler scheduler;
    private final CoordinatorLog coordinatorLog;
    private final Supplier<String> uniqueIds;
    private final PartitionLookup partitions;
    private final ShardHolder[] shards;

    public GroupCoordinator(GroupCoordinatorConfig config, Time time, Scheduler scheduler, CoordinatorLog coordinatorLog,
                            PartitionLookup partitions) {
        this(config, time, scheduler, coordinatorLog, partitions, () -> UUID.randomUUID().toString());
    }

    /** @param uniqueIds the suffixes of new member ids (Kafka uses random UUIDs; tests use a counter) */
    public GroupCoordinator(GroupCoordinatorConfig config, Time time, Scheduler scheduler, CoordinatorLog coordinatorLog,
                            PartitionLookup partitions, Supplier<String> uniqueIds) {
        this.config = config;
        this.time = time;
        this.scheduler = scheduler;
        this.coordinatorLog = coordinatorLog;
        this.partitions = partitions;
        this.uniqueIds = uniqueIds;
        this.shards = new ShardHolder[config.offsetsTopicPartitions()];
        for (int i = 0; i < shards.length; i++) {
            shards[i] = new ShardHolder(i);
        }
    }

    public GroupCoordinatorConfig config() {
        return config;
    }

    public int numPartitions() {
        return shards.length;
    }

    /** The __consumer_offsets partition that owns the group. */
    public int partitionFor(String groupId) {
        return OffsetsTopic.partitionFor(groupId, shards.length);
    }

    public ShardStatus status(int partition) {
        return shards[partition].status;
    }

    // =================================================================== loading

    /**
     * Takes ownership of a partition: replays its records (the last value per key wins, tombstones delete) and then
     * serves requests for its groups. Requests that arrive meanwhile get COORDINATOR_LOAD_IN_PROGRESS.
     */
    public void load(int partition) {
        ShardHolder holder = shards[partition];
        holder.status = ShardStatus.LOADING;
        synchronized (holder) {
            unloadLocked(holder);
            holder.status = ShardStatus.LOADING;
            ShardTimer timer = new ShardTimer(holder);
            GroupCoordinatorShard shard = new GroupCoordinatorShard(partition, config, time, timer, uniqueIds);
            int[] counts = new int[2];
            try {
                coordinatorLog.read(partition, new CoordinatorLog.RecordVisitor() {
                    @Override
                    public void accept(long offset, long producerId, ByteBuffer key, ByteBuffer value) {
                        counts[0]++;
                        replayOne(shard, partition, offset, producerId, key, value, counts);
                    }

                    @Override
                    public void marker(long offset, long producerId, boolean commit) {
                        shard.completeTransaction(producerId, commit);
                    }
                });
            } catch (RuntimeException e) {
                log.error("Loading {}-{} failed: {}", OffsetsTopic.NAME, partition, e.toString(), e);
                timer.cancelAll();
                holder.status = ShardStatus.FAILED;
                return;
            }
            holder.shard = shard;
            holder.timer = timer;
            holder.status = ShardStatus.ACTIVE;
            shard.onLoaded();
            drainImmediate(holder);
            if (counts[0] > 0) {
                log.info("Loaded {}-{}: {} records ({} skipped), {} groups", OffsetsTopic.NAME, partition, counts[0],
                        counts[1], shard.groupIds().size());
            }
        }
    }

    private static void replayOne(GroupCoordinatorShard shard, int partition, long offset, long producerId, ByteBuffer key,
                                  ByteBuffer value, int[] counts) {
        CoordinatorRecord record;
        try {
            record = CoordinatorRecord.deserialize(key, value);
        } catch (CoordinatorRecord.UnknownRecordTypeException e) {
            counts[1]++;
            log.debug("Skipping {}-{} offset {}: {}", OffsetsTopic.NAME, partition, offset, e.getMessage());
            return;
        } catch (IllegalArgumentException e) {
            counts[1]++;
            log.warn("Skipping undecodable record at {}-{} offset {}: {}", OffsetsTopic.NAME, partition, offset, e.getMessage());
            return;
        }
        if (producerId >= 0) {
            // A transactional offset commit: it counts once the producer's COMMIT marker follows.
            shard.replayTransactional(offset, producerId, record);
            return;
        }
        shard.replay(offset, record);
    }

    /** Loads every partition (a single node owns them all). */
    public void loadAll() {
        for (int p = 0; p < shards.length; p++) {
            load(p);
        }
    }

    /** Gives a partition up: its groups become Dead and parked requests get NOT_COORDINATOR. */
    public void unload(int partition) {
        ShardHolder holder = shards[partition];
        synchronized (holder) {
            unloadLocked(holder);
        }
    }

    private void unloadLocked(ShardHolder holder) {
        if (holder.shard != null) {
            holder.timer.cancelAll();
            holder.shard.onUnloaded();
            holder.shard = null;
            holder.timer = null;
        }
        holder.status = ShardStatus.NOT_LOADED;
    }

    // =================================================================== JoinGroup (11)

    public CompletableFuture<JoinGroupResponseData> joinGroup(RequestContext ctx, JoinGroupRequestData request) {
        short version = ctx.apiVersion();
        if (version == 0) {
            // v0 has no rebalance timeout: the session timeout plays both parts.
            request.rebalanceTimeoutMs = request.sessionTimeoutMs;
        }
        CompletableFuture<JoinGroupResponseData> future = new CompletableFuture<>();
        if (request.groupId == null || request.groupId.isEmpty()) {
            future.complete(GroupCoordinatorShard.joinError(request.memberId, Errors.INVALID_GROUP_ID));
        } else if (request.sessionTimeoutMs < config.minSessionTimeoutMs() || request.sessionTimeoutMs > config.maxSessionTimeoutMs()) {
            future.complete(GroupCoordinatorShard.joinError(request.memberId, Errors.INVALID_SESSION_TIMEOUT));
        } else {
            Errors error = write(partitionFor(request.groupId), shard -> shard.joinGroup(ctx, request, future), r -> {
            });
            if (error != Errors.NONE) {
                future.complete(GroupCoordinatorShard.joinError("", error));
            }
        }
        return future.thenApply(r -> formatJoin(r, version));
    }

    private static JoinGroupResponseData formatJoin(JoinGroupResponseData r, short version) {
        // Before v7 the protocol name is not nullable: "" stands for none; from v7 on, none is null.
        if (version < 7 && r.protocolName == null) {
            r.protocolName = "";
        } else if (version >= 7 && r.protocolName != null && r.protocolName.isEmpty()) {
            r.protocolName = null;
        }
        if (r.leader == null) {
            r.leader = "";
        }
        if (r.memberId == null) {
            r.memberId = "";
        }
        return r;
    }

    // =================================================================== SyncGroup (14)

    public CompletableFuture<SyncGroupResponseData> syncGroup(RequestContext ctx, SyncGroupRequestData request) {
        CompletableFuture<SyncGroupResponseData> future = new CompletableFuture<>();
        if (ctx.apiVersion() >= 5 && (request.protocolType == null || request.protocolName == null)) {
            future.complete(GroupCoordinatorShard.syncError(Errors.INCONSISTENT_GROUP_PROTOCOL));
        } else if (request.groupId == null || request.groupId.isEmpty()) {
            future.complete(GroupCoordinatorShard.syncError(Errors.INVALID_GROUP_ID));
        } else {
            Errors error = write(partitionFor(request.groupId), shard -> shard.syncGroup(ctx, request, future), r -> {
            });
            if (error != Errors.NONE) {
                future.complete(GroupCoordinatorShard.syncError(error));
            }
        }
        return future.thenApply(r -> {
            if (r.assignment == null) {
                r.assignment = new byte[0];
            }
            return r;
        });
    }

    // =================================================================== Heartbeat (12)

    public CompletableFuture<HeartbeatResponseData> heartbeat(RequestContext ctx, HeartbeatRequestData request) {
        CompletableFuture<HeartbeatResponseData> future = new CompletableFuture<>();
        if (request.groupId == null || request.groupId.isEmpty()) {
            future.complete(new HeartbeatResponseData().setErrorCode(Errors.INVALID_GROUP_ID.code()));
            return future;
        }
        Errors error = write(partitionFor(request.groupId), shard -> shard.heartbeat(ctx, request), future::complete);
        if (error == Errors.COORDINATOR_LOAD_IN_PROGRESS) {
            // The group is still loading: answer as Kafka does, so the member keeps its session and retries later.
            future.complete(new HeartbeatResponseData());
        } else if (error != Errors.NONE) {
            future.complete(new HeartbeatResponseData().setErrorCode(error.code()));
        }
        return future;
    }

    // =================================================================== LeaveGroup (13)

    public CompletableFuture<LeaveGroupResponseData> leaveGroup(RequestContext ctx, LeaveGroupRequestData request) {
        short version = ctx.apiVersion();
        List<MemberIdentity> members = version >= 3 ? request.members
                : List.of(new MemberIdentity().setMemberId(request.memberId));
        CompletableFuture<LeaveGroupResponseData> future = new CompletableFuture<>();
        if (request.groupId == null || request.groupId.isEmpty()) {
            future.complete(new LeaveGroupResponseData().setErrorCode(Errors.INVALID_GROUP_ID.code()));
        } else {
            Errors error = write(partitionFor(request.groupId), shard -> shard.leaveGroup(ctx, request.groupId, members),
                    future::complete);
            if (error == Errors.UNKNOWN_MEMBER_ID) {
                // The group does not exist: every member is unknown.
                List<MemberResponse> responses = new ArrayList<>();
                for (MemberIdentity m : members) {
                    responses.add(new MemberResponse().setMemberId(m.memberId).setGroupInstanceId(m.groupInstanceId)
                            .setErrorCode(Errors.UNKNOWN_MEMBER_ID.code()));
                }
                future.complete(new LeaveGroupResponseData().setMembers(responses));
            } else if (error != Errors.NONE) {
                future.complete(new LeaveGroupResponseData().setErrorCode(error.code()));
            }
        }
        return future.thenApply(r -> formatLeave(r, version));
    }

    private static LeaveGroupResponseData formatLeave(LeaveGroupResponseData r, short version) {
        if (version >= 3) {
            return r;
        }
        // Before v3 a LeaveGroup names one member and its error is the top-level error.
        if (r.errorCode != Errors.NONE.code() || r.members.isEmpty()) {
            return new LeaveGroupResponseData().setErrorCode(r.errorCode);
        }
        return new LeaveGroupResponseData().setErrorCode(r.members.get(0).errorCode);
    }

    // =================================================================== OffsetCommit (8)

    public CompletableFuture<OffsetCommitResponseData> commitOffsets(RequestContext ctx, OffsetCommitRequestData request) {
        CompletableFuture<OffsetCommitResponseData> future = new CompletableFuture<>();
        if (request.groupId == null) {
            future.complete(commitError(request, Errors.INVALID_GROUP_ID));
            return future;
        }
        // Partitions that do not exist are refused here; the rest go to the coordinator.
        Map<String, Map<Integer, Short>> errors = new HashMap<>();
        OffsetCommitRequestData valid = new OffsetCommitRequestData()
                .setGroupId(request.groupId)
                .setGenerationIdOrMemberEpoch(request.generationIdOrMemberEpoch)
                .setMemberId(request.memberId == null ? "" : request.memberId)
                .setGroupInstanceId(request.groupInstanceId)
                .setRetentionTimeMs(request.retentionTimeMs);
        for (OffsetCommitRequestData.OffsetCommitRequestTopic topic : request.topics) {
            OffsetCommitRequestData.OffsetCommitRequestTopic kept = new OffsetCommitRequestData.OffsetCommitRequestTopic()
                    .setName(topic.name);
            for (OffsetCommitRequestData.OffsetCommitRequestPartition p : topic.partitions) {
                if (partitions.partitionExists(topic.name, p.partitionIndex)) {
                    kept.partitions.add(p);
                } else {
                    errors.computeIfAbsent(topic.name, t -> new HashMap<>())
                            .put(p.partitionIndex, Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
                }
            }
            if (!kept.partitions.isEmpty()) {
                valid.topics.add(kept);
            }
        }
        if (valid.topics.isEmpty()) {
            future.complete(mergeCommit(request, errors, null));
            return future;
        }
        Errors error = write(partitionFor(request.groupId), shard -> shard.commitOffsets(ctx, valid),
                r -> future.complete(mergeCommit(request, errors, r)));
        if (error != Errors.NONE) {
            future.complete(mergeCommit(request, errors, commitError(valid, error)));
        }
        return future;
    }

    private static OffsetCommitResponseData commitError(OffsetCommitRequestData request, Errors error) {
        OffsetCommitResponseData response = new OffsetCommitResponseData();
        for (OffsetCommitRequestData.OffsetCommitRequestTopic t : request.topics) {
            OffsetCommitResponseData.OffsetCommitResponseTopic tr = new OffsetCommitResponseData.OffsetCommitResponseTopic().setName(t.name);
            for (OffsetCommitRequestData.OffsetCommitRequestPartition p : t.partitions) {
                tr.partitions.add(new OffsetCommitResponseData.OffsetCommitResponsePartition()
                        .setPartitionIndex(p.partitionIndex).setErrorCode(error.code()));
            }
            response.topics.add(tr);
        }
        return response;
    }

    /** Answers every partition of the request, in request order, from the refusals and the coordinator's response. */
    private static OffsetCommitResponseData mergeCommit(OffsetCommitRequestData request, Map<String, Map<Integer, Short>> refused,
                                                        OffsetCommitResponseData coordinatorResponse) {
        Map<String, Map<Integer, Short>> codes = new HashMap<>(refused);
        if (coordinatorResponse != null) {
            for (var t : coordinatorResponse.topics) {
                for (var p : t.partitions) {
                    codes.computeIfAbsent(t.name, n -> new HashMap<>()).put(p.partitionIndex, p.errorCode);
                }
            }
        }
        OffsetCommitResponseData response = new OffsetCommitResponseData();
        Map<String, OffsetCommitResponseData.OffsetCommitResponseTopic> byName = new LinkedHashMap<>();
        for (var t : request.topics) {
            var tr = byName.computeIfAbsent(t.name, n -> {
                var x = new OffsetCommitResponseData.OffsetCommitResponseTopic().setName(n);
                response.topics.add(x);
                return x;
            });
            for (var p : t.partitions) {
                short code = codes.getOrDefault(t.name, Map.of()).getOrDefault(p.partitionIndex, Errors.UNKNOWN_SERVER_ERROR.code());
                tr.partitions.add(new OffsetCommitResponseData.OffsetCommitResponsePartition()
                        .setPartitionIndex(p.partitionIndex).setErrorCode(code));
            }
        }
        return response;
    }

    // =================================================================== TxnOffsetCommit (28)

    /**
     * Offsets sent by a transactional producer (sendOffsetsToTransaction): written as one transactional batch of the
     * producer to the group's partition, visible to OffsetFetch only once the producer's COMMIT marker is written
     * there ({@link #completeTransaction}), dropped on ABORT.
     */
    public CompletableFuture<TxnOffsetCommitResponseData> commitTransactionalOffsets(RequestContext ctx,
                                                                                     TxnOffsetCommitRequestData request) {
        if (request.groupId == null || request.groupId.isEmpty()) {
            return CompletableFuture.completedFuture(txnCommitError(request, Errors.INVALID_GROUP_ID, null));
        }
        Map<String, Map<Integer, Errors>> refused = new HashMap<>();
        TxnOffsetCommitRequestData valid = new TxnOffsetCommitRequestData().setTransactionalId(request.transactionalId)
                .setGroupId(request.groupId).setProducerId(request.producerId).setProducerEpoch(request.producerEpoch)
                .setGenerationIdOrMemberEpoch(request.generationIdOrMemberEpoch).setMemberId(request.memberId).setGroupInstanceId(request.groupInstanceId);
        for (TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic t : request.topics) {
            TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic kept =
                    new TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic().setName(t.name);
            for (TxnOffsetCommitRequestData.TxnOffsetCommitRequestPartition p : t.partitions) {
                if (partitions.partitionExists(t.name, p.partitionIndex)) {
                    kept.partitions.add(p);
                } else {
                    refused.computeIfAbsent(t.name, n -> new HashMap<>()).put(p.partitionIndex, Errors.UNKNOWN_TOPIC_OR_PARTITION);
                }
            }
            if (!kept.partitions.isEmpty()) {
                valid.topics.add(kept);
            }
        }
        int partition = partitionFor(request.groupId);
        ShardHolder holder = shards[partition];
        TxnOffsetCommitResponseData response;
        synchronized (holder) {
            Errors status = statusError(holder.status);
            if (status != Errors.NONE) {
                return CompletableFuture.completedFuture(txnCommitError(request, status, refused));
            }
            CoordinatorResult<TxnOffsetCommitResponseData> result;
            try {
                result = holder.shard.commitTransactionalOffsets(valid);
            } catch (CoordinatorException e) {
                return CompletableFuture.completedFuture(txnCommitError(request, e.error(), refused));
            }
            if (!result.records().isEmpty()) {
                long offset;
                try {
                    offset = coordinatorLog.appendTransactional(partition, time.milliseconds(), request.producerId,
                            request.producerEpoch, result.records());
                } catch (CoordinatorLog.CoordinatorLogException e) {
                    log.warn("Appending transactional offsets of producer {} to {}-{} failed ({})", request.producerId,
                            OffsetsTopic.NAME, partition, e.getMessage());
                    Errors error = e.error() == Errors.INVALID_PRODUCER_EPOCH ? Errors.PRODUCER_FENCED
                            : appendErrorToResponseError(e.error());
                    reloadAfterFailedAppend(holder);
                    return CompletableFuture.completedFuture(txnCommitError(request, error, refused));
                }
                for (CoordinatorRecord r : result.records()) {
                    holder.shard.replayTransactional(offset++, request.producerId, r);
                }
            }
            response = result.response();
        }
        refused.forEach((topic, byPartition) -> {
            TxnOffsetCommitResponseData.TxnOffsetCommitResponseTopic tr = response.topics.stream()
                    .filter(x -> x.name.equals(topic)).findFirst().orElse(null);
            if (tr == null) {
                tr = new TxnOffsetCommitResponseData.TxnOffsetCommitResponseTopic().setName(topic);
                response.topics.add(tr);
            }
            for (Map.Entry<Integer, Errors> e : byPartition.entrySet()) {
                tr.partitions.add(new TxnOffsetCommitResponseData.TxnOffsetCommitResponsePartition()
                        .setPartitionIndex(e.getKey()).setErrorCode(e.getValue().code()));
            }
        });
        return CompletableFuture.completedFuture(response);
    }

    private static TxnOffsetCommitResponseData txnCommitError(TxnOffsetCommitRequestData request, Errors error,
                                                              Map<String, Map<Integer, Errors>> refused) {
        TxnOffsetCommitResponseData response = new TxnOffsetCommitResponseData();
        for (TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic t : request.topics) {
            TxnOffsetCommitResponseData.TxnOffsetCommitResponseTopic tr =
                    new TxnOffsetCommitResponseData.TxnOffsetCommitResponseTopic().setName(t.name);
            for (TxnOffsetCommitRequestData.TxnOffsetCommitRequestPartition p : t.partitions) {
                Errors e = refused == null ? error : refused.getOrDefault(t.name, Map.of()).getOrDefault(p.partitionIndex, error);
                tr.partitions.add(new TxnOffsetCommitResponseData.TxnOffsetCommitResponsePartition()
                        .setPartitionIndex(p.partitionIndex).setErrorCode(e.code()));
            }
            response.topics.add(tr);
        }
        return response;
    }

    /**
     * The producer's COMMIT or ABORT marker was written to {@code __consumer_offsets} partition {@code partition}: its
     * transactional offsets there are committed or dropped. (On load the marker itself is replayed.)
     */
    public void completeTransaction(int partition, long producerId, boolean commit) {
        ShardHolder holder = shards[partition];
        synchronized (holder) {
            if (holder.status == ShardStatus.ACTIVE && holder.shard != null) {
                holder.shard.completeTransaction(producerId, commit);
            }
        }
    }

    // =================================================================== OffsetFetch (9)

    public CompletableFuture<OffsetFetchResponseData> fetchOffsets(RequestContext ctx, OffsetFetchRequestData request) {
        short version = ctx.apiVersion();
        List<OffsetFetchRequestGroup> groups;
        if (version >= 8) {
            groups = request.groups;
        } else {
            OffsetFetchRequestGroup g = new OffsetFetchRequestGroup().setGroupId(request.groupId);
            if (request.topics == null) {
                g.topics = null;
            } else {
                for (var t : request.topics) {
                    g.topics.add(new OffsetFetchRequestTopics().setName(t.name).setPartitionIndexes(t.partitionIndexes));
                }
            }
            groups = List.of(g);
        }
        List<OffsetFetchResponseGroup> results = new ArrayList<>();
        for (OffsetFetchRequestGroup g : groups) {
            results.add(fetchGroupOffsets(g, version, version >= 7 && request.requireStable));
        }
        return CompletableFuture.completedFuture(formatFetch(results, version));
    }

    private OffsetFetchResponseGroup fetchGroupOffsets(OffsetFetchRequestGroup request, short version, boolean requireStable) {
        if (request.groupId == null) {
            return new OffsetFetchResponseGroup().setGroupId(null).setErrorCode(Errors.INVALID_GROUP_ID.code());
        }
        // Appends are synchronous, so every offset a shard holds is already durable: require_stable needs no wait.
        OffsetFetchResponseGroup[] out = new OffsetFetchResponseGroup[1];
        Errors error = read(partitionFor(request.groupId),
                shard -> out[0] = request.topics == null ? shard.fetchAllOffsets(request) : shard.fetchOffsets(request, requireStable));
        if (error != Errors.NONE) {
            OffsetFetchResponseGroup failed = new OffsetFetchResponseGroup().setGroupId(request.groupId).setErrorCode(error.code());
            if (version < 2 && request.topics != null) {
                // v0/v1 have no top-level error: name the requested partitions so the error reaches the client.
                for (OffsetFetchRequestTopics t : request.topics) {
                    OffsetFetchResponseTopics tr = new OffsetFetchResponseTopics().setName(t.name);
                    for (Integer p : t.partitionIndexes) {
                        tr.partitions.add(new OffsetFetchResponsePartitions().setPartitionIndex(p).setCommittedOffset(-1)
                                .setErrorCode(error.code()));
                    }
                    failed.topics.add(tr);
                }
            }
            return failed;
        }
        return out[0];
    }

    private static OffsetFetchResponseData formatFetch(List<OffsetFetchResponseGroup> groups, short version) {
        OffsetFetchResponseData data = new OffsetFetchResponseData();
        if (version >= 8) {
            data.groups = groups;
            return data;
        }
        OffsetFetchResponseGroup group = groups.get(0);
        data.errorCode = group.errorCode;
        for (OffsetFetchResponseTopics t : group.topics) {
            OffsetFetchResponseTopic nt = new OffsetFetchResponseTopic().setName(t.name);
            for (OffsetFetchResponsePartitions p : t.partitions) {
                OffsetFetchResponsePartition np = new OffsetFetchResponsePartition().setPartitionIndex(p.partitionIndex);
                if (version < 2 && group.errorCode != Errors.NONE.code()) {
                    // No top-level error before v2: it goes on every partition.
                    np.setErrorCode(group.errorCode).setCommittedOffset(-1).setMetadata("").setCommittedLeaderEpoch(-1);
                } else {
                    np.setErrorCode(p.errorCode).setCommittedOffset(p.committedOffset).setMetadata(p.metadata)
                            .setCommittedLeaderEpoch(p.committedLeaderEpoch);
                }
                nt.partitions.add(np);
            }
            data.topics.add(nt);
        }
        return data;
    }

    // =================================================================== ListGroups (16)

    public CompletableFuture<ListGroupsResponseData> listGroups(RequestContext ctx, ListGroupsRequestData request) {
        ListGroupsResponseData response = new ListGroupsResponseData();
        List<String> states = ctx.apiVersion() >= 4 && request.statesFilter != null ? request.statesFilter : List.of();
        List<String> types = ctx.apiVersion() >= 5 && request.typesFilter != null ? request.typesFilter : List.of();
        for (ShardHolder holder : shards) {
            if (holder.status == ShardStatus.LOADING) {
                return CompletableFuture.completedFuture(
                        new ListGroupsResponseData().setErrorCode(Errors.COORDINATOR_LOAD_IN_PROGRESS.code()));
            }
            List<ListedGroup> listed = new ArrayList<>();
            Errors error = read(holder.partition, shard -> listed.addAll(shard.listGroups(states, types)));
            if (error == Errors.NONE) {
                response.groups.addAll(listed);
            }
        }
        return CompletableFuture.completedFuture(response);
    }

    // =================================================================== DescribeGroups (15)

    public CompletableFuture<DescribeGroupsResponseData> describeGroups(RequestContext ctx, DescribeGroupsRequestData request) {
        DescribeGroupsResponseData response = new DescribeGroupsResponseData();
        boolean withOperations = ctx.apiVersion() >= 3 && request.includeAuthorizedOperations;
        for (String groupId : request.groups) {
            if (groupId == null) {
                response.groups.add(new DescribedGroup().setGroupId(null).setErrorCode(Errors.INVALID_GROUP_ID.code()));
                continue;
            }
            List<DescribedGroup> described = new ArrayList<>();
            Errors error = read(partitionFor(groupId), shard -> described.addAll(shard.describeGroups(List.of(groupId))));
            if (error != Errors.NONE) {
                response.groups.add(new DescribedGroup().setGroupId(groupId).setErrorCode(error.code()));
                continue;
            }
            for (DescribedGroup g : described) {
                if (withOperations) {
                    g.setAuthorizedOperations(GROUP_AUTHORIZED_OPERATIONS);
                }
                response.groups.add(g);
            }
        }
        return CompletableFuture.completedFuture(response);
    }

    // =================================================================== DeleteGroups (42)

    public CompletableFuture<DeleteGroupsResponseData> deleteGroups(RequestContext ctx, DeleteGroupsRequestData request) {
        Map<String, Short> results = new LinkedHashMap<>();
        Map<Integer, List<String>> byPartition = new LinkedHashMap<>();
        boolean nullGroup = false;
        for (String groupId : new LinkedHashSet<>(request.groupsNames)) {
            if (groupId == null) {
                nullGroup = true;
                continue;
            }
            results.put(groupId, null);
            byPartition.computeIfAbsent(partitionFor(groupId), p -> new ArrayList<>()).add(groupId);
        }
        byPartition.forEach((partition, ids) -> {
            Errors error = write(partition, shard -> shard.deleteGroups(ids), r -> r.forEach((id, e) -> results.put(id, e.code())));
            if (error != Errors.NONE) {
                ids.forEach(id -> results.put(id, error.code()));
            }
        });
        DeleteGroupsResponseData response = new DeleteGroupsResponseData();
        results.forEach((id, code) -> response.results.add(new DeletableGroupResult().setGroupId(id)
                .setErrorCode(code == null ? Errors.UNKNOWN_SERVER_ERROR.code() : code)));
        if (nullGroup) {
            response.results.add(new DeletableGroupResult().setGroupId(null).setErrorCode(Errors.INVALID_GROUP_ID.code()));
        }
        return CompletableFuture.completedFuture(response);
    }

    // =================================================================== OffsetDelete (47)

    public CompletableFuture<OffsetDeleteResponseData> deleteOffsets(RequestContext ctx, OffsetDeleteRequestData request) {
        CompletableFuture<OffsetDeleteResponseData> future = new CompletableFuture<>();
        if (request.groupId == null || request.groupId.isEmpty()) {
            future.complete(new OffsetDeleteResponseData().setErrorCode(Errors.INVALID_GROUP_ID.code()));
            return future;
        }
        OffsetDeleteResponseData refused = new OffsetDeleteResponseData();
        OffsetDeleteRequestData valid = new OffsetDeleteRequestData().setGroupId(request.groupId);
        for (OffsetDeleteRequestData.OffsetDeleteRequestTopic topic : request.topics) {
            OffsetDeleteRequestData.OffsetDeleteRequestTopic kept = new OffsetDeleteRequestData.OffsetDeleteRequestTopic().setName(topic.name);
            OffsetDeleteResponseData.OffsetDeleteResponseTopic refusedTopic = null;
            for (OffsetDeleteRequestData.OffsetDeleteRequestPartition p : topic.partitions) {
                if (partitions.partitionExists(topic.name, p.partitionIndex)) {
                    kept.partitions.add(p);
                } else {
                    if (refusedTopic == null) {
                        refusedTopic = new OffsetDeleteResponseData.OffsetDeleteResponseTopic().setName(topic.name);
                        refused.topics.add(refusedTopic);
                    }
                    refusedTopic.partitions.add(new OffsetDeleteResponseData.OffsetDeleteResponsePartition()
                            .setPartitionIndex(p.partitionIndex).setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code()));
                }
            }
            if (!kept.partitions.isEmpty()) {
                valid.topics.add(kept);
            }
        }
        Errors error = write(partitionFor(request.groupId), shard -> shard.deleteOffsets(valid), r -> {
            r.topics.addAll(0, refused.topics);
            future.complete(r);
        });
        if (error != Errors.NONE) {
            future.complete(new OffsetDeleteResponseData().setErrorCode(error.code()));
        }
        return future;
    }

    // =================================================================== topic deletion

    /** A topic was deleted: every group's offsets for it are dropped (tombstones in each loaded partition). */
    public void onTopicDeleted(String topic) {
        onPartitionsDeleted(topic, null);
    }

    /** Some partitions of a topic were deleted ({@code partitionIndexes} null = all of them). */
    public void onPartitionsDeleted(String topic, Collection<Integer> partitionIndexes) {
        for (ShardHolder holder : shards) {
            Errors error = write(holder.partition, shard -> shard.onPartitionsDeleted(topic, partitionIndexes), r -> {
            });
            if (error != Errors.NONE && error != Errors.NOT_COORDINATOR) {
                log.warn("Could not drop the offsets of deleted topic {} in {}-{}: {}", topic, OffsetsTopic.NAME,
                        holder.partition, error);
            }
        }
    }

    // =================================================================== inspection (tests, admin)

    /** Runs {@code reader} against the partition's shard while nothing else runs on it; false when not active. */
    public boolean inspect(int partition, java.util.function.Consumer<GroupCoordinatorShard> reader) {
        return read(partition, reader) == Errors.NONE;
    }

    // =================================================================== runtime

    /**
     * Runs a write operation on a shard: the operation, then the append of its records, their replay, the
     * continuation, the response, and finally the 0 ms timeouts it set. Returns NONE, or the error that stopped it
     * before the response was handed to {@code onResponse}.
     */
    private <T> Errors write(int partition, Function<GroupCoordinatorShard, CoordinatorResult<T>> operation,
                             java.util.function.Consumer<T> onResponse) {
        ShardHolder holder = shards[partition];
        Errors status = statusError(holder.status);
        if (status != Errors.NONE) {
            return status;
        }
        synchronized (holder) {
            status = statusError(holder.status);
            if (status != Errors.NONE) {
                return status;
            }
            try {
                CoordinatorResult<T> result;
                try {
                    result = operation.apply(holder.shard);
                } catch (CoordinatorException e) {
                    return e.error();
                }
                Errors appendError = apply(holder, result);
                if (appendError != Errors.NONE) {
                    return appendError;
                }
                if (result.response() != null) {
                    onResponse.accept(result.response());
                }
                drainImmediate(holder);
                return Errors.NONE;
            } catch (RuntimeException e) {
                log.error("Operation on {}-{} failed unexpectedly", OffsetsTopic.NAME, partition, e);
                return Errors.UNKNOWN_SERVER_ERROR;
            }
        }
    }

    private Errors read(int partition, java.util.function.Consumer<GroupCoordinatorShard> reader) {
        ShardHolder holder = shards[partition];
        Errors status = statusError(holder.status);
        if (status != Errors.NONE) {
            return status;
        }
        synchronized (holder) {
            status = statusError(holder.status);
            if (status != Errors.NONE) {
                return status;
            }
            try {
                reader.accept(holder.shard);
                return Errors.NONE;
            } catch (CoordinatorException e) {
                return e.error();
            }
        }
    }

    private static Errors statusError(ShardStatus status) {
        return switch (status) {
            case ACTIVE -> Errors.NONE;
            case LOADING -> Errors.COORDINATOR_LOAD_IN_PROGRESS;
            case NOT_LOADED, FAILED -> Errors.NOT_COORDINATOR;
        };
    }

    /** Appends and replays a result's records, then runs its continuation. On a failed append the shard is reloaded. */
    private Errors apply(ShardHolder holder, CoordinatorResult<?> result) {
        if (!result.records().isEmpty()) {
            long baseOffset;
            try {
                baseOffset = coordinatorLog.append(holder.partition, time.milliseconds(), result.records());
            } catch (CoordinatorLog.CoordinatorLogException e) {
                log.warn("Appending {} records to {}-{} failed ({}); reloading the partition", result.records().size(),
                        OffsetsTopic.NAME, holder.partition, e.getMessage());
                reloadAfterFailedAppend(holder);
                return appendErrorToResponseError(e.error());
            }
            if (result.replayRecords()) {
                long offset = baseOffset;
                for (CoordinatorRecord record : result.records()) {
                    holder.shard.replay(offset++, record);
                }
            }
        }
        if (result.onAppended() != null) {
            result.onAppended().run();
        }
        return Errors.NONE;
    }

    private static Errors appendErrorToResponseError(Errors error) {
        return switch (error) {
            case UNKNOWN_TOPIC_OR_PARTITION, NOT_ENOUGH_REPLICAS, NOT_ENOUGH_REPLICAS_AFTER_APPEND, REQUEST_TIMED_OUT ->
                    Errors.COORDINATOR_NOT_AVAILABLE;
            case NOT_LEADER_OR_FOLLOWER, KAFKA_STORAGE_ERROR -> Errors.NOT_COORDINATOR;
            case MESSAGE_TOO_LARGE, RECORD_LIST_TOO_LARGE, INVALID_FETCH_SIZE -> Errors.UNKNOWN_SERVER_ERROR;
            default -> error;
        };
    }

    /**
     * The in-memory state may now be ahead of the log: throw it away (parked requests get NOT_COORDINATOR and will
     * find the coordinator again) and rebuild it from what the log really holds.
     */
    private void reloadAfterFailedAppend(ShardHolder holder) {
        unloadLocked(holder);
        holder.immediate.clear();
        load(holder.partition);
    }

    private void drainImmediate(ShardHolder holder) {
        TimerEntry entry;
        while (holder.shard != null && (entry = holder.immediate.poll()) != null) {
            ShardTimer timer = holder.timer;
            if (timer == null || !timer.claim(entry)) {
                continue;
            }
            try {
                apply(holder, entry.operation.get());
            } catch (RuntimeException e) {
                log.error("Timeout {} on {}-{} failed", entry.key, OffsetsTopic.NAME, holder.partition, e);
            }
        }
    }

    /** A timeout fired on the scheduler's thread: run it like a request. */
    private void fire(ShardHolder holder, ShardTimer timer, TimerEntry entry) {
        synchronized (holder) {
            if (holder.timer != timer || holder.status != ShardStatus.ACTIVE || !timer.claim(entry)) {
                return;
            }
            try {
                apply(holder, entry.operation.get());
                drainImmediate(holder);
            } catch (RuntimeException e) {
                log.error("Timeout {} on {}-{} failed", entry.key, OffsetsTopic.NAME, holder.partition, e);
            }
        }
    }

    private static final class ShardHolder {
        final int partition;
        volatile ShardStatus status = ShardStatus.NOT_LOADED;
        GroupCoordinatorShard shard;
        ShardTimer timer;
        final ArrayDeque<TimerEntry> immediate = new ArrayDeque<>();

        ShardHolder(int partition) {
            this.partition = partition;
        }
    }

    private static final class TimerEntry {
        final String key;
        final Supplier<CoordinatorResult<Void>> operation;
        Scheduler.Cancellable handle;

        TimerEntry(String key, Supplier<CoordinatorResult<Void>> operation) {
            this.key = key;
            this.operation = operation;
        }
    }

    /** The keyed timer of one shard instance; a reloaded shard gets a new one, so old timeouts cannot reach it. */
    private final class ShardTimer implements CoordinatorTimer {
        private final ShardHolder holder;
        private final Map<String, TimerEntry> entries = new HashMap<>();

        ShardTimer(ShardHolder holder) {
            this.holder = holder;
        }

        @Override
        public void schedule(String key, long delayMs, Supplier<CoordinatorResult<Void>> operation) {
            cancel(key);
            TimerEntry entry = new TimerEntry(key, operation);
            entries.put(key, entry);
            if (delayMs <= 0) {
                holder.immediate.add(entry);
            } else {
                entry.handle = scheduler.schedule(delayMs, () -> fire(holder, this, entry));
            }
        }

        @Override
        public void cancel(String key) {
            TimerEntry entry = entries.remove(key);
            if (entry != null && entry.handle != null) {
                entry.handle.cancel();
            }
        }

        @Override
        public boolean isScheduled(String key) {
            return entries.containsKey(key);
        }

        /** True when the entry is still the current one for its key; it is then consumed. */
        boolean claim(TimerEntry entry) {
            if (entries.get(entry.key) != entry) {
                return false;
            }
            entries.remove(entry.key);
            return true;
        }

        void cancelAll() {
            for (TimerEntry e : entries.values()) {
                if (e.handle != null) {
                    e.handle.cancel();
                }
            }
            entries.clear();
        }
    }
}
