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
 * which is how Kafka's brokers ask each other.
 */
public final class TxnPartitionAdder {
    private static final int REQUEST_TIMEOUT_MS = 30_000;
    /** Kafka's add.partitions.to.txn.retry.backoff.ms and add.partitions.to.txn.retry.backoff.max.ms defaults. */
    public static final long RETRY_BACKOFF_MS = 20;
    public static final long RETRY_MAX_MS = 100;
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
        TransactionsService service = TransactionsService.of(broker);
        TransactionCoordinator coordinator = service.coordinator();
        int partition = coordinator.partitionFor(transactionalId);
        ClusterNode cluster = broker.cluster();
        if (cluster == null || coordinator.status(partition) != TransactionCoordinator.Status.NOT_LOADED) {
            return coordinator.addPartitions(transactionalId, producerId, producerEpoch, partitions, true);
        }
        TopicImage t = cluster.image().topic(TransactionStateTopic.NAME);
        PartitionRegistration reg = t == null ? null : t.partition(partition);
        if (reg == null || !reg.hasLeader() || reg.leader() == cluster.nodeId()) {
            return CompletableFuture.completedFuture(Errors.COORDINATOR_NOT_AVAILABLE);
        }
        int leader = reg.leader();
        return CompletableFuture.supplyAsync(() -> send(leader, transactionalId, producerId, producerEpoch, partitions), senders);
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

    private Errors send(int nodeId, String transactionalId, long producerId, short producerEpoch,
                        Collection<TxnPartition> partitions) {
        BrokerRegistration b = broker.cluster().image().broker(nodeId);
        BrokerRegistration.Endpoint endpoint = b == null || b.fenced() ? null : broker.cluster().endpoint(b);
        if (endpoint == null) {
            return Errors.COORDINATOR_NOT_AVAILABLE;
        }
        Map<String, AddPartitionsToTxnRequestData.AddPartitionsToTxnTopic> byTopic = new LinkedHashMap<>();
        for (TxnPartition p : partitions) {
            byTopic.computeIfAbsent(p.topic(), n -> new AddPartitionsToTxnRequestData.AddPartitionsToTxnTopic().setName(n))
                    .partitions.add(p.partition());
        }
        AddPartitionsToTxnRequestData.AddPartitionsToTxnTransaction txn = new AddPartitionsToTxnRequestData.AddPartitionsToTxnTransaction()
                .setTransactionalId(transactionalId).setProducerId(producerId).setProducerEpoch(producerEpoch)
                .setVerifyOnly(false);
        txn.topics.addAll(byTopic.values());
        AddPartitionsToTxnRequestData request = new AddPartitionsToTxnRequestData();
        request.transactions.add(txn);
        InterBrokerChannel channel = channels.computeIfAbsent(nodeId, id -> new InterBrokerChannel(endpoint.host(),
                endpoint.port(), REQUEST_TIMEOUT_MS));
        try {
            AddPartitionsToTxnResponseData response = channel.send(ApiKeys.ADD_PARTITIONS_TO_TXN, (short) 5, request,
                    new AddPartitionsToTxnResponseData());
            if (response.errorCode != Errors.NONE.code()) {
                return Errors.forCode(response.errorCode);
            }
            for (AddPartitionsToTxnResponseData.AddPartitionsToTxnResult r : response.resultsByTransaction) {
                for (AddPartitionsToTxnResponseData.AddPartitionsToTxnTopicResult tr : r.topicResults) {
                    for (AddPartitionsToTxnResponseData.AddPartitionsToTxnPartitionResult pr : tr.resultsByPartition) {
                        if (pr.partitionErrorCode != Errors.NONE.code()) {
                            return Errors.forCode(pr.partitionErrorCode);
                        }
                    }
                }
            }
            return Errors.NONE;
        } catch (IOException e) {
            channels.remove(nodeId, channel);
            return Errors.NETWORK_EXCEPTION;
        }
    }
}
