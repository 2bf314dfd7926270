package dev.runnel.metadata.controller;

import static dev.runnel.metadata.controller.Fixtures.createTopics;
import static dev.runnel.metadata.controller.Fixtures.topic;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.metadata.controller.Fixtures.Cluster;
import dev.runnel.metadata.image.BrokerRegistration;
import dev.runnel.metadata.image.PartitionRegistration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Where replicas go: racks alternate, replicas of a partition are distinct, leaders and followers spread evenly. */
class ReplicaPlacerTest {

    private static BrokerRegistration broker(int id, String rack) {
        return new BrokerRegistration(id, 1, new UUID(0, id), List.of(), rack, false, false);
    }

    @Test
    void brokersAreOrderedSoThatRacksAlternate() {
        assertEquals(List.of(1, 3, 2, 4),
                ReplicaPlacer.rackAlternated(List.of(broker(1, "a"), broker(2, "a"), broker(3, "b"), broker(4, "b"))));
        // Racks of unequal size: the first of each rack, then the second of each, and so on; racks in name order.
        assertEquals(List.of(4, 1, 5, 2, 3),
                ReplicaPlacer.rackAlternated(List.of(broker(1, "b"), broker(2, "b"), broker(3, "b"), broker(4, "a"), broker(5, "c"))));
        // No racks, or all in one: the brokers as given.
        assertEquals(List.of(1, 2, 3), ReplicaPlacer.rackAlternated(List.of(broker(1, ""), broker(2, ""), broker(3, ""))));
        assertEquals(List.of(2, 1), ReplicaPlacer.rackAlternated(List.of(broker(2, "a"), broker(1, "a"))));
        assertEquals(List.of(), ReplicaPlacer.rackAlternated(List.of()));
    }

    @Test
    void oneReplicaPartitionsOverRackedBrokersAlternateRacks() {
        Cluster c = new Cluster(Fixtures.logic(1)).withBrokers("a", "a", "b", "b");
        c.run(c.logic.createTopics(c.image, createTopics(topic("t", 8, 1))));
        List<String> leaderRacks = c.image.topic("t").partitions().values().stream()
                .map(p -> c.image.broker(p.leader()).rack()).toList();
        assertEquals(List.of("a", "b", "a", "b", "a", "b", "a", "b"), leaderRacks);
        assertEquals(List.of(1, 3, 2, 4, 1, 3, 2, 4),
                c.image.topic("t").partitions().values().stream().map(PartitionRegistration::leader).toList());
    }

    @Test
    void threeReplicasOverFiveBrokersAreDistinctAndSpreadEvenly() {
        List<Integer> order = List.of(1, 2, 3, 4, 5);
        for (int start : new int[] {0, 3, 7, 1_000_003}) {
            List<List<Integer>> placed = ReplicaPlacer.place(order, 0, 20, 3, start);
            assertEquals(20, placed.size());
            Map<Integer, Integer> leaders = new TreeMap<>();
            Map<Integer, Integer> replicas = new TreeMap<>();
            for (List<Integer> p : placed) {
                assertEquals(3, p.size(), p.toString());
                assertEquals(3, new HashSet<>(p).size(), "distinct replicas: " + p);
                assertTrue(order.containsAll(p));
                leaders.merge(p.get(0), 1, Integer::sum);
                p.forEach(b -> replicas.merge(b, 1, Integer::sum));
            }
            assertEquals(Map.of(1, 4, 2, 4, 3, 4, 4, 4, 5, 4), leaders, "leaders from start " + start);
            assertEquals(Map.of(1, 12, 2, 12, 3, 12, 4, 12, 5, 12), replicas, "replicas from start " + start);
            // Deterministic: every controller places alike.
            assertEquals(placed, ReplicaPlacer.place(order, 0, 20, 3, start));
        }
        // As many replicas as brokers: every partition on all of them, leadership still rotating.
        List<List<Integer>> all = ReplicaPlacer.place(order, 0, 5, 5, 0);
        for (int p = 0; p < 5; p++) {
            assertEquals(new HashSet<>(order), new HashSet<>(all.get(p)));
            assertEquals(order.get(p), all.get(p).get(0));
        }
    }

    @Test
    void addedPartitionsContinueTheRotation() {
        List<Integer> order = List.of(1, 2, 3);
        List<List<Integer>> first = ReplicaPlacer.place(order, 0, 6, 2, 0);
        List<List<Integer>> grown = ReplicaPlacer.place(order, 6, 3, 2, 0);
        assertEquals(first.subList(0, 3).stream().map(l -> l.get(0)).toList(), grown.stream().map(l -> l.get(0)).toList());
        for (List<Integer> p : grown) {
            assertEquals(2, new HashSet<>(p).size());
        }
    }
}
