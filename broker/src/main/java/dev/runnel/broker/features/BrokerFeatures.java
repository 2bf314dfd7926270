package dev.runnel.broker.features;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The feature flags (KIP-584) this broker reports in ApiVersions and judges UpdateFeatures by: for each of the
 * features a Kafka 4.4 broker reports, the range of levels Runnel's software has the behaviour of, and the level in
 * force (finalized). They are fixed: nothing in Runnel changes them at run time, so the finalized epoch is constant.
 *
 * <ul>
 *   <li>{@code metadata.version} 7-33 (3.3-IV3 to 4.4-IV2, Kafka 4.4's range), finalized 33. The levels past 3.3-IV3
 *       gate the records and inter-broker versions of Kafka's own controller and capabilities that other features
 *       switch on (ELR, below); what a client is served does not depend on them.</li>
 *   <li>{@code transaction.version} 0-2, finalized at {@code runnel.transaction.version} (2 by default, as a new
 *       Kafka 4.x cluster): at 2, Kafka 4.x producers use transactions V2 (KIP-890: partitions added by the
 *       brokers, an epoch bump with every EndTxn v5, TransactionLogValue v1); at 1 they use V1.</li>
 *   <li>{@code group.version} 0 (level 1 is KIP-848's consumer protocol), {@code share.version} 0 (share groups),
 *       {@code streams.version} 0 (KIP-1071 streams groups), {@code eligible.leader.replicas.version} 0 (KIP-966),
 *       {@code kraft.version} 0 (level 1 is a dynamic quorum): Runnel has none of those.</li>
 * </ul>
 * Kafka leaves a feature whose highest supported level is 0 out of SupportedFeatures; Runnel lists them with 0-0
 * so that {@code kafka-features describe} shows what is off. Finalized level 0 is not sent, as in Kafka.
 */
public final class BrokerFeatures {
    public static final String METADATA_VERSION = "metadata.version";
    public static final String KRAFT_VERSION = "kraft.version";
    public static final String TRANSACTION_VERSION = "transaction.version";

    /** One feature: the levels this broker supports and the one in force. */
    public record Feature(String name, short minSupported, short maxSupported, short finalized) {
        Feature(String name, int minSupported, int maxSupported, int finalized) {
            this(name, (short) minSupported, (short) maxSupported, (short) finalized);
        }
    }

    /** The finalized features' epoch: constant, since the levels never change. */
    public static final long FINALIZED_EPOCH = 0L;

    private static final List<Feature> FEATURES = List.of(
            new Feature(METADATA_VERSION, 7, 33, 33),
            new Feature("eligible.leader.replicas.version", 0, 0, 0),
            new Feature("group.version", 0, 0, 0),
            new Feature(KRAFT_VERSION, 0, 0, 0),
            new Feature("share.version", 0, 0, 0),
            new Feature("streams.version", 0, 0, 0),
            new Feature(TRANSACTION_VERSION, 0, 2, 2));

    private static final Map<String, Feature> BY_NAME = new LinkedHashMap<>();

    static {
        for (Feature f : FEATURES) {
            BY_NAME.put(f.name(), f);
        }
    }

    private BrokerFeatures() {
    }

    /** The features of a broker whose transaction.version is finalized at {@code transactionVersion}. */
    public static List<Feature> all(short transactionVersion) {
        return FEATURES.stream().map(f -> f.name().equals(TRANSACTION_VERSION)
                ? new Feature(f.name(), f.minSupported(), f.maxSupported(), transactionVersion) : f).toList();
    }

    /** The feature, or null when this broker does not know it. */
    public static Feature get(String name, short transactionVersion) {
        Feature f = BY_NAME.get(name);
        return f != null && name.equals(TRANSACTION_VERSION)
                ? new Feature(f.name(), f.minSupported(), f.maxSupported(), transactionVersion) : f;
    }

    /** The level in force: 0 for a feature that is off or unknown. */
    public static short finalizedLevel(String name, short transactionVersion) {
        Feature f = get(name, transactionVersion);
        return f == null ? 0 : f.finalized();
    }

    /** Kafka's {@code MetadataVersion} names for the levels it knows (1-6 were 3.0-IV1 to 3.3-IV2). */
    private static final String[] METADATA_VERSION_NAMES = {
        null, "3.0-IV1", "3.1-IV0", "3.2-IV0", "3.3-IV0", "3.3-IV1", "3.3-IV2", "3.3-IV3", "3.4-IV0", "3.5-IV0", "3.5-IV1",
        "3.5-IV2", "3.6-IV0", "3.6-IV1", "3.6-IV2", "3.7-IV0", "3.7-IV1", "3.7-IV2", "3.7-IV3", "3.7-IV4", "3.8-IV0",
        "3.9-IV0", "4.0-IV0", "4.0-IV1", "4.0-IV2", "4.0-IV3", "4.1-IV0", "4.1-IV1", "4.2-IV0", "4.2-IV1", "4.3-IV0",
        "4.4-IV0", "4.4-IV1", "4.4-IV2"};

    /**
     * The metadata.version levels whose metadata records differ from the level below (Kafka's
     * {@code MetadataVersion.didMetadataChange()}): a downgrade across one of them could lose metadata, and Kafka
     * refuses it.
     */
    private static final int[] METADATA_CHANGED = {7, 8, 11, 13, 14, 15, 17, 23, 30, 32, 33};

    /** Whether {@code level} names a metadata.version Kafka knows (its MetadataVersion from 3.3-IV3 up). */
    static boolean isKnownMetadataVersion(short level) {
        return level >= 1 && level < METADATA_VERSION_NAMES.length;
    }

    /** Kafka's {@code MetadataVersion.checkIfMetadataChanged(from, to)} for a downgrade {@code to < from}. */
    static boolean metadataChangedBetween(short to, short from) {
        for (int changed : METADATA_CHANGED) {
            if (changed > to && changed <= from) {
                return true;
            }
        }
        return false;
    }

    public static String metadataVersionName(short level) {
        return isKnownMetadataVersion(level) ? METADATA_VERSION_NAMES[level] : Short.toString(level);
    }
}
