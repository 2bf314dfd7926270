package dev.runnel.groupcoord;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.wire.Errors;
import dev.runnel.wire.message.HeartbeatRequestData;
import dev.runnel.wire.message.JoinGroupRequestData;
import dev.runnel.wire.message.JoinGroupRequestData.JoinGroupRequestProtocol;
import dev.runnel.wire.message.JoinGroupResponseData;
import dev.runnel.wire.message.LeaveGroupRequestData;
import dev.runnel.wire.message.LeaveGroupResponseData;
import dev.runnel.wire.message.OffsetCommitRequestData;
import dev.runnel.wire.message.OffsetCommitResponseData;
import dev.runnel.wire.message.OffsetFetchRequestData;
import dev.runnel.wire.message.OffsetFetchResponseData;
import dev.runnel.wire.message.SyncGroupRequestData;
import dev.runnel.wire.message.SyncGroupResponseData;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * A coordinator wired to a manual clock and an in-memory log, plus members that speak to it the way a Java consumer
 * does, so tests read as stories.
 */
final class GroupTestKit {
    static final int SESSION_TIMEOUT_MS = 10_000;
    static final int REBALANCE_TIMEOUT_MS = 30_000;

    final ManualClock clock = new ManualClock(1_700_000_000_000L);
    final InMemoryLog log;
    final GroupCoordinatorConfig config;
    final Map<String, Integer> topics = new HashMap<>();
    GroupCoordinator coordinator;
    private int ids;

    GroupTestKit() {
        this(GroupCoordinatorConfig.defaults());
    }

    GroupTestKit(GroupCoordinatorConfig config) {
        this(config, new InMemoryLog());
    }

    GroupTestKit(GroupCoordinatorConfig config, InMemoryLog log) {
        this.config = config;
        this.log = log;
        this.coordinator = newCoordinator();
        coordinator.loadAll();
    }

    GroupCoordinator newCoordinator() {
        return new GroupCoordinator(config, clock, clock, log,
                (topic, p) -> topics.containsKey(topic) && p >= 0 && p < topics.get(topic), () -> "uuid" + (++ids));
    }

    /** Simulates a broker restart: a fresh coordinator over the same log. */
    void restart() {
        for (int p = 0; p < coordinator.numPartitions(); p++) {
            coordinator.unload(p);
        }
        coordinator = newCoordinator();
        coordinator.loadAll();
    }

    GroupTestKit topic(String name, int partitions) {
        topics.put(name, partitions);
        return this;
    }

    Member member(String groupId, String clientId) {
        return new Member(groupId, clientId);
    }

    static RequestContext ctx(int version, String clientId) {
        return RequestContext.of(version, clientId, "/127.0.0.1");
    }

    /** The consumer protocol's subscription (v0 layout): the topics, no user data. */
    static byte[] subscription(String... topics) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeShort(0);
            out.writeInt(topics.length);
            for (String t : topics) {
                byte[] b = t.getBytes(StandardCharsets.UTF_8);
                out.writeShort(b.length);
                out.write(b);
            }
            out.writeInt(-1);
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    static <T> T done(CompletableFuture<T> f) {
        assertTrue(f.isDone(), "expected the response to be ready");
        return f.join();
    }

    /** A group member as a Java consumer drives it. */
    final class Member {
        final String groupId;
        final String clientId;
        String groupInstanceId;
        String memberId = "";
        int generation = -1;
        String leader;
        List<JoinGroupResponseData.JoinGroupResponseMember> joinMembers = List.of();
        byte[] assignment;
        int joinVersion = 9;
        int sessionTimeoutMs = SESSION_TIMEOUT_MS;
        int rebalanceTimeoutMs = REBALANCE_TIMEOUT_MS;
        String protocolType = "consumer";
        final LinkedHashMap<String, byte[]> protocols = new LinkedHashMap<>();

        Member(String groupId, String clientId) {
            this.groupId = groupId;
            this.clientId = clientId;
            protocols.put("range", subscription("orders"));
        }

        Member instance(String id) {
            this.groupInstanceId = id;
            return this;
        }

        Member joinVersion(int v) {
            this.joinVersion = v;
            return this;
        }

        Member sessionTimeout(int ms) {
            this.sessionTimeoutMs = ms;
            return this;
        }

        Member rebalanceTimeout(int ms) {
            this.rebalanceTimeoutMs = ms;
            return this;
        }

        Member protocols(String... nameThenTopicPairs) {
            protocols.clear();
            for (String name : nameThenTopicPairs) {
                protocols.put(name, subscription("orders"));
            }
            return this;
        }

        Member subscribe(String... topics) {
            byte[] sub = subscription(topics);
            protocols.replaceAll((k, v) -> sub);
            return this;
        }

        JoinGroupRequestData joinRequest() {
            JoinGroupRequestData r = new JoinGroupRequestData()
                    .setGroupId(groupId)
                    .setSessionTimeoutMs(sessionTimeoutMs)
                    .setRebalanceTimeoutMs(rebalanceTimeoutMs)
                    .setMemberId(memberId)
                    .setGroupInstanceId(groupInstanceId)
                    .setProtocolType(protocolType);
            protocols.forEach((name, meta) -> r.protocols.add(new JoinGroupRequestProtocol().setName(name).setMetadata(meta)));
            return r;
        }

        /** Sends one JoinGroup; when it is answered, remembers the member id, generation and leader it got. */
        CompletableFuture<JoinGroupResponseData> join() {
            return coordinator.joinGroup(ctx(joinVersion, clientId), joinRequest()).thenApply(r -> {
                if (r.errorCode == Errors.NONE.code() || r.errorCode == Errors.MEMBER_ID_REQUIRED.code()) {
                    memberId = r.memberId;
                }
                if (r.errorCode == Errors.NONE.code()) {
                    generation = r.generationId;
                    leader = r.leader;
                    joinMembers = r.members;
                }
                if (r.errorCode == Errors.UNKNOWN_MEMBER_ID.code()) {
                    memberId = "";
                    generation = -1;
                }
                return r;
            });
        }

        /** JoinGroup as a v4+ client does it: a first request for a member id, then the real one (which may park). */
        CompletableFuture<JoinGroupResponseData> joinWithMemberId() {
            CompletableFuture<JoinGroupResponseData> first = join();
            if (first.isDone() && first.join().errorCode == Errors.MEMBER_ID_REQUIRED.code()) {
                return join();
            }
            return first;
        }

        boolean isLeader() {
            return memberId.equals(leader);
        }

        CompletableFuture<SyncGroupResponseData> sync(Map<String, byte[]> assignments) {
            SyncGroupRequestData r = new SyncGroupRequestData()
                    .setGroupId(groupId)
                    .setGenerationId(generation)
                    .setMemberId(memberId)
                    .setGroupInstanceId(groupInstanceId)
                    .setProtocolType(protocolType)
                    .setProtocolName(protocols.keySet().iterator().next());
            assignments.forEach((id, a) -> r.assignments.add(new SyncGroupRequestData.SyncGroupRequestAssignment()
                    .setMemberId(id).setAssignment(a)));
            return coordinator.syncGroup(ctx(5, clientId), r).thenApply(resp -> {
                if (resp.errorCode == Errors.NONE.code()) {
                    assignment = resp.assignment;
                }
                return resp;
            });
        }

        CompletableFuture<SyncGroupResponseData> sync() {
            return sync(Map.of());
        }

        Errors heartbeat() {
            HeartbeatRequestData r = new HeartbeatRequestData().setGroupId(groupId).setGenerationId(generation)
                    .setMemberId(memberId).setGroupInstanceId(groupInstanceId);
            return Errors.forCode(done(coordinator.heartbeat(ctx(4, clientId), r)).errorCode);
        }

        LeaveGroupResponseData leave() {
            LeaveGroupRequestData r = new LeaveGroupRequestData().setGroupId(groupId);
            r.members.add(new LeaveGroupRequestData.MemberIdentity().setMemberId(memberId).setGroupInstanceId(groupInstanceId));
            return done(coordinator.leaveGroup(ctx(5, clientId), r));
        }

        Errors commit(String topic, int partition, long offset) {
            OffsetCommitResponseData r = commit(9, topic, partition, offset, "", -1);
            return Errors.forCode(r.topics.get(0).partitions.get(0).errorCode);
        }

        OffsetCommitResponseData commit(int version, String topic, int partition, long offset, String metadata, int leaderEpoch) {
            OffsetCommitRequestData r = new OffsetCommitRequestData()
                    .setGroupId(groupId)
                    .setGenerationIdOrMemberEpoch(generation)
                    .setMemberId(memberId)
                    .setGroupInstanceId(groupInstanceId);
            r.topics.add(new OffsetCommitRequestData.OffsetCommitRequestTopic().setName(topic).setPartitions(new ArrayList<>(List.of(
                    new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(partition)
                            .setCommittedOffset(offset).setCommittedMetadata(metadata).setCommittedLeaderEpoch(leaderEpoch)))));
            return done(coordinator.commitOffsets(ctx(version, clientId), r));
        }
    }

    /** A commit from outside the group (admin tools, or a consumer with assign()): generation -1 and no member id. */
    Errors simpleCommit(String groupId, String topic, int partition, long offset) {
        OffsetCommitRequestData r = new OffsetCommitRequestData().setGroupId(groupId);
        r.topics.add(new OffsetCommitRequestData.OffsetCommitRequestTopic().setName(topic).setPartitions(new ArrayList<>(List.of(
                new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(partition).setCommittedOffset(offset)))));
        OffsetCommitResponseData resp = done(coordinator.commitOffsets(ctx(9, "admin"), r));
        return Errors.forCode(resp.topics.get(0).partitions.get(0).errorCode);
    }

    /** The committed offset of one partition as OffsetFetch v9 reports it (-1 when none). */
    long committed(String groupId, String topic, int partition) {
        OffsetFetchRequestData r = new OffsetFetchRequestData();
        OffsetFetchRequestData.OffsetFetchRequestGroup g = new OffsetFetchRequestData.OffsetFetchRequestGroup().setGroupId(groupId);
        g.topics.add(new OffsetFetchRequestData.OffsetFetchRequestTopics().setName(topic).setPartitionIndexes(new ArrayList<>(List.of(partition))));
        r.groups.add(g);
        OffsetFetchResponseData resp = done(coordinator.fetchOffsets(ctx(9, "admin"), r));
        return resp.groups.get(0).topics.get(0).partitions.get(0).committedOffset;
    }

    /** The group's state as the coordinator holds it, or null when there is no such group. */
    GroupState state(String groupId) {
        GroupState[] out = new GroupState[1];
        coordinator.inspect(coordinator.partitionFor(groupId), shard -> out[0] = shard.groupState(groupId));
        return out[0];
    }

    java.util.Set<String> members(String groupId) {
        List<java.util.Set<String>> out = new ArrayList<>();
        coordinator.inspect(coordinator.partitionFor(groupId), shard -> out.add(shard.memberIds(groupId)));
        return out.get(0);
    }

    /** Everything written to the group's partition of __consumer_offsets. */
    List<CoordinatorRecord> records(String groupId) {
        return log.records(coordinator.partitionFor(groupId));
    }
}
