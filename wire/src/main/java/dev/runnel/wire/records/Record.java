package dev.runnel.wire.records;

import java.util.Arrays;
import java.util.List;

/**
 * One record of a batch, materialised (key/value copied out). Only for the rare paths (ListOffsets
 * by timestamp, internal topics, tests): the produce and fetch paths never create these.
 *
 * @param offset     absolute offset (batch base offset + offset delta)
 * @param timestamp  the record timestamp; for LogAppendTime batches the batch MaxTimestamp, as Kafka
 * @param attributes the record attributes byte (unused by Kafka today)
 * @param key        key bytes or {@code null}
 * @param value      value bytes or {@code null}
 * @param headers    headers, never {@code null}
 */
public record Record(long offset, long timestamp, int attributes, byte[] key, byte[] value, List<Header> headers) {

    @Override
    public boolean equals(Object o) {
        return o instanceof Record r && offset == r.offset && timestamp == r.timestamp && attributes == r.attributes
                && Arrays.equals(key, r.key) && Arrays.equals(value, r.value) && headers.equals(r.headers);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(offset) * 31 + Arrays.hashCode(value);
    }

    @Override
    public String toString() {
        return "Record(offset=" + offset + ", timestamp=" + timestamp
                + ", key=" + (key == null ? "null" : key.length + "B")
                + ", value=" + (value == null ? "null" : value.length + "B")
                + ", headers=" + headers + ")";
    }
}
