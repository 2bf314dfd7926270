package dev.runnel.broker.handlers;

import dev.runnel.broker.network.RequestContext;
import dev.runnel.broker.state.Partition;
import dev.runnel.broker.state.Topic;
import dev.runnel.broker.state.TopicManager;
import dev.runnel.log.TimestampAndOffset;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.ListOffsetsRequestData;
import dev.runnel.wire.message.ListOffsetsResponseData;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ListOffsets (2), versions 0-11: offsets by timestamp, as Kafka's ReplicaManager.fetchOffset.
 * <ul>
 *   <li>-1 (latest): the high watermark (what consumers may read; = last stable offset, no transactions)</li>
 *   <li>-2 (earliest) and -4 (earliest local, v8+): the log start offset</li>
 *   <li>-3 (max timestamp, v7+): the record with the largest timestamp; offset -1 on an empty log</li>
 *   <li>-5 (latest tiered, v9+) and -6 (earliest pending upload, v11+, KIP-1023): offset -1, timestamp -1,
 *       leader epoch -1, as Kafka's UnifiedLog answers for a topic without tiered storage</li>
 *   <li>a timestamp &gt;= 0: the first record whose timestamp is &gt;= it, or offset -1 and timestamp -1</li>
 * </ul>
 * Special timestamps the request version does not know get UNSUPPORTED_VERSION, a partition named twice
 * INVALID_REQUEST, and a current leader epoch other than ours FENCED_LEADER_EPOCH/UNKNOWN_LEADER_EPOCH.
 * v10's TimeoutMs bounds Kafka's asynchronous remote-storage lookups (KIP-1075); every lookup here is local
 * and answered at once, so it has nothing to bound.
 * Version 0 answers with the old offsets array ({@code max_num_offsets}); Kafka builds that from segment
 * modification times, we answer it from the same lookups as v1+ (latest, earliest, or the offset for the
 * timestamp), which is what the clients that still use it (librdkafka without ApiVersions) ask for.
 */
public final class ListOffsetsHandler implements ApiHandler {
    private static final Logger LOG = LoggerFactory.getLogger(ListOffsetsHandler.class);

    static final long LATEST = -1L;
    static final long EARLIEST = -2L;
    static final long MAX_TIMESTAMP = -3L;
    static final long EARLIEST_LOCAL = -4L;
    static final long LATEST_TIERED = -5L;
    static final long EARLIEST_PENDING_UPLOAD = -6L;

    @Override
    public ApiKeys api() {
        return ApiKeys.LIST_OFFSETS;
    }

    @Override
    public short highestVersion() {
        return 11;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        ListOffsetsRequestData req = (ListOffsetsRequestData) request;
        short version = ctx.apiVersion();
        TopicManager topics = ctx.broker().topics();
        ListOffsetsResponseData resp = new ListOffsetsResponseData();

        Set<String> duplicates = duplicates(req);
        Map<String, ListOffsetsResponseData.ListOffsetsTopicResponse> byTopic = new HashMap<>();
        Set<String> answered = new HashSet<>();
        for (ListOffsetsRequestData.ListOffsetsTopic lt : req.topics) {
            ListOffsetsResponseData.ListOffsetsTopicResponse tr = byTopic.get(lt.name);
            if (tr == null) {
                tr = new ListOffsetsResponseData.ListOffsetsTopicResponse().setName(lt.name);
                byTopic.put(lt.name, tr);
                resp.topics.add(tr);
            }
            Topic topic = topics.get(lt.name);
            for (ListOffsetsRequestData.ListOffsetsPartition lp : lt.partitions) {
                String key = lt.name + "\u0000" + lp.partitionIndex;
                if (duplicates.contains(key)) {
                    // Kafka answers a duplicated partition once, with INVALID_REQUEST
                    if (answered.add(key)) {
                        tr.partitions.add(error(lp.partitionIndex, Errors.INVALID_REQUEST));
                    }
                    continue;
                }
                Partition p = topic == null || topic.deleted() ? null : topic.partition(lp.partitionIndex);
                if (p != null && !p.isLeader()) {
                    tr.partitions.add(error(lp.partitionIndex, Errors.NOT_LEADER_OR_FOLLOWER));
                    continue;
                }
                tr.partitions.add(version == 0 ? lookupV0(p, lp) : lookup(version, req, p, lp));
            }
        }
        return CompletableFuture.completedFuture(resp);
    }

    private static Set<String> duplicates(ListOffsetsRequestData req) {
        Set<String> seen = new HashSet<>();
        Set<String> dup = new HashSet<>();
        for (ListOffsetsRequestData.ListOffsetsTopic lt : req.topics) {
            for (ListOffsetsRequestData.ListOffsetsPartition lp : lt.partitions) {
                String key = lt.name + "\u0000" + lp.partitionIndex;
                if (!seen.add(key)) {
                    dup.add(key);
                }
            }
        }
        return dup;
    }

    /** Kafka's timestampMinSupportedVersion: which special timestamps each version may use. */
    static boolean timestampUnsupported(long ts, short version) {
        if (ts >= 0) {
            return false;
        }
        if (ts == EARLIEST || ts == LATEST) {
            return false; // v1+ (v0 is answered separately)
        }
        if (ts == MAX_TIMESTAMP) {
            return version < 7;
        }
        if (ts == EARLIEST_LOCAL) {
            return version < 8;
        }
        if (ts == LATEST_TIERED) {
            return version < 9;
        }
        if (ts == EARLIEST_PENDING_UPLOAD) {
            return version < 11;
        }
        return true;
    }

    private static ListOffsetsResponseData.ListOffsetsPartitionResponse lookup(short version, ListOffsetsRequestData req,
                                                                                 Partition p,
                                                                                 ListOffsetsRequestData.ListOffsetsPartition lp) {
        long ts = lp.timestamp;
        if (timestampUnsupported(ts, version)) {
            return error(lp.partitionIndex, Errors.UNSUPPORTED_VERSION);
        }
        if (p == null || !p.isOnline()) {
            return error(lp.partitionIndex, Errors.UNKNOWN_TOPIC_OR_PARTITION);
        }
        if (lp.currentLeaderEpoch >= 0 && lp.currentLeaderEpoch != p.leaderEpoch()) {
            return error(lp.partitionIndex, lp.currentLeaderEpoch < p.leaderEpoch() ? Errors.FENCED_LEADER_EPOCH
                    : Errors.UNKNOWN_LEADER_EPOCH);
        }
        if (ts == LATEST_TIERED || ts == EARLIEST_PENDING_UPLOAD) {
            // Kafka without remote storage: offset -1, timestamp -1, epoch -1
            return ok(lp.partitionIndex, -1L, -1L, -1);
        }
        try {
            // Kafka: a consumer (replica id -1) may see up to the high watermark (read_committed: the last
            // stable offset); others (debug -2, replicas) up to the log end offset.
            long lastFetchable = req.replicaId != -1 ? p.logEndOffset()
                    : req.isolationLevel == 1 ? p.lastStableOffset() : p.highWatermark();
            if (ts == LATEST) {
                return ok(lp.partitionIndex, -1L, lastFetchable, p.leaderEpoch());
            }
            TimestampAndOffset found = p.offsetForTimestamp(ts);
            if (found == null) {
                return error(lp.partitionIndex, Errors.NONE);
            }
            if ((ts >= 0 || ts == MAX_TIMESTAMP) && found.offset() >= lastFetchable) {
                return error(lp.partitionIndex, Errors.NONE); // never an offset the client may not fetch yet
            }
            return ok(lp.partitionIndex, found.timestamp(), found.offset(), found.leaderEpoch());
        } catch (IOException | RuntimeException e) {
            LOG.error("ListOffsets on {} for timestamp {} failed", p, ts, e);
            return error(lp.partitionIndex, e instanceof IOException ? Errors.KAFKA_STORAGE_ERROR : Errors.UNKNOWN_SERVER_ERROR);
        }
    }

    private static ListOffsetsResponseData.ListOffsetsPartitionResponse lookupV0(Partition p,
                                                                                   ListOffsetsRequestData.ListOffsetsPartition lp) {
        long ts = lp.timestamp;
        ListOffsetsResponseData.ListOffsetsPartitionResponse r = new ListOffsetsResponseData.ListOffsetsPartitionResponse()
                .setPartitionIndex(lp.partitionIndex);
        if (ts < EARLIEST) {
            return r.setErrorCode(Errors.UNSUPPORTED_VERSION.code());
        }
        if (p == null || !p.isOnline()) {
            return r.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
        }
        List<Long> offsets = new ArrayList<>(1);
        try {
            long offset;
            if (ts == LATEST) {
                offset = p.highWatermark();
            } else if (ts == EARLIEST) {
                offset = p.logStartOffset();
            } else {
                TimestampAndOffset found = p.offsetForTimestamp(ts);
                offset = found == null ? p.highWatermark() : found.offset();
            }
            if (lp.maxNumOffsets > 0) {
                offsets.add(offset);
            }
        } catch (IOException | RuntimeException e) {
            LOG.error("ListOffsets v0 on {} for timestamp {} failed", p, ts, e);
            return r.setErrorCode((e instanceof IOException ? Errors.KAFKA_STORAGE_ERROR : Errors.UNKNOWN_SERVER_ERROR).code());
        }
        return r.setErrorCode(Errors.NONE.code()).setOldStyleOffsets(offsets);
    }

    private static ListOffsetsResponseData.ListOffsetsPartitionResponse ok(int partition, long timestamp, long offset, int epoch) {
        return new ListOffsetsResponseData.ListOffsetsPartitionResponse()
                .setPartitionIndex(partition)
                .setErrorCode(Errors.NONE.code())
                .setTimestamp(timestamp)
                .setOffset(offset)
                .setLeaderEpoch(epoch);
    }

    /** Kafka's buildErrorResponse: the error, timestamp -1, offset -1 (leader epoch -1). */
    private static ListOffsetsResponseData.ListOffsetsPartitionResponse error(int partition, Errors e) {
        return new ListOffsetsResponseData.ListOffsetsPartitionResponse()
                .setPartitionIndex(partition)
                .setErrorCode(e.code())
                .setTimestamp(-1L)
                .setOffset(-1L)
                .setLeaderEpoch(-1);
    }
}
