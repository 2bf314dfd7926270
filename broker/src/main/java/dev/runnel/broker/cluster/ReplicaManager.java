package dev.runnel.broker.cluster;

import dev.runnel.broker.BrokerConfig;
import dev.runnel.broker.state.Partition;
import dev.runnel.broker.state.Topic;
import dev.runnel.broker.state.TopicManager;
import dev.runnel.metadata.image.BrokerRegistration;
import dev.runnel.metadata.image.MetadataImage;
import dev.runnel.metadata.image.PartitionRegistration;
import dev.runnel.metadata.image.TopicImage;
import dev.runnel.replication.LeaderEndpoint;
import dev.runnel.replication.ReplicaFetcherConfig;
import dev.runnel.replication.ReplicaFetcherManager;
import dev.runnel.replication.leader.LeaderState;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.AlterPartitionRequestData;
import dev.runnel.wire.message.AlterPartitionResponseData;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The replicas this broker holds, and their roles as the metadata gives them (Kafka's ReplicaManager): a partition
 * this node leads becomes leader in the metadata's leader epoch (with {@link LeaderState} when it has followers); a
 * partition it follows is handed to the replica fetcher for its leader. As leader it proposes ISR changes to the
 * controller with AlterPartition: a follower that caught up joins, one that lagged {@code replica.lag.time.max.ms}
 * leaves (checked every half of that, as Kafka's isr-expiration task).
 */
public final class ReplicaManager implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicaManager.class);

    private final ClusterNode cluster;
    private final BrokerConfig config;
    private final TopicManager topics;
    private final ReplicaFetcherManager fetchers;
    private final ScheduledExecutorService isrExpiration;
    private final long lagTimeMaxMs;
    /** Partitions followed now: "topic-partition" to "leader/epoch". */
    private final Map<String, String> following = new HashMap<>();
    /** Partitions led now: "topic-partition" to the leader epoch they were made leader in. */
    private final Map<String, Integer> leading = new HashMap<>();
    /** When an ISR proposal of a partition was last refused: no new one for a while (no request storm). */
    private final Map<String, Long> refusedAt = new java.util.concurrent.ConcurrentHashMap<>();
    private static final long REFUSAL_BACKOFF_MS = 500;
    private final HighWatermarkCheckpoint checkpoint;
    /** High watermarks from the checkpoint of the previous run, applied when a replica first gets its role. */
    private final Map<String, Long> restoredHighWatermarks;
    private final Map<String, FollowerAdapter> adapters = new HashMap<>();

    ReplicaManager(ClusterNode cluster, BrokerConfig config, TopicManager topics) {
        this.cluster = cluster;
        this.config = config;
        this.topics = topics;
        this.lagTimeMaxMs = longOr(config, "replica.lag.time.max.ms", 30_000);
        this.fetchers = new ReplicaFetcherManager(cluster.nodeId(), cluster::brokerEpoch, ReplicaFetcherConfig.fromProperties(config.all()));
        this.isrExpiration = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "runnel-isr-expiration");
            t.setDaemon(true);
            return t;
        });
        long period = Math.max(100, lagTimeMaxMs / 2);
        isrExpiration.scheduleWithFixedDelay(this::maybeShrinkIsrs, period, period, TimeUnit.MILLISECONDS);
        this.checkpoint = new HighWatermarkCheckpoint(config.logDirs().get(0));
        Map<String, Long> restored;
        try {
            restored = checkpoint.read();
        } catch (IOException | RuntimeException e) {
            LOG.warn("Ignoring {}: {}", HighWatermarkCheckpoint.FILE_NAME, e.getMessage());
            restored = new HashMap<>();
        }
        this.restoredHighWatermarks = new java.util.concurrent.ConcurrentHashMap<>(restored);
        long interval = longOr(config, "replica.high.watermark.checkpoint.interval.ms", 5_000);
        isrExpiration.scheduleWithFixedDelay(this::checkpointHighWatermarks, interval, interval, TimeUnit.MILLISECONDS);
    }

    /** Writes every hosted replica's high watermark (Kafka's replication-offset-checkpoint). */
    void checkpointHighWatermarks() {
        try {
            Map<String, Map<Integer, Long>> entries = new java.util.TreeMap<>();
            MetadataImage img = cluster.image();
            for (Topic t : topics.all()) {
                TopicImage ti = img.topic(t.name());
                if (ti == null || t.deleted()) {
                    continue;
                }
                for (Partition p : t.partitions()) {
                    PartitionRegistration reg = ti.partition(p.index());
                    if (reg != null && reg.replicas().contains(cluster.nodeId())) {
                        entries.computeIfAbsent(t.name(), k -> new java.util.TreeMap<>()).put(p.index(), p.highWatermark());
                    }
                }
            }
            checkpoint.write(entries);
        } catch (IOException | RuntimeException e) {
            LOG.warn("Cannot write {}: {}", HighWatermarkCheckpoint.FILE_NAME, e.toString());
        }
    }

    private static long longOr(BrokerConfig c, String key, long dflt) {
        String v = c.get(key);
        return v == null || v.isBlank() ? dflt : Long.parseLong(v.trim());
    }

    private int minInsyncReplicas(MetadataImage img, String topic) {
        String v = img.configs(MetadataImage.TOPIC_CONFIG, topic).get("min.insync.replicas");
        if (v == null) {
            v = cluster.configInForce().get("min.insync.replicas"); // a dynamic broker config may set it
        }
        try {
            return v == null ? 1 : Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            return 1;
        }
    }

    /** Gives every local partition the role the metadata gives it (called with every new image). */
    synchronized void apply(MetadataImage img) {
        int self = cluster.nodeId();
        long now = System.currentTimeMillis();
        Map<LeaderEndpoint, List<FollowerAdapter>> toFollow = new HashMap<>();
        List<FollowerAdapter> toStop = new ArrayList<>();
        for (TopicImage t : img.topics().values()) {
            Topic local = topics.get(t.name());
            if (local == null || !local.id().equals(t.id())) {
                continue;
            }
            for (Partition p : local.partitions()) {
                PartitionRegistration reg = t.partition(p.index());
                if (reg == null) {
                    continue;
                }
                String key = t.name() + "-" + p.index();
                Long restored = restoredHighWatermarks.remove(key);
                if (restored != null && reg.replicas().size() > 1) {
                    // The log opened with everything committed; the last run's checkpoint knows better.
                    p.log().updateHighWatermark(Math.min(restored, p.logEndOffset()));
                }
                FollowerAdapter adapter = adapters.computeIfAbsent(key, k -> new FollowerAdapter(p));
                if (adapter.local() != p) {
                    adapter = new FollowerAdapter(p);
                    adapters.put(key, adapter);
                }
                if (reg.leader() == self) {
                    if (following.remove(key) != null) {
                        toStop.add(adapter);
                    }
                    LeaderState state = p.replicas();
                    Integer ledIn = leading.get(key);
                    if (ledIn == null || ledIn != reg.leaderEpoch() || !p.isLeader() || p.leaderEpoch() != reg.leaderEpoch()) {
                        leading.put(key, reg.leaderEpoch());
                        stopFetching(List.of(adapter));
                        toStop.remove(adapter);
                        LeaderState followers = reg.replicas().size() > 1
                                ? new LeaderState(self, reg.replicas(), reg.isr(), reg.leaderEpoch(), reg.partitionEpoch(),
                                p.logEndOffset(), p.highWatermark(), now, lagTimeMaxMs, minInsyncReplicas(img, t.name()))
                                : null;
                        p.becomeLeader(reg.leaderEpoch(), followers);
                        if (followers != null) {
                            LOG.info("Leading {} in epoch {} with replicas {} and ISR {}", key, reg.leaderEpoch(), reg.replicas(), reg.isr());
                        }
                    } else if ((state == null && reg.replicas().size() > 1)
                            || (state != null && !state.replicas().equals(reg.replicas()))) {
                        // The replica set changed under the same leader (a reassignment): new bookkeeping, same epoch.
                        LOG.info("Replicas of {} are now {} (ISR {})", key,
                                reg.replicas(), reg.isr());
                        dev.runnel.log.EpochEndOffset start = p.endOffsetForEpoch(reg.leaderEpoch() - 1);
                        long epochStart = start == null || start.endOffset() < 0 ? 0 : start.endOffset();
                        LeaderState followers = reg.replicas().size() > 1
                                ? new LeaderState(self, reg.replicas(), reg.isr(), reg.leaderEpoch(), reg.partitionEpoch(),
                                epochStart, p.highWatermark(), now, lagTimeMaxMs, minInsyncReplicas(img, t.name()))
                                : null;
                        p.becomeLeader(reg.leaderEpoch(), followers);
                    } else if (state != null) {
                        state.isrCommitted(reg.isr(), reg.partitionEpoch());
                        p.maybeAdvanceHighWatermark();
                    }
                } else if (reg.replicas().contains(self) && reg.hasLeader()) {
                    leading.remove(key);
                    if (p.isLeader() || p.leaderEpoch() != reg.leaderEpoch()) {
                        p.becomeFollower(reg.leaderEpoch());
                    }
                    String target = reg.leader() + "/" + reg.leaderEpoch();
                    if (!target.equals(following.get(key))) {
                        BrokerRegistration leader = img.broker(reg.leader());
                        BrokerRegistration.Endpoint e = leader == null ? null : cluster.endpoint(leader);
                        if (e != null) {
                            following.put(key, target);
                            toFollow.computeIfAbsent(new LeaderEndpoint(leader.id(), e.host(), e.port()), x -> new ArrayList<>()).add(adapter);
                        }
                    }
                } else {
                    leading.remove(key);
                    if (p.isLeader() || p.leaderEpoch() != reg.leaderEpoch()) {
                        p.becomeFollower(reg.leaderEpoch());
                    }
                    if (following.remove(key) != null) {
                        toStop.add(adapter);
                    }
                }
            }
        }
        if (!toStop.isEmpty()) {
            stopFetching(toStop);
        }
        toFollow.forEach((leader, parts) -> {
            LOG.info("Following leader {} for {}", leader.nodeId(), parts);
            fetchers.addPartitions(leader, new ArrayList<>(parts));
        });
    }

    private void stopFetching(List<FollowerAdapter> parts) {
        fetchers.removePartitions(new ArrayList<>(parts));
    }

    /** A follower fetched: the leader's bookkeeping moves, and a follower that caught up may join the ISR. */
    public void onFollowerFetch(Partition p, int replicaId, long fetchOffset) {
        p.onFollowerFetch(replicaId, fetchOffset, System.currentTimeMillis());
        LeaderState state = p.replicas();
        if (state != null && !backingOff(p)) {
            MetadataImage img = cluster.image();
            List<Integer> expanded = state.isrExpansion(id -> {
                // As Kafka: only a registered, unfenced broker that is not shutting down may join the ISR.
                BrokerRegistration b = img.broker(id);
                return b != null && b.usable();
            });
            if (expanded != null) {
                propose(p, state, expanded, "caught up");
            }
        }
    }

    private boolean backingOff(Partition p) {
        Long at = refusedAt.get(p.topic().name() + "-" + p.index());
        return at != null && System.currentTimeMillis() - at < REFUSAL_BACKOFF_MS;
    }

    private void maybeShrinkIsrs() {
        try {
            long now = System.currentTimeMillis();
            for (Topic t : topics.all()) {
                for (Partition p : t.partitions()) {
                    LeaderState state = p.replicas();
                    if (state == null || !p.isLeader()) {
                        continue;
                    }
                    List<Integer> shrunk = state.isrShrink(now, p.logEndOffset());
                    if (shrunk != null) {
                        propose(p, state, shrunk, "a follower lagged more than replica.lag.time.max.ms=" + lagTimeMaxMs);
                    }
                }
            }
        } catch (RuntimeException e) {
            LOG.warn("ISR expiration check failed: {}", e.toString());
        }
    }

    /** Sends one ISR change to the controller (one in flight per partition: LeaderState holds it). */
    private void propose(Partition p, LeaderState state, List<Integer> newIsr, String why) {
        MetadataImage img = cluster.image();
        AlterPartitionRequestData req = new AlterPartitionRequestData().setBrokerId(cluster.nodeId()).setBrokerEpoch(cluster.brokerEpoch());
        AlterPartitionRequestData.TopicData td = new AlterPartitionRequestData.TopicData().setTopicId(p.topic().id()).setTopicName(p.topic().name());
        AlterPartitionRequestData.PartitionData pd = new AlterPartitionRequestData.PartitionData().setPartitionIndex(p.index())
                .setLeaderEpoch(state.leaderEpoch()).setPartitionEpoch(state.partitionEpoch());
        for (int b : newIsr) {
            BrokerRegistration br = img.broker(b);
            pd.newIsrWithEpochs.add(new AlterPartitionRequestData.BrokerState().setBrokerId(b).setBrokerEpoch(br == null ? -1 : br.epoch()));
        }
        td.partitions.add(pd);
        req.topics.add(td);
        LOG.info("Proposing ISR {} for {}-{} (was {}): {}", newIsr, p.topic().name(), p.index(), state.isr(), why);
        cluster.call(req, new AlterPartitionResponseData(), ClusterTopicAdmin.TIMEOUT_MS).whenComplete((resp, failure) -> {
            if (failure != null || resp.errorCode != 0 || resp.topics.isEmpty() || resp.topics.get(0).partitions.isEmpty()) {
                LOG.info("ISR change for {}-{} not made: {}", p.topic().name(), p.index(),
                        failure != null ? failure.toString() : Errors.forCode(resp.errorCode));
                refusedAt.put(p.topic().name() + "-" + p.index(), System.currentTimeMillis());
                state.isrProposalFailed();
                return;
            }
            AlterPartitionResponseData.PartitionData r = resp.topics.get(0).partitions.get(0);
            if (r.errorCode != 0) {
                LOG.info("ISR change for {}-{} refused: {}", p.topic().name(), p.index(), Errors.forCode(r.errorCode));
                refusedAt.put(p.topic().name() + "-" + p.index(), System.currentTimeMillis());
                state.isrProposalFailed();
                return;
            }
            state.isrCommitted(r.isr, r.partitionEpoch);
            p.maybeAdvanceHighWatermark();
        });
    }

    @Override
    public void close() {
        isrExpiration.shutdownNow();
        fetchers.close();
        checkpointHighWatermarks();
    }
}
