package dev.runnel.testkit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks an {@link EmbeddedRunnel} field (static or not) of a {@link RunnelBroker} test that receives the broker, or
 * an {@link EmbeddedRunnelCluster} field of a {@code @RunnelBroker(nodes = N)} test that receives the cluster.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.FIELD)
public @interface InjectRunnel {
}
