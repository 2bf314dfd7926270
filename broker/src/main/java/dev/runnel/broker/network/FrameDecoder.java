package dev.runnel.broker.network;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.TooLongFrameException;
import java.util.List;

/**
 * Splits the byte stream into size-prefixed request frames. The size is checked against
 * {@code socket.request.max.bytes} before a single byte of the frame is buffered beyond what arrived.
 * <p>
 * While a frame arrives, the buffer that holds it grows with the bytes that actually came (at most doubling),
 * never past the frame's declared size, and is never a large read buffer holding a few bytes: a connection that
 * trickles in a frame, or declares a huge one and stalls (slow loris), holds memory for what it sent, not for
 * what it promised. Stalled connections are closed by the idle timer ({@code connections.max.idle.ms}).
 */
public final class FrameDecoder extends ByteToMessageDecoder {
    /** Below this, a read buffer is kept as it is even if mostly empty. */
    private static final int SMALL = 1024;

    private final int maxFrameBytes;

    public FrameDecoder(int maxFrameBytes) {
        this.maxFrameBytes = maxFrameBytes;
        setCumulator(this::cumulate);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (in.readableBytes() >= 4) {
            int size = in.getInt(in.readerIndex());
            if (size < 0 || size > maxFrameBytes) {
                in.skipBytes(in.readableBytes());
                throw new TooLongFrameException("Request frame of " + size + " bytes is larger than socket.request.max.bytes ("
                        + maxFrameBytes + ") or negative");
            }
            if (in.readableBytes() < 4 + size) {
                return;
            }
            in.skipBytes(4);
            out.add(in.readRetainedSlice(size));
        }
    }

    /** Capacity of the buffer holding a partly received frame (0 when none): what a connection costs while it waits. */
    public int bufferedCapacity() {
        ByteBuf b = internalBuffer();
        return b.isReadable() ? b.capacity() : 0;
    }

    private ByteBuf cumulate(ByteBufAllocator alloc, ByteBuf cumulation, ByteBuf in) {
        try {
            int incoming = in.readableBytes();
            if (!cumulation.isReadable()) {
                cumulation.release();
                if (in.capacity() <= Math.max(SMALL, 2 * incoming)) {
                    return in.retain();
                }
                // a large read buffer with little in it: keep only what arrived
                return alloc.buffer(incoming).writeBytes(in);
            }
            if (cumulation.refCnt() == 1 && !cumulation.isReadOnly() && cumulation.writableBytes() >= incoming) {
                return cumulation.writeBytes(in);
            }
            int needed = cumulation.readableBytes() + incoming;
            long target = Math.max(needed, Math.min(2L * cumulation.readableBytes(), Integer.MAX_VALUE));
            if (cumulation.readableBytes() >= 4) {
                long frameEnd = 4L + Math.max(0, cumulation.getInt(cumulation.readerIndex()));
                target = Math.min(target, Math.max(needed, frameEnd));
            }
            ByteBuf grown = alloc.buffer((int) target);
            grown.writeBytes(cumulation).writeBytes(in);
            cumulation.release();
            return grown;
        } finally {
            in.release();
        }
    }
}
