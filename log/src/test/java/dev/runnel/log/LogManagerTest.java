package dev.runnel.log;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LogManagerTest {
    @TempDir
    Path tmp;

    @Test
    void opensCreatesListsAndDeletes() throws IOException {
        PartitionId a = new PartitionId("my-topic.v2", 0);
        PartitionId b = new PartitionId("my-topic.v2", 11);
        PartitionId c = new PartitionId("__consumer_offsets", 49);
        try (LogManager m = new LogManager(tmp)) {
            assertTrue(m.getOrCreate(a).append(TestBatches.batch(2, 1L), 0).isOk());
            assertSame(m.getOrCreate(a), m.get(a));
            m.getOrCreate(b);
            m.getOrCreate(c);
            assertTrue(Files.isDirectory(tmp.resolve("my-topic.v2-11")));
        }
        Files.createDirectories(tmp.resolve("not-a-partition-x"));
        try (LogManager m = new LogManager(tmp)) {
            assertEquals(Set.of(a, b, c), new HashSet<>(m.partitions()));
            assertEquals(2, m.get(a).logEndOffset());
            assertTrue(m.delete(b));
            assertFalse(Files.exists(tmp.resolve("my-topic.v2-11")));
            assertNull(m.get(b));
            assertFalse(m.delete(b));
            assertEquals(2, m.partitions().size());
        }
    }

    @Test
    void parsesDirectoryNamesAtTheLastDash() {
        assertEquals(new PartitionId("a-b-c", 3), PartitionId.parseDirName("a-b-c-3"));
        assertEquals(new PartitionId("x.y", 0), PartitionId.parseDirName("x.y-0"));
        assertNull(PartitionId.parseDirName("nodash"));
        assertNull(PartitionId.parseDirName("topic-"));
        assertNull(PartitionId.parseDirName("topic-1a"));
        assertNull(PartitionId.parseDirName("-1"));
        assertEquals(List.of("t-7"), List.of(new PartitionId("t", 7).dirName()));
    }
}
