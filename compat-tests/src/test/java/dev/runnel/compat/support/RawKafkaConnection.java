package dev.runnel.compat.support;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.message.ResponseHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Message;
import org.apache.kafka.common.protocol.ObjectSerializationCache;

/**
 * One plain TCP connection to the broker, for tests that must control the bytes: frames are
 * written by hand, message bodies are serialized with kafka-clients' own generated message classes
 * (so the bytes are Kafka's, not ours), and responses are read back frame by frame.
 */
public final class RawKafkaConnection implements AutoCloseable {

    public static final String CLIENT_ID = "runnel-compat-raw";

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private int nextCorrelationId = 1;

    private RawKafkaConnection(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new DataInputStream(socket.getInputStream());
        this.out = socket.getOutputStream();
    }

    /** Connects; every later read gives up after {@code readTimeout}. */
    public static RawKafkaConnection open(Broker broker, Duration readTimeout) throws IOException {
        Socket socket = new Socket(broker.host(), broker.port());
        socket.setSoTimeout((int) readTimeout.toMillis());
        socket.setTcpNoDelay(true);
        return new RawKafkaConnection(socket);
    }

    /** Connects to {@code host:port}; every later read gives up after {@code readTimeout}. */
    public static RawKafkaConnection open(String host, int port, Duration readTimeout) throws IOException {
        Socket socket = new Socket(host, port);
        socket.setSoTimeout((int) readTimeout.toMillis());
        socket.setTcpNoDelay(true);
        return new RawKafkaConnection(socket);
    }

    /** Serializes a message at a version with kafka-clients' generated code. */
    public static ByteBuffer serialize(Message message, short version) {
        ObjectSerializationCache cache = new ObjectSerializationCache();
        ByteBuffer buffer = ByteBuffer.allocate(message.size(cache, version));
        message.write(new ByteBufferAccessor(buffer), cache, version);
        buffer.flip();
        return buffer;
    }

    /** A request header as bytes; header v1 for classic versions, v2 for flexible ones. */
    public static ByteBuffer header(short apiKey, short apiVersion, int correlationId, short headerVersion) {
        RequestHeaderData header = new RequestHeaderData()
                .setRequestApiKey(apiKey)
                .setRequestApiVersion(apiVersion)
                .setCorrelationId(correlationId)
                .setClientId(CLIENT_ID);
        return serialize(header, headerVersion);
    }

    public int nextCorrelationId() {
        return nextCorrelationId++;
    }

    /** Writes bytes exactly as given (no length prefix added). */
    public void writeRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** Writes a size-prefixed frame made of the given parts. */
    public void writeFrame(ByteBuffer... parts) throws IOException {
        int size = 0;
        for (ByteBuffer part : parts) {
            size += part.remaining();
        }
        ByteBuffer frame = ByteBuffer.allocate(4 + size).putInt(size);
        for (ByteBuffer part : parts) {
            frame.put(part.duplicate());
        }
        writeRaw(frame.array());
    }

    /**
     * Sends {@code body} as a request of its api at {@code version}, with the header version Kafka
     * uses for that api and version; returns the correlation id used.
     */
    public int send(ApiMessage body, short version) throws IOException {
        ApiKeys api = ApiKeys.forId(body.apiKey());
        int correlationId = nextCorrelationId();
        writeFrame(header(body.apiKey(), version, correlationId, api.requestHeaderVersion(version)),
                serialize(body, version));
        return correlationId;
    }

    /** Reads one response frame and returns its whole content (header included). */
    public ByteBuffer readFrame() throws IOException {
        int size = in.readInt();
        if (size < 0 || size > 64 * 1024 * 1024) {
            throw new IOException("implausible response frame size " + size);
        }
        byte[] frame = new byte[size];
        in.readFully(frame);
        return ByteBuffer.wrap(frame);
    }

    /**
     * Reads one response frame, checks its correlation id and returns the buffer positioned at the
     * start of the response body.
     */
    public ByteBuffer receive(int correlationId, short responseHeaderVersion) throws IOException {
        ByteBuffer frame = readFrame();
        ResponseHeaderData header = new ResponseHeaderData(new ByteBufferAccessor(frame), responseHeaderVersion);
        if (header.correlationId() != correlationId) {
            throw new IOException("expected correlation id " + correlationId + " but got " + header.correlationId());
        }
        return frame;
    }

    /** Reads the response to a request sent with {@link #send}, with Kafka's response header version. */
    public ByteBuffer receive(int correlationId, ApiKeys api, short version) throws IOException {
        return receive(correlationId, api.responseHeaderVersion(version));
    }

    /**
     * Waits until the broker closes this connection: true if it did (end of stream or reset) before
     * the read timeout, false if the connection was still open when the timeout passed. Any bytes
     * the broker sends meanwhile are returned in {@code received} (may be null).
     */
    public boolean awaitClosedByBroker(java.io.ByteArrayOutputStream received) throws IOException {
        byte[] buffer = new byte[4096];
        try {
            while (true) {
                int n = in.read(buffer);
                if (n < 0) {
                    return true;
                }
                if (received != null) {
                    received.write(buffer, 0, n);
                }
            }
        } catch (SocketTimeoutException e) {
            return false;
        } catch (EOFException e) {
            return true;
        } catch (SocketException e) {
            // "Connection reset": the broker closed with unread data pending.
            return true;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
