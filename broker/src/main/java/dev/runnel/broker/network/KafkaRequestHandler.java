package dev.runnel.broker.network;

import dev.runnel.broker.Broker;
import dev.runnel.broker.handlers.ApiHandler;
import dev.runnel.broker.handlers.ApiVersionsHandler;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.Errors;
import dev.runnel.wire.MalformedMessageException;
import dev.runnel.wire.Readable;
import dev.runnel.wire.RequestHeader;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.ApiVersionsResponseData;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.AttributeKey;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One per connection: reads request frames, dispatches them to their {@link ApiHandler}, and sends the
 * responses in request order even when handlers complete out of order (clients pipeline requests).
 * All state here is touched only on the connection's event loop.
 * <p>
 * Back-pressure: the connection stops reading while {@value #MAX_PENDING} requests wait for their responses or
 * while the responses already written have not left (the outbound buffer is above its high-water mark), so a
 * client that pipelines without reading cannot make the broker buffer without bound. An idle event
 * ({@code connections.max.idle.ms}) closes the connection unless a request is still being worked on (a parked
 * fetch or a group join may legitimately wait longer).
 */
public final class KafkaRequestHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaRequestHandler.class);

    /** Requests a connection may have waiting for responses before it stops being read. */
    static final int MAX_PENDING = 64;

    /**
     * How to answer the long-poll fetch parked on this connection early, set by the fetch while it waits.
     * Responses go out in request order, so a fetch arriving behind a parked fetch would wait up to the first
     * one's max_wait_ms. Clients keep one fetch in flight per connection, except a stock Java consumer's
     * close: its final fetch (closing the fetch session) queues behind the long poll, and close() took
     * fetch.max.wait.ms (500 ms) on every consumer. A newer fetch therefore answers the parked one at once
     * with what it has, as if its wait had run out. Other requests behind a parked fetch wait, as in Kafka.
     */
    public static final AttributeKey<Runnable> PARKED_FETCH = AttributeKey.valueOf("runnel.parkedFetch");

    private final Broker broker;
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    private ChannelHandlerContext ctx;

    public KafkaRequestHandler(Broker broker) {
        this.broker = broker;
    }

    private static final class Pending {
        final RequestHeader header;
        final short responseVersion;
        final long receivedNanos;
        boolean done;
        ApiMessage response;

        Pending(RequestHeader header, short responseVersion, long receivedNanos) {
            this.header = header;
            this.responseVersion = responseVersion;
            this.receivedNanos = receivedNanos;
        }
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        broker.metrics().connectionOpened();
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        broker.metrics().connectionClosed();
        ctx.fireChannelInactive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame = (ByteBuf) msg;
        try {
            handleFrame(frame);
        } finally {
            frame.release();
        }
    }

    private void handleFrame(ByteBuf frame) {
        long receivedNanos = System.nanoTime();
        Readable in = new Readable(frame);
        RequestHeader header;
        try {
            header = RequestHeader.read(in);
        } catch (MalformedMessageException e) {
            close("unreadable request header: " + e.getMessage());
            return;
        }
        ApiKeys api = header.api();
        ApiHandler handler = api == null ? null : broker.handlers().get(api);
        if (handler == null) {
            close("unknown or unsupported API key " + header.apiKey());
            return;
        }
        short version = header.apiVersion();
        if (version < handler.lowestVersion() || version > handler.highestVersion()) {
            if (api == ApiKeys.API_VERSIONS) {
                // Answer in v0 with the supported list so that the client can retry with a version we know.
                ApiVersionsResponseData resp = ApiVersionsHandler.build(broker);
                resp.errorCode = Errors.UNSUPPORTED_VERSION.code();
                Pending p = new Pending(header, (short) 0, receivedNanos);
                p.done = true;
                p.response = resp;
                pending.add(p);
                drain();
                return;
            }
            close("unsupported version " + version + " of " + api.title);
            return;
        }
        ApiMessage request = api.newRequest();
        try {
            request.read(in, version);
        } catch (MalformedMessageException e) {
            close("malformed " + api.title + " v" + version + " request: " + e.getMessage());
            return;
        }
        if (api == ApiKeys.FETCH && !pending.isEmpty()) {
            Runnable parked = ctx.channel().attr(PARKED_FETCH).getAndSet(null);
            if (parked != null) {
                parked.run();
            }
        }
        Pending p = new Pending(header, version, receivedNanos);
        pending.add(p);
        updateReadInterest();
        CompletableFuture<ApiMessage> future;
        try {
            future = handler.handle(new RequestContext(broker, header, ctx.channel()), request);
        } catch (RuntimeException e) {
            LOG.error("{} v{} handler failed; closing the connection", api.title, version, e);
            ctx.close();
            return;
        }
        future.whenComplete((resp, err) -> {
            if (ctx.executor().inEventLoop()) {
                complete(p, resp, err);
            } else {
                ctx.executor().execute(() -> complete(p, resp, err));
            }
        });
    }

    private void complete(Pending p, ApiMessage resp, Throwable err) {
        if (err != null) {
            LOG.error("{} v{} failed; closing the connection", p.header.api().title, p.responseVersion, err);
            ctx.close();
            return;
        }
        p.done = true;
        p.response = resp;
        drain();
    }

    private void drain() {
        boolean wrote = false;
        while (!pending.isEmpty() && pending.peekFirst().done) {
            Pending p = pending.pollFirst();
            broker.metrics().requestCompleted(p.header.api(), System.nanoTime() - p.receivedNanos);
            if (p.response == null) {
                continue; // acks=0: no response at all
            }
            short headerVersion = p.header.api().responseHeaderVersion(p.responseVersion);
            List<Object> pieces = ResponseWriter.encode(ctx.alloc(), p.header.correlationId(), headerVersion, p.response, p.responseVersion);
            for (Object piece : pieces) {
                ctx.write(piece, ctx.voidPromise());
            }
            wrote = true;
        }
        if (wrote) {
            ctx.flush();
        }
        updateReadInterest();
    }

    private void updateReadInterest() {
        boolean read = pending.size() < MAX_PENDING && ctx.channel().isWritable()
                && !dev.runnel.broker.quota.ChannelThrottle.muted(ctx.channel());
        if (ctx.channel().config().isAutoRead() != read) {
            ctx.channel().config().setAutoRead(read);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        updateReadInterest();
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == dev.runnel.broker.quota.ChannelThrottle.UNMUTED) {
            updateReadInterest();
            return;
        }
        if (evt instanceof IdleStateEvent) {
            if (pending.isEmpty() || !ctx.channel().isWritable()) {
                LOG.debug("Closing connection from {}: idle for connections.max.idle.ms", ctx.channel().remoteAddress());
                ctx.close();
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    private void close(String why) {
        LOG.debug("Closing connection from {}: {}", ctx.channel().remoteAddress(), why);
        ctx.close();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof TooLongFrameException) {
            LOG.info("Closing connection from {}: {}", ctx.channel().remoteAddress(), cause.getMessage());
        } else if (!(cause instanceof java.io.IOException)) {
            LOG.warn("Closing connection from {} after an error", ctx.channel().remoteAddress(), cause);
        }
        ctx.close();
    }
}
