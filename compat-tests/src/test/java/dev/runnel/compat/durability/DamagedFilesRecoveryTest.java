package dev.runnel.compat.durability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * A broker whose partition files were damaged while it was down starts anyway, repairs each partition and says
 * what it did in one log line per partition; a stock consumer then reads every partition up to the last valid
 * batch, timestamp lookups work on rebuilt indexes, and producers continue at the repaired log end. One kind of
 * damage per partition:
 * <ol start="0">
 *   <li>the {@code .log} cut in the middle of its last batch;</li>
 *   <li>the last batch zeroed and zeros appended (a preallocated or torn tail);</li>
 *   <li>every {@code .index} and {@code .timeindex} deleted;</li>
 *   <li>every {@code .index} and {@code .timeindex} overwritten with garbage;</li>
 *   <li>stray empty segments, one between two segments and one far beyond the end;</li>
 *   <li>(after a crash) a flipped byte inside a batch in the middle of the last segment: its CRC fails.</li>
 * </ol>
 * Once after SIGKILL, once after a clean shutdown (which the broker otherwise trusts without scanning).
 */
class DamagedFilesRecoveryTest {
    private static final String TOPIC = "damaged";
    private static final int PARTITIONS = 6;
    private static final int RECORDS = 300;
    private static final long T0 = 1_700_000_000_000L;

    @Test
    void afterACrashEveryKindOfDamageIsRepairedAndReported() throws Exception {
        run(true);
    }

    @Test
    void afterACleanShutdownDamageIsStillNoticed() throws Exception {
        run(false);
    }

    private record Batch(long baseOffset, int position, int size) {
    }

    private void run(boolean crash) throws Exception {
        try (BrokerProcess broker = BrokerProcess.create()
                .with("log.segment.bytes", "4096")
                .with("log.index.interval.bytes", "256")) {
            broker.start();
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
                admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 1))).all().get(30, TimeUnit.SECONDS);
            }
            Map<Integer, List<String>> written = produce(broker, 0, RECORDS);
            if (crash) {
                broker.kill();
            } else {
                broker.stop();
            }

            long[] expectedEnd = new long[PARTITIONS];
            Random random = new Random(11);
            for (int p = 0; p < PARTITIONS; p++) {
                expectedEnd[p] = RECORDS;
            }
            // 0: cut in the middle of the last batch
            {
                Path last = lastSegment(broker, 0);
                Batch b = lastBatch(last);
                truncate(last, b.position + b.size / 2);
                expectedEnd[0] = b.baseOffset;
            }
            // 1: last batch zeroed, zeros appended
            {
                Path last = lastSegment(broker, 1);
                Batch b = lastBatch(last);
                try (FileChannel ch = FileChannel.open(last, StandardOpenOption.WRITE)) {
                    ch.write(ByteBuffer.allocate(b.size), b.position);
                    ch.write(ByteBuffer.allocate(4096), ch.size());
                }
                expectedEnd[1] = b.baseOffset;
            }
            // 2: indexes gone
            for (Path f : files(broker, 2, ".index", ".timeindex")) {
                Files.delete(f);
            }
            // 3: indexes full of garbage (and of a length that is not a whole number of entries)
            for (Path f : files(broker, 3, ".index", ".timeindex")) {
                byte[] garbage = new byte[(int) Files.size(f) + 3];
                random.nextBytes(garbage);
                Files.write(f, garbage);
            }
            // 4: stray empty segments
            {
                List<Path> logs = files(broker, 4, ".log");
                assertTrue(logs.size() >= 3, "several segments: " + logs);
                long second = base(logs.get(1));
                Files.createFile(logs.get(0).resolveSibling(String.format("%020d.log", second + 1)));
                Files.createFile(logs.get(0).resolveSibling(String.format("%020d.log", RECORDS + 1000L)));
            }
            // 5: a flipped byte in a batch in the middle of the last segment (only a crash makes the broker check CRCs)
            if (crash) {
                Path last = lastSegment(broker, 5);
                List<Batch> batches = batches(last);
                Batch b = batches.get(batches.size() / 2);
                try (FileChannel ch = FileChannel.open(last, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                    ByteBuffer one = ByteBuffer.allocate(1);
                    long at = b.position + b.size - 3;
                    ch.read(one, at);
                    one.put(0, (byte) (one.get(0) ^ 0x5a)).rewind();
                    ch.write(one, at);
                }
                expectedEnd[5] = b.baseOffset;
            }

            broker.start();
            String life = broker.outputOfThisLife();
            for (int p = 0; p < PARTITIONS; p++) {
                String prefix = "Loaded log " + TOPIC + "-" + p + " (";
                List<String> lines = life.lines().filter(l -> l.contains(prefix)).toList();
                if (p == 5 && !crash) {
                    // untouched after a clean shutdown: its routine load line is DEBUG
                    assertTrue(lines.size() <= 1, "at most one log line for partition 5: " + lines);
                    continue;
                }
                assertEquals(1, lines.size(), "one log line for partition " + p + ": " + lines + "; the broker said:\n" + life);
                String line = lines.get(0);
                System.out.println("[durability] partition " + p + ": " + line.substring(line.indexOf("Loaded log")));
                switch (p) {
                    case 0, 1, 5 -> assertFalse(line.contains(" 0 byte(s) truncated"), "partition " + p + " truncated: " + line);
                    case 2, 3 -> assertFalse(line.contains(" 0 index set(s) rebuilt"), "partition " + p + " rebuilt indexes: " + line);
                    default -> assertFalse(line.contains(" 0 segment(s) deleted"), "partition 4 deleted the strays: " + line);
                }
            }

            try (KafkaConsumer<String, String> consumer = consumer(broker)) {
                for (int p = 0; p < PARTITIONS; p++) {
                    TopicPartition tp = new TopicPartition(TOPIC, p);
                    List<ConsumerRecord<String, String>> records = readAll(consumer, tp);
                    assertEquals(expectedEnd[p], records.size(), "records left in partition " + p);
                    for (ConsumerRecord<String, String> r : records) {
                        assertEquals(written.get(p).get((int) r.offset()), r.value(), "partition " + p + " offset " + r.offset());
                        assertEquals(T0 + r.offset(), r.timestamp());
                    }
                    long probe = expectedEnd[p] / 2;
                    OffsetAndTimestamp found = consumer.offsetsForTimes(Map.of(tp, T0 + probe), Duration.ofSeconds(20)).get(tp);
                    assertNotNull(found, "offsetsForTimes on partition " + p);
                    assertEquals(probe, found.offset(), "offsetsForTimes on partition " + p);
                }
            }
            Map<Integer, List<String>> more = produce(broker, 1_000_000, 1);
            for (int p = 0; p < PARTITIONS; p++) {
                assertEquals(expectedEnd[p], Long.parseLong(more.get(p).get(0)), "the next record of partition " + p
                        + " continues at the repaired log end");
            }
            broker.stop();
        }
    }

    /** Writes {@code count} records per partition; returns their values by offset (or, with a tag, their offsets). */
    private static Map<Integer, List<String>> produce(BrokerProcess broker, int tag, int count) throws Exception {
        Map<String, Object> config = new HashMap<>();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        config.put(ProducerConfig.BATCH_SIZE_CONFIG, 600);
        config.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000);
        config.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        Map<Integer, List<String>> out = new HashMap<>();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(config)) {
            for (int p = 0; p < PARTITIONS; p++) {
                List<Future<RecordMetadata>> sent = new ArrayList<>();
                List<String> values = new ArrayList<>();
                for (int i = 0; i < count; i++) {
                    String value = tag + "/p" + p + "/r" + i + "/" + "x".repeat(i % 50);
                    values.add(value);
                    long ts = tag == 0 ? T0 + i : System.currentTimeMillis();
                    sent.add(producer.send(new ProducerRecord<>(TOPIC, p, ts, "k" + i, value)));
                    if (i % 10 == 9) {
                        producer.flush();
                    }
                }
                producer.flush();
                if (tag == 0) {
                    for (int i = 0; i < count; i++) {
                        assertEquals(i, sent.get(i).get(30, TimeUnit.SECONDS).offset());
                    }
                    out.put(p, values);
                } else {
                    out.put(p, List.of(Long.toString(sent.get(0).get(30, TimeUnit.SECONDS).offset())));
                }
            }
        }
        return out;
    }

    private static KafkaConsumer<String, String> consumer(BrokerProcess broker) {
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        config.put(ConsumerConfig.CHECK_CRCS_CONFIG, true);
        return new KafkaConsumer<>(config);
    }

    private static List<ConsumerRecord<String, String>> readAll(KafkaConsumer<String, String> consumer, TopicPartition tp) {
        consumer.assign(Set.of(tp));
        consumer.seekToBeginning(Set.of(tp));
        long end = consumer.endOffsets(Set.of(tp), Duration.ofSeconds(20)).get(tp);
        List<ConsumerRecord<String, String>> records = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (consumer.position(tp, Duration.ofSeconds(20)) < end) {
            assertTrue(System.nanoTime() - deadline < 0, "read only up to " + consumer.position(tp) + " of " + end + " in " + tp);
            consumer.poll(Duration.ofMillis(200)).forEach(records::add);
        }
        return records;
    }

    private static List<Path> files(BrokerProcess broker, int partition, String... suffixes) throws IOException {
        try (Stream<Path> s = Files.list(broker.partitionDir(TOPIC, partition))) {
            return s.filter(f -> {
                for (String suffix : suffixes) {
                    if (f.getFileName().toString().endsWith(suffix)) {
                        return true;
                    }
                }
                return false;
            }).sorted().toList();
        }
    }

    private static Path lastSegment(BrokerProcess broker, int partition) throws IOException {
        List<Path> logs = files(broker, partition, ".log");
        return logs.get(logs.size() - 1);
    }

    private static long base(Path segment) {
        return Long.parseLong(segment.getFileName().toString().substring(0, 20));
    }

    /** The batches of a segment file, by the RecordBatch framing (BaseOffset int64, Length int32). */
    private static List<Batch> batches(Path segment) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(segment));
        List<Batch> out = new ArrayList<>();
        int pos = 0;
        while (b.limit() - pos >= 61) {
            int size = 12 + b.getInt(pos + 8);
            if (size < 61 || pos + size > b.limit()) {
                break;
            }
            out.add(new Batch(b.getLong(pos), pos, size));
            pos += size;
        }
        return out;
    }

    private static Batch lastBatch(Path segment) throws IOException {
        List<Batch> all = batches(segment);
        assertFalse(all.isEmpty(), "no batch in " + segment);
        return all.get(all.size() - 1);
    }

    private static void truncate(Path file, long size) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(size);
        }
    }
}
