package dev.runnel.groupcoord.txn;

/**
 * The states of a transactional id, with the byte Kafka stores in {@code TransactionLogValue.TransactionStatus} and
 * the name DescribeTransactions and ListTransactions report.
 */
public enum TransactionState {
    EMPTY(0, "Empty"),
    ONGOING(1, "Ongoing"),
    PREPARE_COMMIT(2, "PrepareCommit"),
    PREPARE_ABORT(3, "PrepareAbort"),
    COMPLETE_COMMIT(4, "CompleteCommit"),
    COMPLETE_ABORT(5, "CompleteAbort"),
    DEAD(6, "Dead"),
    /** Kafka's transient state while a new producer fences an ongoing transaction; never written to the log. */
    PREPARE_EPOCH_FENCE(7, "PrepareEpochFence");

    public final byte id;
    public final String kafkaName;

    TransactionState(int id, String kafkaName) {
        this.id = (byte) id;
        this.kafkaName = kafkaName;
    }

    public static TransactionState forId(byte id) {
        for (TransactionState s : values()) {
            if (s.id == id) {
                return s;
            }
        }
        throw new IllegalArgumentException("Unknown transaction status " + id);
    }

    /** The state named as Kafka names it ("Ongoing", ...), or null. */
    public static TransactionState forName(String name) {
        for (TransactionState s : values()) {
            if (s.kafkaName.equals(name)) {
                return s;
            }
        }
        return null;
    }

    /** No transaction in flight: a new one may begin, the producer id may be re-initialised, the id may expire. */
    public boolean isIdle() {
        return this == EMPTY || this == COMPLETE_COMMIT || this == COMPLETE_ABORT;
    }

    public boolean isPrepare() {
        return this == PREPARE_COMMIT || this == PREPARE_ABORT;
    }
}
