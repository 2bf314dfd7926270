package dev.runnel.groupcoord;

import dev.runnel.wire.Errors;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The partitions of __consumer_offsets as byte arrays in memory: what the coordinator writes is what it reads back. */
final class InMemoryLog implements CoordinatorLog {
    /** A record, or (marker != null) a transaction marker of the producer: true COMMIT, false ABORT. */
    record Entry(long offset, long producerId, byte[] key, byte[] value, Boolean marker) {
        Entry(long offset, long producerId, byte[] key, byte[] value) {
            this(offset, producerId, key, value, null);
        }
    }

    private final Map<Integer, List<Entry>> partitions = new HashMap<>();
    private int failNextAppends;
    private Runnable onRead;

    @Override
    public long append(int partition, long timestampMs, List<CoordinatorRecord> records) {
        if (failNextAppends > 0) {
            failNextAppends--;
            throw new CoordinatorLogException(Errors.KAFKA_STORAGE_ERROR, "disk on fire (test)", null);
        }
        List<Entry> log = partitions.computeIfAbsent(partition, p -> new ArrayList<>());
        long base = log.size();
        for (CoordinatorRecord r : records) {
            log.add(new Entry(log.size(), -1, r.serializeKey(), r.serializeValue()));
        }
        return base;
    }

    @Override
    public long appendTransactional(int partition, long timestampMs, long producerId, short producerEpoch,
                                    List<CoordinatorRecord> records) {
        if (failNextAppends > 0) {
            failNextAppends--;
            throw new CoordinatorLogException(Errors.KAFKA_STORAGE_ERROR, "disk on fire (test)", null);
        }
        List<Entry> log = partitions.computeIfAbsent(partition, p -> new ArrayList<>());
        long base = log.size();
        for (CoordinatorRecord r : records) {
            log.add(new Entry(log.size(), producerId, r.serializeKey(), r.serializeValue()));
        }
        return base;
    }

    /** Appends a COMMIT or ABORT marker of the producer, as the transaction coordinator's WriteTxnMarkers does. */
    void appendMarker(int partition, long producerId, boolean commit) {
        List<Entry> log = partitions.computeIfAbsent(partition, p -> new ArrayList<>());
        log.add(new Entry(log.size(), producerId, null, null, commit));
    }

    @Override
    public void read(int partition, RecordVisitor visitor) {
        for (Entry e : partitions.getOrDefault(partition, List.of())) {
            if (onRead != null) {
                onRead.run();
            }
            if (e.marker != null) {
                visitor.marker(e.offset, e.producerId, e.marker);
                continue;
            }
            visitor.accept(e.offset, e.producerId, ByteBuffer.wrap(e.key), e.value == null ? null : ByteBuffer.wrap(e.value));
        }
    }

    /** Appends raw bytes, as another writer (or Kafka itself) might have left them. */
    void appendRaw(int partition, long producerId, byte[] key, byte[] value) {
        List<Entry> log = partitions.computeIfAbsent(partition, p -> new ArrayList<>());
        log.add(new Entry(log.size(), producerId, key, value));
    }

    List<Entry> entries(int partition) {
        return partitions.getOrDefault(partition, List.of());
    }

    List<CoordinatorRecord> records(int partition) {
        List<CoordinatorRecord> out = new ArrayList<>();
        for (Entry e : entries(partition)) {
            if (e.marker != null) {
                continue;
            }
            out.add(CoordinatorRecord.deserialize(ByteBuffer.wrap(e.key), e.value == null ? null : ByteBuffer.wrap(e.value)));
        }
        return out;
    }

    void failNextAppends(int n) {
        failNextAppends = n;
    }

    void onEveryRead(Runnable r) {
        onRead = r;
    }
}
