package dev.runnel.broker.groups;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.broker.BrokerConfig;
import dev.runnel.broker.state.Partition;
import dev.runnel.broker.state.TopicManager;
import dev.runnel.groupcoord.CoordinatorRecord;
import dev.runnel.groupcoord.OffsetAndMetadata;
import dev.runnel.groupcoord.OffsetsTopic;
import dev.runnel.wire.Errors;
import dev.runnel.wire.records.BatchBuilder;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The coordinator's records go into __consumer_offsets as ordinary batches and come back in order. */
class OffsetsTopicLogTest {
    @TempDir
    Path dir;

    private record Read(long offset, long producerId, byte[] key, byte[] value) {
    }

    @Test
    void recordsRoundTripThroughThePartitionLogAndControlBatchesAreSkipped() throws Exception {
        Properties p = new Properties();
        p.setProperty("log.dirs", dir.toString());
        try (TopicManager topics = TopicManager.open(BrokerConfig.fromProperties(p))) {
            List<Boolean> created = new ArrayList<>();
            OffsetsTopicLog log = new OffsetsTopicLog((index, create) -> {
                if (create && topics.get(OffsetsTopic.NAME) == null) {
                    created.add(true);
                    assertEquals(Errors.NONE, topics.create(OffsetsTopic.NAME, 3, Map.of("cleanup.policy", "compact"), true, false).error());
                }
                return topics.partition(OffsetsTopic.NAME, index);
            });
            List<Read> nothing = new ArrayList<>();
            log.read(1, (o, pid, k, v) -> nothing.add(null));
            assertTrue(nothing.isEmpty() && created.isEmpty(), "reading does not create the topic");

            CoordinatorRecord commit = CoordinatorRecord.offsetCommit("g", "t", 0, new OffsetAndMetadata(7, 1, "m", 5, -1, -1));
            CoordinatorRecord tombstone = CoordinatorRecord.offsetCommitTombstone("g", "t", 1);
            assertEquals(0, log.append(1, 1000, List.of(commit, tombstone)));
            // A control batch (e.g. a transaction marker) in between is not a coordinator record.
            Partition partition = topics.partition(OffsetsTopic.NAME, 1);
            ByteBuffer control = new BatchBuilder().producer(99, (short) 0, -1).transactional(true).control(true)
                    .append(1000, new byte[] {0, 0, 0, 0}, new byte[] {0, 0, 0, 0, 0, 0}).build();
            assertTrue(partition.log().append(control, Partition.LEADER_EPOCH, dev.runnel.log.AppendOrigin.COORDINATOR).isOk());
            CoordinatorRecord group = CoordinatorRecord.groupMetadataTombstone("g");
            assertEquals(3, log.append(1, 1001, List.of(group)));
            assertEquals(List.of(true), created);

            List<Read> read = new ArrayList<>();
            log.read(1, (o, pid, k, v) -> read.add(new Read(o, pid, bytes(k), v == null ? null : bytes(v))));
            assertEquals(List.of(0L, 1L, 3L), read.stream().map(Read::offset).toList());
            assertArrayEquals(commit.serializeKey(), read.get(0).key());
            assertArrayEquals(commit.serializeValue(), read.get(0).value());
            assertEquals(-1, read.get(0).producerId());
            assertNull(read.get(1).value(), "a tombstone has no value");
            assertArrayEquals(group.serializeKey(), read.get(2).key());
        }
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }
}
