package dev.runnel.compat.python;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.ChildProcess.Result;
import dev.runnel.compat.support.Clients;
import dev.runnel.compat.support.PythonScripts;
import dev.runnel.compat.support.StoredBatches;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * confluent-kafka-python 1.7.0 (Debian's python3-confluent-kafka, on librdkafka 2.0.2): produce
 * with delivery callbacks, then read back from an assigned partition without subscribing.
 */
class ConfluentKafkaPythonTest {

    private static final int COUNT = 30;

    @RegisterExtension
    static final Broker broker = Broker.create();

    @BeforeAll
    static void confluentKafkaIsInstalled() throws Exception {
        PythonScripts.assumeModule("confluent_kafka", "python3-confluent-kafka");
    }

    @ParameterizedTest(name = "compression {0}")
    @ValueSource(strings = {"none", "lz4"})
    void produceWithDeliveryReportsThenConsumeAssigned(String codec) throws Exception {
        String topic = Clients.uniqueTopic("confluent-" + codec);
        Clients.createTopic(broker, topic, 1);

        Result result = PythonScripts.run("confluent_kafka_roundtrip.py", broker.bootstrapServers(), topic, COUNT, codec)
                .assertExitCode(0);

        List<String> delivered = new ArrayList<>();
        List<String> records = new ArrayList<>();
        for (int i = 0; i < COUNT; i++) {
            delivered.add("DELIVERED " + i + " 0 " + i);
            records.add("RECORD " + i + " key-" + i + " value-" + i);
        }
        assertEquals(delivered, KafkaPythonTest.lines(result, "DELIVERED ", "DELIVERY_ERROR "), "delivery reports");
        assertEquals(records, KafkaPythonTest.lines(result, "RECORD "), "records read back");
        // librdkafka 2.0.2 compresses only if the broker advertises Produce v0 (KAFKA-18659).
        if (!codec.equals("none")) {
            StoredBatches.assertCodec(broker, topic, 0, codec, true);
        }
    }
}
