package dev.runnel.wire.records;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;
import net.jpountz.xxhash.XXHash32;
import net.jpountz.xxhash.XXHashFactory;

/**
 * The LZ4 frame as Kafka's clients write it inside legacy (magic 0/1) wrapper messages: independent blocks
 * of at most 64 KiB, no content size, no content checksum, optional block checksums. Magic 0 producers of
 * Kafka 0.8-0.9 computed the frame descriptor's header checksum over the magic number too (KAFKA-3160);
 * Kafka reads magic 0 frames without checking that byte and writes it the broken way for magic 0, so old
 * consumers can read what it sends them. lz4-java's own frame stream always checks it, hence this class.
 * Whole-buffer in, whole-buffer out: bounded by a cap on the decompressed size.
 */
public final class LegacyLz4 {
    static final int MAGIC = 0x184D2204;
    private static final int BLOCK_SIZE_64KB = 4;
    private static final int INCOMPRESSIBLE = 0x80000000;

    private LegacyLz4() {
    }

    /**
     * Compresses {@code data[off, off+len)} into one frame.
     *
     * @param brokenHeaderChecksum the magic 0 checksum (over magic number and descriptor)
     */
    public static byte[] compress(byte[] data, int off, int len, boolean brokenHeaderChecksum) {
        LZ4Compressor compressor = LZ4Factory.fastestInstance().fastCompressor();
        XXHash32 xx = XXHashFactory.fastestInstance().hash32();
        int maxBlock = 1 << (2 * BLOCK_SIZE_64KB + 8);
        ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(32, len / 2 + 16));
        byte[] header = new byte[7];
        writeIntLE(header, 0, MAGIC);
        header[4] = (byte) (1 << 6 | 1 << 5); // version 01, independent blocks, nothing else
        header[5] = (byte) (BLOCK_SIZE_64KB << 4);
        header[6] = brokenHeaderChecksum ? (byte) (xx.hash(header, 0, 6, 0) >> 8) : (byte) (xx.hash(header, 4, 2, 0) >> 8);
        out.write(header, 0, 7);
        byte[] compressed = new byte[compressor.maxCompressedLength(maxBlock)];
        byte[] size = new byte[4];
        for (int p = off; p < off + len; p += maxBlock) {
            int n = Math.min(maxBlock, off + len - p);
            int c = compressor.compress(data, p, n, compressed, 0, compressed.length);
            if (c >= n) {
                writeIntLE(size, 0, n | INCOMPRESSIBLE);
                out.write(size, 0, 4);
                out.write(data, p, n);
            } else {
                writeIntLE(size, 0, c);
                out.write(size, 0, 4);
                out.write(compressed, 0, c);
            }
        }
        writeIntLE(size, 0, 0);
        out.write(size, 0, 4);
        return out.toByteArray();
    }

    /**
     * Decompresses one frame from {@code in[off, off+len)}.
     *
     * @param ignoreHeaderChecksum true for magic 0 (the broken checksum is tolerated)
     * @param maxBytes             the most decompressed bytes accepted
     */
    public static byte[] decompress(byte[] in, int off, int len, boolean ignoreHeaderChecksum, long maxBytes)
            throws RecordsException {
        int end = off + len;
        if (len < 7 || readIntLE(in, off) != MAGIC) {
            throw corrupt("not an LZ4 frame (bad magic number)");
        }
        int flg = in[off + 4] & 0xFF;
        int bd = in[off + 5] & 0xFF;
        if ((flg >>> 6) != 1) {
            throw corrupt("unsupported LZ4 frame version " + (flg >>> 6));
        }
        if ((flg & 0x03) != 0 || (bd & 0x8F) != 0) {
            throw corrupt("reserved bits set in the LZ4 frame descriptor");
        }
        if ((flg & 0x20) == 0) {
            throw corrupt("dependent LZ4 blocks are not supported");
        }
        int blockSizeId = (bd >>> 4) & 7;
        if (blockSizeId < 4) {
            throw corrupt("invalid LZ4 block size id " + blockSizeId);
        }
        int maxBlock = 1 << (2 * blockSizeId + 8);
        boolean blockChecksum = (flg & 0x10) != 0;
        boolean contentSize = (flg & 0x08) != 0;
        boolean contentChecksum = (flg & 0x04) != 0;
        int descriptorEnd = off + 6 + (contentSize ? 8 : 0);
        if (descriptorEnd + 1 > end) {
            throw corrupt("truncated LZ4 frame descriptor");
        }
        XXHash32 xx = XXHashFactory.fastestInstance().hash32();
        if (!ignoreHeaderChecksum) {
            byte expected = (byte) (xx.hash(in, off + 4, descriptorEnd - off - 4, 0) >> 8);
            if (in[descriptorEnd] != expected) {
                throw corrupt("LZ4 frame descriptor checksum mismatch");
            }
        }
        int p = descriptorEnd + 1;
        LZ4SafeDecompressor decompressor = LZ4Factory.fastestInstance().safeDecompressor();
        ByteArrayOutputStream out = new ByteArrayOutputStream(Math.min(Math.max(64, len * 2), 1 << 16));
        byte[] block = null;
        while (true) {
            if (p + 4 > end) {
                throw corrupt("truncated LZ4 frame (no end mark)");
            }
            int raw = readIntLE(in, p);
            p += 4;
            if (raw == 0) {
                break;
            }
            int n = raw & ~INCOMPRESSIBLE;
            if (n > maxBlock || n > end - p) {
                throw corrupt("LZ4 block of " + n + " bytes exceeds the block size or the frame");
            }
            if (blockChecksum) {
                if (p + n + 4 > end) {
                    throw corrupt("truncated LZ4 block checksum");
                }
                if (readIntLE(in, p + n) != xx.hash(in, p, n, 0)) {
                    throw corrupt("LZ4 block checksum mismatch");
                }
            }
            if ((raw & INCOMPRESSIBLE) != 0) {
                checkCap(out.size() + (long) n, maxBytes);
                out.write(in, p, n);
            } else {
                if (block == null) {
                    block = new byte[(int) Math.min(maxBlock, Math.max(maxBytes, 0))];
                }
                int d;
                try {
                    d = decompressor.decompress(in, p, n, block, 0, block.length);
                } catch (LZ4Exception e) {
                    throw corrupt("malformed LZ4 block: " + e.getMessage());
                }
                checkCap(out.size() + (long) d, maxBytes);
                out.write(block, 0, d);
            }
            p += n + (blockChecksum ? 4 : 0);
        }
        if (contentChecksum) {
            if (p + 4 > end) {
                throw corrupt("truncated LZ4 content checksum");
            }
            byte[] all = out.toByteArray();
            if (readIntLE(in, p) != xx.hash(all, 0, all.length, 0)) {
                throw corrupt("LZ4 content checksum mismatch");
            }
            return all;
        }
        return out.toByteArray();
    }

    private static void checkCap(long size, long maxBytes) throws RecordsException {
        if (size > maxBytes) {
            throw corrupt("decompressed size exceeds the limit of " + maxBytes + " bytes");
        }
    }

    private static RecordsException corrupt(String message) {
        return new RecordsException(ErrorCodes.CORRUPT_MESSAGE, "Invalid LZ4 data in a legacy message: " + message);
    }

    private static int readIntLE(byte[] b, int p) {
        return (b[p] & 0xFF) | (b[p + 1] & 0xFF) << 8 | (b[p + 2] & 0xFF) << 16 | (b[p + 3] & 0xFF) << 24;
    }

    private static void writeIntLE(byte[] b, int p, int v) {
        b[p] = (byte) v;
        b[p + 1] = (byte) (v >>> 8);
        b[p + 2] = (byte) (v >>> 16);
        b[p + 3] = (byte) (v >>> 24);
    }
}
