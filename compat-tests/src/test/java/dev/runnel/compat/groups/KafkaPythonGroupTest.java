package dev.runnel.compat.groups;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.ChildProcess;
import dev.runnel.compat.support.Clients;
import dev.runnel.compat.support.PythonScripts;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * kafka-python 2.0.2 (Debian's python3-kafka) as a group consumer: it speaks old fixed versions (JoinGroup v2,
 * SyncGroup/Heartbeat/LeaveGroup v1, OffsetCommit v2, OffsetFetch v1, FindCoordinator v0).
 */
class KafkaPythonGroupTest {
    @RegisterExtension
    static final Broker broker = Broker.create();

    private static final String CONSUMER = """
            import sys
            from kafka import KafkaConsumer, TopicPartition
            bootstrap, topic, group, expected = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
            c = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset='earliest',
                              enable_auto_commit=False, session_timeout_ms=10000, consumer_timeout_ms=20000)
            got = 0
            for m in c:
                print('RECORD', m.value.decode())
                got += 1
                if got >= expected:
                    break
            c.commit()
            for p in sorted(c.partitions_for_topic(topic)):
                print('COMMITTED', p, c.committed(TopicPartition(topic, p)))
            c.close()
            """;

    @Test
    void aGroupConsumerReadsCommitsAndTheNextOneResumes() throws Exception {
        PythonScripts.assumeModule("kafka", "python3-kafka");
        String topic = Clients.uniqueTopic("kafka-python-group");
        String group = "kp-" + topic;
        Clients.createTopic(broker, topic, 2);
        List<String> first = GroupClients.produce(broker, topic, 2, 0, 3);
        ChildProcess.Result r1 = Scripts.python(CONSUMER, broker.bootstrapServers(), topic, group, first.size()).assertExitCode(0);
        assertEquals(first.stream().sorted().toList(), Scripts.lines(r1, "RECORD ").stream().map(l -> l.substring(7)).sorted().toList());
        assertEquals(List.of("COMMITTED 0 3", "COMMITTED 1 3"), Scripts.lines(r1, "COMMITTED "));

        List<String> second = GroupClients.produce(broker, topic, 2, 3, 1);
        ChildProcess.Result r2 = Scripts.python(CONSUMER, broker.bootstrapServers(), topic, group, second.size()).assertExitCode(0);
        assertEquals(second.stream().sorted().toList(), Scripts.lines(r2, "RECORD ").stream().map(l -> l.substring(7)).sorted().toList());
        assertEquals(List.of("COMMITTED 0 4", "COMMITTED 1 4"), Scripts.lines(r2, "COMMITTED "));
    }
}
