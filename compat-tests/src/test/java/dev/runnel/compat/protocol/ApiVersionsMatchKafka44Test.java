package dev.runnel.compat.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.Clients;
import dev.runnel.compat.support.RawKafkaConnection;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Runnel advertises Kafka 4.4's newest stable version of every API it implements. The request is built and the
 * answer parsed by kafka-clients 4.4.0 (ApiVersions at its newest version, v5); Kafka's ranges come from the same
 * jar's ApiKeys (latest version without the unstable ones, as a Kafka 4.4 broker advertises by default).
 */
class ApiVersionsMatchKafka44Test {
    /** APIs deliberately still behind Kafka 4.4, with why. */
    private static final Map<ApiKeys, String> BEHIND = Map.of();

    @RegisterExtension
    static final Broker broker = Broker.create();

    @Test
    void everyImplementedApiIsAdvertisedUpToKafka44sNewestVersion() throws Exception {
        assumeTrue(Clients.clientsVersion().startsWith("4.4"), "needs kafka-clients 4.4 on the class path, found "
                + Clients.describeVersion());
        short version = ApiKeys.API_VERSIONS.latestVersion(false);
        assertEquals(5, version, "kafka-clients 4.4's newest ApiVersions");
        ApiVersionsResponseData response;
        try (RawKafkaConnection connection = RawKafkaConnection.open(broker, Duration.ofSeconds(10))) {
            int id = connection.send(new ApiVersionsRequestData().setClientSoftwareName("runnel-compat")
                    .setClientSoftwareVersion("4.4.0"), version);
            ByteBuffer body = connection.receive(id, (short) 0); // ApiVersions always answers with header v0
            response = new ApiVersionsResponseData(new ByteBufferAccessor(body), version);
            assertEquals(0, body.remaining(), "trailing bytes after the v" + version + " response");
        }
        assertEquals(Errors.NONE.code(), response.errorCode());

        List<String> mismatches = new ArrayList<>();
        int compared = 0;
        for (ApiVersionsResponseData.ApiVersion ours : response.apiKeys()) {
            if (!ApiKeys.hasId(ours.apiKey())) {
                mismatches.add("key " + ours.apiKey() + " is not a Kafka 4.4 API");
                continue;
            }
            ApiKeys api = ApiKeys.forId(ours.apiKey());
            short kafkaMax = api.latestVersion(false);
            short kafkaMin = api.oldestVersion();
            compared++;
            String line = api.name + ": Runnel " + ours.minVersion() + "-" + ours.maxVersion() + ", Kafka 4.4 " + kafkaMin + "-" + kafkaMax;
            if (BEHIND.containsKey(api)) {
                System.out.println("[compat] behind on purpose: " + line + " (" + BEHIND.get(api) + ")");
                assertTrue(ours.maxVersion() < kafkaMax, api.name + " is listed as behind but is not: " + line);
                continue;
            }
            System.out.println("[compat] " + line);
            if (ours.maxVersion() != kafkaMax || ours.minVersion() > kafkaMin) {
                mismatches.add(line);
            }
        }
        for (ApiKeys api : BEHIND.keySet()) {
            assertTrue(response.apiKeys().find(api.id) != null, api.name + " should be implemented (and behind)");
        }
        System.out.println("[compat] compared " + compared + " APIs with kafka-clients " + Clients.clientsVersion());
        assertTrue(compared >= 35, "only " + compared + " APIs advertised");
        assertEquals(List.of(), mismatches, "APIs whose advertised range differs from Kafka 4.4's");
    }
}
