package dev.runnel.broker;

import dev.runnel.broker.handlers.ApiHandler;
import dev.runnel.broker.metrics.BrokerMetrics;
import dev.runnel.broker.state.TopicManager;
import dev.runnel.wire.message.ApiKeys;
import io.netty.util.HashedWheelTimer;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/** The broker's shared state, handed to every handler: configuration, topics, handlers, timers. */
public final class Broker {
    private final BrokerConfig config;
    private final String clusterId;
    private final TopicManager topics;
    private final Map<ApiKeys, ApiHandler> handlers = new EnumMap<>(ApiKeys.class);
    private final HashedWheelTimer timer;
    private final BrokerMetrics metrics;
    private volatile dev.runnel.broker.cluster.ClusterNode cluster;
    private volatile dev.runnel.broker.config.DynamicBrokerConfig dynamicConfig;
    private volatile dev.runnel.broker.state.DynamicConfigStore dynamicConfigStore;
    private volatile String advertisedHost;
    private volatile int advertisedPort;

    Broker(BrokerConfig config, String clusterId, TopicManager topics, HashedWheelTimer timer, BrokerMetrics metrics) {
        this.config = config;
        this.clusterId = clusterId;
        this.topics = topics;
        this.timer = timer;
        this.metrics = metrics;
    }

    private boolean controllerEndpoint;

    /**
     * The Kafka-protocol side of a controller listener: only what tools run with {@code --bootstrap-controller}
     * ask (ApiVersions, DescribeCluster for controller endpoints, DescribeQuorum).
     */
    public static Broker controllerEndpoint(BrokerConfig config, dev.runnel.broker.cluster.ClusterNode cluster) {
        Broker b = new Broker(config, null, null, null, BrokerMetrics.disabled());
        b.cluster = cluster;
        b.controllerEndpoint = true;
        b.register(new dev.runnel.broker.handlers.ApiVersionsHandler());
        b.register(new dev.runnel.broker.handlers.DescribeClusterHandler());
        b.register(new dev.runnel.broker.handlers.DescribeQuorumHandler());
        return b;
    }

    /** True for the handlers behind a controller listener, false for a broker's client listener. */
    public boolean isControllerEndpoint() {
        return controllerEndpoint;
    }

    void setCluster(dev.runnel.broker.cluster.ClusterNode cluster) {
        this.cluster = cluster;
    }

    /**
     * This node's membership of a cluster (Kafka's KRaft mode, {@code process.roles} set), or null for the
     * single-node default, where this node is every partition's leader and the controller.
     */
    public dev.runnel.broker.cluster.ClusterNode cluster() {
        return cluster;
    }

    void register(ApiHandler h) {
        handlers.put(h.api(), h);
    }

    void setAdvertised(String host, int port) {
        this.advertisedHost = host;
        this.advertisedPort = port;
    }

    /** The configuration in force: server.properties with the dynamic broker configs applied. */
    public BrokerConfig config() {
        dev.runnel.broker.config.DynamicBrokerConfig d = dynamicConfig;
        return d == null ? config : d.current();
    }

    void setDynamicConfig(dev.runnel.broker.config.DynamicBrokerConfig dynamic, dev.runnel.broker.state.DynamicConfigStore store) {
        this.dynamicConfig = dynamic;
        this.dynamicConfigStore = store;
    }

    /** The dynamic broker configs of this node (null behind a controller listener). */
    public dev.runnel.broker.config.DynamicBrokerConfig dynamicConfig() {
        return dynamicConfig;
    }

    /** Where a single node keeps its dynamic broker configs; null in a cluster (the metadata log keeps them). */
    public dev.runnel.broker.state.DynamicConfigStore dynamicConfigStore() {
        return dynamicConfigStore;
    }

    public int nodeId() {
        return config.nodeId();
    }

    public String clusterId() {
        if (clusterId == null && cluster != null) {
            return cluster.image().clusterId();
        }
        return clusterId;
    }

    public TopicManager topics() {
        return topics;
    }

    public Map<ApiKeys, ApiHandler> handlers() {
        return Collections.unmodifiableMap(handlers);
    }

    /** Timer for delayed operations (fetch long-poll, produce timeouts); tasks must be cheap. */
    public HashedWheelTimer timer() {
        return timer;
    }

    /** The broker's meters (request, topic, connection, purgatory counters); see {@link BrokerMetrics}. */
    public BrokerMetrics metrics() {
        return metrics;
    }

    public String advertisedHost() {
        return advertisedHost;
    }

    public int advertisedPort() {
        return advertisedPort;
    }
}
