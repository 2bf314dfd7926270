package dev.runnel.metadata.image;

import dev.runnel.metadata.records.BrokerRegistrationChangeRecord;
import dev.runnel.metadata.records.ClientQuotaRecord;
import dev.runnel.metadata.records.ConfigRecord;
import dev.runnel.metadata.records.FenceBrokerRecord;
import dev.runnel.metadata.records.NoOpRecord;
import dev.runnel.metadata.records.PartitionChangeRecord;
import dev.runnel.metadata.records.PartitionRecord;
import dev.runnel.metadata.records.ProducerIdsRecord;
import dev.runnel.metadata.records.RegisterBrokerRecord;
import dev.runnel.metadata.records.RemoveTopicRecord;
import dev.runnel.metadata.records.TopicRecord;
import dev.runnel.metadata.records.UnfenceBrokerRecord;
import dev.runnel.metadata.records.UnregisterBrokerRecord;
import dev.runnel.metadata.records.runnel.ClusterIdRecord;
import dev.runnel.wire.Message;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's metadata after some prefix of the metadata log: immutable, so request handlers read it without
 * locks while the next image is built. {@link #apply} is deterministic: every node that applies the same records
 * in the same order holds an equal image, and {@link #toRecords()} followed by {@link #apply} on {@link #EMPTY}
 * rebuilds an equal image (that is what a snapshot is).
 *
 * <p>Records that do not fit the image (a partition of an unknown topic, a change for an unknown broker) are
 * ignored with a warning rather than failing the node: the log is the truth and every node ignores them alike.
 */
public final class MetadataImage {
    private static final Logger LOG = LoggerFactory.getLogger(MetadataImage.class);
    /** Kafka's ConfigResource type codes. */
    public static final byte TOPIC_CONFIG = 2;
    public static final byte BROKER_CONFIG = 4;

    public static final MetadataImage EMPTY = new MetadataImage(-1, null, Map.of(), Map.of(), Map.of(), Map.of(), 0L, 0L, Map.of());

    private final long offset;
    private final String clusterId;
    private final Map<Integer, BrokerRegistration> brokers;
    private final Map<String, TopicImage> topics;
    private final Map<UUID, String> topicNames;
    private final Map<ConfigKey, Map<String, String>> configs;
    private final long nextProducerId;
    private final long maxBrokerEpoch;
    private final Map<Map<String, String>, Map<String, Double>> clientQuotas;

    public record ConfigKey(byte type, String name) {
    }

    private MetadataImage(long offset, String clusterId, Map<Integer, BrokerRegistration> brokers, Map<String, TopicImage> topics,
                          Map<UUID, String> topicNames, Map<ConfigKey, Map<String, String>> configs, long nextProducerId,
                          long maxBrokerEpoch, Map<Map<String, String>, Map<String, Double>> clientQuotas) {
        this.offset = offset;
        this.clientQuotas = clientQuotas;
        this.clusterId = clusterId;
        this.brokers = brokers;
        this.topics = topics;
        this.topicNames = topicNames;
        this.configs = configs;
        this.nextProducerId = nextProducerId;
        this.maxBrokerEpoch = maxBrokerEpoch;
    }

    /** The index of the last metadata log entry applied, -1 for none. */
    public long offset() {
        return offset;
    }

    /** The cluster id the quorum agreed on, or null before its first record. */
    public String clusterId() {
        return clusterId;
    }

    /** Registered brokers by id (fenced ones included), in id order. */
    public Map<Integer, BrokerRegistration> brokers() {
        return brokers;
    }

    public BrokerRegistration broker(int id) {
        return brokers.get(id);
    }

    public Map<String, TopicImage> topics() {
        return topics;
    }

    public TopicImage topic(String name) {
        return name == null ? null : topics.get(name);
    }

    public TopicImage topic(UUID id) {
        String name = topicNames.get(id);
        return name == null ? null : topics.get(name);
    }

    /** A partition's replicas on brokers that are not registered or are fenced (Metadata's offline replicas). */
    public List<Integer> offlineReplicas(PartitionRegistration p) {
        List<Integer> offline = new ArrayList<>();
        for (int r : p.replicas()) {
            BrokerRegistration b = brokers.get(r);
            if (b == null || b.fenced()) {
                offline.add(r);
            }
        }
        return offline;
    }

    /** A resource's config overrides (empty if none). */
    public Map<String, String> configs(byte type, String name) {
        return configs.getOrDefault(new ConfigKey(type, name), Map.of());
    }

    /**
     * Client quotas (Kafka's ClientQuotaRecord): entity (type to name, a null name for a default entity) to quota
     * key and value. The same map object as long as no quota changed, so readers can skip unchanged images.
     */
    public Map<Map<String, String>, Map<String, Double>> clientQuotas() {
        return clientQuotas;
    }

    /** The first producer id not yet handed out to any broker. */
    public long nextProducerId() {
        return nextProducerId;
    }

    /** The largest broker epoch ever assigned; the next registration gets a larger one. */
    public long maxBrokerEpoch() {
        return maxBrokerEpoch;
    }

    /** This image with {@code records} applied, as the entry at {@code newOffset}. */
    public MetadataImage apply(List<? extends Message> records, long newOffset) {
        Builder b = new Builder(this);
        for (Message r : records) {
            b.apply(r);
        }
        return b.build(newOffset);
    }

    /** Records that rebuild this image from {@link #EMPTY}: what a snapshot holds. */
    public List<Message> toRecords() {
        List<Message> out = new ArrayList<>();
        if (clusterId != null) {
            out.add(new ClusterIdRecord().setClusterId(clusterId));
        }
        if (nextProducerId > 0) {
            out.add(new ProducerIdsRecord().setBrokerId(-1).setBrokerEpoch(-1).setNextProducerId(nextProducerId));
        }
        for (BrokerRegistration br : brokers.values()) {
            RegisterBrokerRecord r = new RegisterBrokerRecord().setBrokerId(br.id()).setBrokerEpoch(br.epoch())
                    .setIncarnationId(br.incarnationId()).setRack(br.rack()).setFenced(br.fenced())
                    .setInControlledShutdown(br.inControlledShutdown());
            for (BrokerRegistration.Endpoint e : br.endpoints()) {
                r.endPoints.add(new RegisterBrokerRecord.BrokerEndpoint().setName(e.listener()).setHost(e.host())
                        .setPort(e.port()).setSecurityProtocol(e.securityProtocol()));
            }
            out.add(r);
        }
        for (TopicImage t : topics.values()) {
            out.add(new TopicRecord().setName(t.name()).setTopicId(t.id()));
            for (PartitionRegistration p : t.partitions().values()) {
                out.add(new PartitionRecord().setPartitionId(p.partition()).setTopicId(t.id())
                        .setReplicas(new ArrayList<>(p.replicas())).setIsr(new ArrayList<>(p.isr())).setLeader(p.leader())
                        .setLeaderEpoch(p.leaderEpoch()).setPartitionEpoch(p.partitionEpoch())
                        .setAddingReplicas(new ArrayList<>(p.addingReplicas())).setRemovingReplicas(new ArrayList<>(p.removingReplicas())));
            }
        }
        for (Map.Entry<ConfigKey, Map<String, String>> e : configs.entrySet()) {
            for (Map.Entry<String, String> kv : e.getValue().entrySet()) {
                out.add(new ConfigRecord().setResourceType(e.getKey().type()).setResourceName(e.getKey().name())
                        .setName(kv.getKey()).setValue(kv.getValue()));
            }
        }
        for (Map.Entry<Map<String, String>, Map<String, Double>> e : clientQuotas.entrySet()) {
            for (Map.Entry<String, Double> kv : e.getValue().entrySet()) {
                out.add(new ClientQuotaRecord().setEntity(entityData(e.getKey())).setKey(kv.getKey()).setValue(kv.getValue()));
            }
        }
        return out;
    }

    private static List<ClientQuotaRecord.EntityData> entityData(Map<String, String> entity) {
        List<ClientQuotaRecord.EntityData> out = new ArrayList<>();
        entity.forEach((t, n) -> out.add(new ClientQuotaRecord.EntityData().setEntityType(t).setEntityName(n)));
        return out;
    }

    /** The images' content (not their offsets) is equal: for replay and snapshot tests. */
    public boolean sameContent(MetadataImage o) {
        return java.util.Objects.equals(clusterId, o.clusterId) && brokers.equals(o.brokers) && topics.equals(o.topics)
                && configs.equals(o.configs) && nextProducerId == o.nextProducerId
                && clientQuotas.equals(o.clientQuotas);
    }

    @Override
    public String toString() {
        return "MetadataImage{offset=" + offset + ", cluster=" + clusterId + ", brokers=" + brokers.keySet() + ", topics="
                + topics.keySet() + "}";
    }

    /** Applies records one after the other, copying each map once at most. */
    private static final class Builder {
        private final MetadataImage base;
        private String clusterId;
        private Map<Integer, BrokerRegistration> brokers;
        private Map<String, TopicImage> topics;
        private Map<UUID, String> topicNames;
        private Map<ConfigKey, Map<String, String>> configs;
        private long nextProducerId;
        private long maxBrokerEpoch;
        private Map<Map<String, String>, Map<String, Double>> clientQuotas;

        Builder(MetadataImage base) {
            this.clientQuotas = base.clientQuotas;
            this.base = base;
            this.clusterId = base.clusterId;
            this.brokers = base.brokers;
            this.topics = base.topics;
            this.topicNames = base.topicNames;
            this.configs = base.configs;
            this.nextProducerId = base.nextProducerId;
            this.maxBrokerEpoch = base.maxBrokerEpoch;
        }

        private Map<Integer, BrokerRegistration> brokers() {
            if (brokers == base.brokers) {
                brokers = new TreeMap<>(base.brokers);
            }
            return brokers;
        }

        private Map<String, TopicImage> topics() {
            if (topics == base.topics) {
                topics = new TreeMap<>(base.topics);
                topicNames = new HashMap<>(base.topicNames);
            }
            return topics;
        }

        private Map<ConfigKey, Map<String, String>> configs() {
            if (configs == base.configs) {
                configs = new HashMap<>(base.configs);
            }
            return configs;
        }

        void apply(Message r) {
            if (r instanceof ClusterIdRecord c) {
                if (clusterId == null) {
                    clusterId = c.clusterId;
                }
            } else if (r instanceof RegisterBrokerRecord rb) {
                List<BrokerRegistration.Endpoint> eps = new ArrayList<>();
                for (RegisterBrokerRecord.BrokerEndpoint e : rb.endPoints) {
                    eps.add(new BrokerRegistration.Endpoint(e.name, e.host, e.port, e.securityProtocol));
                }
                brokers().put(rb.brokerId, new BrokerRegistration(rb.brokerId, rb.brokerEpoch, rb.incarnationId,
                        List.copyOf(eps), rb.rack == null ? "" : rb.rack, rb.fenced, rb.inControlledShutdown));
                maxBrokerEpoch = Math.max(maxBrokerEpoch, rb.brokerEpoch);
            } else if (r instanceof UnregisterBrokerRecord ub) {
                brokers().remove(ub.brokerId);
            } else if (r instanceof FenceBrokerRecord f) {
                BrokerRegistration br = brokers.get(f.id);
                if (br == null || br.epoch() != f.epoch) {
                    LOG.warn("Ignoring {}: no broker {} with epoch {}", r, f.id, f.epoch);
                } else {
                    brokers().put(f.id, br.withFenced(true));
                }
            } else if (r instanceof UnfenceBrokerRecord u) {
                BrokerRegistration br = brokers.get(u.id);
                if (br == null || br.epoch() != u.epoch) {
                    LOG.warn("Ignoring {}: no broker {} with epoch {}", r, u.id, u.epoch);
                } else {
                    brokers().put(u.id, br.withFenced(false).withControlledShutdown(false));
                }
            } else if (r instanceof BrokerRegistrationChangeRecord c) {
                BrokerRegistration br = brokers.get(c.brokerId);
                if (br == null || br.epoch() != c.brokerEpoch) {
                    LOG.warn("Ignoring {}: no broker {} with epoch {}", r, c.brokerId, c.brokerEpoch);
                } else {
                    // Kafka's encoding: 0 leaves a flag alone, 1 sets it, -1 clears it.
                    if (c.fenced == 1) {
                        br = br.withFenced(true);
                    } else if (c.fenced == -1) {
                        br = br.withFenced(false);
                    }
                    if (c.inControlledShutdown == 1) {
                        br = br.withControlledShutdown(true);
                    } else if (c.inControlledShutdown == -1) {
                        br = br.withControlledShutdown(false);
                    }
                    brokers().put(c.brokerId, br);
                }
            } else if (r instanceof TopicRecord t) {
                if (topics.containsKey(t.name)) {
                    LOG.warn("Ignoring {}: topic exists", r);
                } else {
                    topics().put(t.name, new TopicImage(t.name, t.topicId, Map.of()));
                    topicNames.put(t.topicId, t.name);
                }
            } else if (r instanceof RemoveTopicRecord rt) {
                String name = topicNames.get(rt.topicId);
                if (name != null) {
                    topics().remove(name);
                    topicNames.remove(rt.topicId);
                    configs().remove(new ConfigKey(TOPIC_CONFIG, name));
                }
            } else if (r instanceof PartitionRecord p) {
                String name = topicNames.get(p.topicId);
                if (name == null) {
                    LOG.warn("Ignoring {}: unknown topic id", r);
                    return;
                }
                TopicImage t = topics.get(name);
                Map<Integer, PartitionRegistration> parts = new TreeMap<>(t.partitions());
                parts.put(p.partitionId, new PartitionRegistration(p.partitionId, List.copyOf(p.replicas), List.copyOf(p.isr),
                        p.leader, p.leaderEpoch, p.partitionEpoch,
                        p.addingReplicas == null ? List.of() : List.copyOf(p.addingReplicas),
                        p.removingReplicas == null ? List.of() : List.copyOf(p.removingReplicas)));
                topics().put(name, new TopicImage(name, t.id(), Collections.unmodifiableMap(parts)));
            } else if (r instanceof PartitionChangeRecord c) {
                String name = topicNames.get(c.topicId);
                TopicImage t = name == null ? null : topics.get(name);
                PartitionRegistration old = t == null ? null : t.partition(c.partitionId);
                if (old == null) {
                    LOG.warn("Ignoring {}: unknown partition", r);
                    return;
                }
                List<Integer> replicas = c.replicas == null ? old.replicas() : List.copyOf(c.replicas);
                List<Integer> isr = c.isr == null ? old.isr() : List.copyOf(c.isr);
                int leader = old.leader();
                int leaderEpoch = old.leaderEpoch();
                if (c.leader != -2) { // -2: unchanged
                    leader = c.leader;
                    leaderEpoch = old.leaderEpoch() + 1;
                }
                Map<Integer, PartitionRegistration> parts = new TreeMap<>(t.partitions());
                List<Integer> adding = c.addingReplicas == null ? old.addingReplicas() : List.copyOf(c.addingReplicas);
                List<Integer> removing = c.removingReplicas == null ? old.removingReplicas() : List.copyOf(c.removingReplicas);
                parts.put(c.partitionId, new PartitionRegistration(c.partitionId, replicas, isr, leader, leaderEpoch,
                        old.partitionEpoch() + 1, adding, removing));
                topics().put(name, new TopicImage(name, t.id(), Collections.unmodifiableMap(parts)));
            } else if (r instanceof ConfigRecord c) {
                ConfigKey key = new ConfigKey(c.resourceType, c.resourceName);
                Map<String, String> m = new TreeMap<>(configs.getOrDefault(key, Map.of()));
                if (c.value == null) {
                    m.remove(c.name);
                } else {
                    m.put(c.name, c.value);
                }
                if (m.isEmpty()) {
                    configs().remove(key);
                } else {
                    configs().put(key, Collections.unmodifiableMap(m));
                }
            } else if (r instanceof ClientQuotaRecord q) {
                Map<String, String> entity = new TreeMap<>();
                for (ClientQuotaRecord.EntityData e : q.entity) {
                    entity.put(e.entityType, e.entityName);
                }
                Map<String, String> key = Collections.unmodifiableMap(entity);
                if (clientQuotas == base.clientQuotas) {
                    clientQuotas = new HashMap<>(base.clientQuotas);
                }
                Map<String, Double> values = new TreeMap<>(clientQuotas.getOrDefault(key, Map.of()));
                if (q.remove) {
                    values.remove(q.key);
                } else {
                    values.put(q.key, q.value);
                }
                if (values.isEmpty()) {
                    clientQuotas.remove(key);
                } else {
                    clientQuotas.put(key, Collections.unmodifiableMap(values));
                }
            } else if (r instanceof ProducerIdsRecord p) {
                nextProducerId = Math.max(nextProducerId, p.nextProducerId);
            } else if (r instanceof NoOpRecord) {
                // A new controller's first write; nothing to apply.
            } else {
                LOG.warn("Ignoring metadata record of an unexpected type: {}", r);
            }
        }

        MetadataImage build(long offset) {
            return new MetadataImage(offset, clusterId, brokers == base.brokers ? brokers : Collections.unmodifiableMap(brokers),
                    topics == base.topics ? topics : Collections.unmodifiableMap(topics),
                    topicNames == base.topicNames ? topicNames : Collections.unmodifiableMap(topicNames),
                    configs == base.configs ? configs : Collections.unmodifiableMap(configs), nextProducerId, maxBrokerEpoch,
                    clientQuotas == base.clientQuotas ? clientQuotas : Collections.unmodifiableMap(clientQuotas));
        }
    }
}
