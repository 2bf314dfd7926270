package dev.runnel.compat.durability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
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

/**
 * 10,000 idle connections on loopback, half of them slow lorises that announced a 50 MB request, sent 1 KB of
 * it and stalled: the broker (in its own process, 256 MB heap) holds them all without running out of memory or
 * file descriptors, still serves a stock producer and consumer meanwhile, and gives every descriptor back when
 * they close. The count is scaled down (and the output says so) when this JVM may not open that many files;
 * the test is skipped below 1,000.
 */
class ManyIdleConnectionsTest {
    private static final int WANTED = Integer.getInteger("runnel.idleConnections", 10_000);
    private static final int LORIS_DECLARED = 50_000_000;
    private static final int LORIS_SENT = 1024;

    @Test
    void tenThousandIdleConnectionsCostNeitherMemoryNorDescriptorsForGood() throws Exception {
        int connections = affordableConnections();
        assumeTrue(connections >= 1000, "this JVM may open too few files for the test (" + connections
                + " connections affordable; raise ulimit -n)");
        if (connections < WANTED) {
            System.out.printf("[durability] ulimit -n allows %d connections here, not %d: testing with %d%n",
                    connections, WANTED, connections);
        }
        try (BrokerProcess broker = BrokerProcess.create()) {
            broker.start();
            createTopic(broker);
            long fdsBefore = broker.openFileDescriptors();
            long rssBefore = broker.residentKib();
            List<Socket> sockets = new ArrayList<>(connections);
            Random random = new Random(1);
            byte[] loris = new byte[4 + LORIS_SENT];
            random.nextBytes(loris);
            ByteBuffer.wrap(loris).putInt(0, LORIS_DECLARED);
            long t0 = System.nanoTime();
            try {
                for (int i = 0; i < connections; i++) {
                    Socket s = new Socket();
                    sockets.add(s);
                    s.connect(new InetSocketAddress("127.0.0.1", broker.port()), 10_000);
                    if (i % 2 == 0) {
                        s.getOutputStream().write(loris);
                    }
                }
                long openMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                awaitAtLeast("broker file descriptors", broker::openFileDescriptors, fdsBefore + connections - 20, Duration.ofSeconds(60));
                long fdsHeld = broker.openFileDescriptors();
                long rssHeld = broker.residentKib();
                System.out.printf("[durability] %d connections (%d slow lorises with %d of %d bytes sent) opened in %d ms; "
                                + "broker: %d -> %d file descriptors, RSS %d -> %d MiB%n", connections, (connections + 1) / 2,
                        LORIS_SENT, LORIS_DECLARED, openMs, fdsBefore, fdsHeld, rssBefore / 1024, rssHeld / 1024);
                assertTrue(broker.isAlive(), "broker died:\n" + broker.tail(40));
                roundTrip(broker);
                assertTrue(rssHeld < 1024 * 1024, "the broker's resident memory grew to " + rssHeld / 1024 + " MiB");
            } finally {
                for (Socket s : sockets) {
                    try {
                        s.close();
                    } catch (IOException ignored) {
                        // closing anyway
                    }
                }
            }
            awaitAtMost("broker file descriptors", broker::openFileDescriptors, fdsBefore + 20, Duration.ofSeconds(60));
            System.out.printf("[durability] all closed: broker back to %d file descriptors, RSS %d MiB%n",
                    broker.openFileDescriptors(), broker.residentKib() / 1024);
            assertTrue(broker.isAlive(), "broker died:\n" + broker.tail(40));
            assertTrue(!broker.output().contains("OutOfMemoryError") && !broker.output().contains("Too many open files"),
                    "the broker ran out of something:\n" + broker.tail(40));
            broker.stop();
        }
    }

    /** What both this JVM and the broker (which inherits our limit) may open, with room for everything else. */
    private static int affordableConnections() {
        if (!(ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.UnixOperatingSystemMXBean os)) {
            return 0;
        }
        long spare = os.getMaxFileDescriptorCount() - os.getOpenFileDescriptorCount() - 1000;
        return (int) Math.max(0, Math.min(WANTED, spare));
    }

    private static void awaitAtLeast(String what, LongSupplier value, long target, Duration deadline) {
        long end = System.nanoTime() + deadline.toNanos();
        while (value.getAsLong() < target) {
            assertTrue(System.nanoTime() - end < 0, what + " stayed at " + value.getAsLong() + ", below " + target);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
        }
    }

    private static void awaitAtMost(String what, LongSupplier value, long target, Duration deadline) {
        long end = System.nanoTime() + deadline.toNanos();
        while (value.getAsLong() > target) {
            assertTrue(System.nanoTime() - end < 0, what + " stayed at " + value.getAsLong() + ", above " + target);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
        }
    }

    private static void createTopic(BrokerProcess broker) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic("busy", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
    }

    private static void roundTrip(BrokerProcess broker) throws Exception {
        Map<String, Object> p = new HashMap<>();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000);
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 20_000);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            for (int i = 0; i < 3; i++) {
                assertEquals(i, producer.send(new ProducerRecord<>("busy", 0, "k", "v" + i)).get(30, TimeUnit.SECONDS).offset());
            }
        }
        Map<String, Object> c = new HashMap<>();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        TopicPartition tp = new TopicPartition("busy", 0);
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c)) {
            consumer.assign(Set.of(tp));
            consumer.seekToBeginning(Set.of(tp));
            List<ConsumerRecord<String, String>> got = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (got.size() < 3 && System.nanoTime() - deadline < 0) {
                consumer.poll(Duration.ofMillis(200)).forEach(got::add);
            }
            assertEquals(3, got.size(), "records read back while the idle connections are open");
        }
    }
}
