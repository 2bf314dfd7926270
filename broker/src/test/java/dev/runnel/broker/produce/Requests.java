package dev.runnel.broker.produce;

import dev.runnel.wire.ByteBufRecords;
import dev.runnel.wire.Records;
import dev.runnel.wire.message.FetchRequestData;
import dev.runnel.wire.message.ProduceRequestData;
import dev.runnel.wire.records.BatchBuilder;
import dev.runnel.wire.records.BatchCursor;
import dev.runnel.wire.records.RecordBatch;
import dev.runnel.wire.records.RecordCursor;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Builders for the requests the tests send, and readers for what comes back. */
public final class Requests {
    private Requests() {
    }

    /** A batch of {@code n} records "v0".."v(n-1)" with timestamps {@code ts0}, ts0+1, ... */
    public static ByteBuffer batch(int n, long ts0) {
        BatchBuilder b = new BatchBuilder();
        for (int i = 0; i < n; i++) {
            b.append(ts0 + i, null, ("v" + i).getBytes(StandardCharsets.UTF_8));
        }
        return b.build();
    }

    public static Records records(ByteBuffer batch) {
        return new ByteBufRecords(Unpooled.wrappedBuffer(batch.duplicate()));
    }

    public static ProduceRequestData produce(String topic, int partition, short acks, ByteBuffer batch) {
        ProduceRequestData req = new ProduceRequestData().setAcks(acks).setTimeoutMs(30_000);
        req.topicData.add(new ProduceRequestData.TopicProduceData().setName(topic));
        req.topicData.get(0).partitionData.add(new ProduceRequestData.PartitionProduceData()
                .setIndex(partition).setRecords(batch == null ? null : records(batch)));
        return req;
    }

    public static FetchRequestData fetch(int maxWaitMs, int minBytes, int maxBytes) {
        return new FetchRequestData().setReplicaId(-1).setMaxWaitMs(maxWaitMs).setMinBytes(minBytes).setMaxBytes(maxBytes)
                .setIsolationLevel((byte) 0).setSessionId(0).setSessionEpoch(-1);
    }

    public static FetchRequestData addPartition(FetchRequestData req, String topic, int partition, long offset, int maxBytes) {
        FetchRequestData.FetchTopic ft = null;
        for (FetchRequestData.FetchTopic t : req.topics) {
            if (t.topic.equals(topic)) {
                ft = t;
            }
        }
        if (ft == null) {
            ft = new FetchRequestData.FetchTopic().setTopic(topic);
            req.topics.add(ft);
        }
        ft.partitions.add(new FetchRequestData.FetchPartition().setPartition(partition).setFetchOffset(offset)
                .setPartitionMaxBytes(maxBytes).setCurrentLeaderEpoch(-1).setLastFetchedEpoch(-1).setLogStartOffset(-1));
        return req;
    }

    /** The base offsets of the batches in {@code records}. */
    public static List<Long> baseOffsets(Records records) {
        ByteBuffer buf = bytes(records);
        List<Long> out = new ArrayList<>();
        BatchCursor c = new BatchCursor(buf);
        while (c.next()) {
            out.add(c.batch().baseOffset());
        }
        return out;
    }

    /** The values of all records, in order, as strings. */
    public static List<String> values(Records records) throws Exception {
        ByteBuffer buf = bytes(records);
        List<String> out = new ArrayList<>();
        BatchCursor c = new BatchCursor(buf);
        while (c.next()) {
            RecordBatch b = c.batch();
            try (RecordCursor rc = RecordCursor.open(RecordBatch.at(buf, b.position()))) {
                while (rc.next()) {
                    out.add(new String(rc.value(), StandardCharsets.UTF_8));
                }
            }
        }
        return out;
    }

    public static ByteBuffer bytes(Records records) {
        if (records == null) {
            return ByteBuffer.allocate(0);
        }
        ByteBuf b = ((ByteBufRecords) records).buffer();
        byte[] a = new byte[b.readableBytes()];
        b.getBytes(b.readerIndex(), a);
        return ByteBuffer.wrap(a);
    }
}
