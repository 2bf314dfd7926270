package dev.runnel.log;

import dev.runnel.wire.records.TimestampType;

import java.util.Map;

/**
 * The per-topic settings the log uses, named after Kafka's topic configs. Immutable; start from
 * {@link #defaults()} and change fields with the {@code with...} methods, or read Kafka config
 * keys with {@link #withOverrides(Map)}.
 *
 * @param segmentBytes          {@code segment.bytes}: roll when the active segment would exceed this (default 1 GiB)
 * @param segmentMs             {@code segment.ms}: roll when the incoming batch's timestamp is this much newer than
 *                              the active segment's first batch (default 7 days)
 * @param segmentIndexBytes     {@code segment.index.bytes}: size each index is preallocated to; a full index rolls
 *                              the segment (default 10 MiB)
 * @param indexIntervalBytes    {@code index.interval.bytes}: bytes between offset/time index entries (default 4096)
 * @param maxMessageBytes       {@code max.message.bytes}: largest batch accepted (default 1048588)
 * @param flushIntervalMessages {@code flush.messages}: fsync after this many records (default: never, rely on
 *                              {@link PartitionLog#flush()} and replication)
 * @param messageTimestampType  {@code message.timestamp.type}: CreateTime, or LogAppendTime (broker stamps batches)
 * @param retentionMs           {@code retention.ms}: whole segments whose largest timestamp is older than this are
 *                              deleted (-1: forever; only with cleanup.policy delete)
 * @param retentionBytes        {@code retention.bytes}: oldest segments are deleted while the log is larger than
 *                              this (-1: no limit; only with cleanup.policy delete)
 * @param cleanup               {@code cleanup.policy} and the compaction and deletion settings, see {@link Cleanup}
 */
public record LogConfig(int segmentBytes, long segmentMs, int segmentIndexBytes, int indexIntervalBytes,
                        int maxMessageBytes, long flushIntervalMessages, TimestampType messageTimestampType,
                        long retentionMs, long retentionBytes, Cleanup cleanup) {

    /**
     * How old data leaves the log.
     *
     * @param delete                 {@code cleanup.policy} contains {@code delete}: retention by time and size
     * @param compact                {@code cleanup.policy} contains {@code compact}: keep the latest record per key
     * @param deleteRetentionMs      {@code delete.retention.ms}: how long tombstones stay once compacted (default 1 day)
     * @param fileDeleteDelayMs      {@code file.delete.delay.ms}: how long a removed segment's files (renamed
     *                               {@code .deleted}) stay open for in-flight reads before they are deleted (default 60 s)
     * @param minCleanableDirtyRatio {@code min.cleanable.dirty.ratio}: share of uncompacted bytes that makes the
     *                               cleaner work on the log (default 0.5)
     * @param minCompactionLagMs     {@code min.compaction.lag.ms}: records younger than this are not compacted (default 0)
     * @param maxCompactionLagMs     {@code max.compaction.lag.ms}: records older than this are compacted whatever the
     *                               dirty ratio (default: never forced)
     */
    public record Cleanup(boolean delete, boolean compact, long deleteRetentionMs, long fileDeleteDelayMs,
                          double minCleanableDirtyRatio, long minCompactionLagMs, long maxCompactionLagMs) {
        static final Cleanup DEFAULTS = new Cleanup(true, false, 24L * 60 * 60 * 1000, 60_000L, 0.5, 0L, Long.MAX_VALUE);

        public Cleanup {
            if (deleteRetentionMs < 0 || fileDeleteDelayMs < 0 || minCompactionLagMs < 0 || maxCompactionLagMs < 1) {
                throw new IllegalArgumentException("Negative delete.retention.ms, file.delete.delay.ms or compaction lag");
            }
            if (!(minCleanableDirtyRatio >= 0 && minCleanableDirtyRatio <= 1)) {
                throw new IllegalArgumentException("min.cleanable.dirty.ratio must be in [0, 1]: " + minCleanableDirtyRatio);
            }
        }

        /** Kafka's defaults ({@code cleanup.policy=delete}). */
        public static Cleanup defaults() {
            return DEFAULTS;
        }

        /** Sets both policies from a {@code cleanup.policy} value such as {@code "compact,delete"}. */
        public Cleanup withPolicy(String cleanupPolicy) {
            boolean d = false;
            boolean c = false;
            for (String s : cleanupPolicy.split(",")) {
                switch (s.trim()) {
                    case "delete" -> d = true;
                    case "compact" -> c = true;
                    case "" -> {
                        // Kafka 4 allows an empty policy: neither
                    }
                    default -> throw new IllegalArgumentException("Unknown cleanup.policy " + s.trim());
                }
            }
            return new Cleanup(d, c, deleteRetentionMs, fileDeleteDelayMs, minCleanableDirtyRatio, minCompactionLagMs,
                    maxCompactionLagMs);
        }

        public Cleanup withDeleteRetentionMs(long v) {
            return new Cleanup(delete, compact, v, fileDeleteDelayMs, minCleanableDirtyRatio, minCompactionLagMs, maxCompactionLagMs);
        }

        public Cleanup withFileDeleteDelayMs(long v) {
            return new Cleanup(delete, compact, deleteRetentionMs, v, minCleanableDirtyRatio, minCompactionLagMs, maxCompactionLagMs);
        }

        public Cleanup withMinCleanableDirtyRatio(double v) {
            return new Cleanup(delete, compact, deleteRetentionMs, fileDeleteDelayMs, v, minCompactionLagMs, maxCompactionLagMs);
        }

        public Cleanup withMinCompactionLagMs(long v) {
            return new Cleanup(delete, compact, deleteRetentionMs, fileDeleteDelayMs, minCleanableDirtyRatio, v, maxCompactionLagMs);
        }

        public Cleanup withMaxCompactionLagMs(long v) {
            return new Cleanup(delete, compact, deleteRetentionMs, fileDeleteDelayMs, minCleanableDirtyRatio, minCompactionLagMs, v);
        }
    }

    private static final LogConfig DEFAULTS = new LogConfig(1 << 30, 7L * 24 * 60 * 60 * 1000, 10 * 1024 * 1024, 4096,
            1_048_588, Long.MAX_VALUE, TimestampType.CREATE_TIME, 7L * 24 * 60 * 60 * 1000, -1L, Cleanup.DEFAULTS);

    public LogConfig {
        if (segmentBytes < 14) {
            throw new IllegalArgumentException("segment.bytes must be at least 14: " + segmentBytes);
        }
        if (segmentMs < 1) {
            throw new IllegalArgumentException("segment.ms must be at least 1: " + segmentMs);
        }
        if (segmentIndexBytes < 12) {
            throw new IllegalArgumentException("segment.index.bytes must be at least 12: " + segmentIndexBytes);
        }
        if (indexIntervalBytes < 0) {
            throw new IllegalArgumentException("index.interval.bytes must be >= 0: " + indexIntervalBytes);
        }
        if (maxMessageBytes < 0) {
            throw new IllegalArgumentException("max.message.bytes must be >= 0: " + maxMessageBytes);
        }
        if (flushIntervalMessages < 1) {
            throw new IllegalArgumentException("flush.messages must be at least 1: " + flushIntervalMessages);
        }
        if (messageTimestampType == null) {
            throw new IllegalArgumentException("message.timestamp.type is required");
        }
        if (cleanup == null) {
            throw new IllegalArgumentException("cleanup settings are required");
        }
    }

    /** Kafka's defaults. */
    public static LogConfig defaults() {
        return DEFAULTS;
    }

    public LogConfig withSegmentBytes(int v) {
        return new LogConfig(v, segmentMs, segmentIndexBytes, indexIntervalBytes, maxMessageBytes, flushIntervalMessages,
                messageTimestampType, retentionMs, retentionBytes, cleanup);
    }

    public LogConfig withSegmentMs(long v) {
        return new LogConfig(segmentBytes, v, segmentIndexBytes, indexIntervalBytes, maxMessageBytes, flushIntervalMessages,
                messageTimestampType, retentionMs, retentionBytes, cleanup);
    }

    public LogConfig withSegmentIndexBytes(int v) {
        return new LogConfig(segmentBytes, segmentMs, v, indexIntervalBytes, maxMessageBytes, flushIntervalMessages,
                messageTimestampType, retentionMs, retentionBytes, cleanup);
    }

    public LogConfig withIndexIntervalBytes(int v) {
        return new LogConfig(segmentBytes, segmentMs, segmentIndexBytes, v, maxMessageBytes, flushIntervalMessages,
                messageTimestampType, retentionMs, retentionBytes, cleanup);
    }

    public LogConfig withMaxMessageBytes(int v) {
        return new LogConfig(segmentBytes, segmentMs, segmentIndexBytes, indexIntervalBytes, v, flushIntervalMessages,
                messageTimestampType, retentionMs, retentionBytes, cleanup);
    }

    public LogConfig withFlushIntervalMessages(long v) {
        return new LogConfig(segmentBytes, segmentMs, segmentIndexBytes, indexIntervalBytes, maxMessageBytes, v,
                messageTimestampType, retentionMs, retentionBytes, cleanup);
    }

    public LogConfig withMessageTimestampType(TimestampType v) {
        return new LogConfig(segmentBytes, segmentMs, segmentIndexBytes, indexIntervalBytes, maxMessageBytes,
                flushIntervalMessages, v, retentionMs, retentionBytes, cleanup);
    }

    public LogConfig withRetentionMs(long v) {
        return new LogConfig(segmentBytes, segmentMs, segmentIndexBytes, indexIntervalBytes, maxMessageBytes,
                flushIntervalMessages, messageTimestampType, v, retentionBytes, cleanup);
    }

    public LogConfig withRetentionBytes(long v) {
        return new LogConfig(segmentBytes, segmentMs, segmentIndexBytes, indexIntervalBytes, maxMessageBytes,
                flushIntervalMessages, messageTimestampType, retentionMs, v, cleanup);
    }

    public LogConfig withCleanup(Cleanup v) {
        return new LogConfig(segmentBytes, segmentMs, segmentIndexBytes, indexIntervalBytes, maxMessageBytes,
                flushIntervalMessages, messageTimestampType, retentionMs, retentionBytes, v);
    }

    /**
     * This config with Kafka topic-config keys applied ({@code segment.bytes}, {@code segment.ms},
     * {@code segment.index.bytes}, {@code index.interval.bytes}, {@code max.message.bytes},
     * {@code flush.messages}, {@code message.timestamp.type}, {@code retention.ms},
     * {@code retention.bytes}, {@code cleanup.policy}, {@code delete.retention.ms}, {@code file.delete.delay.ms},
     * {@code min.cleanable.dirty.ratio}, {@code min.compaction.lag.ms}, {@code max.compaction.lag.ms}); other keys
     * are ignored. Values may be strings or numbers.
     *
     * @throws IllegalArgumentException for a malformed or out-of-range value
     */
    public LogConfig withOverrides(Map<String, ?> configs) {
        LogConfig c = this;
        for (Map.Entry<String, ?> e : configs.entrySet()) {
            Object v = e.getValue();
            if (v == null) {
                continue;
            }
            String s = v.toString().trim();
            try {
                switch (e.getKey()) {
                    case "segment.bytes" -> c = c.withSegmentBytes(Integer.parseInt(s));
                    case "segment.ms" -> c = c.withSegmentMs(Long.parseLong(s));
                    case "segment.index.bytes" -> c = c.withSegmentIndexBytes(Integer.parseInt(s));
                    case "index.interval.bytes" -> c = c.withIndexIntervalBytes(Integer.parseInt(s));
                    case "max.message.bytes" -> c = c.withMaxMessageBytes(Integer.parseInt(s));
                    case "flush.messages" -> c = c.withFlushIntervalMessages(Long.parseLong(s));
                    case "message.timestamp.type" -> c = c.withMessageTimestampType(TimestampType.forName(s));
                    case "retention.ms" -> c = c.withRetentionMs(Long.parseLong(s));
                    case "retention.bytes" -> c = c.withRetentionBytes(Long.parseLong(s));
                    case "cleanup.policy" -> c = c.withCleanup(c.cleanup.withPolicy(s));
                    case "delete.retention.ms" -> c = c.withCleanup(c.cleanup.withDeleteRetentionMs(Long.parseLong(s)));
                    case "file.delete.delay.ms" -> c = c.withCleanup(c.cleanup.withFileDeleteDelayMs(Long.parseLong(s)));
                    case "min.cleanable.dirty.ratio" ->
                            c = c.withCleanup(c.cleanup.withMinCleanableDirtyRatio(Double.parseDouble(s)));
                    case "min.compaction.lag.ms" -> c = c.withCleanup(c.cleanup.withMinCompactionLagMs(Long.parseLong(s)));
                    case "max.compaction.lag.ms" -> c = c.withCleanup(c.cleanup.withMaxCompactionLagMs(Long.parseLong(s)));
                    default -> {
                        // not a log setting
                    }
                }
            } catch (NumberFormatException ex) {
                throw new IllegalArgumentException("Invalid value " + s + " for " + e.getKey(), ex);
            }
        }
        return c;
    }
}
