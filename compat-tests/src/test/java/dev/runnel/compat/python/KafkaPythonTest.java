package dev.runnel.compat.python;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.ChildProcess.Result;
import dev.runnel.compat.support.Clients;
import dev.runnel.compat.support.PythonScripts;
import dev.runnel.compat.support.StoredBatches;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * kafka-python 2.0.2 (Debian's python3-kafka), which infers a broker release from ApiVersions and
 * then speaks fixed old protocol versions: a producer with synchronous and asynchronous sends, and
 * a group-less consumer with an assigned partition reading everything back.
 */
class KafkaPythonTest {

    private static final int COUNT = 40;

    @RegisterExtension
    static final Broker broker = Broker.create();

    @BeforeAll
    static void kafkaPythonIsInstalled() throws Exception {
        PythonScripts.assumeModule("kafka", "python3-kafka");
    }

    @ParameterizedTest(name = "compression {0}")
    @ValueSource(strings = {"none", "gzip"})
    void produceSyncAndAsyncThenConsumeAssigned(String codec) throws Exception {
        String topic = Clients.uniqueTopic("kafka-python-" + codec);
        Clients.createTopic(broker, topic, 1);

        Result produced = PythonScripts.run("kafka_python_producer.py", broker.bootstrapServers(), topic, COUNT, codec)
                .assertExitCode(0);
        List<String> expectedProduced = new ArrayList<>();
        for (int i = 0; i < COUNT; i++) {
            expectedProduced.add((i < COUNT / 2 ? "SYNC " : "ASYNC ") + i + " " + topic + " 0 " + i);
        }
        assertEquals(expectedProduced, lines(produced, "SYNC ", "ASYNC ", "ERROR "),
                "RecordMetadata (topic, partition, offset) of every send");

        // What kafka-python wrote, read by the Java consumer.
        TopicPartition tp = new TopicPartition(topic, 0);
        try (KafkaConsumer<String, String> consumer = Clients.consumer(broker)) {
            consumer.assign(Set.of(tp));
            consumer.seekToBeginning(Set.of(tp));
            List<ConsumerRecord<String, String>> records = Clients.pollAtLeast(consumer, COUNT);
            for (int i = 0; i < COUNT; i++) {
                assertEquals("key-" + i, records.get(i).key());
                assertEquals("value-" + i, records.get(i).value());
                assertEquals(Integer.toString(i), new String(records.get(i).headers().lastHeader("index").value()));
            }
        }
        // kafka-python sends a batch uncompressed when compression would not shrink it (the lone
        // records of the synchronous sends).
        StoredBatches.assertCodec(broker, topic, 0, codec, true);

        // And by kafka-python's own consumer.
        Result consumed = PythonScripts.run("kafka_python_consumer.py", broker.bootstrapServers(), topic, 0, COUNT)
                .assertExitCode(0);
        assertEquals(List.of("BEGINNING 0"), lines(consumed, "BEGINNING "));
        assertEquals(List.of("END " + COUNT), lines(consumed, "END "));
        List<String> expectedRecords = new ArrayList<>();
        for (int i = 0; i < COUNT; i++) {
            expectedRecords.add("RECORD " + i + " key-" + i + " value-" + i + " index=" + i);
        }
        assertEquals(expectedRecords, lines(consumed, "RECORD "), "records read by kafka-python");
    }

    static List<String> lines(Result result, String... prefixes) {
        return result.stdoutLines().stream()
                .filter(l -> java.util.Arrays.stream(prefixes).anyMatch(l::startsWith))
                .map(String::strip)
                .toList();
    }
}
