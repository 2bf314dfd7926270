package dev.runnel.broker.produce;

import dev.runnel.broker.BrokerConfig;
import dev.runnel.broker.state.Topic;
import dev.runnel.broker.state.TopicConfigs;
import dev.runnel.wire.Errors;
import dev.runnel.wire.records.LegacyUpConversion;
import dev.runnel.wire.records.RecordCursor;
import dev.runnel.wire.records.RecordsException;
import dev.runnel.wire.records.TimestampType;
import java.nio.ByteBuffer;
import java.util.Map;

/**
 * Produce v0-2 from clients before Kafka 0.11: their legacy (magic 0/1) message sets are validated and
 * converted into one RecordBatch v2 with the topic's settings ({@link LegacyUpConversion}), which the log then
 * appends like any other batch, as Kafka 3.x does with log format v2. Magic 2 batches in Produce v0-2 (Kafka
 * accepts them) pass through untouched.
 */
public final class LegacyProduce {
    private LegacyProduce() {
    }

    /** The batch to append, or the problem to answer with. */
    public record Converted(ByteBuffer batch, Errors error, String message) {
    }

    /** Whether {@code records} need converting: a legacy message set. */
    public static boolean applies(ByteBuffer records) {
        return records != null && LegacyUpConversion.isLegacy(records);
    }

    public static Converted convert(BrokerConfig config, Topic topic, ByteBuffer records, long now) {
        Map<String, String> o = topic.configOverrides() == null ? Map.of() : topic.configOverrides();
        try {
            LegacyUpConversion.Settings s = new LegacyUpConversion.Settings(
                    Integer.parseInt(TopicConfigs.effectiveValue(config, o, "max.message.bytes")),
                    TimestampType.forName(TopicConfigs.effectiveValue(config, o, "message.timestamp.type")),
                    now, timestampBound(config, o, "before"), timestampBound(config, o, "after"),
                    TopicConfigs.effectiveValue(config, o, "cleanup.policy").contains("compact"),
                    RecordCursor.DEFAULT_MAX_DECOMPRESSED_BYTES);
            return new Converted(LegacyUpConversion.toBatch(records, s), Errors.NONE, null);
        } catch (RecordsException e) {
            return new Converted(null, Errors.forCode((short) e.errorCode()), e.getMessage());
        }
    }

    /**
     * {@code message.timestamp.before.max.ms} / {@code after.max.ms}, or where that one is not set (on the topic
     * or in server.properties) the deprecated {@code message.timestamp.difference.max.ms}, as Kafka 3.6+ does.
     */
    static long timestampBound(BrokerConfig config, Map<String, String> overrides, String which) {
        String name = "message.timestamp." + which + ".max.ms";
        long bound = Long.parseLong(TopicConfigs.effectiveValue(config, overrides, name));
        long difference = Long.parseLong(TopicConfigs.effectiveValue(config, overrides, "message.timestamp.difference.max.ms"));
        boolean explicit = overrides.containsKey(name) || config.get("log." + name) != null && !config.isDefault("log." + name);
        return explicit || difference == Long.MAX_VALUE ? bound : difference;
    }
}
