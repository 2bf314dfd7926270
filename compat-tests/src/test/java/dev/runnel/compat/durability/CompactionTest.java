package dev.runnel.compat.durability;

import static dev.runnel.compat.durability.RetentionClients.offset;
import static dev.runnel.compat.durability.RetentionClients.readAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.runnel.compat.support.Await;
import dev.runnel.compat.support.ChildProcess;
import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.Clients;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Log compaction seen by stock Java clients: an lz4-compressing idempotent producer writes keys with overwrites
 * and tombstones across small segments; once the background cleaner has run, a consumer reading from the start
 * sees only the latest value of each key, with increasing offsets and gaps, tombstones gone after
 * {@code delete.retention.ms} — and the producer goes on writing. {@code __consumer_offsets} is compacted too.
 */
class CompactionTest {
    @RegisterExtension
    static final Broker broker = Broker.create()
            .with("log.cleaner.backoff.ms", "100")
            .with("log.retention.check.interval.ms", "100");

    private static final int KEYS = 20;
    private static final int ROUNDS = 10;

    private static Map<String, String> compactedTopicConfigs(String policy) {
        return Map.of("cleanup.policy", policy, "segment.bytes", "1024", "min.cleanable.dirty.ratio", "0.01",
                "delete.retention.ms", "300", "file.delete.delay.ms", "100");
    }

    private static Map<String, String> latestByKey(Collection<ConsumerRecord<String, String>> records) {
        Map<String, String> m = new LinkedHashMap<>();
        long last = -1;
        for (ConsumerRecord<String, String> r : records) {
            assertTrue(r.offset() > last, "offsets increase: " + r.offset() + " after " + last);
            last = r.offset();
            m.put(r.key(), r.value());
        }
        return m;
    }

    /** Writes, waits for the cleaner, checks with the Java consumer; returns the topic and what it holds now. */
    private Map.Entry<String, Map<String, String>> onlyTheLatestPerKeyRemains(String policy) throws Exception {
        String topic = Clients.uniqueTopic("compacted");
        TopicPartition tp = new TopicPartition(topic, 0);
        RetentionClients.createTopic(broker, topic, compactedTopicConfigs(policy));
        Map<String, String> expected = new LinkedHashMap<>();
        try (KafkaProducer<String, String> producer = Clients.producer(broker,
                Map.of(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4", ProducerConfig.LINGER_MS_CONFIG, 5))) {
            for (int round = 0; round < ROUNDS; round++) {
                for (int k = 0; k < KEYS; k++) {
                    producer.send(new ProducerRecord<>(topic, 0, "key" + k, "value" + k + "-round" + round));
                    expected.put("key" + k, "value" + k + "-round" + round);
                }
                producer.flush();
            }
            for (int k = 0; k < 5; k++) {
                producer.send(new ProducerRecord<>(topic, 0, "key" + k, null)).get(10, TimeUnit.SECONDS);
                expected.remove("key" + k);
            }
            // move the tombstones out of the active segment, which is never compacted
            for (int i = 0; i < 12; i++) {
                producer.send(new ProducerRecord<>(topic, 0, "filler" + i, "f".repeat(150))).get(10, TimeUnit.SECONDS);
                expected.put("filler" + i, "f".repeat(150));
            }
            long written = offset(broker, tp, OffsetSpec.latest());
            assertEquals(KEYS * ROUNDS + 5 + 12, written);

            Await.untilPasses(Clients.TIMEOUT, () -> {
                List<ConsumerRecord<String, String>> all = readAll(broker, tp);
                Map<String, String> seen = latestByKey(all);
                assertEquals(expected, seen, "latest value per key, tombstoned keys gone");
                // every live key once: 15 from the last round, the 12 fillers (unique keys)
                assertEquals(KEYS - 5 + 12, all.size(), "records left: " + all.size());
            });
            // offsets never change: the survivors of the last round keep theirs
            List<ConsumerRecord<String, String>> all = readAll(broker, tp);
            assertEquals((ROUNDS - 1) * KEYS + 5, all.get(0).offset(), "first survivor: key5 of the last round");
            assertEquals(0, offset(broker, tp, OffsetSpec.earliest()), "compaction does not move the log start");
            // the idempotent producer's sequence is still valid after its batches were rewritten
            long next = producer.send(new ProducerRecord<>(topic, 0, "key1", "after compaction")).get(10, TimeUnit.SECONDS)
                    .offset();
            assertEquals(written, next);
        }
        Map<String, String> after = latestByKey(readAll(broker, tp));
        assertEquals("after compaction", after.get("key1"));
        expected.put("key1", "after compaction");
        return Map.entry(topic, expected);
    }

    @Test
    void compactKeepsOnlyTheLatestValuePerKey() throws Exception {
        onlyTheLatestPerKeyRemains("compact");
    }

    @Test
    void compactDeleteCompactsToo() throws Exception {
        onlyTheLatestPerKeyRemains("compact,delete");
    }

    @Test
    void kcatReadsACompactedTopicWithItsGapsAndEmptyBatches() throws Exception {
        Path kcat = Path.of("/usr/bin/kcat");
        assumeTrue(Files.isExecutable(kcat), "kcat is not installed at " + kcat + " (Debian package 'kcat'); skipping");
        Map.Entry<String, Map<String, String>> compacted = onlyTheLatestPerKeyRemains("compact");
        ChildProcess.Result r = ChildProcess.run(List.of(kcat.toString(), "-b", broker.bootstrapServers(), "-m", "15",
                "-C", "-t", compacted.getKey(), "-p", "0", "-o", "beginning", "-e", "-q", "-f", "%o %k %s\\n"),
                null, ChildProcess.DEFAULT_TIMEOUT).assertExitCode(0);
        Map<String, String> seen = new LinkedHashMap<>();
        long last = -1;
        for (String line : r.stdoutLines()) {
            String[] f = line.split(" ", 3);
            long offset = Long.parseLong(f[0]);
            assertTrue(offset > last, "offsets increase: " + r.describe());
            last = offset;
            seen.put(f[1], f.length > 2 ? f[2] : "");
        }
        assertEquals(compacted.getValue(), seen, r.describe());
    }

    @Test
    void consumerOffsetsIsCompactedAndOffsetsSurviveARestart() throws Exception {
        String topic = Clients.uniqueTopic("committed");
        String group = "compaction-" + topic;
        Clients.createTopic(broker, topic, 1);
        TopicPartition tp = new TopicPartition(topic, 0);
        TopicPartition offsetsPartition = new TopicPartition("__consumer_offsets", Math.abs(group.hashCode()) % 50);
        Map<String, Object> groupConfig = Map.of(ConsumerConfig.GROUP_ID_CONFIG, group);
        try (KafkaConsumer<String, String> c = Clients.consumer(broker, groupConfig)) {
            c.commitSync(Map.of(tp, new OffsetAndMetadata(0)));
            // small segments so that commits roll them (Kafka's default is 100 MiB)
            try (Admin admin = Clients.admin(broker)) {
                ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, "__consumer_offsets");
                admin.incrementalAlterConfigs(Map.of(r, List.of(
                        new AlterConfigOp(new ConfigEntry("segment.bytes", "1024"), AlterConfigOp.OpType.SET),
                        new AlterConfigOp(new ConfigEntry("min.cleanable.dirty.ratio", "0.01"), AlterConfigOp.OpType.SET))))
                        .all().get(Clients.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            }
            for (int i = 1; i <= 300; i++) {
                c.commitSync(Map.of(tp, new OffsetAndMetadata(i)));
            }
        }
        long written = offset(broker, offsetsPartition, OffsetSpec.latest());
        assertTrue(written >= 300, "commit records " + written);
        Await.untilPasses(Clients.TIMEOUT, () -> {
            List<ConsumerRecord<String, String>> left = new ArrayList<>(readAll(broker, offsetsPartition));
            // one commit record survives the cleaning, plus what is in the active segment
            assertTrue(left.size() < 20, left.size() + " of " + written + " records left");
        });
        broker.restart();
        try (KafkaConsumer<String, String> c = Clients.consumer(broker, groupConfig)) {
            OffsetAndMetadata committed = c.committed(java.util.Set.of(tp), Clients.TIMEOUT).get(tp);
            assertEquals(300, committed.offset(), "the latest commit, loaded from the compacted log");
        }
    }
}
