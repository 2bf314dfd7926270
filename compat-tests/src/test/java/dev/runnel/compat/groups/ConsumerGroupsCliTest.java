package dev.runnel.compat.groups;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.support.Await;
import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.ChildProcess;
import dev.runnel.compat.support.Clients;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Kafka's own command-line tools on groups: kafka-console-consumer with --group, and kafka-consumer-groups
 * --list, --describe (offsets, lag, --members), --reset-offsets, --delete-offsets and --delete.
 */
class ConsumerGroupsCliTest {
    private static final String CONSOLE_CONSUMER = "org.apache.kafka.tools.consumer.ConsoleConsumer";
    private static final String CONSUMER_GROUPS = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand";

    @RegisterExtension
    static final Broker broker = Broker.create();

    private static ChildProcess.Result groups(String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("--bootstrap-server", broker.bootstrapServers()));
        all.addAll(Arrays.asList(args));
        return ChildProcess.kafkaTool(CONSUMER_GROUPS, null, all.toArray(String[]::new));
    }

    /** partition -> [current offset, log end offset, lag] from --describe. */
    private static Map<Integer, List<String>> describeOffsets(String group, String topic) throws Exception {
        ChildProcess.Result r = groups("--describe", "--group", group).assertExitCode(0);
        Map<Integer, List<String>> out = new TreeMap<>();
        for (String line : r.stdoutLines()) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 6 && f[0].equals(group) && f[1].equals(topic)) {
                out.put(Integer.parseInt(f[2]), List.of(f[3], f[4], f[5]));
            }
        }
        return out;
    }

    @Test
    void consoleConsumerWithAGroupThenTheGroupToolsSeeAndChangeItsOffsets() throws Exception {
        String topic = Clients.uniqueTopic("cli-groups");
        String group = "cli-" + topic;
        Clients.createTopic(broker, topic, 2);
        List<String> produced = GroupClients.produce(broker, topic, 2, 0, 5);

        ChildProcess.Result consumed = ChildProcess.kafkaTool(CONSOLE_CONSUMER, null,
                "--bootstrap-server", broker.bootstrapServers(), "--topic", topic, "--group", group,
                "--from-beginning", "--max-messages", "10").assertExitCode(0);
        List<String> values = consumed.stdoutLines().stream().filter(l -> l.startsWith(topic)).sorted().toList();
        assertEquals(produced.stream().sorted().toList(), values);

        assertTrue(groups("--list").assertExitCode(0).stdoutLines().contains(group), "--list shows the group");
        assertEquals(Map.of(0, List.of("5", "5", "0"), 1, List.of("5", "5", "0")), describeOffsets(group, topic),
                "the console consumer committed everything it printed");

        // More data: the lag shows it.
        GroupClients.produce(broker, topic, 2, 5, 2);
        assertEquals(Map.of(0, List.of("5", "7", "2"), 1, List.of("5", "7", "2")), describeOffsets(group, topic));

        groups("--reset-offsets", "--group", group, "--topic", topic, "--to-earliest", "--execute").assertExitCode(0);
        assertEquals(Map.of(0, List.of("0", "7", "7"), 1, List.of("0", "7", "7")), describeOffsets(group, topic));
        groups("--reset-offsets", "--group", group, "--topic", topic + ":1", "--to-offset", "3", "--execute").assertExitCode(0);
        groups("--reset-offsets", "--group", group, "--topic", topic + ":0", "--shift-by", "2", "--execute").assertExitCode(0);
        assertEquals(Map.of(0, List.of("2", "7", "5"), 1, List.of("3", "7", "4")), describeOffsets(group, topic));

        ChildProcess.Result deletedOffsets = groups("--delete-offsets", "--group", group, "--topic", topic).assertExitCode(0);
        assertTrue(deletedOffsets.stdout().contains("Request succeeded for deleting offsets"), deletedOffsets.describe());
        assertEquals(Map.of(), describeOffsets(group, topic), "an empty group without offsets has nothing to show");

        ChildProcess.Result deleted = groups("--delete", "--group", group).assertExitCode(0);
        assertTrue(deleted.stdout().contains("Deletion of requested consumer groups ('" + group + "') was successful."),
                deleted.describe());
        assertFalse(groups("--list").assertExitCode(0).stdoutLines().contains(group));
    }

    @Test
    void describeShowsActiveMembersAndRefusesToResetOrDeleteAnActiveGroup() throws Exception {
        String topic = Clients.uniqueTopic("cli-members");
        String group = "cli-" + topic;
        Clients.createTopic(broker, topic, 3);
        try (KafkaConsumer<String, String> consumer = GroupClients.groupConsumer(broker, group, "member-one", Map.of())) {
            consumer.subscribe(List.of(topic));
            Await.untilPasses(Clients.TIMEOUT, () -> {
                consumer.poll(Duration.ofMillis(100));
                assertEquals(3, consumer.assignment().size());
            });
            ChildProcess.Result members = groups("--describe", "--members", "--group", group).assertExitCode(0);
            String line = members.stdoutLines().stream().filter(l -> l.startsWith(group)).findFirst().orElseThrow(
                    () -> new AssertionError(members.describe()));
            String[] f = line.trim().split("\\s+");
            // GROUP CONSUMER-ID HOST CLIENT-ID #PARTITIONS
            assertTrue(f[1].startsWith("member-one-"), line);
            assertEquals("/127.0.0.1", f[2], line);
            assertEquals("member-one", f[3], line);
            assertEquals("3", f[4], line);

            ChildProcess.Result state = groups("--describe", "--state", "--group", group).assertExitCode(0);
            assertTrue(state.stdout().contains("Stable"), state.describe());

            ChildProcess.Result reset = groups("--reset-offsets", "--group", group, "--topic", topic, "--to-earliest", "--execute");
            assertTrue((reset.stdout() + reset.stderr()).contains("inactive"), reset.describe());
            ChildProcess.Result delete = groups("--delete", "--group", group);
            assertTrue((delete.stdout() + delete.stderr()).contains("The group is not empty"), delete.describe());
        }
    }
}
