package dev.runnel.wire.fuzz;

import dev.runnel.wire.ByteBufRecords;
import dev.runnel.wire.ByteBufWritable;
import dev.runnel.wire.Message;
import dev.runnel.wire.Records;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.RequestHeaderData;
import dev.runnel.wire.records.BatchBuilder;
import dev.runnel.wire.records.Compression;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;

/**
 * Fills any generated message with random but encodable content, by reflection over its public fields, so
 * that a fuzzer can start from a valid request of every API key and version without a hand-written
 * example per message. Values lean towards the edges (0, -1, min, max), strings mix ASCII with multi-byte
 * characters, lists hold a few elements (more at the top levels when asked), and records fields carry a real RecordBatch.
 */
final class RandomMessages {
    private static final int MAX_DEPTH = 6;
    private static final String[] WORDS = {"", "a", "topic", "__consumer_offsets", "grüße", "日本語", "x".repeat(40), "😀"};

    private final Random random;
    private final int maxListSize;

    /** Lists of up to {@code maxListSize} elements at the top two levels, up to 3 below. */
    RandomMessages(Random random, int maxListSize) {
        this.random = random;
        this.maxListSize = maxListSize;
    }

    /** A request of {@code api} at {@code version}, as a whole frame body: request header then message. */
    byte[] requestFrame(ApiKeys api, short version, int correlationId) {
        Message body = api.newRequest();
        fill(body, 0);
        return frame(api, version, correlationId, body);
    }

    static byte[] frame(ApiKeys api, short version, int correlationId, Message body) {
        ByteBuf buf = Unpooled.buffer(256);
        RequestHeaderData header = new RequestHeaderData();
        header.requestApiKey = api.id;
        header.requestApiVersion = version;
        header.correlationId = correlationId;
        header.clientId = "fuzz";
        header.write(new ByteBufWritable(buf), api.requestHeaderVersion(version));
        body.write(new ByteBufWritable(buf), version);
        byte[] out = new byte[buf.readableBytes()];
        buf.readBytes(out);
        return out;
    }

    void fill(Object message, int depth) {
        for (Field f : message.getClass().getFields()) {
            if (Modifier.isStatic(f.getModifiers()) || Modifier.isFinal(f.getModifiers())) {
                continue;
            }
            try {
                Object v = value(f.getType(), f.getGenericType(), depth);
                if (v != null || !f.getType().isPrimitive()) {
                    f.set(message, v);
                }
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("cannot fill " + f, e);
            }
        }
    }

    private Object value(Class<?> type, Type generic, int depth) throws ReflectiveOperationException {
        if (type == boolean.class) {
            return random.nextBoolean();
        } else if (type == byte.class) {
            return (byte) edgyInt();
        } else if (type == short.class) {
            return (short) edgyInt();
        } else if (type == int.class) {
            return edgyInt();
        } else if (type == long.class) {
            return edgyLong();
        } else if (type == double.class) {
            return random.nextInt(4) == 0 ? Double.NaN : random.nextDouble() * 1000;
        } else if (type == String.class) {
            return string();
        } else if (type == UUID.class) {
            return random.nextInt(4) == 0 ? new UUID(0, 0) : new UUID(random.nextLong(), random.nextLong());
        } else if (type == byte[].class) {
            byte[] b = new byte[random.nextInt(24)];
            random.nextBytes(b);
            return b;
        } else if (Records.class.isAssignableFrom(type)) {
            return records();
        } else if (List.class.isAssignableFrom(type)) {
            Type elementType = ((ParameterizedType) generic).getActualTypeArguments()[0];
            Class<?> element = (Class<?>) elementType;
            int n = depth >= MAX_DEPTH ? 0 : random.nextInt(depth < 2 ? maxListSize + 1 : 4);
            List<Object> list = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                list.add(boxed(element, depth + 1));
            }
            return list;
        } else if (Message.class.isAssignableFrom(type)) {
            Object struct = type.getDeclaredConstructor().newInstance();
            if (depth < MAX_DEPTH) {
                fill(struct, depth + 1);
            }
            return struct;
        }
        throw new IllegalStateException("no random value for field type " + type);
    }

    private Object boxed(Class<?> element, int depth) throws ReflectiveOperationException {
        if (element == Integer.class) {
            return edgyInt();
        } else if (element == Long.class) {
            return edgyLong();
        } else if (element == Short.class) {
            return (short) edgyInt();
        } else if (element == Byte.class) {
            return (byte) edgyInt();
        } else if (element == Boolean.class) {
            return random.nextBoolean();
        }
        return value(element, element, depth);
    }

    private int edgyInt() {
        return switch (random.nextInt(8)) {
            case 0 -> 0;
            case 1 -> -1;
            case 2 -> Integer.MAX_VALUE;
            case 3 -> Integer.MIN_VALUE;
            case 4 -> random.nextInt(10);
            default -> random.nextInt();
        };
    }

    private long edgyLong() {
        return switch (random.nextInt(6)) {
            case 0 -> 0L;
            case 1 -> -1L;
            case 2 -> Long.MAX_VALUE;
            case 3 -> random.nextInt(1000);
            default -> random.nextLong();
        };
    }

    private String string() {
        if (random.nextInt(3) == 0) {
            return WORDS[random.nextInt(WORDS.length)];
        }
        int n = random.nextInt(12);
        StringBuilder sb = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            int kind = random.nextInt(10);
            if (kind < 7) {
                sb.append((char) (' ' + random.nextInt(95)));
            } else if (kind < 9) {
                sb.append((char) (0xA0 + random.nextInt(0x700)));
            } else {
                sb.appendCodePoint(0x1F300 + random.nextInt(0x200));
            }
        }
        return sb.toString();
    }

    /** A real RecordBatch (sometimes compressed), as a producer would send it. */
    private Records records() {
        if (random.nextInt(5) == 0) {
            return null;
        }
        return ByteBufRecords.wrap(array(batch(random)));
    }

    static ByteBuffer batch(Random random) {
        Compression[] codecs = Compression.values();
        BatchBuilder b = new BatchBuilder().compression(codecs[random.nextInt(codecs.length)]);
        if (random.nextBoolean()) {
            b.producer(random.nextInt(1000), (short) random.nextInt(3), random.nextInt(100));
        }
        int n = 1 + random.nextInt(4);
        long ts = 1_700_000_000_000L + random.nextInt(1_000_000);
        for (int i = 0; i < n; i++) {
            byte[] value = new byte[random.nextInt(64)];
            random.nextBytes(value);
            b.append(ts + i, random.nextBoolean() ? null : ("key-" + i).getBytes(), value);
        }
        return b.build();
    }

    static byte[] array(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }
}
