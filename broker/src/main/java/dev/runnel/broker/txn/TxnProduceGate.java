package dev.runnel.broker.txn;

import dev.runnel.broker.Broker;
import dev.runnel.broker.network.RequestContext;
import dev.runnel.broker.produce.ProduceChecks;
import dev.runnel.broker.state.Partition;
import dev.runnel.broker.state.Topic;
import dev.runnel.groupcoord.txn.TxnPartition;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.ByteBufRecords;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.ProduceRequestData;
import dev.runnel.wire.records.RecordBatch;
import io.netty.buffer.ByteBuf;
import io.netty.util.AttributeKey;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Transactions on the produce path (KIP-890): a transactional produce to a partition the producer has no open
 * transaction in is accepted only once the transaction coordinator added the partition to the transaction (Produce
 * v12+ from a transactions V2 client, which sends no AddPartitionsToTxn) or confirmed that it is in it (older
 * versions: transactions V1 clients, when {@code transaction.partition.verification.enable}, Kafka's default). Partitions the coordinator refuses get Kafka's errors:
 * NOT_ENOUGH_REPLICAS for the retriable ones (so every client retries without a metadata refresh), INVALID_TXN_STATE,
 * INVALID_PRODUCER_EPOCH for a fenced producer. CONCURRENT_TRANSACTIONS (the previous transaction's markers still
 * going out) is retried here every 20 ms for up to 100 ms first, as Kafka's
 * {@code add.partitions.to.txn.retry.backoff.ms}/{@code .max.ms}.
 *
 * <p>While a request of a connection waits for the coordinator, the produce requests that follow it on that
 * connection wait too, so batches are appended in the order the client sent them.
 */
public final class TxnProduceGate {
    private static final AttributeKey<CompletableFuture<Void>> TAIL = AttributeKey.valueOf("runnel.txnProduceTail");

    /** What the coordinator said about one partition of the request. */
    public record Refusal(Errors error, String message) {
    }

    private TxnProduceGate() {
    }

    /**
     * Runs {@code produce} (which appends and returns the response) once the partitions it needs are in the
     * transaction; {@code produce} gets the partitions refused. Called on the connection's event loop.
     */
    public static CompletableFuture<ApiMessage> run(RequestContext ctx, short version, ProduceRequestData req,
            Function<Map<ProduceRequestData.PartitionProduceData, Refusal>, CompletableFuture<ApiMessage>> produce) {
        CompletableFuture<Void> previous = ctx.channel().attr(TAIL).get();
        boolean transactional = req.transactionalId != null && ProduceChecks.hasTransactionalRecords(req);
        // Produce v12+ from a V2 client: add the partition; older versions (V1 clients): only verify, when enabled
        boolean add = transactional && version >= 12 && TransactionsV2.enabled(ctx.broker());
        boolean verify = add || (transactional && verificationEnabled(ctx.broker()));
        if (!verify && (previous == null || previous.isDone())) {
            return produce.apply(Map.of());
        }
        CompletableFuture<Void> after = previous == null ? CompletableFuture.completedFuture(null) : previous;
        // The records are slices of the request frame, released when this call returns: keep them until the
        // (possibly later) append has run.
        List<ByteBuf> held = retainRecords(req);
        CompletableFuture<CompletableFuture<ApiMessage>> started = after
                .thenCompose(v -> verify ? addMissing(ctx.broker(), req, version, add)
                        : CompletableFuture.<Map<ProduceRequestData.PartitionProduceData, Refusal>>completedFuture(Map.of()))
                .thenApply(produce)
                .whenComplete((f, failure) -> held.forEach(ByteBuf::release));
        ctx.channel().attr(TAIL).set(started.handle((f, failure) -> null));
        return started.thenCompose(f -> f);
    }

    private static List<ByteBuf> retainRecords(ProduceRequestData req) {
        List<ByteBuf> held = new ArrayList<>();
        for (ProduceRequestData.TopicProduceData td : req.topicData) {
            for (ProduceRequestData.PartitionProduceData pd : td.partitionData) {
                if (pd.records instanceof ByteBufRecords br) {
                    held.add(br.buffer().retain());
                }
            }
        }
        return held;
    }

    private static boolean verificationEnabled(Broker broker) {
        String v = broker.config().get("transaction.partition.verification.enable");
        return v == null || Boolean.parseBoolean(v.trim());
    }

    /**
     * The partitions of the request whose producer has no open transaction in them yet: added to the transaction
     * ({@code add}, transactions V2) or checked to be in it (V1, KIP-890 part 1).
     */
    private static CompletableFuture<Map<ProduceRequestData.PartitionProduceData, Refusal>> addMissing(Broker broker,
            ProduceRequestData req, short version, boolean add) {
        // normally one producer id and epoch per request; grouped anyway
        Map<Long, Map<Short, List<ProduceRequestData.PartitionProduceData>>> byProducer = new LinkedHashMap<>();
        Map<ProduceRequestData.PartitionProduceData, TxnPartition> names = new IdentityHashMap<>();
        for (ProduceRequestData.TopicProduceData td : req.topicData) {
            // Produce v13 names topics by id only
            Topic topic = version >= 13 ? broker.topics().get(td.topicId) : broker.topics().get(td.name);
            for (ProduceRequestData.PartitionProduceData pd : td.partitionData) {
                Partition partition = topic == null ? null : topic.partition(pd.index);
                if (partition == null || !partition.isLeader() || !(pd.records instanceof ByteBufRecords br)) {
                    continue; // the produce answers these as usual
                }
                ByteBuf b = br.buffer();
                int p = b.readerIndex();
                if (b.readableBytes() < RecordBatch.ATTRIBUTES_OFFSET + 2
                        || b.getByte(p + RecordBatch.MAGIC_OFFSET) != RecordBatch.MAGIC_V2
                        || (b.getShort(p + RecordBatch.ATTRIBUTES_OFFSET) & RecordBatch.TRANSACTIONAL_FLAG_MASK) == 0) {
                    continue;
                }
                long pid = b.getLong(p + RecordBatch.PRODUCER_ID_OFFSET);
                short epoch = b.getShort(p + RecordBatch.PRODUCER_EPOCH_OFFSET);
                if (partition.log().hasOngoingTransaction(pid, epoch)) {
                    continue; // added already: its first batch of this transaction is in the log
                }
                byProducer.computeIfAbsent(pid, x -> new LinkedHashMap<>()).computeIfAbsent(epoch, x -> new ArrayList<>()).add(pd);
                names.put(pd, new TxnPartition(topic.name(), pd.index));
            }
        }
        if (byProducer.isEmpty()) {
            return CompletableFuture.completedFuture(Map.of());
        }
        Map<ProduceRequestData.PartitionProduceData, Refusal> refused = new IdentityHashMap<>();
        List<CompletableFuture<Void>> adds = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TxnPartitionAdder.RETRY_MAX_MS);
        byProducer.forEach((pid, byEpoch) -> byEpoch.forEach((epoch, pds) -> {
            List<TxnPartition> partitions = pds.stream().map(names::get).toList();
            if (add) {
                adds.add(TxnPartitionAdder.of(broker).addRetrying(req.transactionalId, pid, epoch, partitions, deadline).thenAccept(e -> {
                    Refusal r = refusal(e);
                    if (r != null) {
                        synchronized (refused) {
                            pds.forEach(pd -> refused.put(pd, r));
                        }
                    }
                }));
            } else {
                adds.add(TxnPartitionAdder.of(broker).verify(req.transactionalId, pid, epoch, partitions)
                        .exceptionally(t -> Map.of())
                        .thenAccept(results -> {
                            synchronized (refused) {
                                for (ProduceRequestData.PartitionProduceData pd : pds) {
                                    Refusal r = verifyRefusal(results.getOrDefault(names.get(pd), Errors.UNKNOWN_SERVER_ERROR),
                                            version);
                                    if (r != null) {
                                        refused.put(pd, r);
                                    }
                                }
                            }
                        }));
            }
        }));
        return CompletableFuture.allOf(adds.toArray(new CompletableFuture<?>[0])).thenApply(v -> refused);
    }

    /**
     * Kafka's produce errors for a failed verification (null: the partition is in the transaction): a partition
     * outside the transaction is TRANSACTION_ABORTABLE for Produce v11+ (clients that know it abort the transaction),
     * INVALID_TXN_STATE before; a producer id the coordinator does not know comes back as INVALID_PRODUCER_ID_MAPPING.
     */
    static Refusal verifyRefusal(Errors e, short version) {
        if (e == Errors.INVALID_TXN_STATE && version >= 11) {
            return new Refusal(Errors.TRANSACTION_ABORTABLE, "Partition was not added to the transaction");
        }
        if (e == Errors.INVALID_PRODUCER_ID_MAPPING) {
            return new Refusal(e, null);
        }
        return refusal(e);
    }

    /** Kafka's produce errors for a failed add (null: added). */
    static Refusal refusal(Errors e) {
        return switch (e) {
            case NONE -> null;
            case CONCURRENT_TRANSACTIONS, NETWORK_EXCEPTION, COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE,
                    NOT_COORDINATOR, REQUEST_TIMED_OUT -> new Refusal(Errors.NOT_ENOUGH_REPLICAS,
                    "Unable to verify the partition has been added to the transaction. Underlying error: " + e.name());
            case PRODUCER_FENCED, INVALID_PRODUCER_EPOCH -> new Refusal(Errors.INVALID_PRODUCER_EPOCH,
                    "The producer's epoch is stale: a newer producer with the same transactional id exists");
            case INVALID_TXN_STATE, INVALID_PRODUCER_ID_MAPPING -> new Refusal(Errors.INVALID_TXN_STATE,
                    "Partition was not added to the transaction");
            default -> new Refusal(e, null);
        };
    }
}
