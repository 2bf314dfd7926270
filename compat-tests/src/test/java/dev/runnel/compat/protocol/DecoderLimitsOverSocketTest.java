package dev.runnel.compat.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.RawKafkaConnection;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.DeleteGroupsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Kafka 4.4's decoder limits over a socket: a request with an array of more than 1,000,000 elements, or a struct
 * with more than 10,000 tagged fields, is refused even though the frame really holds them (it is far below
 * socket.request.max.bytes): the connection is closed without an answer, as for any request that does not parse,
 * while the same request one element or one tag below the limit is answered.
 */
class DecoderLimitsOverSocketTest {
    @RegisterExtension
    static final Broker broker = Broker.create();

    /** DeleteGroups v0: int32 count, then that many empty group names (int16 length 0 each). */
    private static ByteBuffer deleteGroupsV0(int groups) {
        ByteBuffer body = ByteBuffer.allocate(4 + 2 * groups);
        body.putInt(groups);
        body.position(body.capacity()).flip();
        return body;
    }

    /** DeleteGroups v2 (flexible): no groups, then {@code tags} unknown empty tagged fields. */
    private static ByteBuffer deleteGroupsV2WithTags(int tags) {
        ByteBuffer body = ByteBuffer.allocate(16 + 6 * tags);
        body.put((byte) 1); // compact array of 0 elements
        putVarint(body, tags);
        for (int i = 0; i < tags; i++) {
            putVarint(body, i);
            putVarint(body, 0);
        }
        return body.flip();
    }

    private static void putVarint(ByteBuffer b, int v) {
        while ((v & ~0x7f) != 0) {
            b.put((byte) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        b.put((byte) v);
    }

    /** Sends one DeleteGroups request and reads its answer. */
    private static void assertAnswered(short version, ByteBuffer body) throws Exception {
        try (RawKafkaConnection c = RawKafkaConnection.open(broker, Duration.ofSeconds(20))) {
            int id = send(c, version, body);
            ByteBuffer answer = c.receive(id, ApiKeys.DELETE_GROUPS, version);
            new DeleteGroupsResponseData(new ByteBufferAccessor(answer), version);
            assertEquals(0, answer.remaining(), "one whole DeleteGroups v" + version + " response");
        }
    }

    /** Sends one DeleteGroups request and sees the broker close the connection without an answer. */
    private static void assertRefused(short version, ByteBuffer body) throws Exception {
        try (RawKafkaConnection c = RawKafkaConnection.open(broker, Duration.ofSeconds(20))) {
            send(c, version, body);
            ByteArrayOutputStream received = new ByteArrayOutputStream();
            assertTrue(c.awaitClosedByBroker(received), "the connection is closed");
            assertEquals(0, received.size(), "a refused request gets no answer");
        }
    }

    private static int send(RawKafkaConnection c, short version, ByteBuffer body) throws Exception {
        int id = c.nextCorrelationId();
        c.writeFrame(RawKafkaConnection.header(ApiKeys.DELETE_GROUPS.id, version, id,
                ApiKeys.DELETE_GROUPS.requestHeaderVersion(version)), body);
        return id;
    }

    @Test
    void anArrayOverOneMillionElementsClosesTheConnection() throws Exception {
        assertAnswered((short) 0, deleteGroupsV0(1_000_000));
        assertRefused((short) 0, deleteGroupsV0(1_000_001));
        assertBrokerStillServes();
    }

    @Test
    void moreThanTenThousandTaggedFieldsCloseTheConnection() throws Exception {
        assertAnswered((short) 2, deleteGroupsV2WithTags(10_000));
        assertRefused((short) 2, deleteGroupsV2WithTags(10_001));
        assertBrokerStillServes();
    }

    private static void assertBrokerStillServes() throws Exception {
        try (RawKafkaConnection c = RawKafkaConnection.open(broker, Duration.ofSeconds(10))) {
            int id = c.send(new ApiVersionsRequestData(), (short) 0);
            ApiVersionsResponseData r = new ApiVersionsResponseData(new ByteBufferAccessor(c.receive(id, (short) 0)), (short) 0);
            assertEquals(Errors.NONE.code(), r.errorCode());
        }
    }
}
