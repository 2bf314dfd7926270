package dev.runnel.compat.transactions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.ChildProcess.Result;
import dev.runnel.compat.support.Clients;
import dev.runnel.compat.support.PythonScripts;
import dev.runnel.compat.support.StoredBatches;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * confluent-kafka-python 1.7.0 (librdkafka 2.0.2): init_transactions, commit, abort, and send_offsets_to_transaction
 * against Runnel's transaction coordinator.
 */
class ConfluentKafkaPythonTransactionsTest {
    @RegisterExtension
    static final Broker broker = Broker.create();

    @BeforeAll
    static void confluentKafkaIsInstalled() throws Exception {
        PythonScripts.assumeModule("confluent_kafka", "python3-confluent-kafka");
    }

    private static List<String> lines(Result r, String prefix) {
        return r.stdoutLines().stream().filter(l -> l.startsWith(prefix)).toList();
    }

    @Test
    void commitAbortAndSendOffsetsToTransaction() throws Exception {
        String in = Clients.uniqueTopic("py-txn-in");
        String out = Clients.uniqueTopic("py-txn-out");
        Clients.createTopic(broker, in, 1);
        Clients.createTopic(broker, out, 1);

        Result r = PythonScripts.run("confluent_kafka_transactions.py", broker.bootstrapServers(), in, out, "py-group-" + in,
                "py-tx-" + in).assertExitCode(0);

        assertEquals(List.of("STEP init", "STEP commit", "STEP abort", "STEP send_offsets_commit"),
                lines(r, "STEP "));
        // read_uncommitted: the aborted records are there, the COMMIT marker at offset 3 is skipped by librdkafka
        assertEquals(List.of("RECORD 0 c-0", "RECORD 1 c-1", "RECORD 2 c-2", "RECORD 4 a-0", "RECORD 5 a-1"),
                lines(r, "RECORD "));
        assertEquals(List.of("COMMITTED 3"), lines(r, "COMMITTED "), "offsets sent in the transaction");

        List<StoredBatches.Batch> batches = StoredBatches.fetchFromStart(broker, in, 0);
        assertEquals(List.of(3L, 6L), batches.stream().filter(b -> (b.attributes() & 0x20) != 0)
                .map(StoredBatches.Batch::baseOffset).toList(), "COMMIT then ABORT marker: " + batches);
        List<StoredBatches.Batch> outBatches = StoredBatches.fetchFromStart(broker, out, 0);
        assertEquals(2, outBatches.size(), "the transformed record and its COMMIT marker: " + outBatches);
        assertTrue((outBatches.get(1).attributes() & 0x20) != 0);
    }
}
