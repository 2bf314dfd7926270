package dev.runnel.compat.durability;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.runnel.compat.streams.WordCountApp;
import dev.runnel.compat.support.Await;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.junit.jupiter.api.Test;

/**
 * Kafka Streams' exactly_once_v2 word count (see {@code WordCountApp}) while the broker process is killed with
 * SIGKILL mid-run and started again on the same port and data: the application recovers (its threads replaced if they
 * die), and read_committed still sees every count of every word exactly once, the last being the exact count.
 */
class StreamsKillNineTest {
    private static final List<String> WORDS = List.of("kafka", "runnel", "stream", "count", "exactly", "once");

    @Test
    void exactCountsAfterTheBrokerIsKilledMidRun() throws Exception {
        Map<String, Long> expected = new TreeMap<>();
        Random random = new Random(7);
        try (BrokerProcess broker = BrokerProcess.create().start()) {
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
                admin.createTopics(List.of(new NewTopic("words", 2, (short) 1), new NewTopic("counts", 2, (short) 1)))
                        .all().get(30, TimeUnit.SECONDS);
            }
            produceLines(broker, 0, 150, random, expected);
            Path stateDir = Files.createTempDirectory("runnel-streams-kill-");
            Map<String, List<Long>> counts = new HashMap<>();
            try (KafkaStreams streams = WordCountApp.create(broker.bootstrapServers(), "wordcount-kill", "words", "counts", stateDir)) {
                streams.setUncaughtExceptionHandler(e -> StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD);
                streams.start();
                try (KafkaConsumer<String, Long> c = outputConsumer(broker)) {
                    c.subscribe(List.of("counts"));
                    Await.untilPasses(Duration.ofSeconds(60), () -> {
                        poll(c, counts);
                        assertEquals(true, counts.values().stream().mapToInt(List::size).sum() >= 100, "counts read: " + counts);
                    });
                }
                broker.kill();
                broker.start();
                produceLines(broker, 150, 150, random, expected);
                try (KafkaConsumer<String, Long> c = outputConsumer(broker)) {
                    c.subscribe(List.of("counts"));
                    counts.clear(); // read the whole output again, from the start, after the crash
                    Await.untilPasses(Duration.ofSeconds(120), () -> {
                        poll(c, counts);
                        Map<String, Long> last = new TreeMap<>();
                        counts.forEach((w, l) -> last.put(w, l.get(l.size() - 1)));
                        assertEquals(expected, last, "the last count of every word");
                    });
                }
                streams.close(Duration.ofSeconds(30));
            }
            for (Map.Entry<String, List<Long>> e : counts.entrySet()) {
                List<Long> oneToN = new ArrayList<>();
                for (long n = 1; n <= expected.get(e.getKey()); n++) {
                    oneToN.add(n);
                }
                assertEquals(oneToN, e.getValue(), "each count of '" + e.getKey() + "' exactly once, across the crash");
            }
            System.out.printf("[compat] Kafka Streams exactly_once_v2 across a broker kill -9: %d words, counts exact, no count "
                    + "emitted twice%n", expected.values().stream().mapToLong(Long::longValue).sum());
        }
    }

    private static void poll(KafkaConsumer<String, Long> c, Map<String, List<Long>> counts) {
        for (ConsumerRecord<String, Long> r : c.poll(Duration.ofMillis(200))) {
            counts.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r.value());
        }
    }

    private static void produceLines(BrokerProcess broker, int from, int n, Random random, Map<String, Long> expected) {
        Map<String, Object> config = new HashMap<>();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        try (KafkaProducer<String, String> p = new KafkaProducer<>(config)) {
            for (int i = from; i < from + n; i++) {
                StringBuilder line = new StringBuilder();
                for (int w = 0; w < 3; w++) {
                    String word = WORDS.get(random.nextInt(WORDS.size()));
                    expected.merge(word, 1L, Long::sum);
                    line.append(word).append(' ');
                }
                p.send(new ProducerRecord<>("words", "line-" + i, line.toString()));
            }
            p.flush();
        }
    }

    private static KafkaConsumer<String, Long> outputConsumer(BrokerProcess broker) {
        Map<String, Object> c = new HashMap<>();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        c.put(ConsumerConfig.GROUP_ID_CONFIG, "reader-" + System.nanoTime());
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, LongDeserializer.class);
        return new KafkaConsumer<>(c);
    }
}
