package dev.runnel.metadata.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.runnel.metadata.image.PartitionRegistration;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.AlterPartitionRequestData;
import dev.runnel.wire.message.AlterPartitionResponseData;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The controller's side of AlterPartition: a leader's ISR proposals, accepted or refused as Kafka's controller does. */
class AlterPartitionTest {

    private static AlterPartitionRequestData proposal(Fixtures.Cluster c, int leader, UUID topicId, int leaderEpoch,
                                                      int partitionEpoch, List<Integer> isr) {
        AlterPartitionRequestData req = new AlterPartitionRequestData().setBrokerId(leader)
                .setBrokerEpoch(c.image.broker(leader).epoch());
        AlterPartitionRequestData.TopicData t = new AlterPartitionRequestData.TopicData().setTopicId(topicId);
        AlterPartitionRequestData.PartitionData p = new AlterPartitionRequestData.PartitionData().setPartitionIndex(0)
                .setLeaderEpoch(leaderEpoch).setPartitionEpoch(partitionEpoch);
        for (int b : isr) {
            p.newIsrWithEpochs.add(new AlterPartitionRequestData.BrokerState().setBrokerId(b).setBrokerEpoch(c.image.broker(b).epoch()));
        }
        t.partitions.add(p);
        req.topics.add(t);
        return req;
    }

    private static short error(AlterPartitionResponseData r) {
        return r.errorCode != 0 ? r.errorCode : r.topics.get(0).partitions.get(0).errorCode;
    }

    @Test
    void aLeaderShrinksAndRegrowsItsIsrAndStaleOrForeignProposalsAreRefused() {
        Fixtures.Cluster c = new Fixtures.Cluster(Fixtures.logic(3)).withBrokers(null, null, null);
        c.run(c.logic.createTopics(c.image, Fixtures.createTopics(Fixtures.topic("t", 1, 3))));
        UUID id = c.image.topic("t").id();
        PartitionRegistration p = c.image.topic("t").partition(0);
        int leader = p.leader();
        int follower = p.replicas().stream().filter(r -> r != leader).findFirst().orElseThrow();
        List<Integer> shrunk = p.isr().stream().filter(r -> r != follower).toList();

        // Shrink: accepted, the partition epoch moves, the leader epoch does not.
        AlterPartitionResponseData ok = c.run(c.logic.alterPartition(c.image, proposal(c, leader, id, p.leaderEpoch(), p.partitionEpoch(), shrunk)));
        assertEquals(0, error(ok));
        PartitionRegistration after = c.image.topic("t").partition(0);
        assertEquals(shrunk, after.isr());
        assertEquals(p.partitionEpoch() + 1, after.partitionEpoch());
        assertEquals(p.leaderEpoch(), after.leaderEpoch());

        // The same proposal again carries a stale partition epoch.
        assertEquals(Errors.INVALID_UPDATE_VERSION.code(),
                error(c.run(c.logic.alterPartition(c.image, proposal(c, leader, id, p.leaderEpoch(), p.partitionEpoch(), shrunk)))));
        // Only the leader proposes.
        assertEquals(Errors.NOT_LEADER_OR_FOLLOWER.code(), error(c.run(c.logic.alterPartition(c.image,
                proposal(c, follower, id, after.leaderEpoch(), after.partitionEpoch(), after.replicas())))));
        // A fenced broker may not join.
        c.fence(follower);
        assertEquals(Errors.INELIGIBLE_REPLICA.code(), error(c.run(c.logic.alterPartition(c.image,
                proposal(c, leader, id, after.leaderEpoch(), after.partitionEpoch(), after.replicas())))));
        // Unfenced, it rejoins.
        c.unfence(follower);
        PartitionRegistration now = c.image.topic("t").partition(0);
        AlterPartitionResponseData grown = c.run(c.logic.alterPartition(c.image,
                proposal(c, leader, id, now.leaderEpoch(), now.partitionEpoch(), now.replicas())));
        assertEquals(0, error(grown));
        assertEquals(3, c.image.topic("t").partition(0).isr().size());
    }

    @Test
    void fencingTheLeaderElectsAnInSyncFollowerWithANewEpoch() {
        Fixtures.Cluster c = new Fixtures.Cluster(Fixtures.logic(3)).withBrokers(null, null, null);
        c.run(c.logic.createTopics(c.image, Fixtures.createTopics(Fixtures.topic("t", 1, 3))));
        PartitionRegistration p = c.image.topic("t").partition(0);
        c.fence(p.leader());
        PartitionRegistration after = c.image.topic("t").partition(0);
        assertEquals(p.leaderEpoch() + 1, after.leaderEpoch());
        assertEquals(p.replicas().stream().filter(r -> r != p.leader()).findFirst().orElseThrow(), after.leader(),
                "the next replica in the ISR leads");
        assertEquals(2, after.isr().size(), "the fenced leader left the ISR");
    }

    @Test
    void preferredElectionAndRebalanceMoveLeadershipBackOnlyToAnInSyncPreferredReplica() {
        Fixtures.Cluster c = new Fixtures.Cluster(Fixtures.logic(3)).withBrokers(null, null, null);
        c.run(c.logic.createTopics(c.image, Fixtures.createTopics(Fixtures.topic("t", 1, 3))));
        PartitionRegistration p = c.image.topic("t").partition(0);
        int preferred = p.replicas().get(0);
        c.fence(preferred);
        assertEquals(List.of(), c.logic.rebalanceLeaders(c.image), "the preferred replica is fenced and out of the ISR");
        var req = new dev.runnel.wire.message.ElectLeadersRequestData().setElectionType(ControllerLogic.PREFERRED);
        req.topicPartitions.add(new dev.runnel.wire.message.ElectLeadersRequestData.TopicPartitions().setTopic("t").setPartitions(List.of(0)));
        var refused = c.run(c.logic.electLeaders(c.image, req));
        assertEquals(Errors.PREFERRED_LEADER_NOT_AVAILABLE.code(), refused.replicaElectionResults.get(0).partitionResult.get(0).errorCode);
        c.unfence(preferred);
        // Back in the ISR (the leader's AlterPartition), the preferred replica can lead again.
        PartitionRegistration now = c.image.topic("t").partition(0);
        c.run(c.logic.alterPartition(c.image, proposal(c, now.leader(), c.image.topic("t").id(), now.leaderEpoch(), now.partitionEpoch(),
                now.replicas())));
        assertEquals(1, c.logic.rebalanceLeaders(c.image).size());
        var done = c.run(c.logic.electLeaders(c.image, req));
        assertEquals(0, done.replicaElectionResults.get(0).partitionResult.get(0).errorCode);
        assertEquals(preferred, c.image.topic("t").partition(0).leader());
        var again = c.run(c.logic.electLeaders(c.image, req));
        assertEquals(Errors.ELECTION_NOT_NEEDED.code(), again.replicaElectionResults.get(0).partitionResult.get(0).errorCode);
    }

    @Test
    void aReassignmentAddsTheNewReplicasFirstAndDropsTheOldOnesOnceTheNewAreInSync() {
        Fixtures.Cluster c = new Fixtures.Cluster(Fixtures.logic(3)).withBrokers(null, null, null);
        c.run(c.logic.createTopics(c.image, Fixtures.createTopics(Fixtures.assignedTopic("t", List.of(1, 2)))));
        UUID id = c.image.topic("t").id();
        var req = new dev.runnel.wire.message.AlterPartitionReassignmentsRequestData();
        var rt = new dev.runnel.wire.message.AlterPartitionReassignmentsRequestData.ReassignableTopic().setName("t");
        rt.partitions.add(new dev.runnel.wire.message.AlterPartitionReassignmentsRequestData.ReassignablePartition()
                .setPartitionIndex(0).setReplicas(List.of(2, 3)));
        req.topics.add(rt);
        var resp = c.run(c.logic.alterPartitionReassignments(c.image, req));
        assertEquals(0, resp.responses.get(0).partitions.get(0).errorCode);
        PartitionRegistration during = c.image.topic("t").partition(0);
        assertEquals(List.of(2, 3, 1), during.replicas(), "target first, then the leaving replica");
        assertEquals(List.of(3), during.addingReplicas());
        assertEquals(List.of(1), during.removingReplicas());
        assertEquals(List.of(), c.logic.completeReassignments(c.image), "broker 3 is not in sync yet");
        var listed = ControllerLogic.listReassignments(c.image, new dev.runnel.wire.message.ListPartitionReassignmentsRequestData());
        assertEquals(1, listed.topics.size());
        // The leader (broker 1) sees broker 3 catch up and proposes it for the ISR.
        c.run(c.logic.alterPartition(c.image, proposal(c, during.leader(), id, during.leaderEpoch(), during.partitionEpoch(),
                List.of(1, 2, 3))));
        c.commit(c.logic.completeReassignments(c.image));
        PartitionRegistration done = c.image.topic("t").partition(0);
        assertEquals(List.of(2, 3), done.replicas());
        assertEquals(List.of(2, 3), done.isr());
        assertEquals(2, done.leader(), "the leadership moved off the leaving broker 1 to an in-sync target replica");
        assertEquals(List.of(), done.addingReplicas());
        // Nothing left to cancel.
        req.topics.get(0).partitions.get(0).setReplicas(null);
        var cancel = c.run(c.logic.alterPartitionReassignments(c.image, req));
        assertEquals(Errors.NO_REASSIGNMENT_IN_PROGRESS.code(), cancel.responses.get(0).partitions.get(0).errorCode);
    }

    @Test
    void withUncleanLeaderElectionAReplicaOutsideTheIsrTakesOverWhenNoInSyncReplicaIsLeft() {
        for (boolean unclean : new boolean[] {false, true}) {
            Fixtures.Cluster c = new Fixtures.Cluster(Fixtures.logic(3)).withBrokers(null, null, null);
            var topic = Fixtures.assignedTopic("t", List.of(1, 2));
            topic.configs.add(new dev.runnel.wire.message.CreateTopicsRequestData.CreatableTopicConfig()
                    .setName("unclean.leader.election.enable").setValue(Boolean.toString(unclean)));
            c.run(c.logic.createTopics(c.image, Fixtures.createTopics(topic)));
            UUID id = c.image.topic("t").id();
            PartitionRegistration p = c.image.topic("t").partition(0);
            assertEquals(1, p.leader());
            c.run(c.logic.alterPartition(c.image, proposal(c, 1, id, p.leaderEpoch(), p.partitionEpoch(), List.of(1))));
            c.fence(1);
            PartitionRegistration after = c.image.topic("t").partition(0);
            if (unclean) {
                assertEquals(2, after.leader(), "broker 2 leads although it was out of sync");
                assertEquals(List.of(2), after.isr());
            } else {
                assertEquals(PartitionRegistration.NO_LEADER, after.leader(), "offline until broker 1 returns");
                assertEquals(List.of(1), after.isr());
            }
        }
    }
}
