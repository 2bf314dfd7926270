package dev.runnel.compat.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.ChildProcess;
import dev.runnel.compat.support.Clients;
import dev.runnel.compat.support.StoredBatches;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Lines typed into Kafka's {@code kafka-console-producer} (ConsoleProducer, an idempotent
 * producer, in a child JVM) arrive as keyed records that a Java consumer reads back in order.
 */
class ConsoleProducerCliTest {

    private static final String MAIN = "org.apache.kafka.tools.ConsoleProducer";

    @RegisterExtension
    static final Broker broker = Broker.create();

    @ParameterizedTest(name = "compression {0}")
    @ValueSource(strings = {"none", "gzip", "zstd"})
    void linesFromStdinBecomeKeyedRecords(String codec) throws Exception {
        String topic = Clients.uniqueTopic("console");
        Clients.createTopic(broker, topic, 1);
        StringBuilder stdin = new StringBuilder();
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 25; i++) {
            stdin.append("key").append(i).append(':').append("line ").append(i).append(" of input\n");
            expected.add(i + "|key" + i + "|line " + i + " of input");
        }

        ChildProcess.kafkaTool(MAIN, stdin.toString(),
                "--bootstrap-server", broker.bootstrapServers(),
                "--topic", topic,
                "--compression-codec", codec,
                "--reader-property", "parse.key=true",
                "--reader-property", "key.separator=:").assertExitCode(0);

        TopicPartition tp = new TopicPartition(topic, 0);
        List<String> seen = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = Clients.consumer(broker)) {
            consumer.assign(Set.of(tp));
            consumer.seekToBeginning(Set.of(tp));
            for (ConsumerRecord<String, String> r : Clients.pollAtLeast(consumer, expected.size())) {
                seen.add(r.offset() + "|" + r.key() + "|" + r.value());
            }
        }
        assertEquals(expected, seen, "records written by the console producer");

        StoredBatches.assertCodec(broker, topic, 0, codec, false);
    }
}
