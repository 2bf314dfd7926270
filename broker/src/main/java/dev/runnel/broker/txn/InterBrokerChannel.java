package dev.runnel.broker.txn;

import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.ByteBufWritable;
import dev.runnel.wire.Readable;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.RequestHeaderData;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;

/**
 * One blocking connection to another broker for the coordinator's requests (WriteTxnMarkers), one request at a time,
 * in Kafka's framing. Any I/O error drops the connection; the next request reconnects.
 */
final class InterBrokerChannel implements Closeable {
    private static final int MAX_RESPONSE_BYTES = 16 << 20;

    private final String host;
    private final int port;
    private final int timeoutMs;
    private Socket socket;
    private DataInputStream in;
    private OutputStream out;
    private int correlationId;

    InterBrokerChannel(String host, int port, int timeoutMs) {
        this.host = host;
        this.port = port;
        this.timeoutMs = timeoutMs;
    }

    synchronized <T extends ApiMessage> T send(ApiKeys api, short version, ApiMessage request, T response) throws IOException {
        try {
            if (socket == null) {
                Socket s = new Socket();
                s.setTcpNoDelay(true);
                s.setSoTimeout(timeoutMs);
                s.connect(new InetSocketAddress(host, port), timeoutMs);
                socket = s;
                in = new DataInputStream(new BufferedInputStream(s.getInputStream()));
                out = s.getOutputStream();
            }
            int correlation = ++correlationId;
            ByteBuf frame = Unpooled.buffer(256);
            frame.writeInt(0);
            ByteBufWritable w = new ByteBufWritable(frame);
            new RequestHeaderData().setRequestApiKey(api.id).setRequestApiVersion(version).setCorrelationId(correlation)
                    .setClientId("runnel-txn-coordinator").write(w, api.requestHeaderVersion(version));
            request.write(w, version);
            frame.setInt(0, frame.readableBytes() - 4);
            out.write(frame.array(), frame.arrayOffset() + frame.readerIndex(), frame.readableBytes());
            out.flush();
            int size = in.readInt();
            if (size < 4 || size > MAX_RESPONSE_BYTES) {
                throw new IOException("Invalid response size " + size + " from " + host + ":" + port);
            }
            byte[] bytes = new byte[size];
            in.readFully(bytes);
            Readable r = new Readable(Unpooled.wrappedBuffer(bytes));
            if (r.readInt32() != correlation) {
                throw new IOException("Unexpected correlation id from " + host + ":" + port);
            }
            if (api.responseHeaderVersion(version) >= 1) {
                int tagged = r.readUnsignedVarint();
                for (int i = 0; i < tagged; i++) {
                    r.readUnsignedVarint();
                    r.skip(r.readUnsignedVarint());
                }
            }
            response.read(r, version);
            return response;
        } catch (IOException | RuntimeException e) {
            close();
            throw e instanceof IOException io ? io : new IOException("Malformed response from " + host + ":" + port, e);
        }
    }

    @Override
    public synchronized void close() {
        if (socket != null) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing anyway
            }
            socket = null;
        }
    }
}
