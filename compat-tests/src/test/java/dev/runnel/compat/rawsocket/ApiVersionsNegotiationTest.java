package dev.runnel.compat.rawsocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.RawKafkaConnection;
import java.nio.ByteBuffer;
import java.time.Duration;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * ApiVersions is how every client starts. A client newer than the broker asks with a version the
 * broker does not know; the broker must answer in v0 format with UNSUPPORTED_VERSION and its full
 * list, keep the connection, and answer the retry with a version it knows.
 */
class ApiVersionsNegotiationTest {

    @RegisterExtension
    static final Broker broker = Broker.create();

    @Test
    void anUnknownVersionGetsUnsupportedVersionInV0FormatWithTheApiList() throws Exception {
        try (RawKafkaConnection connection = RawKafkaConnection.open(broker, Duration.ofSeconds(10))) {
            // The body a flexible ApiVersions request carries (v3 layout), under version 127 and a v2
            // header, as a future client would send it.
            ApiVersionsRequestData request = new ApiVersionsRequestData()
                    .setClientSoftwareName("runnel-compat")
                    .setClientSoftwareVersion("1.0");
            int correlationId = connection.nextCorrelationId();
            connection.writeFrame(
                    RawKafkaConnection.header(ApiKeys.API_VERSIONS.id, (short) 127, correlationId, (short) 2),
                    RawKafkaConnection.serialize(request, (short) 3));

            // Response header v0 (correlation id only), then an ApiVersions v0 body.
            ByteBuffer body = connection.receive(correlationId, (short) 0);
            ApiVersionsResponseData response = new ApiVersionsResponseData(new ByteBufferAccessor(body), (short) 0);
            assertEquals(0, body.remaining(), "the response is exactly a v0 body (no throttle time, no tags); "
                    + body.remaining() + " bytes left over after parsing as v0");
            assertEquals(Errors.UNSUPPORTED_VERSION.code(), response.errorCode(), "error code");
            // What the client needs to retry is ApiVersions' own range; Kafka 4 lists only that key
            // here, a broker may list them all.
            assertAdvertisesApiVersions(response);

            // The client retries on the same connection with the highest version the broker listed.
            short retryVersion = (short) Math.min(3, response.apiKeys().find(ApiKeys.API_VERSIONS.id).maxVersion());
            int retryId = connection.send(request, retryVersion);
            ByteBuffer retryBody = connection.receive(retryId, (short) 0);
            ApiVersionsResponseData retry = new ApiVersionsResponseData(new ByteBufferAccessor(retryBody), retryVersion);
            assertEquals(Errors.NONE.code(), retry.errorCode(), "ApiVersions v" + retryVersion + " after the error");
            assertEquals(0, retry.throttleTimeMs(), "throttle time");
            assertAdvertisesTheBasics(retry);
            assertEquals(response.apiKeys().find(ApiKeys.API_VERSIONS.id), retry.apiKeys().find(ApiKeys.API_VERSIONS.id),
                    "the same ApiVersions range both times");
        }
    }

    @Test
    void everyVersionFromZeroToTheAdvertisedMaximumIsAnswered() throws Exception {
        try (RawKafkaConnection connection = RawKafkaConnection.open(broker, Duration.ofSeconds(10))) {
            short max = (short) Math.min(3, advertisedMax(connection));
            for (short version = 0; version <= max; version++) {
                ApiVersionsRequestData request = new ApiVersionsRequestData();
                if (version >= 3) {
                    request.setClientSoftwareName("runnel-compat").setClientSoftwareVersion("1.0");
                }
                int correlationId = connection.send(request, version);
                // ApiVersions responses always use response header v0.
                ByteBuffer body = connection.receive(correlationId, (short) 0);
                ApiVersionsResponseData response = new ApiVersionsResponseData(new ByteBufferAccessor(body), version);
                assertEquals(0, body.remaining(), "v" + version + " response has no trailing bytes");
                assertEquals(Errors.NONE.code(), response.errorCode(), "ApiVersions v" + version);
                assertAdvertisesTheBasics(response);
            }
        }
    }

    private static short advertisedMax(RawKafkaConnection connection) throws Exception {
        int correlationId = connection.send(new ApiVersionsRequestData(), (short) 0);
        ByteBuffer body = connection.receive(correlationId, (short) 0);
        ApiVersionsResponseData response = new ApiVersionsResponseData(new ByteBufferAccessor(body), (short) 0);
        return response.apiKeys().find(ApiKeys.API_VERSIONS.id).maxVersion();
    }

    private static void assertAdvertisesApiVersions(ApiVersionsResponseData response) {
        ApiVersionsResponseData.ApiVersion apiVersions = response.apiKeys().find(ApiKeys.API_VERSIONS.id);
        assertNotNull(apiVersions, "ApiVersions itself is listed: " + response.apiKeys());
        assertEquals(0, apiVersions.minVersion(), "ApiVersions from v0");
        assertTrue(apiVersions.maxVersion() >= 3, "ApiVersions up to at least v3: " + apiVersions);
    }

    private static void assertAdvertisesTheBasics(ApiVersionsResponseData response) {
        assertAdvertisesApiVersions(response);
        for (ApiKeys api : new ApiKeys[] {ApiKeys.PRODUCE, ApiKeys.FETCH, ApiKeys.METADATA, ApiKeys.LIST_OFFSETS}) {
            assertNotNull(response.apiKeys().find(api.id), api + " is listed: " + response.apiKeys());
        }
        // librdkafka < 2.11.1 only compresses when Produce v0 is advertised (KAFKA-18659).
        assertEquals(0, response.apiKeys().find(ApiKeys.PRODUCE.id).minVersion(), "Produce advertised from v0");
    }
}
