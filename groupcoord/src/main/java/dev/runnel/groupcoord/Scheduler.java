package dev.runnel.groupcoord;

/**
 * Runs a task once after a delay. The coordinator never starts threads; the broker backs this with its timer,
 * tests with a manual clock that fires due tasks when time is advanced.
 */
@FunctionalInterface
public interface Scheduler {
    /** Runs {@code task} once, {@code delayMs} from now (on any thread). */
    Cancellable schedule(long delayMs, Runnable task);

    /** A scheduled task that may be cancelled before it runs; cancelling after it ran is harmless. */
    @FunctionalInterface
    interface Cancellable {
        void cancel();
    }
}
