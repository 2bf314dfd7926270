import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.AdminClient;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;

/**
 * The AdminClient of an old Java kafka-clients (0.11 and later) in a child JVM, run by the JDK's source launcher
 * on that client's jars (LegacyJavaClientsTest): creates a topic with the Kafka 3.x configs old admin paths set
 * ({@code message.format.version}, {@code message.timestamp.difference.max.ms}), describes it and its configs.
 *
 * <pre>
 * admin BOOTSTRAP TOPIC -> CREATED, PARTITIONS n, LISTED true|false, CONFIG name=value (two lines)
 * </pre>
 */
public class OldJavaAdmin {
    public static void main(String[] args) throws Exception {
        String bootstrap = args[1];
        String topic = args[2];
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        try (AdminClient admin = AdminClient.create(p)) {
            Map<String, String> configs = new HashMap<>();
            configs.put("message.format.version", "0.10.0");
            configs.put("message.timestamp.difference.max.ms", "3600000");
            admin.createTopics(Collections.singletonList(new NewTopic(topic, 2, (short) 1).configs(configs))).all().get();
            System.out.println("CREATED");
            TopicDescription d = admin.describeTopics(Collections.singletonList(topic)).all().get().get(topic);
            System.out.println("PARTITIONS " + d.partitions().size());
            System.out.println("LISTED " + admin.listTopics().names().get().contains(topic));
            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
            Config config = admin.describeConfigs(Collections.singletonList(resource)).all().get().get(resource);
            for (String name : new String[] {"message.format.version", "message.timestamp.difference.max.ms"}) {
                ConfigEntry e = config.get(name);
                System.out.println("CONFIG " + name + "=" + (e == null ? null : e.value()));
            }
        }
        System.out.flush();
        System.exit(0);
    }
}
