package dev.runnel.groupcoord;

import java.util.List;

/**
 * What one operation on a shard produced: records to append to the shard's partition and the response to send
 * once they are durable.
 *
 * @param records        records for the shard's __consumer_offsets partition, in order
 * @param response       the response, or null when it is delivered later through a parked request
 * @param onAppended     runs after the records are appended (state changes that must wait for durability), or null.
 *                       When an append fails the runtime drops the shard's in-memory state and reloads it from the
 *                       log, which undoes the operation the way Kafka's snapshot revert does.
 * @param replayRecords  whether the records are also applied to the shard's state through replay (offset commits,
 *                       tombstones); false when the operation already changed the state itself (group metadata)
 */
public record CoordinatorResult<T>(List<CoordinatorRecord> records, T response, Runnable onAppended, boolean replayRecords) {
    private static final CoordinatorResult<?> EMPTY = new CoordinatorResult<>(List.of(), null, null, true);

    public CoordinatorResult {
        records = List.copyOf(records);
    }

    @SuppressWarnings("unchecked")
    public static <T> CoordinatorResult<T> empty() {
        return (CoordinatorResult<T>) EMPTY;
    }

    public static <T> CoordinatorResult<T> of(List<CoordinatorRecord> records, T response) {
        return new CoordinatorResult<>(records, response, null, true);
    }

    public static <T> CoordinatorResult<T> response(T response) {
        return new CoordinatorResult<>(List.of(), response, null, true);
    }

    /** Records that describe state the operation already holds in memory; the continuation runs once they are durable. */
    public static <T> CoordinatorResult<T> written(List<CoordinatorRecord> records, Runnable onAppended) {
        return new CoordinatorResult<>(records, null, onAppended, false);
    }

    /** The same records and continuations with a response attached. */
    public <U> CoordinatorResult<U> withResponse(U newResponse) {
        return new CoordinatorResult<>(records, newResponse, onAppended, replayRecords);
    }
}
