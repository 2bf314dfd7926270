package dev.runnel.metadata.controller;

import dev.runnel.metadata.MetadataRecords;
import dev.runnel.metadata.image.MetadataImage;
import dev.runnel.metadata.image.PartitionRegistration;
import dev.runnel.metadata.image.TopicImage;
import dev.runnel.metadata.records.runnel.ClusterIdRecord;
import dev.runnel.wire.Message;
import dev.runnel.wire.message.AllocateProducerIdsRequestData;
import dev.runnel.wire.message.BrokerRegistrationRequestData;
import dev.runnel.wire.message.CreatePartitionsRequestData;
import dev.runnel.wire.message.CreateTopicsRequestData;
import dev.runnel.wire.message.DeleteTopicsRequestData;
import dev.runnel.wire.message.IncrementalAlterConfigsRequestData;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Supplier;

/** Requests, a topic policy and a log-less controller for the controller's tests. */
final class Fixtures {
    static final String CLUSTER_ID = "Runnel-test-cluster";

    private Fixtures() {
    }

    /** A policy like the broker's: default 1 partition, RF 1, names of legal characters, no config called "bad". */
    static TopicPolicy policy(int maxReplicationFactor) {
        return new TopicPolicy() {
            @Override
            public int defaultPartitions() {
                return 1;
            }

            @Override
            public short defaultReplicationFactor() {
                return 1;
            }

            @Override
            public String invalidName(String name) {
                if (name == null || name.isEmpty() || name.equals(".") || name.equals("..") || name.length() > 249
                        || !name.matches("[a-zA-Z0-9._-]+")) {
                    return "Topic name \"" + name + "\" is illegal";
                }
                return null;
            }

            @Override
            public String invalidConfigs(Map<String, String> configs) {
                return configs.containsKey("bad") ? "Unknown topic config name: bad" : null;
            }

            @Override
            public int maxSupportedReplicationFactor() {
                return maxReplicationFactor;
            }
        };
    }

    /** Topic ids 00000000-0000-0000-0000-00000000000n, n = 1, 2, ...: deterministic, so runs repeat exactly. */
    static Supplier<UUID> topicIds() {
        long[] next = {0};
        return () -> new UUID(0L, ++next[0]);
    }

    static ControllerLogic logic(int maxReplicationFactor) {
        return new ControllerLogic(policy(maxReplicationFactor), topicIds());
    }

    static UUID incarnation(int brokerId, int generation) {
        return new UUID(brokerId, generation);
    }

    static BrokerRegistrationRequestData registration(int brokerId, UUID incarnation, String rack) {
        BrokerRegistrationRequestData r = new BrokerRegistrationRequestData().setBrokerId(brokerId).setClusterId(CLUSTER_ID)
                .setIncarnationId(incarnation).setRack(rack);
        r.listeners.add(new BrokerRegistrationRequestData.Listener().setName("PLAINTEXT").setHost("broker-" + brokerId)
                .setPort(9092 + brokerId).setSecurityProtocol((short) 0));
        return r;
    }

    static CreateTopicsRequestData.CreatableTopic topic(String name, int partitions, int rf) {
        return new CreateTopicsRequestData.CreatableTopic().setName(name).setNumPartitions(partitions).setReplicationFactor((short) rf);
    }

    /** A topic with a manual assignment: partition i on {@code replicas[i]}. */
    @SafeVarargs
    static CreateTopicsRequestData.CreatableTopic assignedTopic(String name, List<Integer>... replicas) {
        CreateTopicsRequestData.CreatableTopic t = topic(name, -1, -1);
        for (int i = 0; i < replicas.length; i++) {
            t.assignments.add(new CreateTopicsRequestData.CreatableReplicaAssignment().setPartitionIndex(i)
                    .setBrokerIds(new ArrayList<>(replicas[i])));
        }
        return t;
    }

    static CreateTopicsRequestData createTopics(CreateTopicsRequestData.CreatableTopic... topics) {
        CreateTopicsRequestData r = new CreateTopicsRequestData();
        r.topics.addAll(List.of(topics));
        return r;
    }

    static CreateTopicsRequestData validateOnly(CreateTopicsRequestData r) {
        r.validateOnly = true;
        return r;
    }

    static DeleteTopicsRequestData deleteByName(String... names) {
        DeleteTopicsRequestData r = new DeleteTopicsRequestData();
        for (String n : names) {
            r.topics.add(new DeleteTopicsRequestData.DeleteTopicState().setName(n).setTopicId(new UUID(0L, 0L)));
        }
        return r;
    }

    static DeleteTopicsRequestData deleteById(UUID... ids) {
        DeleteTopicsRequestData r = new DeleteTopicsRequestData();
        for (UUID id : ids) {
            r.topics.add(new DeleteTopicsRequestData.DeleteTopicState().setName(null).setTopicId(id));
        }
        return r;
    }

    static CreatePartitionsRequestData createPartitions(String topic, int count) {
        CreatePartitionsRequestData r = new CreatePartitionsRequestData();
        r.topics.add(new CreatePartitionsRequestData.CreatePartitionsTopic().setName(topic).setCount(count));
        return r;
    }

    static final byte SET = 0;
    static final byte DELETE = 1;

    /** One config operation (SET or DELETE) on one resource. */
    static IncrementalAlterConfigsRequestData alterConfig(byte resourceType, String resource, byte op, String name, String value) {
        IncrementalAlterConfigsRequestData r = new IncrementalAlterConfigsRequestData();
        IncrementalAlterConfigsRequestData.AlterConfigsResource res = new IncrementalAlterConfigsRequestData.AlterConfigsResource()
                .setResourceType(resourceType).setResourceName(resource);
        res.configs.add(new IncrementalAlterConfigsRequestData.AlterableConfig().setName(name).setConfigOperation(op).setValue(value));
        r.resources.add(res);
        return r;
    }

    static AllocateProducerIdsRequestData allocateProducerIds(int brokerId, long epoch) {
        return new AllocateProducerIdsRequestData().setBrokerId(brokerId).setBrokerEpoch(epoch);
    }

    /** How many partitions of the image each broker leads. */
    static Map<Integer, Integer> leaderCounts(MetadataImage image) {
        Map<Integer, Integer> out = new java.util.TreeMap<>();
        for (TopicImage t : image.topics().values()) {
            for (PartitionRegistration p : t.partitions().values()) {
                out.merge(p.leader(), 1, Integer::sum);
            }
        }
        return out;
    }

    /**
     * The controller without its log: decisions from {@link ControllerLogic}, committed by applying them to the image
     * at once. Every batch goes through the metadata log's encoding on its way, and is kept for replay.
     */
    static final class Cluster {
        final ControllerLogic logic;
        MetadataImage image = MetadataImage.EMPTY;
        final List<byte[]> batches = new ArrayList<>();
        /** The image after each batch: {@code images.get(i)} is the image at offset {@code i}. */
        final List<MetadataImage> images = new ArrayList<>();

        Cluster(ControllerLogic logic) {
            this.logic = logic;
            commit(List.of(new ClusterIdRecord().setClusterId(CLUSTER_ID)));
        }

        /** Appends and applies one batch (nothing for no records); returns the offset of the last entry. */
        long commit(List<Message> records) {
            if (!records.isEmpty()) {
                byte[] batch = MetadataRecords.encodeBatch(records);
                batches.add(batch);
                image = image.apply(MetadataRecords.decodeBatch(batch), batches.size() - 1);
                images.add(image);
            }
            return image.offset();
        }

        <T> T run(ControllerResult<T> result) {
            commit(result.records());
            return result.response();
        }

        long register(int brokerId, int generation, String rack) {
            var resp = run(logic.registerBroker(image, registration(brokerId, incarnation(brokerId, generation), rack)));
            if (resp.errorCode != 0) {
                throw new AssertionError("registration of broker " + brokerId + " failed: " + resp.errorCode);
            }
            return resp.brokerEpoch;
        }

        void fence(int brokerId) {
            commit(logic.fence(image, brokerId));
        }

        void unfence(int brokerId) {
            commit(logic.unfence(image, brokerId));
        }

        void controlledShutdown(int brokerId) {
            commit(logic.beginControlledShutdown(image, brokerId));
        }

        /** Registers brokers 1..n (racks as given, or none) and unfences them. */
        Cluster withBrokers(String... racks) {
            for (int i = 0; i < racks.length; i++) {
                register(i + 1, 1, racks[i]);
            }
            for (int i = 0; i < racks.length; i++) {
                unfence(i + 1);
            }
            return this;
        }
    }
}
