package dev.runnel.broker.cluster;

import dev.runnel.metadata.image.BrokerRegistration;
import dev.runnel.metadata.image.PartitionRegistration;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.FetchResponseData;
import dev.runnel.wire.message.ProduceResponseData;
import java.util.Set;
import java.util.TreeSet;

/**
 * KIP-951: a NOT_LEADER_OR_FOLLOWER answer to Produce (v10+) or Fetch (v12+) names the partition's current leader
 * (tagged {@code CurrentLeader}) and that leader's endpoint (tagged {@code NodeEndpoints}, Produce v10+ and Fetch
 * v16+), so that clients go there without a metadata round trip first.
 */
public final class LeaderHints {
    private LeaderHints() {
    }

    public static void addTo(ClusterNode cluster, ProduceResponseData resp, short version) {
        if (cluster == null || version < 10) {
            return;
        }
        Set<Integer> nodes = new TreeSet<>();
        for (ProduceResponseData.TopicProduceResponse t : resp.responses) {
            for (ProduceResponseData.PartitionProduceResponse p : t.partitionResponses) {
                if (p.errorCode == Errors.NOT_LEADER_OR_FOLLOWER.code()) {
                    PartitionRegistration reg = cluster.partition(t.name, p.index);
                    if (reg != null && reg.hasLeader()) {
                        p.setCurrentLeader(new ProduceResponseData.LeaderIdAndEpoch().setLeaderId(reg.leader())
                                .setLeaderEpoch(reg.leaderEpoch()));
                        nodes.add(reg.leader());
                    }
                }
            }
        }
        for (int id : nodes) {
            BrokerRegistration b = cluster.image().broker(id);
            BrokerRegistration.Endpoint e = b == null ? null : cluster.endpoint(b);
            if (e != null) {
                resp.nodeEndpoints.add(new ProduceResponseData.NodeEndpoint().setNodeId(id).setHost(e.host()).setPort(e.port())
                        .setRack(b.rack().isEmpty() ? null : b.rack()));
            }
        }
    }

    public static void addTo(ClusterNode cluster, FetchResponseData resp, short version) {
        if (cluster == null || version < 12) {
            return;
        }
        Set<Integer> nodes = new TreeSet<>();
        for (FetchResponseData.FetchableTopicResponse t : resp.responses) {
            for (FetchResponseData.PartitionData p : t.partitions) {
                if (p.errorCode == Errors.NOT_LEADER_OR_FOLLOWER.code()) {
                    PartitionRegistration reg = cluster.partition(t.topic, p.partitionIndex);
                    if (reg != null && reg.hasLeader()) {
                        p.setCurrentLeader(new FetchResponseData.LeaderIdAndEpoch().setLeaderId(reg.leader())
                                .setLeaderEpoch(reg.leaderEpoch()));
                        nodes.add(reg.leader());
                    }
                }
            }
        }
        if (version < 16) {
            return;
        }
        for (int id : nodes) {
            BrokerRegistration b = cluster.image().broker(id);
            BrokerRegistration.Endpoint e = b == null ? null : cluster.endpoint(b);
            if (e != null) {
                resp.nodeEndpoints.add(new FetchResponseData.NodeEndpoint().setNodeId(id).setHost(e.host()).setPort(e.port())
                        .setRack(b.rack().isEmpty() ? null : b.rack()));
            }
        }
    }
}
