package dev.runnel.compat.legacy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.Clients;
import dev.runnel.wire.Readable;
import dev.runnel.wire.ByteBufWritable;
import dev.runnel.wire.message.ApiVersionsRequestData;
import dev.runnel.wire.message.ApiVersionsResponseData;
import dev.runnel.wire.message.FetchRequestData;
import dev.runnel.wire.message.FetchResponseData;
import dev.runnel.wire.records.LegacyMessageCursor;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What down-conversion costs: the same 100,000 records (200-byte values, uncompressed and gzip) read from offset 0
 * to the end with Fetch v4 (zero-copy), v3/v2 (magic 1) and v1 (magic 0), 1 MiB per fetch, over one plain socket;
 * the time is from sending each request to having its whole response. Prints MB/s of stored (v2) data read and
 * records/s per version; asserts that every version delivers every record (so a conversion that loses or repeats
 * records fails here). A harness with Runnel's own message classes, not a client test: the clients' own parsing
 * would swamp the broker's cost.
 */
class DownConversionCostTest {
    private static final int RECORDS = 100_000;
    private static final int ROUNDS = 5;

    @RegisterExtension
    static final Broker broker = Broker.create();

    @Test
    void fetchIsAdvertisedFromVersion0() throws Exception {
        try (Socket socket = new Socket(broker.host(), broker.port())) {
            ApiVersionsResponseData r = new ApiVersionsResponseData(
                    new Readable(Unpooled.wrappedBuffer(call(socket, new Out(), (short) 18, (short) 0,
                            (w) -> new ApiVersionsRequestData().write(w, (short) 0)))), (short) 0);
            ApiVersionsResponseData.ApiVersion fetch = r.apiKeys.stream().filter(v -> v.apiKey == 1).findFirst().orElseThrow();
            assertEquals(List.of((short) 0, (short) 18), List.of(fetch.minVersion, fetch.maxVersion));
            ApiVersionsResponseData.ApiVersion produce = r.apiKeys.stream().filter(v -> v.apiKey == 0).findFirst().orElseThrow();
            assertEquals(0, produce.minVersion);
        }
    }

    @Test
    void downConversionCost() throws Exception {
        Map<String, String> report = new HashMap<>();
        for (String codec : List.of("none", "gzip")) {
            String topic = Clients.uniqueTopic("downconv-" + codec);
            Clients.createTopic(broker, topic, 1);
            byte[] value = new byte[200];
            for (int i = 0; i < value.length; i++) {
                value[i] = (byte) ('a' + (i * 7) % 26);
            }
            try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of("bootstrap.servers",
                    broker.bootstrapServers(), "linger.ms", "20", "batch.size", "65536", "compression.type", codec),
                    new org.apache.kafka.common.serialization.StringSerializer(),
                    new org.apache.kafka.common.serialization.ByteArraySerializer())) {
                for (int i = 0; i < RECORDS; i++) {
                    producer.send(new ProducerRecord<>(topic, 0, "key-" + i, value));
                }
                producer.flush();
            }
            long storedBytes = 0;
            // one warm-up pass per version (the JIT), then ROUNDS interleaved passes
            for (int round = 0; round <= ROUNDS; round++) {
                for (short version : new short[] {4, 3, 1}) {
                    Pass p = readAll(topic, version);
                    assertEquals(RECORDS, p.records, "records delivered by Fetch v" + version + " (" + codec + ")");
                    if (version == 4) {
                        storedBytes = p.bytes;
                    }
                    if (round > 0) {
                        report.merge(codec + " v" + version, Long.toString(p.nanos), (a, b) -> a + "," + b);
                    }
                }
            }
            for (short version : new short[] {4, 3, 1}) {
                List<Long> nanos = new ArrayList<>();
                for (String n : report.get(codec + " v" + version).split(",")) {
                    nanos.add(Long.parseLong(n));
                }
                nanos.sort(null);
                long median = nanos.get(nanos.size() / 2);
                System.out.printf("[downconversion] %s Fetch v%d: %.1f MB/s of stored data, %.0f records/s (median of %d, %.1f MB stored)%n",
                        codec, version, storedBytes / 1e6 / (median / 1e9), RECORDS / (median / 1e9), ROUNDS,
                        storedBytes / 1e6);
            }
        }
    }

    private record Pass(long records, long bytes, long nanos) {
    }

    /** Reads the partition from 0 to its end with Fetch {@code version}. */
    private static Pass readAll(String topic, short version) throws IOException {
        long offset = 0;
        long records = 0;
        long bytes = 0;
        long nanos = 0;
        try (Socket socket = new Socket(broker.host(), broker.port())) {
            socket.setTcpNoDelay(true);
            while (offset < RECORDS) {
                FetchRequestData req = new FetchRequestData().setReplicaId(-1).setMaxWaitMs(0).setMinBytes(0)
                        .setMaxBytes(1 << 20);
                FetchRequestData.FetchTopic t = new FetchRequestData.FetchTopic().setTopic(topic);
                t.partitions.add(new FetchRequestData.FetchPartition().setPartition(0).setFetchOffset(offset)
                        .setPartitionMaxBytes(1 << 20));
                req.topics.add(t);
                long start = System.nanoTime();
                byte[] body = call(socket, new Out(), (short) 1, version, w -> req.write(w, version));
                nanos += System.nanoTime() - start;
                FetchResponseData resp = new FetchResponseData(new Readable(Unpooled.wrappedBuffer(body)), version);
                FetchResponseData.PartitionData pd = resp.responses.get(0).partitions.get(0);
                assertEquals(0, pd.errorCode, "error of Fetch v" + version);
                ByteBuf recs = Unpooled.buffer(pd.records.sizeInBytes());
                pd.records.writeTo(new ByteBufWritable(recs));
                ByteBuffer b = recs.nioBuffer();
                long next = offset;
                if (version >= 4) {
                    for (int p = 0; b.limit() - p >= 61; ) {
                        int length = b.getInt(p + 8);
                        if (b.limit() - p < 12 + length) {
                            break;
                        }
                        long last = b.getLong(p) + b.getInt(p + 23);
                        records += Math.max(0, last + 1 - Math.max(next, b.getLong(p)));
                        next = Math.max(next, last + 1);
                        p += 12 + length;
                    }
                } else {
                    try {
                        LegacyMessageCursor c = LegacyMessageCursor.open(b);
                        while (c.next()) {
                            if (c.offset() >= next) {
                                records++;
                                next = c.offset() + 1;
                            }
                        }
                    } catch (dev.runnel.wire.records.RecordsException e) {
                        throw new AssertionError("Fetch v" + version + " returned a message set we cannot read", e);
                    }
                }
                if (next == offset) {
                    throw new AssertionError("Fetch v" + version + " at offset " + offset + " made no progress");
                }
                bytes += pd.records.sizeInBytes();
                offset = next;
            }
        }
        return new Pass(records, bytes, nanos);
    }

    private static final class Out extends ByteBufWritable {
        Out() {
            super(Unpooled.buffer(256));
        }
    }

    private interface Body {
        void write(ByteBufWritable w);
    }

    /** One request (header v1) and its response body (header v0 skipped). */
    private static byte[] call(Socket socket, Out out, short apiKey, short version, Body body) throws IOException {
        ByteBuf b = out.buffer();
        byte[] clientId = "downconversion-cost".getBytes(StandardCharsets.UTF_8);
        b.writeShort(apiKey).writeShort(version).writeInt(7).writeShort(clientId.length).writeBytes(clientId);
        body.write(out);
        DataOutputStream os = new DataOutputStream(socket.getOutputStream());
        os.writeInt(b.readableBytes());
        os.write(b.array(), b.arrayOffset() + b.readerIndex(), b.readableBytes());
        os.flush();
        DataInputStream in = new DataInputStream(socket.getInputStream());
        int size = in.readInt();
        byte[] frame = new byte[size];
        in.readFully(frame);
        byte[] bodyBytes = new byte[size - 4];
        System.arraycopy(frame, 4, bodyBytes, 0, bodyBytes.length);
        return bodyBytes;
    }
}
