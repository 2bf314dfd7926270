package dev.runnel.compat.rawsocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.Clients;
import dev.runnel.compat.support.RawKafkaConnection;
import dev.runnel.compat.support.RawProduce;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Bad input over a plain socket never takes the broker down: garbage and oversized frames close
 * that one connection, a batch with a broken CRC is refused with CORRUPT_MESSAGE, a write to a
 * partition that does not exist gets UNKNOWN_TOPIC_OR_PARTITION — and after each, ordinary Java
 * clients still produce and consume on the same broker.
 */
class BadInputTest {

    private static final int MAX_REQUEST_BYTES = 1024 * 1024;
    /** How long the broker may take to close a connection it must close. */
    private static final Duration CLOSE_DEADLINE = Duration.ofSeconds(5);

    @RegisterExtension
    static final Broker broker = Broker.create()
            .with("socket.request.max.bytes", Integer.toString(MAX_REQUEST_BYTES));

    @AfterEach
    void normalClientsStillWork() throws Exception {
        Clients.assertRoundTripWorks(broker);
    }

    static Stream<Arguments> garbageFrames() {
        Map<String, byte[]> frames = new HashMap<>();
        Random random = new Random(20240601L);

        byte[] noise = new byte[200];
        random.nextBytes(noise);
        short noiseApiKey = ByteBuffer.wrap(noise).getShort();
        if (noiseApiKey >= 0 && ApiKeys.hasId(noiseApiKey)) {
            throw new IllegalStateException("the seeded noise starts with a real api key; pick another seed");
        }
        frames.put("random bytes", noise);

        ByteBuffer unknownApi = ByteBuffer.allocate(40);
        unknownApi.putShort((short) 32000).putShort((short) 0).putInt(7).putShort((short) -1);
        frames.put("unknown api key 32000", unknownApi.array());

        // A well-formed header for Metadata v1 followed by noise where the topic array should be.
        ByteBuffer header = RawKafkaConnection.header(ApiKeys.METADATA.id, (short) 1, 7, (short) 1);
        byte[] body = new byte[64];
        random.nextBytes(body);
        body[0] = 0x7f; // topic count 0x7f...: far more topics than bytes left
        frames.put("Metadata v1 header, garbage body", concat(header, ByteBuffer.wrap(body)));

        // A well-formed header for Metadata v1 and no body at all.
        frames.put("Metadata v1 header, body missing",
                concat(RawKafkaConnection.header(ApiKeys.METADATA.id, (short) 1, 7, (short) 1), ByteBuffer.allocate(0)));

        // A version of Metadata that does not exist (not ApiVersions, so no error response is owed).
        frames.put("Metadata v999", concat(RawKafkaConnection.header(ApiKeys.METADATA.id, (short) 999, 7, (short) 1),
                ByteBuffer.allocate(8)));

        return frames.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .map(e -> Arguments.of(e.getKey(), e.getValue()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("garbageFrames")
    void aGarbageFrameClosesThatConnection(String label, byte[] payload) throws Exception {
        try (RawKafkaConnection connection = RawKafkaConnection.open(broker, CLOSE_DEADLINE)) {
            assertConnectionAnswers(connection);
            connection.writeFrame(ByteBuffer.wrap(payload));
            ByteArrayOutputStream received = new ByteArrayOutputStream();
            assertTrue(connection.awaitClosedByBroker(received),
                    label + ": the broker should close the connection within " + CLOSE_DEADLINE + "; it sent "
                            + received.size() + " bytes and kept it open");
        }
    }

    @ParameterizedTest(name = "length prefix {0}")
    @ValueSource(ints = {MAX_REQUEST_BYTES + 1, 64 * 1024 * 1024, Integer.MAX_VALUE, -1})
    void aLengthPrefixBeyondTheLimitClosesTheConnectionBeforeTheBodyArrives(int length) throws Exception {
        try (RawKafkaConnection connection = RawKafkaConnection.open(broker, CLOSE_DEADLINE)) {
            assertConnectionAnswers(connection);
            // Only the length prefix and the start of a header: a broker that allocated the frame and
            // waited for the rest would keep this connection open.
            ByteBuffer start = ByteBuffer.allocate(4 + 8).putInt(length)
                    .putShort(ApiKeys.METADATA.id).putShort((short) 1).putInt(9);
            connection.writeRaw(start.array());
            assertTrue(connection.awaitClosedByBroker(null),
                    "a frame of " + length + " bytes (limit " + MAX_REQUEST_BYTES + ") must be refused at once");
        }
    }

    @ParameterizedTest(name = "Produce v{0}")
    @ValueSource(shorts = {8, 9})
    void aBatchWithAWrongCrcIsRefusedWithCorruptMessage(short version) throws Exception {
        String topic = Clients.uniqueTopic("bad-crc");
        Clients.createTopic(broker, topic, 1);
        ByteBuffer batch = RawProduce.batchOf("a", "b", "c");
        // Flip one bit in the last record's value: inside the CRC-32C-covered part of the batch.
        int last = batch.limit() - 1;
        batch.put(last, (byte) (batch.get(last) ^ 0x01));

        try (RawKafkaConnection connection = RawKafkaConnection.open(broker, Duration.ofSeconds(10))) {
            ProduceResponseData response = RawProduce.produce(connection, version, topic, Map.of(0, batch));
            assertEquals(Errors.CORRUPT_MESSAGE.code(), RawProduce.errorOf(response, topic, 0),
                    "partition error for a batch whose CRC does not match");
            assertConnectionAnswers(connection);
        }
        assertEquals(0L, endOffset(topic, 0), "nothing was appended");
    }

    @ParameterizedTest(name = "Produce v{0}")
    @ValueSource(shorts = {8, 9})
    void aWriteToAPartitionThatDoesNotExistIsRefused(short version) throws Exception {
        String topic = Clients.uniqueTopic("no-partition-7");
        Clients.createTopic(broker, topic, 1);

        try (RawKafkaConnection connection = RawKafkaConnection.open(broker, Duration.ofSeconds(10))) {
            Map<Integer, ByteBuffer> partitions = new HashMap<>();
            partitions.put(0, RawProduce.batchOf("fine"));
            partitions.put(7, RawProduce.batchOf("nowhere"));
            ProduceResponseData response = RawProduce.produce(connection, version, topic, partitions);
            assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), RawProduce.errorOf(response, topic, 7), "partition 7");
            assertEquals(Errors.NONE.code(), RawProduce.errorOf(response, topic, 0), "partition 0 of the same request");
            assertConnectionAnswers(connection);
        }
        assertEquals(1L, endOffset(topic, 0), "the valid partition's batch was appended");
    }

    @Test
    void aWriteToATopicThatDoesNotExistIsRefused() throws Exception {
        String topic = Clients.uniqueTopic("no-such-topic");
        try (RawKafkaConnection connection = RawKafkaConnection.open(broker, Duration.ofSeconds(10))) {
            ProduceResponseData response = RawProduce.produce(connection, (short) 9, topic, Map.of(0, RawProduce.batchOf("x")));
            assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), RawProduce.errorOf(response, topic, 0), "unknown topic");
            assertConnectionAnswers(connection);
        }
    }

    /** The connection is alive: an ApiVersions v0 round trip on it succeeds. */
    private static void assertConnectionAnswers(RawKafkaConnection connection) throws IOException {
        int correlationId = connection.send(new ApiVersionsRequestData(), (short) 0);
        ByteBuffer body = connection.receive(correlationId, ApiKeys.API_VERSIONS, (short) 0);
        ApiVersionsResponseData response = new ApiVersionsResponseData(new ByteBufferAccessor(body), (short) 0);
        assertEquals(Errors.NONE.code(), response.errorCode(), "ApiVersions v0 on this connection");
        assertFalse(response.apiKeys().isEmpty(), "ApiVersions lists apis");
    }

    private static long endOffset(String topic, int partition) {
        TopicPartition tp = new TopicPartition(topic, partition);
        try (KafkaConsumer<String, String> consumer = Clients.consumer(broker)) {
            return consumer.endOffsets(Set.of(tp)).get(tp);
        }
    }

    private static byte[] concat(ByteBuffer a, ByteBuffer b) {
        ByteBuffer all = ByteBuffer.allocate(a.remaining() + b.remaining());
        all.put(a.duplicate()).put(b.duplicate());
        return all.array();
    }
}
