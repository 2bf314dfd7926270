package dev.runnel.groupcoord;

import dev.runnel.wire.Errors;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Where the coordinator's records live: the partitions of {@code __consumer_offsets}. The broker implements it on its
 * partition logs; tests keep the records in memory.
 */
public interface CoordinatorLog {
    /**
     * Appends records to a partition, returning when they are durable (as acks=all would).
     *
     * @return the offset of the first record
     * @throws CoordinatorLogException when the records could not be appended
     */
    long append(int partition, long timestampMs, List<CoordinatorRecord> records);

    /**
     * Appends records as one transactional batch of the producer (TxnOffsetCommit): they count only once a COMMIT
     * marker of that producer follows them in the partition.
     */
    default long appendTransactional(int partition, long timestampMs, long producerId, short producerEpoch,
                                     List<CoordinatorRecord> records) {
        throw new UnsupportedOperationException("transactional appends are not supported by " + getClass().getName());
    }

    /** Hands every data record of the partition to {@code visitor}, in offset order, and every transaction marker. */
    void read(int partition, RecordVisitor visitor);

    @FunctionalInterface
    interface RecordVisitor {
        /** {@code value} is null for a tombstone. */
        void accept(long offset, long producerId, ByteBuffer key, ByteBuffer value);

        /** A COMMIT or ABORT marker of a producer's transaction at {@code offset}. */
        default void marker(long offset, long producerId, boolean commit) {
        }
    }

    /** An append or read failed; {@link #error()} is the Kafka error that best describes why. */
    final class CoordinatorLogException extends RuntimeException {
        private final Errors error;

        public CoordinatorLogException(Errors error, String message, Throwable cause) {
            super(message, cause);
            this.error = error;
        }

        public Errors error() {
            return error;
        }
    }
}
