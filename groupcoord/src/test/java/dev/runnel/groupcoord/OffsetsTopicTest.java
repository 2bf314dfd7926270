package dev.runnel.groupcoord;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.Test;

class OffsetsTopicTest {
    @Test
    void aGroupLivesInTheSamePartitionAsInKafka() {
        Random random = new Random(42);
        for (int i = 0; i < 10_000; i++) {
            String groupId = "group-" + Long.toHexString(random.nextLong()) + "-" + i;
            int partitions = 1 + random.nextInt(100);
            assertEquals(Utils.abs(groupId.hashCode()) % partitions, OffsetsTopic.partitionFor(groupId, partitions), groupId);
        }
    }

    @Test
    void theHashOfIntegerMinValueGoesToPartitionZero() {
        assertEquals(Integer.MIN_VALUE, "polygenelubricants".hashCode());
        assertEquals(0, OffsetsTopic.partitionFor("polygenelubricants", 50));
        // abs, not a bit mask: for negative hashes the two disagree, and Kafka uses abs.
        for (int i = 0; ; i++) {
            String groupId = "group-" + i;
            int h = groupId.hashCode();
            if (h < 0 && Math.abs(h) % 50 != (h & 0x7fffffff) % 50) {
                assertEquals(Math.abs(h) % 50, OffsetsTopic.partitionFor(groupId, 50), groupId);
                return;
            }
        }
    }
}
