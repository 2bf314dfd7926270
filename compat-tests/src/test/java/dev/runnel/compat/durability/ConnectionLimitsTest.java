package dev.runnel.compat.durability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.support.Await;
import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.Clients;
import dev.runnel.compat.support.RawKafkaConnection;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.junit.jupiter.api.Test;

/**
 * Kafka's connection limits hold against plain sockets, and stock clients live with them:
 * {@code max.connections.per.ip} (with {@code max.connections.per.ip.overrides}) closes the connection that
 * goes over; {@code max.connections} makes new connections wait until one closes, as Kafka's acceptor does;
 * {@code connections.max.idle.ms} closes silent connections, slow-loris partial frames included, but not one
 * whose request is still being served; and a client that pipelines requests without reading the responses is
 * simply no longer read from, while everybody else is served.
 */
class ConnectionLimitsTest {
    private static final Duration DEADLINE = Duration.ofSeconds(10);

    @Test
    void aConnectionOverThePerIpLimitIsClosedAndTheSlotComesBack() throws Exception {
        try (Broker broker = Broker.create().with("max.connections.per.ip", "3").start()) {
            List<RawKafkaConnection> open = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    RawKafkaConnection c = RawKafkaConnection.open(broker, DEADLINE);
                    assertApiVersionsAnswered(c);
                    open.add(c);
                }
                try (RawKafkaConnection fourth = RawKafkaConnection.open(broker, DEADLINE)) {
                    assertTrue(fourth.awaitClosedByBroker(null), "the fourth connection from 127.0.0.1 is closed");
                }
                open.remove(0).close();
                Await.untilPasses(DEADLINE, () -> {
                    try (RawKafkaConnection again = RawKafkaConnection.open(broker, Duration.ofSeconds(2))) {
                        assertApiVersionsAnswered(again);
                    }
                });
            } finally {
                for (RawKafkaConnection c : open) {
                    c.close();
                }
            }
            // a stock client needs two connections (bootstrap and broker); one at a time fits
            Clients.assertRoundTripWorks(broker);
        }
    }

    @Test
    void perIpOverridesReplaceTheDefaultLimitForTheirAddress() throws Exception {
        try (Broker broker = Broker.create().with("max.connections.per.ip", "1")
                .with("max.connections.per.ip.overrides", "127.0.0.1:4,localhost:4").start()) {
            List<RawKafkaConnection> open = new ArrayList<>();
            try {
                for (int i = 0; i < 4; i++) {
                    RawKafkaConnection c = RawKafkaConnection.open(broker, DEADLINE);
                    assertApiVersionsAnswered(c);
                    open.add(c);
                }
                try (RawKafkaConnection fifth = RawKafkaConnection.open(broker, DEADLINE)) {
                    assertTrue(fifth.awaitClosedByBroker(null), "the override allows 4 from 127.0.0.1, not 5");
                }
            } finally {
                for (RawKafkaConnection c : open) {
                    c.close();
                }
            }
        }
    }

    @Test
    void atMaxConnectionsANewConnectionWaitsUntilOneCloses() throws Exception {
        try (Broker broker = Broker.create().with("max.connections", "2").start()) {
            RawKafkaConnection first = RawKafkaConnection.open(broker, DEADLINE);
            try (RawKafkaConnection second = RawKafkaConnection.open(broker, DEADLINE);
                 RawKafkaConnection third = RawKafkaConnection.open(broker, Duration.ofSeconds(1))) {
                assertApiVersionsAnswered(first);
                assertApiVersionsAnswered(second);
                // the operating system completed the third connection, but the broker does not take it up yet
                int correlationId = third.send(new ApiVersionsRequestData(), (short) 0);
                assertThrows(SocketTimeoutException.class, third::readFrame, "no answer while at max.connections");
                first.close();
                ByteBuffer frame = readFrameWithin(third, DEADLINE);
                assertEquals(correlationId, frame.getInt(0), "the waiting connection is served once a slot is free");
            } finally {
                first.close();
            }
        }
    }

    @Test
    void idleAndStalledConnectionsAreClosedButNotOneWaitingForItsResponse() throws Exception {
        try (Broker broker = Broker.create().with("connections.max.idle.ms", "500").start()) {
            // silent from the start
            try (RawKafkaConnection silent = RawKafkaConnection.open(broker, DEADLINE)) {
                assertTrue(silent.awaitClosedByBroker(null), "a silent connection is closed");
            }
            // slow loris: a frame that promises 1 MB, sends 10 bytes and stalls
            try (RawKafkaConnection loris = RawKafkaConnection.open(broker, DEADLINE)) {
                loris.writeRaw(ByteBuffer.allocate(14).putInt(1_000_000).array());
                assertTrue(loris.awaitClosedByBroker(null), "a stalled partial frame is closed by the idle timer");
            }
            // a long-poll fetch that waits longer than the idle time still gets its answer
            String topic = Clients.uniqueTopic("idle");
            Clients.createTopic(broker, topic, 1);
            try (RawKafkaConnection poller = RawKafkaConnection.open(broker, DEADLINE)) {
                FetchRequestData fetch = new FetchRequestData().setReplicaId(-1).setMaxWaitMs(1500).setMinBytes(1)
                        .setMaxBytes(1 << 20).setIsolationLevel((byte) 0).setSessionId(0).setSessionEpoch(-1);
                FetchRequestData.FetchTopic ft = new FetchRequestData.FetchTopic().setTopic(topic);
                ft.partitions().add(new FetchRequestData.FetchPartition().setPartition(0).setFetchOffset(0)
                        .setCurrentLeaderEpoch(-1).setLogStartOffset(-1).setPartitionMaxBytes(1 << 20));
                fetch.topics().add(ft);
                long t0 = System.nanoTime();
                int correlationId = poller.send(fetch, (short) 11);
                ByteBuffer body = poller.receive(correlationId, ApiKeys.FETCH, (short) 11);
                long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                FetchResponseData response = new FetchResponseData(new ByteBufferAccessor(body), (short) 11);
                assertEquals(0, response.errorCode());
                assertTrue(waitedMs >= 1000, "the fetch waited for data (" + waitedMs + " ms) past the 500 ms idle time");
            }
            // a stock producer reconnects by itself after the broker closed its idle connections
            try (KafkaProducer<String, String> producer = Clients.producer(broker)) {
                producer.send(new ProducerRecord<>(topic, 0, "k", "before")).get(20, TimeUnit.SECONDS);
                Await.untilPasses(DEADLINE, () -> assertTrue(metric(producer.metrics(), "connection-close-total") >= 1,
                        "the broker closed the producer's idle connection"));
                assertEquals(1, producer.send(new ProducerRecord<>(topic, 0, "k", "after")).get(20, TimeUnit.SECONDS).offset());
            }
        }
    }

    @Test
    void aClientThatPipelinesWithoutReadingIsThrottledByTheSocket() throws Exception {
        try (Broker broker = Broker.create().with("auto.create.topics.enable", "false").start();
             Socket flood = new Socket(broker.host(), broker.port())) {
            // Metadata v4 requests for 250 unknown topics each: ~10 KB in, ~10 KB out
            MetadataRequestData metadata = new MetadataRequestData().setAllowAutoTopicCreation(false);
            for (int i = 0; i < 250; i++) {
                metadata.topics().add(new MetadataRequestData.MetadataRequestTopic().setName("no-such-topic-" + "x".repeat(20) + i));
            }
            short version = 4;
            ByteBuffer header = RawKafkaConnection.header(ApiKeys.METADATA.id, version, 1, (short) 1);
            ByteBuffer body = RawKafkaConnection.serialize(metadata, version);
            ByteBuffer frame = ByteBuffer.allocate(4 + header.remaining() + body.remaining());
            frame.putInt(header.remaining() + body.remaining()).put(header).put(body);
            byte[] bytes = frame.array();
            int requests = 5000; // ~50 MB: far more than socket buffers and the broker's limits hold
            AtomicLong written = new AtomicLong();
            AtomicBoolean done = new AtomicBoolean();
            Thread writer = new Thread(() -> {
                try (OutputStream out = flood.getOutputStream()) {
                    for (int i = 0; i < requests; i++) {
                        out.write(bytes);
                        written.addAndGet(bytes.length);
                    }
                    done.set(true);
                } catch (IOException e) {
                    // the socket was closed under the writer at the end of the test
                }
            }, "pipeline-flood");
            writer.setDaemon(true);
            writer.start();
            // wait until the writer is stuck: no progress for two seconds
            long lastProgress = System.nanoTime();
            long lastWritten = -1;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (System.nanoTime() - lastProgress < TimeUnit.SECONDS.toNanos(2)) {
                assertFalse(done.get(), "the broker read all " + requests + " pipelined requests without the client reading");
                assertTrue(System.nanoTime() - deadline < 0, "the writer kept making progress for 60 s");
                long w = written.get();
                if (w != lastWritten) {
                    lastWritten = w;
                    lastProgress = System.nanoTime();
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
            }
            System.out.printf("[durability] pipelining without reading: the client got %d of %d requests (%d KB) into the socket before it stalled%n",
                    written.get() / bytes.length, requests, written.get() / 1024);
            // meanwhile everybody else is served
            Clients.assertRoundTripWorks(broker);
            flood.close();
            writer.join(TimeUnit.SECONDS.toMillis(10));
        }
    }

    private static double metric(Map<MetricName, ? extends Metric> metrics, String name) {
        double total = 0;
        for (Map.Entry<MetricName, ? extends Metric> e : metrics.entrySet()) {
            if (e.getKey().name().equals(name) && e.getKey().group().equals("producer-metrics")) {
                total += ((Number) e.getValue().metricValue()).doubleValue();
            }
        }
        return total;
    }

    private static void assertApiVersionsAnswered(RawKafkaConnection c) throws IOException {
        int correlationId = c.send(new ApiVersionsRequestData(), (short) 0);
        ByteBuffer body = c.receive(correlationId, ApiKeys.API_VERSIONS, (short) 0);
        assertEquals(0, new ApiVersionsResponseData(new ByteBufferAccessor(body), (short) 0).errorCode());
    }

    private static ByteBuffer readFrameWithin(RawKafkaConnection c, Duration deadline) throws IOException {
        long end = System.nanoTime() + deadline.toNanos();
        while (true) {
            try {
                return c.readFrame();
            } catch (SocketTimeoutException e) {
                if (System.nanoTime() - end > 0) {
                    throw e;
                }
            }
        }
    }
}
