package dev.runnel.compat.durability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.runnel.compat.support.Await;
import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.ChildProcess;
import dev.runnel.compat.support.Clients;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Kafka's own kafka-dump-log reads what Runnel writes — both Kafka 4.3's ({@code org.apache.kafka.tools.DumpLogSegments}
 * in kafka-tools) and Kafka 3.9's ({@code kafka.tools.DumpLogSegments} in kafka_2.13, on a classpath of its own from
 * the {@code kafka-3.9-tools} module): the {@code .log}, {@code .index} and {@code .timeindex} files of topics written with every codec (with
 * {@code --deep-iteration}, {@code --verify-index-only} and {@code --index-sanity-check}), of a compacted topic
 * after the cleaner rewrote it (gaps, empty batches, delete horizons), and our {@code __consumer_offsets} records,
 * compacted, with {@code --offsets-decoder}.
 */
class DumpLogTest {
    private static final String TOOL = "org.apache.kafka.tools.DumpLogSegments";
    private static final String[] CODECS = {"none", "gzip", "snappy", "lz4", "zstd"};

    @RegisterExtension
    static final Broker broker = Broker.create()
            .with("log.cleaner.backoff.ms", "100")
            .with("log.retention.check.interval.ms", "100");

    static String plainTopic;
    static String compactedTopic;
    static String group;

    @BeforeAll
    static void write() throws Exception {
        plainTopic = Clients.uniqueTopic("dumped");
        compactedTopic = Clients.uniqueTopic("dumped-compacted");
        group = "dump-" + plainTopic;
        for (String codec : CODECS) {
            String topic = plainTopic + "-" + codec;
            RetentionClients.createTopic(broker, topic, Map.of("segment.bytes", "4096", "index.interval.bytes", "200"));
            try (KafkaProducer<String, String> p = Clients.producer(broker,
                    Map.of(ProducerConfig.COMPRESSION_TYPE_CONFIG, codec, ProducerConfig.LINGER_MS_CONFIG, 2))) {
                long t = System.currentTimeMillis();
                for (int i = 0; i < 300; i++) {
                    // timestamps that sometimes go back, so the time index has something to say
                    long ts = t + (i % 7 == 0 ? -i : i) * 10L;
                    p.send(new ProducerRecord<>(topic, 0, ts, "key" + (i % 40), "value-" + i + "-" + "z".repeat(i % 50)));
                    if (i % 25 == 0) {
                        p.flush();
                    }
                }
            }
        }
        RetentionClients.createTopic(broker, compactedTopic, Map.of("cleanup.policy", "compact", "segment.bytes", "1024",
                "min.cleanable.dirty.ratio", "0.01", "delete.retention.ms", "3600000"));
        try (KafkaProducer<String, String> p = Clients.producer(broker, Map.of(ProducerConfig.COMPRESSION_TYPE_CONFIG, "gzip"))) {
            for (int i = 0; i < 200; i++) {
                p.send(new ProducerRecord<>(compactedTopic, 0, "key" + (i % 10), i % 13 == 0 ? null : "value" + i));
                if (i % 10 == 0) {
                    p.flush();
                }
            }
            for (int i = 0; i < 10; i++) {
                p.send(new ProducerRecord<>(compactedTopic, 0, "filler" + i, "f".repeat(200))).get(10, TimeUnit.SECONDS);
            }
        }
        // commits into __consumer_offsets, rolled over small segments and compacted
        TopicPartition tp = new TopicPartition(plainTopic + "-none", 0);
        try (KafkaConsumer<String, String> c = Clients.consumer(broker, Map.of(ConsumerConfig.GROUP_ID_CONFIG, group))) {
            c.commitSync(Map.of(tp, new OffsetAndMetadata(0, "first")));
            try (Admin admin = Clients.admin(broker)) {
                admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.TOPIC, "__consumer_offsets"),
                        List.of(new AlterConfigOp(new ConfigEntry("segment.bytes", "1024"), AlterConfigOp.OpType.SET),
                                new AlterConfigOp(new ConfigEntry("min.cleanable.dirty.ratio", "0.01"),
                                        AlterConfigOp.OpType.SET)))).all().get(Clients.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            }
            for (int i = 1; i <= 60; i++) {
                c.commitSync(Map.of(tp, new OffsetAndMetadata(i, "commit-" + i)));
            }
        }
    }

    private static List<String> files(String topicPartitionDir, String... suffixes) throws Exception {
        Path dir = broker.logDir().resolve(topicPartitionDir);
        List<String> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.sorted().toList()) {
                for (String suffix : suffixes) {
                    if (p.getFileName().toString().endsWith(suffix)) {
                        out.add(p.toString());
                    }
                }
            }
        }
        return out;
    }

    /**
     * The segment files of the test topics. The active segment's indexes are left out: like Kafka's, they are
     * preallocated, and the tool reads the zeroed tail of a live index as entries (it does so on Kafka too).
     */
    private static List<String> segmentFiles() throws Exception {
        List<String> dirs = new ArrayList<>();
        for (String codec : CODECS) {
            dirs.add(plainTopic + "-" + codec + "-0");
        }
        dirs.add(compactedTopic + "-0");
        List<String> all = new ArrayList<>();
        for (String dir : dirs) {
            List<String> logs = files(dir, ".log");
            String active = logs.get(logs.size() - 1).replace(".log", "");
            all.addAll(logs);
            for (String index : files(dir, ".index", ".timeindex")) {
                if (!index.startsWith(active + ".")) {
                    all.add(index);
                }
            }
        }
        return all;
    }

    /** The two kafka-dump-log generations. */
    enum Tool {
        KAFKA_4_3, KAFKA_3_9
    }

    private static ChildProcess.Result run(Tool tool, String... args) throws Exception {
        if (tool == Tool.KAFKA_4_3) {
            return ChildProcess.kafkaTool(TOOL, null, args);
        }
        String file = System.getProperty("runnel.kafka39ToolsClasspathFile");
        assumeTrue(file != null && Files.isRegularFile(Path.of(file)), "Kafka 3.9's kafka-dump-log needs the classpath "
                + "file of the compat-tests/kafka-3.9-tools module (built by the reactor before compat-tests); got " + file);
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx256m", "-cp",
                Files.readString(Path.of(file)).trim(), "kafka.tools.DumpLogSegments"));
        command.addAll(List.of(args));
        return ChildProcess.run(command, null, ChildProcess.DEFAULT_TIMEOUT);
    }

    private static ChildProcess.Result dump(Tool tool, String... args) throws Exception {
        ChildProcess.Result r = run(tool, args).assertExitCode(0);
        for (String bad : new String[] {"Mismatches in", "out of order", "failed sanity check", "isValid: false",
                "Exception", "not found", "Found timestamp mismatch"}) {
            assertFalse(r.stdout().contains(bad) || r.stderr().contains(bad), "'" + bad + "' in " + r.describe());
        }
        return r;
    }

    private static void awaitCompacted() throws Exception {
        // the cleaner has rewritten the compacted topic: its first segment now holds far fewer records than written
        Await.untilPasses(Clients.TIMEOUT, () -> {
            List<?> records = RetentionClients.readAll(broker, new TopicPartition(compactedTopic, 0));
            assertTrue(records.size() < 40, records.size() + " records left");
        });
    }

    @ParameterizedTest
    @EnumSource(Tool.class)
    void deepIterationReadsEveryBatchAndIndexEntry(Tool tool) throws Exception {
        awaitCompacted();
        List<String> files = segmentFiles();
        assertTrue(files.size() > 20, "segment files: " + files);
        ChildProcess.Result r = dump(tool, "--deep-iteration", "--files", String.join(",", files));
        long logs = files.stream().filter(f -> f.endsWith(".log")).count();
        assertEquals(logs, r.stdoutLines().stream().filter(l -> l.startsWith("Log starting offset:")).count(), r.describe());
        String out = r.stdout().toLowerCase(java.util.Locale.ROOT);
        for (String codec : new String[] {"gzip", "snappy", "lz4", "zstd"}) {
            assertTrue(out.contains("compresscodec: " + codec), codec + " batches: " + r.describe());
        }
        assertTrue(out.contains("isvalid: true"));
        // the cleaner's delete horizon on batches with tombstones, as Kafka writes it
        assertTrue(r.stdout().contains("deleteHorizonMs: OptionalLong["), "a delete horizon: " + r.describe());
    }

    @ParameterizedTest
    @EnumSource(Tool.class)
    void indexesVerifyAndPassTheSanityCheck(Tool tool) throws Exception {
        awaitCompacted();
        List<String> indexes = new ArrayList<>();
        for (String f : segmentFiles()) {
            if (f.endsWith(".index") || f.endsWith(".timeindex")) {
                indexes.add(f);
            }
        }
        String list = String.join(",", indexes);
        dump(tool, "--verify-index-only", "--files", list);
        ChildProcess.Result sanity = dump(tool, "--index-sanity-check", "--files", list);
        // each index passes (the tool says "is empty." for an index without entries instead)
        assertEquals(indexes.size(), sanity.stdoutLines().stream()
                .filter(l -> l.endsWith(" passed sanity check.") || l.endsWith(" is empty.")).count(), sanity.describe());
    }

    @ParameterizedTest
    @EnumSource(Tool.class)
    void offsetsDecoderReadsOurCompactedConsumerOffsets(Tool tool) throws Exception {
        String partitionDir = "__consumer_offsets-" + Math.abs(group.hashCode()) % 50;
        Await.untilPasses(Clients.TIMEOUT, () -> {
            List<?> records = RetentionClients.readAll(broker, new TopicPartition("__consumer_offsets",
                    Math.abs(group.hashCode()) % 50));
            assertTrue(records.size() < 30, records.size() + " commit records left");
        });
        List<String> logs = files(partitionDir, ".log");
        ChildProcess.Result r = dump(tool, "--offsets-decoder", "--files", String.join(",", logs));
        // Kafka 4 prints JSON ("group":"g" ... "metadata":"commit-60"), Kafka 3.9 offset_commit::group=g ... metadata=commit-60
        String out = r.stdout();
        assertTrue(out.contains(group) && out.contains(plainTopic + "-none"), r.describe());
        assertTrue(out.contains("commit-60"), "the latest commit: " + r.describe());
        assertFalse(java.util.regex.Pattern.compile("commit-1(?!\\d)").matcher(out).find(), "compacted away: " + r.describe());
    }
}
