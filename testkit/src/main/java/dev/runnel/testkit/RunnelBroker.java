package dev.runnel.testkit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Runs the annotated test class against an embedded Runnel broker. Its address goes into every {@code String}
 * field or parameter annotated {@link BootstrapServers}; {@link EmbeddedRunnel} parameters and
 * {@link InjectRunnel} fields get the broker itself.
 *
 * <pre>{@code
 * @RunnelBroker(topics = "orders:3")
 * class OrderServiceTest {
 *     @BootstrapServers
 *     static String bootstrapServers;
 *
 *     @Test
 *     void ordersArrive(@BootstrapServers String bootstrap) { ... }
 * }
 * }</pre>
 *
 * With {@code nodes = 3} the class runs against a three-node cluster in this JVM instead ({@link EmbeddedRunnelCluster}).
 * Each annotated class gets a broker of its own, started before its first test and stopped (its data deleted) after
 * its last; {@code @Nested} classes use their outer class's broker. With {@link #shared()} every class that asks for
 * the same port and properties uses one broker for the whole run. Safe with JUnit's parallel execution.
 */
@Documented
@Inherited
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.ANNOTATION_TYPE})
@ExtendWith(RunnelExtension.class)
public @interface RunnelBroker {
    /** Topics created before the first test: {@code "name"} ({@code num.partitions} partitions) or {@code "name:partitions"}. */
    String[] topics() default {};

    /** {@code server.properties} keys, each as {@code "key=value"}, e.g. {@code "auto.create.topics.enable=false"}. */
    String[] properties() default {};

    /** The port to listen on; 0 picks a free one. Only 0 with {@link #nodes()} above 1. */
    int port() default 0;

    /**
     * The number of nodes: 1 (the default) is a single broker; 3 is an {@link EmbeddedRunnelCluster} of three
     * broker+controller nodes, whose bootstrap list (all nodes) goes into {@link BootstrapServers} and which
     * {@code EmbeddedRunnelCluster} parameters and {@link InjectRunnel} fields receive.
     */
    int nodes() default 1;

    /**
     * One broker for the whole test run, shared by every class annotated with the same {@link #port()} and
     * {@link #properties()} (each class's {@link #topics()} are created on it), stopped when the run ends.
     */
    boolean shared() default false;
}
