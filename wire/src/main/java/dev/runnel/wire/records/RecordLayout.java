package dev.runnel.wire.records;

import java.nio.ByteBuffer;

/**
 * Allocation-free structural check of the records of an uncompressed v2 batch:
 * <pre>
 * length varint | attributes int8 | timestampDelta varlong | offsetDelta varint |
 * keyLength varint | key | valueLength varint | value | headerCount varint |
 * (headerKeyLength varint | headerKey | headerValueLength varint | headerValue)*
 * </pre>
 * Every length is bounded by the bytes that remain before it is used.
 */
final class RecordLayout {
    private RecordLayout() {
    }

    /**
     * @return null if exactly {@code count} well-formed records fill {@code [start, end)}, otherwise
     *         a description of the first problem
     */
    static String check(ByteBuffer buf, int start, int end, int count) {
        int p = start;
        for (int i = 0; i < count; i++) {
            if (p >= end) {
                return "Incorrect declared batch size, premature EOF reached after " + i + " of " + count + " records";
            }
            // record length
            long v = readVarint(buf, p, end);
            if (v == BAD) {
                return "Invalid varint for the size of record " + i;
            }
            int bodySize = value(v);
            p = next(v);
            if (bodySize < 0 || bodySize > end - p) {
                return "Invalid record size " + bodySize + " for record " + i + " (" + (end - p) + " bytes remain)";
            }
            int bodyEnd = p + bodySize;
            // attributes
            if (p + 1 > bodyEnd) {
                return "Record " + i + " is too short";
            }
            p += 1;
            // timestamp delta (varlong)
            p = skipVarlong(buf, p, bodyEnd);
            if (p < 0) {
                return "Invalid timestamp delta in record " + i;
            }
            // offset delta
            v = readVarint(buf, p, bodyEnd);
            if (v == BAD) {
                return "Invalid offset delta in record " + i;
            }
            p = next(v);
            // key, value
            for (int part = 0; part < 2; part++) {
                v = readVarint(buf, p, bodyEnd);
                if (v == BAD) {
                    return "Invalid " + (part == 0 ? "key" : "value") + " size in record " + i;
                }
                int len = value(v);
                p = next(v);
                if (len < -1 || (len > 0 && len > bodyEnd - p)) {
                    return "Invalid " + (part == 0 ? "key" : "value") + " size " + len + " in record " + i;
                }
                if (len > 0) {
                    p += len;
                }
            }
            // headers
            v = readVarint(buf, p, bodyEnd);
            if (v == BAD) {
                return "Invalid header count in record " + i;
            }
            int headers = value(v);
            p = next(v);
            if (headers < 0 || headers > bodyEnd - p) {
                return "Found invalid number of record headers " + headers + " in record " + i;
            }
            for (int h = 0; h < headers; h++) {
                v = readVarint(buf, p, bodyEnd);
                if (v == BAD) {
                    return "Invalid header key size in record " + i;
                }
                int klen = value(v);
                p = next(v);
                if (klen < 0 || klen > bodyEnd - p) {
                    return "Invalid header key size " + klen + " in record " + i;
                }
                p += klen;
                v = readVarint(buf, p, bodyEnd);
                if (v == BAD) {
                    return "Invalid header value size in record " + i;
                }
                int vlen = value(v);
                p = next(v);
                if (vlen < -1 || (vlen > 0 && vlen > bodyEnd - p)) {
                    return "Invalid header value size " + vlen + " in record " + i;
                }
                if (vlen > 0) {
                    p += vlen;
                }
            }
            if (p != bodyEnd) {
                return "Invalid record size: expected to read " + bodySize + " bytes in record " + i
                        + " but read " + (bodySize - (bodyEnd - p));
            }
        }
        if (p != end) {
            return "Incorrect declared batch size, " + (end - p) + " bytes remain after " + count + " records";
        }
        return null;
    }

    /** Marker for a malformed or truncated varint (cannot collide: positions are never negative). */
    static final long BAD = Long.MIN_VALUE;

    static int value(long packed) {
        return (int) (packed >> 32);
    }

    static int next(long packed) {
        return (int) packed;
    }

    /** Reads a zig-zag varint at {@code p}; returns (value << 32 | nextPosition) or {@link #BAD}. */
    static long readVarint(ByteBuffer buf, int p, int end) {
        int raw = 0;
        int shift = 0;
        while (true) {
            if (p >= end) {
                return BAD;
            }
            int b = buf.get(p++) & 0xFF;
            if ((b & 0x80) == 0) {
                raw |= b << shift;
                break;
            }
            raw |= (b & 0x7F) << shift;
            shift += 7;
            if (shift > 28) {
                return BAD;
            }
        }
        int value = (raw >>> 1) ^ -(raw & 1);
        return ((long) value << 32) | (p & 0xFFFFFFFFL);
    }

    /** Skips a varlong at {@code p}; returns the next position or -1. */
    static int skipVarlong(ByteBuffer buf, int p, int end) {
        for (int i = 0; i < 10; i++) {
            if (p >= end) {
                return -1;
            }
            if ((buf.get(p++) & 0x80) == 0) {
                return p;
            }
        }
        return -1;
    }
}
