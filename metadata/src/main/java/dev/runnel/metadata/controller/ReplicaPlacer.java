package dev.runnel.metadata.controller;

import dev.runnel.metadata.image.BrokerRegistration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where a new partition's replicas go: over the usable brokers (registered, unfenced, not shutting down), leaders
 * spread round-robin, each partition's replicas on distinct brokers, alternating racks when brokers have racks
 * (a broker list ordered rack by rack, as Kafka's rack-aware assignment does). Deterministic: the same brokers and
 * start position give the same placement on every controller.
 */
final class ReplicaPlacer {
    private ReplicaPlacer() {
    }

    /** Brokers in rack-alternating order: the first of each rack, then the second of each rack, ... */
    static List<Integer> rackAlternated(List<BrokerRegistration> brokers) {
        Map<String, List<Integer>> byRack = new LinkedHashMap<>();
        for (BrokerRegistration b : brokers) {
            byRack.computeIfAbsent(b.rack() == null ? "" : b.rack(), k -> new ArrayList<>()).add(b.id());
        }
        if (byRack.size() <= 1) {
            return brokers.stream().map(BrokerRegistration::id).toList();
        }
        List<Integer> out = new ArrayList<>();
        List<List<Integer>> racks = new ArrayList<>(new java.util.TreeMap<>(byRack).values());
        for (int i = 0; out.size() < brokers.size(); i++) {
            for (List<Integer> rack : racks) {
                if (i < rack.size()) {
                    out.add(rack.get(i));
                }
            }
        }
        return out;
    }

    /**
     * Replicas of {@code count} partitions numbered from {@code firstPartition}, replication factor {@code rf}:
     * partition p's leader is broker {@code (start + p) mod n}, its followers the next ones in order, shifted every
     * n partitions so that followers spread too.
     */
    static List<List<Integer>> place(List<Integer> order, int firstPartition, int count, int rf, int start) {
        int n = order.size();
        List<List<Integer>> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int p = firstPartition + i;
            int leaderPos = Math.floorMod(start + p, n);
            int shift = n > 1 ? 1 + Math.floorMod(p / n, n - 1) : 0;
            List<Integer> replicas = new ArrayList<>(rf);
            replicas.add(order.get(leaderPos));
            for (int j = 1; j < rf; j++) {
                int pos = Math.floorMod(leaderPos + shift + j - 1, n);
                int candidate = order.get(pos);
                while (replicas.contains(candidate)) {
                    pos = (pos + 1) % n;
                    candidate = order.get(pos);
                }
                replicas.add(candidate);
            }
            out.add(replicas);
        }
        return out;
    }
}
