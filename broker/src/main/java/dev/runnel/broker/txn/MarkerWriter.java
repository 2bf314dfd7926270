package dev.runnel.broker.txn;

import dev.runnel.broker.Broker;
import dev.runnel.broker.cluster.ClusterNode;
import dev.runnel.broker.groups.GroupsService;
import dev.runnel.broker.state.Partition;
import dev.runnel.broker.state.Topic;
import dev.runnel.groupcoord.OffsetsTopic;
import dev.runnel.groupcoord.txn.TxnMarkerWriter;
import dev.runnel.groupcoord.txn.TxnPartition;
import dev.runnel.log.AppendOrigin;
import dev.runnel.log.AppendResult;
import dev.runnel.metadata.image.BrokerRegistration;
import dev.runnel.metadata.image.MetadataImage;
import dev.runnel.metadata.image.PartitionRegistration;
import dev.runnel.metadata.image.TopicImage;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.WriteTxnMarkersRequestData;
import dev.runnel.wire.message.WriteTxnMarkersResponseData;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Writes transaction markers: appended here for the partitions this node leads (all of them on a single node), sent
 * with WriteTxnMarkers (27) to the leaders of the others. A marker reaching a {@code __consumer_offsets} partition
 * also completes the producer's transactional offsets there.
 */
public final class MarkerWriter implements TxnMarkerWriter {
    private static final int REQUEST_TIMEOUT_MS = 30_000;

    private final Broker broker;
    private final ClusterNode cluster;
    private final GroupsService groups;
    private final Map<Integer, InterBrokerChannel> channels = new ConcurrentHashMap<>();
    private final ExecutorService senders;

    private final long replicationTimeoutMs;

    private final java.util.concurrent.Executor callbacks;

    /** @param callbacks where the answers to the coordinator complete when they had to wait (never a waker's thread) */
    MarkerWriter(Broker broker, GroupsService groups, long replicationTimeoutMs, java.util.concurrent.Executor callbacks) {
        this.callbacks = callbacks;
        this.broker = broker;
        this.replicationTimeoutMs = replicationTimeoutMs;
        this.cluster = broker.cluster();
        this.groups = groups;
        this.senders = cluster == null ? null : Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "runnel-txn-markers");
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public CompletableFuture<Map<TxnPartition, Errors>> write(long producerId, short producerEpoch, boolean commit,
                                                              int coordinatorEpoch, Set<TxnPartition> partitions) {
        Map<TxnPartition, Errors> results = new ConcurrentHashMap<>();
        Map<Integer, List<TxnPartition>> remote = new HashMap<>();
        List<CompletableFuture<Void>> local = new ArrayList<>();
        for (TxnPartition p : partitions) {
            Topic topic = broker.topics().get(p.topic());
            if (topic == null || p.partition() >= topic.partitionCount()) {
                results.put(p, Errors.NONE); // deleted: no marker to write any more (as Kafka drops it)
                continue;
            }
            Partition partition = topic.partition(p.partition());
            if (cluster != null && (partition == null || !partition.isLeader())) {
                int leader = leaderOf(p);
                if (leader < 0 || leader == cluster.nodeId()) {
                    results.put(p, Errors.NOT_LEADER_OR_FOLLOWER);
                } else {
                    remote.computeIfAbsent(leader, l -> new ArrayList<>()).add(p);
                }
                continue;
            }
            local.add(appendLocal(p.topic(), p.partition(), producerId, producerEpoch, commit, coordinatorEpoch)
                    .thenAccept(e -> results.put(p, e)));
        }
        List<CompletableFuture<Void>> sends = new ArrayList<>(local);
        for (Map.Entry<Integer, List<TxnPartition>> e : remote.entrySet()) {
            sends.add(CompletableFuture.runAsync(() -> send(e.getKey(), e.getValue(), producerId, producerEpoch, commit,
                    coordinatorEpoch, results), senders));
        }
        CompletableFuture<Void> all = CompletableFuture.allOf(sends.toArray(new CompletableFuture[0]));
        return all.isDone() ? CompletableFuture.completedFuture(results) : all.handleAsync((v, failure) -> results, callbacks);
    }

    /**
     * Appends one marker to a partition this node leads (also the broker side of WriteTxnMarkers). Completes with
     * NONE once the marker is durable (on a replicated partition: once the in-sync replicas have it, as Kafka's
     * acks=-1 for markers), or with the error to report for the partition.
     */
    public CompletableFuture<Errors> appendLocal(String topicName, int index, long producerId, short producerEpoch,
                                                 boolean commit, int coordinatorEpoch) {
        Partition partition = broker.topics().partition(topicName, index);
        if (partition == null) {
            return CompletableFuture.completedFuture(Errors.UNKNOWN_TOPIC_OR_PARTITION);
        }
        if (cluster != null && !partition.isLeader()) {
            return CompletableFuture.completedFuture(Errors.NOT_LEADER_OR_FOLLOWER);
        }
        AppendResult r;
        try {
            r = partition.appendAsLeader(TxnMarkerBatch.build(producerId, producerEpoch, commit, coordinatorEpoch,
                    System.currentTimeMillis()), AppendOrigin.COORDINATOR);
        } catch (RuntimeException e) {
            return CompletableFuture.completedFuture(partition.isOnline() ? Errors.KAFKA_STORAGE_ERROR : Errors.UNKNOWN_TOPIC_OR_PARTITION);
        }
        if (!r.isOk()) {
            return CompletableFuture.completedFuture(Errors.forCode((short) r.errorCode()));
        }
        if (topicName.equals(OffsetsTopic.NAME)) {
            groups.coordinator().completeTransaction(index, producerId, commit);
        }
        if (partition.replicas() == null) {
            return CompletableFuture.completedFuture(Errors.NONE);
        }
        return dev.runnel.broker.produce.AcksAllWait.start(partition, r.lastOffset() + 1, replicationTimeoutMs, broker.timer(),
                broker.metrics());
    }

    private int leaderOf(TxnPartition p) {
        MetadataImage img = cluster.image();
        TopicImage t = img.topic(p.topic());
        PartitionRegistration reg = t == null ? null : t.partition(p.partition());
        return reg == null || !reg.hasLeader() ? -1 : reg.leader();
    }

    private void send(int nodeId, List<TxnPartition> partitions, long producerId, short producerEpoch, boolean commit,
                      int coordinatorEpoch, Map<TxnPartition, Errors> results) {
        BrokerRegistration b = cluster.image().broker(nodeId);
        BrokerRegistration.Endpoint endpoint = b == null || b.fenced() ? null : cluster.endpoint(b);
        if (endpoint == null) {
            partitions.forEach(p -> results.put(p, Errors.NOT_LEADER_OR_FOLLOWER));
            return;
        }
        WriteTxnMarkersRequestData.WritableTxnMarker marker = new WriteTxnMarkersRequestData.WritableTxnMarker()
                .setProducerId(producerId).setProducerEpoch(producerEpoch).setTransactionResult(commit)
                .setCoordinatorEpoch(coordinatorEpoch);
        Map<String, WriteTxnMarkersRequestData.WritableTxnMarkerTopic> byTopic = new LinkedHashMap<>();
        for (TxnPartition p : partitions) {
            byTopic.computeIfAbsent(p.topic(), t -> new WriteTxnMarkersRequestData.WritableTxnMarkerTopic().setName(t))
                    .partitionIndexes.add(p.partition());
        }
        marker.topics.addAll(byTopic.values());
        WriteTxnMarkersRequestData request = new WriteTxnMarkersRequestData();
        request.markers.add(marker);
        InterBrokerChannel channel = channels.computeIfAbsent(nodeId, id -> new InterBrokerChannel(endpoint.host(),
                endpoint.port(), REQUEST_TIMEOUT_MS));
        try {
            WriteTxnMarkersResponseData response = channel.send(ApiKeys.WRITE_TXN_MARKERS, (short) 1, request,
                    new WriteTxnMarkersResponseData());
            for (WriteTxnMarkersResponseData.WritableTxnMarkerResult m : response.markers) {
                for (WriteTxnMarkersResponseData.WritableTxnMarkerTopicResult t : m.topics) {
                    for (WriteTxnMarkersResponseData.WritableTxnMarkerPartitionResult pr : t.partitions) {
                        results.put(new TxnPartition(t.name, pr.partitionIndex), Errors.forCode(pr.errorCode));
                    }
                }
            }
            partitions.forEach(p -> results.putIfAbsent(p, Errors.UNKNOWN_SERVER_ERROR));
        } catch (java.io.IOException e) {
            channels.remove(nodeId, channel);
            partitions.forEach(p -> results.put(p, Errors.NETWORK_EXCEPTION));
        }
    }

    void close() {
        if (senders != null) {
            senders.shutdownNow();
        }
        channels.values().forEach(InterBrokerChannel::close);
        channels.clear();
    }
}
