package dev.runnel.groupcoord;

import static dev.runnel.groupcoord.GroupTestKit.done;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.groupcoord.GroupTestKit.Member;
import dev.runnel.groupcoord.generated.GroupMetadataValue;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.JoinGroupRequestData;
import dev.runnel.wire.message.JoinGroupResponseData;
import dev.runnel.wire.message.SyncGroupResponseData;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class RebalanceStoriesTest {
    private final GroupTestKit kit = new GroupTestKit().topic("orders", 6);

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Members that joined generation N: the leader hands out one assignment per member, everybody syncs. */
    private void syncAll(List<Member> members) {
        Member leader = members.stream().filter(Member::isLeader).findFirst().orElseThrow();
        Map<String, byte[]> assignment = new HashMap<>();
        for (Member m : members) {
            assignment.put(m.memberId, bytes("partitions-of-" + m.clientId));
        }
        List<CompletableFuture<SyncGroupResponseData>> followers = members.stream().filter(m -> m != leader).map(Member::sync).toList();
        followers.forEach(f -> assertFalse(f.isDone(), "followers wait in SyncGroup until the leader's assignment is written"));
        assertEquals(Errors.NONE.code(), done(leader.sync(assignment)).errorCode);
        followers.forEach(f -> assertEquals(Errors.NONE.code(), done(f).errorCode));
        for (Member m : members) {
            assertArrayEquals(bytes("partitions-of-" + m.clientId), m.assignment);
        }
    }

    @Test
    void threeMembersJoinOneStopsHeartbeatingAndTheGroupRebalancesWithoutIt() {
        Member a = kit.member("payments", "consumer-a");
        Member b = kit.member("payments", "consumer-b");
        Member c = kit.member("payments", "consumer-c");

        // a joins alone (initial delay 0): generation 1 with one member.
        JoinGroupResponseData ra = done(a.joinWithMemberId());
        assertEquals(1, ra.generationId);
        assertTrue(a.isLeader());
        syncAll(List.of(a));
        assertEquals(GroupState.STABLE, kit.state("payments"));

        // b and c arrive: the group rebalances; the JoinGroups park until a rejoins too.
        CompletableFuture<JoinGroupResponseData> jb = b.joinWithMemberId();
        CompletableFuture<JoinGroupResponseData> jc = c.joinWithMemberId();
        assertFalse(jb.isDone());
        assertFalse(jc.isDone());
        assertEquals(GroupState.PREPARING_REBALANCE, kit.state("payments"));
        assertEquals(Errors.REBALANCE_IN_PROGRESS, a.heartbeat());
        CompletableFuture<JoinGroupResponseData> ja = a.join();
        assertEquals(2, done(ja).generationId);
        assertEquals(2, done(jb).generationId);
        assertEquals(2, done(jc).generationId);
        assertEquals(3, done(ja).members.size(), "the leader gets every member's metadata");
        assertEquals(0, done(jb).members.size());
        syncAll(List.of(a, b, c));

        // c goes silent; a and b keep heartbeating every 3 s.
        for (int i = 0; i < 3; i++) {
            kit.clock.advance(3_000);
            assertEquals(Errors.NONE, a.heartbeat());
            assertEquals(Errors.NONE, b.heartbeat());
        }
        assertEquals(Set.of(a.memberId, b.memberId, c.memberId), kit.members("payments"));
        kit.clock.advance(1_000); // 10 s since c's last sign of life
        assertEquals(Set.of(a.memberId, b.memberId), kit.members("payments"));
        assertEquals(GroupState.PREPARING_REBALANCE, kit.state("payments"));

        // The survivors learn of the rebalance from their heartbeats, rejoin, and form generation 3.
        assertEquals(Errors.REBALANCE_IN_PROGRESS, a.heartbeat());
        CompletableFuture<JoinGroupResponseData> ja3 = a.join();
        assertFalse(ja3.isDone());
        CompletableFuture<JoinGroupResponseData> jb3 = b.join();
        assertEquals(3, done(ja3).generationId);
        assertEquals(3, done(jb3).generationId);
        syncAll(List.of(a, b));
        assertEquals(GroupState.STABLE, kit.state("payments"));
        assertEquals(Errors.UNKNOWN_MEMBER_ID, c.heartbeat());
    }

    @Test
    void joinGroupV4AndLaterAsksAnUnknownMemberToRejoinWithTheIdItWasGiven() {
        Member a = kit.member("g", "client-1");
        JoinGroupResponseData first = done(a.join());
        assertEquals(Errors.MEMBER_ID_REQUIRED.code(), first.errorCode);
        assertTrue(first.memberId.startsWith("client-1-"), first.memberId);
        assertEquals(Set.of(), kit.members("g"), "the member is only pending until it rejoins");
        JoinGroupResponseData second = done(a.join());
        assertEquals(Errors.NONE.code(), second.errorCode);
        assertEquals(first.memberId, second.memberId);
        assertEquals(first.memberId, second.leader);
        assertEquals("range", second.protocolName);
        assertEquals("consumer", second.protocolType);
    }

    @Test
    void aPendingMemberThatNeverRejoinsIsForgottenAfterItsSessionTimeout() {
        Member a = kit.member("g", "client-1");
        assertEquals(Errors.MEMBER_ID_REQUIRED.code(), done(a.join()).errorCode);
        kit.clock.advance(GroupTestKit.SESSION_TIMEOUT_MS);
        // Rejoining with the handed-out id now finds nobody by that name.
        assertEquals(Errors.UNKNOWN_MEMBER_ID.code(), done(a.join()).errorCode);
    }

    @Test
    void joinGroupBeforeV4JoinsStraightAway() {
        Member a = kit.member("g", "old-client").joinVersion(3);
        JoinGroupResponseData r = done(a.join());
        assertEquals(Errors.NONE.code(), r.errorCode);
        assertEquals(1, r.generationId);
    }

    @Test
    void joinGroupV0UsesTheSessionTimeoutAsRebalanceTimeout() {
        Member a = kit.member("g", "ancient").joinVersion(0);
        done(a.join());
        Member b = kit.member("g", "ancient-2").joinVersion(0);
        CompletableFuture<JoinGroupResponseData> jb = b.join();
        assertFalse(jb.isDone());
        // a never rejoins: after the rebalance timeout (= its 10 s session timeout in v0) b goes on alone.
        kit.clock.advance(GroupTestKit.SESSION_TIMEOUT_MS);
        assertEquals(2, done(jb).generationId);
        assertEquals(Set.of(b.memberId), kit.members("g"));
    }

    @Test
    void aMemberThatDoesNotRejoinWithinTheRebalanceTimeoutIsDropped() {
        Member a = kit.member("g", "a");
        Member b = kit.member("g", "b");
        done(a.joinWithMemberId());
        syncAll(List.of(a));
        CompletableFuture<JoinGroupResponseData> jb = b.joinWithMemberId();
        // a keeps heartbeating (REBALANCE_IN_PROGRESS) but never rejoins.
        for (int t = 0; t < GroupTestKit.REBALANCE_TIMEOUT_MS; t += 5_000) {
            assertFalse(jb.isDone());
            assertEquals(Errors.REBALANCE_IN_PROGRESS, a.heartbeat());
            kit.clock.advance(5_000);
        }
        assertEquals(Errors.NONE.code(), done(jb).errorCode);
        assertEquals(Set.of(b.memberId), kit.members("g"));
        assertEquals(b.memberId, done(jb).leader);
        assertEquals(Errors.UNKNOWN_MEMBER_ID, a.heartbeat());
    }

    @Test
    void aFollowerThatNeverSyncsIsRemovedWhenTheSyncPhaseTimesOut() {
        Member a = kit.member("g", "a");
        Member b = kit.member("g", "b");
        done(a.joinWithMemberId());
        syncAll(List.of(a));
        CompletableFuture<JoinGroupResponseData> jb = b.joinWithMemberId();
        done(a.join());
        done(jb);
        Member leader = a.isLeader() ? a : b;
        Member follower = leader == a ? b : a;
        assertEquals(Errors.NONE.code(), done(leader.sync(Map.of(leader.memberId, bytes("x"), follower.memberId, bytes("y")))).errorCode);
        assertEquals(GroupState.STABLE, kit.state("g"));
        // Both stay alive by heartbeating, but the follower never asks for its assignment.
        for (int t = 0; t < GroupTestKit.REBALANCE_TIMEOUT_MS; t += 5_000) {
            assertEquals(Errors.NONE, leader.heartbeat());
            assertEquals(Errors.NONE, follower.heartbeat());
            kit.clock.advance(5_000);
        }
        assertEquals(Set.of(leader.memberId), kit.members("g"));
        assertEquals(GroupState.PREPARING_REBALANCE, kit.state("g"));
        assertEquals(Errors.REBALANCE_IN_PROGRESS, leader.heartbeat());
    }

    @Test
    void syncGroupAnswersRebalanceInProgressAndIllegalGenerationAndUnknownMember() {
        Member a = kit.member("g", "a");
        done(a.joinWithMemberId());
        int gen = a.generation;
        a.generation = gen + 1;
        assertEquals(Errors.ILLEGAL_GENERATION.code(), done(a.sync()).errorCode);
        a.generation = gen;
        syncAll(List.of(a));
        Member b = kit.member("g", "b");
        b.joinWithMemberId();
        assertEquals(Errors.REBALANCE_IN_PROGRESS.code(), done(a.sync()).errorCode);
        Member stranger = kit.member("g", "stranger");
        stranger.memberId = "nobody";
        stranger.generation = gen;
        assertEquals(Errors.UNKNOWN_MEMBER_ID.code(), done(stranger.sync()).errorCode);
        Member lost = kit.member("no-such-group", "lost");
        lost.memberId = "m";
        assertEquals(Errors.UNKNOWN_MEMBER_ID.code(), done(lost.sync()).errorCode);
    }

    @Test
    void aRejoinDuringTheSyncPhaseSendsWaitingMembersBackWithRebalanceInProgress() {
        Member a = kit.member("g", "a");
        Member b = kit.member("g", "b");
        done(a.joinWithMemberId());
        syncAll(List.of(a));
        CompletableFuture<JoinGroupResponseData> jb = b.joinWithMemberId();
        done(a.join());
        done(jb);
        Member follower = a.isLeader() ? b : a;
        Member leader = follower == a ? b : a;
        CompletableFuture<SyncGroupResponseData> waiting = follower.sync();
        assertFalse(waiting.isDone());
        // The leader rejoins with new metadata instead of syncing: the follower must rejoin.
        leader.subscribe("orders", "refunds");
        CompletableFuture<JoinGroupResponseData> rejoin = leader.join();
        assertEquals(Errors.REBALANCE_IN_PROGRESS.code(), done(waiting).errorCode);
        assertFalse(rejoin.isDone());
        done(follower.join());
        assertEquals(3, done(rejoin).generationId);
    }

    @Test
    void theLastMemberLeavingEmptiesTheGroupAndRecordsIt() {
        Member a = kit.member("g", "a");
        Member b = kit.member("g", "b");
        done(a.joinWithMemberId());
        syncAll(List.of(a));
        CompletableFuture<JoinGroupResponseData> jb = b.joinWithMemberId();
        done(a.join());
        done(jb);
        syncAll(List.of(a, b));
        assertEquals(Errors.NONE.code(), a.leave().members.get(0).errorCode);
        assertEquals(GroupState.PREPARING_REBALANCE, kit.state("g"));
        done(b.join());
        assertEquals(Errors.NONE.code(), b.leave().members.get(0).errorCode);
        assertEquals(GroupState.EMPTY, kit.state("g"));
        CoordinatorRecord last = kit.records("g").get(kit.records("g").size() - 1);
        GroupMetadataValue value = (GroupMetadataValue) last.value();
        assertEquals(0, value.members.size());
        assertEquals(4, value.generation);
        assertEquals("consumer", value.protocolType);
        assertNull(value.protocol);
        // Leaving twice: the member is no longer known.
        assertEquals(Errors.UNKNOWN_MEMBER_ID.code(), b.leave().members.get(0).errorCode);
    }

    @Test
    void leaveGroupBeforeV3ReportsTheMembersErrorAtTopLevel() {
        Member a = kit.member("g", "a");
        done(a.joinWithMemberId());
        var r = new dev.runnel.wire.message.LeaveGroupRequestData().setGroupId("g").setMemberId("not-a-member");
        var resp = done(kit.coordinator.leaveGroup(GroupTestKit.ctx(1, "a"), r));
        assertEquals(Errors.UNKNOWN_MEMBER_ID.code(), resp.errorCode);
        var ok = done(kit.coordinator.leaveGroup(GroupTestKit.ctx(1, "a"),
                new dev.runnel.wire.message.LeaveGroupRequestData().setGroupId("g").setMemberId(a.memberId)));
        assertEquals(Errors.NONE.code(), ok.errorCode);
        assertEquals(GroupState.EMPTY, kit.state("g"));
    }

    @Test
    void theInitialRebalanceDelayLetsAFlockOfConsumersFormOneGeneration() {
        GroupTestKit delayed = new GroupTestKit(GroupCoordinatorConfig.defaults().withInitialRebalanceDelayMs(3_000));
        Member a = delayed.member("g", "a");
        Member b = delayed.member("g", "b");
        Member c = delayed.member("g", "c");
        CompletableFuture<JoinGroupResponseData> ja = a.joinWithMemberId();
        delayed.clock.advance(2_000);
        CompletableFuture<JoinGroupResponseData> jb = b.joinWithMemberId();
        delayed.clock.advance(2_000); // at 3 s the delay ended, but b had arrived: extended to 6 s
        CompletableFuture<JoinGroupResponseData> jc = c.joinWithMemberId();
        delayed.clock.advance(3_000); // at 6 s: c had arrived, extended to 9 s
        assertFalse(ja.isDone());
        delayed.clock.advance(2_000); // at 9 s nobody new came: generation 1 forms with everybody
        assertTrue(ja.isDone() && jb.isDone() && jc.isDone());
        assertEquals(1, ja.join().generationId);
        assertEquals(1, jc.join().generationId);
        assertEquals(3, delayed.members("g").size());
    }

    @Test
    void theCoordinatorPicksAProtocolEveryMemberSupports() {
        Member a = kit.member("g", "a").protocols("cooperative-sticky", "range");
        Member b = kit.member("g", "b").protocols("range", "roundrobin");
        done(a.joinWithMemberId());
        CompletableFuture<JoinGroupResponseData> jb = b.joinWithMemberId();
        JoinGroupResponseData ra = done(a.join());
        assertEquals("range", ra.protocolName);
        assertEquals("range", done(jb).protocolName);
        // A newcomer with nothing in common is refused.
        Member c = kit.member("g", "c").protocols("sticky");
        assertEquals(Errors.INCONSISTENT_GROUP_PROTOCOL.code(), done(c.join()).errorCode);
        Member d = kit.member("g", "d");
        d.protocolType = "connect";
        assertEquals(Errors.INCONSISTENT_GROUP_PROTOCOL.code(), done(d.join()).errorCode);
    }

    @Test
    void theMostVotedCommonProtocolWins() {
        Member a = kit.member("g", "a").protocols("roundrobin", "range");
        Member b = kit.member("g", "b").protocols("range", "roundrobin");
        Member c = kit.member("g", "c").protocols("range", "roundrobin");
        GroupTestKit delayed = kit;
        CompletableFuture<JoinGroupResponseData> ja = a.joinWithMemberId();
        CompletableFuture<JoinGroupResponseData> jb = b.joinWithMemberId();
        CompletableFuture<JoinGroupResponseData> jc = c.joinWithMemberId();
        done(a.join());
        assertEquals("range", done(jc).protocolName);
        assertTrue(ja.isDone() && jb.isDone());
        assertEquals(3, delayed.members("g").size());
    }

    @Test
    void sessionTimeoutsOutsideTheBrokerBoundsAreRefused() {
        Member quick = kit.member("g", "a").sessionTimeout(5_999);
        assertEquals(Errors.INVALID_SESSION_TIMEOUT.code(), done(quick.join()).errorCode);
        Member slow = kit.member("g", "b").sessionTimeout(1_800_001);
        assertEquals(Errors.INVALID_SESSION_TIMEOUT.code(), done(slow.join()).errorCode);
        Member ok = kit.member("g", "c").sessionTimeout(6_000);
        assertEquals(Errors.MEMBER_ID_REQUIRED.code(), done(ok.join()).errorCode);
    }

    @Test
    void joinGroupValidation() {
        Member noGroup = kit.member("", "a");
        assertEquals(Errors.INVALID_GROUP_ID.code(), done(noGroup.join()).errorCode);
        Member ghost = kit.member("never-existed", "a");
        ghost.memberId = "made-up";
        assertEquals(Errors.UNKNOWN_MEMBER_ID.code(), done(ghost.join()).errorCode);
    }

    @Test
    void heartbeatErrors() {
        Member a = kit.member("g", "a");
        done(a.joinWithMemberId());
        syncAll(List.of(a));
        assertEquals(Errors.NONE, a.heartbeat());
        a.generation++;
        assertEquals(Errors.ILLEGAL_GENERATION, a.heartbeat());
        a.generation--;
        Member stranger = kit.member("g", "s");
        stranger.memberId = "nobody";
        stranger.generation = a.generation;
        assertEquals(Errors.UNKNOWN_MEMBER_ID, stranger.heartbeat());
        Member lost = kit.member("nothing-here", "s");
        lost.memberId = "nobody";
        assertEquals(Errors.UNKNOWN_MEMBER_ID, lost.heartbeat());
    }

    @Test
    void theGroupMaxSizeRefusesExtraMembers() {
        GroupTestKit small = new GroupTestKit(GroupCoordinatorConfig.defaults().withMaxGroupSize(1));
        Member a = small.member("g", "a");
        done(a.joinWithMemberId());
        Member b = small.member("g", "b");
        JoinGroupResponseData rb = done(b.joinWithMemberId());
        assertEquals(Errors.GROUP_MAX_SIZE_REACHED.code(), rb.errorCode);
    }

    @Test
    void joinGroupResponseProtocolNameIsEmptyBeforeV7AndNullAfter() {
        Member a = kit.member("g", "a");
        done(a.joinWithMemberId());
        JoinGroupRequestData bad = a.joinRequest().setMemberId("unknown").setGroupId("other");
        assertEquals("", done(kit.coordinator.joinGroup(GroupTestKit.ctx(6, "a"), bad)).protocolName);
        bad = a.joinRequest().setMemberId("unknown").setGroupId("other");
        assertNull(done(kit.coordinator.joinGroup(GroupTestKit.ctx(7, "a"), bad)).protocolName);
    }

    @Test
    void aLeaderRejoiningAStableGroupStartsARebalance() {
        Member a = kit.member("g", "a");
        done(a.joinWithMemberId());
        syncAll(List.of(a));
        JoinGroupResponseData r = done(a.join());
        assertEquals(2, r.generationId);
    }

    @Test
    void aFollowerRejoiningWithUnchangedMetadataGetsTheCurrentGeneration() {
        Member a = kit.member("g", "a");
        Member b = kit.member("g", "b");
        done(a.joinWithMemberId());
        syncAll(List.of(a));
        CompletableFuture<JoinGroupResponseData> jb = b.joinWithMemberId();
        done(a.join());
        done(jb);
        syncAll(List.of(a, b));
        Member follower = a.isLeader() ? b : a;
        JoinGroupResponseData again = done(follower.join());
        assertEquals(2, again.generationId);
        assertEquals(GroupState.STABLE, kit.state("g"));
    }
}
