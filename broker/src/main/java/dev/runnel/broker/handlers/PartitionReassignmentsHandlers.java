package dev.runnel.broker.handlers;

import dev.runnel.broker.Broker;
import dev.runnel.broker.cluster.ClusterTopicAdmin;
import dev.runnel.broker.network.RequestContext;
import dev.runnel.metadata.controller.ControllerLogic;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.AlterPartitionReassignmentsRequestData;
import dev.runnel.wire.message.AlterPartitionReassignmentsResponseData;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.ListPartitionReassignmentsRequestData;
import dev.runnel.wire.message.ListPartitionReassignmentsResponseData;
import java.util.concurrent.CompletableFuture;

/**
 * AlterPartitionReassignments (45) and ListPartitionReassignments (46), v0: {@code kafka-reassign-partitions
 * --execute / --verify / --cancel}. The active controller starts, completes and cancels reassignments; the list is
 * read from this node's metadata image. A single node has no other broker to move replicas to.
 */
public final class PartitionReassignmentsHandlers {
    private PartitionReassignmentsHandlers() {
    }

    public static final class Alter implements ApiHandler {
        @Override
        public ApiKeys api() {
            return ApiKeys.ALTER_PARTITION_REASSIGNMENTS;
        }

        /** v1 adds AllowReplicationFactorChange (false: a target with another replica count is refused). */
        @Override
        public short highestVersion() {
            return 1;
        }

        @Override
        public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
            AlterPartitionReassignmentsRequestData req = (AlterPartitionReassignmentsRequestData) request;
            Broker broker = ctx.broker();
            if (broker.cluster() == null) {
                AlterPartitionReassignmentsResponseData resp = new AlterPartitionReassignmentsResponseData().setErrorMessage(null);
                for (var t : req.topics) {
                    var rt = new AlterPartitionReassignmentsResponseData.ReassignableTopicResponse().setName(t.name);
                    for (var p : t.partitions) {
                        boolean toSelf = p.replicas != null && p.replicas.equals(java.util.List.of(broker.nodeId()));
                        rt.partitions.add(new AlterPartitionReassignmentsResponseData.ReassignablePartitionResponse()
                                .setPartitionIndex(p.partitionIndex)
                                .setErrorCode((p.replicas == null ? Errors.NO_REASSIGNMENT_IN_PROGRESS
                                        : toSelf ? Errors.NONE : Errors.INVALID_REPLICA_ASSIGNMENT).code())
                                .setErrorMessage(p.replicas == null ? "No reassignment in progress" : toSelf ? null
                                        : "This single node is the only broker: replicas can only be [" + broker.nodeId() + "]"));
                    }
                    resp.responses.add(rt);
                }
                return CompletableFuture.completedFuture(resp);
            }
            return broker.cluster().call(req, new AlterPartitionReassignmentsResponseData(), ClusterTopicAdmin.TIMEOUT_MS)
                    .handle((resp, failure) -> failure == null ? (ApiMessage) resp
                            : new AlterPartitionReassignmentsResponseData().setErrorCode(Errors.REQUEST_TIMED_OUT.code())
                                    .setErrorMessage("The controller did not answer: " + failure.getMessage()));
        }
    }

    public static final class List implements ApiHandler {
        @Override
        public ApiKeys api() {
            return ApiKeys.LIST_PARTITION_REASSIGNMENTS;
        }

        @Override
        public short highestVersion() {
            return 0;
        }

        @Override
        public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
            ListPartitionReassignmentsRequestData req = (ListPartitionReassignmentsRequestData) request;
            Broker broker = ctx.broker();
            if (broker.cluster() == null) {
                return CompletableFuture.completedFuture(new ListPartitionReassignmentsResponseData().setErrorMessage(null));
            }
            return CompletableFuture.completedFuture(ControllerLogic.listReassignments(broker.cluster().image(), req));
        }
    }
}
