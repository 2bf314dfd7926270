package dev.runnel.groupcoord;

import java.util.ArrayList;
import java.util.List;

/**
 * Time and a scheduler driven by the test: nothing happens until {@link #advance} moves time, and then every task
 * that falls due runs, in deadline order, with the clock set to its deadline.
 */
public final class ManualClock implements Time, Scheduler {
    private long now;
    private long sequence;
    private final List<Task> tasks = new ArrayList<>();

    public ManualClock(long startMs) {
        this.now = startMs;
    }

    @Override
    public long milliseconds() {
        return now;
    }

    @Override
    public Cancellable schedule(long delayMs, Runnable task) {
        Task t = new Task(now + delayMs, sequence++, task);
        tasks.add(t);
        return () -> tasks.remove(t);
    }

    public void advance(long ms) {
        long target = now + ms;
        while (true) {
            Task next = null;
            for (Task t : tasks) {
                if (t.deadline <= target && (next == null || t.deadline < next.deadline
                        || (t.deadline == next.deadline && t.sequence < next.sequence))) {
                    next = t;
                }
            }
            if (next == null) {
                break;
            }
            tasks.remove(next);
            now = Math.max(now, next.deadline);
            next.runnable.run();
        }
        now = target;
    }

    public int pendingTasks() {
        return tasks.size();
    }

    private record Task(long deadline, long sequence, Runnable runnable) {
    }
}
