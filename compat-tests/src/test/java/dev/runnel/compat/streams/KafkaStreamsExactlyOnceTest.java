package dev.runnel.compat.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.runnel.compat.support.Await;
import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.Clients;
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
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Kafka Streams 4.3 with {@code processing.guarantee=exactly_once_v2} against Runnel: a word count with a repartition
 * topic and a changelog. Read with read_committed, the output holds each word's counts exactly once each, 1 to n,
 * and the last one is the word's exact count.
 */
class KafkaStreamsExactlyOnceTest {
    private static final List<String> WORDS = List.of("kafka", "runnel", "stream", "count", "exactly", "once");

    @RegisterExtension
    static final Broker broker = Broker.create();

    @Test
    void wordCountWithExactlyOnceV2() throws Exception {
        String input = Clients.uniqueTopic("words");
        String output = Clients.uniqueTopic("word-counts");
        Clients.createTopic(broker, input, 2);
        Clients.createTopic(broker, output, 2);
        Map<String, Long> expected = new TreeMap<>();
        Random random = new Random(42);
        try (KafkaProducer<String, String> p = Clients.producer(broker)) {
            for (int i = 0; i < 200; i++) {
                StringBuilder line = new StringBuilder();
                for (int w = 0; w < 3; w++) {
                    String word = WORDS.get(random.nextInt(WORDS.size()));
                    expected.merge(word, 1L, Long::sum);
                    line.append(word).append(' ');
                }
                p.send(new ProducerRecord<>(input, "line-" + i, line.toString()));
            }
            p.flush();
        }
        Path stateDir = Files.createTempDirectory("runnel-streams-");
        long started = System.nanoTime();
        try (KafkaStreams streams = WordCountApp.create(broker.bootstrapServers(), "wordcount-" + input, input, output, stateDir)) {
            streams.start();
            Map<String, List<Long>> counts = new HashMap<>();
            try (KafkaConsumer<String, Long> c = outputConsumer(output)) {
                c.subscribe(List.of(output));
                Await.untilPasses(Duration.ofSeconds(60), () -> {
                    for (ConsumerRecord<String, Long> r : c.poll(Duration.ofMillis(200))) {
                        counts.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r.value());
                    }
                    Map<String, Long> last = new TreeMap<>();
                    counts.forEach((w, l) -> last.put(w, l.get(l.size() - 1)));
                    assertEquals(expected, last, "the last count of every word");
                });
            }
            System.out.printf("[compat] Kafka Streams exactly_once_v2 word count of 600 words reached its exact counts %d ms "
                    + "after start%n", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
            for (Map.Entry<String, List<Long>> e : counts.entrySet()) {
                List<Long> oneToN = new ArrayList<>();
                for (long n = 1; n <= expected.get(e.getKey()); n++) {
                    oneToN.add(n);
                }
                assertEquals(oneToN, e.getValue(), "each count of '" + e.getKey() + "' exactly once");
            }
            streams.close(Duration.ofSeconds(30));
        }
    }

    private static KafkaConsumer<String, Long> outputConsumer(String output) {
        Map<String, Object> c = new HashMap<>();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        c.put(ConsumerConfig.GROUP_ID_CONFIG, "reader-" + output);
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, LongDeserializer.class);
        return new KafkaConsumer<>(c);
    }
}
