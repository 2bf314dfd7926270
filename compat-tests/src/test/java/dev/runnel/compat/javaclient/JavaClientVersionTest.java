package dev.runnel.compat.javaclient;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.runnel.compat.support.Clients;
import java.io.InputStream;
import java.net.URL;
import java.nio.file.Path;
import java.util.Properties;
import java.util.jar.JarFile;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Guards the build: each surefire execution must really run the Java-client tests against the
 * kafka-clients version it claims (4.4 in the default run, 4.3 in {@code java-client-4.3}, 3.9.x in {@code java-client-3.9}) —
 * both the classes loaded and the version the client reports (and sends to the broker in
 * ApiVersions as client_software_version).
 */
@Tag("java-client")
class JavaClientVersionTest {

    @Test
    void theLoadedKafkaClientsIsTheOneThisRunIsFor() throws Exception {
        String expected = System.getProperty("runnel.kafkaClientsVersion");
        URL jar = KafkaProducer.class.getProtectionDomain().getCodeSource().getLocation();
        String jarVersion = versionInsideJar(Path.of(jar.toURI()));
        System.out.println("[compat] " + Clients.describeVersion() + "; classes from " + jar + " (version " + jarVersion + ")");
        assumeTrue(expected != null, "runnel.kafkaClientsVersion is not set (not run through Maven), "
                + "so there is no expected version to compare " + Clients.loadedVersion() + " with");
        assertEquals(expected, jarVersion, "version of the kafka-clients jar the client classes come from: " + jar);
        assertEquals(expected, Clients.loadedVersion(),
                "version the client reports (first kafka/kafka-version.properties on the classpath)");
    }

    private static String versionInsideJar(Path jar) throws Exception {
        try (JarFile file = new JarFile(jar.toFile())) {
            var entry = file.getJarEntry("kafka/kafka-version.properties");
            assertNotNull(entry, jar + " has no kafka/kafka-version.properties");
            Properties props = new Properties();
            try (InputStream in = file.getInputStream(entry)) {
                props.load(in);
            }
            return props.getProperty("version");
        }
    }
}
