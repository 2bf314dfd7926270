package dev.runnel.compat.support;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
import java.util.zip.CRC32C;

/**
 * Reads a partition's record batches exactly as the broker serves them, with one hand-made Fetch
 * request, so a test can see what a client really wrote (e.g. which compression codec a batch
 * carries) — something no client API exposes.
 *
 * <p>Only the generated request/response classes are used, and the records bytes are walked here
 * by their documented RecordBatch v2 header layout: kafka-clients moved its record classes to
 * another package in 4.x, and this class must also run with kafka-clients 3.9.x.
 */
public final class StoredBatches {

    /** The header of one stored batch. */
    public record Batch(long baseOffset, int lastOffsetDelta, byte magic, int attributes, long producerId,
                        int recordCount, boolean crcValid) {

        /** The codec as Kafka names it in {@code compression.type}. */
        public String codec() {
            return switch (attributes & 0x07) {
                case 0 -> "none";
                case 1 -> "gzip";
                case 2 -> "snappy";
                case 3 -> "lz4";
                case 4 -> "zstd";
                default -> "unknown(" + (attributes & 0x07) + ")";
            };
        }
    }

    /** Walks the RecordBatch headers in a records buffer (magic 2 only; stops at a partial batch). */
    public static List<Batch> parse(ByteBuffer records) {
        ByteBuffer buf = records.duplicate();
        List<Batch> batches = new ArrayList<>();
        while (buf.remaining() >= 61) {
            int start = buf.position();
            long baseOffset = buf.getLong(start);
            int length = buf.getInt(start + 8);
            if (buf.remaining() < 12 + length) {
                break; // a partial batch at the end of a fetch is allowed
            }
            byte magic = buf.get(start + 16);
            long crc = Integer.toUnsignedLong(buf.getInt(start + 17));
            int attributes = buf.getShort(start + 21);
            int lastOffsetDelta = buf.getInt(start + 23);
            long producerId = buf.getLong(start + 43);
            int recordCount = buf.getInt(start + 57);
            CRC32C crc32c = new CRC32C();
            ByteBuffer covered = buf.duplicate();
            covered.position(start + 21).limit(start + 12 + length);
            crc32c.update(covered);
            batches.add(new Batch(baseOffset, lastOffsetDelta, magic, attributes, producerId, recordCount,
                    crc32c.getValue() == crc));
            buf.position(start + 12 + length);
        }
        return batches;
    }

    private StoredBatches() {
    }

    /** The highest version the broker advertises for {@code api} (ApiVersions v0, which every broker answers). */
    public static short maxVersion(RawKafkaConnection connection, ApiKeys api) throws IOException {
        short version = 0;
        int correlationId = connection.send(new ApiVersionsRequestData(), version);
        ByteBuffer body = connection.receive(correlationId, ApiKeys.API_VERSIONS, version);
        ApiVersionsResponseData response = new ApiVersionsResponseData(new ByteBufferAccessor(body), version);
        if (response.errorCode() != 0) {
            throw new IOException("ApiVersions v0 failed with " + Errors.forCode(response.errorCode()));
        }
        ApiVersionsResponseData.ApiVersion range = response.apiKeys().find(api.id);
        if (range == null) {
            throw new IOException("broker does not advertise " + api);
        }
        return range.maxVersion();
    }

    /** Every batch of the partition from offset 0 (small test partitions: one fetch of up to 8 MiB). */
    public static List<Batch> fetchFromStart(Broker broker, String topic, int partition) throws IOException {
        try (RawKafkaConnection connection = RawKafkaConnection.open(broker, Duration.ofSeconds(10))) {
            // v4..v12 address topics by name and carry RecordBatch v2; v12 is the first flexible one.
            short version = (short) Math.min(12, maxVersion(connection, ApiKeys.FETCH));
            if (version < 4) {
                throw new IOException("broker's highest Fetch version is " + version + ", need 4+");
            }
            FetchRequestData request = new FetchRequestData()
                    .setReplicaId(-1)
                    .setMaxWaitMs(0)
                    .setMinBytes(0)
                    .setMaxBytes(8 * 1024 * 1024)
                    .setIsolationLevel((byte) 0)
                    .setSessionId(0)
                    .setSessionEpoch(-1);
            FetchRequestData.FetchTopic fetchTopic = new FetchRequestData.FetchTopic().setTopic(topic);
            fetchTopic.partitions().add(new FetchRequestData.FetchPartition()
                    .setPartition(partition)
                    .setCurrentLeaderEpoch(-1)
                    .setFetchOffset(0)
                    .setLogStartOffset(-1)
                    .setPartitionMaxBytes(8 * 1024 * 1024));
            request.topics().add(fetchTopic);
            int correlationId = connection.send(request, version);
            ByteBuffer body = connection.receive(correlationId, ApiKeys.FETCH, version);
            FetchResponseData response = new FetchResponseData(new ByteBufferAccessor(body), version);
            if (response.errorCode() != 0) {
                throw new IOException("Fetch v" + version + " failed with " + Errors.forCode(response.errorCode()));
            }
            List<Batch> batches = new ArrayList<>();
            for (FetchResponseData.FetchableTopicResponse t : response.responses()) {
                for (FetchResponseData.PartitionData p : t.partitions()) {
                    if (p.partitionIndex() != partition) {
                        continue;
                    }
                    if (p.errorCode() != 0) {
                        throw new IOException("Fetch v" + version + " of " + topic + "-" + partition + " failed with "
                                + Errors.forCode(p.errorCode()));
                    }
                    batches.addAll(parse(recordsBuffer(p)));
                }
            }
            return batches;
        }
    }

    /**
     * The raw bytes of a partition's records. {@code PartitionData.records()} returns a type whose
     * package differs between kafka-clients 3.9 and 4.x, so it is reached reflectively.
     */
    private static ByteBuffer recordsBuffer(FetchResponseData.PartitionData partition) throws IOException {
        try {
            Object records = partition.getClass().getMethod("records").invoke(partition);
            if (records == null) {
                return ByteBuffer.allocate(0);
            }
            return (ByteBuffer) records.getClass().getMethod("buffer").invoke(records);
        } catch (ReflectiveOperationException e) {
            throw new IOException("cannot read the records of a fetch response", e);
        }
    }

    /**
     * Asserts the partition's batches were written with {@code codec}. Some clients (librdkafka,
     * kafka-python) send a batch uncompressed when compressing would not make it smaller, as with a
     * lone small record; with {@code allowUncompressedFallback} such batches may be "none", but at
     * least one batch must carry the codec.
     */
    public static List<Batch> assertCodec(Broker broker, String topic, int partition, String codec,
                                          boolean allowUncompressedFallback) throws IOException {
        List<Batch> batches = fetchFromStart(broker, topic, partition);
        System.out.println("[compat] stored batches of " + topic + "-" + partition + ": " + batches);
        if (batches.isEmpty()) {
            throw new AssertionError("no batches stored in " + topic + "-" + partition);
        }
        for (Batch batch : batches) {
            if (!batch.crcValid()) {
                throw new AssertionError("batch served with an invalid CRC: " + batch);
            }
            boolean ok = batch.codec().equals(codec) || (allowUncompressedFallback && batch.codec().equals("none"));
            if (!ok) {
                throw new AssertionError("expected batches compressed with " + codec + " but got " + batch
                        + " among " + batches);
            }
        }
        if (batches.stream().noneMatch(b -> b.codec().equals(codec))) {
            throw new AssertionError("no batch is compressed with " + codec + ": " + batches);
        }
        return batches;
    }
}
