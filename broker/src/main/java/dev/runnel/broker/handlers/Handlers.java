package dev.runnel.broker.handlers;

import dev.runnel.broker.Broker;
import java.util.function.Consumer;

/** Every API handler the broker serves; ApiVersions advertises exactly these. */
public final class Handlers {
    private Handlers() {
    }

    public static void registerAll(Broker broker, Consumer<ApiHandler> register) {
        // loaded now: quotas hold from the first request
        dev.runnel.broker.quota.ClientQuotas quotas = dev.runnel.broker.quota.ClientQuotas.forBroker(broker);
        register.accept(new ApiVersionsHandler());
        register.accept(new MetadataHandler());
        register.accept(new ProduceHandler(quotas));
        register.accept(FetchHandler.create(broker));
        register.accept(new ListOffsetsHandler());
        register.accept(InitProducerIdHandler.create(broker));
        register.accept(new OffsetForLeaderEpochHandler());
        register.accept(new DeleteRecordsHandler());
        register.accept(new CreateTopicsHandler());
        register.accept(new DeleteTopicsHandler());
        register.accept(new CreatePartitionsHandler());
        register.accept(new DescribeConfigsHandler());
        register.accept(new AlterConfigsHandler());
        register.accept(new IncrementalAlterConfigsHandler());
        register.accept(new DescribeClusterHandler());
        register.accept(new DescribeQuorumHandler());
        register.accept(new DescribeTopicPartitionsHandler());
        register.accept(new ElectLeadersHandler());
        register.accept(new DescribeLogDirsHandler());
        register.accept(new DescribeProducersHandler());
        register.accept(new DescribeClientQuotasHandler());
        register.accept(new AlterClientQuotasHandler());
        register.accept(new DescribeUserScramCredentialsHandler());
        register.accept(new UpdateFeaturesHandler());
        register.accept(new ListConfigResourcesHandler());
        register.accept(new PartitionReassignmentsHandlers.Alter());
        register.accept(new PartitionReassignmentsHandlers.List());
        register.accept(FindCoordinatorHandler.create(broker));
        register.accept(JoinGroupHandler.create(broker));
        register.accept(SyncGroupHandler.create(broker));
        register.accept(HeartbeatHandler.create(broker));
        register.accept(LeaveGroupHandler.create(broker));
        register.accept(OffsetCommitHandler.create(broker));
        register.accept(OffsetFetchHandler.create(broker));
        register.accept(DescribeGroupsHandler.create(broker));
        register.accept(ListGroupsHandler.create(broker));
        register.accept(DeleteGroupsHandler.create(broker));
        register.accept(OffsetDeleteHandler.create(broker));
        register.accept(AddPartitionsToTxnHandler.create(broker));
        register.accept(AddOffsetsToTxnHandler.create(broker));
        register.accept(EndTxnHandler.create(broker));
        register.accept(WriteTxnMarkersHandler.create(broker));
        register.accept(TxnOffsetCommitHandler.create(broker));
        register.accept(DescribeTransactionsHandler.create(broker));
        register.accept(ListTransactionsHandler.create(broker));
    }
}
