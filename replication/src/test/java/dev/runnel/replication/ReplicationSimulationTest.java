package dev.runnel.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.runnel.log.AppendResult;
import dev.runnel.log.LogReadResult;
import dev.runnel.log.PartitionLog;
import dev.runnel.metadata.controller.ControllerLogic;
import dev.runnel.metadata.controller.ControllerResult;
import dev.runnel.metadata.controller.TopicPolicy;
import dev.runnel.metadata.image.BrokerRegistration;
import dev.runnel.metadata.image.MetadataImage;
import dev.runnel.metadata.image.PartitionRegistration;
import dev.runnel.replication.leader.LeaderState;
import dev.runnel.replication.leader.ReplicaFetchCheck;
import dev.runnel.wire.Message;
import dev.runnel.wire.message.AlterPartitionRequestData;
import dev.runnel.wire.message.AlterPartitionResponseData;
import dev.runnel.wire.message.BrokerRegistrationRequestData;
import dev.runnel.wire.message.CreateTopicsRequestData;
import dev.runnel.wire.records.BatchBuilder;
import dev.runnel.wire.records.BatchCursor;
import dev.runnel.wire.records.RecordBatch;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One partition replicated on three brokers, simulated deterministically: the decisions are the real ones — the
 * controller's ({@link ControllerLogic} over {@link MetadataImage}: fencing after missed heartbeats, election from the
 * ISR, AlterPartition), the leader's ({@link LeaderState}: ISR changes, high watermark; {@link ReplicaFetchCheck}:
 * diverging epochs), the follower's ({@link FollowerFetchLogic}: append, truncation) and the log's
 * ({@link PartitionLog} on disk) — while time is a counter and the network a queue of messages with random delays,
 * cut links and paused (SIGSTOPped) nodes. Faults come from the seed: crash and restart (what was written stays, as
 * after a process kill; the in-memory replica state and the high watermark since the last checkpoint are lost),
 * network isolation of a broker, pauses past the session timeout. So any interleaving a seed produces replays exactly.
 *
 * <p>Invariants, checked as the run goes and at its end:
 * <ul>
 *   <li>no acknowledged batch is lost: every new leader's log holds every batch acknowledged so far, at its
 *       acknowledged offsets, byte for byte (its CRC); no offset is acknowledged twice with different data;</li>
 *   <li>only one leader acknowledges writes in a leader epoch;</li>
 *   <li>replicas never expose data above a committed high watermark: below the smaller of two replicas' high
 *       watermarks their logs hold the same batches;</li>
 *   <li>after the faults heal, the logs converge: every replica back in the ISR, all three logs identical batch for
 *       batch, holding every acknowledged batch.</li>
 * </ul>
 * Seeds: {@code -Drunnel.sim.seeds=N} (default 40) from {@code -Drunnel.sim.firstSeed} (default 1); each runs
 * {@code -Drunnel.sim.events} (default 15000) network events. A failure names its seed.
 */
class ReplicationSimulationTest {
    private static final int SEEDS = Integer.getInteger("runnel.sim.seeds", 40);
    private static final long FIRST_SEED = Long.getLong("runnel.sim.firstSeed", 1L);
    private static final int EVENTS = Integer.getInteger("runnel.sim.events", 15000);
    /** {@code -Drunnel.sim.trace=true}: print each replica's steps (for replaying one seed). */
    private static final boolean TRACE = Boolean.getBoolean("runnel.sim.trace");

    static final int CONTROLLER = 0;
    static final int PRODUCER = 9;
    static final String TOPIC = "t";
    static final long SESSION_TIMEOUT_MS = 450;
    static final long HEARTBEAT_MS = 100;
    static final long LAG_TIME_MAX_MS = 300;
    static final long REQUEST_TIMEOUT_MS = 1500;
    static final long CHECKPOINT_MS = 200;

    @TempDir
    Path tmp;

    static Stream<Long> seeds() {
        return Stream.iterate(FIRST_SEED, s -> s + 1).limit(SEEDS);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void acknowledgedWritesSurviveEveryInterleaving(long seed) throws Exception {
        Sim sim = new Sim(seed, tmp.resolve("seed-" + seed), 1 + (int) (Math.abs(seed) % 2));
        try {
            sim.run(EVENTS);
            sim.healAndConverge();
            sim.report();
        } finally {
            sim.close();
        }
    }

    // ------------------------------------------------------------------------------------------------ the world

    /** A message (or a timer, from a node to itself) delivered at {@code at}; {@code incarnation} of the target. */
    private record Msg(long at, long seq, int from, int to, long incarnation, Runnable action) {
    }

    static final class Stats {
        int acked;
        int ackedRecords;
        int refused;
        int leaderChanges;
        int crashes;
        int isolations;
        int pauses;
        int truncations;
        long worstUnavailableMs;
    }

    final class Sim {
        final long seed;
        final Random rnd;
        final Path dir;
        final int minIsr;
        long now;
        long seq;
        final PriorityQueue<Msg> queue = new PriorityQueue<>((a, b) -> a.at != b.at ? Long.compare(a.at, b.at)
                : Long.compare(a.seq, b.seq));
        final Set<Integer> isolated = new HashSet<>();
        final Controller controller;
        final Map<Integer, Broker> brokers = new TreeMap<>();
        final Producer producer;
        final Stats stats = new Stats();
        /** offset of the first record of each acknowledged batch -> (last offset, CRC). */
        final TreeMap<Long, long[]> acknowledged = new TreeMap<>();
        /** leader epoch -> the broker that acknowledged writes in it. */
        final Map<Integer, Integer> ackingLeaders = new HashMap<>();
        long maxLeaderHighWatermark;

        Sim(long seed, Path dir, int minIsr) throws IOException {
            this.seed = seed;
            this.rnd = new Random(seed);
            this.dir = dir;
            this.minIsr = minIsr;
            this.controller = new Controller(this);
            for (int id = 1; id <= 3; id++) {
                brokers.put(id, new Broker(this, id, Files.createDirectories(dir.resolve("broker-" + id))));
            }
            this.producer = new Producer(this);
            for (Broker b : brokers.values()) {
                b.start();
            }
            controller.start();
            producer.start();
        }

        void trace(String what) {
            if (TRACE) {
                System.out.println("t=" + now + " " + what);
            }
        }

        void fail(String what) {
            StringBuilder s = new StringBuilder("seed ").append(seed).append(" at t=").append(now).append(" ms: ")
                    .append(what).append("\n  controller: ").append(controller.partition());
            for (Broker b : brokers.values()) {
                s.append("\n  ").append(b.describe());
            }
            throw new AssertionError(s.toString());
        }

        long incarnation(int node) {
            if (node == CONTROLLER || node == PRODUCER) {
                return 0;
            }
            return brokers.get(node).incarnation;
        }

        boolean linkUp(int from, int to) {
            return from == to || (!isolated.contains(from) && !isolated.contains(to));
        }

        /** A network message: dropped on a cut link (when sent or when it arrives) or to a node that died since. */
        void send(int from, int to, Runnable action) {
            if (!linkUp(from, to)) {
                return;
            }
            queue.add(new Msg(now + 1 + rnd.nextInt(12), seq++, from, to, incarnation(to), action));
        }

        void timer(int node, long delayMs, Runnable action) {
            queue.add(new Msg(now + delayMs, seq++, node, node, incarnation(node), action));
        }

        void run(int events) {
            for (int i = 0; i < events && !queue.isEmpty(); i++) {
                step();
                if (i % 50 == 0) {
                    maybeInjectFault();
                }
                if (i % 200 == 0) {
                    checkPrefixAgreement();
                }
            }
        }

        void step() {
            Msg m = queue.poll();
            now = Math.max(now, m.at);
            if (m.to != CONTROLLER && m.to != PRODUCER) {
                Broker b = brokers.get(m.to);
                if (m.incarnation != b.incarnation || !b.alive) {
                    return; // sent to a process that died since
                }
                if (b.pausedUntil > now) {
                    // SIGSTOP: everything waits until the process runs again
                    queue.add(new Msg(b.pausedUntil, seq++, m.from, m.to, m.incarnation, m.action));
                    return;
                }
            }
            if (!linkUp(m.from, m.to)) {
                return;
            }
            m.action.run();
        }

        void maybeInjectFault() {
            int roll = rnd.nextInt(100);
            List<Broker> alive = brokers.values().stream().filter(b -> b.alive).toList();
            if (roll < 6 && alive.size() == 3) {
                Broker victim = pickLeaderOften(alive);
                stats.crashes++;
                trace("crash broker " + victim.id);
                victim.crash();
                long downFor = 200 + rnd.nextInt(1500);
                timer(CONTROLLER, downFor, () -> {
                    if (!victim.alive) {
                        victim.start();
                    }
                });
            } else if (roll < 10 && isolated.isEmpty() && alive.size() == 3) {
                Broker victim = pickLeaderOften(alive);
                stats.isolations++;
                isolated.add(victim.id);
                trace("isolate broker " + victim.id);
                timer(CONTROLLER, 200 + rnd.nextInt(1500), () -> isolated.remove(victim.id));
            } else if (roll < 13 && alive.size() == 3) {
                Broker victim = pickLeaderOften(alive);
                stats.pauses++;
                victim.pausedUntil = now + 100 + rnd.nextInt(1200);
                trace("pause broker " + victim.id + " until " + victim.pausedUntil);
            }
        }

        private Broker pickLeaderOften(List<Broker> alive) {
            if (rnd.nextInt(3) > 0) {
                for (Broker b : alive) {
                    if (b.isLeader) {
                        return b;
                    }
                }
            }
            return alive.get(rnd.nextInt(alive.size()));
        }

        /** Ends the faults and runs until every replica is in the ISR with the leader's log, or fails. */
        void healAndConverge() throws IOException {
            isolated.clear();
            for (Broker b : brokers.values()) {
                b.pausedUntil = 0;
                if (!b.alive) {
                    b.start();
                }
            }
            producer.stopAfterNow = true;
            long deadline = now + 60_000;
            while (now < deadline && !queue.isEmpty()) {
                step();
                if (converged()) {
                    break;
                }
            }
            if (!converged()) {
                fail("the replicas did not converge within 60 s (simulated) after the faults healed");
            }
            checkPrefixAgreement();
            Broker leader = brokers.values().stream().filter(b -> b.isLeader).findFirst().orElseThrow();
            checkHoldsAcknowledged(leader, "the final leader");
            List<TestSupport.Batch> reference = TestSupport.batches(leader.log, leader.log.logStartOffset());
            for (Broker b : brokers.values()) {
                List<TestSupport.Batch> mine = TestSupport.batches(b.log, b.log.logStartOffset());
                if (mine.size() != reference.size()) {
                    fail("broker " + b.id + " holds " + mine.size() + " batches, the leader " + reference.size());
                }
                for (int i = 0; i < mine.size(); i++) {
                    if (mine.get(i).baseOffset() != reference.get(i).baseOffset()
                            || !java.util.Arrays.equals(mine.get(i).bytes(), reference.get(i).bytes())) {
                        fail("broker " + b.id + "'s batch " + i + " differs from the leader's");
                    }
                }
            }
        }

        boolean converged() {
            PartitionRegistration p = controller.partition();
            if (!p.hasLeader() || p.isr().size() != 3) {
                return false;
            }
            Broker leader = brokers.get(p.leader());
            if (!leader.alive || !leader.isLeader || leader.leaderState == null
                    || leader.leaderState.isr().size() != 3 || leader.log.highWatermark() != leader.log.logEndOffset()) {
                return false;
            }
            for (Broker b : brokers.values()) {
                if (!b.alive || b.log.logEndOffset() != leader.log.logEndOffset()) {
                    return false;
                }
            }
            return producer.inFlight == 0;
        }

        /** A new leader, an acknowledgement: the leader's log must hold every acknowledged batch. */
        void checkHoldsAcknowledged(Broker b, String who) {
            if (acknowledged.isEmpty()) {
                return;
            }
            Map<Long, long[]> have = new HashMap<>();
            try {
                long from = acknowledged.firstKey();
                LogReadResult r = b.log.read(from, Integer.MAX_VALUE, b.log.logEndOffset(), true);
                if (!r.isOk()) {
                    fail(who + " (broker " + b.id + ") cannot read from offset " + from + ": error " + r.errorCode()
                            + " (log [" + b.log.logStartOffset() + ", " + b.log.logEndOffset() + "))");
                }
                ByteBuffer buf = r.toByteBuffer();
                BatchCursor c = new BatchCursor(buf);
                while (c.next()) {
                    RecordBatch batch = c.batch();
                    have.put(batch.baseOffset(), new long[] {batch.lastOffset(),
                            buf.getInt(batch.position() + RecordBatch.CRC_OFFSET) & 0xffffffffL});
                }
            } catch (IOException e) {
                throw new AssertionError(e);
            }
            for (Map.Entry<Long, long[]> e : acknowledged.entrySet()) {
                long[] h = have.get(e.getKey());
                if (h == null || h[0] != e.getValue()[0] || h[1] != e.getValue()[1]) {
                    fail(who + " (broker " + b.id + ") lost the acknowledged batch at offsets [" + e.getKey() + ", "
                            + e.getValue()[0] + "]" + (h == null ? " (no batch starts there)" : " (another batch is there)"));
                }
            }
        }

        /** Below the smaller of two replicas' high watermarks, their logs hold the same batches. */
        void checkPrefixAgreement() {
            List<Broker> up = brokers.values().stream().filter(b -> b.alive).toList();
            for (Broker b : up) {
                if (b.log.highWatermark() > maxLeaderHighWatermark) {
                    fail("broker " + b.id + "'s high watermark " + b.log.highWatermark()
                            + " is above every leader's so far (" + maxLeaderHighWatermark + ")");
                }
            }
            for (int i = 0; i < up.size(); i++) {
                for (int j = i + 1; j < up.size(); j++) {
                    Broker a = up.get(i);
                    Broker b = up.get(j);
                    long upTo = Math.min(a.log.highWatermark(), b.log.highWatermark());
                    long from = Math.max(a.log.logStartOffset(), b.log.logStartOffset());
                    if (upTo <= from) {
                        continue;
                    }
                    try {
                        List<TestSupport.Batch> x = batchesBelow(a.log, from, upTo);
                        List<TestSupport.Batch> y = batchesBelow(b.log, from, upTo);
                        if (x.size() != y.size()) {
                            fail("below high watermark " + upTo + " broker " + a.id + " has " + x.size()
                                    + " batches, broker " + b.id + " " + y.size());
                        }
                        for (int k = 0; k < x.size(); k++) {
                            if (!java.util.Arrays.equals(x.get(k).bytes(), y.get(k).bytes())) {
                                fail("below high watermark " + upTo + " brokers " + a.id + " and " + b.id
                                        + " differ at offset " + x.get(k).baseOffset());
                            }
                        }
                    } catch (IOException e) {
                        throw new AssertionError(e);
                    }
                }
            }
        }

        private List<TestSupport.Batch> batchesBelow(PartitionLog log, long from, long upTo) throws IOException {
            List<TestSupport.Batch> out = new ArrayList<>();
            for (TestSupport.Batch b : TestSupport.batches(log, from)) {
                if (b.lastOffset() < upTo && b.baseOffset() >= from) {
                    out.add(b);
                }
            }
            return out;
        }

        void report() {
            System.out.printf("replication simulation seed %d (min.insync.replicas %d): %d ms simulated, %d batches "
                            + "(%d records) acknowledged, %d refused or timed out, 0 lost; %d leader changes, %d crashes, "
                            + "%d isolations, %d pauses, %d truncations; longest time without a leader acknowledging %d ms%n",
                    seed, minIsr, now, stats.acked, stats.ackedRecords, stats.refused, stats.leaderChanges, stats.crashes,
                    stats.isolations, stats.pauses, stats.truncations, stats.worstUnavailableMs);
            if (stats.acked == 0) {
                fail("no write was acknowledged in " + now + " ms: the cluster never served the producer");
            }
        }

        void close() throws IOException {
            for (Broker b : brokers.values()) {
                if (b.log != null) {
                    b.log.close();
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ controller

    /** The active controller: ControllerLogic applied to an image; brokers learn each new image by message. */
    static final class Controller {
        final Sim sim;
        final ControllerLogic logic = new ControllerLogic(policy(), () -> new UUID(0L, 1L));
        MetadataImage image = MetadataImage.EMPTY;
        final Map<Integer, Long> lastHeartbeat = new HashMap<>();

        Controller(Sim sim) {
            this.sim = sim;
        }

        void start() {
            // the three brokers register and the topic is created before the simulation's clock starts
            for (int id = 1; id <= 3; id++) {
                register(id, sim.brokers.get(id).incarnationId);
                apply(logic.unfence(image, id));
                lastHeartbeat.put(id, 0L);
            }
            CreateTopicsRequestData req = new CreateTopicsRequestData();
            req.topics.add(new CreateTopicsRequestData.CreatableTopic().setName(TOPIC).setNumPartitions(1)
                    .setReplicationFactor((short) 3));
            apply(logic.createTopics(image, req).records());
            for (Broker b : sim.brokers.values()) {
                b.brokerEpoch = image.broker(b.id).epoch();
            }
            tick();
        }

        PartitionRegistration partition() {
            return image.topic(TOPIC) == null ? null : image.topic(TOPIC).partition(0);
        }

        long register(int id, UUID incarnation) {
            BrokerRegistrationRequestData r = new BrokerRegistrationRequestData().setBrokerId(id).setIncarnationId(incarnation)
                    .setRack("");
            r.listeners.add(new BrokerRegistrationRequestData.Listener().setName("REPLICATION").setHost("broker-" + id)
                    .setPort(9000 + id).setSecurityProtocol((short) 0));
            ControllerResult<dev.runnel.wire.message.BrokerRegistrationResponseData> res = logic.registerBroker(image, r);
            apply(res.records());
            lastHeartbeat.put(id, sim.now);
            return res.response().brokerEpoch;
        }

        void apply(List<? extends Message> records) {
            if (records.isEmpty()) {
                return;
            }
            PartitionRegistration before = partition();
            image = image.apply(records, image.offset() + 1);
            PartitionRegistration after = partition();
            if (before != null && after != null && before.leaderEpoch() != after.leaderEpoch()) {
                sim.stats.leaderChanges++;
            }
            MetadataImage published = image;
            for (int id : sim.brokers.keySet()) {
                sim.send(CONTROLLER, id, () -> sim.brokers.get(id).onImage(published));
            }
        }

        void tick() {
            for (BrokerRegistration b : image.brokers().values()) {
                if (!b.fenced() && sim.now - lastHeartbeat.getOrDefault(b.id(), 0L) > SESSION_TIMEOUT_MS) {
                    apply(logic.fence(image, b.id()));
                }
            }
            sim.timer(CONTROLLER, 50, this::tick);
        }

        void onHeartbeat(int id, long brokerEpoch) {
            BrokerRegistration b = image.broker(id);
            if (b == null || b.epoch() != brokerEpoch) {
                return;
            }
            lastHeartbeat.put(id, sim.now);
            if (b.fenced()) {
                apply(logic.unfence(image, id));
            }
            // brokers keep fetching the metadata log: one that missed an image (isolated, paused) catches up
            MetadataImage current = image;
            sim.send(CONTROLLER, id, () -> sim.brokers.get(id).onImage(current));
        }

        AlterPartitionResponseData alterPartition(AlterPartitionRequestData req) {
            ControllerResult<AlterPartitionResponseData> res = logic.alterPartition(image, req);
            apply(res.records());
            return res.response();
        }

        private static TopicPolicy policy() {
            return new TopicPolicy() {
                @Override
                public int defaultPartitions() {
                    return 1;
                }

                @Override
                public short defaultReplicationFactor() {
                    return 3;
                }

                @Override
                public String invalidName(String name) {
                    return null;
                }

                @Override
                public String invalidConfigs(Map<String, String> configs) {
                    return null;
                }

                @Override
                public int maxSupportedReplicationFactor() {
                    return 3;
                }
            };
        }
    }

    // ------------------------------------------------------------------------------------------------ brokers

    /** A broker's replica of the partition: leader or follower as its newest image says, over a real log. */
    static final class Broker {
        final Sim sim;
        final int id;
        final Path dir;
        long incarnation;
        UUID incarnationId;
        boolean alive;
        long pausedUntil;
        long brokerEpoch = -1;
        PartitionLog log;
        MetadataImage image = MetadataImage.EMPTY;
        long checkpointedHighWatermark;

        boolean isLeader;
        int epoch = -1;
        LeaderState leaderState;
        final List<long[]> pendingAcks = new ArrayList<>(); // {first, last, crc, producer request id}

        int followedLeader = -1;
        boolean announced;
        boolean fetchInFlight;
        long lastFetchId;
        long fetchNotBefore;
        SimFollower follower;

        Broker(Sim sim, int id, Path dir) {
            this.sim = sim;
            this.id = id;
            this.dir = dir;
        }

        String describe() {
            return "broker " + id + (alive ? "" : " (down)") + (pausedUntil > sim.now ? " (paused)" : "")
                    + (sim.isolated.contains(id) ? " (isolated)" : "") + ": " + (isLeader ? "leader" : "follower of " + followedLeader)
                    + " epoch " + epoch + (log == null ? "" : ", log [" + log.logStartOffset() + ", " + log.logEndOffset()
                    + "), hw " + log.highWatermark() + ", last epoch " + log.leaderEpochCache().latestEpoch())
                    + (leaderState == null ? "" : ", isr " + leaderState.isr() + (leaderState.changeInFlight() ? " (change in flight)" : ""))
                    + (isLeader ? "" : ", fetch in flight " + fetchInFlight + ", next fetch at " + fetchNotBefore)
                    + (leaderState == null ? "" : ", followers' log ends " + leaderState.replicas().stream()
                            .map(r -> r + "=" + leaderState.followerLogEnd(r)).toList())
                    + "; registered as " + sim.controller.image.broker(id) + ", own epoch " + brokerEpoch;
        }

        void start() {
            sim.trace("start broker " + id);
            try {
                log = TestSupport.open(dir.resolve(TOPIC + "-0"));
            } catch (IOException e) {
                throw new AssertionError(e);
            }
            // Kafka's replication-offset-checkpoint: the high watermark as last checkpointed, not as it was at the crash
            log.updateHighWatermark(checkpointedHighWatermark);
            incarnation++;
            incarnationId = new UUID(id, incarnation);
            alive = true;
            isLeader = false;
            epoch = -1;
            leaderState = null;
            followedLeader = -1;
            fetchInFlight = false;
            image = MetadataImage.EMPTY;
            follower = new SimFollower(this);
            if (incarnation > 1) {
                brokerEpoch = -1;
                register();
            }
            sim.timer(id, 1, this::tick);
            sim.timer(id, HEARTBEAT_MS, this::heartbeat);
            sim.timer(id, CHECKPOINT_MS, this::checkpoint);
        }

        void crash() {
            alive = false;
            isLeader = false;
            leaderState = null;
            pendingAcks.clear();
            try {
                log.close(); // a process kill keeps what was written; only the in-memory state above is lost
            } catch (IOException e) {
                throw new AssertionError(e);
            }
            log = null;
        }

        /** A restarted process registers again (retried with the heartbeats until it has an epoch). */
        void register() {
            UUID inc = incarnationId;
            sim.send(id, CONTROLLER, () -> {
                long e = sim.controller.register(id, inc);
                sim.send(CONTROLLER, id, () -> brokerEpoch = e);
            });
        }

        void heartbeat() {
            if (brokerEpoch < 0) {
                register();
            } else {
                long e = brokerEpoch;
                sim.send(id, CONTROLLER, () -> sim.controller.onHeartbeat(id, e));
            }
            sim.timer(id, HEARTBEAT_MS, this::heartbeat);
        }

        void checkpoint() {
            checkpointedHighWatermark = log.highWatermark();
            sim.timer(id, CHECKPOINT_MS, this::checkpoint);
        }

        void onImage(MetadataImage img) {
            if (img.offset() <= image.offset()) {
                return;
            }
            image = img;
            if (img.topic(TOPIC) == null) {
                return; // registrations, before the topic exists
            }
            PartitionRegistration p = img.topic(TOPIC).partition(0);
            if (p.leader() == id) {
                if (!isLeader || p.leaderEpoch() > epoch) {
                    becomeLeader(p);
                } else if (leaderState != null) {
                    leaderState.isrCommitted(p.isr(), p.partitionEpoch());
                    maybeAdvanceHighWatermark();
                }
            } else if (isLeader || p.leaderEpoch() > epoch || p.leader() != followedLeader) {
                becomeFollower(p);
            }
        }

        void becomeLeader(PartitionRegistration p) {
            if (p.leaderEpoch() > log.leaderEpochCache().latestEpoch()) {
                log.leaderEpochCache().assign(p.leaderEpoch(), log.logEndOffset());
            }
            isLeader = true;
            epoch = p.leaderEpoch();
            sim.trace("broker " + id + " leads in epoch " + epoch + ", isr " + p.isr() + ", log end " + log.logEndOffset()
                    + ", hw " + log.highWatermark());
            followedLeader = -1;
            leaderState = new LeaderState(id, p.replicas(), p.isr(), p.leaderEpoch(), p.partitionEpoch(),
                    log.logEndOffset(), log.highWatermark(), sim.now, LAG_TIME_MAX_MS, sim.minIsr);
            PartitionRegistration current = sim.controller.partition();
            if (current.leader() == id && current.leaderEpoch() == epoch) {
                // elected and still the controller's choice (an image that arrives late may name a deposed leader,
                // which can no longer acknowledge anything: its followers follow the newer epoch)
                sim.checkHoldsAcknowledged(this, "the new leader in epoch " + epoch);
            }
        }

        void becomeFollower(PartitionRegistration p) {
            if (isLeader) {
                failPending();
            }
            isLeader = false;
            leaderState = null;
            epoch = p.leaderEpoch();
            followedLeader = p.leader();
            announced = false;
            sim.trace("broker " + id + " follows " + followedLeader + " in epoch " + epoch + ", log end " + log.logEndOffset());
            fetchNotBefore = 0;
        }

        void failPending() {
            for (long[] a : pendingAcks) {
                long reqId = a[3];
                sim.send(id, PRODUCER, () -> sim.producer.onAnswer(reqId, -1, -1, "NOT_LEADER_OR_FOLLOWER"));
            }
            pendingAcks.clear();
        }

        void tick() {
            if (isLeader) {
                leaderTick();
            } else if (followedLeader > 0 && !fetchInFlight && sim.now >= fetchNotBefore) {
                sendFetch();
            }
            sim.timer(id, 10, this::tick);
        }

        // ---------------------------------------------------------------- leader

        void leaderTick() {
            LeaderState s = leaderState;
            List<Integer> proposal = s.isrShrink(sim.now, log.logEndOffset());
            if (proposal == null) {
                proposal = s.isrExpansion(r -> {
                    BrokerRegistration b = image.broker(r);
                    return b != null && b.usable();
                });
            }
            if (proposal != null) {
                sim.trace("broker " + id + " proposes isr " + proposal + " (followers' log ends "
                        + s.replicas().stream().map(r -> r + "=" + s.followerLogEnd(r)).toList() + ", log end "
                        + log.logEndOffset() + ")");
                AlterPartitionRequestData req = new AlterPartitionRequestData().setBrokerId(id).setBrokerEpoch(brokerEpoch);
                AlterPartitionRequestData.TopicData t = new AlterPartitionRequestData.TopicData()
                        .setTopicId(image.topic(TOPIC).id());
                AlterPartitionRequestData.PartitionData pd = new AlterPartitionRequestData.PartitionData()
                        .setPartitionIndex(0).setLeaderEpoch(s.leaderEpoch()).setPartitionEpoch(s.partitionEpoch());
                for (int r : proposal) {
                    BrokerRegistration b = image.broker(r);
                    pd.newIsrWithEpochs.add(new AlterPartitionRequestData.BrokerState().setBrokerId(r)
                            .setBrokerEpoch(b == null ? -1 : b.epoch()));
                }
                t.partitions.add(pd);
                req.topics.add(t);
                sim.send(id, CONTROLLER, () -> {
                    AlterPartitionResponseData resp = sim.controller.alterPartition(req);
                    sim.send(CONTROLLER, id, () -> onAlterPartitionResponse(s, resp));
                });
            }
            // acks=all waits at most the request timeout
            long expiredBefore = sim.now - REQUEST_TIMEOUT_MS;
            pendingAcks.removeIf(a -> {
                if (a[4] < expiredBefore) {
                    long reqId = a[3];
                    sim.send(id, PRODUCER, () -> sim.producer.onAnswer(reqId, -1, -1, "REQUEST_TIMED_OUT"));
                    return true;
                }
                return false;
            });
        }

        void onAlterPartitionResponse(LeaderState s, AlterPartitionResponseData resp) {
            if (s != leaderState) {
                return;
            }
            short error = resp.errorCode != 0 ? resp.errorCode : resp.topics.get(0).partitions.get(0).errorCode;
            if (error != 0) {
                s.isrProposalFailed();
                return;
            }
            AlterPartitionResponseData.PartitionData pd = resp.topics.get(0).partitions.get(0);
            sim.trace("broker " + id + ": isr " + pd.isr + " committed (partition epoch " + pd.partitionEpoch + ")");
            s.isrCommitted(pd.isr, pd.partitionEpoch);
            maybeAdvanceHighWatermark();
        }

        void maybeAdvanceHighWatermark() {
            long hw = leaderState.maybeIncrementHighWatermark(log.logEndOffset());
            if (hw < 0) {
                return;
            }
            log.updateHighWatermark(hw);
            sim.trace("broker " + id + ": high watermark " + hw + " (isr " + leaderState.isr() + ", maximal "
                    + leaderState.maximalIsr() + ", followers' log ends " + leaderState.replicas().stream()
                    .map(r -> r + "=" + leaderState.followerLogEnd(r)).toList() + ")");
            sim.maxLeaderHighWatermark = Math.max(sim.maxLeaderHighWatermark, hw);
            pendingAcks.removeIf(a -> {
                if (a[1] < hw) {
                    long[] done = a.clone();
                    int leaderEpoch = epoch;
                    Integer other = sim.ackingLeaders.putIfAbsent(leaderEpoch, id);
                    if (other != null && other != id) {
                        sim.fail("brokers " + other + " and " + id + " both acknowledged writes in leader epoch " + leaderEpoch);
                    }
                    sim.send(id, PRODUCER, () -> sim.producer.onAck(done, leaderEpoch));
                    return true;
                }
                return false;
            });
        }

        void onProduce(long reqId, ByteBuffer batch) {
            if (!isLeader) {
                sim.send(id, PRODUCER, () -> sim.producer.onAnswer(reqId, -1, -1, "NOT_LEADER_OR_FOLLOWER"));
                return;
            }
            if (leaderState.underMinIsr()) {
                sim.send(id, PRODUCER, () -> sim.producer.onAnswer(reqId, -1, -1, "NOT_ENOUGH_REPLICAS"));
                return;
            }
            AppendResult r = log.append(batch, epoch);
            if (!r.isOk()) {
                sim.fail("the leader's append failed: " + r.errorMessage());
            }
            long crc = batch.getInt(RecordBatch.CRC_OFFSET) & 0xffffffffL;
            sim.trace("broker " + id + " appends [" + r.firstOffset() + ", " + r.lastOffset() + "] in epoch " + epoch);
            pendingAcks.add(new long[] {r.firstOffset(), r.lastOffset(), crc, reqId, sim.now});
            maybeAdvanceHighWatermark();
        }

        /** The leader's side of a replica fetch, as the broker's Fetch handler decides it. */
        void onFetch(int replica, long fetchId, long fetchOffset, int currentLeaderEpoch, int lastFetchedEpoch, int replyTo) {
            FetchAnswer a;
            if (!isLeader) {
                a = FetchAnswer.error("NOT_LEADER_OR_FOLLOWER");
            } else if (currentLeaderEpoch != epoch) {
                a = FetchAnswer.error(currentLeaderEpoch < epoch ? "FENCED_LEADER_EPOCH" : "UNKNOWN_LEADER_EPOCH");
            } else {
                ReplicaFetchCheck.Verdict v = ReplicaFetchCheck.check(fetchOffset, lastFetchedEpoch, log.logStartOffset(),
                        log.endOffsetForEpoch(lastFetchedEpoch));
                if (v.kind() == ReplicaFetchCheck.Kind.OUT_OF_RANGE) {
                    a = FetchAnswer.outOfRange(log.logStartOffset(), log.logEndOffset());
                } else if (v.kind() == ReplicaFetchCheck.Kind.DIVERGING) {
                    a = FetchAnswer.diverging(v.epoch(), v.endOffset(), log.highWatermark());
                } else {
                    LogReadResult r = log.read(fetchOffset, 2048, log.logEndOffset(), true);
                    if (!r.isOk()) {
                        a = FetchAnswer.outOfRange(log.logStartOffset(), log.logEndOffset());
                    } else {
                        if (ReplicaFetchCheck.countsAsProgress(currentLeaderEpoch, epoch, fetchOffset, lastFetchedEpoch,
                                log.logStartOffset(), log.logEndOffset(), log::endOffsetForEpoch)) {
                            leaderState.onFollowerFetch(replica, fetchOffset, log.logEndOffset(), sim.now);
                            maybeAdvanceHighWatermark();
                        }
                        try {
                            a = FetchAnswer.data(r.toByteBuffer(), log.highWatermark(), log.logStartOffset());
                        } catch (IOException e) {
                            throw new AssertionError(e);
                        }
                    }
                }
            }
            FetchAnswer answer = a;
            sim.send(id, replyTo, () -> sim.brokers.get(replyTo).onFetchAnswer(id, fetchId, fetchOffset, currentLeaderEpoch, answer));
        }

        // ---------------------------------------------------------------- follower

        void sendFetch() {
            try {
                if (!announced) {
                    announced = true;
                    if (FollowerFetchLogic.truncateIfWithoutEpoch(follower, "t-0@" + id, followedLeader)) {
                        sim.stats.truncations++;
                    }
                }
            } catch (IOException e) {
                throw new AssertionError(e);
            }
            long fetchOffset = log.logEndOffset();
            int current = epoch;
            int lastFetched = log.leaderEpochCache().latestEpoch();
            int leader = followedLeader;
            long fetchId = ++lastFetchId;
            fetchInFlight = true;
            sim.send(id, leader, () -> sim.brokers.get(leader).onFetch(id, fetchId, fetchOffset, current, lastFetched, id));
            // a fetch whose answer does not come is given up after the socket timeout (its answer, if late, ignored)
            sim.timer(id, 400, () -> {
                if (fetchInFlight && lastFetchId == fetchId) {
                    fetchInFlight = false;
                    lastFetchId++;
                }
            });
        }

        void onFetchAnswer(int from, long fetchId, long fetchOffset, int requestEpoch, FetchAnswer a) {
            if (!fetchInFlight || fetchId != lastFetchId) {
                return; // the answer to a fetch given up on
            }
            fetchInFlight = false;
            if (isLeader || from != followedLeader || requestEpoch != epoch || log.logEndOffset() != fetchOffset) {
                return; // not the answer to the fetch this replica would make now
            }
            String name = "t-0@" + id;
            try {
                if (a.error != null) {
                    fetchNotBefore = sim.now + 50;
                } else if (a.divergingEpoch >= 0) {
                    FollowerFetchLogic.truncateToDivergingEpoch(follower, name, from, a.divergingEpoch, a.divergingEndOffset);
                    sim.stats.truncations++;
                } else if (a.outOfRange) {
                    FollowerFetchLogic.truncateOutOfRange(follower, name, from, fetchOffset, a.logStartOffset, a.logEndOffset);
                    sim.stats.truncations++;
                } else {
                    int n = FollowerFetchLogic.appendFetched(follower, name, from, fetchOffset, a.records,
                            a.highWatermark, a.logStartOffset);
                    if (n > 0) {
                        sim.trace("broker " + id + " fetched from " + from + " at " + fetchOffset + ": log end now "
                                + log.logEndOffset() + ", hw " + log.highWatermark());
                    }
                    if (n == 0) {
                        fetchNotBefore = sim.now + 5 + sim.rnd.nextInt(20); // the long poll's wait, roughly
                    }
                }
            } catch (FollowerFetchLogic.Problem e) {
                fetchNotBefore = sim.now + 50;
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        }
    }

    /** What a leader answers to a replica fetch. */
    static final class FetchAnswer {
        String error;
        int divergingEpoch = -1;
        long divergingEndOffset = -1;
        boolean outOfRange;
        ByteBuffer records;
        long highWatermark;
        long logStartOffset = -1;
        long logEndOffset = -1;

        static FetchAnswer error(String e) {
            FetchAnswer a = new FetchAnswer();
            a.error = e;
            return a;
        }

        static FetchAnswer outOfRange(long start, long end) {
            FetchAnswer a = new FetchAnswer();
            a.outOfRange = true;
            a.logStartOffset = start;
            a.logEndOffset = end;
            return a;
        }

        static FetchAnswer diverging(int epoch, long endOffset, long hw) {
            FetchAnswer a = new FetchAnswer();
            a.divergingEpoch = epoch;
            a.divergingEndOffset = endOffset;
            a.highWatermark = hw;
            return a;
        }

        static FetchAnswer data(ByteBuffer records, long hw, long start) {
            FetchAnswer a = new FetchAnswer();
            a.records = records;
            a.highWatermark = hw;
            a.logStartOffset = start;
            return a;
        }
    }

    /** The broker's FollowerPartition over the simulated broker's log (as FollowerAdapter does over a Partition). */
    static final class SimFollower implements FollowerPartition {
        final Broker b;

        SimFollower(Broker b) {
            this.b = b;
        }

        @Override
        public String topic() {
            return TOPIC;
        }

        @Override
        public int partition() {
            return 0;
        }

        @Override
        public UUID topicId() {
            return null;
        }

        @Override
        public long logStartOffset() {
            return b.log.logStartOffset();
        }

        @Override
        public long logEndOffset() {
            return b.log.logEndOffset();
        }

        @Override
        public int leaderEpoch() {
            return b.epoch;
        }

        @Override
        public int lastFetchedEpoch() {
            return b.log.leaderEpochCache().latestEpoch();
        }

        @Override
        public dev.runnel.log.EpochEndOffset endOffsetForEpoch(int epoch) {
            return b.log.endOffsetForEpoch(epoch);
        }

        @Override
        public AppendResult appendAsFollower(ByteBuffer records) {
            return b.log.appendAsFollower(records);
        }

        @Override
        public void truncateTo(long offset) throws IOException {
            b.log.truncateTo(offset);
        }

        @Override
        public void truncateFullyAndStartAt(long offset) throws IOException {
            b.log.truncateFullyAndStartAt(offset);
        }

        @Override
        public long highWatermark() {
            return b.log.highWatermark();
        }

        @Override
        public void updateHighWatermark(long leaderHighWatermark) {
            b.log.updateHighWatermark(leaderHighWatermark);
        }

        @Override
        public void maybeIncrementLogStartOffset(long leaderLogStartOffset) {
            try {
                b.log.maybeIncrementLogStartOffset(Math.min(leaderLogStartOffset, b.log.highWatermark()));
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ producer

    /** An acks=all producer: one batch at a time to the leader the controller names, retried on errors. */
    static final class Producer {
        final Sim sim;
        long nextRequest;
        int inFlight;
        long inFlightRequest = -1;
        long lastAckAt;
        int sequence;
        boolean stopAfterNow;

        Producer(Sim sim) {
            this.sim = sim;
        }

        void start() {
            sim.timer(PRODUCER, 1, this::tick);
        }

        void tick() {
            if (inFlight == 0 && !stopAfterNow) {
                PartitionRegistration p = sim.controller.partition();
                if (p != null && p.hasLeader()) {
                    long reqId = nextRequest++;
                    BatchBuilder b = new BatchBuilder();
                    int records = 1 + sim.rnd.nextInt(3);
                    for (int i = 0; i < records; i++) {
                        b.append(TestSupport.TS + sequence, "k" + sequence, "value-" + sequence + "-seed-" + sim.seed);
                        sequence++;
                    }
                    ByteBuffer batch = b.build();
                    int leader = p.leader();
                    inFlight = 1;
                    inFlightRequest = reqId;
                    sim.send(PRODUCER, leader, () -> sim.brokers.get(leader).onProduce(reqId, batch));
                    // the request timeout, for an answer that never comes
                    sim.timer(PRODUCER, REQUEST_TIMEOUT_MS + 200, () -> {
                        if (inFlightRequest == reqId) {
                            onAnswer(reqId, -1, -1, "REQUEST_TIMED_OUT (client)");
                        }
                    });
                }
            }
            sim.timer(PRODUCER, 2 + sim.rnd.nextInt(5), this::tick);
        }

        void onAck(long[] a, int leaderEpoch) {
            long first = a[0];
            long last = a[1];
            long crc = a[2];
            long[] before = sim.acknowledged.get(first);
            if (before != null && (before[0] != last || before[1] != crc)) {
                sim.fail("offset " + first + " acknowledged twice with different batches (second in leader epoch "
                        + leaderEpoch + ")");
            }
            for (Map.Entry<Long, long[]> e : sim.acknowledged.subMap(first, false, last, true).entrySet()) {
                sim.fail("acknowledged batch at " + first + ".." + last + " overlaps the acknowledged batch at " + e.getKey());
            }
            Map.Entry<Long, long[]> lower = sim.acknowledged.lowerEntry(first);
            if (lower != null && lower.getValue()[0] >= first) {
                sim.fail("acknowledged batch at " + first + ".." + last + " overlaps the acknowledged batch at " + lower.getKey());
            }
            sim.trace("producer: [" + first + ", " + last + "] acknowledged in epoch " + leaderEpoch);
            if (before == null) {
                sim.acknowledged.put(first, new long[] {last, crc});
                sim.stats.acked++;
                sim.stats.ackedRecords += (int) (last - first + 1);
            }
            if (lastAckAt > 0) {
                sim.stats.worstUnavailableMs = Math.max(sim.stats.worstUnavailableMs, sim.now - lastAckAt);
            }
            lastAckAt = sim.now;
            // the leader the controller elected now (a deposed leader that does not know it yet may lack newer batches)
            PartitionRegistration p = sim.controller.partition();
            Broker leader = p.hasLeader() ? sim.brokers.get(p.leader()) : null;
            if (leader != null && leader.alive && leader.isLeader && leader.epoch == p.leaderEpoch()) {
                sim.checkHoldsAcknowledged(leader, "the leader");
            }
            if (inFlightRequest == a[3]) {
                inFlight = 0;
                inFlightRequest = -1;
            }
        }

        void onAnswer(long reqId, long first, long last, String error) {
            if (inFlightRequest != reqId) {
                return;
            }
            sim.stats.refused++;
            inFlight = 0;
            inFlightRequest = -1;
        }
    }
}
