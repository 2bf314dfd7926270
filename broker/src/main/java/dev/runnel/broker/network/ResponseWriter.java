package dev.runnel.broker.network;

import dev.runnel.wire.Message;
import dev.runnel.wire.Records;
import dev.runnel.wire.ResponseHeader;
import dev.runnel.wire.Writable;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.FileRegion;
import io.netty.util.AbstractReferenceCounted;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.util.ArrayList;
import java.util.List;

/**
 * Encodes a response frame as a list of pieces: pooled buffers for the fields and file regions for record
 * bytes, so that fetched records go from the page cache to the socket without entering the heap.
 */
public final class ResponseWriter {
    private ResponseWriter() {
    }

    /** Returns the pieces of one size-prefixed frame, in order; the caller writes them all. */
    public static List<Object> encode(ByteBufAllocator alloc, int correlationId, short headerVersion, Message body, short version) {
        PiecesWritable out = new PiecesWritable(alloc);
        out.writeInt32(0); // frame size, patched below
        ResponseHeader.write(out, correlationId, headerVersion);
        body.write(out, version);
        List<Object> pieces = out.finish();
        long total = 0;
        for (Object p : pieces) {
            total += p instanceof ByteBuf b ? b.readableBytes() : ((FileRegion) p).count();
        }
        ((ByteBuf) pieces.get(0)).setInt(0, (int) (total - 4));
        return pieces;
    }

    private static final class PiecesWritable implements Writable {
        private final ByteBufAllocator alloc;
        private final List<Object> pieces = new ArrayList<>(2);
        private ByteBuf current;

        PiecesWritable(ByteBufAllocator alloc) {
            this.alloc = alloc;
            this.current = alloc.ioBuffer(256);
        }

        @Override
        public void writeRecords(Records records) {
            if (records instanceof RegionRecords rr) {
                pieces.add(current);
                for (RegionRecords.Region r : rr.regions()) {
                    pieces.add(new SegmentRegion(r.channel(), r.position(), r.length()));
                }
                current = alloc.ioBuffer(128);
            } else {
                records.writeTo(this);
            }
        }

        List<Object> finish() {
            pieces.add(current);
            return pieces;
        }

        @Override
        public void writeInt8(byte v) {
            current.writeByte(v);
        }

        @Override
        public void writeInt16(short v) {
            current.writeShort(v);
        }

        @Override
        public void writeInt32(int v) {
            current.writeInt(v);
        }

        @Override
        public void writeInt64(long v) {
            current.writeLong(v);
        }

        @Override
        public void writeFloat64(double v) {
            current.writeDouble(v);
        }

        @Override
        public void writeByteArray(byte[] b) {
            current.writeBytes(b);
        }

        @Override
        public void writeByteBuf(ByteBuf b) {
            current.writeBytes(b, b.readerIndex(), b.readableBytes());
        }

        @Override
        public void writeUnsignedVarint(int v) {
            while ((v & 0xffffff80) != 0) {
                current.writeByte((v & 0x7f) | 0x80);
                v >>>= 7;
            }
            current.writeByte(v);
        }
    }

    /** A region of a segment file; releasing it does not close the file, which the log owns. */
    static final class SegmentRegion extends AbstractReferenceCounted implements FileRegion {
        private final FileChannel channel;
        private final long position;
        private final long count;
        private long transferred;

        SegmentRegion(FileChannel channel, long position, long count) {
            this.channel = channel;
            this.position = position;
            this.count = count;
        }

        @Override
        public long position() {
            return position;
        }

        @Override
        @Deprecated
        public long transfered() {
            return transferred;
        }

        @Override
        public long transferred() {
            return transferred;
        }

        @Override
        public long count() {
            return count;
        }

        @Override
        public long transferTo(WritableByteChannel target, long pos) throws IOException {
            long remaining = count - pos;
            if (remaining <= 0) {
                return 0;
            }
            long n = channel.transferTo(position + pos, remaining, target);
            if (n > 0) {
                transferred += n;
            }
            return n;
        }

        @Override
        public FileRegion retain() {
            super.retain();
            return this;
        }

        @Override
        public FileRegion retain(int increment) {
            super.retain(increment);
            return this;
        }

        @Override
        public FileRegion touch() {
            return this;
        }

        @Override
        public FileRegion touch(Object hint) {
            return this;
        }

        @Override
        protected void deallocate() {
        }
    }
}
