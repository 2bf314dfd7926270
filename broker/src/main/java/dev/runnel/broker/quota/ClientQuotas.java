package dev.runnel.broker.quota;

import dev.runnel.broker.Broker;
import dev.runnel.broker.cluster.ClusterNode;
import dev.runnel.broker.cluster.ClusterTopicAdmin;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.AlterClientQuotasRequestData;
import dev.runnel.wire.message.AlterClientQuotasResponseData;
import dev.runnel.wire.message.DescribeClientQuotasRequestData;
import dev.runnel.wire.message.DescribeClientQuotasResponseData;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.WeakHashMap;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A broker's client quotas: what is set (DescribeClientQuotas reads it, AlterClientQuotas changes it) and the
 * produce and fetch byte-rate managers that enforce it.
 *
 * <p>Where the quotas live: on a single node in {@link QuotaFile} next to the topic metadata, so they survive a
 * restart; in a cluster in the metadata log as Kafka's ClientQuotaRecords, written by the active controller and
 * applied by every node from its metadata image, so a quota altered through one broker holds on all of them.
 */
public final class ClientQuotas {
    private static final Logger LOG = LoggerFactory.getLogger(ClientQuotas.class);
    private static final Map<Broker, ClientQuotas> BY_BROKER = new WeakHashMap<>();
    public static final int DEFAULT_WINDOW_NUM = 11;
    public static final int DEFAULT_WINDOW_SIZE_SECONDS = 1;

    private final Broker broker;
    private final QuotaFile file;
    private final ClientQuotaManager produce;
    private final ClientQuotaManager fetch;
    private volatile Map<QuotaEntity, Map<String, Double>> current = Map.of();
    private volatile Object lastImageQuotas;

    private ClientQuotas(Broker broker, QuotaFile file, int samples, int windowSeconds) {
        this.broker = broker;
        this.file = file;
        this.produce = new ClientQuotaManager(ClientQuotaRules.PRODUCER_BYTE_RATE, samples, windowSeconds);
        this.fetch = new ClientQuotaManager(ClientQuotaRules.CONSUMER_BYTE_RATE, samples, windowSeconds);
    }

    /** The broker's quotas, made (and loaded from disk or the metadata image) on first use. */
    public static ClientQuotas forBroker(Broker broker) {
        synchronized (BY_BROKER) {
            return BY_BROKER.computeIfAbsent(broker, ClientQuotas::open);
        }
    }

    private static ClientQuotas open(Broker broker) {
        int samples = intConfig(broker, "quota.window.num", DEFAULT_WINDOW_NUM);
        int window = intConfig(broker, "quota.window.size.seconds", DEFAULT_WINDOW_SIZE_SECONDS);
        ClusterNode cluster = broker.cluster();
        ClientQuotas q = new ClientQuotas(broker, cluster == null ? new QuotaFile(broker.config().logDirs().get(0)) : null,
                samples, window);
        if (cluster == null) {
            try {
                q.publish(q.file.load());
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot read the client quotas", e);
            }
        } else {
            cluster.addImageListener(img -> {
                if (img.clientQuotas() != q.lastImageQuotas) {
                    q.lastImageQuotas = img.clientQuotas();
                    q.publish(fromImage(img.clientQuotas()));
                }
            });
        }
        return q;
    }

    private static int intConfig(Broker broker, String key, int dflt) {
        String v = broker.config().get(key);
        return v == null || v.isBlank() ? dflt : Integer.parseInt(v.trim());
    }

    public ClientQuotaManager produce() {
        return produce;
    }

    public ClientQuotaManager fetch() {
        return fetch;
    }

    public Map<QuotaEntity, Map<String, Double>> current() {
        return current;
    }

    private void publish(Map<QuotaEntity, Map<String, Double>> quotas) {
        current = quotas;
        produce.update(quotas);
        fetch.update(quotas);
    }

    private static Map<QuotaEntity, Map<String, Double>> fromImage(Map<Map<String, String>, Map<String, Double>> image) {
        Map<QuotaEntity, Map<String, Double>> out = new HashMap<>();
        image.forEach((entity, values) -> out.put(new QuotaEntity(entity), values));
        return Map.copyOf(out);
    }

    // ---- the hooks on the produce and fetch paths

    /** The record bytes of a produce request: what its producer_byte_rate counts (one pass over its partitions). */
    public static long recordBytes(dev.runnel.wire.message.ProduceRequestData req) {
        long bytes = 0;
        for (dev.runnel.wire.message.ProduceRequestData.TopicProduceData td : req.topicData) {
            for (dev.runnel.wire.message.ProduceRequestData.PartitionProduceData pd : td.partitionData) {
                bytes += pd.records == null ? 0 : pd.records.sizeInBytes();
            }
        }
        return bytes;
    }

    /**
     * Counts a produce request against its client's producer_byte_rate; when over, mutes the connection and returns
     * the throttle time for the response (0 otherwise). Kafka counts the request's size at the time it answers.
     */
    public int throttleProduce(dev.runnel.broker.network.RequestContext ctx, long bytes) {
        if (!produce.enabled()) {
            return 0;
        }
        int ms = produce.recordAndGetThrottleMs(ClientQuotaManager.ANONYMOUS, ctx.clientId(), bytes, System.currentTimeMillis());
        ChannelThrottle.mute(ctx.channel(), ms);
        return ms;
    }

    /** The largest consumer fetch that its consumer_byte_rate allows in one measured span. */
    public int maxFetchBytes(dev.runnel.broker.network.RequestContext ctx) {
        return fetch.maxValueInQuotaWindow(ClientQuotaManager.ANONYMOUS, ctx.clientId(), System.currentTimeMillis());
    }

    /**
     * Counts a consumer's fetch response (its record bytes) against its consumer_byte_rate. When that is exceeded,
     * as in Kafka: the bytes are taken back, the response loses its partitions (the client throttles itself and
     * fetches again; a full fetch gets no session), carries the throttle time, and the connection is muted.
     * Returns whether the fetch was throttled.
     */
    public boolean throttleFetch(dev.runnel.broker.network.RequestContext ctx, dev.runnel.wire.message.FetchResponseData resp) {
        if (!fetch.enabled()) {
            return false;
        }
        long bytes = 0;
        for (dev.runnel.wire.message.FetchResponseData.FetchableTopicResponse t : resp.responses) {
            for (dev.runnel.wire.message.FetchResponseData.PartitionData pd : t.partitions) {
                bytes += pd.records == null ? 0 : pd.records.sizeInBytes();
            }
        }
        long now = System.currentTimeMillis();
        int ms = fetch.recordAndGetThrottleMs(ClientQuotaManager.ANONYMOUS, ctx.clientId(), bytes, now);
        if (ms <= 0) {
            return false;
        }
        fetch.unrecord(ClientQuotaManager.ANONYMOUS, ctx.clientId(), bytes, now);
        resp.responses.clear();
        resp.setThrottleTimeMs(ms);
        ChannelThrottle.mute(ctx.channel(), ms);
        return true;
    }

    // ---- AlterClientQuotas

    /** Applies Kafka's rules and, unless validating only, stores the accepted changes. */
    public CompletableFuture<AlterClientQuotasResponseData> alter(AlterClientQuotasRequestData req) {
        List<ClientQuotaRules.Alteration> alterations = new ArrayList<>(req.entries.size());
        for (AlterClientQuotasRequestData.EntryData e : req.entries) {
            Map<String, String> entity = new TreeMap<>();
            for (AlterClientQuotasRequestData.EntityData ed : e.entity) {
                entity.put(ed.entityType, ed.entityName); // a repeated type: the last one, as Kafka's request reader
            }
            List<ClientQuotaRules.Op> ops = new ArrayList<>(e.ops.size());
            for (AlterClientQuotasRequestData.OpData op : e.ops) {
                ops.add(new ClientQuotaRules.Op(op.key, op.remove ? null : op.value));
            }
            alterations.add(new ClientQuotaRules.Alteration(new QuotaEntity(entity), ops));
        }
        ClusterNode cluster = broker.cluster();
        if (cluster == null) {
            synchronized (this) {
                ClientQuotaRules.Result r = ClientQuotaRules.alter(current, alterations);
                if (!req.validateOnly && !r.changes().isEmpty()) {
                    Map<QuotaEntity, Map<String, Double>> next = applied(current, r.changes());
                    file.store(next);
                    publish(next);
                    LOG.info("Client quotas changed: {}", r.changes());
                }
                return CompletableFuture.completedFuture(response(r.outcomes()));
            }
        }
        ClientQuotaRules.Result r = ClientQuotaRules.alter(current, alterations);
        if (req.validateOnly || r.changes().isEmpty()) {
            return CompletableFuture.completedFuture(response(r.outcomes()));
        }
        AlterClientQuotasRequestData forward = new AlterClientQuotasRequestData();
        for (ClientQuotaRules.Change c : r.changes()) {
            AlterClientQuotasRequestData.EntryData e = new AlterClientQuotasRequestData.EntryData();
            c.entity().entries().forEach((t, n) -> e.entity.add(new AlterClientQuotasRequestData.EntityData().setEntityType(t).setEntityName(n)));
            e.ops.add(new AlterClientQuotasRequestData.OpData().setKey(c.key()).setValue(c.value() == null ? 0.0 : c.value())
                    .setRemove(c.value() == null));
            forward.entries.add(e);
        }
        return cluster.call(forward, new AlterClientQuotasResponseData(), ClusterTopicAdmin.TIMEOUT_MS)
                .thenCompose(resp -> cluster.awaitImage(img -> holds(img.clientQuotas(), r.changes()), ClusterTopicAdmin.TIMEOUT_MS))
                .handle((img, err) -> {
                    if (err == null) {
                        LOG.info("Client quotas changed: {}", r.changes());
                        return response(r.outcomes());
                    }
                    Map<QuotaEntity, ClientQuotaRules.Outcome> failed = new LinkedHashMap<>();
                    r.outcomes().forEach((entity, o) -> failed.put(entity, o.ok() ? new ClientQuotaRules.Outcome(
                            Errors.REQUEST_TIMED_OUT, "The controller did not apply the change: " + err.getMessage()) : o));
                    return response(failed);
                });
    }

    private static boolean holds(Map<Map<String, String>, Map<String, Double>> image, List<ClientQuotaRules.Change> changes) {
        for (ClientQuotaRules.Change c : changes) {
            Map<String, Double> values = image.getOrDefault(c.entity().entries(), Map.of());
            if (!Objects.equals(values.get(c.key()), c.value())) {
                return false;
            }
        }
        return true;
    }

    static Map<QuotaEntity, Map<String, Double>> applied(Map<QuotaEntity, Map<String, Double>> base, List<ClientQuotaRules.Change> changes) {
        Map<QuotaEntity, Map<String, Double>> next = new HashMap<>();
        base.forEach((k, v) -> next.put(k, new TreeMap<>(v)));
        for (ClientQuotaRules.Change c : changes) {
            Map<String, Double> values = next.computeIfAbsent(c.entity(), k -> new TreeMap<>());
            if (c.value() == null) {
                values.remove(c.key());
            } else {
                values.put(c.key(), c.value());
            }
            if (values.isEmpty()) {
                next.remove(c.entity());
            }
        }
        Map<QuotaEntity, Map<String, Double>> frozen = new HashMap<>();
        next.forEach((k, v) -> frozen.put(k, Map.copyOf(v)));
        return Map.copyOf(frozen);
    }

    private static AlterClientQuotasResponseData response(Map<QuotaEntity, ClientQuotaRules.Outcome> outcomes) {
        AlterClientQuotasResponseData resp = new AlterClientQuotasResponseData();
        outcomes.forEach((entity, o) -> {
            AlterClientQuotasResponseData.EntryData e = new AlterClientQuotasResponseData.EntryData()
                    .setErrorCode(o.error().code()).setErrorMessage(o.message());
            entity.entries().forEach((t, n) -> e.entity.add(new AlterClientQuotasResponseData.EntityData().setEntityType(t).setEntityName(n)));
            resp.entries.add(e);
        });
        return resp;
    }

    // ---- DescribeClientQuotas

    static final byte MATCH_EXACT = 0;
    static final byte MATCH_DEFAULT = 1;
    static final byte MATCH_SPECIFIED = 2;

    /** Kafka's filter: exact names, default entities, or any entity of a type; strict allows no other types. */
    public DescribeClientQuotasResponseData describe(DescribeClientQuotasRequestData req) {
        DescribeClientQuotasResponseData resp = new DescribeClientQuotasResponseData().setErrorMessage(null);
        Map<String, String> exact = new HashMap<>();
        Set<String> anyOf = new HashSet<>();
        for (DescribeClientQuotasRequestData.ComponentData c : req.components) {
            String type = c.entityType;
            if (type == null || type.isEmpty()) {
                return error(resp, Errors.INVALID_REQUEST, "Invalid empty entity type.");
            }
            if (exact.containsKey(type) || anyOf.contains(type)) {
                return error(resp, Errors.INVALID_REQUEST, "Entity type " + type + " cannot appear more than once in the filter.");
            }
            if (!QuotaEntity.IP.equals(type) && !QuotaEntity.USER.equals(type) && !QuotaEntity.CLIENT_ID.equals(type)) {
                return error(resp, Errors.UNSUPPORTED_VERSION, "Unsupported entity type " + type);
            }
            switch (c.matchType) {
                case MATCH_EXACT -> {
                    if (c.match == null) {
                        return error(resp, Errors.INVALID_REQUEST, "Request specified MATCH_TYPE_EXACT, but set match string to null.");
                    }
                    exact.put(type, c.match);
                }
                case MATCH_DEFAULT -> {
                    if (c.match != null) {
                        return error(resp, Errors.INVALID_REQUEST, "Request specified MATCH_TYPE_DEFAULT, but also specified a match string.");
                    }
                    exact.put(type, null);
                }
                case MATCH_SPECIFIED -> {
                    if (c.match != null) {
                        return error(resp, Errors.INVALID_REQUEST, "Request specified MATCH_TYPE_SPECIFIED, but also specified a match string.");
                    }
                    anyOf.add(type);
                }
                default -> {
                    return error(resp, Errors.INVALID_REQUEST, "Unknown match type " + c.matchType);
                }
            }
        }
        boolean ip = exact.containsKey(QuotaEntity.IP) || anyOf.contains(QuotaEntity.IP);
        boolean userOrClient = exact.containsKey(QuotaEntity.USER) || anyOf.contains(QuotaEntity.USER)
                || exact.containsKey(QuotaEntity.CLIENT_ID) || anyOf.contains(QuotaEntity.CLIENT_ID);
        if (ip && userOrClient) {
            return error(resp, Errors.INVALID_REQUEST, "Invalid entity filter component combination. IP filter component should "
                    + "not be used with user or clientId filter component.");
        }
        Map<QuotaEntity, Map<String, Double>> sorted = new TreeMap<>(java.util.Comparator.comparing(QuotaEntity::toString));
        sorted.putAll(current);
        sorted.forEach((entity, values) -> {
            if (matches(entity, exact, anyOf, req.strict)) {
                DescribeClientQuotasResponseData.EntryData e = new DescribeClientQuotasResponseData.EntryData();
                entity.entries().forEach((t, n) -> e.entity.add(new DescribeClientQuotasResponseData.EntityData().setEntityType(t).setEntityName(n)));
                values.forEach((k, v) -> e.values.add(new DescribeClientQuotasResponseData.ValueData().setKey(k).setValue(v)));
                resp.entries.add(e);
            }
        });
        return resp;
    }

    private static boolean matches(QuotaEntity entity, Map<String, String> exact, Set<String> anyOf, boolean strict) {
        Map<String, String> e = entity.entries();
        if (strict && e.size() != exact.size() + anyOf.size()) {
            return false;
        }
        for (Map.Entry<String, String> m : exact.entrySet()) {
            if (!e.containsKey(m.getKey()) || !Objects.equals(e.get(m.getKey()), m.getValue())) {
                return false;
            }
        }
        for (String t : anyOf) {
            if (!e.containsKey(t)) {
                return false;
            }
        }
        return true;
    }

    private static DescribeClientQuotasResponseData error(DescribeClientQuotasResponseData resp, Errors e, String message) {
        resp.entries = null;
        return resp.setErrorCode(e.code()).setErrorMessage(message);
    }
}
