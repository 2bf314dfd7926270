package dev.runnel.compat.transactions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.broker.state.Partition;
import dev.runnel.log.AppendOrigin;
import dev.runnel.log.AppendResult;
import dev.runnel.log.EndTxnMarker;
import dev.runnel.testkit.EmbeddedRunnel;
import dev.runnel.wire.records.BatchBuilder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;

/**
 * A broker restarted while a transaction is open keeps the last stable offset where it was (the open transaction's
 * first offset travels in the producer-state snapshot of the clean shutdown), and the ABORT written after the
 * restart hides the transaction from read_committed consumers.
 *
 * <p><b>Stand-in:</b> the transactional batch and the marker are appended in-process, as in {@link ReadCommittedTest}
 * (with a real producer the coordinator would abort the transaction itself when it times out).
 */
class TransactionRestartTest {
    private static final String TOPIC = "txn-restart";
    private static final TopicPartition TP = new TopicPartition(TOPIC, 0);

    private static Partition partition(EmbeddedRunnel runnel) {
        return runnel.server().broker().topics().partition(TOPIC, 0);
    }

    private static KafkaConsumer<String, String> readCommitted(EmbeddedRunnel runnel) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, runnel.bootstrapServers());
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        KafkaConsumer<String, String> c = new KafkaConsumer<>(p);
        c.assign(List.of(TP));
        c.seekToBeginning(List.of(TP));
        return c;
    }

    private static long append(EmbeddedRunnel runnel, java.nio.ByteBuffer batch, AppendOrigin origin) {
        AppendResult r = partition(runnel).appendAsLeader(batch, origin);
        assertTrue(r.isOk(), r.toString());
        return r.firstOffset();
    }

    @Test
    void theLastStableOffsetStaysPinnedAcrossARestartMidTransaction() throws Exception {
        try (EmbeddedRunnel runnel = EmbeddedRunnel.builder().topic(TOPIC, 1).start()) {
            append(runnel, new BatchBuilder().append(System.currentTimeMillis(), "k", "before").build(), AppendOrigin.CLIENT);
            // STAND-IN: a transactional producer's batch (producer 77, epoch 0)
            long open = append(runnel, new BatchBuilder().producer(77, (short) 0, 0).transactional(true)
                    .append(System.currentTimeMillis(), "k", "in-doubt").build(), AppendOrigin.CLIENT);
            append(runnel, new BatchBuilder().append(System.currentTimeMillis(), "k", "after").build(), AppendOrigin.CLIENT);
            try (KafkaConsumer<String, String> c = readCommitted(runnel)) {
                assertEquals(open, c.endOffsets(List.of(TP)).get(TP));
            }

            runnel.restart();

            assertEquals(open, partition(runnel).lastStableOffset());
            try (KafkaConsumer<String, String> c = readCommitted(runnel)) {
                assertEquals(open, c.endOffsets(List.of(TP)).get(TP), "still pinned after the restart");
                // STAND-IN: the coordinator aborts the transaction after the restart
                long abort = append(runnel, EndTxnMarker.batch(77, (short) 0, 0, false, System.currentTimeMillis()),
                        AppendOrigin.COORDINATOR);
                assertEquals(abort + 1, c.endOffsets(List.of(TP)).get(TP));
                List<String> values = new ArrayList<>();
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (c.position(TP) < abort + 1) {
                    assertTrue(System.nanoTime() < deadline, "read so far: " + values);
                    for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                        values.add(r.value());
                    }
                }
                assertEquals(List.of("before", "after"), values);
            }
        }
    }
}
