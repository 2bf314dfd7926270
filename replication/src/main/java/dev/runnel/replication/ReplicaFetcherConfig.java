package dev.runnel.replication;

import java.util.Map;

/**
 * The follower's fetch settings, named after Kafka's broker configs (defaults are Kafka's).
 *
 * @param numReplicaFetchers        {@code num.replica.fetchers}: fetcher threads per leader broker; a partition goes to
 *                                  thread {@code abs(31 * topic.hashCode() + partition) % numReplicaFetchers} (default 1)
 * @param fetchMaxBytes             {@code replica.fetch.max.bytes}: PartitionMaxBytes of every partition (default 1 MiB;
 *                                  the leader still sends a first batch larger than this, so replication never stalls)
 * @param fetchResponseMaxBytes     {@code replica.fetch.response.max.bytes}: the request's MaxBytes (default 10 MiB)
 * @param fetchWaitMaxMs            {@code replica.fetch.wait.max.ms}: MaxWaitMs, how long the leader may hold a fetch
 *                                  open while it has less than MinBytes (default 500)
 * @param fetchMinBytes             {@code replica.fetch.min.bytes}: MinBytes (default 1)
 * @param fetchBackoffMs            {@code replica.fetch.backoff.ms}: how long a partition with an error, or a fetcher
 *                                  whose connection failed, waits before trying again (default 1000)
 * @param socketTimeoutMs           {@code replica.socket.timeout.ms}: connect timeout and the longest wait for a
 *                                  response; must be at least {@code fetchWaitMaxMs} (default 30000)
 * @param socketReceiveBufferBytes  {@code replica.socket.receive.buffer.bytes}: SO_RCVBUF, -1 for the OS default
 *                                  (default 65536)
 */
public record ReplicaFetcherConfig(int numReplicaFetchers, int fetchMaxBytes, int fetchResponseMaxBytes,
                                   int fetchWaitMaxMs, int fetchMinBytes, int fetchBackoffMs, int socketTimeoutMs,
                                   int socketReceiveBufferBytes) {

    public static final String NUM_REPLICA_FETCHERS = "num.replica.fetchers";
    public static final String REPLICA_FETCH_MAX_BYTES = "replica.fetch.max.bytes";
    public static final String REPLICA_FETCH_RESPONSE_MAX_BYTES = "replica.fetch.response.max.bytes";
    public static final String REPLICA_FETCH_WAIT_MAX_MS = "replica.fetch.wait.max.ms";
    public static final String REPLICA_FETCH_MIN_BYTES = "replica.fetch.min.bytes";
    public static final String REPLICA_FETCH_BACKOFF_MS = "replica.fetch.backoff.ms";
    public static final String REPLICA_SOCKET_TIMEOUT_MS = "replica.socket.timeout.ms";
    public static final String REPLICA_SOCKET_RECEIVE_BUFFER_BYTES = "replica.socket.receive.buffer.bytes";

    private static final ReplicaFetcherConfig DEFAULTS =
            new ReplicaFetcherConfig(1, 1_048_576, 10_485_760, 500, 1, 1000, 30_000, 65_536);

    public ReplicaFetcherConfig {
        check(numReplicaFetchers >= 1, NUM_REPLICA_FETCHERS + " must be at least 1: " + numReplicaFetchers);
        check(fetchMaxBytes >= 0, REPLICA_FETCH_MAX_BYTES + " must be >= 0: " + fetchMaxBytes);
        check(fetchResponseMaxBytes >= 0, REPLICA_FETCH_RESPONSE_MAX_BYTES + " must be >= 0: " + fetchResponseMaxBytes);
        check(fetchWaitMaxMs >= 0, REPLICA_FETCH_WAIT_MAX_MS + " must be >= 0: " + fetchWaitMaxMs);
        check(fetchMinBytes >= 0, REPLICA_FETCH_MIN_BYTES + " must be >= 0: " + fetchMinBytes);
        check(fetchBackoffMs >= 0, REPLICA_FETCH_BACKOFF_MS + " must be >= 0: " + fetchBackoffMs);
        check(socketTimeoutMs >= 1, REPLICA_SOCKET_TIMEOUT_MS + " must be at least 1: " + socketTimeoutMs);
        // Kafka's KafkaConfig check: a long-polling fetch must not time out on the socket
        check(socketTimeoutMs >= fetchWaitMaxMs, REPLICA_SOCKET_TIMEOUT_MS + " (" + socketTimeoutMs
                + ") should always be at least " + REPLICA_FETCH_WAIT_MAX_MS + " (" + fetchWaitMaxMs
                + ") to prevent unnecessary socket timeouts");
        check(socketReceiveBufferBytes == -1 || socketReceiveBufferBytes >= 1,
                REPLICA_SOCKET_RECEIVE_BUFFER_BYTES + " must be -1 or positive: " + socketReceiveBufferBytes);
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    /** Kafka's defaults. */
    public static ReplicaFetcherConfig defaults() {
        return DEFAULTS;
    }

    /**
     * The defaults with Kafka's keys from a broker configuration applied ({@code num.replica.fetchers},
     * {@code replica.fetch.max.bytes}, {@code replica.fetch.response.max.bytes}, {@code replica.fetch.wait.max.ms},
     * {@code replica.fetch.min.bytes}, {@code replica.fetch.backoff.ms}, {@code replica.socket.timeout.ms},
     * {@code replica.socket.receive.buffer.bytes}); other keys are ignored. Values may be strings or numbers.
     *
     * @throws IllegalArgumentException for a malformed or out-of-range value
     */
    public static ReplicaFetcherConfig fromProperties(Map<String, ?> props) {
        ReplicaFetcherConfig d = DEFAULTS;
        return new ReplicaFetcherConfig(
                intValue(props, NUM_REPLICA_FETCHERS, d.numReplicaFetchers),
                intValue(props, REPLICA_FETCH_MAX_BYTES, d.fetchMaxBytes),
                intValue(props, REPLICA_FETCH_RESPONSE_MAX_BYTES, d.fetchResponseMaxBytes),
                intValue(props, REPLICA_FETCH_WAIT_MAX_MS, d.fetchWaitMaxMs),
                intValue(props, REPLICA_FETCH_MIN_BYTES, d.fetchMinBytes),
                intValue(props, REPLICA_FETCH_BACKOFF_MS, d.fetchBackoffMs),
                intValue(props, REPLICA_SOCKET_TIMEOUT_MS, d.socketTimeoutMs),
                intValue(props, REPLICA_SOCKET_RECEIVE_BUFFER_BYTES, d.socketReceiveBufferBytes));
    }

    private static int intValue(Map<String, ?> props, String key, int defaultValue) {
        Object v = props.get(key);
        if (v == null) {
            return defaultValue;
        }
        String s = v.toString().trim();
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Invalid value " + s + " for " + key + ": not an int", e);
        }
    }

    public ReplicaFetcherConfig withNumReplicaFetchers(int v) {
        return new ReplicaFetcherConfig(v, fetchMaxBytes, fetchResponseMaxBytes, fetchWaitMaxMs, fetchMinBytes,
                fetchBackoffMs, socketTimeoutMs, socketReceiveBufferBytes);
    }

    public ReplicaFetcherConfig withFetchMaxBytes(int v) {
        return new ReplicaFetcherConfig(numReplicaFetchers, v, fetchResponseMaxBytes, fetchWaitMaxMs, fetchMinBytes,
                fetchBackoffMs, socketTimeoutMs, socketReceiveBufferBytes);
    }

    public ReplicaFetcherConfig withFetchResponseMaxBytes(int v) {
        return new ReplicaFetcherConfig(numReplicaFetchers, fetchMaxBytes, v, fetchWaitMaxMs, fetchMinBytes,
                fetchBackoffMs, socketTimeoutMs, socketReceiveBufferBytes);
    }

    public ReplicaFetcherConfig withFetchWaitMaxMs(int v) {
        return new ReplicaFetcherConfig(numReplicaFetchers, fetchMaxBytes, fetchResponseMaxBytes, v, fetchMinBytes,
                fetchBackoffMs, socketTimeoutMs, socketReceiveBufferBytes);
    }

    public ReplicaFetcherConfig withFetchMinBytes(int v) {
        return new ReplicaFetcherConfig(numReplicaFetchers, fetchMaxBytes, fetchResponseMaxBytes, fetchWaitMaxMs, v,
                fetchBackoffMs, socketTimeoutMs, socketReceiveBufferBytes);
    }

    public ReplicaFetcherConfig withFetchBackoffMs(int v) {
        return new ReplicaFetcherConfig(numReplicaFetchers, fetchMaxBytes, fetchResponseMaxBytes, fetchWaitMaxMs,
                fetchMinBytes, v, socketTimeoutMs, socketReceiveBufferBytes);
    }

    public ReplicaFetcherConfig withSocketTimeoutMs(int v) {
        return new ReplicaFetcherConfig(numReplicaFetchers, fetchMaxBytes, fetchResponseMaxBytes, fetchWaitMaxMs,
                fetchMinBytes, fetchBackoffMs, v, socketReceiveBufferBytes);
    }

    public ReplicaFetcherConfig withSocketReceiveBufferBytes(int v) {
        return new ReplicaFetcherConfig(numReplicaFetchers, fetchMaxBytes, fetchResponseMaxBytes, fetchWaitMaxMs,
                fetchMinBytes, fetchBackoffMs, socketTimeoutMs, v);
    }
}
