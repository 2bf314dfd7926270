package dev.runnel.replication;

/** Where a partition's leader listens for other brokers (its inter-broker listener). */
public record LeaderEndpoint(int nodeId, String host, int port) {
}
