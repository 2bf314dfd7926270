package dev.runnel.log;

/**
 * An OffsetForLeaderEpoch answer: the largest epoch &lt;= the requested one and the offset where it ended
 * ({@code -1, -1} when unknown), as Kafka's leader epoch cache answers.
 */
public record EpochEndOffset(int leaderEpoch, long endOffset) {
    public static final EpochEndOffset UNDEFINED = new EpochEndOffset(-1, -1L);
}
