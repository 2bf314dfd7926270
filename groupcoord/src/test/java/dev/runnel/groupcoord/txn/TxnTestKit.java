package dev.runnel.groupcoord.txn;

import dev.runnel.groupcoord.CoordinatorLog.CoordinatorLogException;
import dev.runnel.groupcoord.ManualClock;
import dev.runnel.wire.Errors;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/** A coordinator over an in-memory {@code __transaction_state}, a manual clock and a marker writer the test controls. */
final class TxnTestKit {
    static final TransactionCoordinatorConfig CONFIG = new TransactionCoordinatorConfig(4, 900_000, 10_000L, 3_600_000L,
            600_000L, 100L);

    /** The partitions' records, kept across "restarts" of the coordinator. */
    static final class MemoryLog implements TransactionLog {
        final Map<Integer, List<byte[][]>> partitions = new HashMap<>();
        boolean failAppends;
        /** When set, appends are in the log but not durable until the test completes their futures. */
        boolean deferDurability;
        final List<CompletableFuture<Long>> notDurable = new ArrayList<>();

        @Override
        public CompletableFuture<Long> append(int partition, long timestampMs, byte[] key, byte[] value) {
            if (failAppends) {
                throw new CoordinatorLogException(Errors.NOT_LEADER_OR_FOLLOWER, "append refused by the test", null);
            }
            List<byte[][]> records = partitions.computeIfAbsent(partition, p -> new ArrayList<>());
            records.add(new byte[][]{key, value});
            long offset = records.size() - 1;
            if (deferDurability) {
                CompletableFuture<Long> f = new CompletableFuture<>();
                notDurable.add(f);
                return f;
            }
            return CompletableFuture.completedFuture(offset);
        }

        @Override
        public void read(int partition, Visitor visitor) {
            List<byte[][]> records = partitions.getOrDefault(partition, List.of());
            for (int i = 0; i < records.size(); i++) {
                byte[][] r = records.get(i);
                visitor.accept(i, ByteBuffer.wrap(r[0]), r[1] == null ? null : ByteBuffer.wrap(r[1]));
            }
        }

        /** The states written for an id, in order (null for a tombstone). */
        List<TransactionState> statesOf(String id, int partition) {
            List<TransactionState> out = new ArrayList<>();
            read(partition, (offset, key, value) -> {
                if (TransactionRecords.readKey(key).equals(id)) {
                    TransactionMetadata m = TransactionRecords.readValue(id, value);
                    out.add(m == null ? null : m.state());
                }
            });
            return out;
        }
    }

    /** One marker request the coordinator made; the test completes it. */
    record MarkerCall(long producerId, short epoch, boolean commit, int coordinatorEpoch, Set<TxnPartition> partitions,
                      CompletableFuture<Map<TxnPartition, Errors>> answer) {
        void succeed() {
            Map<TxnPartition, Errors> r = new LinkedHashMap<>();
            partitions.forEach(p -> r.put(p, Errors.NONE));
            answer.complete(r);
        }

        void fail(TxnPartition p, Errors error) {
            Map<TxnPartition, Errors> r = new LinkedHashMap<>();
            partitions.forEach(x -> r.put(x, x.equals(p) ? error : Errors.NONE));
            answer.complete(r);
        }
    }

    final ManualClock clock = new ManualClock(1_000_000L);
    final MemoryLog log;
    final List<MarkerCall> markerCalls = new ArrayList<>();
    /** When set, marker requests are answered NONE at once. */
    boolean autoMarkers = true;
    final AtomicLong nextProducerId;
    final TransactionCoordinatorConfig config;
    TransactionCoordinator coordinator;

    TxnTestKit() {
        this(new MemoryLog(), new AtomicLong(1000));
    }

    TxnTestKit(MemoryLog log, AtomicLong producerIds) {
        this(log, producerIds, CONFIG);
    }

    /** A kit whose coordinator runs with {@code config} (e.g. transaction.version 2). */
    TxnTestKit(MemoryLog log, AtomicLong producerIds, TransactionCoordinatorConfig config) {
        this.log = log;
        this.nextProducerId = producerIds;
        this.config = config;
        coordinator = newCoordinator();
    }

    private TransactionCoordinator newCoordinator() {
        TransactionCoordinator c = new TransactionCoordinator(config, clock, clock, log,
                () -> CompletableFuture.completedFuture(nextProducerId.getAndIncrement()),
                (pid, epoch, commit, coordinatorEpoch, partitions) -> {
                    MarkerCall call = new MarkerCall(pid, epoch, commit, coordinatorEpoch, Set.copyOf(partitions), new CompletableFuture<>());
                    markerCalls.add(call);
                    if (autoMarkers) {
                        call.succeed();
                    }
                    return call.answer();
                });
        c.loadAll();
        c.start();
        return c;
    }

    /** A new coordinator over the same log, as after a broker restart (the old one is dropped without a word). */
    TxnTestKit restart() {
        coordinator.shutdown();
        TxnTestKit next = new TxnTestKit(log, nextProducerId, clock.milliseconds(), config);
        return next;
    }

    private TxnTestKit(MemoryLog log, AtomicLong producerIds, long nowMs, TransactionCoordinatorConfig config) {
        this.log = log;
        this.nextProducerId = producerIds;
        this.config = config;
        this.clock.advance(nowMs - clock.milliseconds());
        coordinator = newCoordinator();
    }

    TransactionCoordinator.InitResult init(String id, int timeoutMs) {
        return coordinator.initProducerId(id, timeoutMs, -1L, (short) -1).join();
    }

    TransactionCoordinator.InitResult init(String id, int timeoutMs, long expectedPid, short expectedEpoch) {
        return coordinator.initProducerId(id, timeoutMs, expectedPid, expectedEpoch).join();
    }

    Errors add(String id, long producerId, short epoch, List<TxnPartition> partitions) {
        return coordinator.addPartitions(id, producerId, epoch, partitions).join();
    }

    Errors end(String id, long producerId, short epoch, boolean commit) {
        return coordinator.endTransaction(id, producerId, epoch, commit).join();
    }

    TransactionState state(String id) {
        TransactionMetadata m = coordinator.metadata(id);
        return m == null ? null : m.state();
    }

    int partitionOf(String id) {
        return coordinator.partitionFor(id);
    }

    static TxnPartition tp(String topic, int p) {
        return new TxnPartition(topic, p);
    }
}
