package dev.runnel.broker.handlers;

import dev.runnel.broker.Broker;
import dev.runnel.broker.cluster.ClusterTopicAdmin;
import dev.runnel.broker.network.RequestContext;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.ElectLeadersRequestData;
import dev.runnel.wire.message.ElectLeadersResponseData;
import java.util.concurrent.CompletableFuture;

/**
 * ElectLeaders (43), v0-2: {@code kafka-leader-election --election-type PREFERRED|UNCLEAN}. In a cluster the active
 * controller elects (see ControllerLogic.electLeaders); on the single-node default every partition already has its
 * only, preferred replica as leader: ELECTION_NOT_NEEDED.
 */
public final class ElectLeadersHandler implements ApiHandler {
    @Override
    public ApiKeys api() {
        return ApiKeys.ELECT_LEADERS;
    }

    @Override
    public short highestVersion() {
        return 2;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        ElectLeadersRequestData req = (ElectLeadersRequestData) request;
        Broker broker = ctx.broker();
        if (ctx.apiVersion() == 0) {
            req.electionType = 0; // v0 elects preferred leaders only
        }
        if (broker.cluster() == null) {
            ElectLeadersResponseData resp = new ElectLeadersResponseData();
            if (req.topicPartitions != null) {
                for (ElectLeadersRequestData.TopicPartitions tp : req.topicPartitions) {
                    ElectLeadersResponseData.ReplicaElectionResult r = new ElectLeadersResponseData.ReplicaElectionResult().setTopic(tp.topic);
                    boolean exists = broker.topics().get(tp.topic) != null;
                    for (int p : tp.partitions) {
                        boolean known = exists && p >= 0 && p < broker.topics().get(tp.topic).partitionCount();
                        r.partitionResult.add(new ElectLeadersResponseData.PartitionResult().setPartitionId(p)
                                .setErrorCode((known ? Errors.ELECTION_NOT_NEEDED : Errors.UNKNOWN_TOPIC_OR_PARTITION).code())
                                .setErrorMessage(known ? "Leader election not needed for topic partition." : "The partition does not exist."));
                    }
                    resp.replicaElectionResults.add(r);
                }
            }
            return CompletableFuture.completedFuture(resp);
        }
        return broker.cluster().call(req, new ElectLeadersResponseData(), ClusterTopicAdmin.TIMEOUT_MS).handle((resp, failure) -> {
            if (failure != null) {
                return new ElectLeadersResponseData().setErrorCode(Errors.REQUEST_TIMED_OUT.code());
            }
            return (ApiMessage) resp;
        });
    }
}
