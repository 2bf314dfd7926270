package dev.runnel.compat.support;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;

/**
 * Hand-sent Produce requests whose batches are built by kafka-clients ({@code MemoryRecords}) and
 * whose bodies are serialized by its generated {@code ProduceRequestData}.
 *
 * <p>Everything touching kafka-clients 4.x's {@code record.internal} package sits in the nested
 * {@link Records4} class: this class and the tests using it must stay loadable (for JUnit's tag
 * filtering) in the run that swaps in kafka-clients 3.9, where that package does not exist.
 */
public final class RawProduce {

    private RawProduce() {
    }

    /** One uncompressed RecordBatch v2 holding the given values (keys k0, k1, ...). */
    public static ByteBuffer batchOf(String... values) {
        return Records4.batchOf(values);
    }

    /** One uncompressed transactional RecordBatch v2 of a producer (keys k0, k1, ...). */
    public static ByteBuffer transactionalBatchOf(long producerId, short epoch, int baseSequence, String... values) {
        return Records4.transactionalBatchOf(producerId, epoch, baseSequence, values);
    }

    /** As {@link #produce}, for a transactional id. */
    public static ProduceResponseData produceTransactional(RawKafkaConnection connection, short version, String transactionalId,
                                                           String topic, Map<Integer, ByteBuffer> batches) throws IOException {
        ProduceRequestData request = Records4.request(topic, batches).setTransactionalId(transactionalId);
        int correlationId = connection.send(request, version);
        ByteBuffer body = connection.receive(correlationId, ApiKeys.PRODUCE, version);
        return new ProduceResponseData(new ByteBufferAccessor(body), version);
    }

    /** Sends one Produce (acks=-1) with a batch per partition and returns the parsed response. */
    public static ProduceResponseData produce(RawKafkaConnection connection, short version, String topic,
                                              Map<Integer, ByteBuffer> batches) throws IOException {
        ProduceRequestData request = Records4.request(topic, batches);
        int correlationId = connection.send(request, version);
        ByteBuffer body = connection.receive(correlationId, ApiKeys.PRODUCE, version);
        return new ProduceResponseData(new ByteBufferAccessor(body), version);
    }

    /** The error code of one partition in a Produce response; fails if it is missing. */
    public static short errorOf(ProduceResponseData response, String topic, int partition) {
        for (ProduceResponseData.TopicProduceResponse t : response.responses()) {
            if (!t.name().equals(topic)) {
                continue;
            }
            for (ProduceResponseData.PartitionProduceResponse p : t.partitionResponses()) {
                if (p.index() == partition) {
                    return p.errorCode();
                }
            }
        }
        throw new AssertionError("no response for " + topic + "-" + partition + " in " + response);
    }

    /** Loaded only when a Produce is actually built (kafka-clients 4.x record classes). */
    private static final class Records4 {

        static ByteBuffer batchOf(String... values) {
            SimpleRecord[] records = new SimpleRecord[values.length];
            for (int i = 0; i < values.length; i++) {
                records[i] = new SimpleRecord(System.currentTimeMillis(), ("k" + i).getBytes(StandardCharsets.UTF_8),
                        values[i].getBytes(StandardCharsets.UTF_8));
            }
            ByteBuffer buffer = MemoryRecords.withRecords(Compression.NONE, records).buffer();
            ByteBuffer copy = ByteBuffer.allocate(buffer.remaining());
            copy.put(buffer.duplicate()).flip();
            return copy;
        }

        static ByteBuffer transactionalBatchOf(long producerId, short epoch, int baseSequence, String... values) {
            SimpleRecord[] records = new SimpleRecord[values.length];
            for (int i = 0; i < values.length; i++) {
                records[i] = new SimpleRecord(System.currentTimeMillis(), ("k" + i).getBytes(StandardCharsets.UTF_8),
                        values[i].getBytes(StandardCharsets.UTF_8));
            }
            ByteBuffer buffer = MemoryRecords.withTransactionalRecords(Compression.NONE, producerId, epoch, baseSequence,
                    records).buffer();
            ByteBuffer copy = ByteBuffer.allocate(buffer.remaining());
            copy.put(buffer.duplicate()).flip();
            return copy;
        }

        static ProduceRequestData request(String topic, Map<Integer, ByteBuffer> batches) {
            ProduceRequestData request = new ProduceRequestData().setAcks((short) -1).setTimeoutMs(10_000);
            ProduceRequestData.TopicProduceData topicData = new ProduceRequestData.TopicProduceData().setName(topic);
            batches.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> topicData.partitionData().add(
                    new ProduceRequestData.PartitionProduceData()
                            .setIndex(e.getKey())
                            .setRecords(MemoryRecords.readableRecords(e.getValue().duplicate()))));
            request.topicData().add(topicData);
            return request;
        }
    }
}
