package dev.runnel.groupcoord.txn;

import dev.runnel.groupcoord.generated.TransactionLogKey;
import dev.runnel.groupcoord.generated.TransactionLogValue;
import dev.runnel.wire.ByteBufWritable;
import dev.runnel.wire.Message;
import dev.runnel.wire.Readable;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The records of {@code __transaction_state} in Kafka's layout: key = int16 0 + {@code TransactionLogKey}, value =
 * int16 version + {@code TransactionLogValue}: version 0 for transactions V1, version 1 (flexible, with Kafka's tagged
 * PreviousProducerId, NextProducerId, NextProducerEpoch and ClientTransactionVersion) once a transactions V2 client runs
 * the id, as Kafka 4.x writes them; a null value = the transactional id expired.
 */
public final class TransactionRecords {
    static final short KEY_VERSION = 0;
    static final short VALUE_VERSION = 0;
    static final short VALUE_VERSION_TV2 = 1;

    private TransactionRecords() {
    }

    public static byte[] key(String transactionalId) {
        return versionPrefixed(KEY_VERSION, new TransactionLogKey().setTransactionalId(transactionalId));
    }

    public static byte[] value(TransactionMetadata m) {
        TransactionLogValue v = new TransactionLogValue()
                .setProducerId(m.producerId())
                .setProducerEpoch(m.producerEpoch())
                .setTransactionTimeoutMs(m.timeoutMs())
                .setTransactionStatus(m.state().id)
                .setTransactionLastUpdateTimestampMs(m.lastUpdateTimestampMs())
                .setTransactionStartTimestampMs(m.startTimestampMs());
        Map<String, TransactionLogValue.PartitionsSchema> byTopic = new LinkedHashMap<>();
        for (TxnPartition p : m.partitions()) {
            byTopic.computeIfAbsent(p.topic(), t -> new TransactionLogValue.PartitionsSchema().setTopic(t))
                    .partitionIds.add(p.partition());
        }
        v.setTransactionPartitions(new ArrayList<>(byTopic.values()));
        if (!m.isTransactionsV2()) {
            return versionPrefixed(VALUE_VERSION, v);
        }
        v.setPreviousProducerId(m.lastProducerId())
                .setNextProducerId(m.nextProducerId())
                .setNextProducerEpoch(m.nextProducerId() == TransactionMetadata.NO_PRODUCER_ID ? (short) -1 : (short) 0)
                .setClientTransactionVersion(m.clientTransactionVersion());
        return versionPrefixed(VALUE_VERSION_TV2, v);
    }

    private static byte[] versionPrefixed(short version, Message message) {
        ByteBuf buf = Unpooled.buffer(64);
        ByteBufWritable out = new ByteBufWritable(buf);
        out.writeInt16(version);
        message.write(out, version);
        byte[] bytes = new byte[buf.readableBytes()];
        buf.readBytes(bytes);
        return bytes;
    }

    /** The transactional id of a record key. */
    public static String readKey(ByteBuffer key) {
        Readable in = new Readable(Unpooled.wrappedBuffer(key.duplicate()));
        short version = in.readInt16();
        if (version != 0) {
            throw new IllegalArgumentException("Unknown __transaction_state key version " + version);
        }
        return new TransactionLogKey(in, version).transactionalId;
    }

    /** The metadata a record value describes (the in-memory-only fields start empty), or null for a tombstone. */
    public static TransactionMetadata readValue(String transactionalId, ByteBuffer value) {
        if (value == null) {
            return null;
        }
        Readable in = new Readable(Unpooled.wrappedBuffer(value.duplicate()));
        short version = in.readInt16();
        if (version < 0 || version > TransactionLogValue.HIGHEST_SUPPORTED_VERSION) {
            throw new IllegalArgumentException("Unknown __transaction_state value version " + version);
        }
        TransactionLogValue v = new TransactionLogValue(in, version);
        TreeSet<TxnPartition> partitions = new TreeSet<>();
        if (v.transactionPartitions != null) {
            for (TransactionLogValue.PartitionsSchema t : v.transactionPartitions) {
                for (int p : t.partitionIds) {
                    partitions.add(new TxnPartition(t.topic, p));
                }
            }
        }
        return new TransactionMetadata(transactionalId, v.producerId, v.previousProducerId, v.producerEpoch,
                TransactionMetadata.NO_EPOCH, v.transactionTimeoutMs, TransactionState.forId(v.transactionStatus), partitions,
                v.transactionStartTimestampMs, v.transactionLastUpdateTimestampMs, v.clientTransactionVersion,
                v.nextProducerId);
    }

    static List<TxnPartition> sorted(java.util.Collection<TxnPartition> ps) {
        return new ArrayList<>(new TreeSet<>(ps));
    }
}
