package dev.runnel.compat.transactions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.runnel.compat.support.Await;
import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.ChildProcess;
import dev.runnel.compat.support.Clients;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * kafkajs 2.2.4's transactional producer (from the npm registry, installed on first use into target/): a committed
 * transaction, an aborted one, and one that sends a consumer group's offsets ({@code sendOffsets}) before committing.
 */
class KafkajsTransactionsTest {
    private static final String VERSION = "2.2.4";

    @RegisterExtension
    static final Broker broker = Broker.create();

    private static final String SCRIPT = """
            const { Kafka, logLevel } = require('kafkajs');
            const [bootstrap, topic, out, group] = process.argv.slice(2);
            const kafka = new Kafka({ clientId: 'kafkajs-txn', brokers: [bootstrap], logLevel: logLevel.NOTHING });
            async function main() {
              const producer = kafka.producer({ transactionalId: 'kafkajs-tx-' + topic, maxInFlightRequests: 1, idempotent: true });
              await producer.connect();
              const t1 = await producer.transaction();
              await t1.send({ topic, messages: [0, 1, 2].map(i => ({ partition: 0, value: 'c-' + i })) });
              await t1.commit();
              console.log('STEP commit');
              const t2 = await producer.transaction();
              await t2.send({ topic, messages: [{ partition: 0, value: 'a-0' }] });
              await t2.abort();
              console.log('STEP abort');
              const t3 = await producer.transaction();
              await t3.send({ topic: out, messages: [{ partition: 0, value: 'C-0-2' }] });
              await t3.sendOffsets({ consumerGroupId: group, topics: [{ topic, partitions: [{ partition: 0, offset: '3' }] }] });
              await t3.commit();
              console.log('STEP send_offsets_commit');
              await producer.disconnect();
            }
            main().then(() => process.exit(0), e => { console.log('ERROR ' + e); process.exit(1); });
            """;

    private static Path installKafkajs() throws Exception {
        Path dir = Path.of(System.getProperty("basedir", "."), "target", "kafkajs-" + VERSION);
        if (Files.isDirectory(dir.resolve("node_modules").resolve("kafkajs"))) {
            return dir;
        }
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/npm")) && Files.isExecutable(Path.of("/usr/bin/node")),
                "node and npm are needed for the kafkajs tests");
        Files.createDirectories(dir);
        ChildProcess.Result r = ChildProcess.run(List.of("/usr/bin/npm", "install", "--prefix", dir.toString(), "--no-audit",
                "--no-fund", "--loglevel=error", "kafkajs@" + VERSION), null, Duration.ofMinutes(3));
        assumeTrue(r.exitCode() == 0, "npm could not install kafkajs@" + VERSION + ": " + r.describe());
        return dir;
    }

    @Test
    void commitAbortAndSendOffsets() throws Exception {
        Path dir = installKafkajs();
        String topic = Clients.uniqueTopic("kafkajs-txn");
        String out = Clients.uniqueTopic("kafkajs-txn-out");
        String group = "kafkajs-txn-" + topic;
        Clients.createTopic(broker, topic, 1);
        Clients.createTopic(broker, out, 1);
        Path script = dir.resolve("transactions.js");
        Files.writeString(script, SCRIPT, StandardCharsets.UTF_8);
        ChildProcess.Result r = ChildProcess.run(List.of("/usr/bin/node", script.toString(), broker.bootstrapServers(), topic, out,
                group), null, Duration.ofSeconds(90)).assertExitCode(0);
        assertEquals(List.of("STEP commit", "STEP abort", "STEP send_offsets_commit"),
                r.stdoutLines().stream().filter(l -> l.startsWith("STEP ")).toList(), r.describe());

        assertEquals(List.of("c-0", "c-1", "c-2"), JavaTransactionsTest.readAll(broker, topic, 0, "read_committed"));
        assertEquals(List.of("c-0", "c-1", "c-2", "a-0"), JavaTransactionsTest.readAll(broker, topic, 0, "read_uncommitted"));
        assertEquals(List.of("C-0-2"), JavaTransactionsTest.readAll(broker, out, 0, "read_committed"));
        try (Admin admin = Clients.admin(broker)) {
            TopicPartition tp = new TopicPartition(topic, 0);
            Await.untilPasses(Clients.TIMEOUT, () -> {
                var offsets = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
                assertEquals(3L, offsets.get(tp) == null ? -1L : offsets.get(tp).offset(), "the offsets sent in the transaction");
            });
        }
    }
}
