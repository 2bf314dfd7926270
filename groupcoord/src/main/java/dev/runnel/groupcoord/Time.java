package dev.runnel.groupcoord;

/**
 * The coordinator's only notion of "now". Injected, so that tests drive time by hand and a whole rebalance
 * runs in microseconds; the broker passes the wall clock.
 */
@FunctionalInterface
public interface Time {
    long milliseconds();
}
