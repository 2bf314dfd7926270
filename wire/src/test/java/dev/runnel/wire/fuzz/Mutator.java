package dev.runnel.wire.fuzz;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;

/**
 * Byte-level mutations of a valid input, aimed at what a hostile peer would try against a length-prefixed
 * protocol: flipped bits, lengths and counts replaced by negative, huge or off-by-one values, over-long and
 * unterminated varints, invalid UTF-8, truncation, and bytes inserted, removed or spliced in from another
 * input. Each call applies one to three of them.
 */
final class Mutator {
    private static final int[] INTERESTING_INTS = {0, 1, -1, -2, 2, 127, 128, 255, 256, 0x7fff, 0x8000, 0xffff, 0x10000,
            Integer.MAX_VALUE, Integer.MIN_VALUE, Integer.MAX_VALUE - 1, 1 << 20, 100 * 1024 * 1024};
    private static final byte[][] BAD_UTF8 = {{(byte) 0xC3, 0x28}, {(byte) 0xFF}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
            {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, {(byte) 0xE2, (byte) 0x82}, {(byte) 0xC0, (byte) 0x80}};

    private final Random random;

    Mutator(Random random) {
        this.random = random;
    }

    byte[] mutate(byte[] input, byte[] other) {
        byte[] b = input;
        int rounds = 1 + random.nextInt(3);
        for (int i = 0; i < rounds; i++) {
            b = mutateOnce(b, other);
        }
        return b;
    }

    /** Which mutation the last call applied first, for messages. */
    private byte[] mutateOnce(byte[] in, byte[] other) {
        if (in.length == 0) {
            return randomBytes(1 + random.nextInt(16));
        }
        byte[] b = in.clone();
        int pos = random.nextInt(b.length);
        switch (random.nextInt(11)) {
            case 0 -> { // bit flips
                int flips = 1 + random.nextInt(8);
                for (int i = 0; i < flips; i++) {
                    int p = random.nextInt(b.length);
                    b[p] ^= (byte) (1 << random.nextInt(8));
                }
            }
            case 1 -> b[pos] = (byte) new int[] {0, 0xff, 0x7f, 0x80, 0x01, 0xfe}[random.nextInt(6)];
            case 2 -> putInt(b, pos, INTERESTING_INTS[random.nextInt(INTERESTING_INTS.length)]);
            case 3 -> putShort(b, pos, (short) INTERESTING_INTS[random.nextInt(INTERESTING_INTS.length)]);
            case 4 -> { // a length or count that is a little off from what is there
                if (pos + 4 <= b.length) {
                    ByteBuffer bb = ByteBuffer.wrap(b);
                    bb.putInt(pos, bb.getInt(pos) + (random.nextInt(9) - 4));
                } else {
                    b[pos] += (byte) (random.nextInt(9) - 4);
                }
            }
            case 5 -> { // an over-long or unterminated varint
                int n = 5 + random.nextInt(6);
                byte[] v = new byte[n];
                Arrays.fill(v, (byte) 0xff);
                if (random.nextBoolean()) {
                    v[n - 1] = 0x0f;
                }
                return insertOrOverwrite(b, pos, v);
            }
            case 6 -> { // invalid UTF-8 where a string's bytes may be
                return insertOrOverwrite(b, pos, BAD_UTF8[random.nextInt(BAD_UTF8.length)]);
            }
            case 7 -> { // truncate
                return Arrays.copyOf(b, pos);
            }
            case 8 -> { // insert random bytes
                return insert(b, pos, randomBytes(1 + random.nextInt(16)));
            }
            case 9 -> { // delete a range
                int len = Math.min(b.length - pos, 1 + random.nextInt(16));
                byte[] out = new byte[b.length - len];
                System.arraycopy(b, 0, out, 0, pos);
                System.arraycopy(b, pos + len, out, pos, b.length - pos - len);
                return out;
            }
            default -> { // splice: our head, another input's tail
                if (other != null && other.length > 0) {
                    int from = random.nextInt(other.length);
                    byte[] out = new byte[pos + other.length - from];
                    System.arraycopy(b, 0, out, 0, pos);
                    System.arraycopy(other, from, out, pos, other.length - from);
                    return out;
                }
                b[pos] = (byte) random.nextInt();
            }
        }
        return b;
    }

    byte[] randomBytes(int n) {
        byte[] r = new byte[n];
        random.nextBytes(r);
        return r;
    }

    private byte[] insertOrOverwrite(byte[] b, int pos, byte[] v) {
        if (random.nextBoolean()) {
            return insert(b, pos, v);
        }
        byte[] out = b.length >= pos + v.length ? b : Arrays.copyOf(b, pos + v.length);
        System.arraycopy(v, 0, out, pos, v.length);
        return out;
    }

    private static byte[] insert(byte[] b, int pos, byte[] v) {
        byte[] out = new byte[b.length + v.length];
        System.arraycopy(b, 0, out, 0, pos);
        System.arraycopy(v, 0, out, pos, v.length);
        System.arraycopy(b, pos, out, pos + v.length, b.length - pos);
        return out;
    }

    private static void putInt(byte[] b, int pos, int v) {
        for (int i = 0; i < 4 && pos + i < b.length; i++) {
            b[pos + i] = (byte) (v >>> (24 - 8 * i));
        }
    }

    private static void putShort(byte[] b, int pos, short v) {
        b[pos] = (byte) (v >>> 8);
        if (pos + 1 < b.length) {
            b[pos + 1] = (byte) v;
        }
    }
}
