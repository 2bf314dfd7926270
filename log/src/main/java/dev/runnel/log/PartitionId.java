package dev.runnel.log;

import java.util.Objects;

/**
 * A topic partition and its directory name {@code <topic>-<partition>} (topic names may contain
 * '-' and '.', so parsing splits at the last '-').
 */
public record PartitionId(String topic, int partition) {

    public PartitionId {
        Objects.requireNonNull(topic, "topic");
        if (topic.isEmpty() || partition < 0) {
            throw new IllegalArgumentException("Invalid partition " + topic + "-" + partition);
        }
    }

    public String dirName() {
        return topic + "-" + partition;
    }

    /** Parses a partition directory name, or returns null if it is not one. */
    public static PartitionId parseDirName(String name) {
        int dash = name.lastIndexOf('-');
        if (dash <= 0 || dash == name.length() - 1) {
            return null;
        }
        String num = name.substring(dash + 1);
        for (int i = 0; i < num.length(); i++) {
            if (!Character.isDigit(num.charAt(i))) {
                return null;
            }
        }
        try {
            return new PartitionId(name.substring(0, dash), Integer.parseInt(num));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    @Override
    public String toString() {
        return dirName();
    }
}
