package dev.runnel.broker.cluster;

import dev.runnel.metadata.controller.QuorumController;
import dev.runnel.metadata.image.BrokerRegistration;
import dev.runnel.metadata.image.MetadataImage;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runnel's addition to Kafka's broker sessions, on the active controller: every
 * {@code runnel.controller.liveness.probe.interval.ms} (default 250; 0 turns it off) it opens and closes a TCP
 * connection to each unfenced broker's inter-broker listener. A connection that is <em>refused</em> twice in a row
 * means no process listens there any more (a crash, a kill -9), so the broker is fenced at once, and the partitions it
 * led get new leaders, instead of after {@code broker.session.timeout.ms}. Anything else (a timeout, an unreachable
 * network, a paused process, whose kernel still accepts) proves nothing and leaves the decision to the session
 * timeout, as in Kafka. A fenced broker that is alive unfences with its next heartbeat.
 */
final class BrokerLivenessProbe implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BrokerLivenessProbe.class);
    static final String CONFIG = "runnel.controller.liveness.probe.interval.ms";
    static final long DEFAULT_INTERVAL_MS = 250;
    /** Refusals in a row before the broker is reported. */
    static final int REFUSALS = 2;

    private final int self;
    private final QuorumController controller;
    private final Supplier<MetadataImage> image;
    private final Function<BrokerRegistration, BrokerRegistration.Endpoint> endpoint;
    private final long intervalMs;
    private final ScheduledExecutorService thread;
    /** broker id -> {epoch, refusals in a row}; probe thread only. */
    private final Map<Integer, long[]> refusals = new HashMap<>();

    BrokerLivenessProbe(int self, QuorumController controller, Supplier<MetadataImage> image,
                        Function<BrokerRegistration, BrokerRegistration.Endpoint> endpoint, long intervalMs) {
        this.self = self;
        this.controller = controller;
        this.image = image;
        this.endpoint = endpoint;
        this.intervalMs = intervalMs;
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "runnel-liveness-probe");
            t.setDaemon(true);
            return t;
        });
        thread.scheduleWithFixedDelay(this::probeAll, intervalMs, intervalMs, TimeUnit.MILLISECONDS);
    }

    private void probeAll() {
        try {
            if (!controller.isActive()) {
                refusals.clear();
                return;
            }
            MetadataImage img = image.get();
            refusals.keySet().removeIf(id -> img.broker(id) == null);
            for (BrokerRegistration b : img.brokers().values()) {
                if (b.id() == self || b.fenced()) {
                    refusals.remove(b.id());
                    continue;
                }
                BrokerRegistration.Endpoint e = endpoint.apply(b);
                if (e == null) {
                    continue;
                }
                long[] r = refusals.computeIfAbsent(b.id(), id -> new long[2]);
                if (r[0] != b.epoch()) {
                    r[0] = b.epoch();
                    r[1] = 0;
                }
                if (refused(e)) {
                    if (++r[1] >= REFUSALS) {
                        LOG.info("Broker {} (epoch {}) refuses connections on {}:{} ({} times in a row): its process is "
                                + "gone; asking the controller to fence it now", b.id(), b.epoch(), e.host(), e.port(), r[1]);
                        controller.brokerUnreachable(b.id(), b.epoch());
                        r[1] = 0;
                    }
                } else {
                    r[1] = 0;
                }
            }
        } catch (RuntimeException e) {
            LOG.warn("Liveness probe failed: {}", e.toString());
        }
    }

    /** Whether a connection to the endpoint is refused (and only that: a timeout or any other failure is not). */
    private boolean refused(BrokerRegistration.Endpoint e) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(e.host(), e.port()), (int) Math.max(50, intervalMs));
            return false;
        } catch (ConnectException ce) {
            String m = ce.getMessage();
            return m != null && m.toLowerCase(java.util.Locale.ROOT).contains("refused");
        } catch (IOException | RuntimeException other) {
            return false;
        }
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
