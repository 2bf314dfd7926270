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
 * The JUnit 5 extension behind {@link RunnelBroker}: starts the class's (or the run's shared) broker and injects
 * its address. Registered by the annotation; {@code @ExtendWith(RunnelExtension.class)} alone gives a per-class
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
        inject(context.getRequiredTestClass(), null, broker(context));
    }

    @Override
    public void postProcessTestInstance(Object testInstance, ExtensionContext context) {
        inject(testInstance.getClass(), testInstance, broker(context));
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        Class<?> type = parameter.getParameter().getType();
        return type == EmbeddedRunnel.class || (type == String.class && parameter.isAnnotated(BootstrapServers.class));
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        EmbeddedRunnel broker = broker(context);
        return parameter.getParameter().getType() == EmbeddedRunnel.class ? broker : broker.bootstrapServers();
    }

    /** The broker the current test class uses, started on first use. */
    static EmbeddedRunnel broker(ExtensionContext context) {
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
        if (cfg.shared()) {
            String key = "shared broker, port " + cfg.port() + ", properties " + parseProperties(cfg, owner);
            Running r = context.getRoot().getStore(NAMESPACE)
                    .getOrComputeIfAbsent(key, k -> new Running(start(cfg, ownerClass, false)), Running.class);
            createTopics(r.broker, cfg, owner);
            return r.broker;
        }
        ExtensionContext owning = context;
        while (owning.getTestMethod().isPresent() || owning.getTestClass().orElse(null) != owner) {
            owning = owning.getParent().orElseThrow(() ->
                    new ExtensionConfigurationException("No class context for " + ownerClass.getName()));
        }
        return owning.getStore(NAMESPACE)
                .getOrComputeIfAbsent(Running.class, k -> new Running(start(cfg, ownerClass, true)), Running.class).broker;
    }

    private static EmbeddedRunnel start(RunnelBroker cfg, Class<?> owner, boolean withTopics) {
        EmbeddedRunnel.Builder b = EmbeddedRunnel.builder().port(cfg.port()).properties(parseProperties(cfg, owner));
        EmbeddedRunnel broker = b.start();
        if (withTopics) {
            try {
                createTopics(broker, cfg, owner);
            } catch (RuntimeException e) {
                broker.close();
                throw e;
            }
        }
        return broker;
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

    private static void createTopics(EmbeddedRunnel broker, RunnelBroker cfg, Class<?> owner) {
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
    private static void inject(Class<?> type, Object instance, EmbeddedRunnel broker) {
        Predicate<Field> wanted = f -> Modifier.isStatic(f.getModifiers()) == (instance == null);
        List<Field> fields = new ArrayList<>(AnnotationSupport.findAnnotatedFields(type, BootstrapServers.class, wanted));
        fields.addAll(AnnotationSupport.findAnnotatedFields(type, InjectRunnel.class, wanted));
        for (Field f : fields) {
            Object value;
            if (f.isAnnotationPresent(BootstrapServers.class)) {
                requireType(f, String.class, BootstrapServers.class);
                value = broker.bootstrapServers();
            } else {
                requireType(f, EmbeddedRunnel.class, InjectRunnel.class);
                value = broker;
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

    /** A started broker in an extension store; JUnit closes it when the store's context ends. */
    private static final class Running implements ExtensionContext.Store.CloseableResource {
        final EmbeddedRunnel broker;

        Running(EmbeddedRunnel broker) {
            this.broker = broker;
        }

        @Override
        public void close() {
            broker.close();
        }
    }
}
