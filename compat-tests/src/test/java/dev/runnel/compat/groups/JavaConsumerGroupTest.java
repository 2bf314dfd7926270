package dev.runnel.compat.groups;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.support.Await;
import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.Clients;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Java consumer's subscribe() against Runnel's group coordinator, with each of the built-in assignors: three
 * members share a topic, one leaves, its partitions move to the others; with clean commits nothing is read twice
 * and nothing is skipped.
 */
@Tag("java-client")
class JavaConsumerGroupTest {
    private static final int PARTITIONS = 6;

    @RegisterExtension
    static final Broker broker = Broker.create();

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"range", "roundrobin", "sticky", "cooperative-sticky"})
    void threeMembersShareATopicAndTakeOverWhenOneLeaves(String assignor) throws Exception {
        System.out.println("[compat] " + Clients.describeVersion());
        String topic = Clients.uniqueTopic("group-" + assignor);
        String group = "group-" + topic;
        Clients.createTopic(broker, topic, PARTITIONS);
        Map<String, Object> config = Map.of(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, assignorClass(assignor));

        try (KafkaConsumer<String, String> a = GroupClients.groupConsumer(broker, group, "a", config);
             KafkaConsumer<String, String> b = GroupClients.groupConsumer(broker, group, "b", config);
             KafkaConsumer<String, String> c = GroupClients.groupConsumer(broker, group, "c", config)) {
            for (KafkaConsumer<String, String> k : List.of(a, b, c)) {
                k.subscribe(List.of(topic), commitOnRevoke(k));
            }
            // Everybody polls until the group settles with all six partitions spread over three members.
            List<ConsumerRecord<String, String>> seen = new ArrayList<>();
            Await.untilPasses(Clients.TIMEOUT, () -> {
                for (KafkaConsumer<String, String> k : List.of(a, b, c)) {
                    k.poll(Duration.ofMillis(100)).forEach(seen::add);
                }
                settled(List.of(a, b, c));
            });
            // Records arrive once the group is settled: each is read by exactly one member.
            List<String> first = GroupClients.produce(broker, topic, PARTITIONS, 0, 5);
            seen.addAll(GroupClients.pollTogether(first.size() - seen.size(), Clients.TIMEOUT, a, b, c));
            assertEquals(new TreeSet<>(first), values(seen), "every record");
            assertEquals(first.size(), seen.size(), "nothing twice");
            for (KafkaConsumer<String, String> k : List.of(a, b, c)) {
                k.commitSync();
            }
            Set<TopicPartition> cPartitions = new HashSet<>(c.assignment());

            // c leaves; a and b take its partitions and continue exactly where c committed.
            c.close();
            List<String> second = GroupClients.produce(broker, topic, PARTITIONS, 5, 5);
            List<ConsumerRecord<String, String>> after = new ArrayList<>();
            Await.untilPasses(Clients.TIMEOUT, () -> {
                for (KafkaConsumer<String, String> k : List.of(a, b)) {
                    k.poll(Duration.ofMillis(100)).forEach(after::add);
                }
                settled(List.of(a, b));
            });
            after.addAll(GroupClients.pollTogether(second.size() - after.size(), Clients.TIMEOUT, a, b));
            assertEquals(new TreeSet<>(second), values(after), "the new records, none of the committed ones again");
            assertEquals(second.size(), after.size(), "nothing twice");
            Set<TopicPartition> takenOver = new HashSet<>(a.assignment());
            takenOver.addAll(b.assignment());
            assertTrue(takenOver.containsAll(cPartitions));

            a.commitSync();
            b.commitSync();
            Map<TopicPartition, OffsetAndMetadata> committed = a.committed(new HashSet<>(takenOver));
            for (TopicPartition tp : takenOver) {
                assertEquals(10, committed.get(tp).offset(), "committed offset of " + tp);
            }
        }
    }

    /** The members agree on the generation and share every partition between them, each at least one. */
    static void settled(List<KafkaConsumer<String, String>> members) {
        Set<Integer> generations = new HashSet<>();
        Set<TopicPartition> all = new HashSet<>();
        int total = 0;
        for (KafkaConsumer<String, String> k : members) {
            generations.add(k.groupMetadata().generationId());
            assertTrue(!k.assignment().isEmpty(), "a member without partitions");
            all.addAll(k.assignment());
            total += k.assignment().size();
        }
        assertEquals(1, generations.size(), "generations " + generations);
        assertEquals(PARTITIONS, all.size());
        assertEquals(PARTITIONS, total, "a partition assigned twice");
    }

    /** The usual at-least-once pattern: commit what was consumed before partitions move away. */
    static org.apache.kafka.clients.consumer.ConsumerRebalanceListener commitOnRevoke(KafkaConsumer<String, String> consumer) {
        return new org.apache.kafka.clients.consumer.ConsumerRebalanceListener() {
            @Override
            public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                if (!partitions.isEmpty()) {
                    consumer.commitSync();
                }
            }

            @Override
            public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            }
        };
    }

    static String assignorClass(String name) {
        return switch (name) {
            case "range" -> "org.apache.kafka.clients.consumer.RangeAssignor";
            case "roundrobin" -> "org.apache.kafka.clients.consumer.RoundRobinAssignor";
            case "sticky" -> "org.apache.kafka.clients.consumer.StickyAssignor";
            case "cooperative-sticky" -> "org.apache.kafka.clients.consumer.CooperativeStickyAssignor";
            default -> throw new IllegalArgumentException(name);
        };
    }

    static Set<String> values(Collection<ConsumerRecord<String, String>> records) {
        Set<String> out = new TreeSet<>();
        records.forEach(r -> out.add(r.value()));
        return out;
    }
}
