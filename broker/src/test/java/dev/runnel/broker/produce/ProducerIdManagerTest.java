package dev.runnel.broker.produce;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.broker.state.ProducerIdManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProducerIdManagerTest {
    @TempDir
    Path dir;

    @Test
    void idsAreUniqueAndSurviveRestarts() throws Exception {
        Set<Long> seen = new HashSet<>();
        for (int restart = 0; restart < 4; restart++) {
            ProducerIdManager m = ProducerIdManager.open(dir, 10);
            for (int i = 0; i < 25; i++) {
                long id = m.nextId();
                assertTrue(id >= 0);
                assertTrue(seen.add(id), "id " + id + " handed out twice");
            }
        }
        // the file holds the end of the last block taken
        assertEquals(Files.readString(dir.resolve(ProducerIdManager.FILE_NAME)).trim(),
                String.valueOf(ProducerIdManager.open(dir, 10).nextId()));
    }

    @Test
    void concurrentCallersGetDistinctIds() throws Exception {
        ProducerIdManager m = ProducerIdManager.open(dir, 7);
        Set<Long> ids = ConcurrentHashMap.newKeySet();
        Thread[] threads = new Thread[4];
        for (int t = 0; t < threads.length; t++) {
            threads[t] = new Thread(() -> {
                for (int i = 0; i < 500; i++) {
                    ids.add(m.nextId());
                }
            });
            threads[t].start();
        }
        for (Thread t : threads) {
            t.join();
        }
        assertEquals(2000, ids.size());
    }

    @Test
    void corruptStateIsNotSilentlyReset() throws Exception {
        Files.writeString(dir.resolve(ProducerIdManager.FILE_NAME), "garbage");
        assertThrows(IOException.class, () -> ProducerIdManager.open(dir));
    }
}
