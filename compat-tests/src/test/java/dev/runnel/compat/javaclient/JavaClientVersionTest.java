package dev.runnel.compat.javaclient;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.runnel.compat.support.Clients;
import org.apache.kafka.common.utils.AppInfoParser;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Guards the build: each surefire execution must really run the Java-client tests against the
 * kafka-clients version it claims (4.x in the default run, 3.9.x in {@code java-client-3.9}).
 */
@Tag("java-client")
class JavaClientVersionTest {

    @Test
    void theLoadedKafkaClientsIsTheOneThisRunIsFor() {
        String expected = System.getProperty("runnel.kafkaClientsVersion");
        System.out.println("[compat] " + Clients.describeVersion());
        assumeTrue(expected != null, "runnel.kafkaClientsVersion is not set (not run through Maven), "
                + "so there is no expected version to compare " + AppInfoParser.getVersion() + " with");
        assertEquals(expected, AppInfoParser.getVersion(), "kafka-clients version on the test classpath");
    }
}
