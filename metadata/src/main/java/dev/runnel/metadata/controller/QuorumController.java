package dev.runnel.metadata.controller;

import dev.runnel.metadata.MetadataRecords;
import dev.runnel.metadata.image.BrokerRegistration;
import dev.runnel.metadata.image.MetadataImage;
import dev.runnel.metadata.raft.MetadataLog;
import dev.runnel.metadata.raft.NotControllerException;
import dev.runnel.metadata.records.runnel.ClusterIdRecord;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.Errors;
import dev.runnel.wire.Message;
import dev.runnel.wire.message.AllocateProducerIdsRequestData;
import dev.runnel.wire.message.BrokerHeartbeatRequestData;
import dev.runnel.wire.message.BrokerHeartbeatResponseData;
import dev.runnel.wire.message.BrokerRegistrationRequestData;
import dev.runnel.wire.message.BrokerRegistrationResponseData;
import dev.runnel.wire.message.CreatePartitionsRequestData;
import dev.runnel.wire.message.CreateTopicsRequestData;
import dev.runnel.wire.message.DeleteTopicsRequestData;
import dev.runnel.wire.message.IncrementalAlterConfigsRequestData;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The active controller's driver: one thread that takes broker requests in turn, asks {@link ControllerLogic} what
 * to write, appends the records to the metadata log and answers once they are committed (and applied here, so the
 * committed image already shows them). It runs on every voter; only the metadata log's leader serves. Broker
 * sessions are watched here: a broker silent for {@code broker.session.timeout.ms} is fenced.
 *
 * <p>Requests are handled strictly one after another against the committed image, so no decision is ever made on
 * state that might not commit; metadata changes are rare enough that one round trip to the quorum each is cheap.
 */
public final class QuorumController implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(QuorumController.class);

    private final int nodeId;
    private final MetadataLog log;
    private final Supplier<MetadataImage> image;
    private final ControllerLogic logic;
    private final BrokerHeartbeats heartbeats;
    private final String initialClusterId;
    private final long appendTimeoutMs;
    private final ScheduledExecutorService thread;
    private boolean active;
    private long activationOffset;

    public QuorumController(int nodeId, MetadataLog log, Supplier<MetadataImage> image, ControllerLogic logic,
                            LongSupplier clock, long sessionTimeoutMs, String initialClusterId) {
        this.nodeId = nodeId;
        this.log = log;
        this.image = image;
        this.logic = logic;
        this.heartbeats = new BrokerHeartbeats(clock, sessionTimeoutMs);
        this.initialClusterId = initialClusterId;
        this.appendTimeoutMs = 30_000;
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "runnel-controller-" + nodeId);
            t.setDaemon(true);
            return t;
        });
        long tick = Math.max(50, Math.min(250, sessionTimeoutMs / 8));
        thread.scheduleWithFixedDelay(this::tick, tick, tick, TimeUnit.MILLISECONDS);
    }

    /**
     * {@code auto.leader.rebalance.enable}: every {@code intervalMs} ({@code leader.imbalance.check.interval.seconds})
     * the active controller moves each partition's leadership back to its preferred (first) replica when that
     * replica is an unfenced member of the ISR, as after a failover the leaders pile up on the survivors. (Kafka
     * waits until a broker's share of non-preferred leaders passes {@code leader.imbalance.per.broker.percentage};
     * this rebalances any partition it can.)
     */
    public void enableLeaderRebalance(long intervalMs) {
        thread.scheduleWithFixedDelay(() -> {
            try {
                if (!log.isReadyLeader() || !active) {
                    return;
                }
                List<Message> records = logic.rebalanceLeaders(image.get());
                if (!records.isEmpty()) {
                    LOG.info("Moving the leadership of {} partition(s) back to their preferred replicas", records.size());
                    commit(records);
                }
            } catch (Exception e) {
                LOG.warn("Leader rebalance failed: {}", e.toString());
            }
        }, intervalMs, intervalMs, TimeUnit.MILLISECONDS);
    }

    /** Whether this node is the active controller now (it leads the quorum and has taken over the sessions). */
    public boolean isActive() {
        return active && log.isReadyLeader();
    }

    /**
     * Evidence that a broker's process is gone (its listener refuses connections): fences it now, if it is still the
     * registration with {@code brokerEpoch} and unfenced, rather than when its session times out.
     */
    public void brokerUnreachable(int brokerId, long brokerEpoch) {
        thread.execute(() -> {
            try {
                if (!log.isReadyLeader() || !active) {
                    return;
                }
                MetadataImage img = image.get();
                BrokerRegistration b = img.broker(brokerId);
                if (b == null || b.fenced() || b.epoch() != brokerEpoch) {
                    return;
                }
                LOG.info("Fencing broker {} (epoch {}): its listener refuses connections", brokerId, brokerEpoch);
                commit(logic.fence(img, brokerId));
            } catch (NotControllerException e) {
                active = false;
            } catch (Exception e) {
                LOG.warn("Fencing unreachable broker {} failed: {}", brokerId, e.toString());
            }
        });
    }

    /** Serves one controller request (see {@link ControllerMessages}); answers with the response bytes. */
    public CompletableFuture<byte[]> handle(byte[] request) {
        CompletableFuture<byte[]> out = new CompletableFuture<>();
        try {
            thread.execute(() -> {
                try {
                    out.complete(ControllerMessages.encode(serve(ControllerMessages.decodeRequest(request))));
                } catch (Throwable e) {
                    out.completeExceptionally(e);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            out.completeExceptionally(new NotControllerException("The controller on node " + nodeId + " is shutting down"));
        }
        return out;
    }

    private ApiMessage serve(ApiMessage req) throws Exception {
        ensureActive();
        MetadataImage img = image.get();
        if (req instanceof BrokerHeartbeatRequestData hb) {
            return heartbeat(hb);
        }
        if (req instanceof dev.runnel.wire.message.DescribeQuorumRequestData) {
            return describeQuorum();
        }
        if (req instanceof BrokerRegistrationRequestData r) {
            ControllerResult<BrokerRegistrationResponseData> res = logic.registerBroker(img, r);
            if (res.response().errorCode == 0) {
                long offset = res.records().isEmpty() ? img.offset() : commit(res.records());
                heartbeats.registered(r.brokerId, offset);
                if (!res.records().isEmpty()) {
                    LOG.info("Registered broker {} with epoch {} (listeners {}{})", r.brokerId, res.response().brokerEpoch,
                            r.listeners.stream().map(l -> l.name + "://" + l.host + ":" + l.port).toList(),
                            r.rack == null || r.rack.isEmpty() ? "" : ", rack " + r.rack);
                }
            }
            return res.response();
        }
        ControllerResult<? extends ApiMessage> res;
        if (req instanceof CreateTopicsRequestData c) {
            res = logic.createTopics(img, c);
        } else if (req instanceof DeleteTopicsRequestData d) {
            res = logic.deleteTopics(img, d);
        } else if (req instanceof CreatePartitionsRequestData c) {
            res = logic.createPartitions(img, c);
        } else if (req instanceof IncrementalAlterConfigsRequestData c) {
            res = logic.incrementalAlterConfigs(img, c);
        } else if (req instanceof dev.runnel.wire.message.AlterClientQuotasRequestData q) {
            res = logic.alterClientQuotas(img, q);
        } else if (req instanceof AllocateProducerIdsRequestData a) {
            res = logic.allocateProducerIds(img, a);
        } else if (req instanceof dev.runnel.wire.message.AlterPartitionRequestData a) {
            res = logic.alterPartition(img, a);
        } else if (req instanceof dev.runnel.wire.message.ElectLeadersRequestData e) {
            res = logic.electLeaders(img, e);
        } else if (req instanceof dev.runnel.wire.message.AlterPartitionReassignmentsRequestData a) {
            res = logic.alterPartitionReassignments(img, a);
        } else {
            throw new IllegalArgumentException("Unexpected controller request " + req.getClass().getSimpleName());
        }
        if (!res.records().isEmpty()) {
            commit(res.records());
        }
        return res.response();
    }

    private BrokerHeartbeatResponseData heartbeat(BrokerHeartbeatRequestData hb) throws Exception {
        BrokerHeartbeatResponseData resp = new BrokerHeartbeatResponseData();
        MetadataImage img = image.get();
        BrokerRegistration b = img.broker(hb.brokerId);
        if (b == null) {
            return resp.setErrorCode(Errors.BROKER_ID_NOT_REGISTERED.code());
        }
        if (b.epoch() != hb.brokerEpoch) {
            return resp.setErrorCode(Errors.STALE_BROKER_EPOCH.code());
        }
        heartbeats.touch(hb.brokerId);
        boolean caughtUp = heartbeats.caughtUp(hb.brokerId, hb.currentMetadataOffset, activationOffset);
        List<Message> records = List.of();
        if (hb.wantShutDown) {
            records = logic.beginControlledShutdown(img, hb.brokerId);
            if (!records.isEmpty()) {
                LOG.info("Broker {} is shutting down; moving its leaderships", hb.brokerId);
            }
        } else if (b.fenced() && !hb.wantFence && caughtUp) {
            records = logic.unfence(img, hb.brokerId);
            LOG.info("Unfenced broker {} (epoch {}): it has caught up with the metadata log", hb.brokerId, b.epoch());
        } else if (!b.fenced() && hb.wantFence) {
            records = logic.fence(img, hb.brokerId);
        }
        if (!records.isEmpty()) {
            commit(records);
            img = image.get();
            b = img.broker(hb.brokerId);
        }
        boolean shutDown = hb.wantShutDown && !ControllerLogic.leadsAnything(img, hb.brokerId);
        if (shutDown && !b.fenced()) {
            // As Kafka: a broker that may stop is fenced at once, so clients stop being sent to it.
            commit(logic.fence(img, hb.brokerId));
            img = image.get();
            b = img.broker(hb.brokerId);
        }
        return resp.setIsCaughtUp(caughtUp).setIsFenced(b.fenced()).setShouldShutDown(shutDown);
    }

    /** The quorum as the leader sees it (only the leader knows its followers' positions). */
    private ApiMessage describeQuorum() {
        dev.runnel.metadata.raft.QuorumState q = log.describeQuorum();
        var resp = new dev.runnel.wire.message.DescribeQuorumResponseData();
        var topic = new dev.runnel.wire.message.DescribeQuorumResponseData.TopicData().setTopicName("__cluster_metadata");
        var p = new dev.runnel.wire.message.DescribeQuorumResponseData.PartitionData().setPartitionIndex(0)
                .setLeaderId(q.leaderId()).setLeaderEpoch((int) q.term()).setHighWatermark(exclusive(q.highWatermark()));
        for (dev.runnel.metadata.raft.QuorumState.Replica r : q.voters()) {
            p.currentVoters.add(replica(r));
        }
        for (dev.runnel.metadata.raft.QuorumState.Replica r : q.observers()) {
            p.observers.add(replica(r));
        }
        topic.partitions.add(p);
        resp.topics.add(topic);
        return resp;
    }

    private static dev.runnel.wire.message.DescribeQuorumResponseData.ReplicaState replica(dev.runnel.metadata.raft.QuorumState.Replica r) {
        return new dev.runnel.wire.message.DescribeQuorumResponseData.ReplicaState().setReplicaId(r.nodeId())
                .setLogEndOffset(exclusive(r.logEndOffset())).setLastFetchTimestamp(r.lastFetchTimestamp())
                .setLastCaughtUpTimestamp(r.lastCaughtUpTimestamp());
    }

    /** Ratis reports the last index a replica has; Kafka's offsets count the next one (an end offset). */
    private static long exclusive(long inclusiveIndex) {
        return inclusiveIndex < 0 ? inclusiveIndex : inclusiveIndex + 1;
    }

    private void tick() {
        try {
            if (!log.isReadyLeader()) {
                if (active) {
                    LOG.info("Node {} is no longer the active controller", nodeId);
                }
                active = false;
                return;
            }
            ensureActive();
            MetadataImage img = image.get();
            List<Message> completed = logic.completeReassignments(img);
            if (!completed.isEmpty()) {
                LOG.info("Completing the reassignment of {} partition(s): their new replicas are in sync", completed.size());
                commit(completed);
                img = image.get();
            }
            for (BrokerRegistration b : img.brokers().values()) {
                if (!b.fenced() && heartbeats.expired(b.id())) {
                    List<Message> records = logic.fence(img, b.id());
                    LOG.info("Fencing broker {} (epoch {}): no heartbeat for longer than the session timeout", b.id(), b.epoch());
                    commit(records);
                    img = image.get();
                }
            }
        } catch (NotControllerException e) {
            active = false;
        } catch (Exception e) {
            LOG.warn("Controller tick failed: {}", e.toString());
        }
    }

    /** On the first request or tick after this node became the leader: start every broker's session afresh. */
    private void ensureActive() throws Exception {
        if (!log.isReadyLeader()) {
            active = false;
            throw new NotControllerException("Node " + nodeId + " is not the active controller (leader: " + log.leaderId() + ")");
        }
        if (active) {
            return;
        }
        heartbeats.clear();
        MetadataImage img = image.get();
        if (img.clusterId() == null) {
            commit(List.of(new ClusterIdRecord().setClusterId(initialClusterId)));
            LOG.info("New cluster: id {}", initialClusterId);
            img = image.get();
        }
        activationOffset = img.offset();
        for (BrokerRegistration b : img.brokers().values()) {
            heartbeats.touch(b.id());
        }
        active = true;
        LOG.info("Node {} is the active controller (term {}, metadata offset {})", nodeId, log.term(), activationOffset);
    }

    private long commit(List<Message> records) throws Exception {
        try {
            return log.append(MetadataRecords.encodeBatch(new ArrayList<>(records))).get(appendTimeoutMs, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof NotControllerException nce) {
                active = false;
                throw nce;
            }
            throw e;
        } catch (TimeoutException e) {
            throw new TimeoutException("The metadata quorum did not commit within " + appendTimeoutMs + " ms");
        }
    }

    @Override
    public void close() {
        thread.shutdownNow();
        try {
            thread.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
