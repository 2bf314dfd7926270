package dev.runnel.broker.handlers;

import dev.runnel.broker.Broker;
import dev.runnel.broker.network.RequestContext;
import dev.runnel.broker.state.Partition;
import dev.runnel.broker.state.Topic;
import dev.runnel.metadata.image.PartitionRegistration;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.DescribeLogDirsRequestData;
import dev.runnel.wire.message.DescribeLogDirsResponseData;
import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * DescribeLogDirs (35), v0-5: {@code kafka-log-dirs --describe}. The node's log directory with every replica it
 * holds (all partitions, or those asked for): size in bytes, and the offset lag as Kafka reports it (the high
 * watermark minus the log end offset, never negative); v4 adds the directory's total and usable bytes;
 * v5 adds IsCordoned (KIP-1066's cordoned log directories), always false: no directory is ever cordoned here. In a cluster
 * only the partitions this node is a replica of are listed.
 */
public final class DescribeLogDirsHandler implements ApiHandler {
    @Override
    public ApiKeys api() {
        return ApiKeys.DESCRIBE_LOG_DIRS;
    }

    @Override
    public short highestVersion() {
        return 5;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        DescribeLogDirsRequestData req = (DescribeLogDirsRequestData) request;
        Broker broker = ctx.broker();
        Path dir = broker.config().logDirs().get(0);
        DescribeLogDirsResponseData.DescribeLogDirsResult result = new DescribeLogDirsResponseData.DescribeLogDirsResult()
                .setLogDir(dir.toAbsolutePath().toString()).setErrorCode(Errors.NONE.code());
        try {
            FileStore store = Files.getFileStore(dir);
            result.setTotalBytes(store.getTotalSpace()).setUsableBytes(store.getUsableSpace());
        } catch (IOException e) {
            result.setTotalBytes(-1).setUsableBytes(-1);
        }
        TreeMap<String, List<Integer>> wanted = new TreeMap<>();
        if (req.topics == null) {
            for (Topic t : broker.topics().all()) {
                List<Integer> all = new ArrayList<>();
                for (Partition p : t.partitions()) {
                    all.add(p.index());
                }
                wanted.put(t.name(), all);
            }
        } else {
            for (DescribeLogDirsRequestData.DescribableLogDirTopic t : req.topics) {
                wanted.computeIfAbsent(t.topic, k -> new ArrayList<>()).addAll(t.partitions);
            }
        }
        wanted.forEach((name, partitions) -> {
            Topic t = broker.topics().get(name);
            if (t == null || t.deleted()) {
                return;
            }
            DescribeLogDirsResponseData.DescribeLogDirsTopic rt = new DescribeLogDirsResponseData.DescribeLogDirsTopic().setName(name);
            for (int index : partitions) {
                Partition p = t.partition(index);
                if (p == null || !hostsReplica(broker, name, index)) {
                    continue;
                }
                long lag = Math.max(0, p.highWatermark() - p.logEndOffset());
                rt.partitions.add(new DescribeLogDirsResponseData.DescribeLogDirsPartition().setPartitionIndex(index)
                        .setPartitionSize(p.log().size()).setOffsetLag(lag).setIsFutureKey(false));
            }
            if (!rt.partitions.isEmpty()) {
                result.topics.add(rt);
            }
        });
        DescribeLogDirsResponseData resp = new DescribeLogDirsResponseData().setErrorCode(Errors.NONE.code());
        resp.results.add(result);
        return CompletableFuture.completedFuture(resp);
    }

    private static boolean hostsReplica(Broker broker, String topic, int partition) {
        if (broker.cluster() == null) {
            return true;
        }
        PartitionRegistration reg = broker.cluster().partition(topic, partition);
        return reg != null && reg.replicas().contains(broker.nodeId());
    }

}
