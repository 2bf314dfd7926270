package dev.runnel.broker.features;

import java.util.List;

/**
 * Judges an UpdateFeatures request by the rules of Kafka's controller ({@code FeatureControlManager}), in its order
 * and with its messages, against {@link BrokerFeatures}. Since every feature is finalized at the highest level
 * Runnel supports and the newest metadata.version changed the metadata format, Kafka's own rules refuse every real
 * change: what passes is a request that keeps each level as it is (a no-op), which is all {@code --dry-run} and a
 * confirming upgrade need.
 */
public final class FeatureUpdates {
    /** Kafka's {@code FeatureUpdate.UpgradeType} codes. */
    public static final byte UNKNOWN = 0;
    public static final byte UPGRADE = 1;
    public static final byte SAFE_DOWNGRADE = 2;
    public static final byte UNSAFE_DOWNGRADE = 3;

    /** One requested change. */
    public record Update(String feature, short level, byte upgradeType) {
    }

    private FeatureUpdates() {
    }

    /**
     * The first update Kafka would refuse, as its INVALID_UPDATE_VERSION message, or null when every update is
     * acceptable (all of them no-ops here).
     *
     * @param controllerId the node named in "Local controller N ..." messages
     */
    public static String firstError(List<Update> updates, int controllerId, short transactionVersion) {
        for (Update u : updates) {
            String error = check(u, controllerId, transactionVersion);
            if (error != null) {
                return error;
            }
        }
        return null;
    }

    private static String check(Update u, int controllerId, short transactionVersion) {
        String name = u.feature();
        short level = u.level();
        if (u.upgradeType() < UPGRADE || u.upgradeType() > UNSAFE_DOWNGRADE) {
            return invalidUpdate(name, level, "The controller does not support the given upgrade type.");
        }
        short current = BrokerFeatures.finalizedLevel(name, transactionVersion);
        if (level < 0) {
            return invalidUpdate(name, level, "A feature version cannot be less than 0.");
        }
        BrokerFeatures.Feature f = BrokerFeatures.get(name, transactionVersion);
        short min = f == null ? 0 : f.minSupported();
        short max = f == null ? 0 : f.maxSupported();
        if (level < min || level > max) {
            String what = "Local controller " + controllerId;
            return invalidUpdate(name, level, max == 0 ? what + " does not support this feature."
                    : what + " only supports versions " + min + "-" + max);
        }
        if (level < current && u.upgradeType() == UPGRADE) {
            return invalidUpdate(name, level, "Can't downgrade the version of this feature without setting the "
                    + "upgrade type to either safe or unsafe downgrade.");
        }
        if (level > current && u.upgradeType() != UPGRADE) {
            return invalidUpdate(name, level, "Can't downgrade to a newer version.");
        }
        if (name.equals(BrokerFeatures.METADATA_VERSION)) {
            if (!BrokerFeatures.isKnownMetadataVersion(level)) {
                return "Invalid metadata.version " + level + ". Unknown metadata.version.";
            }
            if (level < current && BrokerFeatures.metadataChangedBetween(level, current)) {
                String why = u.upgradeType() == UNSAFE_DOWNGRADE ? "Unsafe metadata downgrade is not supported in this version."
                        : "Refusing to perform the requested downgrade because it might delete metadata information.";
                return "Unsupported metadata.version downgrade from " + current + " to " + level + ". " + why;
            }
            return level == current ? null : notChangeable(name, level);
        }
        if (name.equals(BrokerFeatures.KRAFT_VERSION) && u.upgradeType() != UPGRADE && level != current) {
            return invalidUpdate(name, level, "Can't downgrade the version of this feature.");
        }
        if (f == null) {
            return invalidUpdate(name, level, "Feature " + name + " not found.");
        }
        return level == current ? null : notChangeable(name, level);
    }

    /**
     * A change Kafka's rules would allow but Runnel cannot make (its levels are fixed). Unreachable with today's
     * table, where the supported range ends at the finalized level and metadata.version's newest level changed
     * the metadata; kept so that a wider range in {@link BrokerFeatures} never changes a level silently.
     */
    private static String notChangeable(String name, short level) {
        return invalidUpdate(name, level, "Runnel's feature levels are fixed; it cannot change " + name + ".");
    }

    private static String invalidUpdate(String name, short level, String why) {
        return "Invalid update version " + level + " for feature " + name + ". " + why;
    }
}
