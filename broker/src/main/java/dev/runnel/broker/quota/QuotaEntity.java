package dev.runnel.broker.quota;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a client quota is set on, in Kafka's words: a map from entity type ({@code user}, {@code client-id},
 * {@code ip}) to a name, where a null name is the type's default entity ({@code --entity-default}). Sorted by type,
 * so equal entities print and store alike.
 */
public record QuotaEntity(Map<String, String> entries) {
    public static final String USER = "user";
    public static final String CLIENT_ID = "client-id";
    public static final String IP = "ip";

    public QuotaEntity {
        entries = Collections.unmodifiableMap(new TreeMap<>(entries));
    }

    public static QuotaEntity of(String type, String name) {
        Map<String, String> m = new TreeMap<>();
        m.put(type, name);
        return new QuotaEntity(m);
    }

    public static QuotaEntity of(String type1, String name1, String type2, String name2) {
        Map<String, String> m = new TreeMap<>();
        m.put(type1, name1);
        m.put(type2, name2);
        return new QuotaEntity(m);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("ClientQuotaEntity(entries={");
        boolean first = true;
        for (Map.Entry<String, String> e : entries.entrySet()) {
            sb.append(first ? "" : ", ").append(e.getKey()).append('=').append(e.getValue());
            first = false;
        }
        return sb.append("})").toString();
    }
}
