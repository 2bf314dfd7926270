package dev.runnel.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.EngineTestKit;

/**
 * The JUnit 5 extension, run through JUnit's own engine test kit on sample classes (nested here, so surefire does
 * not run them directly) with parallel execution on: what each test saw is collected and compared afterwards.
 */
class RunnelExtensionTest {
    /** Test name -> the bootstrap address it was given. */
    static final Map<String, String> SEEN = new ConcurrentHashMap<>();
    /** Test name -> the topics its broker had. */
    static final Map<String, Set<String>> TOPICS = new ConcurrentHashMap<>();
    /** Lets the two per-class samples prove they run at the same time (parallel execution really happened). */
    static volatile CountDownLatch bothRunning;

    static Set<String> topics(String bootstrap) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap, "default.api.timeout.ms", 15_000, "request.timeout.ms", 10_000))) {
            return admin.listTopics().names().get(15, TimeUnit.SECONDS);
        }
    }

    /**
     * Keeps the sample classes from running on their own (e.g. when surefire is given a pattern that matches them):
     * they run only through {@link #run}, which sets the configuration parameter this checks.
     */
    static final class OnlyThroughTheEngineTestKit implements ExecutionCondition {
        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            return context.getConfigurationParameter(SAMPLES_PARAMETER).isPresent()
                    ? ConditionEvaluationResult.enabled("run by RunnelExtensionTest")
                    : ConditionEvaluationResult.disabled("a sample that only RunnelExtensionTest runs");
        }
    }

    static final String SAMPLES_PARAMETER = "runnel.testkit.samples";

    @ExtendWith(OnlyThroughTheEngineTestKit.class)
    @RunnelBroker(topics = {"orders:2", "payments"}, properties = "auto.create.topics.enable=false")
    static class PerClassSample {
        @BootstrapServers
        static String staticBootstrap;
        @BootstrapServers
        String instanceBootstrap;
        @InjectRunnel
        EmbeddedRunnel broker;

        @BeforeAll
        static void beforeAll(@BootstrapServers String bootstrap) {
            SEEN.put("A.beforeAll", bootstrap);
        }

        @Test
        void fieldsAndParametersAgree(@BootstrapServers String param, EmbeddedRunnel runnel) throws Exception {
            assertEquals(param, staticBootstrap);
            assertEquals(param, instanceBootstrap);
            assertSame(runnel, broker);
            SEEN.put("A.one", param);
            TOPICS.put("A", topics(param));
            bothRunning.countDown();
            assertTrue(bothRunning.await(20, TimeUnit.SECONDS), "the other class never ran alongside this one");
        }

        @Test
        void secondTest(@BootstrapServers String param) throws Exception {
            SEEN.put("A.two", param);
            KafkaClients.send(param, "orders", "o1");
        }

        @Nested
        class Inner {
            @Test
            void nestedClassUsesTheOuterBroker(@BootstrapServers String param) {
                SEEN.put("A.inner", param);
            }
        }
    }

    @ExtendWith(OnlyThroughTheEngineTestKit.class)
    @RunnelBroker
    static class OtherPerClassSample {
        @Test
        void ownBroker(@BootstrapServers String param) throws Exception {
            SEEN.put("B", param);
            bothRunning.countDown();
            assertTrue(bothRunning.await(20, TimeUnit.SECONDS), "the other class never ran alongside this one");
        }
    }

    @ExtendWith(OnlyThroughTheEngineTestKit.class)
    @RunnelBroker(shared = true, topics = "shared-1")
    static class SharedSampleOne {
        @Test
        void shared(@BootstrapServers String param) {
            SEEN.put("C", param);
        }
    }

    @ExtendWith(OnlyThroughTheEngineTestKit.class)
    @RunnelBroker(shared = true, topics = "shared-2")
    static class SharedSampleTwo {
        @Test
        void shared(@BootstrapServers String param) throws Exception {
            SEEN.put("D", param);
            KafkaClients.send(param, "shared-2", "d");
        }
    }

    @ExtendWith(OnlyThroughTheEngineTestKit.class)
    @ExtendWith(RunnelExtension.class)
    static class PlainExtendWithSample {
        @Test
        void defaults(@BootstrapServers String param) {
            SEEN.put("E", param);
        }
    }

    @ExtendWith(OnlyThroughTheEngineTestKit.class)
    @RunnelBroker
    static class WrongFieldTypeSample {
        @BootstrapServers
        int bootstrap;

        @Test
        void neverRuns() {
        }
    }

    private static EngineExecutionResults run(Class<?>... classes) {
        EngineTestKit.Builder kit = EngineTestKit.engine("junit-jupiter")
                .configurationParameter(SAMPLES_PARAMETER, "true")
                .configurationParameter("junit.jupiter.execution.parallel.enabled", "true")
                .configurationParameter("junit.jupiter.execution.parallel.mode.default", "concurrent")
                .configurationParameter("junit.jupiter.execution.parallel.mode.classes.default", "concurrent")
                .configurationParameter("junit.jupiter.execution.parallel.config.strategy", "fixed")
                .configurationParameter("junit.jupiter.execution.parallel.config.fixed.parallelism", "4");
        for (Class<?> c : classes) {
            kit.selectors(selectClass(c));
        }
        return kit.execute();
    }

    @Test
    void brokerPerClassSharedPerRunInjectedEverywhereInParallel() {
        SEEN.clear();
        bothRunning = new CountDownLatch(2);
        EngineExecutionResults results = run(PerClassSample.class, OtherPerClassSample.class, SharedSampleOne.class,
                SharedSampleTwo.class, PlainExtendWithSample.class);
        assertEquals(List.of(), failures(results), "failed tests");
        results.testEvents().assertStatistics(s -> s.failed(0).aborted(0).succeeded(7));

        String a = SEEN.get("A.one");
        assertEquals(a, SEEN.get("A.beforeAll"));
        assertEquals(a, SEEN.get("A.two"));
        assertEquals(a, SEEN.get("A.inner"), "@Nested classes share the outer class's broker");
        assertEquals(Set.of("orders", "payments"), TOPICS.get("A"), "topics created up front, nothing auto-created");
        assertNotEquals(a, SEEN.get("B"), "each class has its own broker");
        assertEquals(SEEN.get("C"), SEEN.get("D"), "shared brokers are one per run");
        assertNotEquals(a, SEEN.get("C"));
        assertTrue(SEEN.get("E").startsWith("127.0.0.1:"));

        for (String key : List.of("A.one", "B", "C", "E")) {
            assertStopped(SEEN.get(key));
        }
    }

    @Test
    void aMisdeclaredFieldFailsTheClassWithAReason() {
        List<String> failures = failures(run(WrongFieldTypeSample.class));
        assertEquals(1, failures.size(), failures.toString());
        assertTrue(failures.get(0).contains("must be of type String"), failures.get(0));
    }

    /** Every failure of a test or a class, as "what: message". */
    private static List<String> failures(EngineExecutionResults results) {
        return results.allEvents().failed().stream()
                .map(e -> e.getTestDescriptor().getDisplayName() + ": " + e.getPayload(TestExecutionResult.class)
                        .flatMap(TestExecutionResult::getThrowable).map(String::valueOf).orElse("?"))
                .toList();
    }

    /** Once the class (or the run) is over its broker is gone: nothing listens on its port any more. */
    private static void assertStopped(String bootstrap) {
        int colon = bootstrap.lastIndexOf(':');
        InetSocketAddress addr = new InetSocketAddress(bootstrap.substring(0, colon), Integer.parseInt(bootstrap.substring(colon + 1)));
        assertThrows(IOException.class, () -> {
            try (Socket s = new Socket()) {
                s.connect(addr, 2_000);
            }
        }, "something still listens at " + bootstrap);
    }
}
