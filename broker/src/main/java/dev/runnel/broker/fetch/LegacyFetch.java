package dev.runnel.broker.fetch;

import dev.runnel.broker.BrokerConfig;
import dev.runnel.broker.network.RegionRecords;
import dev.runnel.broker.state.Topic;
import dev.runnel.broker.state.TopicConfigs;
import dev.runnel.broker.state.TopicManager;
import dev.runnel.wire.ByteBufRecords;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.FetchRequestData;
import dev.runnel.wire.message.FetchResponseData;
import dev.runnel.wire.records.LegacyDownConversion;
import dev.runnel.wire.records.RecordBatch;
import dev.runnel.wire.records.RecordCursor;
import dev.runnel.wire.records.RecordsException;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fetch v0-3 (clients before Kafka 0.11): once a fetch has been read (the same reads, limits and long-poll as any
 * fetch), each partition's stored batches are down-converted to magic 0 (v0-1) or magic 1 (v2-3)
 * ({@link LegacyDownConversion}). The file regions are read one batch at a time and conversion stops once the
 * output reaches the partition's {@code partition_max_bytes}, so a fetch holds at most one stored batch plus its
 * output in memory. Fetch v4+ never come here and stay zero-copy.
 * <p>
 * As in Kafka 3.x: a topic with {@code message.downconversion.enable=false} answers UNSUPPORTED_VERSION; a
 * zstd batch answers UNSUPPORTED_COMPRESSION_TYPE (Fetch before v10 cannot carry zstd).
 */
public final class LegacyFetch {
    private static final Logger LOG = LoggerFactory.getLogger(LegacyFetch.class);

    private LegacyFetch() {
    }

    /** Whether Fetch {@code version} carries legacy message sets. */
    public static boolean applies(short version) {
        return version <= 3;
    }

    /**
     * Replaces every partition's records in {@code resp} (a full response: the requested partitions in request
     * order) by their down-converted form.
     */
    public static void downConvert(FetchRequestData req, FetchResponseData resp, short version, TopicManager topics,
                                   BrokerConfig config) {
        byte magic = LegacyDownConversion.magicForFetchVersion(version);
        for (int t = 0; t < resp.responses.size() && t < req.topics.size(); t++) {
            FetchResponseData.FetchableTopicResponse tr = resp.responses.get(t);
            FetchRequestData.FetchTopic ft = req.topics.get(t);
            Boolean enabled = null;
            for (int i = 0; i < tr.partitions.size() && i < ft.partitions.size(); i++) {
                FetchResponseData.PartitionData pd = tr.partitions.get(i);
                if (!(pd.records instanceof RegionRecords regions) || regions.sizeInBytes() == 0) {
                    continue;
                }
                if (enabled == null) {
                    enabled = downConversionEnabled(topics.get(tr.topic), config);
                }
                if (!enabled) {
                    FetchOperation.fillError(pd, Errors.UNSUPPORTED_VERSION);
                    continue;
                }
                FetchRequestData.FetchPartition fp = ft.partitions.get(i);
                convertOne(pd, regions, magic, fp.fetchOffset, Math.max(1, fp.partitionMaxBytes), tr.topic);
            }
        }
    }

    private static void convertOne(FetchResponseData.PartitionData pd, RegionRecords regions, byte magic,
                                   long fetchOffset, int maxBytes, String topic) {
        LegacyDownConversion conversion = new LegacyDownConversion(magic, fetchOffset, maxBytes,
                RecordCursor.DEFAULT_MAX_DECOMPRESSED_BYTES);
        ByteBuffer header = ByteBuffer.allocate(RecordBatch.LOG_OVERHEAD);
        try {
            regions:
            for (RegionRecords.Region r : regions.regions()) {
                long pos = r.position();
                long end = r.position() + r.length();
                while (end - pos >= RecordBatch.LOG_OVERHEAD && !conversion.full()) {
                    header.clear();
                    readFully(r, header, pos);
                    int length = header.getInt(RecordBatch.LENGTH_OFFSET);
                    if (length < RecordBatch.MIN_LENGTH || length > end - pos - RecordBatch.LOG_OVERHEAD) {
                        break regions; // a partial batch at the end of the read: the next fetch gets it whole
                    }
                    ByteBuffer batch = ByteBuffer.allocate(RecordBatch.LOG_OVERHEAD + length);
                    readFully(r, batch, pos);
                    conversion.add(RecordBatch.at(batch, 0));
                    pos += batch.capacity();
                }
                if (conversion.full()) {
                    break;
                }
            }
        } catch (RecordsException e) {
            if (e.errorCode() == dev.runnel.wire.records.ErrorCodes.UNSUPPORTED_COMPRESSION_TYPE && conversion.recordCount() == 0) {
                FetchOperation.fillError(pd, Errors.UNSUPPORTED_COMPRESSION_TYPE);
                return;
            }
            if (e.errorCode() != dev.runnel.wire.records.ErrorCodes.UNSUPPORTED_COMPRESSION_TYPE) {
                LOG.error("Down-conversion of {}-{} at offset {} failed", topic, pd.partitionIndex, fetchOffset, e);
                if (conversion.recordCount() == 0) {
                    FetchOperation.fillError(pd, Errors.UNKNOWN_SERVER_ERROR);
                    return;
                }
            }
            // else: send what was converted before the batch that could not be
        } catch (IOException e) {
            // the segment went away (retention, deletion) while we read it: send what was converted
        }
        pd.records = new ByteBufRecords(Unpooled.wrappedBuffer(conversion.toByteArray()));
    }

    private static void readFully(RegionRecords.Region r, ByteBuffer dst, long pos) throws IOException {
        long p = pos;
        while (dst.hasRemaining()) {
            int n = r.channel().read(dst, p);
            if (n < 0) {
                throw new IOException("end of segment file");
            }
            p += n;
        }
        dst.flip();
    }

    private static boolean downConversionEnabled(Topic topic, BrokerConfig config) {
        if (topic == null) {
            return true;
        }
        Map<String, String> o = topic.configOverrides() == null ? Map.of() : topic.configOverrides();
        return Boolean.parseBoolean(TopicConfigs.effectiveValue(config, o, "message.downconversion.enable"));
    }
}
