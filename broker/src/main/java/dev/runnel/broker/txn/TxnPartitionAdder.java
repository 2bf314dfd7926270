package dev.runnel.broker.txn;

import dev.runnel.broker.Broker;
import dev.runnel.broker.cluster.ClusterNode;
import dev.runnel.groupcoord.txn.TransactionCoordinator;
import dev.runnel.groupcoord.txn.TransactionStateTopic;
import dev.runnel.groupcoord.txn.TxnPartition;
import dev.runnel.metadata.image.BrokerRegistration;
import dev.runnel.metadata.image.PartitionRegistration;
import dev.runnel.metadata.image.TopicImage;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.AddPartitionsToTxnRequestData;
import dev.runnel.wire.message.AddPartitionsToTxnResponseData;
import dev.runnel.wire.message.ApiKeys;
import java.io.IOException;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Transactions V2 (KIP-890): adds partitions to a producer's transaction on the client's behalf, as a partition
 * leader does for a transactional produce (and the group coordinator for TxnOffsetCommit v5). The coordinator of the
 * transactional id is this node's {@link TransactionCoordinator} when this node leads its {@code __transaction_state}
 * partition; otherwise the request goes to that partition's leader as AddPartitionsToTxn v5 with VerifyOnly false,
 * which is how Kafka's brokers ask each other. For transactions V1 producers it only asks whether partitions are in
 * the transaction ({@link #verify}, AddPartitionsToTxn v4 with VerifyOnly, KIP-890 part 1).
 */
public final class TxnPartitionAdder {
    private static final int REQUEST_TIMEOUT_MS = 30_000;
    /** Kafka's add.partitions.to.txn.retry.backoff.ms and add.partitions.to.txn.retry.backoff.max.ms defaults. */
    public static final long RETRY_BACKOFF_MS = 20;
    public static final long RETRY_MAX_MS = 100;
    private static final int LOCAL = -1;
    private static final int UNAVAILABLE = -2;
    private static final Map<Broker, TxnPartitionAdder> ADDERS = new WeakHashMap<>();

    private final Broker broker;
    private final Map<Integer, InterBrokerChannel> channels = new ConcurrentHashMap<>();
    private final ExecutorService senders;

    private TxnPartitionAdder(Broker broker) {
        this.broker = broker;
        this.senders = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "runnel-txn-add-partitions");
            t.setDaemon(true);
            return t;
        });
    }

    public static synchronized TxnPartitionAdder of(Broker broker) {
        return ADDERS.computeIfAbsent(broker, TxnPartitionAdder::new);
    }

    /** Adds the partitions; completes with the coordinator's answer (one error for all of them). */
    public CompletableFuture<Errors> add(String transactionalId, long producerId, short producerEpoch,
                                         Collection<TxnPartition> partitions) {
        int node = coordinatorNode(transactionalId);
        if (node == LOCAL) {
            return TransactionsService.of(broker).coordinator().addPartitions(transactionalId, producerId, producerEpoch,
                    partitions, true);
        }
        if (node == UNAVAILABLE) {
            return CompletableFuture.completedFuture(Errors.COORDINATOR_NOT_AVAILABLE);
        }
        return CompletableFuture.supplyAsync(() -> {
            for (Errors e : exchange(node, transactionalId, producerId, producerEpoch, partitions, false).values()) {
                if (e != Errors.NONE) {
                    return e;
                }
            }
            return Errors.NONE;
        }, senders);
    }

    /** Whether each partition is in the producer's open transaction (NONE) or why not, as the coordinator answers. */
    public CompletableFuture<Map<TxnPartition, Errors>> verify(String transactionalId, long producerId, short producerEpoch,
                                                             Collection<TxnPartition> partitions) {
        int node = coordinatorNode(transactionalId);
        if (node == LOCAL) {
            return CompletableFuture.completedFuture(TransactionsService.of(broker).coordinator()
                    .verifyPartitions(transactionalId, producerId, producerEpoch, partitions));
        }
        if (node == UNAVAILABLE) {
            return CompletableFuture.completedFuture(all(partitions, Errors.COORDINATOR_NOT_AVAILABLE));
        }
        return CompletableFuture.supplyAsync(() -> {
            Map<TxnPartition, Errors> out = exchange(node, transactionalId, producerId, producerEpoch, partitions, true);
            partitions.forEach(p -> out.putIfAbsent(p, Errors.UNKNOWN_SERVER_ERROR));
            return out;
        }, senders);
    }

    /**
     * The node that coordinates the transactional id: {@link #LOCAL} when it is this one (or a single node),
     * {@link #UNAVAILABLE} when its {@code __transaction_state} partition has no other leader.
     */
    private int coordinatorNode(String transactionalId) {
        TransactionCoordinator coordinator = TransactionsService.of(broker).coordinator();
        int partition = coordinator.partitionFor(transactionalId);
        ClusterNode cluster = broker.cluster();
        if (cluster == null || coordinator.status(partition) != TransactionCoordinator.Status.NOT_LOADED) {
            return LOCAL;
        }
        TopicImage t = cluster.image().topic(TransactionStateTopic.NAME);
        PartitionRegistration reg = t == null ? null : t.partition(partition);
        return reg == null || !reg.hasLeader() || reg.leader() == cluster.nodeId() ? UNAVAILABLE : reg.leader();
    }

    private static Map<TxnPartition, Errors> all(Collection<TxnPartition> partitions, Errors e) {
        Map<TxnPartition, Errors> out = new LinkedHashMap<>();
        partitions.forEach(p -> out.put(p, e));
        return out;
    }

    /**
     * AddPartitionsToTxn to the coordinator's node (v4 with VerifyOnly, v5 to add): the answer per partition, in the
     * response's order; an error for the whole request or the connection is given to every partition.
     */
    private Map<TxnPartition, Errors> exchange(int nodeId, String transactionalId, long producerId, short producerEpoch,
                                               Collection<TxnPartition> partitions, boolean verifyOnly) {
        BrokerRegistration b = broker.cluster().image().broker(nodeId);
        BrokerRegistration.Endpoint endpoint = b == null || b.fenced() ? null : broker.cluster().endpoint(b);
        if (endpoint == null) {
            return all(partitions, Errors.COORDINATOR_NOT_AVAILABLE);
        }
        AddPartitionsToTxnRequestData request = request(transactionalId, producerId, producerEpoch, partitions, verifyOnly);
        InterBrokerChannel channel = channels.computeIfAbsent(nodeId, id -> new InterBrokerChannel(endpoint.host(),
                endpoint.port(), REQUEST_TIMEOUT_MS));
        try {
            AddPartitionsToTxnResponseData response = channel.send(ApiKeys.ADD_PARTITIONS_TO_TXN,
                    verifyOnly ? (short) 4 : (short) 5, request, new AddPartitionsToTxnResponseData());
            if (response.errorCode != Errors.NONE.code()) {
                return all(partitions, Errors.forCode(response.errorCode));
            }
            Map<TxnPartition, Errors> out = new LinkedHashMap<>();
            for (AddPartitionsToTxnResponseData.AddPartitionsToTxnResult r : response.resultsByTransaction) {
                for (AddPartitionsToTxnResponseData.AddPartitionsToTxnTopicResult tr : r.topicResults) {
                    for (AddPartitionsToTxnResponseData.AddPartitionsToTxnPartitionResult pr : tr.resultsByPartition) {
                        out.put(new TxnPartition(tr.name, pr.partitionIndex), Errors.forCode(pr.partitionErrorCode));
                    }
                }
            }
            return out;
        } catch (IOException e) {
            channels.remove(nodeId, channel);
            return all(partitions, Errors.NETWORK_EXCEPTION);
        }
    }

    private static AddPartitionsToTxnRequestData request(String transactionalId, long producerId, short producerEpoch,
                                                         Collection<TxnPartition> partitions, boolean verifyOnly) {
        Map<String, AddPartitionsToTxnRequestData.AddPartitionsToTxnTopic> byTopic = new LinkedHashMap<>();
        for (TxnPartition p : partitions) {
            byTopic.computeIfAbsent(p.topic(), n -> new AddPartitionsToTxnRequestData.AddPartitionsToTxnTopic().setName(n))
                    .partitions.add(p.partition());
        }
        AddPartitionsToTxnRequestData.AddPartitionsToTxnTransaction txn = new AddPartitionsToTxnRequestData.AddPartitionsToTxnTransaction()
                .setTransactionalId(transactionalId).setProducerId(producerId).setProducerEpoch(producerEpoch)
                .setVerifyOnly(verifyOnly);
        txn.topics.addAll(byTopic.values());
        AddPartitionsToTxnRequestData request = new AddPartitionsToTxnRequestData();
        request.transactions.add(txn);
        return request;
    }

    /**
     * As {@link #add}, retrying CONCURRENT_TRANSACTIONS (the previous transaction's markers still going out) every
     * {@link #RETRY_BACKOFF_MS} until {@code deadlineNanos} ({@link System#nanoTime()}).
     */
    public CompletableFuture<Errors> addRetrying(String transactionalId, long producerId, short producerEpoch,
                                                 Collection<TxnPartition> partitions, long deadlineNanos) {
        return add(transactionalId, producerId, producerEpoch, partitions)
                .exceptionally(t -> Errors.UNKNOWN_SERVER_ERROR)
                .thenCompose(e -> {
                    if (e != Errors.CONCURRENT_TRANSACTIONS || System.nanoTime() - deadlineNanos >= 0) {
                        return CompletableFuture.completedFuture(e);
                    }
                    CompletableFuture<Void> later = new CompletableFuture<>();
                    broker.timer().newTimeout(t -> later.complete(null), RETRY_BACKOFF_MS, java.util.concurrent.TimeUnit.MILLISECONDS);
                    return later.thenCompose(v -> addRetrying(transactionalId, producerId, producerEpoch, partitions, deadlineNanos));
                });
    }

    /** As {@link #addRetrying} with Kafka's retry time from now. */
    public CompletableFuture<Errors> addRetrying(String transactionalId, long producerId, short producerEpoch,
                                                 Collection<TxnPartition> partitions) {
        return addRetrying(transactionalId, producerId, producerEpoch, partitions,
                System.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(RETRY_MAX_MS));
    }
}
