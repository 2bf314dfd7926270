package dev.runnel.compat.durability;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.Clients;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/** What the retention, DeleteRecords and compaction tests share: offsets, reading a partition, its files. */
final class RetentionClients {
    private RetentionClients() {
    }

    static void createTopic(Broker broker, String topic, Map<String, String> configs) throws Exception {
        try (Admin admin = Clients.admin(broker)) {
            admin.createTopics(List.of(new NewTopic(topic, Optional.of(1), Optional.of((short) 1)).configs(configs)))
                    .all().get(Clients.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** ListOffsets through the admin client: earliest (-2) or latest (-1). */
    static long offset(Broker broker, TopicPartition tp, OffsetSpec spec) throws Exception {
        try (Admin admin = Clients.admin(broker)) {
            return admin.listOffsets(Map.of(tp, spec)).partitionResult(tp)
                    .get(Clients.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).offset();
        }
    }

    /** Every record of the partition from its start to its current end, read with assign + seekToBeginning. */
    static List<ConsumerRecord<String, String>> readAll(Broker broker, TopicPartition tp) throws Exception {
        long end = offset(broker, tp, OffsetSpec.latest());
        List<ConsumerRecord<String, String>> out = new ArrayList<>();
        try (KafkaConsumer<String, String> c = Clients.consumer(broker)) {
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            long deadline = System.nanoTime() + Clients.TIMEOUT.toNanos();
            while (c.position(tp) < end) {
                assertTrue(System.nanoTime() < deadline, "read " + out.size() + " records, position " + c.position(tp)
                        + " of " + end);
                c.poll(Duration.ofMillis(100)).forEach(out::add);
            }
        }
        return out;
    }

    /** Names of the files of the partition's directory that end with {@code suffix}, sorted. */
    static List<String> files(Broker broker, TopicPartition tp, String suffix) throws IOException {
        Path dir = broker.logDir().resolve(tp.topic() + "-" + tp.partition());
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(suffix)).sorted().toList();
        }
    }

    static Path partitionDir(Broker broker, TopicPartition tp) {
        return broker.logDir().resolve(tp.topic() + "-" + tp.partition());
    }
}
