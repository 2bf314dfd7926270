package dev.runnel.compat.durability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.runnel.compat.support.RawKafkaConnection;
import dev.runnel.compat.support.RawProduce;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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
import org.apache.kafka.common.message.ApiMessageType;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.ListOffsetsRequestData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * Mutated and random requests over real sockets, against a broker in its own process. The seeds are requests
 * of every API key and version that kafka-clients knows, serialized by kafka-clients (so the bytes are Kafka's),
 * some empty and some with real content (a produce batch, fetches, group requests); the mutants have flipped
 * bits, odd lengths and counts, truncations and insertions, and sometimes a lying size prefix. Each connection
 * sends a few of them and then a valid ApiVersions request, and must, within a deadline, either be answered up
 * to that last request or be closed by the broker — never left hanging. Afterwards the broker still serves
 * stock clients, and its log holds no stack trace: a request that parses but then breaks a handler is a finding.
 *
 * <p>Connections: {@code -Drunnel.fuzz.connections} (default 300), seed {@code -Drunnel.fuzz.seed}.
 */
class HostileClientsTest {
    private static final int CONNECTIONS = Integer.getInteger("runnel.fuzz.connections", 300);
    private static final int PARALLEL = 16;
    private static final int IDLE_MS = 1500;
    private static final Duration CONNECTION_DEADLINE = Duration.ofSeconds(15);
    private static final int[] INTERESTING = {0, -1, 1, 0x7fffffff, 0x80000000, 0xffff, 0x7fff, 0x10000, 100_000_000};

    private record Seed(String name, byte[] body) {
    }

    @Test
    void mutatedRequestsNeverHangAConnectionOrBreakTheBroker() throws Exception {
        long seed = Long.getLong("runnel.fuzz.seed", System.nanoTime());
        System.out.printf("[fuzz] sockets: %d connections, seed %d%n", CONNECTIONS, seed);
        try (BrokerProcess broker = BrokerProcess.create()
                .with("socket.request.max.bytes", Integer.toString(1 << 20))
                .with("connections.max.idle.ms", Integer.toString(IDLE_MS))
                .with("num.partitions", "2")) {
            broker.start();
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
                admin.createTopics(List.of(new NewTopic("fuzz", 2, (short) 1))).all().get(30, TimeUnit.SECONDS);
            }
            List<Seed> seeds = seeds();
            System.out.printf("[fuzz] %d seed requests (%d API keys known to kafka-clients)%n", seeds.size(),
                    ApiMessageType.values().length);

            ConcurrentLinkedQueue<String> findings = new ConcurrentLinkedQueue<>();
            AtomicInteger answered = new AtomicInteger();
            AtomicInteger closed = new AtomicInteger();
            AtomicInteger waiting = new AtomicInteger();
            AtomicInteger frames = new AtomicInteger();
            ExecutorService pool = Executors.newFixedThreadPool(PARALLEL);
            long started = System.nanoTime();
            try {
                List<Future<?>> futures = new ArrayList<>();
                for (int c = 0; c < CONNECTIONS; c++) {
                    long connectionSeed = seed + c;
                    futures.add(pool.submit(() -> {
                        try {
                            Outcome o = oneConnection(broker, seeds, new Random(connectionSeed), frames);
                            if (o == Outcome.ANSWERED) {
                                answered.incrementAndGet();
                            } else if (o == Outcome.CLOSED) {
                                closed.incrementAndGet();
                            } else if (o == Outcome.HUNG_WAITING) {
                                waiting.incrementAndGet();
                            } else {
                                findings.add("connection with seed " + connectionSeed + " was neither answered nor closed within "
                                        + CONNECTION_DEADLINE);
                            }
                        } catch (IOException e) {
                            findings.add("connection with seed " + connectionSeed + ": " + e);
                        }
                        return null;
                    }));
                }
                for (Future<?> f : futures) {
                    f.get(5, TimeUnit.MINUTES);
                }
            } finally {
                pool.shutdownNow();
            }
            System.out.printf("[fuzz] sockets: %d connections, %d mutated frames in %d ms: %d answered to the end, %d closed by the broker, "
                            + "%d still waiting for a request that may wait (long poll), %d findings%n",
                    CONNECTIONS, frames.get(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), answered.get(),
                    closed.get(), waiting.get(), findings.size());

            assertTrue(broker.isAlive(), "the broker process died:\n" + broker.tail(60));
            stockClientsStillWork(broker);
            List<String> traces = stackTraces(broker.output());
            traces.stream().limit(3).forEach(t -> findings.add("the broker logged:\n" + t));
            if (!findings.isEmpty()) {
                fail("socket fuzzing (seed " + seed + ") found " + findings.size() + " problem(s):\n" + String.join("\n", findings));
            }
            assertTrue(answered.get() > 0 && closed.get() > 0, "the fuzzer should reach both outcomes");
            broker.stop();
        }
    }

    /**
     * HUNG_WAITING: no answer by the deadline, but one of the requests may legitimately wait that long (a fetch
     * whose max wait was mutated into hours, a group join) — Kafka keeps such a connection waiting too.
     */
    private enum Outcome { ANSWERED, CLOSED, HUNG, HUNG_WAITING }

    /** API keys whose requests the broker may hold for as long as the request says. */
    private static final Set<Integer> MAY_WAIT = Set.of((int) ApiKeys.FETCH.id, (int) ApiKeys.JOIN_GROUP.id,
            (int) ApiKeys.SYNC_GROUP.id, (int) ApiKeys.DELETE_RECORDS.id);

    private static Outcome oneConnection(BrokerProcess broker, List<Seed> seeds, Random random, AtomicInteger frames)
            throws IOException {
        try (Socket socket = new Socket("127.0.0.1", broker.port())) {
            socket.setSoTimeout(250);
            socket.setTcpNoDelay(true);
            OutputStream out = socket.getOutputStream();
            int n = 1 + random.nextInt(4);
            boolean mayWait = false;
            try {
                for (int i = 0; i < n; i++) {
                    Seed s = seeds.get(random.nextInt(seeds.size()));
                    byte[] body = mutate(s.body, random);
                    mayWait |= body.length >= 2 && MAY_WAIT.contains((int) ByteBuffer.wrap(body).getShort(0));
                    int size = body.length;
                    switch (random.nextInt(20)) {
                        case 0 -> size = -1 - random.nextInt(10);
                        case 1 -> size = Integer.MAX_VALUE - random.nextInt(10);
                        case 2 -> size = body.length + 1 + random.nextInt(100); // promises more than it sends
                        default -> { }
                    }
                    out.write(ByteBuffer.allocate(4).putInt(size).array());
                    out.write(body);
                    frames.incrementAndGet();
                }
                // the marker: a valid ApiVersions v0 with a correlation id no seed uses
                ByteBuffer header = RawKafkaConnection.header(ApiKeys.API_VERSIONS.id, (short) 0, MARKER, (short) 1);
                out.write(ByteBuffer.allocate(4).putInt(header.remaining()).array());
                out.write(header.array(), header.position(), header.remaining());
                out.flush();
            } catch (SocketException e) {
                return Outcome.CLOSED; // closed by the broker while we were still writing
            }
            DataInputStream in = new DataInputStream(socket.getInputStream());
            long deadline = System.nanoTime() + CONNECTION_DEADLINE.toNanos();
            while (System.nanoTime() - deadline < 0) {
                try {
                    int size = in.readInt();
                    if (size < 4 || size > (64 << 20)) {
                        throw new IOException("broker sent a frame of " + size + " bytes");
                    }
                    byte[] frame = new byte[size];
                    in.readFully(frame);
                    if (ByteBuffer.wrap(frame).getInt() == MARKER) {
                        return Outcome.ANSWERED;
                    }
                } catch (SocketTimeoutException e) {
                    // keep waiting until the deadline
                } catch (EOFException | SocketException e) {
                    return Outcome.CLOSED;
                }
            }
            return mayWait ? Outcome.HUNG_WAITING : Outcome.HUNG;
        }
    }

    private static final int MARKER = 0x5eed_f00d;

    /**
     * Mostly values changed in place (so that many requests still parse and reach their handlers with odd
     * contents), sometimes the shape (truncation, insertion), sometimes nothing at all.
     */
    private static byte[] mutate(byte[] in, Random random) {
        byte[] b = in.clone();
        int rounds = random.nextInt(3);
        for (int r = 0; r < rounds && b.length > 0; r++) {
            int pos = random.nextInt(b.length);
            switch (random.nextInt(16)) {
                case 0, 1, 2, 3 -> b[pos] ^= (byte) (1 << random.nextInt(8));
                case 4, 5, 6, 7 -> {
                    int v = INTERESTING[random.nextInt(INTERESTING.length)];
                    for (int i = 0; i < 4 && pos + i < b.length; i++) {
                        b[pos + i] = (byte) (v >>> (24 - 8 * i));
                    }
                }
                case 8, 9 -> b[pos] = (byte) 0xff;
                case 10, 11, 12 -> b[pos] = (byte) random.nextInt();
                case 13 -> b = java.util.Arrays.copyOf(b, pos);
                default -> {
                    byte[] extra = new byte[1 + random.nextInt(12)];
                    random.nextBytes(extra);
                    byte[] o = new byte[b.length + extra.length];
                    System.arraycopy(b, 0, o, 0, pos);
                    System.arraycopy(extra, 0, o, pos, extra.length);
                    System.arraycopy(b, pos, o, pos + extra.length, b.length - pos);
                    b = o;
                }
            }
        }
        return b;
    }

    /** Every request kafka-clients can build, empty, in every version it knows, plus a few with content. */
    private static List<Seed> seeds() {
        List<Seed> seeds = new ArrayList<>();
        for (ApiMessageType type : ApiMessageType.values()) {
            for (short v = type.lowestSupportedVersion(); v <= type.highestSupportedVersion(true); v++) {
                addSeed(seeds, type.newRequest(), type.apiKey(), v);
            }
        }
        for (short v = 3; v <= 11; v++) {
            addSeed(seeds, Produce4.request(random(v)), ApiKeys.PRODUCE.id, v);
        }
        for (short v = 4; v <= 12; v++) {
            FetchRequestData fetch = new FetchRequestData().setReplicaId(-1).setMaxWaitMs(100).setMinBytes(1)
                    .setMaxBytes(1 << 20).setSessionId(0).setSessionEpoch(-1);
            FetchRequestData.FetchTopic ft = new FetchRequestData.FetchTopic().setTopic("fuzz");
            ft.partitions().add(new FetchRequestData.FetchPartition().setPartition(random(v)).setFetchOffset(0)
                    .setCurrentLeaderEpoch(-1).setLogStartOffset(-1).setPartitionMaxBytes(1 << 20));
            fetch.topics().add(ft);
            addSeed(seeds, fetch, ApiKeys.FETCH.id, v);
        }
        for (short v = 1; v <= 12; v++) {
            MetadataRequestData md = new MetadataRequestData().setAllowAutoTopicCreation(false);
            md.topics().add(new MetadataRequestData.MetadataRequestTopic().setName("fuzz"));
            addSeed(seeds, md, ApiKeys.METADATA.id, v);
        }
        for (short v = 1; v <= 8; v++) {
            ListOffsetsRequestData lo = new ListOffsetsRequestData().setReplicaId(-1);
            ListOffsetsRequestData.ListOffsetsTopic t = new ListOffsetsRequestData.ListOffsetsTopic().setName("fuzz");
            t.partitions().add(new ListOffsetsRequestData.ListOffsetsPartition().setPartitionIndex(0).setTimestamp(-2L + v % 3));
            lo.topics().add(t);
            addSeed(seeds, lo, ApiKeys.LIST_OFFSETS.id, v);
        }
        for (short v = 0; v <= 5; v++) {
            addSeed(seeds, new FindCoordinatorRequestData().setKey("g").setCoordinatorKeys(List.of("g")), ApiKeys.FIND_COORDINATOR.id, v);
        }
        for (short v = 0; v <= 9; v++) {
            JoinGroupRequestData join = new JoinGroupRequestData().setGroupId("g").setSessionTimeoutMs(10_000)
                    .setRebalanceTimeoutMs(10_000).setMemberId("").setProtocolType("consumer");
            join.protocols().add(new JoinGroupRequestData.JoinGroupRequestProtocol().setName("range").setMetadata(new byte[] {0, 1}));
            addSeed(seeds, join, ApiKeys.JOIN_GROUP.id, v);
        }
        for (short v = 2; v <= 9; v++) {
            OffsetCommitRequestData oc = new OffsetCommitRequestData().setGroupId("g").setGenerationIdOrMemberEpoch(-1).setMemberId("");
            OffsetCommitRequestData.OffsetCommitRequestTopic t = new OffsetCommitRequestData.OffsetCommitRequestTopic().setName("fuzz");
            t.partitions().add(new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(0).setCommittedOffset(3));
            oc.topics().add(t);
            addSeed(seeds, oc, ApiKeys.OFFSET_COMMIT.id, v);
        }
        return seeds;
    }

    /**
     * kafka-clients 4.x record classes, in a class of their own that loads only when a produce seed is built: the
     * run that swaps in kafka-clients 3.9 must still be able to load this test class to filter it out by tag.
     */
    private static final class Produce4 {
        static ProduceRequestData request(int partition) {
            ProduceRequestData produce = new ProduceRequestData().setAcks((short) -1).setTimeoutMs(5000);
            ProduceRequestData.TopicProduceData td = new ProduceRequestData.TopicProduceData().setName("fuzz");
            td.partitionData().add(new ProduceRequestData.PartitionProduceData().setIndex(partition)
                    .setRecords(MemoryRecords.readableRecords(RawProduce.batchOf("a", "bb", "ccc"))));
            produce.topicData().add(td);
            return produce;
        }
    }

    private static int random(short v) {
        return v % 3 == 0 ? 1 : 0;
    }

    private static void addSeed(List<Seed> seeds, ApiMessage message, short apiKey, short version) {
        if (message == null) {
            return;
        }
        try {
            ApiKeys api = ApiKeys.forId(apiKey);
            ByteBuffer header = RawKafkaConnection.header(apiKey, version, seeds.size(), api.requestHeaderVersion(version));
            ByteBuffer body = RawKafkaConnection.serialize(message, version);
            byte[] all = new byte[header.remaining() + body.remaining()];
            header.get(all, 0, header.remaining());
            body.get(all, all.length - body.remaining(), body.remaining());
            seeds.add(new Seed(api.name + " v" + version, all));
        } catch (RuntimeException e) {
            // kafka-clients cannot write this message in this version (a field it requires there): no seed
        }
    }

    private static void stockClientsStillWork(BrokerProcess broker) throws Exception {
        Map<String, Object> p = new HashMap<>();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 20_000);
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic("after-fuzz", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            for (int i = 0; i < 3; i++) {
                assertEquals(i, producer.send(new ProducerRecord<>("after-fuzz", 0, "k", "v" + i)).get(30, TimeUnit.SECONDS).offset());
            }
        }
        Map<String, Object> c = new HashMap<>();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        TopicPartition tp = new TopicPartition("after-fuzz", 0);
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c)) {
            consumer.assign(Set.of(tp));
            consumer.seekToBeginning(Set.of(tp));
            List<ConsumerRecord<String, String>> got = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (got.size() < 3 && System.nanoTime() - deadline < 0) {
                consumer.poll(Duration.ofMillis(200)).forEach(got::add);
            }
            assertEquals(3, got.size(), "records read back after the fuzzing");
        }
    }

    /** Stack traces in the broker's output (the lines before each run of "at ..." frames). */
    static List<String> stackTraces(String output) {
        List<String> traces = new ArrayList<>();
        String[] lines = output.split("\n");
        for (int i = 1; i < lines.length; i++) {
            if (lines[i].startsWith("\tat ") && !lines[i - 1].startsWith("\tat ")) {
                StringBuilder sb = new StringBuilder(lines[i - 1]);
                for (int j = i; j < Math.min(lines.length, i + 8); j++) {
                    sb.append('\n').append(lines[j]);
                }
                traces.add(sb.toString());
            }
        }
        return traces;
    }
}
