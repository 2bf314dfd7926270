package dev.runnel.log;

import java.nio.ByteBuffer;

/**
 * One entry of a segment's aborted-transaction index ({@code .txnindex}), in Kafka's layout: 34 bytes,
 * big-endian — version int16 (0), producer id int64, first offset int64, last offset int64 (the offset of the
 * ABORT marker), last stable offset int64 (the LSO right after the abort was appended: the first offset of the
 * earliest transaction of another producer still open then, else {@code lastOffset + 1}).
 *
 * <p>A read_committed fetch returns the entries whose transaction overlaps the fetched range, so that clients
 * drop the aborted producer's batches until its ABORT marker.
 */
public record AbortedTxn(long producerId, long firstOffset, long lastOffset, long lastStableOffset) {
    public static final short VERSION = 0;
    public static final int SIZE = 2 + 8 + 8 + 8 + 8;

    /** Writes the 34-byte entry at the buffer's position. */
    void writeTo(ByteBuffer b) {
        b.putShort(VERSION).putLong(producerId).putLong(firstOffset).putLong(lastOffset).putLong(lastStableOffset);
    }

    ByteBuffer toBytes() {
        ByteBuffer b = ByteBuffer.allocate(SIZE);
        writeTo(b);
        return b.flip();
    }

    /** Reads an entry at {@code pos}; null when its version is not 0 (not an entry we or Kafka wrote). */
    static AbortedTxn readFrom(ByteBuffer b, int pos) {
        if (b.getShort(pos) != VERSION) {
            return null;
        }
        return new AbortedTxn(b.getLong(pos + 2), b.getLong(pos + 10), b.getLong(pos + 18), b.getLong(pos + 26));
    }
}
