package dev.runnel.broker.quota;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import java.util.concurrent.TimeUnit;

/**
 * Mutes a connection for a throttle time, as Kafka's broker does after a quota violation: the response goes out at
 * once with {@code throttle_time_ms} set, and nothing more is read from the connection until the time has passed.
 * Kafka (2.0+, KIP-219) does this for every request version; clients of Produce v6+ and Fetch v8+ also hold back
 * their own requests to that broker for the throttle time, older ones just find the broker not reading.
 *
 * <p>The connection's request handler asks {@link #muted} before it reads again and hears of the end of a mute through
 * the {@link #UNMUTED} user event.
 */
public final class ChannelThrottle {
    private ChannelThrottle() {
    }

    private static final AttributeKey<Long> MUTED_UNTIL = AttributeKey.valueOf("runnel.quotaMutedUntilNanos");
    /** Fired down the pipeline when a mute ends. */
    public static final Object UNMUTED = new Object() {
        @Override
        public String toString() {
            return "quota mute ended";
        }
    };

    /** Mutes {@code ch} for {@code throttleMs} from now (a longer running mute stays). */
    public static void mute(Channel ch, int throttleMs) {
        if (throttleMs <= 0) {
            return;
        }
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(throttleMs);
        ch.eventLoop().execute(() -> {
            Long current = ch.attr(MUTED_UNTIL).get();
            if (current != null && current - until >= 0) {
                return;
            }
            ch.attr(MUTED_UNTIL).set(until);
            ch.config().setAutoRead(false);
            ch.eventLoop().schedule(() -> {
                Long now = ch.attr(MUTED_UNTIL).get();
                if (now != null && now == until) {
                    ch.attr(MUTED_UNTIL).set(null);
                    ch.pipeline().fireUserEventTriggered(UNMUTED);
                }
            }, Math.max(0, until - System.nanoTime()), TimeUnit.NANOSECONDS);
        });
    }

    /** True while a quota mute holds the connection (call on its event loop). */
    public static boolean muted(Channel ch) {
        Long until = ch.attr(MUTED_UNTIL).get();
        return until != null && until - System.nanoTime() > 0;
    }
}
