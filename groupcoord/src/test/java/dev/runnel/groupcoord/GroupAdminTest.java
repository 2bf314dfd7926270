package dev.runnel.groupcoord;

import static dev.runnel.groupcoord.GroupTestKit.ctx;
import static dev.runnel.groupcoord.GroupTestKit.done;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.groupcoord.GroupTestKit.Member;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.DeleteGroupsRequestData;
import dev.runnel.wire.message.DescribeGroupsRequestData;
import dev.runnel.wire.message.ListGroupsRequestData;
import dev.runnel.wire.message.OffsetDeleteRequestData;
import dev.runnel.wire.message.OffsetDeleteResponseData;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What kafka-consumer-groups.sh does: list, describe, delete groups, delete offsets. */
class GroupAdminTest {
    private final GroupTestKit kit = new GroupTestKit().topic("orders", 2).topic("audit", 1);

    private Member stable(String groupId, String... topics) {
        Member m = kit.member(groupId, "consumer-" + groupId).subscribe(topics);
        done(m.joinWithMemberId());
        done(m.sync(Map.of(m.memberId, new byte[] {42})));
        return m;
    }

    @Test
    void listGroupsShowsEveryGroupAndFiltersByState() {
        stable("live", "orders");
        kit.simpleCommit("tool", "orders", 0, 1);
        var all = done(kit.coordinator.listGroups(ctx(4, "admin"), new ListGroupsRequestData())).groups;
        assertEquals(2, all.size());
        var live = all.stream().filter(g -> g.groupId.equals("live")).findFirst().orElseThrow();
        assertEquals("Stable", live.groupState);
        assertEquals("consumer", live.protocolType);
        var tool = all.stream().filter(g -> g.groupId.equals("tool")).findFirst().orElseThrow();
        assertEquals("Empty", tool.groupState);
        assertEquals("", tool.protocolType);

        ListGroupsRequestData onlyEmpty = new ListGroupsRequestData().setStatesFilter(new ArrayList<>(List.of("empty")));
        assertEquals(List.of("tool"), done(kit.coordinator.listGroups(ctx(4, "admin"), onlyEmpty)).groups.stream().map(g -> g.groupId).toList());
        // Before v4 there is no filter.
        assertEquals(2, done(kit.coordinator.listGroups(ctx(3, "admin"), onlyEmpty)).groups.size());
        ListGroupsRequestData consumerType = new ListGroupsRequestData().setTypesFilter(new ArrayList<>(List.of("consumer")));
        assertEquals(0, done(kit.coordinator.listGroups(ctx(5, "admin"), consumerType)).groups.size());
        ListGroupsRequestData classicType = new ListGroupsRequestData().setTypesFilter(new ArrayList<>(List.of("Classic")));
        assertEquals(2, done(kit.coordinator.listGroups(ctx(5, "admin"), classicType)).groups.size());
    }

    @Test
    void describeGroupsShowsMembersWithTheirAssignment() {
        Member m = stable("live", "orders");
        var r = done(kit.coordinator.describeGroups(ctx(5, "admin"),
                new DescribeGroupsRequestData().setGroups(new ArrayList<>(List.of("live", "ghost"))).setIncludeAuthorizedOperations(true)));
        var live = r.groups.get(0);
        assertEquals("Stable", live.groupState);
        assertEquals("consumer", live.protocolType);
        assertEquals("range", live.protocolData);
        assertEquals(1, live.members.size());
        assertEquals(m.memberId, live.members.get(0).memberId);
        assertEquals("consumer-live", live.members.get(0).clientId);
        assertEquals("/127.0.0.1", live.members.get(0).clientHost);
        assertArrayEquals(new byte[] {42}, live.members.get(0).memberAssignment);
        assertArrayEquals(GroupTestKit.subscription("orders"), live.members.get(0).memberMetadata);
        assertTrue(live.authorizedOperations > 0);
        var ghost = r.groups.get(1);
        assertEquals("Dead", ghost.groupState);
        assertEquals(Errors.NONE.code(), ghost.errorCode);
    }

    @Test
    void deleteGroupsRemovesEmptyGroupsWithTheirOffsetsAndRefusesTheOthers() {
        kit.simpleCommit("done-job", "orders", 0, 10);
        kit.simpleCommit("done-job", "orders", 1, 11);
        stable("live", "orders");
        DeleteGroupsRequestData r = new DeleteGroupsRequestData().setGroupsNames(new ArrayList<>(List.of("done-job", "live", "never", "done-job")));
        var results = done(kit.coordinator.deleteGroups(ctx(2, "admin"), r)).results;
        assertEquals(3, results.size(), "duplicates are answered once");
        assertEquals(Errors.NONE.code(), results.get(0).errorCode);
        assertEquals(Errors.NON_EMPTY_GROUP.code(), results.get(1).errorCode);
        assertEquals(Errors.GROUP_ID_NOT_FOUND.code(), results.get(2).errorCode);
        assertNull(kit.state("done-job"));
        assertEquals(-1, kit.committed("done-job", "orders", 1));
        // Kafka's tombstones: two offset keys, then the group key.
        var records = kit.records("done-job");
        assertEquals(3, records.stream().filter(CoordinatorRecord::isTombstone).count());
    }

    @Test
    void offsetDeleteRefusesTopicsTheGroupStillConsumes() {
        Member m = stable("live", "orders");
        m.commit("orders", 0, 5);
        m.commit("audit", 0, 6);
        OffsetDeleteRequestData r = new OffsetDeleteRequestData().setGroupId("live");
        r.topics.add(new OffsetDeleteRequestData.OffsetDeleteRequestTopic().setName("orders").setPartitions(new ArrayList<>(List.of(
                new OffsetDeleteRequestData.OffsetDeleteRequestPartition().setPartitionIndex(0)))));
        r.topics.add(new OffsetDeleteRequestData.OffsetDeleteRequestTopic().setName("audit").setPartitions(new ArrayList<>(List.of(
                new OffsetDeleteRequestData.OffsetDeleteRequestPartition().setPartitionIndex(0)))));
        OffsetDeleteResponseData resp = done(kit.coordinator.deleteOffsets(ctx(0, "admin"), r));
        assertEquals(Errors.NONE.code(), resp.errorCode);
        assertEquals(Errors.GROUP_SUBSCRIBED_TO_TOPIC.code(), resp.topics.get(0).partitions.get(0).errorCode);
        assertEquals(Errors.NONE.code(), resp.topics.get(1).partitions.get(0).errorCode);
        assertEquals(5, kit.committed("live", "orders", 0));
        assertEquals(-1, kit.committed("live", "audit", 0));
    }

    @Test
    void offsetDeleteOnAnEmptyGroupAndOnMissingGroups() {
        kit.simpleCommit("job", "orders", 1, 3);
        OffsetDeleteRequestData r = new OffsetDeleteRequestData().setGroupId("job");
        r.topics.add(new OffsetDeleteRequestData.OffsetDeleteRequestTopic().setName("orders").setPartitions(new ArrayList<>(List.of(
                new OffsetDeleteRequestData.OffsetDeleteRequestPartition().setPartitionIndex(1),
                new OffsetDeleteRequestData.OffsetDeleteRequestPartition().setPartitionIndex(7)))));
        OffsetDeleteResponseData resp = done(kit.coordinator.deleteOffsets(ctx(0, "admin"), r));
        assertEquals(-1, kit.committed("job", "orders", 1));
        var codes = resp.topics.stream().flatMap(t -> t.partitions.stream()).map(p -> p.partitionIndex + ":" + p.errorCode).toList();
        assertTrue(codes.contains("7:" + Errors.UNKNOWN_TOPIC_OR_PARTITION.code()), codes.toString());
        assertTrue(codes.contains("1:0"), codes.toString());
        r.setGroupId("missing");
        assertEquals(Errors.GROUP_ID_NOT_FOUND.code(), done(kit.coordinator.deleteOffsets(ctx(0, "admin"), r)).errorCode);
    }

    @Test
    void offsetDeleteOnANonEmptyGroupOfAnotherProtocolIsRefused() {
        Member connect = kit.member("workers", "w1");
        connect.protocolType = "connect";
        done(connect.joinWithMemberId());
        done(connect.sync(Map.of(connect.memberId, new byte[0])));
        OffsetDeleteRequestData r = new OffsetDeleteRequestData().setGroupId("workers");
        assertEquals(Errors.NON_EMPTY_GROUP.code(), done(kit.coordinator.deleteOffsets(ctx(0, "admin"), r)).errorCode);
    }
}
