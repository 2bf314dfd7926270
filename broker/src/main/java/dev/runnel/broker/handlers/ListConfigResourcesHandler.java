package dev.runnel.broker.handlers;

import dev.runnel.broker.Broker;
import dev.runnel.broker.network.RequestContext;
import dev.runnel.broker.state.Topic;
import dev.runnel.metadata.image.BrokerRegistration;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.ListConfigResourcesRequestData;
import dev.runnel.wire.message.ListConfigResourcesResponseData;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;

/**
 * ListConfigResources (74). v0 is Kafka 3.x's ListClientMetricsResources ({@code kafka-client-metrics --list},
 * {@code kafka-configs --describe --entity-type client-metrics}); v1 (KIP-1142) lists the resources of the asked
 * types, all supported types when none is asked: topics, brokers and broker loggers (one per broker id), client
 * metrics and groups. Runnel has no client metrics subscriptions (KIP-714) and no group configs, so those two are
 * always empty; an unknown type is refused with INVALID_REQUEST.
 */
public final class ListConfigResourcesHandler implements ApiHandler {
    static final byte TOPIC = 2;
    static final byte BROKER = 4;
    static final byte BROKER_LOGGER = 8;
    static final byte CLIENT_METRICS = 16;
    static final byte GROUP = 32;
    private static final List<Byte> SUPPORTED = List.of(TOPIC, BROKER, BROKER_LOGGER, CLIENT_METRICS, GROUP);

    @Override
    public ApiKeys api() {
        return ApiKeys.LIST_CONFIG_RESOURCES;
    }

    @Override
    public short highestVersion() {
        return 1;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        ListConfigResourcesRequestData req = (ListConfigResourcesRequestData) request;
        ListConfigResourcesResponseData resp = new ListConfigResourcesResponseData();
        resp.errorCode = Errors.NONE.code();
        if (ctx.apiVersion() == 0) {
            return CompletableFuture.completedFuture(resp); // client metrics resources: none
        }
        Set<Byte> types = new LinkedHashSet<>(req.resourceTypes == null || req.resourceTypes.isEmpty() ? SUPPORTED : req.resourceTypes);
        List<Byte> unsupported = types.stream().filter(t -> !SUPPORTED.contains(t)).toList();
        if (!unsupported.isEmpty()) {
            resp.errorCode = Errors.INVALID_REQUEST.code();
            return CompletableFuture.completedFuture(resp);
        }
        Broker broker = ctx.broker();
        for (byte type : types) {
            for (String name : names(broker, type)) {
                resp.configResources.add(new ListConfigResourcesResponseData.ConfigResource().setResourceName(name)
                        .setResourceType(type));
            }
        }
        return CompletableFuture.completedFuture(resp);
    }

    private static List<String> names(Broker broker, byte type) {
        TreeSet<String> out = new TreeSet<>();
        switch (type) {
            case TOPIC -> {
                for (Topic t : broker.topics().all()) {
                    if (!t.deleted()) {
                        out.add(t.name());
                    }
                }
            }
            case BROKER, BROKER_LOGGER -> {
                if (broker.cluster() == null) {
                    out.add(Integer.toString(broker.nodeId()));
                } else {
                    for (BrokerRegistration b : broker.cluster().liveBrokers()) {
                        out.add(Integer.toString(b.id()));
                    }
                }
            }
            default -> {
                // client metrics and groups: none exist in Runnel
            }
        }
        return new ArrayList<>(out);
    }
}
