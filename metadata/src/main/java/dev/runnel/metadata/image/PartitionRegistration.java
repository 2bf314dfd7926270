package dev.runnel.metadata.image;

import java.util.List;

/**
 * A partition's replicas, in-sync replicas, leader and epochs (Kafka's PartitionRecord plus PartitionChangeRecords).
 * {@code leader} is -1 when the partition has no leader (offline). During a reassignment {@code replicas} holds the
 * old and the new replicas, {@code addingReplicas} the new ones still catching up and {@code removingReplicas} the
 * ones that leave when it completes.
 */
public record PartitionRegistration(int partition, List<Integer> replicas, List<Integer> isr, int leader,
                                    int leaderEpoch, int partitionEpoch, List<Integer> addingReplicas,
                                    List<Integer> removingReplicas) {
    public static final int NO_LEADER = -1;

    public PartitionRegistration(int partition, List<Integer> replicas, List<Integer> isr, int leader, int leaderEpoch,
                                 int partitionEpoch) {
        this(partition, replicas, isr, leader, leaderEpoch, partitionEpoch, List.of(), List.of());
    }

    public boolean hasLeader() {
        return leader != NO_LEADER;
    }

    public boolean reassigning() {
        return !addingReplicas.isEmpty() || !removingReplicas.isEmpty();
    }

    /** The replicas the partition will have once its reassignment completes (its replicas when none runs). */
    public List<Integer> targetReplicas() {
        if (!reassigning()) {
            return replicas;
        }
        return replicas.stream().filter(r -> !removingReplicas.contains(r)).toList();
    }
}
