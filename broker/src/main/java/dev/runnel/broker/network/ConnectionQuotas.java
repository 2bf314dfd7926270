package dev.runnel.broker.network;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kafka's connection limits, on the listening channel: it sees every accepted connection before the
 * connection is registered with a network thread.
 * <ul>
 *   <li>{@code max.connections.per.ip} (and {@code max.connections.per.ip.overrides}, {@code host:count,...}):
 *       a connection beyond its address's limit is closed at once, as Kafka's acceptor does;</li>
 *   <li>{@code max.connections}: at the broker-wide limit the listener stops accepting; connections the
 *       operating system has queued meanwhile wait (as in Kafka, whose acceptor blocks until a slot frees),
 *       and are taken in order as open connections close.</li>
 * </ul>
 * Counts go down when a connection closes, whatever closes it. All queueing runs on the listener's event loop.
 */
@ChannelHandler.Sharable
public final class ConnectionQuotas extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionQuotas.class);

    // Dynamic broker configs: a change applies to connections accepted from then on.
    private volatile int maxConnections;
    private volatile int maxPerIp;
    private volatile Map<InetAddress, Integer> perIpOverrides;
    private final AtomicInteger open = new AtomicInteger();
    /** Connections per address (admitted or waiting); entries go when they reach 0. Updated atomically per key. */
    private final Map<InetAddress, Integer> perIp = new ConcurrentHashMap<>();
    /** Accepted while at the broker-wide limit; touched only on the listener's event loop. */
    private final ArrayDeque<Channel> waiting = new ArrayDeque<>();
    private ChannelHandlerContext listener;
    private boolean closed;
    /** Connections are waiting or the listener stopped accepting: a closing connection must wake the listener. */
    private volatile boolean blocked;

    public ConnectionQuotas(int maxConnections, int maxPerIp, Map<InetAddress, Integer> perIpOverrides) {
        this.maxConnections = maxConnections;
        this.maxPerIp = maxPerIp;
        this.perIpOverrides = Map.copyOf(perIpOverrides);
    }

    /**
     * New limits (dynamic broker configs): they apply to connections accepted from now on; open connections stay,
     * as in Kafka. A higher {@code max.connections} lets waiting connections in at once.
     */
    public void reconfigure(int maxConnections, int maxPerIp, Map<InetAddress, Integer> perIpOverrides) {
        this.perIpOverrides = Map.copyOf(perIpOverrides);
        this.maxPerIp = maxPerIp;
        this.maxConnections = maxConnections;
        ChannelHandlerContext ctx = listener;
        if (ctx != null) {
            ctx.executor().execute(this::admitWaiting);
        }
    }

    /**
     * Parses {@code max.connections.per.ip.overrides}: comma-separated {@code host-or-ip:count} entries (host
     * names are resolved once, at start-up, as Kafka does).
     */
    public static Map<InetAddress, Integer> parseOverrides(String spec) {
        Map<InetAddress, Integer> out = new HashMap<>();
        if (spec == null || spec.isBlank()) {
            return out;
        }
        for (String entry : spec.split(",")) {
            String e = entry.trim();
            if (e.isEmpty()) {
                continue;
            }
            int colon = e.lastIndexOf(':');
            if (colon <= 0 || colon == e.length() - 1) {
                throw new IllegalArgumentException("max.connections.per.ip.overrides entry must be host:count, got '" + e + "'");
            }
            int count;
            try {
                count = Integer.parseInt(e.substring(colon + 1).trim());
            } catch (NumberFormatException ex) {
                throw new IllegalArgumentException("max.connections.per.ip.overrides: bad count in '" + e + "'");
            }
            if (count < 0) {
                throw new IllegalArgumentException("max.connections.per.ip.overrides: negative count in '" + e + "'");
            }
            String host = e.substring(0, colon).trim();
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            try {
                out.put(InetAddress.getByName(host), count);
            } catch (UnknownHostException ex) {
                throw new IllegalArgumentException("max.connections.per.ip.overrides: unknown host '" + host + "'");
            }
        }
        return out;
    }

    /** Connections open now (not counting those waiting for a slot). */
    public int openConnections() {
        return open.get();
    }

    /** Connections accepted by the operating system and waiting for a slot under {@code max.connections}. */
    public int waitingConnections() {
        return waiting.size();
    }

    private int limitFor(InetAddress address) {
        Integer o = perIpOverrides.get(address);
        return o != null ? o : maxPerIp;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.listener = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Channel child = (Channel) msg;
        InetAddress address = addressOf(child);
        if (address != null) {
            int limit = limitFor(address);
            if (perIp.merge(address, 1, Integer::sum) > limit) {
                decrement(address);
                LOG.info("Closing a new connection from {}: it already has the maximum of {} connection(s) "
                        + "(max.connections.per.ip / max.connections.per.ip.overrides)", address.getHostAddress(), limit);
                child.unsafe().closeForcibly();
                return;
            }
        }
        if (!waiting.isEmpty() || open.get() >= maxConnections) {
            waiting.add(child);
            blocked = true;
            if (ctx.channel().config().isAutoRead()) {
                LOG.warn("{} connections open (max.connections): new connections wait until one closes", open.get());
                ctx.channel().config().setAutoRead(false);
            }
            // a connection may have closed before it could see 'blocked'
            admitWaiting();
            return;
        }
        admit(ctx, child, address);
    }

    private void admit(ChannelHandlerContext ctx, Channel child, InetAddress address) {
        open.incrementAndGet();
        child.closeFuture().addListener(f -> released(address));
        ctx.fireChannelRead(child);
    }

    private void decrement(InetAddress address) {
        if (address != null) {
            perIp.computeIfPresent(address, (a, c) -> c <= 1 ? null : c - 1);
        }
    }

    private void released(InetAddress address) {
        decrement(address);
        open.decrementAndGet();
        ChannelHandlerContext ctx = listener;
        if (ctx != null && blocked) {
            ctx.executor().execute(this::admitWaiting);
        }
    }

    private void admitWaiting() {
        ChannelHandlerContext ctx = listener;
        while (!waiting.isEmpty() && open.get() < maxConnections) {
            Channel child = waiting.poll();
            if (closed || !child.isOpen()) {
                releaseUnadmitted(child);
                continue;
            }
            admit(ctx, child, addressOf(child));
        }
        if (waiting.isEmpty() && open.get() < maxConnections && !closed) {
            blocked = false;
            if (!ctx.channel().config().isAutoRead()) {
                ctx.channel().config().setAutoRead(true);
                ctx.read();
            }
        }
    }

    private void releaseUnadmitted(Channel child) {
        decrement(addressOf(child));
        child.unsafe().closeForcibly();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        closed = true;
        while (!waiting.isEmpty()) {
            releaseUnadmitted(waiting.poll());
        }
        super.channelInactive(ctx);
    }

    private static InetAddress addressOf(Channel child) {
        return child.remoteAddress() instanceof InetSocketAddress isa ? isa.getAddress() : null;
    }
}
