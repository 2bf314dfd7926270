package dev.runnel.broker.network;

import dev.runnel.broker.Broker;
import dev.runnel.wire.RequestHeader;
import io.netty.channel.Channel;
import java.net.InetSocketAddress;

/** What a handler knows about the request besides its body. */
public record RequestContext(Broker broker, RequestHeader header, Channel channel) {
    public short apiVersion() {
        return header.apiVersion();
    }

    public String clientId() {
        return header.clientId();
    }

    public String clientHost() {
        return channel.remoteAddress() instanceof InetSocketAddress a ? a.getAddress().getHostAddress() : "unknown";
    }
}
