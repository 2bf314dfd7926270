package dev.runnel.compat.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.runnel.testkit.BootstrapServers;
import dev.runnel.testkit.RunnelBroker;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.kafka.annotation.EnableKafka;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.kafka.config.ConcurrentKafkaListenerContainerFactory;
import org.springframework.kafka.core.ConsumerFactory;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.core.DefaultKafkaProducerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.core.ProducerFactory;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.junit.jupiter.SpringJUnitConfig;

/**
 * spring-kafka against the testkit's extension, wired the way a Spring Boot test would be: the extension's address
 * becomes {@code spring.kafka.bootstrap-servers} through {@code @DynamicPropertySource}; a {@code KafkaTemplate}
 * sends and a {@code @KafkaListener} in a consumer group receives.
 */
@RunnelBroker(topics = "greetings")
@SpringJUnitConfig(SpringKafkaTest.KafkaConfig.class)
@DirtiesContext // close the listener containers with this class, before the broker stops
class SpringKafkaTest {
    @BootstrapServers
    static String bootstrapServers;

    @DynamicPropertySource
    static void kafkaProperties(DynamicPropertyRegistry registry) {
        registry.add("spring.kafka.bootstrap-servers", () -> bootstrapServers);
    }

    @Autowired
    KafkaTemplate<String, String> template;
    @Autowired
    Greetings greetings;

    @Test
    void templateSendsAndListenerInAGroupReceives() throws Exception {
        template.send("greetings", "hello from spring").get(20, TimeUnit.SECONDS);
        assertEquals("hello from spring", greetings.received.poll(30, TimeUnit.SECONDS));
    }

    static class Greetings {
        final BlockingQueue<String> received = new LinkedBlockingQueue<>();

        @KafkaListener(topics = "greetings", groupId = "spring-greeters")
        void onGreeting(String greeting) {
            received.add(greeting);
        }
    }

    @Configuration
    @EnableKafka
    static class KafkaConfig {
        @Bean
        ProducerFactory<String, String> producerFactory(@Value("${spring.kafka.bootstrap-servers}") String bootstrap) {
            return new DefaultKafkaProducerFactory<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                    ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
                    ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
                    ProducerConfig.MAX_BLOCK_MS_CONFIG, 20_000));
        }

        @Bean
        KafkaTemplate<String, String> kafkaTemplate(ProducerFactory<String, String> producerFactory) {
            return new KafkaTemplate<>(producerFactory);
        }

        @Bean
        ConsumerFactory<String, String> consumerFactory(@Value("${spring.kafka.bootstrap-servers}") String bootstrap) {
            return new DefaultKafkaConsumerFactory<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                    ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
                    ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
                    // the listener may join after the template sent
                    ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"));
        }

        @Bean
        ConcurrentKafkaListenerContainerFactory<String, String> kafkaListenerContainerFactory(
                ConsumerFactory<String, String> consumerFactory) {
            ConcurrentKafkaListenerContainerFactory<String, String> factory = new ConcurrentKafkaListenerContainerFactory<>();
            factory.setConsumerFactory(consumerFactory);
            return factory;
        }

        @Bean
        Greetings greetings() {
            return new Greetings();
        }
    }
}
