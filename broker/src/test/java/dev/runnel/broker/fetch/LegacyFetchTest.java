package dev.runnel.broker.fetch;

import static dev.runnel.broker.produce.Requests.addPartition;
import static dev.runnel.broker.produce.Requests.batch;
import static dev.runnel.broker.produce.Requests.fetch;
import static dev.runnel.broker.produce.Requests.produce;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.runnel.broker.RunnelServer;
import dev.runnel.broker.produce.TestClient;
import dev.runnel.wire.ByteBufWritable;
import dev.runnel.wire.Errors;
import dev.runnel.wire.Records;
import dev.runnel.wire.message.FetchResponseData;
import dev.runnel.wire.message.ProduceResponseData;
import dev.runnel.wire.records.BatchBuilder;
import dev.runnel.wire.records.Compression;
import dev.runnel.wire.records.LegacyMessageCursor;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Fetch v0-3: stored v2 batches come back as magic 0 (v0-1) or magic 1 (v2-3) message sets. */
class LegacyFetchTest {
    @TempDir
    Path dir;
    RunnelServer server;
    TestClient client;

    @BeforeEach
    void start() throws Exception {
        server = TestClient.startBroker(dir);
        server.broker().topics().create("t", 1, Map.of(), false, false);
        client = new TestClient(server.port());
        for (int i = 0; i < 3; i++) {
            ProduceResponseData r = client.call(produce("t", 0, (short) 1, batch(2, 1000 + i)), (short) 9);
            assertEquals(Errors.NONE.code(), r.responses.get(0).partitionResponses.get(0).errorCode);
        }
    }

    @AfterEach
    void stop() throws Exception {
        client.close();
        server.close();
    }

    private FetchResponseData.PartitionData fetchOne(short version, String topic, long offset, int partitionMaxBytes)
            throws Exception {
        FetchResponseData resp = client.call(addPartition(fetch(0, 1, 1 << 20), topic, 0, offset, partitionMaxBytes), version);
        return resp.responses.get(0).partitions.get(0);
    }

    /** "offset magic value" of every record of a legacy message set. */
    private static List<String> legacy(Records records) throws Exception {
        ByteBuf b = Unpooled.buffer(records.sizeInBytes());
        records.writeTo(new ByteBufWritable(b));
        ByteBuffer buf = b.nioBuffer();
        LegacyMessageCursor c = LegacyMessageCursor.open(buf);
        List<String> out = new ArrayList<>();
        while (c.next()) {
            out.add(c.offset() + " " + c.magic() + " " + new String(c.value(), StandardCharsets.UTF_8));
        }
        return out;
    }

    @Test
    void everyOldVersionGetsItsMessageFormat() throws Exception {
        for (short v = 0; v <= 3; v++) {
            FetchResponseData.PartitionData p = fetchOne(v, "t", 0, 1 << 20);
            assertEquals(Errors.NONE.code(), p.errorCode, "v" + v);
            assertEquals(6L, p.highWatermark);
            int magic = v <= 1 ? 0 : 1;
            assertEquals(List.of("0 " + magic + " v0", "1 " + magic + " v1", "2 " + magic + " v0", "3 " + magic + " v1",
                    "4 " + magic + " v0", "5 " + magic + " v1"), legacy(p.records), "v" + v);
        }
        // uncompressed records below the fetch offset are left out, as Kafka does
        assertEquals(List.of("3 1 v1", "4 1 v0", "5 1 v1"), legacy(fetchOne((short) 3, "t", 3, 1 << 20).records));
        // the partition limit: the first converted batch whole, then nothing more
        assertEquals(List.of("0 1 v0", "1 1 v1"), legacy(fetchOne((short) 3, "t", 0, 10).records));
    }

    @Test
    void zstdAndDisabledDownConversionAreRefusedAsKafkaDoes() throws Exception {
        server.broker().topics().create("z", 1, Map.of(), false, false);
        ByteBuffer zstd = new BatchBuilder().compression(Compression.ZSTD).append(1L, "k", "v").build();
        ProduceResponseData r = client.call(produce("z", 0, (short) 1, zstd), (short) 9);
        assertEquals(Errors.NONE.code(), r.responses.get(0).partitionResponses.get(0).errorCode);
        assertEquals(Errors.UNSUPPORTED_COMPRESSION_TYPE.code(), fetchOne((short) 3, "z", 0, 1 << 20).errorCode);

        server.broker().topics().create("off", 1, Map.of("message.downconversion.enable", "false"), false, false);
        r = client.call(produce("off", 0, (short) 1, batch(1, 1)), (short) 9);
        assertEquals(Errors.NONE.code(), r.responses.get(0).partitionResponses.get(0).errorCode);
        assertEquals(Errors.UNSUPPORTED_VERSION.code(), fetchOne((short) 2, "off", 0, 1 << 20).errorCode);
        assertEquals(Errors.NONE.code(), fetchOne((short) 4, "off", 0, 1 << 20).errorCode, "v4+ needs no conversion");
    }
}
