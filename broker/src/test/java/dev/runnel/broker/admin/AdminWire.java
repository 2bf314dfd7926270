package dev.runnel.broker.admin;

import dev.runnel.broker.BrokerConfig;
import dev.runnel.broker.RunnelServer;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.ByteBufWritable;
import dev.runnel.wire.Readable;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.RequestHeaderData;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;
import java.util.Properties;

/**
 * One blocking connection to a test broker that writes requests and reads responses with Runnel's generated
 * message classes, one round trip at a time.
 */
final class AdminWire implements AutoCloseable {
    private final Socket socket;
    private final DataInputStream in;
    private final DataOutputStream out;
    private int correlationId;

    AdminWire(RunnelServer server) throws IOException {
        socket = new Socket("127.0.0.1", server.port());
        socket.setSoTimeout(30_000);
        socket.setTcpNoDelay(true);
        in = new DataInputStream(socket.getInputStream());
        out = new DataOutputStream(socket.getOutputStream());
    }

    /** A broker on 127.0.0.1 with a free port and its data in {@code dir}; more server.properties keys as pairs. */
    static RunnelServer start(Path dir, String... keyValues) throws IOException {
        Properties p = new Properties();
        p.setProperty("node.id", "1");
        p.setProperty("listeners", "PLAINTEXT://127.0.0.1:0");
        p.setProperty("log.dirs", dir.toString());
        for (int i = 0; i + 1 < keyValues.length; i += 2) {
            p.setProperty(keyValues[i], keyValues[i + 1]);
        }
        return RunnelServer.start(BrokerConfig.fromProperties(p));
    }

    /** Sends {@code request} at {@code version} and returns the decoded response. */
    @SuppressWarnings("unchecked")
    <T extends ApiMessage> T call(ApiMessage request, int version) throws IOException {
        short v = (short) version;
        ApiKeys api = ApiKeys.forId(request.apiKey());
        int id = ++correlationId;
        ByteBuf buf = Unpooled.buffer();
        ByteBufWritable w = new ByteBufWritable(buf);
        new RequestHeaderData()
                .setRequestApiKey(request.apiKey())
                .setRequestApiVersion(v)
                .setCorrelationId(id)
                .setClientId("runnel-admin-test")
                .write(w, api.requestHeaderVersion(v));
        request.write(w, v);
        byte[] body = new byte[buf.readableBytes()];
        buf.readBytes(body);
        out.writeInt(body.length);
        out.write(body);
        out.flush();

        byte[] frame = new byte[in.readInt()];
        in.readFully(frame);
        Readable r = new Readable(Unpooled.wrappedBuffer(frame));
        int answered = r.readInt32();
        if (answered != id) {
            throw new IOException("response to correlation id " + answered + ", expected " + id);
        }
        if (api.responseHeaderVersion(v) >= 1) {
            int tags = r.readUnsignedVarint();
            for (int i = 0; i < tags; i++) {
                r.readUnsignedVarint();
                r.skip(r.readUnsignedVarint());
            }
        }
        ApiMessage response = api.newResponse();
        response.read(r, v);
        if (r.remaining() != 0) {
            throw new IOException(r.remaining() + " bytes left over in the " + api.title + " v" + v + " response");
        }
        return (T) response;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
