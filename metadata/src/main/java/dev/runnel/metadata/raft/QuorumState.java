package dev.runnel.metadata.raft;

import java.util.List;

/**
 * The metadata quorum as {@code DescribeQuorum} (API 55) reports it. Offsets are log indexes; times are wall-clock
 * milliseconds, -1 when unknown.
 */
public record QuorumState(int leaderId, long term, long highWatermark, List<Replica> voters, List<Replica> observers) {
    public record Replica(int nodeId, long logEndOffset, long lastFetchTimestamp, long lastCaughtUpTimestamp) {
    }
}
