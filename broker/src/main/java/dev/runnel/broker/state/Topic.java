package dev.runnel.broker.state;

import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

/** A topic: name, id, whether it is internal, config overrides and its partitions. */
public final class Topic {
    private final String name;
    private final UUID id;
    private final boolean internal;
    private volatile Map<String, String> configOverrides;
    private final List<Partition> partitions = new CopyOnWriteArrayList<>();
    private volatile boolean deleted;

    Topic(String name, UUID id, boolean internal, Map<String, String> configOverrides) {
        this.name = name;
        this.id = id;
        this.internal = internal;
        this.configOverrides = configOverrides;
    }

    public String name() {
        return name;
    }

    public UUID id() {
        return id;
    }

    public boolean internal() {
        return internal;
    }

    public Map<String, String> configOverrides() {
        return configOverrides;
    }

    void setConfigOverrides(Map<String, String> overrides) {
        this.configOverrides = overrides;
    }

    public int partitionCount() {
        return partitions.size();
    }

    public List<Partition> partitions() {
        return partitions;
    }

    /** The partition, or null when the index is out of range. */
    public Partition partition(int index) {
        return index >= 0 && index < partitions.size() ? partitions.get(index) : null;
    }

    void addPartition(Partition p) {
        partitions.add(p);
    }

    void markDeleted() {
        deleted = true;
    }

    public boolean deleted() {
        return deleted;
    }
}
