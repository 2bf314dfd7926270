package dev.runnel.testkit;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Predicate;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.TestInstancePostProcessor;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * The JUnit 5 extension behind {@link RunnelBroker}: starts the class's (or the run's shared) broker, or cluster
 * with {@code nodes > 1}, and injects its address. Registered by the annotation; {@code @ExtendWith(RunnelExtension.class)} alone gives a per-class
 * broker with the defaults.
 * <p>
 * Brokers live in JUnit's extension stores (the test class's, or the root one for shared brokers), whose
 * {@code getOrComputeIfAbsent} is atomic, so classes running in parallel never start the same broker twice; JUnit
 * closes them when the class (or the run) ends.
 */
public final class RunnelExtension implements BeforeAllCallback, TestInstancePostProcessor, ParameterResolver {
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(RunnelExtension.class);

    @RunnelBroker
    private static final class Defaults {
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        inject(context.getRequiredTestClass(), null, running(context));
    }

    @Override
    public void postProcessTestInstance(Object testInstance, ExtensionContext context) {
        inject(testInstance.getClass(), testInstance, running(context));
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        Class<?> type = parameter.getParameter().getType();
        return type == EmbeddedRunnel.class || type == EmbeddedRunnelCluster.class
                || (type == String.class && parameter.isAnnotated(BootstrapServers.class));
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        Running r = running(context);
        Class<?> type = parameter.getParameter().getType();
        return type == String.class ? r.bootstrapServers() : r.as(type, "parameter " + parameter.getParameter());
    }

    /** The broker or cluster the current test class uses, started on first use. */
    static Running running(ExtensionContext context) {
        Class<?> testClass = context.getRequiredTestClass();
        Class<?> owner = testClass;
        RunnelBroker config = null;
        for (Class<?> c = testClass; c != null; c = c.getEnclosingClass()) {
            Optional<RunnelBroker> found = AnnotationSupport.findAnnotation(c, RunnelBroker.class);
            if (found.isPresent()) {
                owner = c;
                config = found.get();
                break;
            }
        }
        if (config == null) {
            config = Defaults.class.getAnnotation(RunnelBroker.class);
        }
        RunnelBroker cfg = config;
        Class<?> ownerClass = owner;
        if (cfg.nodes() < 1) {
            throw new ExtensionConfigurationException("@RunnelBroker(nodes) on " + owner.getName() + " must be at least 1, got "
                    + cfg.nodes());
        }
        if (cfg.nodes() > 1 && cfg.port() != 0) {
            throw new ExtensionConfigurationException("@RunnelBroker(port) on " + owner.getName()
                    + " cannot be fixed for a cluster (nodes = " + cfg.nodes() + "): each node gets free ports");
        }
        if (cfg.shared()) {
            String key = "shared broker, nodes " + cfg.nodes() + ", port " + cfg.port() + ", properties " + parseProperties(cfg, owner);
            Running r = context.getRoot().getStore(NAMESPACE)
                    .getOrComputeIfAbsent(key, k -> start(cfg, ownerClass, false), Running.class);
            createTopics(r, cfg, owner);
            return r;
        }
        ExtensionContext owning = context;
        while (owning.getTestMethod().isPresent() || owning.getTestClass().orElse(null) != owner) {
            owning = owning.getParent().orElseThrow(() ->
                    new ExtensionConfigurationException("No class context for " + ownerClass.getName()));
        }
        return owning.getStore(NAMESPACE)
                .getOrComputeIfAbsent(Running.class, k -> start(cfg, ownerClass, true), Running.class);
    }

    private static Running start(RunnelBroker cfg, Class<?> owner, boolean withTopics) {
        Running r = cfg.nodes() > 1
                ? new Running(null, EmbeddedRunnel.cluster(cfg.nodes()).properties(parseProperties(cfg, owner)).start())
                : new Running(EmbeddedRunnel.builder().port(cfg.port()).properties(parseProperties(cfg, owner)).start(), null);
        if (withTopics) {
            try {
                createTopics(r, cfg, owner);
            } catch (RuntimeException e) {
                r.close();
                throw e;
            }
        }
        return r;
    }

    private static TreeMap<String, String> parseProperties(RunnelBroker cfg, Class<?> owner) {
        TreeMap<String, String> props = new TreeMap<>();
        for (String entry : cfg.properties()) {
            int eq = entry.indexOf('=');
            if (eq <= 0) {
                throw new ExtensionConfigurationException("@RunnelBroker(properties) on " + owner.getName()
                        + " wants \"key=value\", got \"" + entry + "\"");
            }
            props.put(entry.substring(0, eq).trim(), entry.substring(eq + 1).trim());
        }
        return props;
    }

    private static void createTopics(Running broker, RunnelBroker cfg, Class<?> owner) {
        for (String spec : cfg.topics()) {
            int colon = spec.lastIndexOf(':');
            String name = colon < 0 ? spec.trim() : spec.substring(0, colon).trim();
            int partitions = -1;
            if (colon >= 0) {
                try {
                    partitions = Integer.parseInt(spec.substring(colon + 1).trim());
                } catch (NumberFormatException e) {
                    throw new ExtensionConfigurationException("@RunnelBroker(topics) on " + owner.getName()
                            + " wants \"name\" or \"name:partitions\", got \"" + spec + "\"");
                }
            }
            broker.createTopic(name, partitions);
        }
    }

    /** Sets the annotated fields of {@code type} (static ones when {@code instance} is null). */
    private static void inject(Class<?> type, Object instance, Running broker) {
        Predicate<Field> wanted = f -> Modifier.isStatic(f.getModifiers()) == (instance == null);
        List<Field> fields = new ArrayList<>(AnnotationSupport.findAnnotatedFields(type, BootstrapServers.class, wanted));
        fields.addAll(AnnotationSupport.findAnnotatedFields(type, InjectRunnel.class, wanted));
        for (Field f : fields) {
            Object value;
            if (f.isAnnotationPresent(BootstrapServers.class)) {
                requireType(f, String.class, BootstrapServers.class);
                value = broker.bootstrapServers();
            } else {
                if (f.getType() != EmbeddedRunnel.class && f.getType() != EmbeddedRunnelCluster.class) {
                    throw new ExtensionConfigurationException("@InjectRunnel field " + f
                            + " must be of type EmbeddedRunnel (or EmbeddedRunnelCluster with @RunnelBroker(nodes = N))");
                }
                value = broker.as(f.getType(), "field " + f);
            }
            if (Modifier.isFinal(f.getModifiers())) {
                throw new ExtensionConfigurationException("Field " + f + " cannot be final: the broker is injected into it");
            }
            try {
                f.setAccessible(true);
                f.set(instance, value);
            } catch (ReflectiveOperationException | RuntimeException e) {
                throw new ExtensionConfigurationException("Cannot set " + f + ": " + e, e);
            }
        }
    }

    private static void requireType(Field f, Class<?> type, Class<?> annotation) {
        if (f.getType() != type) {
            throw new ExtensionConfigurationException("@" + annotation.getSimpleName() + " field " + f
                    + " must be of type " + type.getSimpleName());
        }
    }

    /** A started broker or cluster (one of the two) in an extension store; JUnit closes it when the store's context ends. */
    static final class Running implements ExtensionContext.Store.CloseableResource {
        final EmbeddedRunnel broker;
        final EmbeddedRunnelCluster cluster;

        Running(EmbeddedRunnel broker, EmbeddedRunnelCluster cluster) {
            this.broker = broker;
            this.cluster = cluster;
        }

        String bootstrapServers() {
            return broker != null ? broker.bootstrapServers() : cluster.bootstrapServers();
        }

        void createTopic(String name, int partitions) {
            if (broker != null) {
                broker.createTopic(name, partitions);
            } else {
                cluster.createTopic(name, partitions);
            }
        }

        /** The broker or the cluster as {@code type} asks, or a configuration error naming {@code what}. */
        Object as(Class<?> type, String what) {
            if (type == EmbeddedRunnel.class && broker != null) {
                return broker;
            }
            if (type == EmbeddedRunnelCluster.class && cluster != null) {
                return cluster;
            }
            throw new ExtensionConfigurationException(what + " wants an " + type.getSimpleName() + " but the class runs "
                    + (broker != null ? "a single broker (use EmbeddedRunnel, or @RunnelBroker(nodes = 3) for a cluster)"
                    : "a cluster of " + cluster.size() + " nodes (use EmbeddedRunnelCluster)"));
        }

        @Override
        public void close() {
            if (broker != null) {
                broker.close();
            } else {
                cluster.close();
            }
        }
    }
}
