package dev.runnel.groupcoord;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/** The states of a classic group, with the names Kafka reports in ListGroups and DescribeGroups. */
public enum GroupState {
    /** No members; offsets may still exist. */
    EMPTY("Empty"),
    /** Members are (re)joining; JoinGroup responses wait until all known members rejoined or the rebalance timeout. */
    PREPARING_REBALANCE("PreparingRebalance"),
    /** The new generation is formed; waiting for the leader's assignment in SyncGroup. */
    COMPLETING_REBALANCE("CompletingRebalance"),
    /** Assignment propagated; members heartbeat. */
    STABLE("Stable"),
    /** Removed (deleted, or its partition unloaded). */
    DEAD("Dead");

    private final String displayName;

    GroupState(String displayName) {
        this.displayName = displayName;
    }

    @Override
    public String toString() {
        return displayName;
    }

    public String lowerCaseName() {
        return displayName.toLowerCase(Locale.ROOT);
    }

    /** The states a group may move to this one from (Kafka's transition rules). */
    Set<GroupState> validPreviousStates() {
        return switch (this) {
            case EMPTY -> EnumSet.of(PREPARING_REBALANCE);
            case PREPARING_REBALANCE -> EnumSet.of(STABLE, COMPLETING_REBALANCE, EMPTY);
            case COMPLETING_REBALANCE -> EnumSet.of(PREPARING_REBALANCE);
            case STABLE -> EnumSet.of(COMPLETING_REBALANCE);
            case DEAD -> EnumSet.of(STABLE, PREPARING_REBALANCE, COMPLETING_REBALANCE, EMPTY, DEAD);
        };
    }
}
