package dev.runnel.broker.handlers;

import dev.runnel.broker.metrics.BrokerMetrics;
import dev.runnel.broker.network.RequestContext;
import dev.runnel.broker.produce.LegacyProduce;
import dev.runnel.broker.produce.ProduceChecks;
import dev.runnel.broker.state.Partition;
import dev.runnel.broker.state.Topic;
import dev.runnel.broker.state.TopicManager;
import dev.runnel.log.AppendResult;
import dev.runnel.log.LogErrors;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.Errors;
import dev.runnel.wire.Records;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.ProduceRequestData;
import dev.runnel.wire.message.ProduceResponseData;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Produce (0): appends each partition's record batch to its log and answers with the offsets.
 * <p>
 * Versions 0-13 are advertised, as Kafka 4.4 does (it still advertises v0 too, for librdkafka before 2.11.1).
 * v12 is v11 for non-transactional data; a client only uses it for transactional data with transactions V2
 * (KIP-890), which needs the transaction.version feature at 2: this broker does not advertise that feature, so
 * a Kafka 4.x producer keeps transactional data on v11. v13 addresses topics by id (KIP-516): an id no topic
 * has is answered with UNKNOWN_TOPIC_ID for each of its partitions. Produce v0-2 carry legacy (magic 0/1) message sets from
 * clients before Kafka 0.11: they are validated and converted to one RecordBatch v2 before the log sees them
 * ({@link LegacyProduce}), as Kafka 3.x does with log format v2.
 * <p>
 * Checks follow Kafka's KafkaApis/ReplicaManager order: transactional records without a transactional id
 * fail the whole request; then per partition: unknown topic or partition, the v3+ record shape (one v2
 * batch, no zstd before v7), required acks, writes to internal topics, and finally the log's validation
 * (CRC, sizes, record layout, timestamps, producer sequences). acks=-1 needs an ISR of at least
 * {@code min.insync.replicas}, capped at the replication factor as Kafka 4.x does (Kafka 3.x refused such
 * writes with NOT_ENOUGH_REPLICAS); on this single node the ISR is always the whole replica set. The records are a view of the request frame; the log writes them to its file before this
 * returns. acks=0 gets no response, and as in Kafka the
 * connection is closed when such a request failed, so that the producer notices and refreshes metadata.
 * acks=-1 is answered right after the append: on a single node the append is the whole ISR.
 */
public final class ProduceHandler implements ApiHandler {
    private static final Logger LOG = LoggerFactory.getLogger(ProduceHandler.class);

    /** Kafka lets only its admin tooling (this client id) write to internal topics. */
    static final String ADMIN_CLIENT_ID = "__admin_client";

    private final dev.runnel.broker.quota.ClientQuotas quotas;

    /** With the broker's client quotas, whose producer_byte_rate each request counts against. */
    public ProduceHandler(dev.runnel.broker.quota.ClientQuotas quotas) {
        this.quotas = quotas;
    }

    @Override
    public ApiKeys api() {
        return ApiKeys.PRODUCE;
    }

    @Override
    public short highestVersion() {
        return 13;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        ProduceRequestData req = (ProduceRequestData) request;
        return dev.runnel.broker.txn.TxnProduceGate.run(ctx, ctx.apiVersion(), req, refused -> handle(ctx, req, refused));
    }

    /** Appends and answers; {@code refused}: partitions transactions V2 could not add to the producer's transaction. */
    private CompletableFuture<ApiMessage> handle(RequestContext ctx, ProduceRequestData req,
            Map<ProduceRequestData.PartitionProduceData, dev.runnel.broker.txn.TxnProduceGate.Refusal> refused) {
        short version = ctx.apiVersion();
        short acks = req.acks;
        ProduceResponseData resp = new ProduceResponseData();
        boolean anyError = false;
        List<CompletableFuture<Void>> waits = new ArrayList<>();
        long requestBytes = quotas.produce().enabled() ? dev.runnel.broker.quota.ClientQuotas.recordBytes(req) : 0;

        if (req.transactionalId == null && ProduceChecks.hasTransactionalRecords(req)) {
            // Kafka: only an authorized transactional id may write transactional records.
            fillAll(req, resp, Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, null);
            anyError = true;
        } else {
            TopicManager topics = ctx.broker().topics();
            boolean acksValid = acks == 0 || acks == 1 || acks == -1;
            boolean internalAllowed = ADMIN_CLIENT_ID.equals(ctx.clientId());
            for (ProduceRequestData.TopicProduceData td : req.topicData) {
                boolean byId = version >= 13;
                Topic topic = byId ? topics.get(td.topicId) : topics.get(td.name);
                // v13 writes only the id; the name stays set (not sent) for the leader hints below.
                ProduceResponseData.TopicProduceResponse tr = new ProduceResponseData.TopicProduceResponse()
                        .setName(byId && topic != null ? topic.name() : td.name).setTopicId(td.topicId);
                tr.partitionResponses = new ArrayList<>(td.partitionData.size());
                String topicName = topic != null ? topic.name() : byId ? td.topicId.toString() : td.name;
                BrokerMetrics.TopicMeters meters = topic == null ? null : ctx.broker().metrics().topic(topic.name());
                for (ProduceRequestData.PartitionProduceData pd : td.partitionData) {
                    dev.runnel.broker.txn.TxnProduceGate.Refusal refusal = refused.get(pd);
                    ProduceResponseData.PartitionProduceResponse pr = byId && topic == null
                            ? error(pd.index, Errors.UNKNOWN_TOPIC_ID, null, -1L)
                            : refusal != null ? error(pd.index, refusal.error(), refusal.message(), -1L)
                            : produce(ctx, version, acksValid, internalAllowed, topic, topicName, pd, req.transactionalId, meters, acks);
                    anyError |= pr.errorCode != 0;
                    tr.partitionResponses.add(pr);
                    Partition partition = topic == null ? null : topic.partition(pd.index);
                    if (acks == -1 && pr.errorCode == 0 && partition != null && partition.replicas() != null) {
                        // Committed only once the in-sync followers have it: wait for the high watermark.
                        long required = partition.logEndOffset();
                        CompletableFuture<Errors> w = dev.runnel.broker.produce.AcksAllWait.start(partition, required,
                                req.timeoutMs, ctx.broker().timer(), ctx.broker().metrics());
                        waits.add(w.thenAccept(e -> {
                            if (e != Errors.NONE) {
                                pr.setErrorCode(e.code()).setBaseOffset(-1L).setLogAppendTimeMs(-1L);
                            }
                        }));
                    }
                }
                resp.responses.add(tr);
            }
        }

        if (anyError && waits.isEmpty()) {
            dev.runnel.broker.cluster.LeaderHints.addTo(ctx.broker().cluster(), resp, version);
        }
        if (acks == 0) {
            quotas.throttleProduce(ctx, requestBytes);
            if (anyError) {
                LOG.info("Closing connection from {} (client id {}) after a failed produce request with acks=0",
                        ctx.clientHost(), ctx.clientId());
                ctx.channel().close();
            }
            return CompletableFuture.completedFuture(null);
        }
        if (!waits.isEmpty()) {
            return CompletableFuture.allOf(waits.toArray(new CompletableFuture<?>[0])).thenApply(v -> {
                dev.runnel.broker.cluster.LeaderHints.addTo(ctx.broker().cluster(), resp, version);
                resp.setThrottleTimeMs(quotas.throttleProduce(ctx, requestBytes));
                return (ApiMessage) resp;
            });
        }
        resp.setThrottleTimeMs(quotas.throttleProduce(ctx, requestBytes));
        return CompletableFuture.completedFuture(resp);
    }

    private static ProduceResponseData.PartitionProduceResponse produce(RequestContext ctx, short version, boolean acksValid,
                                                                       boolean internalAllowed, Topic topic,
                                                                       String topicName,
                                                                       ProduceRequestData.PartitionProduceData pd,
                                                                       String transactionalId,
                                                                       BrokerMetrics.TopicMeters meters, short acks) {
        Partition partition = topic == null ? null : topic.partition(pd.index);
        if (partition == null || !partition.isOnline()) {
            return error(pd.index, Errors.UNKNOWN_TOPIC_OR_PARTITION, null, -1L);
        }
        if (!partition.isLeader()) {
            return error(pd.index, Errors.NOT_LEADER_OR_FOLLOWER, "This server is not the leader for that topic-partition.", -1L);
        }
        if (acks == -1 && partition.replicas() != null && partition.replicas().underMinIsr()) {
            // As Kafka: refused before the append, so nothing acknowledged-looking is half written.
            return error(pd.index, Errors.NOT_ENOUGH_REPLICAS, "The size of the current ISR " + partition.replicas().isr()
                    + " is insufficient to satisfy the min.isr requirement", -1L);
        }
        Records records = pd.records;
        ByteBuffer buf = ProduceChecks.asByteBuffer(records);
        if (version >= 3) {
            ProduceChecks.Problem p = ProduceChecks.checkV3Shape(version, buf);
            if (p != null) {
                return error(pd.index, p.error(), p.message(), -1L);
            }
        }
        if (!acksValid) {
            return error(pd.index, Errors.INVALID_REQUIRED_ACKS, null, -1L);
        }
        if (topic.internal() && !internalAllowed) {
            return error(pd.index, Errors.INVALID_TOPIC_EXCEPTION, "Cannot append to internal topic " + topicName, -1L);
        }
        if (buf == null) {
            // Produce v0-2 with a null record set: nothing Kafka's log would accept either.
            return error(pd.index, Errors.INVALID_RECORD, "The records contain no record batch", -1L);
        }
        int size = buf.remaining();
        if (version <= 2 && LegacyProduce.applies(buf)) {
            LegacyProduce.Converted c = LegacyProduce.convert(ctx.broker().config(), topic, buf, System.currentTimeMillis());
            if (c.error() != Errors.NONE) {
                return error(pd.index, c.error(), c.message(), c.error() == Errors.CORRUPT_MESSAGE
                        || c.error() == Errors.MESSAGE_TOO_LARGE ? -1L : partition.logStartOffset());
            }
            buf = c.batch();
        }
        AppendResult r;
        try {
            r = partition.appendAsLeader(buf);
        } catch (RuntimeException e) {
            if (!partition.isOnline()) {
                return error(pd.index, Errors.UNKNOWN_TOPIC_OR_PARTITION, null, -1L); // deleted meanwhile
            }
            LOG.error("Append to {}-{} failed", topicName, pd.index, e);
            return error(pd.index, Errors.UNKNOWN_SERVER_ERROR, e.toString(), -1L);
        }
        if (!r.isOk()) {
            Errors err = Errors.forCode((short) r.errorCode());
            // Kafka reports the log start offset for validation and producer-state errors, -1 for the rest.
            long logStart = switch (r.errorCode()) {
                case LogErrors.CORRUPT_MESSAGE, LogErrors.MESSAGE_TOO_LARGE, LogErrors.RECORD_LIST_TOO_LARGE,
                        LogErrors.KAFKA_STORAGE_ERROR -> -1L;
                default -> r.logStartOffset();
            };
            if (r.errorCode() == LogErrors.KAFKA_STORAGE_ERROR && version < 4) {
                err = Errors.NOT_LEADER_OR_FOLLOWER; // Produce v0-3 clients do not know KAFKA_STORAGE_ERROR
            }
            ProduceResponseData.PartitionProduceResponse failed = error(pd.index, err, r.errorMessage(), logStart);
            // Per-record errors (a key-less record on a compacted topic): Kafka's record_errors, Produce v8+.
            for (dev.runnel.log.AppendResult.RecordError re : r.recordErrors()) {
                failed.recordErrors.add(new ProduceResponseData.BatchIndexAndErrorMessage()
                        .setBatchIndex(re.batchIndex()).setBatchIndexErrorMessage(re.message()));
            }
            return failed;
        }
        if (!r.duplicate()) {
            meters.produced(size, r.recordCount());
        }
        return new ProduceResponseData.PartitionProduceResponse()
                .setIndex(pd.index)
                .setErrorCode(Errors.NONE.code())
                .setBaseOffset(r.firstOffset())
                .setLogAppendTimeMs(r.logAppendTime())
                .setLogStartOffset(r.logStartOffset());
    }

    private static ProduceResponseData.PartitionProduceResponse error(int index, Errors e, String message, long logStartOffset) {
        return new ProduceResponseData.PartitionProduceResponse()
                .setIndex(index)
                .setErrorCode(e.code())
                .setBaseOffset(-1L)
                .setLogAppendTimeMs(-1L)
                .setLogStartOffset(logStartOffset)
                .setErrorMessage(message);
    }

    private static void fillAll(ProduceRequestData req, ProduceResponseData resp, Errors e, String message) {
        for (ProduceRequestData.TopicProduceData td : req.topicData) {
            ProduceResponseData.TopicProduceResponse tr = new ProduceResponseData.TopicProduceResponse().setName(td.name)
                    .setTopicId(td.topicId);
            for (ProduceRequestData.PartitionProduceData pd : td.partitionData) {
                tr.partitionResponses.add(error(pd.index, e, message, -1L));
            }
            resp.responses.add(tr);
        }
    }
}
