package dev.runnel.compat.groups;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * A group member in its own JVM, so a test can kill it without a LeaveGroup: it prints what it is assigned,
 * every record it consumes, and when it has committed them; it runs until it is killed.
 */
public final class GroupMemberMain {
    private GroupMemberMain() {
    }

    public static void main(String[] args) {
        String bootstrap = args[0];
        String topic = args[1];
        String group = args[2];
        String assignor = args.length > 3 ? args[3] : "org.apache.kafka.clients.consumer.RangeAssignor";
        Map<String, Object> config = Map.of(
                ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, assignor,
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.GROUP_ID_CONFIG, group,
                ConsumerConfig.CLIENT_ID_CONFIG, "doomed",
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName(),
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName(),
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 6_000,
                ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 500);
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config)) {
            consumer.subscribe(List.of(topic));
            String lastAssignment = "";
            while (true) {
                ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(100));
                Set<String> assigned = new TreeSet<>();
                for (TopicPartition tp : consumer.assignment()) {
                    assigned.add(Integer.toString(tp.partition()));
                }
                String now = consumer.groupMetadata().generationId() + " " + String.join(",", assigned);
                if (!now.equals(lastAssignment)) {
                    System.out.println("ASSIGNED " + now);
                    lastAssignment = now;
                }
                for (ConsumerRecord<String, String> r : records) {
                    System.out.println("CONSUMED " + r.value());
                }
                if (!records.isEmpty()) {
                    consumer.commitSync();
                    System.out.println("COMMITTED " + records.count());
                }
            }
        }
    }
}
