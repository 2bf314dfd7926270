import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * Drives an old Java kafka-clients (0.10.2.x, 0.11.0.x) in a child JVM with only that client's own jars, run by
 * the JDK's single-file source launcher ({@code java -cp <jars> OldJavaClient.java ...}), so that this file is
 * compiled against the old API. Used by LegacyJavaClientsTest.
 *
 * <pre>
 * produce BOOTSTRAP TOPIC COUNT CODEC PREFIX   -> SENT offset timestamp      (half one by one, half in one batch)
 * consume BOOTSTRAP TOPIC EXPECTED             -> RECORD offset key value timestamp timestampType
 * group   BOOTSTRAP TOPIC GROUP EXPECTED       -> RECORD ..., then COMMITTED offset
 * </pre>
 * Exits 0 when done, 2 when the expected records did not arrive within 20 seconds.
 */
public class OldJavaClient {
    public static void main(String[] args) throws Exception {
        String mode = args[0];
        String bootstrap = args[1];
        String topic = args[2];
        int code = 0;
        if (mode.equals("produce")) {
            produce(bootstrap, topic, Integer.parseInt(args[3]), args[4], args[5]);
        } else if (mode.equals("consume")) {
            code = consume(bootstrap, topic, null, Integer.parseInt(args[3]));
        } else if (mode.equals("group")) {
            code = consume(bootstrap, topic, args[3], Integer.parseInt(args[4]));
        } else {
            throw new IllegalArgumentException(mode);
        }
        System.out.flush();
        System.exit(code);
    }

    static void produce(String bootstrap, String topic, int count, String codec, String prefix) throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("acks", "all");
        p.put("compression.type", codec);
        p.put("linger.ms", "0");
        p.put("key.serializer", "org.apache.kafka.common.serialization.StringSerializer");
        p.put("value.serializer", "org.apache.kafka.common.serialization.StringSerializer");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            for (int i = 0; i < count / 2; i++) {
                RecordMetadata md = producer.send(new ProducerRecord<>(topic, 0, prefix + "-key-" + i, prefix + "-value-" + i)).get();
                System.out.println("SENT " + md.offset() + " " + md.timestamp());
            }
            List<java.util.concurrent.Future<RecordMetadata>> futures = new ArrayList<>();
            for (int i = count / 2; i < count; i++) {
                futures.add(producer.send(new ProducerRecord<>(topic, 0, prefix + "-key-" + i, prefix + "-value-" + i)));
            }
            producer.flush();
            for (java.util.concurrent.Future<RecordMetadata> f : futures) {
                RecordMetadata md = f.get();
                System.out.println("SENT " + md.offset() + " " + md.timestamp());
            }
        }
    }

    static int consume(String bootstrap, String topic, String group, int expected) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("enable.auto.commit", "false");
        p.put("auto.offset.reset", "earliest");
        p.put("key.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
        p.put("value.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
        if (group != null) {
            p.put("group.id", group);
        }
        TopicPartition tp = new TopicPartition(topic, 0);
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p)) {
            if (group == null) {
                consumer.assign(Collections.singletonList(tp));
                consumer.seekToBeginning(Collections.singletonList(tp));
            } else {
                consumer.subscribe(Collections.singletonList(topic));
            }
            int n = 0;
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (n < expected && System.nanoTime() - deadline < 0) {
                for (ConsumerRecord<String, String> r : consumer.poll(200)) {
                    System.out.println("RECORD " + r.offset() + " " + r.key() + " " + r.value() + " " + r.timestamp()
                            + " " + r.timestampType());
                    n++;
                }
            }
            if (group != null) {
                consumer.commitSync();
                System.out.println("COMMITTED " + consumer.committed(tp).offset());
            }
            return n >= expected ? 0 : 2;
        }
    }
}
