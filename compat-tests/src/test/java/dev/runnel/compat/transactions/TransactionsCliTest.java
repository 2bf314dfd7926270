package dev.runnel.compat.transactions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.ChildProcess;
import dev.runnel.compat.support.Clients;
import dev.runnel.compat.support.Await;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Kafka's {@code kafka-transactions} tool (kafka-tools 4.3.0, TransactionsCommand) against Runnel: {@code list} shows
 * each transactional id with its coordinator, producer id and state; {@code describe} the open transaction's
 * partitions. Output format from the tool's source: tab-separated columns under a header line.
 */
class TransactionsCliTest {
    private static final String TRANSACTIONS_COMMAND = "org.apache.kafka.tools.TransactionsCommand";

    @RegisterExtension
    static final Broker broker = Broker.create();

    private static ChildProcess.Result tool(String... args) throws Exception {
        String[] all = new String[args.length + 2];
        all[0] = "--bootstrap-server";
        all[1] = broker.bootstrapServers();
        System.arraycopy(args, 0, all, 2, args.length);
        return ChildProcess.kafkaTool(TRANSACTIONS_COMMAND, null, all).assertExitCode(0);
    }

    /** The data rows of a table the tool printed, split on whitespace, keyed by their first column. */
    private static Map<String, List<String>> rows(ChildProcess.Result r) {
        Map<String, List<String>> out = new HashMap<>();
        List<String> lines = r.stdoutLines();
        for (String line : lines.subList(1, lines.size())) {
            if (!line.isBlank()) {
                List<String> cols = List.of(line.trim().split("\\s+"));
                out.put(cols.get(0), cols);
            }
        }
        return out;
    }

    @Test
    void listAndDescribeAnOpenAndACommittedTransaction() throws Exception {
        String topic = Clients.uniqueTopic("cli-txn");
        Clients.createTopic(broker, topic, 2);
        try (KafkaProducer<String, String> done = Clients.producer(broker, Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "cli-done"));
             KafkaProducer<String, String> open = Clients.producer(broker, Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "cli-open"))) {
            done.initTransactions();
            done.beginTransaction();
            done.send(new ProducerRecord<>(topic, 0, "k", "v")).get();
            done.commitTransaction();
            open.initTransactions();
            open.beginTransaction();
            open.send(new ProducerRecord<>(topic, 1, "k", "v")).get();

            ChildProcess.Result list = tool("list");
            assertTrue(list.stdoutLines().get(0).startsWith("TransactionalId"), list.stdout());
            Map<String, List<String>> listed = rows(list);
            assertEquals("Ongoing", listed.get("cli-open").get(3), list.stdout());
            assertEquals("CompleteCommit", listed.get("cli-done").get(3), list.stdout());
            assertEquals(String.valueOf(Broker.NODE_ID), listed.get("cli-open").get(1), "coordinator column: " + list.stdout());

            ChildProcess.Result describe = tool("describe", "--transactional-id", "cli-open");
            String row = describe.stdoutLines().get(1);
            assertTrue(row.contains("Ongoing"), describe.stdout());
            assertTrue(row.contains(topic + "-1"), "the open transaction's partition: " + describe.stdout());
            open.commitTransaction();
        }
    }

    @Test
    void abortAHangingTransactionByItsPartitionAndStartOffset() throws Exception {
        String topic = Clients.uniqueTopic("cli-hanging");
        Clients.createTopic(broker, topic, 1);
        TopicPartition tp = new TopicPartition(topic, 0);
        KafkaProducer<String, String> hanging = Clients.producer(broker, Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "cli-hanging"));
        hanging.initTransactions();
        hanging.beginTransaction();
        hanging.send(new ProducerRecord<>(topic, 0, "k", "never-ended")).get();
        hanging.close(Duration.ZERO); // gone without EndTxn: the transaction stays open (until its 60 s timeout)
        try (KafkaConsumer<String, String> c = Clients.consumer(broker, Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"))) {
            assertEquals(0L, c.endOffsets(List.of(tp)).get(tp), "the open transaction pins the last stable offset");
        }

        ChildProcess.Result r = tool("abort", "--topic", topic, "--partition", "0", "--start-offset", "0");
        System.out.println("[compat] kafka-transactions abort: " + r.stdout().trim());
        try (KafkaConsumer<String, String> c = Clients.consumer(broker, Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"))) {
            Await.untilPasses(Clients.TIMEOUT, () -> assertEquals(2L, c.endOffsets(List.of(tp)).get(tp),
                    "the ABORT marker written through WriteTxnMarkers ends the transaction"));
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            assertTrue(c.poll(Duration.ofMillis(500)).isEmpty(), "the aborted record is hidden");
        }
    }
}
