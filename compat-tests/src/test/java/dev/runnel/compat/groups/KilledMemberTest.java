package dev.runnel.compat.groups;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.support.Await;
import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.Clients;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Three members, one of them in another JVM that is killed (no LeaveGroup): after its session timeout the group
 * rebalances without it, the survivors take its partitions and continue from its last commit.
 */
class KilledMemberTest {
    private static final int PARTITIONS = 6;

    @RegisterExtension
    static final Broker broker = Broker.create();

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"range", "roundrobin", "sticky", "cooperative-sticky"})
    void aKilledMembersPartitionsMoveAfterTheSessionTimeout(String assignor) throws Exception {
        String topic = Clients.uniqueTopic("killed-" + assignor);
        String group = "killed-" + topic;
        Clients.createTopic(broker, topic, PARTITIONS);
        String assignorClass = JavaConsumerGroupTest.assignorClass(assignor);
        Map<String, Object> config = Map.of(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, assignorClass);
        Path out = Files.createTempFile("doomed-member-", ".out");
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Process doomed = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:TieredStopAtLevel=1", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", classpath,
                GroupMemberMain.class.getName(), broker.bootstrapServers(), topic, group, assignorClass)
                .redirectOutput(out.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        try (KafkaConsumer<String, String> a = GroupClients.groupConsumer(broker, group, "a", config);
             KafkaConsumer<String, String> b = GroupClients.groupConsumer(broker, group, "b", config)) {
            a.subscribe(List.of(topic), JavaConsumerGroupTest.commitOnRevoke(a));
            b.subscribe(List.of(topic), JavaConsumerGroupTest.commitOnRevoke(b));
            List<ConsumerRecord<String, String>> seen = new ArrayList<>();
            // Settled: a, b and the other JVM agree on a generation and share the six partitions.
            Await.untilPasses(Duration.ofSeconds(30), () -> {
                assertTrue(doomed.isAlive(), "the member JVM died: " + Files.readString(out));
                a.poll(Duration.ofMillis(100)).forEach(seen::add);
                b.poll(Duration.ofMillis(100)).forEach(seen::add);
                String[] last = lastAssignment(out);
                int generation = a.groupMetadata().generationId();
                assertEquals(generation, b.groupMetadata().generationId());
                assertEquals(Integer.toString(generation), last[0]);
                assertEquals(PARTITIONS, a.assignment().size() + b.assignment().size() + last[1].split(",").length);
            });
            List<String> first = GroupClients.produce(broker, topic, PARTITIONS, 0, 3);
            Await.untilPasses(Clients.TIMEOUT, () -> {
                a.poll(Duration.ofMillis(100)).forEach(seen::add);
                b.poll(Duration.ofMillis(100)).forEach(seen::add);
                assertEquals(first.size(), seen.size() + consumedByDoomed(out).size());
                assertEquals(consumedByDoomed(out).size(), committedByDoomed(out), "the other JVM committed what it read");
            });
            a.commitSync();
            b.commitSync();
            List<String> doomedRead = consumedByDoomed(out);
            assertTrue(!doomedRead.isEmpty());

            doomed.destroyForcibly().waitFor();
            long killedAt = System.nanoTime();
            int generationBefore = a.groupMetadata().generationId();
            List<String> second = GroupClients.produce(broker, topic, PARTITIONS, 3, 3);
            List<ConsumerRecord<String, String>> after = new ArrayList<>();
            Await.untilPasses(Duration.ofSeconds(40), () -> {
                a.poll(Duration.ofMillis(100)).forEach(after::add);
                b.poll(Duration.ofMillis(100)).forEach(after::add);
                assertEquals(PARTITIONS, a.assignment().size() + b.assignment().size());
                assertEquals(second.size(), after.size());
            });
            long tookMs = (System.nanoTime() - killedAt) / 1_000_000;
            System.out.println("[compat] the group moved on " + tookMs + " ms after the kill");
            assertTrue(a.groupMetadata().generationId() > generationBefore);
            Set<String> all = new TreeSet<>();
            seen.forEach(r -> all.add(r.value()));
            all.addAll(doomedRead);
            assertEquals(new TreeSet<>(first), all, "the first records, each read once");
            assertEquals(first.size(), seen.size() + doomedRead.size());
            Set<String> afterValues = new HashSet<>();
            after.forEach(r -> afterValues.add(r.value()));
            assertEquals(new HashSet<>(second), afterValues, "only the new records: the killed member's commits held");
        } finally {
            doomed.destroyForcibly();
            Files.deleteIfExists(out);
        }
    }

    private static List<String> outLines(Path out) throws Exception {
        return List.of(Files.readString(out, StandardCharsets.UTF_8).split("\n"));
    }

    private static String[] lastAssignment(Path out) throws Exception {
        String last = null;
        for (String l : outLines(out)) {
            if (l.startsWith("ASSIGNED ")) {
                last = l.substring("ASSIGNED ".length());
            }
        }
        if (last == null) {
            throw new AssertionError("the other JVM has no assignment yet");
        }
        String[] f = last.split(" ", 2);
        if (f.length < 2 || f[1].isEmpty()) {
            throw new AssertionError("the other JVM has no partitions: " + last);
        }
        return f;
    }

    private static List<String> consumedByDoomed(Path out) throws Exception {
        return outLines(out).stream().filter(l -> l.startsWith("CONSUMED ")).map(l -> l.substring(9)).toList();
    }

    private static int committedByDoomed(Path out) throws Exception {
        return outLines(out).stream().filter(l -> l.startsWith("COMMITTED ")).mapToInt(l -> Integer.parseInt(l.substring(10).trim())).sum();
    }
}
