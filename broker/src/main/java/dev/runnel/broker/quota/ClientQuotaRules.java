package dev.runnel.broker.quota;

import dev.runnel.wire.Errors;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Kafka's rules for AlterClientQuotas (its controller's ClientQuotaControlManager): which entity types and
 * combinations exist, which keys each takes, which values are valid, and Kafka's messages for each refusal. Pure:
 * given the current quotas and the requested alterations, it answers each entity and lists the changes to make.
 */
public final class ClientQuotaRules {
    private ClientQuotaRules() {
    }

    public static final String PRODUCER_BYTE_RATE = "producer_byte_rate";
    public static final String CONSUMER_BYTE_RATE = "consumer_byte_rate";
    public static final String REQUEST_PERCENTAGE = "request_percentage";
    public static final String CONTROLLER_MUTATION_RATE = "controller_mutation_rate";
    public static final String CONNECTION_CREATION_RATE = "connection_creation_rate";

    private enum KeyType { LONG, DOUBLE, INT }

    private static final Map<String, KeyType> USER_AND_CLIENT_KEYS = Map.of(
            PRODUCER_BYTE_RATE, KeyType.LONG,
            CONSUMER_BYTE_RATE, KeyType.LONG,
            REQUEST_PERCENTAGE, KeyType.DOUBLE,
            CONTROLLER_MUTATION_RATE, KeyType.DOUBLE);
    private static final Map<String, KeyType> IP_KEYS = Map.of(CONNECTION_CREATION_RATE, KeyType.INT);

    /** One requested alteration: an entity and its operations (a null value removes the key). */
    public record Alteration(QuotaEntity entity, List<Op> ops) {
    }

    public record Op(String key, Double value) {
    }

    /** The answer for one entity: NONE with a null message, or Kafka's error and message. */
    public record Outcome(Errors error, String message) {
        public static final Outcome OK = new Outcome(Errors.NONE, null);

        public boolean ok() {
            return error == Errors.NONE;
        }
    }

    /** One change to the stored quotas: set {@code key} to {@code value}, or remove it when value is null. */
    public record Change(QuotaEntity entity, String key, Double value) {
    }

    /** The per-entity outcomes (request order, one per distinct entity) and the changes that the accepted ones make. */
    public record Result(Map<QuotaEntity, Outcome> outcomes, List<Change> changes) {
    }

    public static Result alter(Map<QuotaEntity, Map<String, Double>> current, List<Alteration> alterations) {
        Map<QuotaEntity, Outcome> outcomes = new LinkedHashMap<>();
        Map<QuotaEntity, List<Change>> changes = new LinkedHashMap<>();
        for (Alteration a : alterations) {
            Map<String, Double> wanted = new HashMap<>();
            for (Op op : a.ops()) {
                if (wanted.containsKey(op.key())) {
                    outcomes.put(a.entity(), new Outcome(Errors.INVALID_REQUEST, "Duplicate quota key " + op.key()
                            + " not updating quota for this entity " + a.entity()));
                } else {
                    wanted.put(op.key(), op.value());
                }
            }
            if (outcomes.containsKey(a.entity())) {
                // Kafka answers a repeated entity (and, through the same check, one with a repeated key) this way.
                outcomes.put(a.entity(), new Outcome(Errors.INVALID_REQUEST, "Ignoring duplicate entity " + a.entity()));
                changes.remove(a.entity());
                continue;
            }
            List<Change> mine = new ArrayList<>();
            Outcome o = alterEntity(a.entity(), wanted, current.getOrDefault(a.entity(), Map.of()), mine);
            outcomes.put(a.entity(), o);
            if (o.ok()) {
                changes.put(a.entity(), mine);
            }
        }
        List<Change> all = new ArrayList<>();
        changes.values().forEach(all::addAll);
        return new Result(outcomes, all);
    }

    private static Outcome alterEntity(QuotaEntity entity, Map<String, Double> wanted, Map<String, Double> current, List<Change> out) {
        if (entity.entries().isEmpty()) {
            return new Outcome(Errors.INVALID_REQUEST, "Invalid empty client quota entity");
        }
        for (Map.Entry<String, String> e : entity.entries().entrySet()) {
            String type = e.getKey();
            if (!QuotaEntity.USER.equals(type) && !QuotaEntity.CLIENT_ID.equals(type) && !QuotaEntity.IP.equals(type)) {
                return new Outcome(Errors.INVALID_REQUEST, "Unhandled client quota entity type: " + type);
            }
            if (e.getValue() != null && e.getValue().isEmpty()) {
                return new Outcome(Errors.INVALID_REQUEST, "Empty " + type + " not supported");
            }
        }
        Map<String, KeyType> keys;
        boolean hasIp = entity.entries().containsKey(QuotaEntity.IP);
        if (hasIp) {
            if (entity.entries().size() > 1) {
                // Kafka's message, missing space included.
                return new Outcome(Errors.INVALID_REQUEST,
                        "Invalid quota entity combination, IP entity shouldnot be combined with User or ClientId");
            }
            String ip = entity.entries().get(QuotaEntity.IP);
            if (!validIp(ip)) {
                return new Outcome(Errors.INVALID_REQUEST, ip + " is not a valid IP or resolvable host.");
            }
            keys = IP_KEYS;
        } else {
            keys = USER_AND_CLIENT_KEYS;
        }
        for (Map.Entry<String, Double> w : wanted.entrySet()) {
            String key = w.getKey();
            Double value = w.getValue();
            if (value == null) {
                if (current.containsKey(key)) {
                    out.add(new Change(entity, key, null));
                }
                continue;
            }
            Outcome bad = checkValue(keys, key, value);
            if (bad != null) {
                out.clear();
                return bad;
            }
            if (!Objects.equals(current.get(key), value)) {
                out.add(new Change(entity, key, value));
            }
        }
        return Outcome.OK;
    }

    private static Outcome checkValue(Map<String, KeyType> keys, String key, double value) {
        KeyType type = keys.get(key);
        if (type == null) {
            return new Outcome(Errors.INVALID_REQUEST, "Invalid configuration key " + key);
        }
        if (value <= 0.0) {
            return new Outcome(Errors.INVALID_REQUEST, "Quota " + key + " must be greater than 0");
        }
        switch (type) {
            case DOUBLE:
                return null;
            case INT:
                if (value > Integer.MAX_VALUE) {
                    return new Outcome(Errors.INVALID_REQUEST, "Proposed value for " + key + " is too large for an INT.");
                }
                break;
            default:
                if (value > Long.MAX_VALUE) {
                    return new Outcome(Errors.INVALID_REQUEST, "Proposed value for " + key + " is too large for a LONG.");
                }
        }
        if (Math.abs(value % 1.0) > 1e-6) {
            return new Outcome(Errors.INVALID_REQUEST, key + " cannot be a fractional value.");
        }
        return null;
    }

    /**
     * Kafka accepts an IP or a resolvable host name. Names are not looked up here (a lookup may block the event loop
     * for seconds): a literal IPv4/IPv6 address is accepted, and so is a name made of host-name characters.
     */
    static boolean validIp(String ip) {
        if (ip == null) {
            return true;
        }
        if (ip.matches("[0-9.]+") && !ip.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
            return false; // all digits and dots but not a dotted quad: getByName would go to DNS with it
        }
        if (ip.matches("[0-9.]+") || ip.contains(":")) {
            try {
                InetAddress.getByName(ip); // a literal: parsed, no lookup
                return true;
            } catch (UnknownHostException e) {
                return false;
            }
        }
        return ip.matches("[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?");
    }
}
