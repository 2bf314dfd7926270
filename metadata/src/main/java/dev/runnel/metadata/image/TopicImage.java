package dev.runnel.metadata.image;

import java.util.Map;
import java.util.UUID;

/** A topic of the cluster: its name, id and partitions by index. */
public record TopicImage(String name, UUID id, Map<Integer, PartitionRegistration> partitions) {
    public int partitionCount() {
        return partitions.size();
    }

    public PartitionRegistration partition(int index) {
        return partitions.get(index);
    }
}
