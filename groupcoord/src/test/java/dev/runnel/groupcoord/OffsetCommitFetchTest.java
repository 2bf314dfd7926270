package dev.runnel.groupcoord;

import static dev.runnel.groupcoord.GroupTestKit.ctx;
import static dev.runnel.groupcoord.GroupTestKit.done;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.runnel.groupcoord.GroupTestKit.Member;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.OffsetCommitRequestData;
import dev.runnel.wire.message.OffsetCommitResponseData;
import dev.runnel.wire.message.OffsetFetchRequestData;
import dev.runnel.wire.message.OffsetFetchResponseData;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OffsetCommitFetchTest {
    private final GroupTestKit kit = new GroupTestKit().topic("orders", 3).topic("refunds", 1);

    private Member stableMember(String groupId) {
        Member m = kit.member(groupId, "consumer-1");
        done(m.joinWithMemberId());
        done(m.sync(Map.of(m.memberId, new byte[] {1})));
        return m;
    }

    @Test
    void aMemberCommitsAndTheOffsetsComeBackWithMetadataAndLeaderEpoch() {
        Member m = stableMember("payments");
        OffsetCommitResponseData r = m.commit(9, "orders", 1, 42, "checkpoint", 7);
        assertEquals(Errors.NONE.code(), r.topics.get(0).partitions.get(0).errorCode);

        OffsetFetchRequestData fetch = new OffsetFetchRequestData();
        OffsetFetchRequestData.OffsetFetchRequestGroup g = new OffsetFetchRequestData.OffsetFetchRequestGroup().setGroupId("payments");
        g.topics.add(new OffsetFetchRequestData.OffsetFetchRequestTopics().setName("orders").setPartitionIndexes(new ArrayList<>(List.of(0, 1))));
        fetch.groups.add(g);
        var p = done(kit.coordinator.fetchOffsets(ctx(9, "c"), fetch)).groups.get(0).topics.get(0).partitions;
        assertEquals(-1, p.get(0).committedOffset, "nothing committed for partition 0");
        assertEquals(42, p.get(1).committedOffset);
        assertEquals("checkpoint", p.get(1).metadata);
        assertEquals(7, p.get(1).committedLeaderEpoch);

        // The record is Kafka's OffsetCommitValue v3, stamped with the coordinator's clock.
        CoordinatorRecord last = kit.records("payments").get(kit.records("payments").size() - 1);
        assertEquals(3, last.valueVersion());
        assertEquals(kit.clock.milliseconds(), ((dev.runnel.groupcoord.generated.OffsetCommitValue) last.value()).commitTimestamp);
    }

    @Test
    void aCommitWithARetentionTimeWritesValueVersionOneWithAnExpiry() {
        OffsetCommitRequestData r = new OffsetCommitRequestData().setGroupId("old").setRetentionTimeMs(60_000);
        r.topics.add(new OffsetCommitRequestData.OffsetCommitRequestTopic().setName("orders").setPartitions(new ArrayList<>(List.of(
                new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(0).setCommittedOffset(5)))));
        done(kit.coordinator.commitOffsets(ctx(2, "old-client"), r));
        CoordinatorRecord rec = kit.records("old").get(0);
        assertEquals(1, rec.valueVersion());
        assertEquals(kit.clock.milliseconds() + 60_000, ((dev.runnel.groupcoord.generated.OffsetCommitValue) rec.value()).expireTimestamp);
    }

    @Test
    void simpleCommitsCreateAnEmptyGroupAndAreRefusedOnceItHasMembers() {
        assertEquals(Errors.NONE, kit.simpleCommit("tool-group", "orders", 0, 100));
        assertEquals(GroupState.EMPTY, kit.state("tool-group"));
        assertEquals(100, kit.committed("tool-group", "orders", 0));

        Member m = stableMember("busy");
        assertEquals(Errors.UNKNOWN_MEMBER_ID, kit.simpleCommit("busy", "orders", 0, 1));
        assertEquals(Errors.NONE, m.commit("orders", 0, 1));
    }

    @Test
    void commitsAreCheckedAgainstTheMemberAndGeneration() {
        Member m = stableMember("g");
        m.generation++;
        assertEquals(Errors.ILLEGAL_GENERATION, m.commit("orders", 0, 1));
        m.generation--;
        String real = m.memberId;
        m.memberId = "impostor";
        assertEquals(Errors.UNKNOWN_MEMBER_ID, m.commit("orders", 0, 1));
        m.memberId = real;
        assertEquals(Errors.NONE, m.commit("orders", 0, 1));
    }

    @Test
    void aCommitToAGroupThatDoesNotExistDependsOnTheVersion() {
        Member ghost = kit.member("nowhere", "c");
        ghost.memberId = "m";
        ghost.generation = 3;
        assertEquals(Errors.ILLEGAL_GENERATION.code(), ghost.commit(8, "orders", 0, 1, "", -1).topics.get(0).partitions.get(0).errorCode);
        assertEquals(Errors.GROUP_ID_NOT_FOUND.code(), ghost.commit(9, "orders", 0, 1, "", -1).topics.get(0).partitions.get(0).errorCode);
        assertNull(kit.state("nowhere"));
    }

    @Test
    void commitsDuringTheSyncPhaseAreAskedToWait() {
        Member a = stableMember("g");
        Member b = kit.member("g", "consumer-2");
        var jb = b.joinWithMemberId();
        done(a.join());
        done(jb);
        assertEquals(GroupState.COMPLETING_REBALANCE, kit.state("g"));
        assertEquals(Errors.REBALANCE_IN_PROGRESS, a.commit("orders", 0, 1));
    }

    @Test
    void unknownPartitionsAndOversizedMetadataAreRefusedPerPartition() {
        Member m = stableMember("g");
        OffsetCommitRequestData r = new OffsetCommitRequestData().setGroupId("g").setGenerationIdOrMemberEpoch(m.generation)
                .setMemberId(m.memberId);
        r.topics.add(new OffsetCommitRequestData.OffsetCommitRequestTopic().setName("orders").setPartitions(new ArrayList<>(List.of(
                new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(0).setCommittedOffset(1),
                new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(9).setCommittedOffset(1),
                new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(2).setCommittedOffset(1)
                        .setCommittedMetadata("x".repeat(4097))))));
        r.topics.add(new OffsetCommitRequestData.OffsetCommitRequestTopic().setName("no-such-topic").setPartitions(new ArrayList<>(List.of(
                new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(0).setCommittedOffset(1)))));
        OffsetCommitResponseData resp = done(kit.coordinator.commitOffsets(ctx(9, "c"), r));
        assertEquals("orders", resp.topics.get(0).name);
        assertEquals(Errors.NONE.code(), resp.topics.get(0).partitions.get(0).errorCode);
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), resp.topics.get(0).partitions.get(1).errorCode);
        assertEquals(Errors.OFFSET_METADATA_TOO_LARGE.code(), resp.topics.get(0).partitions.get(2).errorCode);
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), resp.topics.get(1).partitions.get(0).errorCode);
    }

    @Test
    void fetchingWithNullTopicsReturnsEveryCommittedOffset() {
        Member m = stableMember("g");
        m.commit("refunds", 0, 5);
        m.commit("orders", 2, 20);
        m.commit("orders", 0, 10);
        OffsetFetchRequestData fetch = new OffsetFetchRequestData().setGroupId("g").setTopics(null);
        OffsetFetchResponseData r = done(kit.coordinator.fetchOffsets(ctx(7, "c"), fetch));
        assertEquals(2, r.topics.size());
        assertEquals("orders", r.topics.get(0).name);
        assertEquals(List.of(0, 2), r.topics.get(0).partitions.stream().map(p -> p.partitionIndex).toList());
        assertEquals(List.of(10L, 20L), r.topics.get(0).partitions.stream().map(p -> p.committedOffset).toList());
        assertEquals(5, r.topics.get(1).partitions.get(0).committedOffset);
    }

    @Test
    void oneOffsetFetchCanAskForSeveralGroups() {
        stableMember("a").commit("orders", 0, 1);
        stableMember("b").commit("orders", 0, 2);
        OffsetFetchRequestData fetch = new OffsetFetchRequestData().setRequireStable(true);
        for (String g : List.of("a", "b", "unknown")) {
            OffsetFetchRequestData.OffsetFetchRequestGroup rg = new OffsetFetchRequestData.OffsetFetchRequestGroup().setGroupId(g);
            rg.topics.add(new OffsetFetchRequestData.OffsetFetchRequestTopics().setName("orders").setPartitionIndexes(new ArrayList<>(List.of(0))));
            fetch.groups.add(rg);
        }
        OffsetFetchResponseData r = done(kit.coordinator.fetchOffsets(ctx(8, "admin"), fetch));
        assertEquals(List.of("a", "b", "unknown"), r.groups.stream().map(g -> g.groupId).toList());
        assertEquals(1, r.groups.get(0).topics.get(0).partitions.get(0).committedOffset);
        assertEquals(2, r.groups.get(1).topics.get(0).partitions.get(0).committedOffset);
        assertEquals(-1, r.groups.get(2).topics.get(0).partitions.get(0).committedOffset);
        assertEquals(Errors.NONE.code(), r.groups.get(2).errorCode);
    }

    @Test
    void beforeV2AGroupErrorIsReportedOnEveryPartition() {
        kit.coordinator.unload(kit.coordinator.partitionFor("g"));
        OffsetFetchRequestData fetch = new OffsetFetchRequestData().setGroupId("g");
        fetch.topics.add(new OffsetFetchRequestData.OffsetFetchRequestTopic().setName("orders").setPartitionIndexes(new ArrayList<>(List.of(0, 1))));
        OffsetFetchResponseData v1 = done(kit.coordinator.fetchOffsets(ctx(1, "c"), fetch));
        assertEquals(Errors.NOT_COORDINATOR.code(), v1.topics.get(0).partitions.get(1).errorCode);
        OffsetFetchResponseData v5 = done(kit.coordinator.fetchOffsets(ctx(5, "c"), fetch));
        assertEquals(Errors.NOT_COORDINATOR.code(), v5.errorCode);
    }

    @Test
    void aCommitKeepsTheMembersSessionAlive() {
        Member m = stableMember("g");
        for (int i = 0; i < 5; i++) {
            kit.clock.advance(8_000);
            assertEquals(Errors.NONE, m.commit("orders", 0, i));
        }
        assertEquals(GroupState.STABLE, kit.state("g"));
        kit.clock.advance(GroupTestKit.SESSION_TIMEOUT_MS);
        assertEquals(GroupState.EMPTY, kit.state("g"));
        assertFalse(kit.members("g").contains(m.memberId));
    }

    @Test
    void deletingATopicDropsEveryGroupsOffsetsForIt() {
        stableMember("a").commit("orders", 0, 1);
        kit.simpleCommit("b", "orders", 2, 2);
        kit.simpleCommit("b", "refunds", 0, 3);
        kit.coordinator.onTopicDeleted("orders");
        assertEquals(-1, kit.committed("a", "orders", 0));
        assertEquals(-1, kit.committed("b", "orders", 2));
        assertEquals(3, kit.committed("b", "refunds", 0));
    }

    @Test
    void offsetsOfAnEmptyGroupExpireAfterTheRetentionAndTheGroupGoesWithThem() {
        GroupTestKit short_ = new GroupTestKit(GroupCoordinatorConfig.defaults().withOffsetsRetentionMs(3_600_000)).topic("orders", 1);
        assertEquals(Errors.NONE, short_.simpleCommit("batch-job", "orders", 0, 7));
        short_.clock.advance(3_000_000);
        assertEquals(7, short_.committed("batch-job", "orders", 0));
        short_.clock.advance(1_200_000); // the check runs every 10 minutes
        assertEquals(-1, short_.committed("batch-job", "orders", 0));
        assertNull(short_.state("batch-job"));
    }
}
