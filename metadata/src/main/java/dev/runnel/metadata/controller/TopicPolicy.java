package dev.runnel.metadata.controller;

import java.util.Map;

/**
 * What the controller needs from the broker's rules about topics, without knowing them: defaults and validation
 * of names and configs (the broker module implements it with its own topic-config table).
 */
public interface TopicPolicy {
    int defaultPartitions();

    short defaultReplicationFactor();

    /** Why a topic name is not acceptable, or null. */
    String invalidName(String name);

    /** Why a set of topic config overrides is not acceptable, or null. */
    String invalidConfigs(Map<String, String> configs);

    /**
     * The largest replication factor this cluster can serve today: partition data is not replicated yet, so 1.
     * Kept as a policy so that the controller's placement is already written for any factor.
     */
    default int maxSupportedReplicationFactor() {
        return 1;
    }

    /**
     * Whether a partition of a topic with these config overrides may get a leader from outside its ISR when no
     * in-sync replica is alive ({@code unclean.leader.election.enable}, topic override or broker default).
     */
    default boolean uncleanLeaderElection(Map<String, String> topicConfigs) {
        return "true".equalsIgnoreCase(topicConfigs.getOrDefault("unclean.leader.election.enable", "false").trim());
    }
}
