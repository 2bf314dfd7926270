package dev.runnel.metadata.image;

import java.util.List;

/**
 * A partition's replicas, in-sync replicas, leader and epochs (Kafka's PartitionRecord plus PartitionChangeRecords).
 * {@code leader} is -1 when the partition has no leader (offline).
 */
public record PartitionRegistration(int partition, List<Integer> replicas, List<Integer> isr, int leader,
                                    int leaderEpoch, int partitionEpoch) {
    public static final int NO_LEADER = -1;

    public boolean hasLeader() {
        return leader != NO_LEADER;
    }
}
