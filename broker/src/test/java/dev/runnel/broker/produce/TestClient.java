package dev.runnel.broker.produce;

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
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.file.Path;
import java.util.Properties;

/**
 * A blocking test connection speaking the protocol with OUR generated classes: requests are written, and
 * responses read, one frame at a time. Requests may be pipelined (send several, then receive).
 */
public final class TestClient implements AutoCloseable {
    public static final String CLIENT_ID = "runnel-broker-test";

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private final String clientId;
    private int nextCorrelationId = 1;

    public TestClient(int port) throws IOException {
        this(port, CLIENT_ID);
    }

    public TestClient(int port, String clientId) throws IOException {
        this.socket = new Socket("localhost", port);
        this.socket.setSoTimeout(30_000);
        this.socket.setTcpNoDelay(true);
        this.in = new DataInputStream(socket.getInputStream());
        this.out = socket.getOutputStream();
        this.clientId = clientId;
    }

    /** A broker on a free port with its data in {@code dir}; extra {@code server.properties} keys as pairs. */
    public static RunnelServer startBroker(Path dir, String... keyValues) throws IOException {
        Properties p = new Properties();
        p.setProperty("listeners", "PLAINTEXT://localhost:0");
        p.setProperty("log.dirs", dir.toString());
        for (int i = 0; i + 1 < keyValues.length; i += 2) {
            p.setProperty(keyValues[i], keyValues[i + 1]);
        }
        return RunnelServer.start(BrokerConfig.fromProperties(p));
    }

    /** Sends a request; returns its correlation id. */
    public int send(ApiMessage body, short version) throws IOException {
        ApiKeys api = ApiKeys.forId(body.apiKey());
        int correlationId = nextCorrelationId++;
        ByteBuf buf = Unpooled.buffer();
        buf.writeInt(0);
        ByteBufWritable w = new ByteBufWritable(buf);
        new RequestHeaderData()
                .setRequestApiKey(body.apiKey())
                .setRequestApiVersion(version)
                .setCorrelationId(correlationId)
                .setClientId(clientId)
                .write(w, api.requestHeaderVersion(version));
        body.write(w, version);
        buf.setInt(0, buf.readableBytes() - 4);
        byte[] bytes = new byte[buf.readableBytes()];
        buf.readBytes(bytes);
        out.write(bytes);
        out.flush();
        return correlationId;
    }

    /** Reads the next response, which must answer {@code correlationId}, as {@code api} at {@code version}. */
    @SuppressWarnings("unchecked")
    public <T extends ApiMessage> T receive(int correlationId, ApiKeys api, short version) throws IOException {
        int size = in.readInt();
        byte[] frame = new byte[size];
        in.readFully(frame);
        Readable r = new Readable(Unpooled.wrappedBuffer(frame));
        int cid = r.readInt32();
        if (cid != correlationId) {
            throw new IOException("Expected the response to " + correlationId + ", got " + cid);
        }
        if (api.responseHeaderVersion(version) >= 1) {
            int tags = r.readUnsignedVarint();
            for (int i = 0; i < tags; i++) {
                r.readUnsignedVarint();
                r.skip(r.readUnsignedVarint());
            }
        }
        ApiMessage resp = api.newResponse();
        resp.read(r, version);
        if (r.remaining() != 0) {
            throw new IOException(r.remaining() + " bytes left after the " + api.title + " v" + version + " response");
        }
        return (T) resp;
    }

    /** Sends and waits for the answer. */
    public <T extends ApiMessage> T call(ApiMessage body, short version) throws IOException {
        int cid = send(body, version);
        return receive(cid, ApiKeys.forId(body.apiKey()), version);
    }

    /** True when the broker closed the connection (read hits EOF within the socket timeout). */
    public boolean closedByBroker(int timeoutMs) throws IOException {
        socket.setSoTimeout(timeoutMs);
        try {
            return in.read() < 0;
        } catch (EOFException | java.net.SocketException e) {
            return true;
        } catch (java.net.SocketTimeoutException e) {
            return false;
        }
    }

    /** How many bytes are waiting unread (to check that no response was sent). */
    public int available() throws IOException {
        return in.available();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
