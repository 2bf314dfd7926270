package dev.runnel.compat.groups;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.support.Await;
import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.ChildProcess;
import dev.runnel.compat.support.Clients;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Kafka's kafka-dump-log --offsets-decoder reads the __consumer_offsets segments Runnel writes: offset commits
 * and group metadata decode with Kafka's own record classes.
 */
class KafkaDecodesOffsetsTopicTest {
    @RegisterExtension
    static final Broker broker = Broker.create();

    @Test
    void kafkaDumpLogDecodesOurOffsetCommitsAndGroupMetadata() throws Exception {
        String topic = Clients.uniqueTopic("decoded");
        String group = "decoded-" + topic;
        Clients.createTopic(broker, topic, 1);
        try (KafkaConsumer<String, String> c = GroupClients.groupConsumer(broker, group, "decoder-client", Map.of())) {
            c.subscribe(List.of(topic));
            Await.untilPasses(Clients.TIMEOUT, () -> {
                c.poll(Duration.ofMillis(100));
                assertTrue(!c.assignment().isEmpty());
            });
            c.commitSync(Map.of(new TopicPartition(topic, 0), new OffsetAndMetadata(42, "meta-data")));
        }
        int partition = Math.abs(group.hashCode()) % 50;
        Path segment = broker.logDir().resolve("__consumer_offsets-" + partition).resolve("00000000000000000000.log");
        ChildProcess.Result r = ChildProcess.kafkaTool("org.apache.kafka.tools.DumpLogSegments", null,
                "--offsets-decoder", "--files", segment.toString()).assertExitCode(0);
        String out = r.stdout();
        assertTrue(out.contains("\"group\":\"" + group + "\"") && out.contains("\"topic\":\"" + topic + "\"")
                && out.contains("\"offset\":42") && out.contains("\"metadata\":\"meta-data\""), "offset commit: " + r.describe());
        assertTrue(out.contains("\"protocolType\":\"consumer\"") && out.contains("\"clientId\":\"decoder-client\"")
                && out.contains("\"protocol\":\"range\""), "group metadata: " + r.describe());
        assertTrue(!out.contains("Unknown") && !r.stderr().contains("Exception"), r.describe());
    }
}
