package dev.runnel.groupcoord;

import static dev.runnel.groupcoord.GroupTestKit.done;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.groupcoord.GroupTestKit.Member;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.JoinGroupResponseData;
import dev.runnel.wire.message.LeaveGroupRequestData;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class StaticMembershipTest {
    private final GroupTestKit kit = new GroupTestKit().topic("orders", 3);

    private void stable(Member a, Member b) {
        done(a.joinWithMemberId());
        done(a.sync(Map.of(a.memberId, new byte[] {1})));
        CompletableFuture<JoinGroupResponseData> jb = b.join();
        done(a.join());
        done(jb);
        Member leader = a.isLeader() ? a : b;
        Member follower = leader == a ? b : a;
        var fs = follower.sync();
        done(leader.sync(Map.of(a.memberId, new byte[] {'a'}, b.memberId, new byte[] {'b'})));
        done(fs);
    }

    @Test
    void aStaticMemberJoinsWithoutTheMemberIdRoundTrip() {
        Member a = kit.member("g", "pod-a").instance("pod-a");
        JoinGroupResponseData r = done(a.join());
        assertEquals(Errors.NONE.code(), r.errorCode, "static members get their id straight away");
        assertTrue(r.memberId.startsWith("pod-a-"));
    }

    @Test
    void aRestartedStaticMemberTakesItsPlaceBackWithoutARebalanceAndTheOldIncarnationIsFenced() {
        Member a = kit.member("g", "pod-a").instance("pod-a");
        Member b = kit.member("g", "pod-b").instance("pod-b");
        stable(a, b);
        int generation = a.generation;
        String oldId = b.memberId;

        // pod-b restarts: same instance id, no member id.
        Member b2 = kit.member("g", "pod-b").instance("pod-b");
        JoinGroupResponseData r = done(b2.join());
        assertEquals(Errors.NONE.code(), r.errorCode);
        assertNotEquals(oldId, r.memberId);
        assertEquals(generation, r.generationId, "no rebalance");
        assertEquals(GroupState.STABLE, kit.state("g"));
        var sync = done(b2.sync());
        assertArrayEquals(new byte[] {'b'}, sync.assignment, "it keeps its assignment");

        // The old incarnation, if still alive, is fenced.
        assertEquals(Errors.FENCED_INSTANCE_ID, b.heartbeat());
        assertEquals(Errors.FENCED_INSTANCE_ID, b.commit("orders", 0, 1));
        assertEquals(Errors.NONE, b2.heartbeat());
    }

    @Test
    void aJoinGroupV9LeaderReturningAsStaticMemberIsToldToSkipTheAssignment() {
        Member a = kit.member("g", "pod-a").instance("pod-a");
        done(a.join());
        done(a.sync(Map.of(a.memberId, new byte[] {9})));
        Member again = kit.member("g", "pod-a").instance("pod-a");
        JoinGroupResponseData r = done(again.join());
        assertTrue(r.skipAssignment);
        assertEquals(r.memberId, r.leader);
        assertEquals(1, r.members.size());
    }

    @Test
    void staticMembersAreNotDroppedForMissingARebalance() {
        Member a = kit.member("g", "pod-a").instance("pod-a");
        Member b = kit.member("g", "pod-b").instance("pod-b").sessionTimeout(60_000);
        stable(a, b);
        Member c = kit.member("g", "pod-c").instance("pod-c");
        CompletableFuture<JoinGroupResponseData> jc = c.join();
        CompletableFuture<JoinGroupResponseData> ja = a.join();
        // b is slow to rejoin: after the rebalance timeout the group moves on, and b (static) is kept.
        for (int t = 0; t < GroupTestKit.REBALANCE_TIMEOUT_MS; t += 5_000) {
            kit.clock.advance(5_000);
        }
        assertTrue(ja.isDone() && jc.isDone());
        assertTrue(kit.members("g").contains(b.memberId));
        assertEquals(3, kit.members("g").size());
    }

    @Test
    void anAdminCanRemoveAStaticMemberByInstanceId() {
        Member a = kit.member("g", "pod-a").instance("pod-a");
        Member b = kit.member("g", "pod-b").instance("pod-b");
        stable(a, b);
        LeaveGroupRequestData r = new LeaveGroupRequestData().setGroupId("g");
        r.members.add(new LeaveGroupRequestData.MemberIdentity().setGroupInstanceId("pod-b"));
        r.members.add(new LeaveGroupRequestData.MemberIdentity().setGroupInstanceId("pod-zzz"));
        var resp = done(kit.coordinator.leaveGroup(GroupTestKit.ctx(4, "admin"), r));
        assertEquals(Errors.NONE.code(), resp.members.get(0).errorCode);
        assertEquals(Errors.UNKNOWN_MEMBER_ID.code(), resp.members.get(1).errorCode);
        assertFalse(kit.members("g").contains(b.memberId));
        assertEquals(GroupState.PREPARING_REBALANCE, kit.state("g"));
    }

    @Test
    void aWrongMemberIdForAKnownInstanceIsFencedOnJoin() {
        Member a = kit.member("g", "pod-a").instance("pod-a");
        done(a.join());
        Member imposter = kit.member("g", "pod-a").instance("pod-a");
        imposter.memberId = "pod-a-forged";
        assertEquals(Errors.FENCED_INSTANCE_ID.code(), done(imposter.join()).errorCode);
    }
}
