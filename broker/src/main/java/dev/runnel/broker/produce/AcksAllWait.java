package dev.runnel.broker.produce;

import dev.runnel.broker.state.Partition;
import dev.runnel.wire.Errors;
import io.netty.util.HashedWheelTimer;
import io.netty.util.Timeout;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An acks=all produce waiting for its batch to be committed (Kafka's DelayedProduce): done when the partition's
 * high watermark reaches the end of the batch (NONE), when the request's timeout passes first (REQUEST_TIMED_OUT),
 * or when this node stops leading the partition (NOT_LEADER_OR_FOLLOWER; the client retries at the new leader).
 * Parked on the partition's waiters, which hear of every high-watermark move, and on the broker's timer.
 */
public final class AcksAllWait implements Partition.AppendListener {
    private final Partition partition;
    private final long requiredOffset;
    private final CompletableFuture<Errors> result = new CompletableFuture<>();
    private final AtomicBoolean done = new AtomicBoolean();
    private volatile Timeout timeout;

    private AcksAllWait(Partition partition, long requiredOffset) {
        this.partition = partition;
        this.requiredOffset = requiredOffset;
    }

    /** Completes once {@code partition}'s high watermark is at least {@code requiredOffset}, or on timeout. */
    public static CompletableFuture<Errors> start(Partition partition, long requiredOffset, long timeoutMs, HashedWheelTimer timer,
                                                  dev.runnel.broker.metrics.BrokerMetrics metrics) {
        AcksAllWait w = new AcksAllWait(partition, requiredOffset);
        metrics.produceParked();
        w.result.whenComplete((e, t) -> metrics.produceUnparked());
        partition.addListener(w);
        w.timeout = timer.newTimeout(t -> w.finish(Errors.REQUEST_TIMED_OUT), Math.max(1, timeoutMs), TimeUnit.MILLISECONDS);
        w.onAppend(partition); // the high watermark may already be there
        return w.result;
    }

    @Override
    public void onAppend(Partition p) {
        if (!p.isOnline()) {
            finish(Errors.UNKNOWN_TOPIC_OR_PARTITION);
        } else if (p.highWatermark() >= requiredOffset) {
            finish(Errors.NONE);
        } else if (!p.isLeader()) {
            finish(Errors.NOT_LEADER_OR_FOLLOWER);
        }
    }

    private void finish(Errors e) {
        if (!done.compareAndSet(false, true)) {
            return;
        }
        partition.removeListener(this);
        Timeout t = timeout;
        if (t != null) {
            t.cancel();
        }
        result.complete(e);
    }
}
