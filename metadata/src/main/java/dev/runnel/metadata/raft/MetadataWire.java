package dev.runnel.metadata.raft;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;

/**
 * Encoding of the read-only queries that go through Ratis to the leader's state machine ({@code query}): controller
 * calls and observer fetches, and their answers. Every request starts with an op byte and the sender's retry deadline
 * (its own {@code System.nanoTime()} scale: only the sender's retry policy reads it).
 */
final class MetadataWire {
    static final byte OP_CONTROLLER = 1;
    static final byte OP_FETCH = 2;

    static final byte STATUS_OK = 0;
    static final byte STATUS_RETRY = 1;
    static final byte STATUS_ERROR = 2;

    static final byte FETCH_BATCHES = 1;
    static final byte FETCH_SNAPSHOT = 2;

    private static final int HEADER = 1 + 8;

    private MetadataWire() {
    }

    // ---------------------------------------------------------------- requests

    static Message controllerRequest(long retryDeadlineNanos, byte[] request) {
        final ByteBuffer b = ByteBuffer.allocate(HEADER + request.length);
        b.put(OP_CONTROLLER).putLong(retryDeadlineNanos).put(request);
        return Message.valueOf(UnsafeByteOperations.unsafeWrap(b.array()));
    }

    static Message fetchRequest(long retryDeadlineNanos, int observerId, long afterIndex, long waitMs, int maxBytes) {
        final ByteBuffer b = ByteBuffer.allocate(HEADER + 4 + 8 + 8 + 4);
        b.put(OP_FETCH).putLong(retryDeadlineNanos).putInt(observerId).putLong(afterIndex).putLong(waitMs)
                .putInt(maxBytes);
        return Message.valueOf(UnsafeByteOperations.unsafeWrap(b.array()));
    }

    /** The retry deadline of a request, or {@code Long.MIN_VALUE} when it is not one of ours. */
    static long retryDeadlineNanos(Message message) {
        final ByteString content = message == null ? null : message.getContent();
        if (content == null || content.size() < HEADER) {
            return Long.MIN_VALUE;
        }
        final byte op = content.byteAt(0);
        if (op != OP_CONTROLLER && op != OP_FETCH) {
            return Long.MIN_VALUE;
        }
        return content.substring(1, HEADER).asReadOnlyByteBuffer().getLong();
    }

    static byte op(ByteString content) {
        return content.size() < HEADER ? 0 : content.byteAt(0);
    }

    static byte[] controllerPayload(ByteString content) {
        return content.substring(HEADER).toByteArray();
    }

    record FetchRequest(int observerId, long afterIndex, long waitMs, int maxBytes) {
    }

    static FetchRequest parseFetch(ByteString content) {
        final ByteBuffer b = content.substring(HEADER).asReadOnlyByteBuffer();
        return new FetchRequest(b.getInt(), b.getLong(), b.getLong(), b.getInt());
    }

    // ---------------------------------------------------------------- controller answers

    static Message controllerOk(byte[] answer) {
        final byte[] out = new byte[1 + answer.length];
        out[0] = STATUS_OK;
        System.arraycopy(answer, 0, out, 1, answer.length);
        return Message.valueOf(UnsafeByteOperations.unsafeWrap(out));
    }

    static Message controllerRetry(String why) {
        final byte[] w = utf8(why);
        final ByteBuffer b = ByteBuffer.allocate(1 + 4 + w.length);
        b.put(STATUS_RETRY).putInt(w.length).put(w);
        return Message.valueOf(UnsafeByteOperations.unsafeWrap(b.array()));
    }

    static Message controllerError(Throwable t) {
        final byte[] c = utf8(t.getClass().getName());
        final byte[] m = utf8(String.valueOf(t.getMessage()));
        final ByteBuffer b = ByteBuffer.allocate(1 + 4 + c.length + 4 + m.length);
        b.put(STATUS_ERROR).putInt(c.length).put(c).putInt(m.length).put(m);
        return Message.valueOf(UnsafeByteOperations.unsafeWrap(b.array()));
    }

    /** A decoded controller answer: {@code answer} when OK, else {@code errorClass}/{@code message}. */
    record ControllerReply(byte status, byte[] answer, String errorClass, String message) {
    }

    static ControllerReply parseControllerReply(ByteString content) {
        if (content.isEmpty()) {
            throw new IllegalArgumentException("empty controller reply");
        }
        final byte status = content.byteAt(0);
        final ByteBuffer b = content.substring(1).asReadOnlyByteBuffer();
        switch (status) {
            case STATUS_OK: {
                final byte[] answer = new byte[b.remaining()];
                b.get(answer);
                return new ControllerReply(status, answer, null, null);
            }
            case STATUS_RETRY:
                return new ControllerReply(status, null, null, readUtf8(b));
            case STATUS_ERROR: {
                final String cls = readUtf8(b);
                return new ControllerReply(status, null, cls, readUtf8(b));
            }
            default:
                throw new IllegalArgumentException("unknown controller reply status " + status);
        }
    }

    // ---------------------------------------------------------------- fetch answers

    static Message fetchBatches(int leaderId, long term, long commitIndex, List<CommittedTail.Batch> batches) {
        int size = 1 + 4 + 8 + 8 + 4;
        for (CommittedTail.Batch batch : batches) {
            size += 8 + 8 + 4 + batch.data().length;
        }
        final ByteBuffer b = ByteBuffer.allocate(size);
        b.put(FETCH_BATCHES).putInt(leaderId).putLong(term).putLong(commitIndex).putInt(batches.size());
        for (CommittedTail.Batch batch : batches) {
            b.putLong(batch.index()).putLong(batch.term()).putInt(batch.data().length).put(batch.data());
        }
        return Message.valueOf(UnsafeByteOperations.unsafeWrap(b.array()));
    }

    static Message fetchSnapshot(int leaderId, long term, long commitIndex, long snapshotIndex, byte[] snapshot) {
        final ByteBuffer b = ByteBuffer.allocate(1 + 4 + 8 + 8 + 8 + 4 + snapshot.length);
        b.put(FETCH_SNAPSHOT).putInt(leaderId).putLong(term).putLong(commitIndex).putLong(snapshotIndex)
                .putInt(snapshot.length).put(snapshot);
        return Message.valueOf(UnsafeByteOperations.unsafeWrap(b.array()));
    }

    /** A decoded fetch answer: batches, or a snapshot at {@code snapshotIndex}. */
    record FetchReply(int leaderId, long term, long commitIndex, List<CommittedTail.Batch> batches,
                      long snapshotIndex, byte[] snapshot) {
    }

    static FetchReply parseFetchReply(ByteString content) {
        final ByteBuffer b = content.asReadOnlyByteBuffer();
        final byte kind = b.get();
        final int leaderId = b.getInt();
        final long term = b.getLong();
        final long commitIndex = b.getLong();
        if (kind == FETCH_BATCHES) {
            final int n = b.getInt();
            final List<CommittedTail.Batch> batches = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                final long index = b.getLong();
                final long batchTerm = b.getLong();
                final byte[] data = new byte[b.getInt()];
                b.get(data);
                batches.add(new CommittedTail.Batch(index, batchTerm, data));
            }
            return new FetchReply(leaderId, term, commitIndex, batches, -1, null);
        } else if (kind == FETCH_SNAPSHOT) {
            final long snapshotIndex = b.getLong();
            final byte[] data = new byte[b.getInt()];
            b.get(data);
            return new FetchReply(leaderId, term, commitIndex, List.of(), snapshotIndex, data);
        }
        throw new IllegalArgumentException("unknown fetch reply kind " + kind);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String readUtf8(ByteBuffer b) {
        final byte[] s = new byte[b.getInt()];
        b.get(s);
        return new String(s, StandardCharsets.UTF_8);
    }
}
