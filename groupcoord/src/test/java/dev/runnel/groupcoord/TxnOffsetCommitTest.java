package dev.runnel.groupcoord;

import static dev.runnel.groupcoord.GroupTestKit.ctx;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.runnel.wire.Errors;
import dev.runnel.wire.message.OffsetFetchRequestData;
import dev.runnel.wire.message.OffsetFetchResponseData;
import dev.runnel.wire.message.TxnOffsetCommitRequestData;
import dev.runnel.wire.message.TxnOffsetCommitResponseData;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** sendOffsetsToTransaction: offsets held per producer until its transaction's marker reaches the partition. */
class TxnOffsetCommitTest {
    private final GroupTestKit kit = new GroupTestKit().topic("in", 2);

    private Errors txnCommit(long producerId, String group, String topic, int partition, long offset) {
        TxnOffsetCommitRequestData r = new TxnOffsetCommitRequestData().setTransactionalId("tx").setGroupId(group)
                .setProducerId(producerId).setProducerEpoch((short) 0).setGenerationIdOrMemberEpoch(-1).setMemberId("");
        r.topics.add(new TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic().setName(topic).setPartitions(new ArrayList<>(List.of(
                new TxnOffsetCommitRequestData.TxnOffsetCommitRequestPartition().setPartitionIndex(partition).setCommittedOffset(offset)))));
        TxnOffsetCommitResponseData resp = kit.coordinator.commitTransactionalOffsets(ctx(3, "producer"), r).join();
        return Errors.forCode(resp.topics.get(0).partitions.get(0).errorCode);
    }

    private void marker(long producerId, String group, boolean commit) {
        int p = kit.coordinator.partitionFor(group);
        kit.log.appendMarker(p, producerId, commit);
        kit.coordinator.completeTransaction(p, producerId, commit);
    }

    private short stableFetchError(String group, String topic, int partition) {
        OffsetFetchRequestData r = new OffsetFetchRequestData().setRequireStable(true);
        OffsetFetchRequestData.OffsetFetchRequestGroup g = new OffsetFetchRequestData.OffsetFetchRequestGroup().setGroupId(group);
        g.topics.add(new OffsetFetchRequestData.OffsetFetchRequestTopics().setName(topic).setPartitionIndexes(new ArrayList<>(List.of(partition))));
        r.groups.add(g);
        OffsetFetchResponseData resp = kit.coordinator.fetchOffsets(ctx(9, "consumer"), r).join();
        return resp.groups.get(0).topics.get(0).partitions.get(0).errorCode;
    }

    @Test
    void offsetsOfACommittedTransactionBecomeVisibleOnlyWithTheCommitMarker() {
        assertEquals(Errors.NONE, txnCommit(7L, "g", "in", 0, 42));
        assertEquals(-1, kit.committed("g", "in", 0));
        assertEquals(Errors.UNSTABLE_OFFSET_COMMIT.code(), stableFetchError("g", "in", 0));
        marker(7L, "g", true);
        assertEquals(42, kit.committed("g", "in", 0));
        assertEquals(Errors.NONE.code(), stableFetchError("g", "in", 0));
    }

    @Test
    void offsetsOfAnAbortedTransactionAreDropped() {
        assertEquals(Errors.NONE, kit.simpleCommit("g", "in", 0, 5));
        assertEquals(Errors.NONE, txnCommit(7L, "g", "in", 0, 42));
        marker(7L, "g", false);
        assertEquals(5, kit.committed("g", "in", 0));
        assertEquals(Errors.NONE.code(), stableFetchError("g", "in", 0));
    }

    @Test
    void aRestartReplaysTransactionalOffsetsAndTheirMarkers() {
        txnCommit(7L, "g", "in", 0, 42);
        txnCommit(8L, "g", "in", 1, 99);
        marker(7L, "g", true);
        kit.restart();
        assertEquals(42, kit.committed("g", "in", 0));
        assertEquals(-1, kit.committed("g", "in", 1), "producer 8's transaction is still open");
        assertEquals(Errors.UNSTABLE_OFFSET_COMMIT.code(), stableFetchError("g", "in", 1));
        marker(8L, "g", false);
        kit.restart();
        assertEquals(-1, kit.committed("g", "in", 1));
        assertEquals(Errors.NONE.code(), stableFetchError("g", "in", 1));
    }

    @Test
    void aLaterPlainCommitWinsOverAnOlderTransactionalOne() {
        txnCommit(7L, "g", "in", 0, 42);
        kit.simpleCommit("g", "in", 0, 50);
        marker(7L, "g", true);
        assertEquals(50, kit.committed("g", "in", 0));
    }

    @Test
    void unknownPartitionsAndMembersAreRefused() {
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION, txnCommit(7L, "g", "nope", 0, 1));
        TxnOffsetCommitRequestData r = new TxnOffsetCommitRequestData().setTransactionalId("tx").setGroupId("g2")
                .setProducerId(7L).setProducerEpoch((short) 0).setGenerationIdOrMemberEpoch(3).setMemberId("ghost");
        r.topics.add(new TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic().setName("in").setPartitions(new ArrayList<>(List.of(
                new TxnOffsetCommitRequestData.TxnOffsetCommitRequestPartition().setPartitionIndex(0).setCommittedOffset(1)))));
        TxnOffsetCommitResponseData resp = kit.coordinator.commitTransactionalOffsets(ctx(3, "producer"), r).join();
        assertEquals(Errors.UNKNOWN_MEMBER_ID.code(), resp.topics.get(0).partitions.get(0).errorCode);
    }
}
