package dev.runnel.groupcoord;

import dev.runnel.wire.Errors;
import dev.runnel.wire.message.JoinGroupRequestData.JoinGroupRequestProtocol;
import dev.runnel.wire.message.JoinGroupResponseData;
import dev.runnel.wire.message.SyncGroupResponseData;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * A classic (JoinGroup/SyncGroup) group: membership, generation, chosen protocol, leader and state. Pure data plus
 * Kafka's bookkeeping rules; the shard decides when things happen.
 */
final class ClassicGroup {
    static final String CONSUMER_PROTOCOL_TYPE = "consumer";

    private final String groupId;
    private GroupState state;
    private GroupState previousState = GroupState.DEAD;
    private long currentStateTimestamp;
    private String protocolType;
    private String protocolName;
    private int generationId;
    private String leaderId;
    /** Insertion-ordered, so leader election and responses are deterministic. */
    private final Map<String, ClassicGroupMember> members = new LinkedHashMap<>();
    private final Map<String, String> staticMembers = new HashMap<>();
    /** Dynamic members that got MEMBER_ID_REQUIRED and have not rejoined yet. */
    private final Set<String> pendingJoinMembers = new LinkedHashSet<>();
    private final Set<String> pendingSyncMembers = new LinkedHashSet<>();
    private final Map<String, Integer> supportedProtocols = new HashMap<>();
    private int numMembersAwaitingJoin;
    private Optional<Set<String>> subscribedTopics = Optional.empty();
    private boolean newMemberAdded;

    ClassicGroup(String groupId, GroupState state, long nowMs) {
        this(groupId, state, 0, null, null, null, nowMs);
    }

    ClassicGroup(String groupId, GroupState state, int generationId, String protocolType, String protocolName, String leaderId,
                 long currentStateTimestamp) {
        this.groupId = groupId;
        this.state = state;
        this.generationId = generationId;
        this.protocolType = protocolType;
        this.protocolName = protocolName;
        this.leaderId = leaderId;
        this.currentStateTimestamp = currentStateTimestamp;
    }

    String groupId() {
        return groupId;
    }

    GroupState state() {
        return state;
    }

    GroupState previousState() {
        return previousState;
    }

    boolean isInState(GroupState s) {
        return state == s;
    }

    int generationId() {
        return generationId;
    }

    /** Null when no protocol type is known (a "simple" group that only stores offsets). */
    String protocolType() {
        return protocolType;
    }

    String protocolName() {
        return protocolName;
    }

    String leaderOrNull() {
        return leaderId;
    }

    boolean isLeader(String memberId) {
        return leaderId != null && leaderId.equals(memberId);
    }

    /** -1 when unknown (old records). */
    long currentStateTimestamp() {
        return currentStateTimestamp;
    }

    boolean newMemberAdded() {
        return newMemberAdded;
    }

    void setNewMemberAdded(boolean v) {
        newMemberAdded = v;
    }

    boolean usesConsumerProtocol() {
        return CONSUMER_PROTOCOL_TYPE.equals(protocolType);
    }

    boolean isEmpty() {
        return state == GroupState.EMPTY;
    }

    // ------------------------------------------------------------------ members

    boolean hasMember(String memberId) {
        return members.containsKey(memberId);
    }

    ClassicGroupMember member(String memberId) {
        return members.get(memberId);
    }

    int numMembers() {
        return members.size();
    }

    Collection<ClassicGroupMember> allMembers() {
        return members.values();
    }

    Set<String> allMemberIds() {
        return members.keySet();
    }

    void add(ClassicGroupMember member, CompletableFuture<JoinGroupResponseData> future) {
        if (member.groupInstanceId() != null) {
            if (staticMembers.containsKey(member.groupInstanceId())) {
                throw new IllegalStateException("Static member " + member.groupInstanceId() + " is already in group " + groupId);
            }
            staticMembers.put(member.groupInstanceId(), member.memberId());
        }
        if (members.isEmpty()) {
            protocolType = member.protocolType();
        }
        if (!member.protocolType().equals(protocolType)) {
            throw new IllegalStateException("The group's and the member's protocol types differ");
        }
        if (leaderId == null) {
            leaderId = member.memberId();
        }
        members.put(member.memberId(), member);
        incrementSupportedProtocols(member);
        member.setAwaitingJoin(future);
        if (member.isAwaitingJoin()) {
            numMembersAwaitingJoin++;
        }
        pendingJoinMembers.remove(member.memberId());
    }

    void remove(String memberId) {
        ClassicGroupMember removed = members.remove(memberId);
        if (removed != null) {
            decrementSupportedProtocols(removed);
            if (removed.isAwaitingJoin()) {
                numMembersAwaitingJoin--;
            }
            if (removed.groupInstanceId() != null) {
                staticMembers.remove(removed.groupInstanceId());
            }
        }
        if (isLeader(memberId)) {
            Iterator<String> it = members.keySet().iterator();
            leaderId = it.hasNext() ? it.next() : null;
        }
        pendingJoinMembers.remove(memberId);
        pendingSyncMembers.remove(memberId);
    }

    /** Makes sure the leader is a member that rejoined; false when no member rejoined at all. */
    boolean maybeElectNewJoinedLeader() {
        if (leaderId == null) {
            return false;
        }
        ClassicGroupMember leader = members.get(leaderId);
        if (leader != null && leader.isAwaitingJoin()) {
            return true;
        }
        for (ClassicGroupMember m : members.values()) {
            if (m.isAwaitingJoin()) {
                leaderId = m.memberId();
                return true;
            }
        }
        return false;
    }

    /**
     * A static member rejoined with an unknown member id: it takes over the old member's place under a new id, and
     * whoever still waits under the old id is fenced.
     */
    ClassicGroupMember replaceStaticMember(String groupInstanceId, String oldMemberId, String newMemberId) {
        ClassicGroupMember old = members.remove(oldMemberId);
        if (old == null) {
            throw new IllegalArgumentException("Cannot replace non-existing member " + oldMemberId);
        }
        completeJoin(old, new JoinGroupResponseData()
                .setMembers(new ArrayList<>())
                .setMemberId(oldMemberId)
                .setProtocolName(null)
                .setProtocolType(null)
                .setLeader("")
                .setErrorCode(Errors.FENCED_INSTANCE_ID.code()));
        completeSync(old, new SyncGroupResponseData()
                .setAssignment(ClassicGroupMember.EMPTY_ASSIGNMENT)
                .setErrorCode(Errors.FENCED_INSTANCE_ID.code()));
        ClassicGroupMember replacement = new ClassicGroupMember(newMemberId, old.groupInstanceId(), old.clientId(),
                old.clientHost(), old.rebalanceTimeoutMs(), old.sessionTimeoutMs(), old.protocolType(), old.protocols(),
                old.assignment());
        members.put(newMemberId, replacement);
        if (isLeader(oldMemberId)) {
            leaderId = newMemberId;
        }
        staticMembers.put(groupInstanceId, newMemberId);
        return replacement;
    }

    void updateMember(ClassicGroupMember member, List<JoinGroupRequestProtocol> protocols, int rebalanceTimeoutMs,
                      int sessionTimeoutMs, CompletableFuture<JoinGroupResponseData> future) {
        decrementSupportedProtocols(member);
        member.setProtocols(protocols);
        incrementSupportedProtocols(member);
        member.setTimeouts(rebalanceTimeoutMs, sessionTimeoutMs);
        if (future != null && !member.isAwaitingJoin()) {
            numMembersAwaitingJoin++;
        } else if (future == null && member.isAwaitingJoin()) {
            numMembersAwaitingJoin--;
        }
        member.setAwaitingJoin(future);
    }

    boolean completeJoin(ClassicGroupMember member, JoinGroupResponseData response) {
        if (member.isAwaitingJoin()) {
            CompletableFuture<JoinGroupResponseData> f = member.awaitingJoin();
            member.setAwaitingJoin(null);
            numMembersAwaitingJoin--;
            f.complete(response);
            return true;
        }
        return false;
    }

    boolean completeSync(ClassicGroupMember member, SyncGroupResponseData response) {
        if (member.isAwaitingSync()) {
            CompletableFuture<SyncGroupResponseData> f = member.awaitingSync();
            member.setAwaitingSync(null);
            f.complete(response);
            return true;
        }
        return false;
    }

    // ------------------------------------------------------------------ pending members

    boolean isPendingMember(String memberId) {
        return pendingJoinMembers.contains(memberId);
    }

    void addPendingMember(String memberId) {
        if (hasMember(memberId)) {
            throw new IllegalStateException("Member " + memberId + " is already a member of group " + groupId);
        }
        pendingJoinMembers.add(memberId);
    }

    int numPendingJoinMembers() {
        return pendingJoinMembers.size();
    }

    void addPendingSyncMember(String memberId) {
        pendingSyncMembers.add(memberId);
    }

    void removePendingSyncMember(String memberId) {
        pendingSyncMembers.remove(memberId);
    }

    boolean hasReceivedSyncFromAllMembers() {
        return pendingSyncMembers.isEmpty();
    }

    Set<String> pendingSyncMembers() {
        return pendingSyncMembers;
    }

    void clearPendingSyncMembers() {
        pendingSyncMembers.clear();
    }

    boolean hasStaticMember(String groupInstanceId) {
        return staticMembers.containsKey(groupInstanceId);
    }

    String staticMemberId(String groupInstanceId) {
        return staticMembers.get(groupInstanceId);
    }

    List<ClassicGroupMember> notYetRejoinedMembers() {
        List<ClassicGroupMember> out = new ArrayList<>();
        for (ClassicGroupMember m : members.values()) {
            if (!m.isAwaitingJoin()) {
                out.add(m);
            }
        }
        return out;
    }

    boolean hasAllMembersJoined() {
        return members.size() == numMembersAwaitingJoin && pendingJoinMembers.isEmpty();
    }

    int numAwaitingJoinResponse() {
        return numMembersAwaitingJoin;
    }

    /** The largest rebalance timeout among the members: how long a rebalance may wait for them. */
    int rebalanceTimeoutMs() {
        int max = 0;
        for (ClassicGroupMember m : members.values()) {
            max = Math.max(max, m.rebalanceTimeoutMs());
        }
        return max;
    }

    // ------------------------------------------------------------------ validation

    /**
     * Checks the caller is the member it claims to be: a static member must present the member id currently
     * mapped to its instance id (else FENCED_INSTANCE_ID), and the member id must be known (else UNKNOWN_MEMBER_ID).
     */
    void validateMember(String memberId, String groupInstanceId) {
        if (groupInstanceId != null) {
            String existing = staticMembers.get(groupInstanceId);
            if (existing == null) {
                throw new CoordinatorException(Errors.UNKNOWN_MEMBER_ID,
                        "Static member " + groupInstanceId + " is not a member of group " + groupId);
            }
            if (!existing.equals(memberId)) {
                throw new CoordinatorException(Errors.FENCED_INSTANCE_ID, "Static member " + groupInstanceId
                        + " of group " + groupId + " is now member " + existing + ", not " + memberId);
            }
        }
        if (!hasMember(memberId)) {
            throw new CoordinatorException(Errors.UNKNOWN_MEMBER_ID, "Member " + memberId + " is not in group " + groupId);
        }
    }

    /** Kafka's rules for OffsetCommit against a classic group. */
    void validateOffsetCommit(String memberId, String groupInstanceId, int generationId) {
        validateTxnOffsetCommit(memberId, groupInstanceId, generationId);
        if (state == GroupState.COMPLETING_REBALANCE) {
            throw new CoordinatorException(Errors.REBALANCE_IN_PROGRESS);
        }
    }

    /** The checks of a transactional offset commit: those of a commit, but allowed during a rebalance (as Kafka). */
    void validateTxnOffsetCommit(String memberId, String groupInstanceId, int generationId) {
        if (state == GroupState.DEAD) {
            throw new CoordinatorException(Errors.COORDINATOR_NOT_AVAILABLE);
        }
        if (generationId < 0 && state == GroupState.EMPTY) {
            // An admin client or a consumer that assigns partitions itself: allowed while nobody is a member.
            return;
        }
        if (generationId >= 0 || !memberId.isEmpty() || groupInstanceId != null) {
            validateMember(memberId, groupInstanceId);
            if (generationId != this.generationId) {
                throw new CoordinatorException(Errors.ILLEGAL_GENERATION, "Generation " + generationId
                        + " is not the current generation " + this.generationId + " of group " + groupId);
            }
        } else if (state != GroupState.EMPTY) {
            throw new CoordinatorException(Errors.UNKNOWN_MEMBER_ID,
                    "Group " + groupId + " has members: a commit without member id and generation is refused");
        }
    }

    // ------------------------------------------------------------------ protocols

    boolean supportsProtocols(String memberProtocolType, List<JoinGroupRequestProtocol> memberProtocols) {
        if (state == GroupState.EMPTY) {
            return memberProtocolType != null && !memberProtocolType.isEmpty() && !memberProtocols.isEmpty();
        }
        if (protocolType == null || !protocolType.equals(memberProtocolType)) {
            return false;
        }
        for (JoinGroupRequestProtocol p : memberProtocols) {
            if (supportedProtocols.getOrDefault(p.name, 0) == members.size()) {
                return true;
            }
        }
        return false;
    }

    /** The protocol every member supports that most members list first (Kafka's vote). */
    String selectProtocol() {
        if (members.isEmpty()) {
            throw new IllegalStateException("Cannot select a protocol for an empty group");
        }
        Set<String> candidates = new HashSet<>();
        supportedProtocols.forEach((name, count) -> {
            if (count == members.size()) {
                candidates.add(name);
            }
        });
        Map<String, Integer> votes = new LinkedHashMap<>();
        for (ClassicGroupMember m : members.values()) {
            votes.merge(m.vote(candidates), 1, Integer::sum);
        }
        String best = null;
        int bestVotes = -1;
        for (Map.Entry<String, Integer> e : votes.entrySet()) {
            if (e.getValue() > bestVotes) {
                best = e.getKey();
                bestVotes = e.getValue();
            }
        }
        return best;
    }

    private void incrementSupportedProtocols(ClassicGroupMember member) {
        for (JoinGroupRequestProtocol p : member.protocols()) {
            supportedProtocols.merge(p.name, 1, Integer::sum);
        }
    }

    private void decrementSupportedProtocols(ClassicGroupMember member) {
        for (JoinGroupRequestProtocol p : member.protocols()) {
            supportedProtocols.merge(p.name, -1, Integer::sum);
        }
    }

    // ------------------------------------------------------------------ state

    boolean canRebalance() {
        return GroupState.PREPARING_REBALANCE.validPreviousStates().contains(state);
    }

    void transitionTo(GroupState target, long nowMs) {
        if (!target.validPreviousStates().contains(state)) {
            throw new IllegalStateException("Group " + groupId + " cannot move from " + state + " to " + target);
        }
        previousState = state;
        state = target;
        currentStateTimestamp = nowMs;
    }

    /** Starts the next generation: a protocol is chosen and the group moves to CompletingRebalance, or to Empty. */
    void initNextGeneration(long nowMs) {
        generationId++;
        if (!members.isEmpty()) {
            protocolName = selectProtocol();
            subscribedTopics = computeSubscribedTopics();
            transitionTo(GroupState.COMPLETING_REBALANCE, nowMs);
        } else {
            protocolName = null;
            subscribedTopics = computeSubscribedTopics();
            transitionTo(GroupState.EMPTY, nowMs);
        }
        clearPendingSyncMembers();
    }

    // ------------------------------------------------------------------ subscriptions

    void refreshSubscribedTopics() {
        subscribedTopics = computeSubscribedTopics();
    }

    Optional<Set<String>> subscribedTopics() {
        return subscribedTopics;
    }

    /** Unknown subscriptions count as "subscribed" for consumer groups, so their offsets are never deleted by mistake. */
    boolean isSubscribedToTopic(String topic) {
        return subscribedTopics.map(t -> t.contains(topic)).orElse(usesConsumerProtocol());
    }

    private Optional<Set<String>> computeSubscribedTopics() {
        if (!usesConsumerProtocol()) {
            return Optional.empty();
        }
        if (members.isEmpty()) {
            return Optional.of(Set.of());
        }
        if (protocolName == null) {
            return Optional.empty();
        }
        Set<String> all = new HashSet<>();
        for (ClassicGroupMember m : members.values()) {
            Optional<List<String>> topics = ConsumerProtocolSubscription.topics(m.metadata(protocolName));
            if (topics.isEmpty()) {
                return Optional.empty();
            }
            all.addAll(topics.get());
        }
        return Optional.of(all);
    }
}
