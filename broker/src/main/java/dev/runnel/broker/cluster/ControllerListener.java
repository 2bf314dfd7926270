package dev.runnel.broker.cluster;

import dev.runnel.broker.network.FrameDecoder;
import dev.runnel.broker.network.KafkaRequestHandler;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * The CONTROLLER listener ({@code controller.quorum.voters}' address of this node). Two protocols arrive on it:
 * the metadata quorum's own Raft traffic (gRPC over HTTP/2, from the other voters and from observers) and Kafka's
 * protocol from tools run with {@code --bootstrap-controller} ({@code kafka-metadata-quorum}, the admin client's
 * {@code bootstrap.controllers}). A connection's first byte tells them apart: an HTTP/2 connection starts with the
 * preface {@code "PRI * HTTP/2.0"}, a Kafka request with the high byte of a frame size bounded by
 * {@code socket.request.max.bytes} (never {@code 'P'}, 0x50, unless that limit exceeded 1.3 GB). Raft connections
 * are relayed byte for byte to the Raft server, which listens on a loopback port of its own; Kafka requests are
 * served by the controller's handlers (ApiVersions, DescribeCluster for controller endpoints, DescribeQuorum).
 */
public final class ControllerListener implements AutoCloseable {
    private static final byte HTTP2_PREFACE_FIRST = 'P';

    private final Channel server;

    private ControllerListener(Channel server) {
        this.server = server;
    }

    public static ControllerListener start(InetSocketAddress bind, InetSocketAddress raftBackend, dev.runnel.broker.Broker kafkaSide,
                                           int maxFrameBytes, EventLoopGroup boss, EventLoopGroup workers) {
        ServerBootstrap b = new ServerBootstrap()
                .group(boss, workers)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel c) {
                        c.pipeline().addLast("sniff", new Sniffer(raftBackend, kafkaSide, maxFrameBytes));
                    }
                });
        Channel ch = b.bind(bind).syncUninterruptibly().channel();
        return new ControllerListener(ch);
    }

    public int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
    }

    /** Looks at the first byte of a connection and installs the Raft relay or the Kafka pipeline. */
    private static final class Sniffer extends ChannelInboundHandlerAdapter {
        private final InetSocketAddress raftBackend;
        private final dev.runnel.broker.Broker kafkaSide;
        private final int maxFrameBytes;

        Sniffer(InetSocketAddress raftBackend, dev.runnel.broker.Broker kafkaSide, int maxFrameBytes) {
            this.raftBackend = raftBackend;
            this.kafkaSide = kafkaSide;
            this.maxFrameBytes = maxFrameBytes;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            if (!buf.isReadable()) {
                buf.release();
                return;
            }
            if (buf.getByte(buf.readerIndex()) == HTTP2_PREFACE_FIRST) {
                ctx.pipeline().replace(this, "relay", new Relay(raftBackend, buf));
            } else {
                ctx.pipeline().addAfter(ctx.name(), "frames", new FrameDecoder(maxFrameBytes));
                ctx.pipeline().addAfter("frames", "requests", new KafkaRequestHandler(kafkaSide));
                // The handlers behind this one missed channelActive: tell them now, before the first bytes.
                ctx.fireChannelActive();
                ctx.fireChannelRead(buf);
                ctx.pipeline().remove(this);
            }
        }
    }

    /** Relays a connection to the Raft server: bytes pass unchanged both ways; either side closing closes both. */
    private static final class Relay extends ChannelInboundHandlerAdapter {
        private final InetSocketAddress backendAddress;
        private final List<Object> pending = new ArrayList<>();
        private Channel backend;

        Relay(InetSocketAddress backendAddress, ByteBuf first) {
            this.backendAddress = backendAddress;
            pending.add(first);
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            Channel inbound = ctx.channel();
            inbound.config().setAutoRead(false);
            Bootstrap b = new Bootstrap().group(inbound.eventLoop()).channel(NioSocketChannel.class)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .handler(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext bctx, Object msg) {
                            inbound.writeAndFlush(msg);
                        }

                        @Override
                        public void channelInactive(ChannelHandlerContext bctx) {
                            closeOnFlush(inbound);
                        }

                        @Override
                        public void exceptionCaught(ChannelHandlerContext bctx, Throwable cause) {
                            closeOnFlush(bctx.channel());
                        }
                    });
            b.connect(backendAddress).addListener((ChannelFutureListener) f -> {
                if (!f.isSuccess()) {
                    releasePending();
                    inbound.close();
                    return;
                }
                backend = f.channel();
                for (Object m : pending) {
                    backend.write(m);
                }
                pending.clear();
                backend.flush();
                inbound.config().setAutoRead(true);
            });
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (backend != null) {
                backend.writeAndFlush(msg);
            } else {
                pending.add(msg);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            releasePending();
            if (backend != null) {
                closeOnFlush(backend);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            closeOnFlush(ctx.channel());
        }

        private void releasePending() {
            for (Object m : pending) {
                ReferenceCountUtil.release(m);
            }
            pending.clear();
        }

        private static void closeOnFlush(Channel ch) {
            if (ch.isActive()) {
                ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            }
        }
    }
}
