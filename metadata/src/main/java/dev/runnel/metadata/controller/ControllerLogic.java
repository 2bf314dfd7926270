package dev.runnel.metadata.controller;

import dev.runnel.metadata.image.BrokerRegistration;
import dev.runnel.metadata.image.MetadataImage;
import dev.runnel.metadata.image.PartitionRegistration;
import dev.runnel.metadata.image.TopicImage;
import dev.runnel.metadata.records.BrokerRegistrationChangeRecord;
import dev.runnel.metadata.records.ConfigRecord;
import dev.runnel.metadata.records.FenceBrokerRecord;
import dev.runnel.metadata.records.PartitionChangeRecord;
import dev.runnel.metadata.records.PartitionRecord;
import dev.runnel.metadata.records.ProducerIdsRecord;
import dev.runnel.metadata.records.RegisterBrokerRecord;
import dev.runnel.metadata.records.RemoveTopicRecord;
import dev.runnel.metadata.records.TopicRecord;
import dev.runnel.metadata.records.UnfenceBrokerRecord;
import dev.runnel.wire.Errors;
import dev.runnel.wire.Message;
import dev.runnel.wire.message.AllocateProducerIdsRequestData;
import dev.runnel.wire.message.AllocateProducerIdsResponseData;
import dev.runnel.wire.message.BrokerRegistrationRequestData;
import dev.runnel.wire.message.BrokerRegistrationResponseData;
import dev.runnel.wire.message.CreatePartitionsRequestData;
import dev.runnel.wire.message.CreatePartitionsResponseData;
import dev.runnel.wire.message.CreateTopicsRequestData;
import dev.runnel.wire.message.CreateTopicsResponseData;
import dev.runnel.wire.message.DeleteTopicsRequestData;
import dev.runnel.wire.message.DeleteTopicsResponseData;
import dev.runnel.wire.message.IncrementalAlterConfigsRequestData;
import dev.runnel.wire.message.IncrementalAlterConfigsResponseData;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * The active controller's decisions as pure functions of the committed metadata image and a request: which records
 * to write and what to answer. No I/O, no clock, no threads (the {@link QuorumController} driver supplies those),
 * so every decision is a unit test.
 */
public final class ControllerLogic {
    /** Producer ids are handed to brokers in blocks of this size (Kafka's ProducerIdsBlock size). */
    public static final int PRODUCER_ID_BLOCK = 1000;

    private final TopicPolicy policy;
    private final Supplier<UUID> topicIds;

    public ControllerLogic(TopicPolicy policy, Supplier<UUID> topicIds) {
        this.policy = policy;
        this.topicIds = topicIds;
    }

    // ------------------------------------------------------------------------------------------------ brokers

    public ControllerResult<BrokerRegistrationResponseData> registerBroker(MetadataImage image, BrokerRegistrationRequestData req) {
        BrokerRegistrationResponseData resp = new BrokerRegistrationResponseData();
        if (image.clusterId() != null && !image.clusterId().equals(req.clusterId)) {
            return ControllerResult.none(resp.setErrorCode(Errors.INCONSISTENT_CLUSTER_ID.code()));
        }
        BrokerRegistration existing = image.broker(req.brokerId);
        if (existing != null && existing.incarnationId().equals(req.incarnationId)) {
            // The same process asking again (a retry after a lost answer): the same epoch.
            return ControllerResult.none(resp.setBrokerEpoch(existing.epoch()));
        }
        long epoch = image.maxBrokerEpoch() + 1;
        RegisterBrokerRecord r = new RegisterBrokerRecord().setBrokerId(req.brokerId).setBrokerEpoch(epoch)
                .setIncarnationId(req.incarnationId).setRack(req.rack == null ? "" : req.rack).setFenced(true)
                .setInControlledShutdown(false);
        for (BrokerRegistrationRequestData.Listener l : req.listeners) {
            r.endPoints.add(new RegisterBrokerRecord.BrokerEndpoint().setName(l.name).setHost(l.host).setPort(l.port)
                    .setSecurityProtocol(l.securityProtocol));
        }
        List<Message> records = new ArrayList<>();
        records.add(r);
        // A re-registration (new process) starts fenced: partitions it led lose it until it is caught up again.
        if (existing != null) {
            records.addAll(moveLeadersAway(image, req.brokerId, false));
        }
        return ControllerResult.of(records, resp.setBrokerEpoch(epoch));
    }

    /** Fences a broker whose session expired: its epoch is over; its partitions get other leaders or none. */
    public List<Message> fence(MetadataImage image, int brokerId) {
        BrokerRegistration b = image.broker(brokerId);
        if (b == null || b.fenced()) {
            return List.of();
        }
        List<Message> out = new ArrayList<>();
        out.add(new FenceBrokerRecord().setId(brokerId).setEpoch(b.epoch()));
        out.addAll(moveLeadersAway(image, brokerId, true));
        return out;
    }

    /** Unfences a caught-up broker; leaderless partitions it is in sync for get it back as leader. */
    public List<Message> unfence(MetadataImage image, int brokerId) {
        BrokerRegistration b = image.broker(brokerId);
        if (b == null || !b.fenced()) {
            return List.of();
        }
        List<Message> out = new ArrayList<>();
        out.add(new UnfenceBrokerRecord().setId(brokerId).setEpoch(b.epoch()));
        for (TopicImage t : image.topics().values()) {
            for (PartitionRegistration p : t.partitions().values()) {
                if (!p.hasLeader() && p.isr().contains(brokerId)) {
                    out.add(new PartitionChangeRecord().setTopicId(t.id()).setPartitionId(p.partition()).setLeader(brokerId));
                } else if (!p.hasLeader() && p.replicas().contains(brokerId) && noIsrMemberAlive(image, p)
                        && policy.uncleanLeaderElection(image.configs(MetadataImage.TOPIC_CONFIG, t.name()))) {
                    out.add(new PartitionChangeRecord().setTopicId(t.id()).setPartitionId(p.partition()).setLeader(brokerId)
                            .setIsr(new ArrayList<>(List.of(brokerId))));
                }
            }
        }
        return out;
    }

    private static boolean noIsrMemberAlive(MetadataImage image, PartitionRegistration p) {
        for (int r : p.isr()) {
            BrokerRegistration b = image.broker(r);
            if (b != null && b.usable()) {
                return false;
            }
        }
        return true;
    }

    /** Starts a controlled shutdown: the broker leads nothing any more and gets no new partitions. */
    public List<Message> beginControlledShutdown(MetadataImage image, int brokerId) {
        BrokerRegistration b = image.broker(brokerId);
        if (b == null || b.inControlledShutdown()) {
            return List.of();
        }
        List<Message> out = new ArrayList<>();
        out.add(new BrokerRegistrationChangeRecord().setBrokerId(brokerId).setBrokerEpoch(b.epoch()).setInControlledShutdown((byte) 1));
        out.addAll(moveLeadersAway(image, brokerId, true));
        return out;
    }

    /** Whether the broker still leads any partition. */
    public static boolean leadsAnything(MetadataImage image, int brokerId) {
        for (TopicImage t : image.topics().values()) {
            for (PartitionRegistration p : t.partitions().values()) {
                if (p.leader() == brokerId) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * New leaders for the partitions {@code brokerId} leads: the next in-sync replica that is usable, else none
     * (the partition is offline until an in-sync replica returns; no unclean election). With {@code shrinkIsr} the
     * broker also leaves the ISR of every partition where other members remain (Kafka keeps the last member).
     */
    private List<Message> moveLeadersAway(MetadataImage image, int brokerId, boolean shrinkIsr) {
        List<Message> out = new ArrayList<>();
        for (TopicImage t : image.topics().values()) {
            for (PartitionRegistration p : t.partitions().values()) {
                boolean leads = p.leader() == brokerId;
                boolean inIsr = p.isr().contains(brokerId);
                if (!leads && !(shrinkIsr && inIsr && p.isr().size() > 1)) {
                    continue;
                }
                List<Integer> isr = new ArrayList<>(p.isr());
                if (shrinkIsr && isr.size() > 1) {
                    isr.remove(Integer.valueOf(brokerId));
                }
                PartitionChangeRecord c = new PartitionChangeRecord().setTopicId(t.id()).setPartitionId(p.partition());
                if (!isr.equals(p.isr())) {
                    c.setIsr(isr);
                }
                if (leads) {
                    int next = PartitionRegistration.NO_LEADER;
                    for (int r : p.replicas()) {
                        BrokerRegistration rb = image.broker(r);
                        if (r != brokerId && isr.contains(r) && rb != null && rb.usable()) {
                            next = r;
                            break;
                        }
                    }
                    if (next == PartitionRegistration.NO_LEADER
                            && policy.uncleanLeaderElection(image.configs(MetadataImage.TOPIC_CONFIG, t.name()))) {
                        // unclean.leader.election.enable: a live replica outside the ISR leads, alone in the ISR.
                        for (int r : p.replicas()) {
                            BrokerRegistration rb = image.broker(r);
                            if (r != brokerId && rb != null && rb.usable()) {
                                next = r;
                                c.setIsr(new ArrayList<>(List.of(r)));
                                break;
                            }
                        }
                    }
                    c.setLeader(next);
                }
                out.add(c);
            }
        }
        return out;
    }

    /**
     * A leader's ISR change (Kafka's AlterPartition, v2+ with topic ids, v3 with broker epochs): refused with
     * STALE_BROKER_EPOCH for an old registration, FENCED_LEADER_EPOCH / NOT_LEADER_OR_FOLLOWER when the requester no
     * longer leads in that epoch, INVALID_UPDATE_VERSION for a stale partition epoch, INELIGIBLE_REPLICA when a new
     * member is fenced, shutting down or not a replica; otherwise a PartitionChangeRecord with the new ISR.
     */
    public ControllerResult<dev.runnel.wire.message.AlterPartitionResponseData> alterPartition(MetadataImage image,
            dev.runnel.wire.message.AlterPartitionRequestData req) {
        var resp = new dev.runnel.wire.message.AlterPartitionResponseData();
        BrokerRegistration requester = image.broker(req.brokerId);
        if (requester == null || requester.epoch() != req.brokerEpoch) {
            return ControllerResult.none(resp.setErrorCode(Errors.STALE_BROKER_EPOCH.code()));
        }
        List<Message> records = new ArrayList<>();
        for (var t : req.topics) {
            TopicImage topic = image.topic(t.topicId);
            var rt = new dev.runnel.wire.message.AlterPartitionResponseData.TopicData().setTopicId(t.topicId).setTopicName(t.topicName);
            resp.topics.add(rt);
            for (var p : t.partitions) {
                var rp = new dev.runnel.wire.message.AlterPartitionResponseData.PartitionData().setPartitionIndex(p.partitionIndex);
                rt.partitions.add(rp);
                PartitionRegistration reg = topic == null ? null : topic.partition(p.partitionIndex);
                if (reg == null) {
                    rp.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
                    continue;
                }
                List<Integer> newIsr = new ArrayList<>();
                if (!p.newIsrWithEpochs.isEmpty()) {
                    p.newIsrWithEpochs.forEach(b -> newIsr.add(b.brokerId));
                } else {
                    newIsr.addAll(p.newIsr);
                }
                Errors error = Errors.NONE;
                if (reg.leader() != req.brokerId) {
                    error = Errors.NOT_LEADER_OR_FOLLOWER;
                } else if (p.leaderEpoch < reg.leaderEpoch()) {
                    error = Errors.FENCED_LEADER_EPOCH;
                } else if (p.partitionEpoch != reg.partitionEpoch()) {
                    error = Errors.INVALID_UPDATE_VERSION;
                } else if (!newIsr.contains(req.brokerId)) {
                    error = Errors.INVALID_REQUEST;
                } else {
                    for (int b : newIsr) {
                        BrokerRegistration br = image.broker(b);
                        boolean wasInIsr = reg.isr().contains(b);
                        if (!reg.replicas().contains(b) || br == null || (!wasInIsr && !br.usable())) {
                            error = Errors.INELIGIBLE_REPLICA;
                            break;
                        }
                    }
                }
                if (error != Errors.NONE) {
                    rp.setErrorCode(error.code()).setLeaderId(reg.leader()).setLeaderEpoch(reg.leaderEpoch())
                            .setIsr(new ArrayList<>(reg.isr())).setPartitionEpoch(reg.partitionEpoch());
                    continue;
                }
                records.add(new PartitionChangeRecord().setTopicId(topic.id()).setPartitionId(p.partitionIndex).setIsr(newIsr));
                rp.setLeaderId(reg.leader()).setLeaderEpoch(reg.leaderEpoch()).setIsr(newIsr).setPartitionEpoch(reg.partitionEpoch() + 1);
            }
        }
        return ControllerResult.of(records, resp);
    }

    /**
     * AlterPartitionReassignments (Kafka's {@code kafka-reassign-partitions --execute}): a partition's replicas become
     * the old ones plus the new ones (the new ones "adding", the leaving ones "removing"); the new replicas follow the
     * leader and, once they are all in the ISR, {@link #completeReassignments} leaves only the target replicas (moving
     * the leadership to one of them if the leader leaves). Replicas null cancels a reassignment in progress. A target
     * that only drops or reorders replicas completes at once.
     */
    public ControllerResult<dev.runnel.wire.message.AlterPartitionReassignmentsResponseData> alterPartitionReassignments(
            MetadataImage image, dev.runnel.wire.message.AlterPartitionReassignmentsRequestData req) {
        var resp = new dev.runnel.wire.message.AlterPartitionReassignmentsResponseData().setErrorMessage(null);
        List<Message> records = new ArrayList<>();
        for (var t : req.topics) {
            var rt = new dev.runnel.wire.message.AlterPartitionReassignmentsResponseData.ReassignableTopicResponse().setName(t.name);
            resp.responses.add(rt);
            TopicImage topic = image.topic(t.name);
            for (var p : t.partitions) {
                var rp = new dev.runnel.wire.message.AlterPartitionReassignmentsResponseData.ReassignablePartitionResponse()
                        .setPartitionIndex(p.partitionIndex).setErrorMessage(null);
                rt.partitions.add(rp);
                PartitionRegistration reg = topic == null ? null : topic.partition(p.partitionIndex);
                if (reg == null) {
                    rp.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code()).setErrorMessage("The partition does not exist.");
                    continue;
                }
                List<Integer> original = reg.replicas().stream().filter(r -> !reg.addingReplicas().contains(r)).toList();
                if (p.replicas == null) {
                    if (!reg.reassigning()) {
                        rp.setErrorCode(Errors.NO_REASSIGNMENT_IN_PROGRESS.code()).setErrorMessage("No reassignment in progress for "
                                + t.name + "-" + p.partitionIndex);
                        continue;
                    }
                    records.add(finish(image, topic, reg, original));
                    continue;
                }
                List<Integer> target = p.replicas;
                String bad = target.isEmpty() ? "The manual partition assignment includes an empty replica list."
                        : invalidAssignment(image, target, p.partitionIndex);
                if (bad != null) {
                    rp.setErrorCode(Errors.INVALID_REPLICA_ASSIGNMENT.code()).setErrorMessage(bad);
                    continue;
                }
                if (!req.allowReplicationFactorChange && target.size() != original.size()) {
                    // AlterPartitionReassignments v1: the caller forbade replication factor changes.
                    rp.setErrorCode(Errors.INVALID_REPLICATION_FACTOR.code()).setErrorMessage("The replication factor is changed from "
                            + original.size() + " to " + target.size());
                    continue;
                }
                List<Integer> adding = target.stream().filter(r -> !original.contains(r)).toList();
                List<Integer> removing = original.stream().filter(r -> !target.contains(r)).toList();
                if (adding.isEmpty()) {
                    if (!target.equals(reg.replicas()) || reg.reassigning()) {
                        records.add(finish(image, topic, reg, target));
                    }
                    continue;
                }
                List<Integer> all = new ArrayList<>(target);
                all.addAll(removing);
                records.add(new PartitionChangeRecord().setTopicId(topic.id()).setPartitionId(p.partitionIndex)
                        .setReplicas(all).setAddingReplicas(new ArrayList<>(adding)).setRemovingReplicas(new ArrayList<>(removing)));
            }
        }
        return ControllerResult.of(records, resp);
    }

    /** Reassignments whose new replicas are all in the ISR: completed (the partition keeps only its target replicas). */
    public List<Message> completeReassignments(MetadataImage image) {
        List<Message> out = new ArrayList<>();
        for (TopicImage t : image.topics().values()) {
            for (PartitionRegistration p : t.partitions().values()) {
                if (p.reassigning() && p.isr().containsAll(p.addingReplicas())) {
                    out.add(finish(image, t, p, p.targetReplicas()));
                }
            }
        }
        return out;
    }

    /** The partition with exactly {@code replicas}: ISR and leader kept where they remain replicas. */
    private static PartitionChangeRecord finish(MetadataImage image, TopicImage t, PartitionRegistration p, List<Integer> replicas) {
        List<Integer> isr = new ArrayList<>(p.isr().stream().filter(replicas::contains).toList());
        PartitionChangeRecord c = new PartitionChangeRecord().setTopicId(t.id()).setPartitionId(p.partition())
                .setReplicas(new ArrayList<>(replicas)).setAddingReplicas(new ArrayList<>()).setRemovingReplicas(new ArrayList<>());
        if (isr.isEmpty()) {
            isr = new ArrayList<>(p.isr());
        }
        c.setIsr(isr);
        if (!replicas.contains(p.leader())) {
            int next = PartitionRegistration.NO_LEADER;
            for (int r : replicas) {
                BrokerRegistration b = image.broker(r);
                if (isr.contains(r) && b != null && b.usable()) {
                    next = r;
                    break;
                }
            }
            c.setLeader(next);
        }
        return c;
    }

    /** ListPartitionReassignments: the reassignments in progress (of the given partitions, or all). */
    public static dev.runnel.wire.message.ListPartitionReassignmentsResponseData listReassignments(MetadataImage image,
            dev.runnel.wire.message.ListPartitionReassignmentsRequestData req) {
        var resp = new dev.runnel.wire.message.ListPartitionReassignmentsResponseData().setErrorMessage(null);
        Map<String, List<Integer>> wanted = new TreeMap<>();
        if (req.topics == null) {
            image.topics().values().forEach(t -> wanted.put(t.name(), new ArrayList<>(t.partitions().keySet())));
        } else {
            req.topics.forEach(t -> wanted.computeIfAbsent(t.name, k -> new ArrayList<>()).addAll(t.partitionIndexes));
        }
        wanted.forEach((name, partitions) -> {
            TopicImage t = image.topic(name);
            if (t == null) {
                return;
            }
            var ot = new dev.runnel.wire.message.ListPartitionReassignmentsResponseData.OngoingTopicReassignment().setName(name);
            for (int i : partitions) {
                PartitionRegistration p = t.partition(i);
                if (p != null && p.reassigning()) {
                    ot.partitions.add(new dev.runnel.wire.message.ListPartitionReassignmentsResponseData.OngoingPartitionReassignment()
                            .setPartitionIndex(i).setReplicas(new ArrayList<>(p.replicas()))
                            .setAddingReplicas(new ArrayList<>(p.addingReplicas())).setRemovingReplicas(new ArrayList<>(p.removingReplicas())));
                }
            }
            if (!ot.partitions.isEmpty()) {
                resp.topics.add(ot);
            }
        });
        return resp;
    }

    /** ElectLeaders' election types. */
    public static final byte PREFERRED = 0;
    public static final byte UNCLEAN = 1;

    /**
     * ElectLeaders (Kafka's {@code kafka-leader-election}): PREFERRED makes the first replica the leader when it is
     * an unfenced in-sync replica (ELECTION_NOT_NEEDED when it already leads, PREFERRED_LEADER_NOT_AVAILABLE when
     * it cannot); UNCLEAN gives a leaderless partition a leader from its live replicas even outside the ISR, which
     * may lose committed records (ELECTION_NOT_NEEDED when it has a leader, ELIGIBLE_LEADERS_NOT_AVAILABLE when no
     * replica is alive). A null topic list means every partition.
     */
    public ControllerResult<dev.runnel.wire.message.ElectLeadersResponseData> electLeaders(MetadataImage image,
            dev.runnel.wire.message.ElectLeadersRequestData req) {
        var resp = new dev.runnel.wire.message.ElectLeadersResponseData();
        List<Message> records = new ArrayList<>();
        Map<String, List<Integer>> wanted = new TreeMap<>();
        if (req.topicPartitions == null) {
            for (TopicImage t : image.topics().values()) {
                wanted.put(t.name(), new ArrayList<>(t.partitions().keySet()));
            }
        } else {
            for (var tp : req.topicPartitions) {
                wanted.computeIfAbsent(tp.topic, k -> new ArrayList<>()).addAll(tp.partitions);
            }
        }
        for (Map.Entry<String, List<Integer>> e : wanted.entrySet()) {
            var rt = new dev.runnel.wire.message.ElectLeadersResponseData.ReplicaElectionResult().setTopic(e.getKey());
            resp.replicaElectionResults.add(rt);
            TopicImage t = image.topic(e.getKey());
            for (int partition : e.getValue()) {
                var pr = new dev.runnel.wire.message.ElectLeadersResponseData.PartitionResult().setPartitionId(partition).setErrorMessage(null);
                rt.partitionResult.add(pr);
                PartitionRegistration p = t == null ? null : t.partition(partition);
                if (p == null) {
                    pr.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code()).setErrorMessage("The partition does not exist.");
                    continue;
                }
                if (req.electionType == PREFERRED) {
                    int preferred = p.replicas().get(0);
                    BrokerRegistration b = image.broker(preferred);
                    if (p.leader() == preferred) {
                        pr.setErrorCode(Errors.ELECTION_NOT_NEEDED.code()).setErrorMessage("Leader election not needed for topic partition.");
                    } else if (!p.isr().contains(preferred) || b == null || !b.usable()) {
                        pr.setErrorCode(Errors.PREFERRED_LEADER_NOT_AVAILABLE.code()).setErrorMessage("Failed to elect leader for partition "
                                + e.getKey() + "-" + partition + " under strategy PreferredReplicaPartitionLeaderElectionStrategy");
                    } else {
                        records.add(new PartitionChangeRecord().setTopicId(t.id()).setPartitionId(partition).setLeader(preferred));
                    }
                } else if (req.electionType == UNCLEAN) {
                    if (p.hasLeader()) {
                        pr.setErrorCode(Errors.ELECTION_NOT_NEEDED.code()).setErrorMessage("Leader election not needed for topic partition.");
                        continue;
                    }
                    int chosen = -1;
                    for (int r : p.replicas()) {
                        BrokerRegistration b = image.broker(r);
                        if (b != null && b.usable() && (chosen < 0 || p.isr().contains(r))) {
                            chosen = r;
                            if (p.isr().contains(r)) {
                                break;
                            }
                        }
                    }
                    if (chosen < 0) {
                        pr.setErrorCode(Errors.ELIGIBLE_LEADERS_NOT_AVAILABLE.code()).setErrorMessage("No replica of the partition is alive.");
                    } else {
                        records.add(new PartitionChangeRecord().setTopicId(t.id()).setPartitionId(partition).setLeader(chosen)
                                .setIsr(new ArrayList<>(List.of(chosen))));
                    }
                } else {
                    pr.setErrorCode(Errors.INVALID_REQUEST.code()).setErrorMessage("Unknown election type " + req.electionType);
                }
            }
        }
        return ControllerResult.of(records, resp);
    }

    /** Preferred elections for every partition whose first replica is an unfenced in-sync replica that does not lead. */
    public List<Message> rebalanceLeaders(MetadataImage image) {
        List<Message> out = new ArrayList<>();
        for (TopicImage t : image.topics().values()) {
            for (PartitionRegistration p : t.partitions().values()) {
                int preferred = p.replicas().get(0);
                BrokerRegistration b = image.broker(preferred);
                if (p.leader() != preferred && p.isr().contains(preferred) && b != null && b.usable()) {
                    out.add(new PartitionChangeRecord().setTopicId(t.id()).setPartitionId(p.partition()).setLeader(preferred));
                }
            }
        }
        return out;
    }

    public ControllerResult<AllocateProducerIdsResponseData> allocateProducerIds(MetadataImage image, AllocateProducerIdsRequestData req) {
        AllocateProducerIdsResponseData resp = new AllocateProducerIdsResponseData();
        BrokerRegistration b = image.broker(req.brokerId);
        if (b == null) {
            return ControllerResult.none(resp.setErrorCode(Errors.BROKER_ID_NOT_REGISTERED.code()));
        }
        if (b.epoch() != req.brokerEpoch) {
            return ControllerResult.none(resp.setErrorCode(Errors.STALE_BROKER_EPOCH.code()));
        }
        long start = image.nextProducerId();
        return ControllerResult.of(List.of(new ProducerIdsRecord().setBrokerId(req.brokerId).setBrokerEpoch(req.brokerEpoch)
                .setNextProducerId(start + PRODUCER_ID_BLOCK)), resp.setProducerIdStart(start).setProducerIdLen(PRODUCER_ID_BLOCK));
    }

    // ------------------------------------------------------------------------------------------------ topics

    private static List<BrokerRegistration> usableBrokers(MetadataImage image) {
        return image.brokers().values().stream().filter(BrokerRegistration::usable).toList();
    }

    public ControllerResult<CreateTopicsResponseData> createTopics(MetadataImage image, CreateTopicsRequestData req) {
        CreateTopicsResponseData resp = new CreateTopicsResponseData();
        List<Message> records = new ArrayList<>();
        Set<String> creating = new HashSet<>();
        int placedSoFar = totalPartitions(image);
        for (CreateTopicsRequestData.CreatableTopic t : req.topics) {
            CreateTopicsResponseData.CreatableTopicResult r = new CreateTopicsResponseData.CreatableTopicResult().setName(t.name);
            resp.topics.add(r);
            String err = null;
            Errors code = Errors.NONE;
            Map<String, String> configs = new TreeMap<>();
            for (CreateTopicsRequestData.CreatableTopicConfig c : t.configs) {
                configs.put(c.name, c.value);
            }
            String badName = policy.invalidName(t.name);
            if (badName != null) {
                code = Errors.INVALID_TOPIC_EXCEPTION;
                err = badName;
            } else if (image.topic(t.name) != null || creating.contains(t.name)) {
                code = Errors.TOPIC_ALREADY_EXISTS;
                err = "Topic '" + t.name + "' already exists.";
            } else if (collision(image, creating, t.name) != null) {
                code = Errors.INVALID_TOPIC_EXCEPTION;
                err = "Topic '" + t.name + "' collides with existing topic: " + collision(image, creating, t.name);
            }
            List<List<Integer>> assignment = null;
            if (code == Errors.NONE) {
                String badConfig = policy.invalidConfigs(configs);
                if (badConfig != null) {
                    code = Errors.INVALID_CONFIG;
                    err = badConfig;
                }
            }
            if (code == Errors.NONE && !t.assignments.isEmpty()) {
                if (t.numPartitions != -1 || t.replicationFactor != -1) {
                    code = Errors.INVALID_REQUEST;
                    err = "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.";
                } else {
                    assignment = new ArrayList<>();
                    Map<Integer, List<Integer>> byIndex = new TreeMap<>();
                    for (CreateTopicsRequestData.CreatableReplicaAssignment a : t.assignments) {
                        byIndex.put(a.partitionIndex, a.brokerIds);
                    }
                    int expect = 0;
                    for (Map.Entry<Integer, List<Integer>> e : byIndex.entrySet()) {
                        if (e.getKey() != expect++) {
                            code = Errors.INVALID_REPLICA_ASSIGNMENT;
                            err = "Partitions should be a consecutive 0-based integer sequence, but it is " + byIndex.keySet() + ".";
                            break;
                        }
                        String bad = invalidAssignment(image, e.getValue(), e.getKey());
                        if (bad == null && !assignment.isEmpty() && e.getValue().size() != assignment.get(0).size()) {
                            // As Kafka: one replication factor per topic (and the limit below is checked on partition 0).
                            bad = "The manual partition assignment includes a partition with " + e.getValue().size()
                                    + " replica(s), but this is not consistent with previous partitions, which have "
                                    + assignment.get(0).size() + " replica(s).";
                        }
                        if (bad != null) {
                            code = Errors.INVALID_REPLICA_ASSIGNMENT;
                            err = bad;
                            break;
                        }
                        assignment.add(e.getValue());
                    }
                    if (code == Errors.NONE && assignment.get(0).size() > policy.maxSupportedReplicationFactor()) {
                        code = Errors.INVALID_REPLICATION_FACTOR;
                        err = notReplicatedYet(assignment.get(0).size());
                    }
                }
            }
            if (code == Errors.NONE && assignment == null) {
                int partitions = t.numPartitions == -1 ? policy.defaultPartitions() : t.numPartitions;
                int rf = t.replicationFactor == -1 ? policy.defaultReplicationFactor() : t.replicationFactor;
                List<BrokerRegistration> usable = usableBrokers(image);
                if (partitions <= 0) {
                    code = Errors.INVALID_PARTITIONS;
                    err = "Number of partitions was set to an invalid non-positive value.";
                } else if (rf <= 0) {
                    code = Errors.INVALID_REPLICATION_FACTOR;
                    err = "Replication factor must be larger than 0, or -1 to use the default value.";
                } else if (rf > image.brokers().size()) {
                    code = Errors.INVALID_REPLICATION_FACTOR;
                    err = "Unable to replicate the partition " + rf + " time(s): The target replication factor of " + rf
                            + " cannot be reached because only " + image.brokers().size() + " broker(s) are registered.";
                } else if (usable.isEmpty()) {
                    code = Errors.INVALID_REPLICATION_FACTOR;
                    err = "Unable to replicate the partition " + rf + " time(s): All brokers are currently fenced.";
                } else if (rf > usable.size()) {
                    code = Errors.INVALID_REPLICATION_FACTOR;
                    err = "Unable to replicate the partition " + rf + " time(s): The target replication factor of " + rf
                            + " cannot be reached because only " + usable.size() + " broker(s) are unfenced.";
                } else if (rf > policy.maxSupportedReplicationFactor()) {
                    code = Errors.INVALID_REPLICATION_FACTOR;
                    err = notReplicatedYet(rf);
                } else {
                    assignment = ReplicaPlacer.place(ReplicaPlacer.rackAlternated(usable), 0, partitions, rf, placedSoFar);
                }
            }
            if (code != Errors.NONE) {
                r.setErrorCode(code.code()).setErrorMessage(err);
                continue;
            }
            UUID id = topicIds.get();
            r.setTopicId(id).setNumPartitions(assignment.size()).setReplicationFactor((short) assignment.get(0).size());
            placedSoFar += assignment.size();
            creating.add(t.name);
            if (req.validateOnly) {
                continue;
            }
            records.add(new TopicRecord().setName(t.name).setTopicId(id));
            for (Map.Entry<String, String> c : configs.entrySet()) {
                records.add(new ConfigRecord().setResourceType(MetadataImage.TOPIC_CONFIG).setResourceName(t.name)
                        .setName(c.getKey()).setValue(c.getValue()));
            }
            for (int p = 0; p < assignment.size(); p++) {
                records.add(newPartition(image, id, p, assignment.get(p)));
            }
        }
        return ControllerResult.of(records, resp);
    }

    private static String notReplicatedYet(int rf) {
        return "Replication factor " + rf + " is not supported yet: this Runnel cluster does not replicate partition data yet, "
                + "so every partition has exactly one replica. Use a replication factor of 1.";
    }

    private static PartitionRecord newPartition(MetadataImage image, UUID topicId, int p, List<Integer> replicas) {
        int leader = PartitionRegistration.NO_LEADER;
        for (int r : replicas) {
            BrokerRegistration b = image.broker(r);
            if (b != null && b.usable()) {
                leader = r;
                break;
            }
        }
        return new PartitionRecord().setTopicId(topicId).setPartitionId(p).setReplicas(new ArrayList<>(replicas))
                .setIsr(new ArrayList<>(replicas)).setLeader(leader).setLeaderEpoch(0).setPartitionEpoch(0);
    }

    private static String invalidAssignment(MetadataImage image, List<Integer> brokers, int partition) {
        if (brokers.isEmpty()) {
            return "The manual partition assignment includes an empty replica list.";
        }
        if (new HashSet<>(brokers).size() != brokers.size()) {
            return "The manual partition assignment includes the broker " + brokers + " more than once.";
        }
        for (int b : brokers) {
            if (image.broker(b) == null) {
                return "The manual partition assignment includes broker " + b + ", but no such broker is registered.";
            }
        }
        return null;
    }

    private static String collision(MetadataImage image, Set<String> creating, String name) {
        String norm = name.replace('.', '_');
        for (String existing : image.topics().keySet()) {
            if (!existing.equals(name) && existing.replace('.', '_').equals(norm)) {
                return existing;
            }
        }
        for (String existing : creating) {
            if (!existing.equals(name) && existing.replace('.', '_').equals(norm)) {
                return existing;
            }
        }
        return null;
    }

    private static int totalPartitions(MetadataImage image) {
        int n = 0;
        for (TopicImage t : image.topics().values()) {
            n += t.partitionCount();
        }
        return n;
    }

    public ControllerResult<DeleteTopicsResponseData> deleteTopics(MetadataImage image, DeleteTopicsRequestData req) {
        DeleteTopicsResponseData resp = new DeleteTopicsResponseData();
        List<Message> records = new ArrayList<>();
        Set<UUID> deleting = new HashSet<>();
        List<DeleteTopicsRequestData.DeleteTopicState> states = new ArrayList<>(req.topics);
        for (String n : req.topicNames) {
            states.add(new DeleteTopicsRequestData.DeleteTopicState().setName(n));
        }
        for (DeleteTopicsRequestData.DeleteTopicState s : states) {
            TopicImage t = s.name != null ? image.topic(s.name) : image.topic(s.topicId);
            DeleteTopicsResponseData.DeletableTopicResult r = new DeleteTopicsResponseData.DeletableTopicResult()
                    .setName(s.name).setTopicId(s.topicId);
            resp.responses.add(r);
            if (t == null) {
                r.setErrorCode(s.name != null ? Errors.UNKNOWN_TOPIC_OR_PARTITION.code() : Errors.UNKNOWN_TOPIC_ID.code())
                        .setErrorMessage(s.name != null ? "This server does not host this topic-partition." : "This server does not host this topic ID.");
                continue;
            }
            r.setName(t.name()).setTopicId(t.id());
            if (deleting.add(t.id())) {
                records.add(new RemoveTopicRecord().setTopicId(t.id()));
            }
        }
        return ControllerResult.of(records, resp);
    }

    public ControllerResult<CreatePartitionsResponseData> createPartitions(MetadataImage image, CreatePartitionsRequestData req) {
        CreatePartitionsResponseData resp = new CreatePartitionsResponseData();
        List<Message> records = new ArrayList<>();
        int placedSoFar = totalPartitions(image);
        for (CreatePartitionsRequestData.CreatePartitionsTopic ct : req.topics) {
            CreatePartitionsResponseData.CreatePartitionsTopicResult r = new CreatePartitionsResponseData.CreatePartitionsTopicResult().setName(ct.name);
            resp.results.add(r);
            TopicImage t = image.topic(ct.name);
            if (t == null) {
                r.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code()).setErrorMessage("The topic '" + ct.name + "' does not exist.");
                continue;
            }
            int current = t.partitionCount();
            if (ct.count < current) {
                r.setErrorCode(Errors.INVALID_PARTITIONS.code()).setErrorMessage("The topic " + ct.name + " currently has " + current
                        + " partition(s); " + ct.count + " would not be an increase.");
                continue;
            }
            if (ct.count == current) {
                r.setErrorCode(Errors.INVALID_PARTITIONS.code()).setErrorMessage("Topic already has " + current + " partition(s).");
                continue;
            }
            int rf = t.partition(0) == null ? 1 : t.partition(0).replicas().size();
            List<List<Integer>> assignment;
            if (ct.assignments != null && !ct.assignments.isEmpty()) {
                if (ct.assignments.size() != ct.count - current) {
                    r.setErrorCode(Errors.INVALID_REPLICA_ASSIGNMENT.code()).setErrorMessage("Attempted to add " + (ct.count - current)
                            + " additional partition(s), but only " + ct.assignments.size() + " assignment(s) were specified.");
                    continue;
                }
                assignment = new ArrayList<>();
                String bad = null;
                for (int i = 0; i < ct.assignments.size() && bad == null; i++) {
                    List<Integer> ids = ct.assignments.get(i).brokerIds;
                    bad = invalidAssignment(image, ids, current + i);
                    if (bad == null && ids.size() != rf) {
                        bad = "The manual partition assignment includes a partition with " + ids.size()
                                + " replica(s), but this is not consistent with previous partitions, which have " + rf + " replica(s).";
                    }
                    assignment.add(ids);
                }
                if (bad != null) {
                    r.setErrorCode(Errors.INVALID_REPLICA_ASSIGNMENT.code()).setErrorMessage(bad);
                    continue;
                }
            } else {
                List<BrokerRegistration> usable = usableBrokers(image);
                if (usable.size() < rf) {
                    r.setErrorCode(Errors.INVALID_REPLICATION_FACTOR.code()).setErrorMessage("Unable to replicate the partition " + rf
                            + " time(s): The target replication factor of " + rf + " cannot be reached because only " + usable.size()
                            + " broker(s) are unfenced.");
                    continue;
                }
                assignment = ReplicaPlacer.place(ReplicaPlacer.rackAlternated(usable), current, ct.count - current, rf, placedSoFar);
            }
            placedSoFar += assignment.size();
            if (req.validateOnly) {
                continue;
            }
            for (int i = 0; i < assignment.size(); i++) {
                records.add(newPartition(image, t.id(), current + i, assignment.get(i)));
            }
        }
        return ControllerResult.of(records, resp);
    }

    /**
     * Applies config operations (SET 0, DELETE 1, APPEND 2, SUBTRACT 3) to topics and brokers. The broker that
     * forwarded the request has validated names and values with its own config table; here only existence.
     */
    public ControllerResult<IncrementalAlterConfigsResponseData> incrementalAlterConfigs(MetadataImage image,
                                                                                         IncrementalAlterConfigsRequestData req) {
        IncrementalAlterConfigsResponseData resp = new IncrementalAlterConfigsResponseData();
        List<Message> records = new ArrayList<>();
        for (IncrementalAlterConfigsRequestData.AlterConfigsResource res : req.resources) {
            IncrementalAlterConfigsResponseData.AlterConfigsResourceResponse r = new IncrementalAlterConfigsResponseData.AlterConfigsResourceResponse()
                    .setResourceType(res.resourceType).setResourceName(res.resourceName).setErrorMessage(null);
            resp.responses.add(r);
            if (res.resourceType == MetadataImage.TOPIC_CONFIG && image.topic(res.resourceName) == null) {
                r.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code()).setErrorMessage("The topic '" + res.resourceName + "' does not exist.");
                continue;
            }
            if (res.resourceType != MetadataImage.TOPIC_CONFIG && res.resourceType != MetadataImage.BROKER_CONFIG) {
                r.setErrorCode(Errors.INVALID_REQUEST.code()).setErrorMessage("Unsupported resource type " + res.resourceType);
                continue;
            }
            Map<String, String> current = new HashMap<>(image.configs(res.resourceType, res.resourceName));
            List<Message> mine = new ArrayList<>();
            for (IncrementalAlterConfigsRequestData.AlterableConfig c : res.configs) {
                switch (c.configOperation) {
                    case 0 -> {
                        current.put(c.name, c.value);
                        mine.add(configRecord(res, c.name, c.value));
                    }
                    case 1 -> {
                        if (current.remove(c.name) != null) {
                            mine.add(configRecord(res, c.name, null));
                        }
                    }
                    default -> {
                        r.setErrorCode(Errors.INVALID_REQUEST.code()).setErrorMessage("Operation " + c.configOperation
                                + " must be resolved by the broker before it reaches the controller");
                    }
                }
            }
            if (r.errorCode == 0 && !req.validateOnly) {
                records.addAll(mine);
            }
        }
        return ControllerResult.of(records, resp);
    }

    private static ConfigRecord configRecord(IncrementalAlterConfigsRequestData.AlterConfigsResource res, String name, String value) {
        return new ConfigRecord().setResourceType(res.resourceType).setResourceName(res.resourceName).setName(name).setValue(value);
    }

    /**
     * Writes client quota changes as Kafka's ClientQuotaRecords. The broker that forwarded the request has applied
     * Kafka's rules (entity types and combinations, keys, values) with the broker's own table and sends only the
     * resulting changes, one key per entry (remove=true removes it); here a change that the image already holds
     * writes nothing.
     */
    public ControllerResult<dev.runnel.wire.message.AlterClientQuotasResponseData> alterClientQuotas(MetadataImage image,
            dev.runnel.wire.message.AlterClientQuotasRequestData req) {
        dev.runnel.wire.message.AlterClientQuotasResponseData resp = new dev.runnel.wire.message.AlterClientQuotasResponseData();
        List<Message> records = new ArrayList<>();
        for (dev.runnel.wire.message.AlterClientQuotasRequestData.EntryData e : req.entries) {
            Map<String, String> entity = new java.util.TreeMap<>();
            List<dev.runnel.metadata.records.ClientQuotaRecord.EntityData> recordEntity = new ArrayList<>();
            dev.runnel.wire.message.AlterClientQuotasResponseData.EntryData r = new dev.runnel.wire.message.AlterClientQuotasResponseData.EntryData()
                    .setErrorMessage(null);
            for (dev.runnel.wire.message.AlterClientQuotasRequestData.EntityData ed : e.entity) {
                entity.put(ed.entityType, ed.entityName);
                recordEntity.add(new dev.runnel.metadata.records.ClientQuotaRecord.EntityData().setEntityType(ed.entityType)
                        .setEntityName(ed.entityName));
                r.entity.add(new dev.runnel.wire.message.AlterClientQuotasResponseData.EntityData().setEntityType(ed.entityType)
                        .setEntityName(ed.entityName));
            }
            resp.entries.add(r);
            if (entity.isEmpty()) {
                r.setErrorCode(Errors.INVALID_REQUEST.code()).setErrorMessage("Invalid empty client quota entity");
                continue;
            }
            Map<String, Double> current = image.clientQuotas().getOrDefault(java.util.Collections.unmodifiableMap(entity), Map.of());
            for (dev.runnel.wire.message.AlterClientQuotasRequestData.OpData op : e.ops) {
                boolean changes = op.remove ? current.containsKey(op.key) : !Double.valueOf(op.value).equals(current.get(op.key));
                if (changes && !req.validateOnly) {
                    records.add(new dev.runnel.metadata.records.ClientQuotaRecord().setEntity(new ArrayList<>(recordEntity))
                            .setKey(op.key).setValue(op.remove ? 0.0 : op.value).setRemove(op.remove));
                }
            }
        }
        return ControllerResult.of(records, resp);
    }
}
