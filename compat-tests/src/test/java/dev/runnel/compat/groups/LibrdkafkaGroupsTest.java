package dev.runnel.compat.groups;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.ChildProcess;
import dev.runnel.compat.support.Clients;
import dev.runnel.compat.support.PythonScripts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * librdkafka 2.0.2 (Debian's kcat 1.7.1 and python3-confluent-kafka 1.7.0) as a group consumer: kcat -G, and a
 * confluent-kafka Consumer that commits, then a second run that resumes from the commit.
 */
class LibrdkafkaGroupsTest {
    @RegisterExtension
    static final Broker broker = Broker.create();

    private static Map<Integer, Long> committed(String group, String topic) throws Exception {
        try (Admin admin = Clients.admin(broker)) {
            Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata().get(Clients.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            Map<Integer, Long> out = new TreeMap<>();
            offsets.forEach((tp, o) -> {
                if (tp.topic().equals(topic)) {
                    out.put(tp.partition(), o.offset());
                }
            });
            return out;
        }
    }

    @Test
    void kcatBalancedConsumerReadsEverythingAndCommits() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/kcat")), "kcat is not installed");
        String topic = Clients.uniqueTopic("kcat-group");
        String group = "kcat-" + topic;
        Clients.createTopic(broker, topic, 3);
        List<String> produced = GroupClients.produce(broker, topic, 3, 0, 4);
        ChildProcess.Result r = ChildProcess.run(List.of("/usr/bin/kcat", "-b", broker.bootstrapServers(), "-G", group,
                "-o", "beginning", "-e", "-q", "-f", "%s\\n", "-X", "session.timeout.ms=6000", "-X", "enable.auto.commit=true",
                "-X", "auto.commit.interval.ms=100", topic), null, java.time.Duration.ofSeconds(60)).assertExitCode(0);
        assertEquals(produced.stream().sorted().toList(), r.stdoutLines().stream().filter(l -> l.startsWith(topic)).sorted().toList());
        assertEquals(Map.of(0, 4L, 1, 4L, 2, 4L), committed(group, topic), "kcat commits what it consumed when it exits");
    }

    private static final String CONFLUENT_CONSUMER = """
            import sys
            from confluent_kafka import Consumer, TopicPartition
            bootstrap, topic, group, expected = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
            c = Consumer({'bootstrap.servers': bootstrap, 'group.id': group, 'auto.offset.reset': 'earliest',
                          'enable.auto.commit': False, 'session.timeout.ms': 6000})
            c.subscribe([topic])
            got = 0
            idle = 0
            while got < expected and idle < 40:
                m = c.poll(0.5)
                if m is None:
                    idle += 1
                    continue
                if m.error():
                    print('ERROR', m.error())
                    continue
                got += 1
                print('RECORD', m.value().decode())
            if got:
                c.commit(asynchronous=False)
            for tp in c.committed([TopicPartition(topic, p) for p in range(3)], timeout=10):
                print('COMMITTED', tp.partition, tp.offset)
            c.close()
            """;

    @Test
    void confluentKafkaConsumerCommitsAndASecondRunResumes() throws Exception {
        PythonScripts.assumeModule("confluent_kafka", "python3-confluent-kafka");
        String topic = Clients.uniqueTopic("confluent-group");
        String group = "confluent-" + topic;
        Clients.createTopic(broker, topic, 3);
        List<String> first = GroupClients.produce(broker, topic, 3, 0, 3);
        ChildProcess.Result r1 = Scripts.python(CONFLUENT_CONSUMER, broker.bootstrapServers(), topic, group, first.size()).assertExitCode(0);
        assertEquals(first.stream().sorted().toList(), Scripts.lines(r1, "RECORD ").stream().map(l -> l.substring(7)).sorted().toList());
        assertEquals(List.of("COMMITTED 0 3", "COMMITTED 1 3", "COMMITTED 2 3"), Scripts.lines(r1, "COMMITTED "));

        List<String> second = GroupClients.produce(broker, topic, 3, 3, 2);
        ChildProcess.Result r2 = Scripts.python(CONFLUENT_CONSUMER, broker.bootstrapServers(), topic, group, second.size()).assertExitCode(0);
        assertEquals(second.stream().sorted().toList(), Scripts.lines(r2, "RECORD ").stream().map(l -> l.substring(7)).sorted().toList(),
                "the second run starts at the committed offsets");
        assertEquals(Map.of(0, 5L, 1, 5L, 2, 5L), committed(group, topic));
        assertEquals(Set.of(), Set.copyOf(Scripts.lines(r2, "ERROR")));
    }
}
