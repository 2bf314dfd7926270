package dev.runnel.broker.features;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Kafka's controller rules for UpdateFeatures, against Runnel's fixed levels (messages as Kafka 4.4 words them). */
class FeatureUpdatesTest {

    private static String first(String feature, int level, byte type) {
        return FeatureUpdates.firstError(List.of(new FeatureUpdates.Update(feature, (short) level, type)), 1, (short) 2);
    }

    @Test
    void keepingALevelPasses() {
        assertNull(first("metadata.version", 33, FeatureUpdates.UPGRADE));
        assertNull(first("transaction.version", 2, FeatureUpdates.UPGRADE));
        assertNull(first("group.version", 0, FeatureUpdates.UPGRADE));
    }

    @Test
    void outsideTheSupportedRange() {
        assertEquals("Invalid update version 34 for feature metadata.version. Local controller 1 only supports versions 7-33",
                first("metadata.version", 34, FeatureUpdates.UPGRADE));
        assertEquals("Invalid update version 3 for feature transaction.version. Local controller 1 only supports versions 0-2",
                first("transaction.version", 3, FeatureUpdates.UPGRADE));
        // a downgrade Kafka would allow, but Runnel's levels are set by its configuration
        assertEquals("Invalid update version 1 for feature transaction.version. Runnel's feature levels are fixed; it cannot "
                + "change transaction.version.", first("transaction.version", 1, FeatureUpdates.SAFE_DOWNGRADE));
        assertEquals("Invalid update version 1 for feature no.such.feature. Local controller 1 does not support this feature.",
                first("no.such.feature", 1, FeatureUpdates.UPGRADE));
        assertEquals("Invalid update version 0 for feature no.such.feature. Feature no.such.feature not found.",
                first("no.such.feature", 0, FeatureUpdates.UPGRADE));
    }

    @Test
    void upgradeTypesAndNegativeLevels() {
        assertEquals("Invalid update version 33 for feature metadata.version. The controller does not support the given upgrade type.",
                first("metadata.version", 33, FeatureUpdates.UNKNOWN));
        assertEquals("Invalid update version -1 for feature group.version. A feature version cannot be less than 0.",
                first("group.version", -1, FeatureUpdates.UPGRADE));
        assertEquals("Invalid update version 30 for feature metadata.version. Can't downgrade the version of this feature "
                + "without setting the upgrade type to either safe or unsafe downgrade.", first("metadata.version", 30, FeatureUpdates.UPGRADE));
    }

    @Test
    void metadataVersionDowngradesAcrossAMetadataChangeAreRefused() {
        assertEquals("Unsupported metadata.version downgrade from 33 to 32. Refusing to perform the requested downgrade because "
                + "it might delete metadata information.", first("metadata.version", 32, FeatureUpdates.SAFE_DOWNGRADE));
        assertEquals("Unsupported metadata.version downgrade from 33 to 7. Unsafe metadata downgrade is not supported in this "
                + "version.", first("metadata.version", 7, FeatureUpdates.UNSAFE_DOWNGRADE));
    }

    @Test
    void theFirstRefusedUpdateFailsTheRequest() {
        String e = FeatureUpdates.firstError(List.of(
                new FeatureUpdates.Update("metadata.version", (short) 33, FeatureUpdates.UPGRADE),
                new FeatureUpdates.Update("group.version", (short) 1, FeatureUpdates.UPGRADE),
                new FeatureUpdates.Update("transaction.version", (short) 2, FeatureUpdates.UPGRADE)), 3, (short) 2);
        assertEquals("Invalid update version 1 for feature group.version. Local controller 3 does not support this feature.", e);
    }
}
