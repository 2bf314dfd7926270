package dev.runnel.compat.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.support.Await;
import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.Clients;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerConfig;
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
import org.springframework.core.env.MapPropertySource;
import org.springframework.kafka.annotation.EnableKafka;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.kafka.config.ConcurrentKafkaListenerContainerFactory;
import org.springframework.kafka.core.ConsumerFactory;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.core.DefaultKafkaProducerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.core.ProducerFactory;
import org.springframework.kafka.transaction.KafkaTransactionManager;
import org.springframework.util.backoff.FixedBackOff;

/**
 * spring-kafka's transactions against Runnel: {@code KafkaTemplate.executeInTransaction} commits both sends or, when
 * the callback throws, neither; a {@code @KafkaListener} run with a {@code KafkaTransactionManager}
 * (consume-process-produce, the consumer's offsets sent in the producer's transaction) that fails once on a record
 * rolls back, is redelivered the record and commits: read_committed sees the output once, and the group's offset
 * moves only with the commit.
 */
@Tag("java-client")
class SpringKafkaTransactionsTest {
    @RegisterExtension
    static final Broker broker = Broker.create();

    /** The application's transactional listener: upper-cases records into the output topic, failing once on "boom". */
    static class Upper {
        final AtomicInteger boomDeliveries = new AtomicInteger();
        final KafkaTemplate<String, String> template;
        final String out;

        Upper(KafkaTemplate<String, String> template, String out) {
            this.template = template;
            this.out = out;
        }

        @KafkaListener(id = "upper", topics = "${runnel.in}", groupId = "${runnel.group}")
        void onRecord(ConsumerRecord<String, String> record) {
            template.send(out, record.key(), record.value().toUpperCase());
            if (record.value().equals("boom") && boomDeliveries.getAndIncrement() == 0) {
                template.flush(); // the output reaches the log; only the abort can hide it
                throw new IllegalStateException("failing once on purpose");
            }
        }
    }

    @Configuration
    @EnableKafka
    static class AppConfig {
        @Value("${runnel.bootstrap-servers}")
        String bootstrapServers;

        @Bean
        ProducerFactory<String, String> producerFactory() {
            DefaultKafkaProducerFactory<String, String> f = new DefaultKafkaProducerFactory<>(Map.of(
                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                    ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
                    ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
                    ProducerConfig.MAX_BLOCK_MS_CONFIG, 20_000));
            f.setTransactionIdPrefix("spring-tx-");
            return f;
        }

        @Bean
        KafkaTemplate<String, String> kafkaTemplate(ProducerFactory<String, String> pf) {
            return new KafkaTemplate<>(pf);
        }

        @Bean
        KafkaTransactionManager<String, String> kafkaTransactionManager(ProducerFactory<String, String> pf) {
            return new KafkaTransactionManager<>(pf);
        }

        @Bean
        ConsumerFactory<String, String> consumerFactory() {
            Map<String, Object> config = new HashMap<>();
            config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
            config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
            config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
            config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
            config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
            return new DefaultKafkaConsumerFactory<>(config);
        }

        @Bean
        ConcurrentKafkaListenerContainerFactory<String, String> kafkaListenerContainerFactory(
                ConsumerFactory<String, String> consumerFactory, KafkaTransactionManager<String, String> tm) {
            ConcurrentKafkaListenerContainerFactory<String, String> factory = new ConcurrentKafkaListenerContainerFactory<>();
            factory.setConsumerFactory(consumerFactory);
            factory.getContainerProperties().setKafkaAwareTransactionManager(tm);
            factory.getContainerProperties().setPollTimeout(200);
            factory.setCommonErrorHandler(new org.springframework.kafka.listener.DefaultErrorHandler(new FixedBackOff(0L, 3L)));
            return factory;
        }

        @Bean
        Upper upper(KafkaTemplate<String, String> template, @Value("${runnel.out}") String out) {
            return new Upper(template, out);
        }
    }

    private static List<String> readCommitted(String topic) {
        return read(topic, "read_committed");
    }

    private static List<String> read(String topic, String isolation) {
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> c = Clients.consumer(broker, Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation))) {
            TopicPartition tp = new TopicPartition(topic, 0);
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            long end = c.endOffsets(List.of(tp)).get(tp);
            long deadline = System.nanoTime() + Clients.TIMEOUT.toNanos();
            while (c.position(tp) < end) {
                assertTrue(System.nanoTime() < deadline, "read up to " + c.position(tp) + " of " + end);
                c.poll(Duration.ofMillis(100)).forEach(r -> values.add(r.value()));
            }
        }
        return values;
    }

    @Test
    void executeInTransactionCommitsBothSendsOrNeither() throws Exception {
        String in = Clients.uniqueTopic("spring-tx-in");
        String out = Clients.uniqueTopic("spring-tx-out");
        Clients.createTopic(broker, in, 1);
        Clients.createTopic(broker, out, 1);
        try (AnnotationConfigApplicationContext context = context(in, out, "spring-tx-template")) {
            @SuppressWarnings("unchecked")
            KafkaTemplate<String, String> template = context.getBean(KafkaTemplate.class);
            template.executeInTransaction(t -> {
                t.send(out, "a", "first");
                t.send(out, "b", "second");
                return null;
            });
            assertThrows(IllegalStateException.class, () -> template.executeInTransaction(t -> {
                t.send(out, "c", "rolled-back");
                t.flush();
                throw new IllegalStateException("the application changes its mind");
            }));
            template.executeInTransaction(t -> t.send(out, "d", "third"));
            assertEquals(List.of("first", "second", "third"), readCommitted(out));
        }
    }

    @Test
    void aTransactionalListenerThatFailsOnceRollsBackAndCommitsOnRedelivery() throws Exception {
        String in = Clients.uniqueTopic("spring-ctp-in");
        String out = Clients.uniqueTopic("spring-ctp-out");
        String group = "spring-ctp-" + in;
        Clients.createTopic(broker, in, 1);
        Clients.createTopic(broker, out, 1);
        try (var producer = Clients.producer(broker)) {
            for (String v : List.of("one", "boom", "three")) {
                producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(in, 0, v, v)).get();
            }
        }
        try (AnnotationConfigApplicationContext context = context(in, out, group);
             Admin admin = Clients.admin(broker)) {
            Upper upper = context.getBean(Upper.class);
            TopicPartition inTp = new TopicPartition(in, 0);
            Await.untilPasses(Clients.TIMEOUT, () -> {
                var offsets = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
                assertTrue(offsets.get(inTp) != null && offsets.get(inTp).offset() == 3, "group offsets: " + offsets);
            });
            assertEquals(2, upper.boomDeliveries.get(), "'boom' failed once and was delivered again");
            assertEquals(List.of("ONE", "BOOM", "THREE"), readCommitted(out), "the failed attempt's output is hidden");
            assertEquals(2, read(out, "read_uncommitted").stream().filter("BOOM"::equals).count(),
                    "the failed attempt's output did reach the log: the abort hides it");
        }
    }

    private static AnnotationConfigApplicationContext context(String in, String out, String group) {
        AnnotationConfigApplicationContext context = new AnnotationConfigApplicationContext();
        context.getEnvironment().getPropertySources().addFirst(new MapPropertySource("runnel", Map.of(
                "runnel.bootstrap-servers", broker.bootstrapServers(), "runnel.in", in, "runnel.out", out,
                "runnel.group", group)));
        context.register(AppConfig.class);
        context.refresh();
        return context;
    }
}
