package dev.runnel.groupcoord;

import static dev.runnel.groupcoord.GroupTestKit.ctx;
import static dev.runnel.groupcoord.GroupTestKit.done;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.groupcoord.GroupTestKit.Member;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.DescribeGroupsRequestData;
import dev.runnel.wire.message.DescribeGroupsResponseData;
import dev.runnel.wire.message.HeartbeatRequestData;
import dev.runnel.wire.message.JoinGroupResponseData;
import dev.runnel.wire.message.ListGroupsRequestData;
import dev.runnel.wire.message.OffsetFetchRequestData;
import dev.runnel.wire.message.OffsetFetchResponseData;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** Rebuilding state from __consumer_offsets: what a broker restart or a partition move does. */
class LoadingTest {
    private final GroupTestKit kit = new GroupTestKit().topic("orders", 3);

    private String snapshot(List<String> groupIds) {
        DescribeGroupsResponseData described = done(kit.coordinator.describeGroups(ctx(5, "admin"),
                new DescribeGroupsRequestData().setGroups(new ArrayList<>(groupIds))));
        OffsetFetchRequestData fetch = new OffsetFetchRequestData();
        for (String g : groupIds) {
            fetch.groups.add(new OffsetFetchRequestData.OffsetFetchRequestGroup().setGroupId(g).setTopics(null));
        }
        OffsetFetchResponseData offsets = done(kit.coordinator.fetchOffsets(ctx(9, "admin"), fetch));
        var listed = done(kit.coordinator.listGroups(ctx(4, "admin"), new ListGroupsRequestData())).groups;
        listed.sort(java.util.Comparator.comparing(g -> g.groupId));
        StringBuilder generations = new StringBuilder();
        for (String g : groupIds) {
            kit.coordinator.inspect(kit.coordinator.partitionFor(g), s -> generations.append(g).append('=')
                    .append(s.generationId(g)).append(',').append(s.leader(g)).append(';'));
        }
        return described + "\n" + offsets + "\n" + listed + "\n" + generations;
    }

    @Test
    void replayingThePartitionGivesBackTheLiveState() {
        Member a = kit.member("payments", "a");
        Member b = kit.member("payments", "b").instance("pod-b");
        done(a.joinWithMemberId());
        done(a.sync(Map.of(a.memberId, new byte[] {1})));
        CompletableFuture<JoinGroupResponseData> jb = b.join();
        done(a.join());
        done(jb);
        var fb = b.sync();
        done((a.isLeader() ? a : b).sync(Map.of(a.memberId, new byte[] {'a'}, b.memberId, new byte[] {'b'})));
        done(fb);
        a.commit("orders", 0, 10);
        a.commit("orders", 0, 11); // the last value per key wins
        b.commit("orders", 2, 20);
        kit.simpleCommit("tool", "orders", 1, 5);
        kit.simpleCommit("deleted", "orders", 1, 5);
        done(kit.coordinator.deleteGroups(ctx(2, "admin"),
                new dev.runnel.wire.message.DeleteGroupsRequestData().setGroupsNames(new ArrayList<>(List.of("deleted")))));
        Member c = kit.member("gone-empty", "c");
        done(c.joinWithMemberId());
        c.leave();

        List<String> groups = List.of("payments", "tool", "deleted", "gone-empty");
        String live = snapshot(groups);
        kit.restart();
        assertEquals(live, snapshot(groups));
        assertEquals(GroupState.STABLE, kit.state("payments"));
        assertNull(kit.state("deleted"));
        assertEquals(11, kit.committed("payments", "orders", 0));

        // The loaded members keep their sessions: they heartbeat on, and the one who does not is expired.
        for (int i = 0; i < 2; i++) {
            kit.clock.advance(4_000);
            assertEquals(Errors.NONE, a.heartbeat());
        }
        kit.clock.advance(2_000);
        assertEquals(1, kit.members("payments").size());
        assertEquals(GroupState.PREPARING_REBALANCE, kit.state("payments"));
        assertEquals(Errors.REBALANCE_IN_PROGRESS, a.heartbeat());
    }

    @Test
    void requestsGetLoadInProgressWhileThePartitionIsReplayed() {
        kit.simpleCommit("g", "orders", 0, 1);
        kit.simpleCommit("g", "orders", 1, 2);
        int partition = kit.coordinator.partitionFor("g");
        List<Short> seen = new ArrayList<>();
        kit.log.onEveryRead(() -> {
            var fetch = new OffsetFetchRequestData().setGroupId("g").setTopics(null);
            seen.add(done(kit.coordinator.fetchOffsets(ctx(5, "c"), fetch)).errorCode);
            var hb = new HeartbeatRequestData().setGroupId("g").setMemberId("m").setGenerationId(1);
            seen.add(done(kit.coordinator.heartbeat(ctx(4, "c"), hb)).errorCode);
        });
        kit.coordinator.load(partition);
        kit.log.onEveryRead(null);
        // OffsetFetch is told to retry; a heartbeat is answered blindly, as Kafka does.
        assertEquals(List.of(Errors.COORDINATOR_LOAD_IN_PROGRESS.code(), Errors.NONE.code(),
                Errors.COORDINATOR_LOAD_IN_PROGRESS.code(), Errors.NONE.code()), seen);
        assertEquals(2, kit.committed("g", "orders", 1));
    }

    @Test
    void aPartitionThatIsNotLoadedHereAnswersNotCoordinator() {
        int partition = kit.coordinator.partitionFor("g");
        kit.coordinator.unload(partition);
        Member m = kit.member("g", "c");
        assertEquals(Errors.NOT_COORDINATOR.code(), done(m.join()).errorCode);
        assertEquals(Errors.NOT_COORDINATOR, kit.simpleCommit("g", "orders", 0, 1));
    }

    @Test
    void unloadingAPartitionReleasesParkedRequestsWithNotCoordinator() {
        Member a = kit.member("g", "a");
        Member b = kit.member("g", "b");
        done(a.joinWithMemberId());
        done(a.sync(Map.of(a.memberId, new byte[0])));
        CompletableFuture<JoinGroupResponseData> jb = b.joinWithMemberId();
        assertFalse(jb.isDone());
        kit.coordinator.unload(kit.coordinator.partitionFor("g"));
        assertEquals(Errors.NOT_COORDINATOR.code(), done(jb).errorCode);
    }

    @Test
    void recordsOfUnknownTypesAreSkippedAndTransactionalOffsetsWithoutAMarkerStayInvisible() {
        int partition = kit.coordinator.partitionFor("g");
        kit.log.appendRaw(partition, -1, new byte[] {0, 3, 0, 1, 'g'}, new byte[] {0, 0});
        kit.log.appendRaw(partition, 4711, CoordinatorRecord.offsetCommit("g", "orders", 0,
                new OffsetAndMetadata(99, -1, "", 1, -1, -1)).serializeKey(), CoordinatorRecord.offsetCommit("g", "orders", 0,
                new OffsetAndMetadata(99, -1, "", 1, -1, -1)).serializeValue());
        kit.log.appendRaw(partition, -1, new byte[] {0, 1}, null);
        kit.coordinator.load(partition);
        assertEquals(GroupCoordinator.ShardStatus.ACTIVE, kit.coordinator.status(partition));
        assertEquals(-1, kit.committed("g", "orders", 0));
    }

    @Test
    void aFailedAppendIsReportedAndTheStateIsRebuiltFromTheLog() {
        assertEquals(Errors.NONE, kit.simpleCommit("g", "orders", 0, 1));
        kit.log.failNextAppends(1);
        assertEquals(Errors.NOT_COORDINATOR, kit.simpleCommit("g", "orders", 0, 2));
        assertEquals(1, kit.committed("g", "orders", 0), "nothing that was not written is visible");
        assertEquals(Errors.NONE, kit.simpleCommit("g", "orders", 0, 3));
        assertEquals(3, kit.committed("g", "orders", 0));

        // A new group whose first record fails to be written does not exist afterwards.
        kit.log.failNextAppends(1);
        Member m = kit.member("fresh", "c");
        assertEquals(Errors.MEMBER_ID_REQUIRED.code(), done(m.join()).errorCode);
        assertNull(kit.state("fresh"));
        assertTrue(kit.coordinator.status(kit.coordinator.partitionFor("fresh")) == GroupCoordinator.ShardStatus.ACTIVE);
    }
}
