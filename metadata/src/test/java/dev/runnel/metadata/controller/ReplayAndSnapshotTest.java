package dev.runnel.metadata.controller;

import static dev.runnel.metadata.controller.Fixtures.DELETE;
import static dev.runnel.metadata.controller.Fixtures.SET;
import static dev.runnel.metadata.controller.Fixtures.alterConfig;
import static dev.runnel.metadata.controller.Fixtures.allocateProducerIds;
import static dev.runnel.metadata.controller.Fixtures.createPartitions;
import static dev.runnel.metadata.controller.Fixtures.createTopics;
import static dev.runnel.metadata.controller.Fixtures.deleteById;
import static dev.runnel.metadata.controller.Fixtures.deleteByName;
import static dev.runnel.metadata.controller.Fixtures.incarnation;
import static dev.runnel.metadata.controller.Fixtures.registration;
import static dev.runnel.metadata.controller.Fixtures.topic;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.metadata.MetadataRecords;
import dev.runnel.metadata.controller.Fixtures.Cluster;
import dev.runnel.metadata.image.BrokerRegistration;
import dev.runnel.metadata.image.MetadataImage;
import dev.runnel.metadata.image.PartitionRegistration;
import dev.runnel.metadata.image.TopicImage;
import dev.runnel.wire.Message;
import dev.runnel.wire.message.CreatePartitionsRequestData;
import dev.runnel.wire.message.CreateTopicsRequestData;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A long, random but seeded life of a cluster: brokers come, go, restart and shut down; topics are created (some by
 * hand), grown and deleted; configs change; producer ids are handed out. Every decision is the controller's and every
 * batch is kept. Then the log is the truth: replaying it, or a snapshot taken anywhere plus the rest of it, rebuilds
 * the same image. Along the way the image must always make sense (leaders in sync and usable, epochs never back).
 */
class ReplayAndSnapshotTest {
    private static final int STEPS = 1_500;
    private static final int MAX_BROKER = 6;
    private static final String[] RACKS = {"", "r1", "r1", "r2", "r2", "r3", "r3"};
    private static final String[] NAMES = {"orders", "payments", "clicks", "a.b", "a_b", "logs", "metrics", "t-1", "t-2", "t-3"};

    private enum Op { REGISTER, FENCE, UNFENCE, SHUTDOWN, CREATE, DELETE, GROW, CONFIG, PRODUCER_IDS }

    /** The cluster's life: the live image, every batch, and the image after each batch. */
    private static Cluster live(long seed, Map<Op, Integer> counts) {
        Random rnd = new Random(seed);
        Cluster c = new Cluster(Fixtures.logic(3));
        int[] generation = new int[MAX_BROKER + 1];
        MetadataImage previous = c.image;
        for (int step = 0; step < STEPS; step++) {
            Op op = pick(rnd);
            int batchesBefore = c.batches.size();
            apply(c, rnd, op, generation);
            if (c.batches.size() > batchesBefore) {
                counts.merge(op, 1, Integer::sum);
            }
            checkInvariants(previous, c.image, "step " + step + " (" + op + ", seed " + seed + ")");
            previous = c.image;
        }
        return c;
    }

    private static Op pick(Random rnd) {
        int r = rnd.nextInt(100);
        if (r < 8) return Op.REGISTER;
        if (r < 16) return Op.FENCE;
        if (r < 30) return Op.UNFENCE;
        if (r < 34) return Op.SHUTDOWN;
        if (r < 52) return Op.CREATE;
        if (r < 60) return Op.DELETE;
        if (r < 70) return Op.GROW;
        if (r < 85) return Op.CONFIG;
        return Op.PRODUCER_IDS;
    }

    private static <T> T any(Random rnd, List<T> from) {
        return from.isEmpty() ? null : from.get(rnd.nextInt(from.size()));
    }

    private static void apply(Cluster c, Random rnd, Op op, int[] generation) {
        MetadataImage img = c.image;
        ControllerLogic logic = c.logic;
        Integer broker = any(rnd, new ArrayList<>(img.brokers().keySet()));
        String name = NAMES[rnd.nextInt(NAMES.length)];
        switch (op) {
            case REGISTER -> {
                int id = 1 + rnd.nextInt(MAX_BROKER);
                if (generation[id] == 0 || rnd.nextInt(3) == 0) {
                    generation[id]++; // a new process; otherwise the same one asking again
                }
                c.run(logic.registerBroker(img, registration(id, incarnation(id, generation[id]), RACKS[id])));
            }
            case FENCE -> {
                if (broker != null) {
                    c.fence(broker);
                }
            }
            case UNFENCE -> {
                if (broker != null) {
                    c.unfence(broker);
                }
            }
            case SHUTDOWN -> {
                if (broker != null) {
                    c.controlledShutdown(broker);
                }
            }
            case CREATE -> {
                CreateTopicsRequestData.CreatableTopic t;
                if (rnd.nextInt(5) == 0 && broker != null) {
                    t = topic(name, -1, -1);
                    int parts = 1 + rnd.nextInt(3);
                    int rf = 1 + rnd.nextInt(Math.min(2, img.brokers().size()));
                    List<Integer> ids = new ArrayList<>(img.brokers().keySet());
                    for (int p = 0; p < parts; p++) {
                        java.util.Collections.shuffle(ids, rnd);
                        t.assignments.add(new CreateTopicsRequestData.CreatableReplicaAssignment().setPartitionIndex(p)
                                .setBrokerIds(new ArrayList<>(ids.subList(0, rf))));
                    }
                } else {
                    t = topic(name, 1 + rnd.nextInt(8), 1 + rnd.nextInt(3));
                }
                if (rnd.nextBoolean()) {
                    t.configs.add(new CreateTopicsRequestData.CreatableTopicConfig().setName("retention.ms")
                            .setValue(Integer.toString(rnd.nextInt(100_000))));
                }
                CreateTopicsRequestData req = createTopics(t);
                req.validateOnly = rnd.nextInt(10) == 0;
                c.run(logic.createTopics(img, req));
            }
            case DELETE -> {
                TopicImage t = any(rnd, new ArrayList<>(img.topics().values()));
                if (t == null || rnd.nextInt(10) == 0) {
                    c.run(logic.deleteTopics(img, deleteByName(name)));
                } else if (rnd.nextBoolean()) {
                    c.run(logic.deleteTopics(img, deleteByName(t.name())));
                } else {
                    c.run(logic.deleteTopics(img, deleteById(t.id())));
                }
            }
            case GROW -> {
                TopicImage t = any(rnd, new ArrayList<>(img.topics().values()));
                if (t != null) {
                    CreatePartitionsRequestData req = createPartitions(t.name(), t.partitionCount() - 1 + rnd.nextInt(4));
                    req.validateOnly = rnd.nextInt(10) == 0;
                    c.run(logic.createPartitions(img, req));
                }
            }
            case CONFIG -> {
                boolean topicConfig = rnd.nextBoolean() || broker == null;
                String resource = topicConfig ? name : Integer.toString(broker);
                byte type = topicConfig ? MetadataImage.TOPIC_CONFIG : MetadataImage.BROKER_CONFIG;
                String key = rnd.nextBoolean() ? "retention.ms" : "segment.bytes";
                boolean set = rnd.nextInt(3) != 0;
                c.run(logic.incrementalAlterConfigs(img, alterConfig(type, resource, set ? SET : DELETE, key,
                        set ? Integer.toString(rnd.nextInt(1_000_000)) : null)));
            }
            case PRODUCER_IDS -> {
                if (broker != null) {
                    long epoch = img.broker(broker).epoch() - (rnd.nextInt(8) == 0 ? 1 : 0);
                    c.run(logic.allocateProducerIds(img, allocateProducerIds(broker, epoch)));
                }
            }
        }
    }

    /** What must hold of every image, and between an image and the next. */
    private static void checkInvariants(MetadataImage before, MetadataImage img, String where) {
        Set<UUID> ids = new HashSet<>();
        for (TopicImage t : img.topics().values()) {
            assertTrue(ids.add(t.id()), where + ": topic id " + t.id() + " twice");
            assertSame(t, img.topic(t.id()), where + ": lookup by id of " + t.name());
            assertTrue(t.partitionCount() > 0, where + ": " + t.name() + " has no partitions");
            TopicImage old = before.topic(t.id());
            for (int i = 0; i < t.partitionCount(); i++) {
                PartitionRegistration p = t.partition(i);
                assertNotNull(p, where + ": " + t.name() + " lacks partition " + i);
                String at = where + ": " + t.name() + "-" + i + " " + p;
                assertFalse(p.replicas().isEmpty(), at);
                assertEquals(p.replicas().size(), new HashSet<>(p.replicas()).size(), at + ": replicas repeat");
                assertFalse(p.isr().isEmpty(), at + ": empty ISR");
                assertTrue(p.replicas().containsAll(p.isr()), at + ": ISR outside the replicas");
                for (int r : p.replicas()) {
                    assertNotNull(img.broker(r), at + ": replica on an unknown broker");
                }
                if (p.hasLeader()) {
                    assertTrue(p.isr().contains(p.leader()), at + ": leader out of sync");
                    assertTrue(img.broker(p.leader()).usable(), at + ": leader " + img.broker(p.leader()));
                }
                PartitionRegistration was = old == null ? null : old.partition(i);
                if (was != null) {
                    assertTrue(p.leaderEpoch() >= was.leaderEpoch(), at + ": leader epoch went back from " + was);
                    assertTrue(p.partitionEpoch() >= was.partitionEpoch(), at + ": partition epoch went back from " + was);
                    if (p.leader() != was.leader()) {
                        assertTrue(p.leaderEpoch() > was.leaderEpoch(), at + ": new leader without a new leader epoch");
                    }
                }
            }
        }
        for (BrokerRegistration b : img.brokers().values()) {
            assertTrue(b.epoch() <= img.maxBrokerEpoch(), where);
            BrokerRegistration was = before.broker(b.id());
            assertTrue(was == null || b.epoch() >= was.epoch(), where + ": broker epoch went back");
        }
        assertTrue(img.nextProducerId() >= before.nextProducerId(), where + ": producer ids went back");
        assertTrue(img.maxBrokerEpoch() >= before.maxBrokerEpoch(), where);
    }

    private static void assertSameImage(MetadataImage expected, MetadataImage actual, String what) {
        assertTrue(expected.sameContent(actual), what + ":\n expected " + expected + "\n actual   " + actual);
        assertEquals(expected.offset(), actual.offset(), what + ": offset");
        assertEquals(expected.maxBrokerEpoch(), actual.maxBrokerEpoch(), what + ": max broker epoch (the next registration's)");
        for (TopicImage t : expected.topics().values()) {
            assertEquals(t, actual.topic(t.id()), what + ": topic by id " + t.name());
        }
    }

    private static MetadataImage replay(MetadataImage from, List<byte[]> batches, int firstIndex) {
        MetadataImage img = from;
        for (int i = firstIndex; i < batches.size(); i++) {
            List<Message> records = MetadataRecords.decodeBatch(batches.get(i));
            // (c) what was decoded encodes to the very same bytes: nothing is lost or reordered by the serde.
            assertArrayEquals(batches.get(i), MetadataRecords.encodeBatch(records), "batch " + i);
            img = img.apply(records, i);
        }
        return img;
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 7, 42, 2026, 982_451_653})
    void replayingTheLogOrASnapshotAndTheRestRebuildsTheLiveImage(long seed) {
        Map<Op, Integer> counts = new EnumMap<>(Op.class);
        Cluster c = live(seed, counts);
        MetadataImage live = c.image;
        // The life was eventful: every kind of operation wrote something, and the end state is not trivial.
        for (Op op : Op.values()) {
            assertTrue(counts.getOrDefault(op, 0) > 0, "no " + op + " was ever written: " + counts);
        }
        assertTrue(c.batches.size() > STEPS / 3, "only " + c.batches.size() + " batches");
        assertFalse(live.topics().isEmpty());
        assertTrue(live.nextProducerId() > 0);

        // (a) Replaying every batch from nothing.
        assertSameImage(live, replay(MetadataImage.EMPTY, c.batches, 0), "replay of " + c.batches.size() + " batches");

        // (b) A snapshot at a cut point, then the batches after it.
        int n = c.batches.size();
        for (int cut : new int[] {0, 1, n / 7, n / 3, n / 2, 2 * n / 3, n - 2, n - 1}) {
            MetadataImage atCut = c.images.get(cut);
            // Images are immutable: the one kept at the cut is still what the batches up to it build.
            assertSameImage(atCut, replay(MetadataImage.EMPTY, c.batches.subList(0, cut + 1), 0), "image kept at " + cut);

            byte[] snapshot = MetadataRecords.encodeBatch(atCut.toRecords());
            MetadataImage loaded = MetadataImage.EMPTY.apply(MetadataRecords.decodeBatch(snapshot), atCut.offset());
            assertSameImage(atCut, loaded, "snapshot at " + cut);
            assertSameImage(live, replay(loaded, c.batches, cut + 1), "snapshot at " + cut + " plus the rest");
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {3, 11})
    void theSameDecisionsFollowFromAReplayedImage(long seed) {
        // A new controller decides from the image it replayed: after a snapshot load it must hand out the same
        // broker epoch, producer ids and placement the old one would have.
        Cluster c = live(seed, new HashMap<>());
        MetadataImage loaded = MetadataImage.EMPTY.apply(c.image.toRecords(), c.image.offset());
        ControllerLogic a = Fixtures.logic(3);
        ControllerLogic b = Fixtures.logic(3);
        var reg = registration(MAX_BROKER + 1, incarnation(MAX_BROKER + 1, 1), "");
        assertEquals(a.registerBroker(c.image, reg).records(), b.registerBroker(loaded, reg).records());
        var grow = c.image.topics().isEmpty() ? null : c.image.topics().values().iterator().next();
        if (grow != null) {
            var req = createPartitions(grow.name(), grow.partitionCount() + 3);
            assertEquals(a.createPartitions(c.image, req).records(), b.createPartitions(loaded, req).records());
        }
        var create = createTopics(topic("fresh-topic", 5, 1));
        assertEquals(a.createTopics(c.image, create).records(), b.createTopics(loaded, create).records());
        Integer any = c.image.brokers().keySet().iterator().next();
        var pid = allocateProducerIds(any, c.image.broker(any).epoch());
        assertEquals(a.allocateProducerIds(c.image, pid).records(), b.allocateProducerIds(loaded, pid).records());
    }
}
