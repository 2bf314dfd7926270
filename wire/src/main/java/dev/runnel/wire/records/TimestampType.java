package dev.runnel.wire.records;

/** Bit 3 of the batch attributes, and the {@code message.timestamp.type} topic config. */
public enum TimestampType {
    CREATE_TIME("CreateTime"),
    LOG_APPEND_TIME("LogAppendTime");

    /** The spelling used by Kafka's {@code message.timestamp.type} config. */
    public final String kafkaName;

    TimestampType(String kafkaName) {
        this.kafkaName = kafkaName;
    }

    /** Parses Kafka's config spelling ({@code CreateTime} / {@code LogAppendTime}). */
    public static TimestampType forName(String name) {
        for (TimestampType t : values()) {
            if (t.kafkaName.equals(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("Unknown message.timestamp.type: " + name);
    }
}
