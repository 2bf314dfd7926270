package dev.runnel.groupcoord;

/** Facts about the {@code __consumer_offsets} topic that the broker and the coordinator must agree on. */
public final class OffsetsTopic {
    public static final String NAME = "__consumer_offsets";
    public static final int DEFAULT_PARTITIONS = 50;

    private OffsetsTopic() {
    }

    /**
     * The partition that owns a group: abs(groupId.hashCode()) % partitions, where abs(Integer.MIN_VALUE) is 0
     * (Kafka's Utils.abs, not a mask: abs(-1) is 1), so a group lives in the same partition number as in Kafka.
     */
    public static int partitionFor(String groupId, int partitions) {
        int h = groupId.hashCode();
        int abs = h == Integer.MIN_VALUE ? 0 : Math.abs(h);
        return abs % partitions;
    }
}
