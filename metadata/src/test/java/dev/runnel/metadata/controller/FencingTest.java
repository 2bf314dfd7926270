package dev.runnel.metadata.controller;

import static dev.runnel.metadata.controller.Fixtures.assignedTopic;
import static dev.runnel.metadata.controller.Fixtures.createTopics;
import static dev.runnel.metadata.controller.Fixtures.leaderCounts;
import static dev.runnel.metadata.controller.Fixtures.topic;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.metadata.controller.Fixtures.Cluster;
import dev.runnel.metadata.image.MetadataImage;
import dev.runnel.metadata.image.PartitionRegistration;
import dev.runnel.metadata.image.TopicImage;
import dev.runnel.metadata.records.FenceBrokerRecord;
import dev.runnel.metadata.records.PartitionChangeRecord;
import dev.runnel.metadata.records.UnfenceBrokerRecord;
import dev.runnel.wire.Errors;
import dev.runnel.wire.Message;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Broker sessions with an injected clock, and what fencing, unfencing and controlled shutdown do to the partitions
 * a broker leads: no sleeps, no threads, every step a record batch applied to the image.
 */
class FencingTest {
    private static final long SESSION_TIMEOUT_MS = 9_000;

    private long now = 1_000_000;
    private final BrokerHeartbeats sessions = new BrokerHeartbeats(() -> now, SESSION_TIMEOUT_MS);

    /** What the controller's tick does: fence every unfenced broker whose session expired. */
    private static void fenceExpired(Cluster c, BrokerHeartbeats sessions) {
        for (int id : new ArrayList<>(c.image.brokers().keySet())) {
            if (!c.image.broker(id).fenced() && sessions.expired(id)) {
                c.fence(id);
            }
        }
    }

    private static List<PartitionRegistration> ledBy(MetadataImage image, String topic, int brokerId) {
        return image.topic(topic).partitions().values().stream().filter(p -> p.leader() == brokerId).toList();
    }

    @Test
    void aSessionExpiresOnlyWhenTheLastHeartbeatIsOlderThanTheTimeout() {
        sessions.registered(1, 10);
        sessions.registered(2, 11);
        sessions.registered(3, 12);
        now += 5_000;
        sessions.touch(1);
        sessions.touch(2);
        now += 4_000; // broker 3 silent for exactly the timeout: not yet
        assertFalse(sessions.expired(3));
        now += 1;
        assertTrue(sessions.expired(3));
        assertFalse(sessions.expired(1));
        assertFalse(sessions.expired(2));
        now += 5_000;
        assertTrue(sessions.expired(1));
        sessions.touch(1);
        assertFalse(sessions.expired(1));

        // A broker never heard from (registered under an earlier controller) starts its session when first checked.
        assertFalse(sessions.expired(7));
        now += SESSION_TIMEOUT_MS + 1;
        assertTrue(sessions.expired(7));
        // Forgotten: afresh again.
        sessions.forget(7);
        assertFalse(sessions.expired(7));

        // Caught up: at or past the offset of its registration; unknown registrations use the fallback offset.
        assertFalse(sessions.caughtUp(2, 10, 0));
        assertTrue(sessions.caughtUp(2, 11, 0));
        assertFalse(sessions.caughtUp(8, 99, 100));
        assertTrue(sessions.caughtUp(8, 100, 100));
        sessions.clear();
        assertTrue(sessions.caughtUp(2, 0, 0));
        assertFalse(sessions.expired(3), "a new controller starts every session afresh");
    }

    @Test
    void anExpiredBrokerIsFencedItsPartitionsGoOfflineAndComeBackWhenItIsUnfenced() {
        Cluster c = new Cluster(Fixtures.logic(1)).withBrokers("", "", "");
        for (int id = 1; id <= 3; id++) {
            sessions.registered(id, c.image.offset());
        }
        c.run(c.logic.createTopics(c.image, createTopics(topic("t", 6, 1))));
        assertEquals(Map.of(1, 2, 2, 2, 3, 2), leaderCounts(c.image));
        List<Integer> led = ledBy(c.image, "t", 3).stream().map(PartitionRegistration::partition).toList();
        assertEquals(2, led.size());
        MetadataImage beforeFence = c.image;

        // Brokers 1 and 2 keep heartbeating; broker 3 falls silent.
        for (int i = 0; i < 4; i++) {
            now += 3_000;
            sessions.touch(1);
            sessions.touch(2);
            fenceExpired(c, sessions);
        }
        assertTrue(c.image.broker(3).fenced());
        assertFalse(c.image.broker(1).fenced());
        assertFalse(c.image.broker(2).fenced());

        // Its one-replica partitions are leaderless now: leader -1, leader epoch up by one, ISR as it was.
        for (int p : led) {
            PartitionRegistration was = beforeFence.topic("t").partition(p);
            PartitionRegistration is = c.image.topic("t").partition(p);
            assertEquals(PartitionRegistration.NO_LEADER, is.leader());
            assertFalse(is.hasLeader());
            assertEquals(was.leaderEpoch() + 1, is.leaderEpoch());
            assertEquals(was.partitionEpoch() + 1, is.partitionEpoch());
            assertEquals(List.of(3), is.isr());
            assertEquals(List.of(3), is.replicas());
        }
        for (PartitionRegistration p : c.image.topic("t").partitions().values()) {
            if (!led.contains(p.partition())) {
                assertEquals(beforeFence.topic("t").partition(p.partition()), p, "other brokers' partitions are untouched");
            }
        }
        assertFalse(ControllerLogic.leadsAnything(c.image, 3));
        // Fencing a fenced broker writes nothing.
        assertTrue(c.logic.fence(c.image, 3).isEmpty());

        // While it is fenced, new partitions go to the other two only; it still counts as registered.
        c.run(c.logic.createTopics(c.image, createTopics(topic("meanwhile", 4, 1))));
        Map<Integer, Long> meanwhile = c.image.topic("meanwhile").partitions().values().stream()
                .collect(Collectors.groupingBy(PartitionRegistration::leader, Collectors.counting()));
        assertEquals(Map.of(1, 2L, 2, 2L), meanwhile);
        var three = c.logic.createTopics(c.image, createTopics(topic("three", 1, 3))).response().topics.get(0);
        assertEquals(Errors.INVALID_REPLICATION_FACTOR, Errors.forCode(three.errorCode));
        assertTrue(three.errorMessage.contains("only 2 broker(s) are unfenced"), three.errorMessage);

        // It comes back: unfenced, and it leads its partitions again, one leader epoch later.
        List<Message> unfence = c.logic.unfence(c.image, 3);
        assertInstanceOf(UnfenceBrokerRecord.class, unfence.get(0));
        assertEquals(1 + led.size(), unfence.size());
        c.commit(unfence);
        assertFalse(c.image.broker(3).fenced());
        for (int p : led) {
            PartitionRegistration is = c.image.topic("t").partition(p);
            assertEquals(3, is.leader());
            assertEquals(beforeFence.topic("t").partition(p).leaderEpoch() + 2, is.leaderEpoch());
        }
        assertEquals(Map.of(1, 4, 2, 4, 3, 2), leaderCounts(c.image));
        assertTrue(c.logic.unfence(c.image, 3).isEmpty());
    }

    @Test
    void aFenceRecordOfAnEarlierEpochChangesNothing() {
        Cluster c = new Cluster(Fixtures.logic(1)).withBrokers("", "");
        long oldEpoch = c.image.broker(2).epoch();
        c.register(2, 2, "");
        long newEpoch = c.image.broker(2).epoch();
        assertTrue(newEpoch > oldEpoch);
        c.unfence(2);
        MetadataImage before = c.image;
        c.commit(List.of(new FenceBrokerRecord().setId(2).setEpoch(oldEpoch)));
        assertFalse(c.image.broker(2).fenced());
        assertTrue(before.sameContent(c.image));
    }

    @Test
    void aRestartedBrokerLosesItsLeadershipsUntilItIsUnfenced() {
        Cluster c = new Cluster(Fixtures.logic(1)).withBrokers("", "", "");
        c.run(c.logic.createTopics(c.image, createTopics(topic("t", 3, 1))));
        List<PartitionRegistration> led = ledBy(c.image, "t", 2);
        assertEquals(1, led.size());
        long oldEpoch = c.image.broker(2).epoch();

        long epoch = c.register(2, 2, "");
        assertTrue(epoch > oldEpoch);
        assertTrue(c.image.broker(2).fenced());
        PartitionRegistration p = c.image.topic("t").partition(led.get(0).partition());
        assertEquals(PartitionRegistration.NO_LEADER, p.leader());
        assertEquals(List.of(2), p.isr());

        c.unfence(2);
        assertEquals(2, c.image.topic("t").partition(p.partition()).leader());
    }

    @Test
    void controlledShutdownMovesLeadershipToAnotherInSyncReplica() {
        // Placement is written for any replication factor: allow 2 here to see leadership move, not vanish.
        Cluster c = new Cluster(Fixtures.logic(2)).withBrokers("", "", "");
        c.run(c.logic.createTopics(c.image, createTopics(topic("r2", 6, 2))));
        MetadataImage before = c.image;
        TopicImage t = before.topic("r2");
        assertTrue(ControllerLogic.leadsAnything(before, 1));

        List<Message> records = c.logic.beginControlledShutdown(c.image, 1);
        c.commit(records);
        assertTrue(c.image.broker(1).inControlledShutdown());
        assertFalse(c.image.broker(1).fenced());
        assertFalse(c.image.broker(1).usable());
        assertFalse(ControllerLogic.leadsAnything(c.image, 1));

        for (PartitionRegistration was : t.partitions().values()) {
            PartitionRegistration is = c.image.topic("r2").partition(was.partition());
            if (was.leader() == 1) {
                int other = was.replicas().get(0) == 1 ? was.replicas().get(1) : was.replicas().get(0);
                assertEquals(other, is.leader(), "partition " + was.partition());
                assertEquals(was.leaderEpoch() + 1, is.leaderEpoch());
                assertEquals(List.of(other), is.isr());
            } else if (was.replicas().contains(1)) {
                assertEquals(was.leader(), is.leader(), "a follower leaving changes no leader");
                assertEquals(was.leaderEpoch(), is.leaderEpoch());
                assertEquals(was.partitionEpoch() + 1, is.partitionEpoch());
                assertFalse(is.isr().contains(1));
            } else {
                assertEquals(was, is);
            }
            assertEquals(was.replicas(), is.replicas());
        }
        assertTrue(c.logic.beginControlledShutdown(c.image, 1).isEmpty(), "already shutting down");

        // New partitions avoid a broker that is shutting down.
        c.run(c.logic.createTopics(c.image, createTopics(topic("later", 4, 2))));
        for (PartitionRegistration p : c.image.topic("later").partitions().values()) {
            assertFalse(p.replicas().contains(1), p.toString());
        }
    }

    @Test
    void theLastInSyncReplicaStaysInTheIsrAndThereIsNoUncleanElection() {
        Cluster c = new Cluster(Fixtures.logic(2)).withBrokers("", "");
        c.run(c.logic.createTopics(c.image, createTopics(assignedTopic("p", List.of(1, 2)))));
        assertEquals(1, c.image.topic("p").partition(0).leader());

        // The follower goes: it leaves the ISR.
        List<Message> fence2 = c.logic.fence(c.image, 2);
        assertInstanceOf(FenceBrokerRecord.class, fence2.get(0));
        PartitionChangeRecord shrink = assertInstanceOf(PartitionChangeRecord.class, fence2.get(1));
        assertEquals(List.of(1), shrink.isr);
        assertEquals(-2, shrink.leader, "the leader is left alone");
        c.commit(fence2);
        assertEquals(List.of(1), c.image.topic("p").partition(0).isr());
        assertEquals(1, c.image.topic("p").partition(0).leader());

        // The leader, the last in-sync replica, goes: leaderless, and it stays in the ISR.
        c.fence(1);
        PartitionRegistration p = c.image.topic("p").partition(0);
        assertEquals(PartitionRegistration.NO_LEADER, p.leader());
        assertEquals(List.of(1), p.isr());

        // The out-of-sync replica returning does not become leader; the in-sync one does.
        c.unfence(2);
        assertEquals(PartitionRegistration.NO_LEADER, c.image.topic("p").partition(0).leader());
        c.unfence(1);
        assertEquals(1, c.image.topic("p").partition(0).leader());
        assertNotEquals(p.leaderEpoch(), c.image.topic("p").partition(0).leaderEpoch());
    }
}
