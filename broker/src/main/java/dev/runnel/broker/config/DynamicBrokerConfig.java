package dev.runnel.broker.config;

import dev.runnel.broker.BrokerConfig;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kafka's dynamic broker configs (KIP-226) for this node: the configuration in force is server.properties overridden
 * by the cluster-wide dynamic configs (resource name "") and then by this broker's own (resource name = node.id).
 * Everything that reads a dynamic key reads {@link #current()} (a volatile snapshot) or registers a {@link Listener}
 * that is told when a key changes; which keys may change is the {@code dynamic} flag of {@link BrokerConfigKeys}.
 *
 * <p>This class checks and applies; where the values are kept is the caller's business (the metadata log in a
 * cluster, a file in the log directory on a single node).
 */
public final class DynamicBrokerConfig {
    private static final Logger LOG = LoggerFactory.getLogger(DynamicBrokerConfig.class);

    /** Told after the configuration changed, with the keys whose values in force changed. */
    @FunctionalInterface
    public interface Listener {
        void reconfigure(BrokerConfig config, Set<String> changed);
    }

    private final BrokerConfig staticConfig;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private volatile BrokerConfig current;

    public DynamicBrokerConfig(BrokerConfig staticConfig) {
        this.staticConfig = staticConfig.staticConfig();
        this.current = staticConfig;
    }

    /** The configuration in force now. */
    public BrokerConfig current() {
        return current;
    }

    public void addListener(Listener l) {
        listeners.add(l);
    }

    /**
     * Why these dynamic configs cannot be stored for one resource (this broker when {@code perBroker}, else the
     * cluster-wide default), in Kafka's words (it answers INVALID_REQUEST with them), or null when they can. The
     * other resource's values are taken as they are now.
     */
    public String problem(Map<String, String> proposed, boolean perBroker) {
        Set<String> readOnly = new TreeSet<>();
        for (String key : proposed.keySet()) {
            ConfigDef.Key def = BrokerConfigKeys.key(key);
            if (def != null && !def.dynamic()) {
                readOnly.add(key);
            }
        }
        if (!readOnly.isEmpty()) {
            // Kafka prints a Scala Set here.
            return "Cannot update these configs dynamically: Set(" + String.join(", ", readOnly) + ")";
        }
        for (Map.Entry<String, String> e : proposed.entrySet()) {
            ConfigDef.Key def = BrokerConfigKeys.key(e.getKey());
            if (def == null) {
                continue; // as Kafka: a key it does not define is kept as a custom config
            }
            try {
                ConfigDef.parse(def, e.getValue());
            } catch (ConfigDef.ConfigException x) {
                return x.getMessage();
            }
        }
        try {
            BrokerConfig next = perBroker ? staticConfig.withDynamic(current.dynamicDefaultConfigs(), proposed)
                    : staticConfig.withDynamic(proposed, current.dynamicBrokerConfigs());
            next.maxConnectionsPerIpOverrides(); // resolves the host names, as Kafka does when it applies them
        } catch (IllegalArgumentException x) {
            return x.getMessage();
        }
        return null;
    }

    /**
     * Puts these dynamic configs in force and tells the listeners what changed. A value that is not acceptable
     * (stored by an older version, or by another broker with another table) is left out and logged, as Kafka does.
     */
    public synchronized void apply(Map<String, String> clusterDefault, Map<String, String> perBroker) {
        BrokerConfig before = current;
        if (before.dynamicDefaultConfigs().equals(clusterDefault) && before.dynamicBrokerConfigs().equals(perBroker)) {
            return;
        }
        Map<String, String> d = usable(clusterDefault, false, "default cluster");
        Map<String, String> b = usable(perBroker, true, "broker");
        BrokerConfig next;
        try {
            next = staticConfig.withDynamic(d, b);
        } catch (IllegalArgumentException e) {
            LOG.error("Dynamic broker configs {} (cluster default) and {} (this broker) together are invalid and are ignored: {}",
                    d, b, e.getMessage());
            next = staticConfig;
        }
        current = next;
        Set<String> changed = new TreeSet<>();
        Set<String> keys = new HashSet<>(before.all().keySet());
        keys.addAll(next.all().keySet());
        for (String k : keys) {
            if (!java.util.Objects.equals(before.get(k), next.get(k))) {
                changed.add(k);
            }
        }
        if (changed.isEmpty()) {
            return;
        }
        LOG.info("Dynamic broker configs in force: cluster default {}, this broker {} (changed: {})", d, b, changed);
        for (Listener l : new ArrayList<>(listeners)) {
            try {
                l.reconfigure(next, changed);
            } catch (RuntimeException e) {
                LOG.error("Applying changed broker configs {} failed", changed, e);
            }
        }
    }

    private Map<String, String> usable(Map<String, String> stored, boolean perBroker, String what) {
        Map<String, String> out = new LinkedHashMap<>();
        stored.forEach((k, v) -> {
            String bad = problemOfOne(k, v);
            if (bad != null) {
                LOG.error("Dynamic {} config {}={} is ignored: {}", what, k, v, bad);
            } else {
                out.put(k, v);
            }
        });
        return out;
    }

    private static String problemOfOne(String key, String value) {
        ConfigDef.Key def = BrokerConfigKeys.key(key);
        if (def == null) {
            return null;
        }
        if (!def.dynamic()) {
            return "it cannot be updated dynamically";
        }
        try {
            ConfigDef.parse(def, value);
            return null;
        } catch (ConfigDef.ConfigException e) {
            return e.getMessage();
        }
    }
}
