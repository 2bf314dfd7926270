package dev.runnel.compat.transactions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.ChildProcess;
import dev.runnel.compat.support.Clients;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Kafka's {@code kafka-dump-log --transaction-log-decoder} (kafka-tools 4.3.0) decodes the {@code __transaction_state}
 * segment Runnel wrote for a committed transaction: every record's key and value, in the order the coordinator wrote
 * them.
 */
class TransactionStateDumpTest {
    @RegisterExtension
    static final Broker broker = Broker.create();

    @Test
    void kafkaDumpLogDecodesTheTransactionLog() throws Exception {
        String topic = Clients.uniqueTopic("dump-txn");
        Clients.createTopic(broker, topic, 1);
        String id = "dump-tx-" + topic;
        try (KafkaProducer<String, String> p = Clients.producer(broker, Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG, id))) {
            p.initTransactions();
            p.beginTransaction();
            p.send(new ProducerRecord<>(topic, 0, "k", "v")).get();
            p.commitTransaction();
            p.beginTransaction(); // waits until the commit is complete, so CompleteCommit is in the log
            p.abortTransaction();
        }
        int h = id.hashCode();
        int partition = (h == Integer.MIN_VALUE ? 0 : Math.abs(h)) % 50;
        Path segment = broker.logDir().resolve("__transaction_state-" + partition).resolve("00000000000000000000.log");
        ChildProcess.Result r = ChildProcess.kafkaTool("org.apache.kafka.tools.DumpLogSegments", null,
                "--transaction-log-decoder", "--files", segment.toString()).assertExitCode(0);
        List<String> records = r.stdoutLines().stream().filter(l -> l.contains("key:") || l.contains("payload:")).toList();
        System.out.println("[compat] kafka-dump-log --transaction-log-decoder:\n" + String.join("\n", records));
        assertEquals(4, records.size(), "Empty, Ongoing, PrepareCommit, CompleteCommit: " + r.stdout());
        int[] statuses = {0, 1, 2, 4};
        String[] names = {"Empty", "Ongoing", "PrepareCommit", "CompleteCommit"};
        for (int i = 0; i < records.size(); i++) {
            assertTrue(records.get(i).contains(id), "the transactional id decodes: " + records.get(i));
            // Kafka 4.3's tool prints the status as its number, 4.4's as its name
            assertTrue(records.get(i).contains("\"transactionStatus\":" + statuses[i])
                    || records.get(i).contains("\"transactionStatus\":\"" + names[i] + "\""), "status of record " + i + ": " + records.get(i));
        }
        assertTrue(records.get(1).contains(topic), "Ongoing names the partition: " + records.get(1));
        assertTrue(!r.stdout().contains("Exception") && !r.stderr().contains("Exception"), r.stdout() + r.stderr());
    }
}
