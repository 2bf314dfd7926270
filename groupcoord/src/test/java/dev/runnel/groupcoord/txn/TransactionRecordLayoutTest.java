package dev.runnel.groupcoord.txn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.TreeSet;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.MessageUtil;
import org.apache.kafka.coordinator.transaction.generated.TransactionLogKey;
import org.apache.kafka.coordinator.transaction.generated.TransactionLogValue;
import org.junit.jupiter.api.Test;

/** Our {@code __transaction_state} records, byte for byte against Kafka's own generated classes. */
class TransactionRecordLayoutTest {
    @Test
    void keyIsKafkasVersion0Key() {
        byte[] kafka = MessageUtil.toVersionPrefixedBytes((short) 0, new TransactionLogKey().setTransactionalId("tx-1"));
        assertArrayEquals(kafka, TransactionRecords.key("tx-1"));
    }

    @Test
    void valueIsKafkasVersion0ValueAndReadsBack() {
        TreeSet<TxnPartition> parts = new TreeSet<>(List.of(new TxnPartition("orders", 2), new TxnPartition("orders", 0),
                new TxnPartition("audit", 1)));
        TransactionMetadata m = new TransactionMetadata("tx-1", 4242L, -1L, (short) 7, (short) -1, 60_000,
                TransactionState.PREPARE_COMMIT, parts, 1_000L, 2_000L);
        TransactionLogValue kafkaValue = new TransactionLogValue().setProducerId(4242L).setProducerEpoch((short) 7)
                .setTransactionTimeoutMs(60_000).setTransactionStatus((byte) 2)
                .setTransactionLastUpdateTimestampMs(2_000L).setTransactionStartTimestampMs(1_000L)
                .setTransactionPartitions(List.of(
                        new TransactionLogValue.PartitionsSchema().setTopic("audit").setPartitionIds(List.of(1)),
                        new TransactionLogValue.PartitionsSchema().setTopic("orders").setPartitionIds(List.of(0, 2))));
        byte[] kafka = MessageUtil.toVersionPrefixedBytes((short) 0, kafkaValue);
        byte[] ours = TransactionRecords.value(m);
        assertArrayEquals(kafka, ours);

        TransactionMetadata back = TransactionRecords.readValue("tx-1", ByteBuffer.wrap(ours));
        assertEquals(m, back);
        // and Kafka reads ours
        ByteBuffer b = ByteBuffer.wrap(ours);
        short version = b.getShort();
        TransactionLogValue read = new TransactionLogValue(new ByteBufferAccessor(b), version);
        assertEquals(kafkaValue, read);
    }
}
