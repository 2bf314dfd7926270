package dev.runnel.groupcoord.txn;

import dev.runnel.groupcoord.OffsetsTopic;

/** Facts about {@code __transaction_state} that the broker and the coordinator must agree on. */
public final class TransactionStateTopic {
    public static final String NAME = "__transaction_state";
    public static final int DEFAULT_PARTITIONS = 50;

    private TransactionStateTopic() {
    }

    /** The partition that owns a transactional id: abs(hashCode) % partitions, as Kafka places it. */
    public static int partitionFor(String transactionalId, int partitions) {
        return OffsetsTopic.partitionFor(transactionalId, partitions);
    }
}
