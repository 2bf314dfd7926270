package dev.runnel.broker.handlers;

import dev.runnel.broker.Broker;
import dev.runnel.broker.network.RequestContext;
import dev.runnel.broker.state.Topic;
import dev.runnel.broker.txn.TransactionsService;
import dev.runnel.groupcoord.txn.TransactionCoordinator;
import dev.runnel.groupcoord.txn.TxnPartition;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.AddPartitionsToTxnRequestData;
import dev.runnel.wire.message.AddPartitionsToTxnRequestData.AddPartitionsToTxnTopic;
import dev.runnel.wire.message.AddPartitionsToTxnRequestData.AddPartitionsToTxnTransaction;
import dev.runnel.wire.message.AddPartitionsToTxnResponseData;
import dev.runnel.wire.message.AddPartitionsToTxnResponseData.AddPartitionsToTxnPartitionResult;
import dev.runnel.wire.message.AddPartitionsToTxnResponseData.AddPartitionsToTxnTopicResult;
import dev.runnel.wire.message.ApiKeys;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * AddPartitionsToTxn (24), v0-5: a producer adds the partitions it is about to write to its transaction. v0-3 carry
 * one transaction (what clients send); v4+ carry several, each either added or, with VerifyOnly, checked (the broker
 * side of KIP-890's verification). As Kafka: if some partitions do not exist they get UNKNOWN_TOPIC_OR_PARTITION and
 * the others OPERATION_NOT_ATTEMPTED; before v2, PRODUCER_FENCED is reported as INVALID_PRODUCER_EPOCH.
 */
public final class AddPartitionsToTxnHandler implements ApiHandler {
    private final TransactionCoordinator coordinator;

    private AddPartitionsToTxnHandler(TransactionCoordinator coordinator) {
        this.coordinator = coordinator;
    }

    public static AddPartitionsToTxnHandler create(Broker broker) {
        return new AddPartitionsToTxnHandler(TransactionsService.of(broker).coordinator());
    }

    @Override
    public ApiKeys api() {
        return ApiKeys.ADD_PARTITIONS_TO_TXN;
    }

    @Override
    public short highestVersion() {
        return 5;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        AddPartitionsToTxnRequestData req = (AddPartitionsToTxnRequestData) request;
        short version = ctx.apiVersion();
        AddPartitionsToTxnResponseData resp = new AddPartitionsToTxnResponseData();
        if (version < 4) {
            AddPartitionsToTxnTransaction txn = new AddPartitionsToTxnTransaction().setTransactionalId(req.v3AndBelowTransactionalId)
                    .setProducerId(req.v3AndBelowProducerId).setProducerEpoch(req.v3AndBelowProducerEpoch)
                    .setVerifyOnly(false).setTopics(req.v3AndBelowTopics);
            return handleOne(ctx, txn, version).thenApply(results -> {
                resp.resultsByTopicV3AndBelow = results;
                return resp;
            });
        }
        resp.errorCode = Errors.NONE.code();
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (AddPartitionsToTxnTransaction txn : req.transactions) {
            AddPartitionsToTxnResponseData.AddPartitionsToTxnResult result = new AddPartitionsToTxnResponseData.AddPartitionsToTxnResult()
                    .setTransactionalId(txn.transactionalId);
            resp.resultsByTransaction.add(result);
            all.add(handleOne(ctx, txn, version).thenAccept(result::setTopicResults));
        }
        return CompletableFuture.allOf(all.toArray(new CompletableFuture[0])).thenApply(v -> resp);
    }

    private CompletableFuture<List<AddPartitionsToTxnTopicResult>> handleOne(RequestContext ctx, AddPartitionsToTxnTransaction txn,
                                                                             short version) {
        Map<TxnPartition, Errors> results = new LinkedHashMap<>();
        List<TxnPartition> partitions = new ArrayList<>();
        boolean unknown = false;
        for (AddPartitionsToTxnTopic t : txn.topics) {
            Topic topic = ctx.broker().topics().get(t.name);
            for (int p : t.partitions) {
                TxnPartition tp = new TxnPartition(t.name, p);
                partitions.add(tp);
                if (topic == null || p < 0 || p >= topic.partitionCount()) {
                    results.put(tp, Errors.UNKNOWN_TOPIC_OR_PARTITION);
                    unknown = true;
                }
            }
        }
        CompletableFuture<Void> decided;
        if (unknown) {
            partitions.forEach(p -> results.putIfAbsent(p, Errors.OPERATION_NOT_ATTEMPTED));
            decided = CompletableFuture.completedFuture(null);
        } else if (txn.verifyOnly) {
            results.putAll(coordinator.verifyPartitions(txn.transactionalId, txn.producerId, txn.producerEpoch, partitions));
            decided = CompletableFuture.completedFuture(null);
        } else {
            // v4+ is sent only by brokers; without VerifyOnly it is a transactions V2 (KIP-890) partition leader adding
            // the partition of a transactional produce for its client
            boolean transactionsV2 = version >= 4;
            decided = coordinator.addPartitions(txn.transactionalId, txn.producerId, txn.producerEpoch, partitions,
                    transactionsV2).thenAccept(e -> {
                Errors error = e == Errors.PRODUCER_FENCED && version < 2 ? Errors.INVALID_PRODUCER_EPOCH : e;
                partitions.forEach(p -> results.put(p, error));
            });
        }
        return decided.thenApply(v -> byTopic(results));
    }

    private static List<AddPartitionsToTxnTopicResult> byTopic(Map<TxnPartition, Errors> results) {
        Map<String, AddPartitionsToTxnTopicResult> byTopic = new LinkedHashMap<>();
        results.forEach((p, e) -> byTopic.computeIfAbsent(p.topic(), n -> new AddPartitionsToTxnTopicResult().setName(n))
                .resultsByPartition.add(new AddPartitionsToTxnPartitionResult().setPartitionIndex(p.partition())
                        .setPartitionErrorCode(e.code())));
        return new ArrayList<>(byTopic.values());
    }
}
