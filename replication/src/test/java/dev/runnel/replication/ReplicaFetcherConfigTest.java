package dev.runnel.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ReplicaFetcherConfigTest {
    @Test
    void defaultsAreKafkas() {
        ReplicaFetcherConfig c = ReplicaFetcherConfig.defaults();
        assertEquals(1, c.numReplicaFetchers());
        assertEquals(1_048_576, c.fetchMaxBytes());
        assertEquals(10_485_760, c.fetchResponseMaxBytes());
        assertEquals(500, c.fetchWaitMaxMs());
        assertEquals(1, c.fetchMinBytes());
        assertEquals(1000, c.fetchBackoffMs());
        assertEquals(30_000, c.socketTimeoutMs());
        assertEquals(65_536, c.socketReceiveBufferBytes());
        assertEquals(c, ReplicaFetcherConfig.fromProperties(Map.of("unrelated.key", "x")));
    }

    @Test
    void readsKafkasKeys() {
        ReplicaFetcherConfig c = ReplicaFetcherConfig.fromProperties(Map.of(
                "num.replica.fetchers", "4",
                "replica.fetch.max.bytes", " 2097152 ",
                "replica.fetch.response.max.bytes", 20_000_000,
                "replica.fetch.wait.max.ms", "250",
                "replica.fetch.min.bytes", "10",
                "replica.fetch.backoff.ms", "50",
                "replica.socket.timeout.ms", "10000",
                "replica.socket.receive.buffer.bytes", "-1"));
        assertEquals(new ReplicaFetcherConfig(4, 2_097_152, 20_000_000, 250, 10, 50, 10_000, -1), c);
    }

    @Test
    void refusesBadValues() {
        assertThrows(IllegalArgumentException.class,
                () -> ReplicaFetcherConfig.fromProperties(Map.of("num.replica.fetchers", "0")));
        assertThrows(IllegalArgumentException.class,
                () -> ReplicaFetcherConfig.fromProperties(Map.of("replica.fetch.max.bytes", "lots")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ReplicaFetcherConfig.fromProperties(Map.of("replica.socket.timeout.ms", "100")));
        assertTrue(e.getMessage().contains("replica.fetch.wait.max.ms"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> ReplicaFetcherConfig.defaults().withFetchBackoffMs(-1));
    }

    @Test
    void partitionsAreHashedOverTheFetchersAsKafkaDoes() {
        // Kafka: Utils.abs(31 * topic.hashCode() + partitionId) % numFetchers
        assertEquals(Math.abs(31 * "orders".hashCode() + 3) % 5, ReplicaFetcherManager.fetcherId("orders", 3, 5));
        assertEquals(0, ReplicaFetcherManager.fetcherId("anything", 7, 1));
        for (int p = 0; p < 100; p++) {
            int id = ReplicaFetcherManager.fetcherId("t" + p, p, 3);
            assertTrue(id >= 0 && id < 3);
        }
    }
}
