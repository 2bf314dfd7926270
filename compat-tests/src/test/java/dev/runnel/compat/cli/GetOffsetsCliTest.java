package dev.runnel.compat.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.ChildProcess;
import dev.runnel.compat.support.Clients;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Kafka's {@code kafka-get-offsets} (GetOffsetShell, in a child JVM) reports latest, earliest and
 * by-timestamp offsets per partition as {@code topic:partition:offset}.
 */
class GetOffsetsCliTest {

    private static final String MAIN = "org.apache.kafka.tools.GetOffsetShell";
    private static final long BASE = 1_700_000_000_000L;

    @RegisterExtension
    static final Broker broker = Broker.create();

    private static String topic;

    @BeforeAll
    static void writeFiveAndTwoRecords() throws Exception {
        topic = Clients.uniqueTopic("offsets-cli");
        Clients.createTopic(broker, topic, 3);
        try (KafkaProducer<String, String> producer = Clients.producer(broker)) {
            for (int i = 0; i < 5; i++) {
                producer.send(new ProducerRecord<>(topic, 0, BASE + i * 1000L, "k", "v" + i)).get(30, TimeUnit.SECONDS);
            }
            for (int i = 0; i < 2; i++) {
                producer.send(new ProducerRecord<>(topic, 1, BASE + i * 1000L, "k", "v" + i)).get(30, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void latestOffsets() throws Exception {
        assertEquals(List.of(topic + ":0:5", topic + ":1:2", topic + ":2:0"), offsets("--time", "-1"));
        assertEquals(List.of(topic + ":0:5", topic + ":1:2", topic + ":2:0"), offsets("--time", "latest"));
    }

    @Test
    void earliestOffsets() throws Exception {
        assertEquals(List.of(topic + ":0:0", topic + ":1:0", topic + ":2:0"), offsets("--time", "-2"));
    }

    @Test
    void offsetsByTimestamp() throws Exception {
        // Partition 0 has a record at BASE+3000 (offset 3); partition 1's last is at BASE+1000 and
        // partition 2 is empty, so they have no offset for that time and are left out.
        assertEquals(List.of(topic + ":0:3"), offsets("--time", Long.toString(BASE + 2500)));
    }

    @Test
    void onePartitionOnly() throws Exception {
        assertEquals(List.of(topic + ":1:2"), offsets("--partitions", "1"));
    }

    private static List<String> offsets(String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("--bootstrap-server", broker.bootstrapServers(), "--topic", topic));
        all.addAll(List.of(args));
        return ChildProcess.kafkaTool(MAIN, null, all.toArray(String[]::new)).assertExitCode(0).stdoutLines()
                .stream().filter(l -> !l.isBlank()).sorted().toList();
    }
}
