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

    @Test
    void transactionsV2ValueIsKafkasVersion1ValueWithItsTaggedFields() throws Exception {
        TreeSet<TxnPartition> parts = new TreeSet<>(List.of(new TxnPartition("orders", 1)));
        // a V2 commit that used up the epochs: markers at epoch 32767, the id moves to producer id 5000 afterwards
        TransactionMetadata m = new TransactionMetadata("tx-2", 4242L, 4100L, Short.MAX_VALUE, (short) -1, 30_000,
                TransactionState.PREPARE_COMMIT, parts, 1_000L, 2_000L, TransactionMetadata.TV_2, 5000L);
        byte[] ours = TransactionRecords.value(m);
        assertEquals(m, TransactionRecords.readValue("tx-2", ByteBuffer.wrap(ours)));

        // Kafka 4.4's own TransactionLogValue (loaded apart from the 3.9 classes on this class path) writes the same bytes
        java.io.File dir = new java.io.File("target/kafka-4.4");
        java.io.File[] jars = dir.listFiles((d, n) -> n.endsWith(".jar"));
        org.junit.jupiter.api.Assumptions.assumeTrue(jars != null && jars.length == 2,
                "Kafka 4.4 jars not copied to " + dir.getAbsolutePath() + " (run through Maven)");
        java.net.URL[] urls = new java.net.URL[jars.length];
        for (int i = 0; i < jars.length; i++) {
            urls[i] = jars[i].toURI().toURL();
        }
        try (java.net.URLClassLoader kafka44 = new java.net.URLClassLoader(urls, ClassLoader.getPlatformClassLoader())) {
            Class<?> valueClass = kafka44.loadClass("org.apache.kafka.coordinator.transaction.generated.TransactionLogValue");
            Class<?> partsClass = kafka44.loadClass(
                    "org.apache.kafka.coordinator.transaction.generated.TransactionLogValue$PartitionsSchema");
            Object p = partsClass.getConstructor().newInstance();
            partsClass.getMethod("setTopic", String.class).invoke(p, "orders");
            partsClass.getMethod("setPartitionIds", List.class).invoke(p, List.of(1));
            Object v = valueClass.getConstructor().newInstance();
            valueClass.getMethod("setProducerId", long.class).invoke(v, 4242L);
            valueClass.getMethod("setProducerEpoch", short.class).invoke(v, Short.MAX_VALUE);
            valueClass.getMethod("setPreviousProducerId", long.class).invoke(v, 4100L);
            valueClass.getMethod("setNextProducerId", long.class).invoke(v, 5000L);
            valueClass.getMethod("setNextProducerEpoch", short.class).invoke(v, (short) 0);
            valueClass.getMethod("setClientTransactionVersion", short.class).invoke(v, (short) 2);
            valueClass.getMethod("setTransactionTimeoutMs", int.class).invoke(v, 30_000);
            valueClass.getMethod("setTransactionStatus", byte.class).invoke(v, (byte) 2);
            valueClass.getMethod("setTransactionLastUpdateTimestampMs", long.class).invoke(v, 2_000L);
            valueClass.getMethod("setTransactionStartTimestampMs", long.class).invoke(v, 1_000L);
            valueClass.getMethod("setTransactionPartitions", List.class).invoke(v, List.of(p));
            // (MessageUtil would pull in Jackson: write through the Message methods themselves)
            Class<?> cacheClass = kafka44.loadClass("org.apache.kafka.common.protocol.ObjectSerializationCache");
            Class<?> accessorClass = kafka44.loadClass("org.apache.kafka.common.protocol.ByteBufferAccessor");
            Class<?> writable = kafka44.loadClass("org.apache.kafka.common.protocol.Writable");
            Object cache = cacheClass.getConstructor().newInstance();
            int size = (int) valueClass.getMethod("size", cacheClass, short.class).invoke(v, cache, (short) 1);
            ByteBuffer buf = ByteBuffer.allocate(2 + size);
            buf.putShort((short) 1);
            valueClass.getMethod("write", writable, cacheClass, short.class)
                    .invoke(v, accessorClass.getConstructor(ByteBuffer.class).newInstance(buf), cache, (short) 1);
            byte[] kafka = buf.array();
            assertArrayEquals(kafka, ours);
        }
    }
}
