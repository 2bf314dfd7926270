package dev.runnel.groupcoord;

import dev.runnel.groupcoord.generated.GroupMetadataKey;
import dev.runnel.groupcoord.generated.GroupMetadataValue;
import dev.runnel.groupcoord.generated.OffsetCommitKey;
import dev.runnel.groupcoord.generated.OffsetCommitValue;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.DescribeGroupsResponseData.DescribedGroup;
import dev.runnel.wire.message.DescribeGroupsResponseData.DescribedGroupMember;
import dev.runnel.wire.message.HeartbeatRequestData;
import dev.runnel.wire.message.HeartbeatResponseData;
import dev.runnel.wire.message.JoinGroupRequestData;
import dev.runnel.wire.message.JoinGroupResponseData;
import dev.runnel.wire.message.JoinGroupResponseData.JoinGroupResponseMember;
import dev.runnel.wire.message.LeaveGroupRequestData.MemberIdentity;
import dev.runnel.wire.message.LeaveGroupResponseData;
import dev.runnel.wire.message.LeaveGroupResponseData.MemberResponse;
import dev.runnel.wire.message.ListGroupsResponseData.ListedGroup;
import dev.runnel.wire.message.OffsetCommitRequestData;
import dev.runnel.wire.message.OffsetCommitResponseData;
import dev.runnel.wire.message.OffsetCommitResponseData.OffsetCommitResponsePartition;
import dev.runnel.wire.message.OffsetCommitResponseData.OffsetCommitResponseTopic;
import dev.runnel.wire.message.OffsetDeleteRequestData;
import dev.runnel.wire.message.OffsetDeleteResponseData;
import dev.runnel.wire.message.OffsetFetchRequestData.OffsetFetchRequestGroup;
import dev.runnel.wire.message.OffsetFetchResponseData.OffsetFetchResponseGroup;
import dev.runnel.wire.message.OffsetFetchResponseData.OffsetFetchResponsePartitions;
import dev.runnel.wire.message.OffsetFetchResponseData.OffsetFetchResponseTopics;
import dev.runnel.wire.message.SyncGroupRequestData;
import dev.runnel.wire.message.SyncGroupResponseData;
import dev.runnel.wire.message.TxnOffsetCommitRequestData;
import dev.runnel.wire.message.TxnOffsetCommitResponseData;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The group coordinator of one {@code __consumer_offsets} partition: classic groups and committed offsets, as a
 * deterministic state machine. It is fed requests, timeouts and replayed records, one at a time; every write returns
 * the records to append plus a response, and parked JoinGroup/SyncGroup requests complete when a later request or
 * timeout moves the group on. It knows no sockets, threads or clocks: time and timers are injected.
 *
 * <p>The rules (states, transitions, error codes per state and version) are those of Apache Kafka's classic group
 * protocol, so that stock clients see what they see against Kafka.
 */
public final class GroupCoordinatorShard {
    private static final Logger log = LoggerFactory.getLogger(GroupCoordinatorShard.class);
    static final String EXPIRATION_KEY = "expire-group-metadata";
    static final long INVALID_OFFSET = -1L;

    private final int partition;
    private final GroupCoordinatorConfig config;
    private final Time time;
    private final CoordinatorTimer timer;
    private final Supplier<String> uniqueIds;
    /** Groups by id, in creation order. */
    private final Map<String, ClassicGroup> groups = new LinkedHashMap<>();
    /** Committed offsets: group, then topic, then partition (sorted, so "fetch all" answers in a stable order). */
    private final Map<String, TreeMap<String, TreeMap<Integer, OffsetAndMetadata>>> offsets = new HashMap<>();

    public GroupCoordinatorShard(int partition, GroupCoordinatorConfig config, Time time, CoordinatorTimer timer,
                                 Supplier<String> uniqueIds) {
        this.partition = partition;
        this.config = config;
        this.time = time;
        this.timer = timer;
        this.uniqueIds = uniqueIds;
    }

    public int partition() {
        return partition;
    }

    // =================================================================== JoinGroup

    /**
     * A JoinGroup request. The response goes to {@code future}, now or when the rebalance completes. The caller has
     * already checked the group id and the session timeout bounds.
     */
    public CoordinatorResult<Void> joinGroup(RequestContext ctx, JoinGroupRequestData request,
                                             CompletableFuture<JoinGroupResponseData> future) {
        String groupId = request.groupId;
        String memberId = request.memberId;
        boolean isUnknownMember = memberId.isEmpty();
        boolean isNewGroup = !groups.containsKey(groupId);
        ClassicGroup group = groups.get(groupId);
        if (group == null) {
            if (!isUnknownMember) {
                // A member id for a group we do not have: the member must start over.
                future.complete(joinError(memberId, Errors.UNKNOWN_MEMBER_ID));
                return CoordinatorResult.empty();
            }
            group = new ClassicGroup(groupId, GroupState.EMPTY, time.milliseconds());
            groups.put(groupId, group);
        }

        CoordinatorResult<Void> result = CoordinatorResult.empty();
        if (!acceptJoiningMember(group, memberId)) {
            group.remove(memberId);
            future.complete(joinError("", Errors.GROUP_MAX_SIZE_REACHED));
        } else if (isUnknownMember) {
            result = joinNewMember(ctx, request, group, future);
        } else {
            result = joinExistingMember(ctx, request, group, future);
        }

        if (isNewGroup && result == CoordinatorResult.<Void>empty()) {
            // Write the new (empty) group so it exists in the log even if nothing else is written for it yet.
            return CoordinatorResult.written(List.of(emptyGroupMetadataRecord(group)), null);
        }
        return result;
    }

    private boolean acceptJoiningMember(ClassicGroup group, String memberId) {
        return switch (group.state()) {
            case EMPTY, DEAD -> true;
            // Counting members that already rejoined lets the last ones to rejoin be refused when over the limit.
            case PREPARING_REBALANCE -> (group.hasMember(memberId) && group.member(memberId).isAwaitingJoin())
                    || group.numAwaitingJoinResponse() < config.maxGroupSize();
            case COMPLETING_REBALANCE, STABLE -> group.hasMember(memberId) || group.numMembers() < config.maxGroupSize();
        };
    }

    private CoordinatorResult<Void> joinNewMember(RequestContext ctx, JoinGroupRequestData request, ClassicGroup group,
                                                  CompletableFuture<JoinGroupResponseData> future) {
        if (group.isInState(GroupState.DEAD)) {
            future.complete(joinError("", Errors.COORDINATOR_NOT_AVAILABLE));
            return CoordinatorResult.empty();
        }
        if (!group.supportsProtocols(request.protocolType, request.protocols)) {
            future.complete(joinError("", Errors.INCONSISTENT_GROUP_PROTOCOL));
            return CoordinatorResult.empty();
        }
        String prefix = request.groupInstanceId != null ? request.groupInstanceId : ctx.clientId();
        String newMemberId = prefix + "-" + uniqueIds.get();
        if (request.groupInstanceId != null) {
            String existingMemberId = group.staticMemberId(request.groupInstanceId);
            if (existingMemberId != null) {
                log.info("Static member {} of group {} rejoins in state {}: member {} is replaced by {}",
                        request.groupInstanceId, group.groupId(), group.state(), existingMemberId, newMemberId);
                return updateStaticMemberThenRebalanceOrCompleteJoin(ctx, request, group, existingMemberId, newMemberId, future);
            }
            return addMemberThenRebalanceOrCompleteJoin(ctx, request, group, newMemberId, future);
        }
        if (ctx.apiVersion() >= 4) {
            // JoinGroup v4+: hand out the member id first; the member joins for real with it, so a client that
            // retries after a timeout does not leave a trail of ghost members behind.
            group.addPendingMember(newMemberId);
            String groupId = group.groupId();
            timer.schedule(heartbeatKey(groupId, newMemberId), request.sessionTimeoutMs,
                    () -> expireMemberHeartbeat(groupId, newMemberId));
            future.complete(new JoinGroupResponseData().setMemberId(newMemberId).setErrorCode(Errors.MEMBER_ID_REQUIRED.code()));
            return CoordinatorResult.empty();
        }
        return addMemberThenRebalanceOrCompleteJoin(ctx, request, group, newMemberId, future);
    }

    private CoordinatorResult<Void> joinExistingMember(RequestContext ctx, JoinGroupRequestData request, ClassicGroup group,
                                                       CompletableFuture<JoinGroupResponseData> future) {
        String memberId = request.memberId;
        if (group.isInState(GroupState.DEAD)) {
            future.complete(joinError(memberId, Errors.COORDINATOR_NOT_AVAILABLE));
            return CoordinatorResult.empty();
        }
        if (!group.supportsProtocols(request.protocolType, request.protocols)) {
            future.complete(joinError(memberId, Errors.INCONSISTENT_GROUP_PROTOCOL));
            return CoordinatorResult.empty();
        }
        if (group.isPendingMember(memberId)) {
            if (request.groupInstanceId != null) {
                // Only dynamic members are ever pending; treat the mix as a member we do not know.
                future.complete(joinError(memberId, Errors.UNKNOWN_MEMBER_ID));
                return CoordinatorResult.empty();
            }
            return addMemberThenRebalanceOrCompleteJoin(ctx, request, group, memberId, future);
        }
        try {
            group.validateMember(memberId, request.groupInstanceId);
        } catch (CoordinatorException e) {
            future.complete(joinError(memberId, e.error()).setProtocolType(null).setProtocolName(null));
            return CoordinatorResult.empty();
        }
        ClassicGroupMember member = group.member(memberId);
        switch (group.state()) {
            case PREPARING_REBALANCE:
                return updateMemberThenRebalanceOrCompleteJoin(request, group, member,
                        "member " + memberId + " joins during " + group.state(), future);
            case COMPLETING_REBALANCE:
                if (member.matches(request.protocols)) {
                    // The member probably missed its JoinGroup response: send the current generation again.
                    future.complete(currentGenerationJoinResponse(group, memberId, group.isLeader(memberId)));
                    return CoordinatorResult.empty();
                }
                return updateMemberThenRebalanceOrCompleteJoin(request, group, member,
                        "member " + memberId + " changed its metadata during " + group.state(), future);
            case STABLE:
                if (group.isLeader(memberId)) {
                    // The leader rejoins to trigger a rebalance (e.g. the topics it watches changed).
                    return updateMemberThenRebalanceOrCompleteJoin(request, group, member,
                            "leader " + memberId + " rejoins", future);
                }
                if (!member.matches(request.protocols)) {
                    return updateMemberThenRebalanceOrCompleteJoin(request, group, member,
                            "member " + memberId + " changed its metadata", future);
                }
                future.complete(currentGenerationJoinResponse(group, memberId, false));
                return CoordinatorResult.empty();
            default:
                // Empty: the member's generation is gone; it must rejoin from scratch.
                future.complete(joinError(memberId, Errors.UNKNOWN_MEMBER_ID));
                return CoordinatorResult.empty();
        }
    }

    private JoinGroupResponseData currentGenerationJoinResponse(ClassicGroup group, String memberId, boolean withMembers) {
        return new JoinGroupResponseData()
                .setMembers(withMembers ? currentMembers(group) : new ArrayList<>())
                .setMemberId(memberId)
                .setGenerationId(group.generationId())
                .setProtocolName(group.protocolName())
                .setProtocolType(group.protocolType())
                .setLeader(group.leaderOrNull())
                .setSkipAssignment(false);
    }

    private static List<JoinGroupResponseMember> currentMembers(ClassicGroup group) {
        List<JoinGroupResponseMember> out = new ArrayList<>(group.numMembers());
        for (ClassicGroupMember m : group.allMembers()) {
            out.add(new JoinGroupResponseMember()
                    .setMemberId(m.memberId())
                    .setGroupInstanceId(m.groupInstanceId())
                    .setMetadata(m.metadata(group.protocolName())));
        }
        return out;
    }

    private CoordinatorResult<Void> updateMemberThenRebalanceOrCompleteJoin(JoinGroupRequestData request, ClassicGroup group,
                                                                           ClassicGroupMember member, String reason,
                                                                           CompletableFuture<JoinGroupResponseData> future) {
        group.updateMember(member, request.protocols, request.rebalanceTimeoutMs, request.sessionTimeoutMs, future);
        return maybePrepareRebalanceOrCompleteJoin(group, reason);
    }

    private CoordinatorResult<Void> addMemberThenRebalanceOrCompleteJoin(RequestContext ctx, JoinGroupRequestData request,
                                                                        ClassicGroup group, String memberId,
                                                                        CompletableFuture<JoinGroupResponseData> future) {
        ClassicGroupMember member = new ClassicGroupMember(memberId, request.groupInstanceId, ctx.clientId(), ctx.clientHost(),
                request.rebalanceTimeoutMs, request.sessionTimeoutMs, request.protocolType, request.protocols, null);
        member.setNew(true);
        if (group.isInState(GroupState.PREPARING_REBALANCE) && group.previousState() == GroupState.EMPTY) {
            // Lets the initial rebalance delay be extended for this newcomer.
            group.setNewMemberAdded(true);
        }
        group.add(member, future);
        // A new member cannot heartbeat while its JoinGroup is parked, and a client that gave up would leave a ghost:
        // time out the parked join of new members instead.
        rescheduleHeartbeat(group, member, config.newMemberJoinTimeoutMs());
        return maybePrepareRebalanceOrCompleteJoin(group, "adding member " + memberId);
    }

    private CoordinatorResult<Void> updateStaticMemberThenRebalanceOrCompleteJoin(RequestContext ctx, JoinGroupRequestData request,
                                                                                 ClassicGroup group, String oldMemberId,
                                                                                 String newMemberId,
                                                                                 CompletableFuture<JoinGroupResponseData> future) {
        String currentLeader = group.leaderOrNull();
        ClassicGroupMember newMember = group.replaceStaticMember(request.groupInstanceId, oldMemberId, newMemberId);
        timer.cancel(heartbeatKey(group.groupId(), oldMemberId));
        rescheduleHeartbeat(group, newMember, newMember.sessionTimeoutMs());
        group.updateMember(newMember, request.protocols, request.rebalanceTimeoutMs, request.sessionTimeoutMs, future);

        switch (group.state()) {
            case STABLE: {
                String nextProtocol = group.selectProtocol();
                if (nextProtocol.equals(group.protocolName())) {
                    // Same protocol: no rebalance, the returning static member keeps its assignment. Persist the new
                    // member id, then answer.
                    Map<String, byte[]> assignment = currentAssignment(group);
                    boolean skipAssignment = ctx.apiVersion() >= 9;
                    Runnable answer = () -> {
                        boolean isLeader = group.isLeader(newMemberId);
                        JoinGroupResponseData response = new JoinGroupResponseData()
                                .setMembers(skipAssignment && isLeader ? currentMembers(group) : new ArrayList<>())
                                .setMemberId(newMemberId)
                                .setGenerationId(group.generationId())
                                .setProtocolName(group.protocolName())
                                .setProtocolType(group.protocolType())
                                .setLeader(skipAssignment ? group.leaderOrNull() : currentLeader)
                                .setSkipAssignment(skipAssignment && isLeader);
                        group.completeJoin(newMember, response);
                    };
                    return CoordinatorResult.written(List.of(groupMetadataRecord(group, assignment)), answer);
                }
                return maybePrepareRebalanceOrCompleteJoin(group,
                        "static member " + request.groupInstanceId + " rejoined with a change of protocol");
            }
            case COMPLETING_REBALANCE:
                // The leader may already be computing an assignment that names the old member id: start over.
                return prepareRebalance(group, "static member " + request.groupInstanceId + " rejoined during the sync phase");
            case EMPTY:
            case DEAD:
                throw new IllegalStateException("Group " + group.groupId() + " cannot be " + group.state()
                        + " while static member " + request.groupInstanceId + " is known");
            default:
                return maybeCompleteJoinPhase(group);
        }
    }

    private CoordinatorResult<Void> maybePrepareRebalanceOrCompleteJoin(ClassicGroup group, String reason) {
        if (group.canRebalance()) {
            return prepareRebalance(group, reason);
        }
        return maybeCompleteJoinPhase(group);
    }

    /** Completes the join phase once everybody rejoined, except during the initial (delayed) rebalance. */
    private CoordinatorResult<Void> maybeCompleteJoinPhase(ClassicGroup group) {
        if (group.isInState(GroupState.PREPARING_REBALANCE) && group.hasAllMembersJoined()
                && group.previousState() != GroupState.EMPTY) {
            return completeJoin(group);
        }
        return CoordinatorResult.empty();
    }

    CoordinatorResult<Void> prepareRebalance(ClassicGroup group, String reason) {
        if (group.isInState(GroupState.COMPLETING_REBALANCE)) {
            // Members waiting in SyncGroup must rejoin.
            resetAndPropagateAssignmentWithError(group, Errors.REBALANCE_IN_PROGRESS);
        }
        group.clearPendingSyncMembers();
        timer.cancel(syncKey(group.groupId()));

        boolean isInitialRebalance = group.isInState(GroupState.EMPTY);
        if (isInitialRebalance) {
            // A new group: give other members group.initial.rebalance.delay.ms to show up, extended per newcomer up
            // to the rebalance timeout.
            int delayMs = config.initialRebalanceDelayMs();
            int remainingMs = Math.max(group.rebalanceTimeoutMs() - delayMs, 0);
            String groupId = group.groupId();
            timer.schedule(joinKey(groupId), delayMs, () -> tryCompleteInitialRebalanceElseSchedule(groupId, delayMs, remainingMs));
        }
        group.transitionTo(GroupState.PREPARING_REBALANCE, time.milliseconds());
        log.info("Preparing to rebalance group {} with old generation {} ({}-{}) (reason: {})",
                group.groupId(), group.generationId(), OffsetsTopic.NAME, partition, reason);
        return isInitialRebalance ? CoordinatorResult.empty() : maybeCompleteJoinElseSchedule(group);
    }

    private CoordinatorResult<Void> maybeCompleteJoinElseSchedule(ClassicGroup group) {
        if (group.hasAllMembersJoined()) {
            return completeJoin(group);
        }
        String groupId = group.groupId();
        timer.schedule(joinKey(groupId), group.rebalanceTimeoutMs(), () -> completeJoin(groupId));
        return CoordinatorResult.empty();
    }

    private CoordinatorResult<Void> tryCompleteInitialRebalanceElseSchedule(String groupId, int delayMs, int remainingMs) {
        ClassicGroup group = groups.get(groupId);
        if (group == null || !group.isInState(GroupState.PREPARING_REBALANCE)) {
            return CoordinatorResult.empty();
        }
        if (group.newMemberAdded() && remainingMs != 0) {
            group.setNewMemberAdded(false);
            int newDelayMs = Math.min(config.initialRebalanceDelayMs(), remainingMs);
            int newRemainingMs = Math.max(remainingMs - delayMs, 0);
            timer.schedule(joinKey(groupId), newDelayMs,
                    () -> tryCompleteInitialRebalanceElseSchedule(groupId, newDelayMs, newRemainingMs));
            return CoordinatorResult.empty();
        }
        return completeJoin(group);
    }

    private CoordinatorResult<Void> completeJoin(String groupId) {
        ClassicGroup group = groups.get(groupId);
        if (group == null || !group.isInState(GroupState.PREPARING_REBALANCE)) {
            return CoordinatorResult.empty();
        }
        return completeJoin(group);
    }

    /**
     * Ends the join phase: dynamic members that did not rejoin are dropped, the generation moves on, and every
     * parked JoinGroup is answered (the leader gets everybody's metadata). An empty group writes its new state.
     */
    private CoordinatorResult<Void> completeJoin(ClassicGroup group) {
        String groupId = group.groupId();
        timer.cancel(joinKey(groupId));
        for (ClassicGroupMember failed : group.notYetRejoinedMembers()) {
            if (!failed.isStatic()) {
                group.remove(failed.memberId());
                timer.cancel(heartbeatKey(groupId, failed.memberId()));
                log.info("Group {} removed dynamic member {} which did not rejoin", groupId, failed.memberId());
            }
        }
        if (group.isInState(GroupState.DEAD)) {
            return CoordinatorResult.empty();
        }
        if (!group.maybeElectNewJoinedLeader() && group.numMembers() > 0) {
            // Only static members are left and none rejoined: wait until their sessions expire.
            timer.schedule(joinKey(groupId), group.rebalanceTimeoutMs(), () -> completeJoin(groupId));
            return CoordinatorResult.empty();
        }
        group.initNextGeneration(time.milliseconds());
        if (group.isInState(GroupState.EMPTY)) {
            log.info("Group {} with generation {} is now empty ({}-{})", groupId, group.generationId(), OffsetsTopic.NAME, partition);
            return CoordinatorResult.written(List.of(groupMetadataRecord(group, Map.of())), null);
        }
        log.info("Stabilized group {} generation {} ({}-{}) with {} members", groupId, group.generationId(),
                OffsetsTopic.NAME, partition, group.numMembers());
        for (ClassicGroupMember member : List.copyOf(group.allMembers())) {
            boolean leader = group.isLeader(member.memberId());
            JoinGroupResponseData response = currentGenerationJoinResponse(group, member.memberId(), leader)
                    .setErrorCode(Errors.NONE.code());
            group.completeJoin(member, response);
            rescheduleHeartbeat(group, member, member.sessionTimeoutMs());
            member.setNew(false);
            group.addPendingSyncMember(member.memberId());
        }
        int generation = group.generationId();
        timer.schedule(syncKey(groupId), group.rebalanceTimeoutMs(), () -> expirePendingSync(groupId, generation));
        return CoordinatorResult.empty();
    }

    private CoordinatorResult<Void> expirePendingSync(String groupId, int generationId) {
        ClassicGroup group = groups.get(groupId);
        if (group == null || group.generationId() != generationId) {
            return CoordinatorResult.empty();
        }
        if ((group.isInState(GroupState.COMPLETING_REBALANCE) || group.isInState(GroupState.STABLE))
                && !group.hasReceivedSyncFromAllMembers()) {
            List<String> missing = List.copyOf(group.pendingSyncMembers());
            for (String memberId : missing) {
                group.remove(memberId);
                timer.cancel(heartbeatKey(groupId, memberId));
            }
            return prepareRebalance(group, "members " + missing + " did not send SyncGroup in time");
        }
        return CoordinatorResult.empty();
    }

    // =================================================================== heartbeats and session expiry

    private void rescheduleHeartbeat(ClassicGroup group, ClassicGroupMember member, long timeoutMs) {
        String groupId = group.groupId();
        String memberId = member.memberId();
        timer.schedule(heartbeatKey(groupId, memberId), timeoutMs, () -> expireMemberHeartbeat(groupId, memberId));
    }

    private CoordinatorResult<Void> expireMemberHeartbeat(String groupId, String memberId) {
        ClassicGroup group = groups.get(groupId);
        if (group == null || group.isInState(GroupState.DEAD)) {
            return CoordinatorResult.empty();
        }
        if (group.isPendingMember(memberId)) {
            log.info("Pending member {} of group {} did not rejoin within its session timeout", memberId, groupId);
            group.remove(memberId);
            if (group.isInState(GroupState.PREPARING_REBALANCE) && group.hasAllMembersJoined()) {
                return completeJoin(group);
            }
            return CoordinatorResult.empty();
        }
        ClassicGroupMember member = group.member(memberId);
        if (member == null || member.hasSatisfiedHeartbeat()) {
            return CoordinatorResult.empty();
        }
        log.info("Member {} of group {} has failed (session timeout {} ms expired), removing it", memberId, groupId,
                member.sessionTimeoutMs());
        return removeMemberAndUpdateGroup(group, member, "session timeout of member " + memberId + " expired");
    }

    private CoordinatorResult<Void> removeMemberAndUpdateGroup(ClassicGroup group, ClassicGroupMember member, String reason) {
        // A new member may time out while parked in JoinGroup: answer it so that a live client retries.
        group.completeJoin(member, joinError("", Errors.UNKNOWN_MEMBER_ID));
        group.remove(member.memberId());
        if (group.isInState(GroupState.STABLE) || group.isInState(GroupState.COMPLETING_REBALANCE)) {
            return maybePrepareRebalanceOrCompleteJoin(group, reason);
        }
        if (group.isInState(GroupState.PREPARING_REBALANCE) && group.hasAllMembersJoined()) {
            return completeJoin(group);
        }
        return CoordinatorResult.empty();
    }

    // =================================================================== SyncGroup

    public CoordinatorResult<Void> syncGroup(RequestContext ctx, SyncGroupRequestData request,
                                             CompletableFuture<SyncGroupResponseData> future) {
        ClassicGroup group = groups.get(request.groupId);
        if (group == null || group.isEmpty()) {
            future.complete(syncError(Errors.UNKNOWN_MEMBER_ID));
            return CoordinatorResult.empty();
        }
        Errors error = validateSyncGroup(group, request);
        if (error != Errors.NONE) {
            future.complete(syncError(error));
            return CoordinatorResult.empty();
        }
        String memberId = request.memberId;
        switch (group.state()) {
            case PREPARING_REBALANCE:
                future.complete(syncError(Errors.REBALANCE_IN_PROGRESS));
                return CoordinatorResult.empty();
            case COMPLETING_REBALANCE: {
                group.member(memberId).setAwaitingSync(future);
                removePendingSyncMember(group, memberId);
                if (!group.isLeader(memberId)) {
                    return CoordinatorResult.empty();
                }
                // The leader's assignment: persist it, then hand every member its part.
                Map<String, byte[]> assignment = new HashMap<>();
                for (SyncGroupRequestData.SyncGroupRequestAssignment a : request.assignments) {
                    assignment.put(a.memberId, a.assignment);
                }
                for (String id : group.allMemberIds()) {
                    assignment.putIfAbsent(id, ClassicGroupMember.EMPTY_ASSIGNMENT);
                }
                int generation = request.generationId;
                Runnable propagate = () -> {
                    // Another member may have joined meanwhile; only act on the generation we were asked about.
                    if (group.isInState(GroupState.COMPLETING_REBALANCE) && group.generationId() == generation) {
                        for (ClassicGroupMember m : group.allMembers()) {
                            m.setAssignment(assignment.getOrDefault(m.memberId(), ClassicGroupMember.EMPTY_ASSIGNMENT));
                        }
                        propagateAssignment(group, Errors.NONE);
                        group.transitionTo(GroupState.STABLE, time.milliseconds());
                    }
                };
                return CoordinatorResult.written(List.of(groupMetadataRecord(group, assignment)), propagate);
            }
            case STABLE: {
                removePendingSyncMember(group, memberId);
                ClassicGroupMember member = group.member(memberId);
                future.complete(new SyncGroupResponseData()
                        .setProtocolType(group.protocolType())
                        .setProtocolName(group.protocolName())
                        .setAssignment(member.assignment())
                        .setErrorCode(Errors.NONE.code()));
                return CoordinatorResult.empty();
            }
            default:
                future.complete(syncError(Errors.COORDINATOR_NOT_AVAILABLE));
                return CoordinatorResult.empty();
        }
    }

    private Errors validateSyncGroup(ClassicGroup group, SyncGroupRequestData request) {
        if (group.isInState(GroupState.DEAD)) {
            return Errors.COORDINATOR_NOT_AVAILABLE;
        }
        try {
            group.validateMember(request.memberId, request.groupInstanceId);
        } catch (CoordinatorException e) {
            return e.error();
        }
        if (request.generationId != group.generationId()) {
            return Errors.ILLEGAL_GENERATION;
        }
        if (isProtocolInconsistent(request.protocolType, group.protocolType())
                || isProtocolInconsistent(request.protocolName, group.protocolName())) {
            return Errors.INCONSISTENT_GROUP_PROTOCOL;
        }
        return Errors.NONE;
    }

    private static boolean isProtocolInconsistent(String requested, String current) {
        return requested != null && current != null && !current.equals(requested);
    }

    private void removePendingSyncMember(ClassicGroup group, String memberId) {
        group.removePendingSyncMember(memberId);
        boolean syncPhaseOver = switch (group.state()) {
            case DEAD, EMPTY, PREPARING_REBALANCE -> true;
            case COMPLETING_REBALANCE, STABLE -> group.hasReceivedSyncFromAllMembers();
        };
        if (syncPhaseOver) {
            timer.cancel(syncKey(group.groupId()));
        }
    }

    private void resetAndPropagateAssignmentWithError(ClassicGroup group, Errors error) {
        for (ClassicGroupMember m : group.allMembers()) {
            m.setAssignment(ClassicGroupMember.EMPTY_ASSIGNMENT);
        }
        propagateAssignment(group, error);
    }

    private void propagateAssignment(ClassicGroup group, Errors error) {
        String protocolName = error == Errors.NONE ? group.protocolName() : null;
        String protocolType = error == Errors.NONE ? group.protocolType() : null;
        for (ClassicGroupMember member : List.copyOf(group.allMembers())) {
            boolean answered = group.completeSync(member, new SyncGroupResponseData()
                    .setProtocolName(protocolName)
                    .setProtocolType(protocolType)
                    .setAssignment(member.assignment())
                    .setErrorCode(error.code()));
            if (answered) {
                // The session clock restarts once a member has its assignment.
                rescheduleHeartbeat(group, member, member.sessionTimeoutMs());
            }
        }
    }

    // =================================================================== Heartbeat

    public CoordinatorResult<HeartbeatResponseData> heartbeat(RequestContext ctx, HeartbeatRequestData request) {
        ClassicGroup group = groups.get(request.groupId);
        if (group == null) {
            throw new CoordinatorException(Errors.UNKNOWN_MEMBER_ID, "Group " + request.groupId + " not found");
        }
        if (group.isInState(GroupState.DEAD)) {
            throw new CoordinatorException(Errors.COORDINATOR_NOT_AVAILABLE);
        }
        group.validateMember(request.memberId, request.groupInstanceId);
        if (request.generationId != group.generationId()) {
            throw new CoordinatorException(Errors.ILLEGAL_GENERATION, "Generation " + request.generationId
                    + " is not the current generation " + group.generationId() + " of group " + group.groupId());
        }
        ClassicGroupMember member = group.member(request.memberId);
        return switch (group.state()) {
            case EMPTY -> CoordinatorResult.response(new HeartbeatResponseData().setErrorCode(Errors.UNKNOWN_MEMBER_ID.code()));
            case PREPARING_REBALANCE -> {
                rescheduleHeartbeat(group, member, member.sessionTimeoutMs());
                yield CoordinatorResult.response(new HeartbeatResponseData().setErrorCode(Errors.REBALANCE_IN_PROGRESS.code()));
            }
            case COMPLETING_REBALANCE, STABLE -> {
                // Members may heartbeat between their JoinGroup and SyncGroup responses: that is a heartbeat too.
                rescheduleHeartbeat(group, member, member.sessionTimeoutMs());
                yield CoordinatorResult.response(new HeartbeatResponseData());
            }
            case DEAD -> throw new CoordinatorException(Errors.COORDINATOR_NOT_AVAILABLE);
        };
    }

    // =================================================================== LeaveGroup

    /** A LeaveGroup in its batch form (v3+); older single-member requests are converted before they get here. */
    public CoordinatorResult<LeaveGroupResponseData> leaveGroup(RequestContext ctx, String groupId, List<MemberIdentity> members) {
        ClassicGroup group = groups.get(groupId);
        if (group == null) {
            throw new CoordinatorException(Errors.UNKNOWN_MEMBER_ID, "Group " + groupId + " not found");
        }
        if (group.isInState(GroupState.DEAD)) {
            return CoordinatorResult.response(new LeaveGroupResponseData().setErrorCode(Errors.COORDINATOR_NOT_AVAILABLE.code()));
        }
        List<MemberResponse> responses = new ArrayList<>();
        List<String> left = new ArrayList<>();
        for (MemberIdentity m : members) {
            MemberResponse r = new MemberResponse().setMemberId(m.memberId).setGroupInstanceId(m.groupInstanceId);
            if (m.memberId.isEmpty()) {
                // Administrative removal of a static member by its instance id.
                if (m.groupInstanceId != null && group.hasStaticMember(m.groupInstanceId)) {
                    removeCurrentMember(group, group.staticMemberId(m.groupInstanceId));
                    left.add(m.groupInstanceId);
                } else {
                    r.setErrorCode(Errors.UNKNOWN_MEMBER_ID.code());
                }
            } else if (group.isPendingMember(m.memberId)) {
                group.remove(m.memberId);
                timer.cancel(heartbeatKey(groupId, m.memberId));
                left.add(m.memberId);
            } else {
                try {
                    group.validateMember(m.memberId, m.groupInstanceId);
                    removeCurrentMember(group, m.memberId);
                    left.add(m.memberId);
                } catch (CoordinatorException e) {
                    r.setErrorCode(e.error().code());
                }
            }
            responses.add(r);
        }
        CoordinatorResult<Void> result = CoordinatorResult.empty();
        if (!left.isEmpty()) {
            String reason = "members " + left + " left the group";
            result = switch (group.state()) {
                case STABLE, COMPLETING_REBALANCE -> maybePrepareRebalanceOrCompleteJoin(group, reason);
                case PREPARING_REBALANCE -> maybeCompleteJoinPhase(group);
                default -> CoordinatorResult.empty();
            };
        }
        return result.withResponse(new LeaveGroupResponseData().setMembers(responses));
    }

    private void removeCurrentMember(ClassicGroup group, String memberId) {
        ClassicGroupMember member = group.member(memberId);
        timer.cancel(heartbeatKey(group.groupId(), memberId));
        log.info("Member {} left group {} through LeaveGroup", memberId, group.groupId());
        group.completeJoin(member, joinError("", Errors.UNKNOWN_MEMBER_ID));
        group.remove(memberId);
    }

    // =================================================================== OffsetCommit

    /** Commits offsets; the caller has already filtered out partitions that do not exist. */
    public CoordinatorResult<OffsetCommitResponseData> commitOffsets(RequestContext ctx, OffsetCommitRequestData request) {
        ClassicGroup group = groups.get(request.groupId);
        if (group == null) {
            if (request.generationIdOrMemberEpoch < 0) {
                // A consumer that assigns partitions itself (or an admin tool): a "simple" group holds its offsets.
                group = new ClassicGroup(request.groupId, GroupState.EMPTY, time.milliseconds());
                groups.put(request.groupId, group);
            } else if (ctx.apiVersion() >= 9) {
                throw new CoordinatorException(Errors.GROUP_ID_NOT_FOUND, "Group " + request.groupId + " not found");
            } else {
                throw new CoordinatorException(Errors.ILLEGAL_GENERATION, "Group " + request.groupId + " not found");
            }
        }
        group.validateOffsetCommit(request.memberId, request.groupInstanceId, request.generationIdOrMemberEpoch);
        if (group.isInState(GroupState.STABLE) || group.isInState(GroupState.PREPARING_REBALANCE)) {
            // A commit keeps a classic member's session alive.
            ClassicGroupMember member = group.member(request.memberId);
            if (member != null) {
                rescheduleHeartbeat(group, member, member.sessionTimeoutMs());
            }
        }
        long now = time.milliseconds();
        long expireTimestamp = request.retentionTimeMs == -1 ? -1 : now + request.retentionTimeMs;
        OffsetCommitResponseData response = new OffsetCommitResponseData();
        List<CoordinatorRecord> records = new ArrayList<>();
        for (OffsetCommitRequestData.OffsetCommitRequestTopic topic : request.topics) {
            OffsetCommitResponseTopic topicResponse = new OffsetCommitResponseTopic().setName(topic.name);
            response.topics.add(topicResponse);
            for (OffsetCommitRequestData.OffsetCommitRequestPartition p : topic.partitions) {
                OffsetCommitResponsePartition pr = new OffsetCommitResponsePartition().setPartitionIndex(p.partitionIndex);
                topicResponse.partitions.add(pr);
                if (p.committedMetadata != null && p.committedMetadata.length() > config.offsetMetadataMaxBytes()) {
                    pr.setErrorCode(Errors.OFFSET_METADATA_TOO_LARGE.code());
                    continue;
                }
                OffsetAndMetadata offset = new OffsetAndMetadata(p.committedOffset,
                        p.committedLeaderEpoch < 0 ? -1 : p.committedLeaderEpoch, p.committedMetadata,
                        p.commitTimestamp == -1 ? now : p.commitTimestamp, expireTimestamp, -1);
                records.add(CoordinatorRecord.offsetCommit(request.groupId, topic.name, p.partitionIndex, offset));
            }
        }
        return CoordinatorResult.of(records, response);
    }

    // =================================================================== TxnOffsetCommit

    /**
     * Offsets committed inside transactions, by producer id, then group, topic and partition. They become committed
     * offsets when the producer's COMMIT marker is replayed, and are dropped on ABORT (as Kafka's coordinator does).
     */
    private final Map<Long, Map<String, Map<String, Map<Integer, OffsetAndMetadata>>>> pendingTxnOffsets = new HashMap<>();

    /**
     * A producer's offsets for its open transaction (sendOffsetsToTransaction). The records go into one transactional
     * batch of the producer; the caller replays them with {@link #replayTransactional}.
     */
    public CoordinatorResult<TxnOffsetCommitResponseData> commitTransactionalOffsets(TxnOffsetCommitRequestData request) {
        ClassicGroup group = groups.get(request.groupId);
        if (group != null) {
            group.validateTxnOffsetCommit(request.memberId, request.groupInstanceId, request.generationIdOrMemberEpoch);
        } else if (request.generationIdOrMemberEpoch >= 0 || (request.memberId != null && !request.memberId.isEmpty())) {
            throw new CoordinatorException(Errors.UNKNOWN_MEMBER_ID, "Group " + request.groupId + " has no member " + request.memberId);
        }
        long now = time.milliseconds();
        TxnOffsetCommitResponseData response = new TxnOffsetCommitResponseData();
        List<CoordinatorRecord> records = new ArrayList<>();
        for (TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic topic : request.topics) {
            TxnOffsetCommitResponseData.TxnOffsetCommitResponseTopic tr =
                    new TxnOffsetCommitResponseData.TxnOffsetCommitResponseTopic().setName(topic.name);
            response.topics.add(tr);
            for (TxnOffsetCommitRequestData.TxnOffsetCommitRequestPartition p : topic.partitions) {
                TxnOffsetCommitResponseData.TxnOffsetCommitResponsePartition pr =
                        new TxnOffsetCommitResponseData.TxnOffsetCommitResponsePartition().setPartitionIndex(p.partitionIndex);
                tr.partitions.add(pr);
                if (p.committedMetadata != null && p.committedMetadata.length() > config.offsetMetadataMaxBytes()) {
                    pr.setErrorCode(Errors.OFFSET_METADATA_TOO_LARGE.code());
                    continue;
                }
                OffsetAndMetadata offset = new OffsetAndMetadata(p.committedOffset,
                        p.committedLeaderEpoch < 0 ? -1 : p.committedLeaderEpoch, p.committedMetadata, now, -1, -1);
                records.add(CoordinatorRecord.offsetCommit(request.groupId, topic.name, p.partitionIndex, offset));
            }
        }
        return CoordinatorResult.of(records, response);
    }

    /** Applies a record of a producer's transactional batch: an offset waiting for the transaction's end. */
    public void replayTransactional(long recordOffset, long producerId, CoordinatorRecord record) {
        if (!(record.key() instanceof OffsetCommitKey key) || record.value() == null) {
            return; // Kafka writes only offset commits in transactions
        }
        groups.computeIfAbsent(key.group, id -> new ClassicGroup(id, GroupState.EMPTY, time.milliseconds()));
        pendingTxnOffsets.computeIfAbsent(producerId, id -> new HashMap<>())
                .computeIfAbsent(key.group, g -> new HashMap<>())
                .computeIfAbsent(key.topic, t -> new HashMap<>())
                .put(key.partition, OffsetAndMetadata.fromRecord(recordOffset, (OffsetCommitValue) record.value()));
    }

    /**
     * A COMMIT or ABORT marker of the producer reached this partition: its pending offsets become committed offsets
     * (unless a commit written after them already replaced them) or are dropped.
     */
    public void completeTransaction(long producerId, boolean commit) {
        Map<String, Map<String, Map<Integer, OffsetAndMetadata>>> pending = pendingTxnOffsets.remove(producerId);
        if (pending == null || !commit) {
            return;
        }
        pending.forEach((groupId, byTopic) -> byTopic.forEach((topic, byPartition) -> byPartition.forEach((partition, o) -> {
            TreeMap<Integer, OffsetAndMetadata> committed = offsets.computeIfAbsent(groupId, g -> new TreeMap<>())
                    .computeIfAbsent(topic, t -> new TreeMap<>());
            OffsetAndMetadata existing = committed.get(partition);
            if (existing == null || existing.recordOffset() < o.recordOffset()) {
                committed.put(partition, o);
            }
        })));
    }

    /** Whether a transaction holds an offset of the partition for the group that is not committed or aborted yet. */
    public boolean hasPendingTransactionalOffset(String groupId, String topic, int partition) {
        for (Map<String, Map<String, Map<Integer, OffsetAndMetadata>>> byGroup : pendingTxnOffsets.values()) {
            Map<String, Map<Integer, OffsetAndMetadata>> byTopic = byGroup.get(groupId);
            Map<Integer, OffsetAndMetadata> byPartition = byTopic == null ? null : byTopic.get(topic);
            if (byPartition != null && byPartition.containsKey(partition)) {
                return true;
            }
        }
        return false;
    }

    // =================================================================== OffsetFetch

    /** Offsets of the given partitions; a group we do not have simply has no offsets (-1, no error). */
    public OffsetFetchResponseGroup fetchOffsets(OffsetFetchRequestGroup request) {
        return fetchOffsets(request, false);
    }

    /**
     * Offsets of the given partitions; with {@code requireStable} (read_committed consumers) a partition with an offset
     * in an open transaction gets UNSTABLE_OFFSET_COMMIT, so the consumer waits for the transaction's end.
     */
    public OffsetFetchResponseGroup fetchOffsets(OffsetFetchRequestGroup request, boolean requireStable) {
        Map<String, TreeMap<Integer, OffsetAndMetadata>> groupOffsets = offsetsOf(request.groupId);
        List<OffsetFetchResponseTopics> topics = new ArrayList<>();
        for (var topic : request.topics) {
            OffsetFetchResponseTopics tr = new OffsetFetchResponseTopics().setName(topic.name);
            topics.add(tr);
            Map<Integer, OffsetAndMetadata> byPartition = groupOffsets == null ? null : groupOffsets.get(topic.name);
            for (Integer partitionIndex : topic.partitionIndexes) {
                OffsetAndMetadata o = byPartition == null ? null : byPartition.get(partitionIndex);
                if (requireStable && hasPendingTransactionalOffset(request.groupId, topic.name, partitionIndex)) {
                    tr.partitions.add(noOffset(partitionIndex).setErrorCode(Errors.UNSTABLE_OFFSET_COMMIT.code()));
                    continue;
                }
                tr.partitions.add(o == null ? noOffset(partitionIndex) : fetched(partitionIndex, o));
            }
        }
        return new OffsetFetchResponseGroup().setGroupId(request.groupId).setTopics(topics);
    }

    /** Every committed offset of the group (OffsetFetch with null topics). */
    public OffsetFetchResponseGroup fetchAllOffsets(OffsetFetchRequestGroup request) {
        List<OffsetFetchResponseTopics> topics = new ArrayList<>();
        Map<String, TreeMap<Integer, OffsetAndMetadata>> groupOffsets = offsetsOf(request.groupId);
        if (groupOffsets != null) {
            groupOffsets.forEach((topic, byPartition) -> {
                OffsetFetchResponseTopics tr = new OffsetFetchResponseTopics().setName(topic);
                byPartition.forEach((p, o) -> tr.partitions.add(fetched(p, o)));
                topics.add(tr);
            });
        }
        return new OffsetFetchResponseGroup().setGroupId(request.groupId).setTopics(topics);
    }

    private Map<String, TreeMap<Integer, OffsetAndMetadata>> offsetsOf(String groupId) {
        ClassicGroup group = groups.get(groupId);
        if (group == null || group.isInState(GroupState.DEAD)) {
            return null;
        }
        return offsets.get(groupId);
    }

    private static OffsetFetchResponsePartitions noOffset(int partitionIndex) {
        return new OffsetFetchResponsePartitions().setPartitionIndex(partitionIndex).setCommittedOffset(INVALID_OFFSET)
                .setCommittedLeaderEpoch(-1).setMetadata(OffsetAndMetadata.NO_METADATA);
    }

    private static OffsetFetchResponsePartitions fetched(int partitionIndex, OffsetAndMetadata o) {
        return new OffsetFetchResponsePartitions().setPartitionIndex(partitionIndex).setCommittedOffset(o.committedOffset())
                .setCommittedLeaderEpoch(o.leaderEpoch()).setMetadata(o.metadata());
    }

    /** The committed offset of one partition, or null. */
    public OffsetAndMetadata committedOffset(String groupId, String topic, int partitionIndex) {
        Map<String, TreeMap<Integer, OffsetAndMetadata>> g = offsets.get(groupId);
        if (g == null) {
            return null;
        }
        Map<Integer, OffsetAndMetadata> t = g.get(topic);
        return t == null ? null : t.get(partitionIndex);
    }

    // =================================================================== ListGroups / DescribeGroups

    /**
     * Groups matching the filters: states case-insensitively (ListGroups v4+), types (v5+: only "classic" groups live
     * here). An empty filter matches everything.
     */
    public List<ListedGroup> listGroups(Collection<String> statesFilter, Collection<String> typesFilter) {
        Set<String> states = statesFilter.stream().map(s -> s.trim().toLowerCase(Locale.ROOT)).collect(Collectors.toSet());
        Set<String> types = typesFilter.stream().map(s -> s.trim().toLowerCase(Locale.ROOT)).collect(Collectors.toSet());
        List<ListedGroup> out = new ArrayList<>();
        for (ClassicGroup g : groups.values()) {
            boolean stateOk = states.isEmpty() || states.contains(g.state().lowerCaseName());
            boolean typeOk = types.isEmpty() || types.contains("classic");
            if (stateOk && typeOk) {
                out.add(new ListedGroup()
                        .setGroupId(g.groupId())
                        .setProtocolType(g.protocolType() == null ? "" : g.protocolType())
                        .setGroupState(g.state().toString())
                        .setGroupType("classic"));
            }
        }
        return out;
    }

    /** Unknown groups are described as Dead with no error, as Kafka does. */
    public List<DescribedGroup> describeGroups(List<String> groupIds) {
        List<DescribedGroup> out = new ArrayList<>();
        for (String groupId : groupIds) {
            ClassicGroup g = groups.get(groupId);
            if (g == null) {
                out.add(new DescribedGroup().setGroupId(groupId).setGroupState(GroupState.DEAD.toString())
                        .setProtocolType("").setProtocolData(""));
                continue;
            }
            boolean stable = g.isInState(GroupState.STABLE);
            List<DescribedGroupMember> members = new ArrayList<>();
            for (ClassicGroupMember m : g.allMembers()) {
                members.add(new DescribedGroupMember()
                        .setMemberId(m.memberId())
                        .setGroupInstanceId(m.groupInstanceId())
                        .setClientId(m.clientId())
                        .setClientHost(m.clientHost())
                        .setMemberMetadata(stable ? m.metadata(g.protocolName()) : new byte[0])
                        .setMemberAssignment(m.assignment()));
            }
            out.add(new DescribedGroup()
                    .setGroupId(groupId)
                    .setGroupState(g.state().toString())
                    .setProtocolType(g.protocolType() == null ? "" : g.protocolType())
                    .setProtocolData(stable ? g.protocolName() : "")
                    .setMembers(members));
        }
        return out;
    }

    // =================================================================== DeleteGroups / OffsetDelete

    /** Deletes empty groups with all their offsets; the result holds one error code per group id. */
    public CoordinatorResult<Map<String, Errors>> deleteGroups(List<String> groupIds) {
        Map<String, Errors> results = new LinkedHashMap<>();
        List<CoordinatorRecord> records = new ArrayList<>();
        for (String groupId : groupIds) {
            ClassicGroup group = groups.get(groupId);
            if (group == null || group.isInState(GroupState.DEAD)) {
                results.put(groupId, Errors.GROUP_ID_NOT_FOUND);
                continue;
            }
            if (!group.isEmpty()) {
                results.put(groupId, Errors.NON_EMPTY_GROUP);
                continue;
            }
            Map<String, TreeMap<Integer, OffsetAndMetadata>> groupOffsets = offsets.get(groupId);
            if (groupOffsets != null) {
                groupOffsets.forEach((topic, byPartition) -> byPartition.keySet()
                        .forEach(p -> records.add(CoordinatorRecord.offsetCommitTombstone(groupId, topic, p))));
            }
            records.add(CoordinatorRecord.groupMetadataTombstone(groupId));
            results.put(groupId, Errors.NONE);
        }
        return CoordinatorResult.of(records, results);
    }

    public CoordinatorResult<OffsetDeleteResponseData> deleteOffsets(OffsetDeleteRequestData request) {
        ClassicGroup group = groups.get(request.groupId);
        if (group == null || group.isInState(GroupState.DEAD)) {
            throw new CoordinatorException(Errors.GROUP_ID_NOT_FOUND, "Group " + request.groupId + " not found");
        }
        if (!group.isEmpty() && !group.usesConsumerProtocol()) {
            // Without the consumer protocol we cannot tell which topics the members use.
            throw new CoordinatorException(Errors.NON_EMPTY_GROUP);
        }
        List<CoordinatorRecord> records = new ArrayList<>();
        OffsetDeleteResponseData response = new OffsetDeleteResponseData();
        for (OffsetDeleteRequestData.OffsetDeleteRequestTopic topic : request.topics) {
            OffsetDeleteResponseData.OffsetDeleteResponseTopic tr = new OffsetDeleteResponseData.OffsetDeleteResponseTopic()
                    .setName(topic.name);
            boolean subscribed = group.isSubscribedToTopic(topic.name);
            for (OffsetDeleteRequestData.OffsetDeleteRequestPartition p : topic.partitions) {
                OffsetDeleteResponseData.OffsetDeleteResponsePartition pr = new OffsetDeleteResponseData.OffsetDeleteResponsePartition()
                        .setPartitionIndex(p.partitionIndex);
                if (subscribed) {
                    pr.setErrorCode(Errors.GROUP_SUBSCRIBED_TO_TOPIC.code());
                } else if (committedOffset(request.groupId, topic.name, p.partitionIndex) != null) {
                    records.add(CoordinatorRecord.offsetCommitTombstone(request.groupId, topic.name, p.partitionIndex));
                }
                tr.partitions.add(pr);
            }
            response.topics.add(tr);
        }
        return CoordinatorResult.of(records, response);
    }

    /** A topic (or some of its partitions) was deleted: drop every group's offsets for them. */
    public CoordinatorResult<Void> onPartitionsDeleted(String topic, Collection<Integer> partitions) {
        List<CoordinatorRecord> records = new ArrayList<>();
        offsets.forEach((groupId, byTopic) -> {
            Map<Integer, OffsetAndMetadata> byPartition = byTopic.get(topic);
            if (byPartition != null) {
                for (Integer p : byPartition.keySet()) {
                    if (partitions == null || partitions.contains(p)) {
                        records.add(CoordinatorRecord.offsetCommitTombstone(groupId, topic, p));
                    }
                }
            }
        });
        return CoordinatorResult.of(records, null);
    }

    // =================================================================== retention

    /**
     * Expires offsets past offsets.retention.minutes (for an Empty group counted from when it became Empty; for a
     * Stable consumer group only offsets of topics it no longer subscribes to), and deletes groups left with nothing.
     */
    public CoordinatorResult<Void> cleanupGroupMetadata() {
        long now = time.milliseconds();
        List<CoordinatorRecord> records = new ArrayList<>();
        for (ClassicGroup group : List.copyOf(groups.values())) {
            if (cleanupExpiredOffsets(group, now, records) && group.isEmpty()) {
                records.add(CoordinatorRecord.groupMetadataTombstone(group.groupId()));
            }
        }
        timer.schedule(EXPIRATION_KEY, config.offsetsRetentionCheckIntervalMs(), this::cleanupGroupMetadata);
        return CoordinatorResult.of(records, null);
    }

    private boolean cleanupExpiredOffsets(ClassicGroup group, long now, List<CoordinatorRecord> records) {
        Map<String, TreeMap<Integer, OffsetAndMetadata>> byTopic = offsets.get(group.groupId());
        if (byTopic == null) {
            return true;
        }
        // Which timestamp an offset's retention counts from, or null when this group's offsets do not expire now.
        java.util.function.ToLongFunction<OffsetAndMetadata> base;
        if (group.protocolType() == null) {
            base = OffsetAndMetadata::commitTimestampMs;
        } else if (group.isEmpty()) {
            long since = group.currentStateTimestamp();
            base = o -> since >= 0 ? since : o.commitTimestampMs();
        } else if (group.usesConsumerProtocol() && group.subscribedTopics().isPresent() && group.isInState(GroupState.STABLE)) {
            base = OffsetAndMetadata::commitTimestampMs;
        } else {
            return false;
        }
        boolean allExpired = true;
        for (Map.Entry<String, TreeMap<Integer, OffsetAndMetadata>> e : byTopic.entrySet()) {
            if (group.isSubscribedToTopic(e.getKey())) {
                allExpired = false;
                continue;
            }
            for (Map.Entry<Integer, OffsetAndMetadata> pe : e.getValue().entrySet()) {
                OffsetAndMetadata o = pe.getValue();
                boolean expired = o.hasExpireTimestamp()
                        ? now >= o.expireTimestampMs()
                        : now - base.applyAsLong(o) >= config.offsetsRetentionMs();
                if (expired) {
                    records.add(CoordinatorRecord.offsetCommitTombstone(group.groupId(), e.getKey(), pe.getKey()));
                } else {
                    allExpired = false;
                }
            }
        }
        return allExpired;
    }

    // =================================================================== replay and loading

    /** Applies one record, whether read back from the log while loading or just produced by an operation. */
    public void replay(long recordOffset, CoordinatorRecord record) {
        if (record.key() instanceof OffsetCommitKey key) {
            replayOffsetCommit(recordOffset, key, (OffsetCommitValue) record.value());
        } else if (record.key() instanceof GroupMetadataKey key) {
            replayGroupMetadata(key, (GroupMetadataValue) record.value());
        } else {
            throw new IllegalArgumentException("Unexpected record key " + record.key());
        }
    }

    private void replayOffsetCommit(long recordOffset, OffsetCommitKey key, OffsetCommitValue value) {
        if (value == null) {
            Map<String, TreeMap<Integer, OffsetAndMetadata>> byTopic = offsets.get(key.group);
            if (byTopic != null) {
                Map<Integer, OffsetAndMetadata> byPartition = byTopic.get(key.topic);
                if (byPartition != null) {
                    byPartition.remove(key.partition);
                    if (byPartition.isEmpty()) {
                        byTopic.remove(key.topic);
                    }
                }
                if (byTopic.isEmpty()) {
                    offsets.remove(key.group);
                }
            }
            return;
        }
        // Offsets without a group come from consumers that assign partitions themselves: a simple group holds them.
        groups.computeIfAbsent(key.group, id -> new ClassicGroup(id, GroupState.EMPTY, time.milliseconds()));
        offsets.computeIfAbsent(key.group, g -> new TreeMap<>())
                .computeIfAbsent(key.topic, t -> new TreeMap<>())
                .put(key.partition, OffsetAndMetadata.fromRecord(recordOffset, value));
    }

    private void replayGroupMetadata(GroupMetadataKey key, GroupMetadataValue value) {
        if (value == null) {
            ClassicGroup removed = groups.remove(key.group);
            if (removed != null) {
                cancelGroupTimers(removed);
            }
            return;
        }
        String protocolType = value.protocolType == null || value.protocolType.isEmpty() ? null : value.protocolType;
        ClassicGroup group = new ClassicGroup(key.group, value.members.isEmpty() ? GroupState.EMPTY : GroupState.STABLE,
                value.generation, protocolType, value.protocol, value.leader, value.currentStateTimestamp);
        for (GroupMetadataValue.MemberMetadata m : value.members) {
            int rebalanceTimeout = m.rebalanceTimeout == -1 ? m.sessionTimeout : m.rebalanceTimeout;
            JoinGroupRequestData.JoinGroupRequestProtocol protocol = new JoinGroupRequestData.JoinGroupRequestProtocol()
                    .setName(value.protocol).setMetadata(m.subscription);
            group.add(new ClassicGroupMember(m.memberId, m.groupInstanceId, m.clientId, m.clientHost, rebalanceTimeout,
                    m.sessionTimeout, value.protocolType, List.of(protocol), m.assignment), null);
        }
        group.refreshSubscribedTopics();
        ClassicGroup previous = groups.put(key.group, group);
        if (previous != null && previous != group) {
            cancelGroupTimers(previous);
        }
    }

    private void cancelGroupTimers(ClassicGroup group) {
        timer.cancel(joinKey(group.groupId()));
        timer.cancel(syncKey(group.groupId()));
        for (String memberId : group.allMemberIds()) {
            timer.cancel(heartbeatKey(group.groupId(), memberId));
        }
    }

    /** Loading finished: start the session clocks of the loaded members and the retention check. */
    public void onLoaded() {
        for (ClassicGroup group : groups.values()) {
            for (ClassicGroupMember member : group.allMembers()) {
                rescheduleHeartbeat(group, member, member.sessionTimeoutMs());
            }
            if (group.numMembers() > config.maxGroupSize()) {
                prepareRebalance(group, "the loaded group is over group.max.size");
            }
        }
        timer.schedule(EXPIRATION_KEY, config.offsetsRetentionCheckIntervalMs(), this::cleanupGroupMetadata);
    }

    /** The partition is given up: every group is Dead and parked requests are told to find the coordinator again. */
    public void onUnloaded() {
        timer.cancel(EXPIRATION_KEY);
        for (ClassicGroup group : groups.values()) {
            GroupState before = group.state();
            group.transitionTo(GroupState.DEAD, time.milliseconds());
            cancelGroupTimers(group);
            for (ClassicGroupMember m : List.copyOf(group.allMembers())) {
                if (before == GroupState.PREPARING_REBALANCE) {
                    group.completeJoin(m, joinError(m.memberId(), Errors.NOT_COORDINATOR));
                } else if (before == GroupState.COMPLETING_REBALANCE || before == GroupState.STABLE) {
                    group.completeSync(m, syncError(Errors.NOT_COORDINATOR));
                }
            }
        }
    }

    // =================================================================== views (tests, metrics)

    public Set<String> groupIds() {
        return java.util.Collections.unmodifiableSet(groups.keySet());
    }

    /** The group's state, or null when the group does not exist. */
    public GroupState groupState(String groupId) {
        ClassicGroup g = groups.get(groupId);
        return g == null ? null : g.state();
    }

    public int generationId(String groupId) {
        ClassicGroup g = groups.get(groupId);
        return g == null ? -1 : g.generationId();
    }

    public Set<String> memberIds(String groupId) {
        ClassicGroup g = groups.get(groupId);
        return g == null ? Set.of() : Set.copyOf(g.allMemberIds());
    }

    public String leader(String groupId) {
        ClassicGroup g = groups.get(groupId);
        return g == null ? null : g.leaderOrNull();
    }

    // =================================================================== helpers

    private GroupMetadataValue groupMetadataValue(ClassicGroup group, Map<String, byte[]> assignment) {
        List<GroupMetadataValue.MemberMetadata> members = new ArrayList<>();
        for (ClassicGroupMember m : group.allMembers()) {
            byte[] memberAssignment = assignment.get(m.memberId());
            if (memberAssignment == null) {
                throw new IllegalStateException("Member " + m.memberId() + " of group " + group.groupId() + " has no assignment");
            }
            GroupMetadataValue.MemberMetadata mm = new GroupMetadataValue.MemberMetadata();
            mm.memberId = m.memberId();
            mm.groupInstanceId = m.groupInstanceId();
            mm.clientId = m.clientId();
            mm.clientHost = m.clientHost();
            mm.rebalanceTimeout = m.rebalanceTimeoutMs();
            mm.sessionTimeout = m.sessionTimeoutMs();
            mm.subscription = m.metadata(group.protocolName());
            mm.assignment = memberAssignment;
            members.add(mm);
        }
        return groupMetadataValue(group.protocolType() == null ? "" : group.protocolType(), group.generationId(),
                group.protocolName(), group.leaderOrNull(), group.currentStateTimestamp(), members);
    }

    private static GroupMetadataValue groupMetadataValue(String protocolType, int generation, String protocol, String leader,
                                                         long currentStateTimestamp, List<GroupMetadataValue.MemberMetadata> members) {
        GroupMetadataValue v = new GroupMetadataValue();
        v.protocolType = protocolType;
        v.generation = generation;
        v.protocol = protocol;
        v.leader = leader;
        v.currentStateTimestamp = currentStateTimestamp;
        v.members = members;
        return v;
    }

    private CoordinatorRecord groupMetadataRecord(ClassicGroup group, Map<String, byte[]> assignment) {
        return CoordinatorRecord.groupMetadata(group.groupId(), groupMetadataValue(group, assignment));
    }

    private CoordinatorRecord emptyGroupMetadataRecord(ClassicGroup group) {
        return CoordinatorRecord.groupMetadata(group.groupId(),
                groupMetadataValue("", 0, null, null, group.currentStateTimestamp(), new ArrayList<>()));
    }

    private static Map<String, byte[]> currentAssignment(ClassicGroup group) {
        Map<String, byte[]> out = new HashMap<>();
        for (ClassicGroupMember m : group.allMembers()) {
            out.put(m.memberId(), m.assignment());
        }
        return out;
    }

    static JoinGroupResponseData joinError(String memberId, Errors error) {
        return new JoinGroupResponseData().setMemberId(memberId).setErrorCode(error.code());
    }

    static SyncGroupResponseData syncError(Errors error) {
        return new SyncGroupResponseData().setErrorCode(error.code()).setAssignment(ClassicGroupMember.EMPTY_ASSIGNMENT);
    }

    static String heartbeatKey(String groupId, String memberId) {
        return "heartbeat-" + groupId + "-" + memberId;
    }

    static String joinKey(String groupId) {
        return "join-" + groupId;
    }

    static String syncKey(String groupId) {
        return "sync-" + groupId;
    }
}
