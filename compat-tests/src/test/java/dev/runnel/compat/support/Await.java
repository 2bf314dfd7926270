package dev.runnel.compat.support;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Waits for something that Kafka only promises eventually (a config change or a deletion becoming
 * visible through another request) by re-checking it until it holds or a deadline passes.
 */
public final class Await {

    /** A check that fails by throwing (an AssertionError or any exception). */
    @FunctionalInterface
    public interface Check {
        void run() throws Exception;
    }

    private static final long RECHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    private Await() {
    }

    /** Re-runs {@code check} until it passes; after {@code timeout} its last failure is thrown. */
    public static void untilPasses(Duration timeout, Check check) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        int attempts = 0;
        while (true) {
            attempts++;
            try {
                check.run();
                if (attempts > 1) {
                    System.out.println("[compat] condition held after " + attempts + " checks");
                }
                return;
            } catch (Exception | AssertionError e) {
                if (System.nanoTime() - deadline > 0) {
                    e.addSuppressed(new AssertionError("still failing after " + timeout + " (" + attempts + " checks)"));
                    throw e;
                }
            }
            LockSupport.parkNanos(RECHECK_NANOS);
        }
    }
}
