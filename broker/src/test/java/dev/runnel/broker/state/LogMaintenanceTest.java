package dev.runnel.broker.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.broker.RunnelServer;
import dev.runnel.broker.produce.Requests;
import dev.runnel.broker.produce.TestClient;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.DeleteRecordsRequestData;
import dev.runnel.wire.message.DeleteRecordsResponseData;
import dev.runnel.wire.records.BatchBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DeleteRecords in every version and its error codes, and the maintenance service's passes run on demand:
 * retention removes what the log start offset left behind, and Kafka's log-start-offset-checkpoint is written
 * and read back on start.
 */
class LogMaintenanceTest {
    @TempDir
    Path dir;
    RunnelServer server;
    TestClient client;

    @BeforeEach
    void start() throws Exception {
        server = TestClient.startBroker(dir);
        server.broker().topics().create("t", 2, Map.of("segment.bytes", "200", "file.delete.delay.ms", "0"), false, false);
        server.broker().topics().create("c", 1, Map.of("cleanup.policy", "compact"), false, false);
        client = new TestClient(server.port());
        for (int i = 0; i < 10; i++) {
            client.call(Requests.produce("t", 0, (short) 1, new BatchBuilder().append(System.currentTimeMillis(), "k" + i, "v" + i).build()), (short) 9);
        }
    }

    @AfterEach
    void stop() throws Exception {
        client.close();
        server.close();
    }

    private DeleteRecordsResponseData.DeleteRecordsPartitionResult delete(short version, String topic, int partition,
                                                                          long offset) throws Exception {
        DeleteRecordsRequestData req = new DeleteRecordsRequestData().setTimeoutMs(1000);
        req.topics.add(new DeleteRecordsRequestData.DeleteRecordsTopic().setName(topic));
        req.topics.get(0).partitions.add(new DeleteRecordsRequestData.DeleteRecordsPartition().setPartitionIndex(partition)
                .setOffset(offset));
        DeleteRecordsResponseData resp = client.call(req, version);
        assertEquals(topic, resp.topics.get(0).name);
        return resp.topics.get(0).partitions.get(0);
    }

    @Test
    void everyVersionMovesTheLogStartOffset() throws Exception {
        for (short v = 0; v <= 2; v++) {
            DeleteRecordsResponseData.DeleteRecordsPartitionResult r = delete(v, "t", 0, 2 + v);
            assertEquals(Errors.NONE.code(), r.errorCode, "v" + v);
            assertEquals(2 + v, r.lowWatermark);
        }
        assertEquals(4, server.broker().topics().partition("t", 0).logStartOffset());
        // -1: up to the high watermark
        assertEquals(10, delete((short) 2, "t", 0, -1).lowWatermark);
    }

    @Test
    void errorCodesAsKafka() throws Exception {
        assertEquals(Errors.OFFSET_OUT_OF_RANGE.code(), delete((short) 2, "t", 0, 11).errorCode);
        assertEquals(Errors.OFFSET_OUT_OF_RANGE.code(), delete((short) 2, "t", 0, -2).errorCode);
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), delete((short) 2, "t", 7, 0).errorCode);
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), delete((short) 1, "nope", 0, 0).errorCode);
        assertEquals(Errors.POLICY_VIOLATION.code(), delete((short) 2, "c", 0, 0).errorCode);
        assertEquals(Errors.INVALID_TOPIC_EXCEPTION.code(), delete((short) 2, "__consumer_offsets", 0, 0).errorCode);
        assertEquals(-1L, delete((short) 2, "c", 0, 0).lowWatermark);
    }

    @Test
    void retentionRemovesSegmentsBelowTheLogStartAndTheCheckpointSurvivesARestart() throws Exception {
        Partition p = server.broker().topics().partition("t", 0);
        // two one-record batches a segment
        assertEquals(java.util.List.of(0L, 2L, 4L, 6L, 8L), java.util.Arrays.stream(p.log().segmentBaseOffsets()).boxed().toList());
        assertEquals(5, delete((short) 2, "t", 0, 5).lowWatermark);
        int removed = server.logMaintenance().runRetentionNow().get(10, TimeUnit.SECONDS);
        assertEquals(2, removed, "the segments at 0 and 2");
        assertEquals(4, p.log().segmentBaseOffsets()[0]);
        assertEquals("0\n1\nt 0 5\n", Files.readString(dir.resolve(LogMaintenance.LOG_START_OFFSET_CHECKPOINT)));
        client.close();
        server.close();
        server = TestClient.startBroker(dir);
        client = new TestClient(server.port());
        assertEquals(5, server.broker().topics().partition("t", 0).logStartOffset());
    }

    @Test
    void everyRecoveryPointIsCheckpointedAsKafkaDoes() throws Exception {
        Partition p = server.broker().topics().partition("t", 0);
        p.log().flush();
        server.logMaintenance().runRetentionNow().get(10, TimeUnit.SECONDS);
        String text = Files.readString(dir.resolve(LogMaintenance.RECOVERY_POINT_OFFSET_CHECKPOINT));
        java.util.List<String> lines = text.lines().toList();
        assertEquals("0", lines.get(0), "version");
        assertEquals(Integer.parseInt(lines.get(1)), lines.size() - 2, "the count matches the entries");
        assertTrue(lines.contains("t 0 " + p.log().logEndOffset()), "flushed to its end: " + text);
        assertEquals(10, p.log().logEndOffset());
    }

    @Test
    void theCleanersProgressIsCheckpointedAsKafkaDoes() throws Exception {
        server.broker().topics().create("k", 1, Map.of("cleanup.policy", "compact", "segment.bytes", "200"), false, false);
        for (int i = 0; i < 12; i++) {
            client.call(Requests.produce("k", 0, (short) 1,
                    new BatchBuilder().append(System.currentTimeMillis(), "key" + (i % 3), "v" + i).build()), (short) 9);
        }
        Partition p = server.broker().topics().partition("k", 0);
        assertEquals(-1, p.log().cleanerCheckpoint(), "never cleaned");
        assertTrue(server.logMaintenance().cleanNow().get(10, TimeUnit.SECONDS) >= 1);
        long cleanedUpTo = p.log().cleanerCheckpoint();
        assertTrue(cleanedUpTo > 0);
        assertTrue(Files.readString(dir.resolve(LogMaintenance.CLEANER_OFFSET_CHECKPOINT)).contains("k 0 " + cleanedUpTo));
        client.close();
        server.close();
        server = TestClient.startBroker(dir);
        client = new TestClient(server.port());
        assertEquals(cleanedUpTo, server.broker().topics().partition("k", 0).log().cleanerCheckpoint());
    }
}
