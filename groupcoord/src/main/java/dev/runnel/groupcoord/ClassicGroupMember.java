package dev.runnel.groupcoord;

import dev.runnel.wire.message.JoinGroupRequestData.JoinGroupRequestProtocol;
import dev.runnel.wire.message.JoinGroupResponseData;
import dev.runnel.wire.message.SyncGroupResponseData;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/** A member of a classic group: its identity, timeouts, supported protocols, assignment and parked requests. */
final class ClassicGroupMember {
    static final byte[] EMPTY_ASSIGNMENT = new byte[0];

    private final String memberId;
    private final String groupInstanceId;
    private final String clientId;
    private final String clientHost;
    private int rebalanceTimeoutMs;
    private int sessionTimeoutMs;
    private final String protocolType;
    private List<JoinGroupRequestProtocol> protocols;
    private byte[] assignment;
    private CompletableFuture<JoinGroupResponseData> awaitingJoin;
    private CompletableFuture<SyncGroupResponseData> awaitingSync;
    /** Joined in the current rebalance and has not yet received a JoinGroup response: it cannot heartbeat yet. */
    private boolean isNew;

    ClassicGroupMember(String memberId, String groupInstanceId, String clientId, String clientHost, int rebalanceTimeoutMs,
                       int sessionTimeoutMs, String protocolType, List<JoinGroupRequestProtocol> protocols, byte[] assignment) {
        this.memberId = memberId;
        this.groupInstanceId = groupInstanceId;
        this.clientId = clientId;
        this.clientHost = clientHost;
        this.rebalanceTimeoutMs = rebalanceTimeoutMs;
        this.sessionTimeoutMs = sessionTimeoutMs;
        this.protocolType = protocolType;
        this.protocols = List.copyOf(protocols);
        this.assignment = assignment == null ? EMPTY_ASSIGNMENT : assignment;
    }

    String memberId() {
        return memberId;
    }

    String groupInstanceId() {
        return groupInstanceId;
    }

    boolean isStatic() {
        return groupInstanceId != null;
    }

    String clientId() {
        return clientId;
    }

    String clientHost() {
        return clientHost;
    }

    int rebalanceTimeoutMs() {
        return rebalanceTimeoutMs;
    }

    int sessionTimeoutMs() {
        return sessionTimeoutMs;
    }

    void setTimeouts(int rebalanceTimeoutMs, int sessionTimeoutMs) {
        this.rebalanceTimeoutMs = rebalanceTimeoutMs;
        this.sessionTimeoutMs = sessionTimeoutMs;
    }

    String protocolType() {
        return protocolType;
    }

    List<JoinGroupRequestProtocol> protocols() {
        return protocols;
    }

    void setProtocols(List<JoinGroupRequestProtocol> protocols) {
        this.protocols = List.copyOf(protocols);
    }

    byte[] assignment() {
        return assignment;
    }

    void setAssignment(byte[] assignment) {
        this.assignment = assignment == null ? EMPTY_ASSIGNMENT : assignment;
    }

    boolean hasAssignment() {
        return assignment.length > 0;
    }

    CompletableFuture<JoinGroupResponseData> awaitingJoin() {
        return awaitingJoin;
    }

    void setAwaitingJoin(CompletableFuture<JoinGroupResponseData> future) {
        this.awaitingJoin = future;
    }

    boolean isAwaitingJoin() {
        return awaitingJoin != null;
    }

    CompletableFuture<SyncGroupResponseData> awaitingSync() {
        return awaitingSync;
    }

    void setAwaitingSync(CompletableFuture<SyncGroupResponseData> future) {
        this.awaitingSync = future;
    }

    boolean isAwaitingSync() {
        return awaitingSync != null;
    }

    boolean isNew() {
        return isNew;
    }

    void setNew(boolean value) {
        this.isNew = value;
    }

    /** A member parked in JoinGroup or SyncGroup counts as alive; a new member does not (it has no id to heartbeat with). */
    boolean hasSatisfiedHeartbeat() {
        if (isNew) {
            return false;
        }
        return isAwaitingJoin() || isAwaitingSync();
    }

    /** The member's metadata for a protocol it supports. */
    byte[] metadata(String protocolName) {
        for (JoinGroupRequestProtocol p : protocols) {
            if (p.name.equals(protocolName)) {
                return p.metadata;
            }
        }
        throw new IllegalArgumentException("Member " + memberId + " does not support protocol " + protocolName);
    }

    /** Same protocols with the same metadata, in the same order. */
    boolean matches(List<JoinGroupRequestProtocol> other) {
        return protocols.equals(other);
    }

    /** The member's first choice among the protocols every member supports. */
    String vote(Set<String> candidates) {
        for (JoinGroupRequestProtocol p : protocols) {
            if (candidates.contains(p.name)) {
                return p.name;
            }
        }
        throw new IllegalArgumentException("Member " + memberId + " supports none of the candidate protocols " + candidates);
    }

    @Override
    public String toString() {
        return "ClassicGroupMember(memberId=" + memberId + ", groupInstanceId=" + groupInstanceId + ", clientId=" + clientId
                + ", sessionTimeoutMs=" + sessionTimeoutMs + ", rebalanceTimeoutMs=" + rebalanceTimeoutMs + ")";
    }
}
