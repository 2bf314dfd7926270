package dev.runnel.testkit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a {@code String} field (static or not) or parameter of a {@link RunnelBroker} test that receives the
 * broker's {@code host:port}, ready for {@code bootstrap.servers} or {@code spring.kafka.bootstrap-servers}.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.FIELD, ElementType.PARAMETER})
public @interface BootstrapServers {
}
