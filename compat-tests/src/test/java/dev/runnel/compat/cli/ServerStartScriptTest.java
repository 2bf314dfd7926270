package dev.runnel.compat.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bin/runnel-server-start.sh as a user runs it: start with a server.properties, produce with the Java
 * producer, stop with SIGTERM (graceful: the script execs the JVM, whose shutdown closes the logs), start
 * again on the same data and read everything back.
 */
class ServerStartScriptTest {
    private static final Pattern LISTENING = Pattern.compile("listening on [^ ]+:(\\d+)");
    private static final Duration START_DEADLINE = Duration.ofSeconds(90);

    @TempDir
    Path dir;

    @Test
    void startProduceSigtermRestartConsume() throws Exception {
        Path script = Path.of("..", "bin", "runnel-server-start.sh").toAbsolutePath().normalize();
        assertTrue(Files.isExecutable(script), "missing " + script);
        Path props = dir.resolve("server.properties");
        Files.writeString(props, "listeners=PLAINTEXT://127.0.0.1:0\nlog.dirs=" + dir.resolve("data") + "\nnum.partitions=1\n");

        String topic = "script-test";
        int records = 200;
        Path log1 = dir.resolve("run1.log");
        Process first = start(script, props, log1);
        try {
            int port = awaitPort(first, log1);
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + port,
                    ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName(),
                    ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName(),
                    ProducerConfig.MAX_BLOCK_MS_CONFIG, 20_000))) {
                for (int i = 0; i < records; i++) {
                    producer.send(new ProducerRecord<>(topic, "k" + i, "v" + i));
                }
                producer.flush();
                assertEquals(records, producer.send(new ProducerRecord<>(topic, "last", "last")).get(20, TimeUnit.SECONDS).offset());
            }
        } finally {
            first.destroy(); // SIGTERM
        }
        assertTrue(first.waitFor(30, TimeUnit.SECONDS), "broker did not stop within 30 s of SIGTERM:\n" + Files.readString(log1));
        String out1 = Files.readString(log1, StandardCharsets.UTF_8);
        assertTrue(out1.contains("stopped"), "no graceful stop in the broker's output:\n" + out1);

        Path log2 = dir.resolve("run2.log");
        Process second = start(script, props, log2);
        try {
            int port = awaitPort(second, log2);
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of(
                    ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + port,
                    ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName(),
                    ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName(),
                    ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 20_000))) {
                TopicPartition tp = new TopicPartition(topic, 0);
                consumer.assign(List.of(tp));
                consumer.seekToBeginning(List.of(tp));
                List<ConsumerRecord<String, String>> got = new ArrayList<>();
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (got.size() < records + 1 && System.nanoTime() < deadline) {
                    consumer.poll(Duration.ofMillis(500)).forEach(got::add);
                }
                assertEquals(records + 1, got.size(), "records after restart");
                for (int i = 0; i < records; i++) {
                    assertEquals(i, got.get(i).offset());
                    assertEquals("v" + i, got.get(i).value());
                }
            }
        } finally {
            second.destroy();
            second.waitFor(30, TimeUnit.SECONDS);
        }
    }

    private static Process start(Path script, Path props, Path log) throws IOException {
        return new ProcessBuilder(script.toString(), props.toString())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
    }

    private static int awaitPort(Process p, Path log) throws Exception {
        long deadline = System.nanoTime() + START_DEADLINE.toNanos();
        while (System.nanoTime() < deadline) {
            String out = Files.readString(log, StandardCharsets.UTF_8);
            Matcher m = LISTENING.matcher(out);
            if (m.find()) {
                return Integer.parseInt(m.group(1));
            }
            if (!p.isAlive()) {
                fail("broker exited with " + p.exitValue() + " before listening:\n" + out);
            }
            p.waitFor(100, TimeUnit.MILLISECONDS); // poll the output file; returns early if the process ends
        }
        fail("broker did not report its port within " + START_DEADLINE + ":\n" + Files.readString(log));
        return -1;
    }
}
