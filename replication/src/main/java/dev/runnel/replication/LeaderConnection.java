package dev.runnel.replication;

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
import java.net.SocketException;

/**
 * One blocking connection to a leader broker, one request at a time (Kafka's framing: an int32 size, the request
 * header, the body; the answer likewise with the response header). Used by a single fetcher thread; only
 * {@link #close()} may be called from another thread, and it makes a blocked connect or read fail at once.
 */
final class LeaderConnection implements Closeable {
    /** Larger answers are refused as garbage (a replica fetch answer is bounded by the fetch sizes plus one batch). */
    private static final int MAX_RESPONSE_BYTES = 1 << 30;

    private final LeaderEndpoint endpoint;
    private final String clientId;
    private final int socketTimeoutMs;
    private final int receiveBufferBytes;

    private final Object socketLock = new Object();
    private Socket socket; // socketLock
    private boolean closed; // socketLock
    private DataInputStream in;
    private OutputStream out;
    private int correlationId;
    /** Reused for every answer: what {@link #send} returns is valid until the next call. */
    private byte[] receiveBuffer = new byte[64 * 1024];

    LeaderConnection(LeaderEndpoint endpoint, String clientId, int socketTimeoutMs, int receiveBufferBytes) {
        this.endpoint = endpoint;
        this.clientId = clientId;
        this.socketTimeoutMs = socketTimeoutMs;
        this.receiveBufferBytes = receiveBufferBytes;
    }

    LeaderEndpoint endpoint() {
        return endpoint;
    }

    /**
     * Sends {@code request} in {@code version} (connecting first if needed) and waits for the answer. Returns a reader
     * positioned at the response body, backed by a buffer this connection reuses: valid until the next send. On any
     * I/O error the connection is dropped (the next send reconnects) and the error is thrown.
     */
    Readable send(ApiKeys api, short version, ApiMessage request) throws IOException {
        ensureConnected();
        try {
            int correlation = ++correlationId;
            ByteBuf frame = Unpooled.buffer(256);
            frame.writeInt(0); // size, set below
            ByteBufWritable w = new ByteBufWritable(frame);
            new RequestHeaderData()
                    .setRequestApiKey(api.id)
                    .setRequestApiVersion(version)
                    .setCorrelationId(correlation)
                    .setClientId(clientId)
                    .write(w, api.requestHeaderVersion(version));
            request.write(w, version);
            frame.setInt(0, frame.readableBytes() - 4);
            out.write(frame.array(), frame.arrayOffset() + frame.readerIndex(), frame.readableBytes());
            out.flush();

            int size = in.readInt();
            if (size < 4 || size > MAX_RESPONSE_BYTES) {
                throw new IOException("Invalid response size " + size + " from leader " + endpoint.nodeId());
            }
            if (receiveBuffer.length < size) {
                receiveBuffer = new byte[Math.max(size, Math.min(MAX_RESPONSE_BYTES, receiveBuffer.length * 2))];
            }
            in.readFully(receiveBuffer, 0, size);
            Readable r = new Readable(Unpooled.wrappedBuffer(receiveBuffer, 0, size));
            int answered = r.readInt32();
            if (answered != correlation) {
                throw new IOException("Leader " + endpoint.nodeId() + " answered correlation id " + answered
                        + " to request " + correlation);
            }
            if (api.responseHeaderVersion(version) >= 1) {
                int tagged = r.readUnsignedVarint();
                for (int i = 0; i < tagged; i++) {
                    r.readUnsignedVarint();
                    r.skip(r.readUnsignedVarint());
                }
            }
            return r;
        } catch (IOException | RuntimeException e) {
            disconnect();
            throw e instanceof IOException io ? io : new IOException("Malformed response from leader " + endpoint.nodeId()
                    + ": " + e.getMessage(), e);
        }
    }

    private void ensureConnected() throws IOException {
        Socket s;
        synchronized (socketLock) {
            if (closed) {
                throw new SocketException("Connection to leader " + endpoint.nodeId() + " is closed");
            }
            if (socket != null) {
                return;
            }
            s = new Socket();
            socket = s; // visible to close() while connecting, so that close() aborts the connect
        }
        try {
            s.setTcpNoDelay(true);
            s.setKeepAlive(true);
            if (receiveBufferBytes > 0) {
                s.setReceiveBufferSize(receiveBufferBytes);
            }
            s.setSoTimeout(socketTimeoutMs);
            s.connect(new InetSocketAddress(endpoint.host(), endpoint.port()), socketTimeoutMs);
            in = new DataInputStream(new BufferedInputStream(s.getInputStream(), 64 * 1024));
            out = s.getOutputStream();
        } catch (IOException | RuntimeException e) {
            disconnect();
            throw e;
        }
    }

    /** Drops the socket; the next {@link #send} reconnects (unless closed). */
    void disconnect() {
        Socket s;
        synchronized (socketLock) {
            s = socket;
            socket = null;
        }
        closeQuietly(s);
    }

    /** Closes for good: a blocked connect or read on another thread fails at once; later sends fail. */
    @Override
    public void close() {
        Socket s;
        synchronized (socketLock) {
            closed = true;
            s = socket;
            socket = null;
        }
        closeQuietly(s);
    }

    private static void closeQuietly(Socket s) {
        if (s != null) {
            try {
                s.close();
            } catch (IOException ignored) {
                // nothing to do
            }
        }
    }
}
