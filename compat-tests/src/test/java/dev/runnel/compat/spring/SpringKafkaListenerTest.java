package dev.runnel.compat.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.runnel.compat.support.Await;
import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.Clients;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.SpringVersion;
import org.springframework.core.env.MapPropertySource;
import org.springframework.kafka.annotation.EnableKafka;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.kafka.config.ConcurrentKafkaListenerContainerFactory;
import org.springframework.kafka.config.KafkaListenerEndpointRegistry;
import org.springframework.kafka.config.TopicBuilder;
import org.springframework.kafka.core.ConsumerFactory;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.core.DefaultKafkaProducerFactory;
import org.springframework.kafka.core.KafkaAdmin;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.core.ProducerFactory;
import org.springframework.kafka.listener.ConcurrentMessageListenerContainer;
import org.springframework.kafka.listener.ContainerProperties;
import org.springframework.kafka.support.SendResult;

/**
 * A plain Spring application (no Boot) against Runnel: a {@code @KafkaListener} run by a
 * {@code ConcurrentKafkaListenerContainerFactory} with concurrency 3 on a six-partition topic that
 * Spring's {@code KafkaAdmin} declares, fed by a {@code KafkaTemplate}. The three listener
 * containers form one consumer group and split the partitions; every record is handled exactly once
 * and the containers' commits reach the end of the log. Stopping the listener, producing more and
 * starting it again delivers only the new records: the group's committed offsets are honoured.
 *
 * <p>Tagged {@code java-client}: spring-kafka 3.3.x is built for kafka-clients 3.9, so the 3.9.1 run is the combination
 * most Spring applications have, and the 4.3.0 run is the newer client under the same Spring code.
 */
@Tag("java-client")
class SpringKafkaListenerTest {
    private static final int PARTITIONS = 6;
    private static final int CONCURRENCY = 3;
    private static final String LISTENER_ID = "runnel-listener";
    private static final String CLIENT_ID_PREFIX = "spring-listener";

    @RegisterExtension
    static final Broker broker = Broker.create();

    /** What the listener saw: which consumer thread handled which record. */
    record Received(String thread, int partition, long offset, String key, String value) {
    }

    /** The application's listener; hands each record to the test through a queue. */
    static class Recorder {
        final BlockingQueue<Received> received = new LinkedBlockingQueue<>();

        @KafkaListener(id = LISTENER_ID, topics = "${runnel.topic}", groupId = "${runnel.group}",
                clientIdPrefix = CLIENT_ID_PREFIX)
        void onRecord(ConsumerRecord<String, String> record) {
            received.add(new Received(Thread.currentThread().getName(), record.partition(), record.offset(),
                    record.key(), record.value()));
        }
    }

    @Configuration
    @EnableKafka
    static class AppConfig {
        @Value("${runnel.bootstrap-servers}")
        String bootstrapServers;

        @Bean
        KafkaAdmin kafkaAdmin() {
            KafkaAdmin admin = new KafkaAdmin(Map.of("bootstrap.servers", bootstrapServers,
                    "request.timeout.ms", 10_000, "default.api.timeout.ms", (int) Clients.TIMEOUT.toMillis()));
            admin.setFatalIfBrokerNotAvailable(true);
            return admin;
        }

        @Bean
        NewTopic topic(@Value("${runnel.topic}") String topic) {
            return TopicBuilder.name(topic).partitions(PARTITIONS).replicas(1).build();
        }

        @Bean
        ConsumerFactory<String, String> consumerFactory() {
            Map<String, Object> config = new HashMap<>();
            config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
            config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
            config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
            config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
            config.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 6_000);
            config.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 500);
            config.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
            config.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) Clients.TIMEOUT.toMillis());
            return new DefaultKafkaConsumerFactory<>(config);
        }

        @Bean
        ConcurrentKafkaListenerContainerFactory<String, String> kafkaListenerContainerFactory(
                ConsumerFactory<String, String> consumerFactory) {
            ConcurrentKafkaListenerContainerFactory<String, String> factory = new ConcurrentKafkaListenerContainerFactory<>();
            factory.setConsumerFactory(consumerFactory);
            factory.setConcurrency(CONCURRENCY);
            // Spring's default: commit what the listener finished after each poll's records.
            factory.getContainerProperties().setAckMode(ContainerProperties.AckMode.BATCH);
            factory.getContainerProperties().setPollTimeout(500);
            return factory;
        }

        @Bean
        ProducerFactory<String, String> producerFactory() {
            Map<String, Object> config = new HashMap<>();
            config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
            config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
            config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
            config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) Clients.TIMEOUT.toMillis());
            config.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
            config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) Clients.TIMEOUT.toMillis());
            return new DefaultKafkaProducerFactory<>(config);
        }

        @Bean
        KafkaTemplate<String, String> kafkaTemplate(ProducerFactory<String, String> producerFactory) {
            return new KafkaTemplate<>(producerFactory);
        }

        @Bean
        Recorder recorder() {
            return new Recorder();
        }
    }

    @Test
    void concurrentListenerSharesTheTopicAndResumesFromCommittedOffsets() throws Exception {
        System.out.println("[compat] " + Clients.describeVersion() + ", spring-kafka "
                + KafkaTemplate.class.getPackage().getImplementationVersion() + ", spring-framework "
                + SpringVersion.getVersion());
        long start = System.nanoTime();
        String topic = Clients.uniqueTopic("spring");
        String group = "spring-group-" + topic;

        try (AnnotationConfigApplicationContext context = new AnnotationConfigApplicationContext();
             Admin admin = Clients.admin(broker)) {
            context.getEnvironment().getPropertySources().addFirst(new MapPropertySource("runnel", Map.of(
                    "runnel.bootstrap-servers", broker.bootstrapServers(),
                    "runnel.topic", topic,
                    "runnel.group", group)));
            context.register(AppConfig.class);
            context.refresh();

            @SuppressWarnings("unchecked")
            KafkaTemplate<String, String> template = context.getBean(KafkaTemplate.class);
            Recorder recorder = context.getBean(Recorder.class);
            ConcurrentMessageListenerContainer<?, ?> container = (ConcurrentMessageListenerContainer<?, ?>)
                    context.getBean(KafkaListenerEndpointRegistry.class).getListenerContainer(LISTENER_ID);
            assertEquals(CONCURRENCY, container.getContainers().size(), "child containers");

            // KafkaAdmin created the topic during refresh.
            assertEquals(PARTITIONS, admin.describeTopics(List.of(topic)).allTopicNames()
                    .get(Clients.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).get(topic).partitions().size());

            // Part 1: the three containers join one group and split the six partitions (seen by Spring and by
            // the broker alike) before anything is sent, so no rebalance can hand a record to two of them.
            Map<String, Set<TopicPartition>> assignments = awaitSettledGroup(admin, group, container);
            System.out.println("[compat] " + elapsed(start) + " group " + group + " settled: " + assignments);

            Map<TopicPartition, Long> ends = new HashMap<>();
            List<String> first = send(template, topic, "first", 60, ends);
            assertEquals(PARTITIONS, ends.size(), "the keys spread over every partition: " + ends);

            List<Received> firstSeen = takeAtLeast(recorder.received, first.size());
            awaitCommitted(admin, group, ends);
            firstSeen.addAll(drain(recorder.received));
            assertExactly(first, firstSeen);
            System.out.println("[compat] " + elapsed(start) + " " + first.size()
                    + " records handled once each; committed offsets by partition " + byPartition(ends));

            // Each partition's records were handled by one consumer thread only: the one whose container owns it.
            Map<String, String> threadByClientId = new TreeMap<>();
            for (var child : container.getContainers()) {
                Map<String, Collection<TopicPartition>> byClientId = child.getAssignmentsByClientId();
                assertEquals(1, byClientId.size(), "one consumer per child container: " + byClientId);
                threadByClientId.put(byClientId.keySet().iterator().next(), child.getBeanName() + "-C-");
            }
            Map<Integer, Set<String>> threadsByPartition = new TreeMap<>();
            for (Received r : firstSeen) {
                threadsByPartition.computeIfAbsent(r.partition(), p -> new TreeSet<>()).add(r.thread());
            }
            Set<String> threads = new TreeSet<>();
            threadsByPartition.values().forEach(threads::addAll);
            assertEquals(CONCURRENCY, threads.size(), "consumer threads that handled records: " + threadsByPartition);
            for (var entry : assignments.entrySet()) {
                String threadPrefix = threadByClientId.get(entry.getKey());
                for (TopicPartition tp : entry.getValue()) {
                    Set<String> handledBy = threadsByPartition.get(tp.partition());
                    assertEquals(1, handledBy.size(), tp + " handled by " + handledBy);
                    assertTrue(handledBy.iterator().next().startsWith(threadPrefix),
                            tp + " is assigned to " + entry.getKey() + " (thread " + threadPrefix
                                    + "*) but was handled by " + handledBy);
                }
            }

            // Part 2: stop the listener; its consumers leave the group, which keeps its offsets.
            container.stop();
            System.out.println("[compat] " + elapsed(start) + " listener stopped");
            assertFalse(container.isRunning(), "container still running after stop()");
            Await.untilPasses(Clients.TIMEOUT, () -> {
                ConsumerGroupDescription d = describe(admin, group);
                assertGroupState("Empty", d);
                assertTrue(d.members().isEmpty(), "members after stop: " + d.members());
            });
            assertEquals(ends, committed(admin, group), "committed offsets of the stopped group");

            List<String> second = send(template, topic, "second", 30, ends);
            container.start();
            System.out.println("[compat] " + elapsed(start) + " " + second.size() + " more records sent, listener started");
            List<Received> secondSeen = takeAtLeast(recorder.received, second.size());
            awaitCommitted(admin, group, ends);
            awaitSettledGroup(admin, group, container);
            context.close(); // every consumer has stopped: nothing more can arrive
            secondSeen.addAll(drain(recorder.received));
            assertExactly(second, secondSeen);
            System.out.println("[compat] " + elapsed(start) + " after the restart only the " + second.size()
                    + " new records arrived; committed offsets by partition " + byPartition(ends));
        }
    }

    private static Map<Integer, Long> byPartition(Map<TopicPartition, Long> offsets) {
        Map<Integer, Long> out = new TreeMap<>();
        offsets.forEach((tp, offset) -> out.put(tp.partition(), offset));
        return out;
    }

    private static String elapsed(long startNanos) {
        return "+" + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos) + " ms:";
    }

    /**
     * Waits until every child container has partitions, together all six once each, and the broker's
     * description of the group says the same: Stable with three members holding those partitions. Returns
     * the assignment by client id.
     */
    private static Map<String, Set<TopicPartition>> awaitSettledGroup(Admin admin, String group,
            ConcurrentMessageListenerContainer<?, ?> container) throws Exception {
        Map<String, Set<TopicPartition>> result = new TreeMap<>();
        Await.untilPasses(Clients.TIMEOUT, () -> {
            Map<String, Set<TopicPartition>> spring = new TreeMap<>();
            int total = 0;
            for (var child : container.getContainers()) {
                for (var e : child.getAssignmentsByClientId().entrySet()) {
                    assertFalse(e.getValue() == null || e.getValue().isEmpty(), e.getKey() + " has no partitions");
                    spring.put(e.getKey(), new HashSet<>(e.getValue()));
                    total += e.getValue().size();
                }
            }
            assertEquals(CONCURRENCY, spring.size(), "consumers with partitions: " + spring);
            Set<TopicPartition> all = new HashSet<>();
            spring.values().forEach(all::addAll);
            assertEquals(PARTITIONS, all.size(), "partitions assigned: " + spring);
            assertEquals(PARTITIONS, total, "a partition assigned twice: " + spring);

            ConsumerGroupDescription d = describe(admin, group);
            assertGroupState("Stable", d);
            Map<String, Set<TopicPartition>> brokerView = new TreeMap<>();
            for (MemberDescription m : d.members()) {
                brokerView.put(m.clientId(), new HashSet<>(m.assignment().topicPartitions()));
            }
            assertEquals(spring, brokerView, "the broker's members and assignments vs the containers'");
            result.clear();
            result.putAll(spring);
        });
        for (String clientId : result.keySet()) {
            assertTrue(clientId.startsWith(CLIENT_ID_PREFIX + "-"), "client id " + clientId);
        }
        return result;
    }

    /** Sends {@code count} keyed records with the template, awaits every result and records the end offsets. */
    private static List<String> send(KafkaTemplate<String, String> template, String topic, String prefix, int count,
                                     Map<TopicPartition, Long> ends) throws Exception {
        List<String> values = new ArrayList<>();
        List<CompletableFuture<SendResult<String, String>>> futures = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String value = prefix + "-" + i;
            futures.add(template.send(topic, "key-" + prefix + "-" + i, value));
            values.add(value);
        }
        for (CompletableFuture<SendResult<String, String>> f : futures) {
            RecordMetadata m = f.get(Clients.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).getRecordMetadata();
            ends.merge(new TopicPartition(m.topic(), m.partition()), m.offset() + 1, Math::max);
        }
        return values;
    }

    /** Takes records from the listener's queue until {@code expected} arrived, or fails after the timeout. */
    private static List<Received> takeAtLeast(BlockingQueue<Received> queue, int expected) throws InterruptedException {
        List<Received> taken = new ArrayList<>();
        long deadline = System.nanoTime() + Clients.TIMEOUT.toNanos();
        while (taken.size() < expected) {
            Received r = queue.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (r == null) {
                fail("expected " + expected + " records within " + Clients.TIMEOUT + " but the listener got "
                        + taken.size() + ": " + taken);
            }
            taken.add(r);
        }
        return taken;
    }

    private static List<Received> drain(BlockingQueue<Received> queue) {
        List<Received> rest = new ArrayList<>();
        queue.drainTo(rest);
        return rest;
    }

    private static void assertExactly(List<String> sent, List<Received> seen) {
        List<String> values = new ArrayList<>();
        seen.forEach(r -> values.add(r.value()));
        assertEquals(new TreeSet<>(sent), new TreeSet<>(values), "the records the listener got");
        assertEquals(sent.size(), values.size(), "records handled twice: " + seen);
    }

    /** Waits until the group's committed offsets (as AdminClient lists them) are the log end offsets. */
    private static void awaitCommitted(Admin admin, String group, Map<TopicPartition, Long> ends) throws Exception {
        Await.untilPasses(Clients.TIMEOUT, () -> assertEquals(ends, committed(admin, group), "committed offsets"));
    }

    private static Map<TopicPartition, Long> committed(Admin admin, String group) throws Exception {
        Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group)
                .partitionsToOffsetAndMetadata().get(Clients.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        Map<TopicPartition, Long> result = new HashMap<>();
        offsets.forEach((tp, om) -> result.put(tp, om == null ? null : om.offset()));
        return result;
    }

    /** groupState() is 4.x and state() 3.x; the description's text names the state in both clients. */
    private static void assertGroupState(String state, ConsumerGroupDescription d) {
        String text = d.toString();
        assertTrue(text.contains("groupState=" + state) || text.contains("state=" + state), "group state " + state + ": " + text);
    }

    private static ConsumerGroupDescription describe(Admin admin, String group) throws Exception {
        return admin.describeConsumerGroups(List.of(group)).describedGroups().get(group)
                .get(Clients.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    }
}
