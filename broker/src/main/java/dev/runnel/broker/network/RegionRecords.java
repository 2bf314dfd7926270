package dev.runnel.broker.network;

import dev.runnel.wire.Records;
import dev.runnel.wire.Writable;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.util.List;

/**
 * Record batches that stay in segment files until the socket takes them: a fetch response carries these,
 * and {@link ResponseWriter} turns each region into a zero-copy file transfer.
 */
public final class RegionRecords implements Records {
    public record Region(FileChannel channel, long position, int length) {
    }

    private final List<Region> regions;
    private final int size;

    public RegionRecords(List<Region> regions) {
        this.regions = List.copyOf(regions);
        int s = 0;
        for (Region r : regions) {
            s += r.length();
        }
        this.size = s;
    }

    public List<Region> regions() {
        return regions;
    }

    @Override
    public int sizeInBytes() {
        return size;
    }

    /** The copying path, for writers that cannot send file regions. */
    @Override
    public void writeTo(Writable out) {
        for (Region r : regions) {
            ByteBuf buf = Unpooled.buffer(r.length());
            try {
                buf.writeBytes(r.channel(), r.position(), r.length());
                out.writeByteBuf(buf);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } finally {
                buf.release();
            }
        }
    }
}
