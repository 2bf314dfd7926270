package dev.runnel.broker.cluster;

import dev.runnel.broker.BrokerConfig;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A node's place in a cluster, read from Kafka's KRaft keys: {@code process.roles}, {@code node.id},
 * {@code controller.quorum.voters} (or {@code controller.quorum.bootstrap.servers}), {@code listeners},
 * {@code controller.listener.names}, {@code inter.broker.listener.name}, {@code broker.rack},
 * {@code broker.heartbeat.interval.ms}, {@code broker.session.timeout.ms}. Without {@code process.roles} the node
 * is the single-node default and none of this applies.
 */
public record KRaftConfig(int nodeId, boolean broker, boolean controller, Map<Integer, InetSocketAddress> voters,
                          BrokerConfig.Listener controllerListener, List<BrokerConfig.Listener> brokerListeners,
                          String interBrokerListener, String rack, long heartbeatIntervalMs, long sessionTimeoutMs,
                          long electionTimeoutMs) {

    /** Whether the configuration asks for a cluster node (Kafka's KRaft mode). */
    public static boolean isCluster(BrokerConfig c) {
        String roles = c.get("process.roles");
        return roles != null && !roles.isBlank();
    }

    public static KRaftConfig from(BrokerConfig c) {
        Set<String> roles = new LinkedHashSet<>();
        for (String r : c.get("process.roles").split(",")) {
            String role = r.trim().toLowerCase(java.util.Locale.ROOT);
            if (!role.equals("broker") && !role.equals("controller")) {
                throw new IllegalArgumentException("process.roles: unknown role '" + r.trim() + "' (accepted: broker, controller)");
            }
            roles.add(role);
        }
        int nodeId = c.nodeId();
        Map<Integer, InetSocketAddress> voters = parseVoters(c);
        String controllerNames = c.get("controller.listener.names");
        if (controllerNames == null || controllerNames.isBlank()) {
            throw new IllegalArgumentException("controller.listener.names must be set in a cluster (e.g. CONTROLLER)");
        }
        String controllerName = controllerNames.split(",")[0].trim();
        BrokerConfig.Listener controllerListener = null;
        List<BrokerConfig.Listener> brokerListeners = new ArrayList<>();
        for (BrokerConfig.Listener l : BrokerConfig.Listener.parseAll(c.get("listeners"))) {
            if (l.name().equals(controllerName)) {
                controllerListener = l;
            } else {
                brokerListeners.add(l);
            }
        }
        boolean isController = roles.contains("controller");
        boolean isBroker = roles.contains("broker");
        if (isController) {
            if (controllerListener == null) {
                throw new IllegalArgumentException("process.roles includes controller, but listeners has no " + controllerName
                        + " listener (controller.listener.names=" + controllerNames + ")");
            }
            if (!voters.containsKey(nodeId)) {
                throw new IllegalArgumentException("process.roles includes controller, but node.id " + nodeId
                        + " is not one of controller.quorum.voters " + voters.keySet());
            }
        }
        if (isBroker && brokerListeners.isEmpty()) {
            throw new IllegalArgumentException("process.roles includes broker, but listeners has no listener other than " + controllerName);
        }
        String inter = c.get("inter.broker.listener.name");
        if (inter == null || inter.isBlank()) {
            inter = brokerListeners.isEmpty() ? "PLAINTEXT" : brokerListeners.get(0).name();
        }
        String rack = c.get("broker.rack");
        return new KRaftConfig(nodeId, isBroker, isController, voters, controllerListener, brokerListeners, inter.trim(),
                rack == null ? "" : rack.trim(), longOr(c, "broker.heartbeat.interval.ms", 2000),
                longOr(c, "broker.session.timeout.ms", 9000), longOr(c, "controller.quorum.election.timeout.ms", 1000));
    }

    private static long longOr(BrokerConfig c, String key, long dflt) {
        String v = c.get(key);
        return v == null || v.isBlank() ? dflt : Long.parseLong(v.trim());
    }

    /**
     * {@code controller.quorum.voters} as {@code id@host:port,...}. Kafka 3.9+'s
     * {@code controller.quorum.bootstrap.servers} ({@code host:port,...}, no ids) is accepted when the voters are
     * not given: the ids are then taken in order, 1, 2, 3, ... unless a listed address is this node's controller
     * listener, whose id is this node's.
     */
    static Map<Integer, InetSocketAddress> parseVoters(BrokerConfig c) {
        Map<Integer, InetSocketAddress> out = new TreeMap<>();
        String voters = c.get("controller.quorum.voters");
        if (voters != null && !voters.isBlank()) {
            for (String v : voters.split(",")) {
                String s = v.trim();
                int at = s.indexOf('@');
                int colon = s.lastIndexOf(':');
                if (at <= 0 || colon < at) {
                    throw new IllegalArgumentException("controller.quorum.voters: '" + s + "' is not id@host:port");
                }
                int id;
                int port;
                try {
                    id = Integer.parseInt(s.substring(0, at));
                    port = Integer.parseInt(s.substring(colon + 1));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("controller.quorum.voters: '" + s + "' is not id@host:port");
                }
                String host = s.substring(at + 1, colon);
                if (host.startsWith("[") && host.endsWith("]")) {
                    host = host.substring(1, host.length() - 1);
                }
                out.put(id, InetSocketAddress.createUnresolved(host, port));
            }
            return out;
        }
        String bootstrap = c.get("controller.quorum.bootstrap.servers");
        if (bootstrap == null || bootstrap.isBlank()) {
            throw new IllegalArgumentException("A cluster node needs controller.quorum.voters (id@host:port,...)");
        }
        throw new IllegalArgumentException("controller.quorum.bootstrap.servers without controller.quorum.voters is not supported yet: "
                + "the quorum's members are fixed at start-up; list them as controller.quorum.voters=id@host:port,...");
    }
}
