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
 * @param retentionMs           {@code retention.ms} (not enforced yet)
 * @param retentionBytes        {@code retention.bytes} (not enforced yet)
 */
public record LogConfig(int segmentBytes, long segmentMs, int segmentIndexBytes, int indexIntervalBytes,
                        int maxMessageBytes, long flushIntervalMessages, TimestampType messageTimestampType,
                        long retentionMs, long retentionBytes) {

    private static final LogConfig DEFAULTS = new LogConfig(1 << 30, 7L * 24 * 60 * 60 * 1000, 10 * 1024 * 1024, 4096,
            1_048_588, Long.MAX_VALUE, TimestampType.CREATE_TIME, 7L * 24 * 60 * 60 * 1000, -1L);

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
    }

    /** Kafka's defaults. */
    public static LogConfig defaults() {
        return DEFAULTS;
    }

    public LogConfig withSegmentBytes(int v) {
        return new LogConfig(v, segmentMs, segmentIndexBytes, indexIntervalBytes, maxMessageBytes, flushIntervalMessages,
                messageTimestampType, retentionMs, retentionBytes);
    }

    public LogConfig withSegmentMs(long v) {
        return new LogConfig(segmentBytes, v, segmentIndexBytes, indexIntervalBytes, maxMessageBytes, flushIntervalMessages,
                messageTimestampType, retentionMs, retentionBytes);
    }

    public LogConfig withSegmentIndexBytes(int v) {
        return new LogConfig(segmentBytes, segmentMs, v, indexIntervalBytes, maxMessageBytes, flushIntervalMessages,
                messageTimestampType, retentionMs, retentionBytes);
    }

    public LogConfig withIndexIntervalBytes(int v) {
        return new LogConfig(segmentBytes, segmentMs, segmentIndexBytes, v, maxMessageBytes, flushIntervalMessages,
                messageTimestampType, retentionMs, retentionBytes);
    }

    public LogConfig withMaxMessageBytes(int v) {
        return new LogConfig(segmentBytes, segmentMs, segmentIndexBytes, indexIntervalBytes, v, flushIntervalMessages,
                messageTimestampType, retentionMs, retentionBytes);
    }

    public LogConfig withFlushIntervalMessages(long v) {
        return new LogConfig(segmentBytes, segmentMs, segmentIndexBytes, indexIntervalBytes, maxMessageBytes, v,
                messageTimestampType, retentionMs, retentionBytes);
    }

    public LogConfig withMessageTimestampType(TimestampType v) {
        return new LogConfig(segmentBytes, segmentMs, segmentIndexBytes, indexIntervalBytes, maxMessageBytes,
                flushIntervalMessages, v, retentionMs, retentionBytes);
    }

    public LogConfig withRetentionMs(long v) {
        return new LogConfig(segmentBytes, segmentMs, segmentIndexBytes, indexIntervalBytes, maxMessageBytes,
                flushIntervalMessages, messageTimestampType, v, retentionBytes);
    }

    public LogConfig withRetentionBytes(long v) {
        return new LogConfig(segmentBytes, segmentMs, segmentIndexBytes, indexIntervalBytes, maxMessageBytes,
                flushIntervalMessages, messageTimestampType, retentionMs, v);
    }

    /**
     * This config with Kafka topic-config keys applied ({@code segment.bytes}, {@code segment.ms},
     * {@code segment.index.bytes}, {@code index.interval.bytes}, {@code max.message.bytes},
     * {@code flush.messages}, {@code message.timestamp.type}, {@code retention.ms},
     * {@code retention.bytes}); other keys are ignored. Values may be strings or numbers.
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
