package dev.runnel.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.runnel.wire.message.ApiKeys;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Our generated classes against kafka-clients' own: for every message and every version, random messages
 * written by us must be read by Kafka, and Kafka's re-serialization must be byte-identical to ours; our
 * reader must accept exactly what Kafka's accepts (nulls included) and read back an equal message.
 */
class DifferentialCodecTest {
    private static final int MESSAGES_PER_VERSION = 12;
    private static final String OURS = "dev.runnel.wire.message.";
    private static final String KAFKAS = "org.apache.kafka.common.message.";

    @TestFactory
    Stream<DynamicTest> everyMessageEveryVersion() throws Exception {
        List<String> names = new ArrayList<>();
        Path dir = Path.of("target/generated-sources/messages/dev/runnel/wire/message");
        try (Stream<Path> files = Files.list(dir)) {
            files.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".java") && !n.equals("ApiKeys.java"))
                    .map(n -> n.substring(0, n.length() - ".java".length()))
                    .sorted()
                    .forEach(names::add);
        }
        assertTrue(names.size() > 150, "expected the whole schema set, got " + names.size());
        return names.stream().map(name -> DynamicTest.dynamicTest(name, () -> checkMessage(name)));
    }

    private void checkMessage(String name) throws Exception {
        Class<?> ours = Class.forName(OURS + name);
        Class<?> kafkas;
        try {
            kafkas = Class.forName(KAFKAS + name);
        } catch (ClassNotFoundException e) {
            fail("kafka-clients has no " + name);
            return;
        }
        short lo = ours.getField("LOWEST_SUPPORTED_VERSION").getShort(null);
        short hi = ours.getField("HIGHEST_SUPPORTED_VERSION").getShort(null);
        Random random = new Random(name.hashCode());
        for (short v = lo; v <= hi; v++) {
            for (int i = 0; i < MESSAGES_PER_VERSION; i++) {
                boolean withNulls = i % 3 == 2;
                Message msg = (Message) randomStruct(ours, random, 0, withNulls);
                checkOne(msg, kafkas, v, withNulls);
            }
        }
    }

    private void checkOne(Message msg, Class<?> kafkas, short version, boolean withNulls) throws Exception {
        ByteBuf buf = Unpooled.buffer();
        try {
            msg.write(new ByteBufWritable(buf), version);
        } catch (NullPointerException e) {
            if (withNulls) {
                return; // a null in a non-nullable struct or uuid cannot be written, as in Kafka
            }
            throw e;
        }
        byte[] oursBytes = new byte[buf.readableBytes()];
        buf.getBytes(0, oursBytes);

        Object kafkaMsg;
        try {
            kafkaMsg = kafkas.getConstructor(org.apache.kafka.common.protocol.Readable.class, short.class)
                    .newInstance(new ByteBufferAccessor(ByteBuffer.wrap(oursBytes)), version);
        } catch (java.lang.reflect.InvocationTargetException e) {
            if (!withNulls) {
                throw new AssertionError("Kafka could not read our " + msg.getClass().getSimpleName() + " v" + version + ": " + msg, e.getCause());
            }
            // A null where Kafka forbids one: our reader must refuse the same bytes.
            try {
                Message back = msg.getClass().getConstructor().newInstance();
                back.read(new Readable(Unpooled.wrappedBuffer(oursBytes)), version);
                fail("Kafka refused (" + e.getCause() + ") but we accepted " + msg.getClass().getSimpleName() + " v" + version);
            } catch (MalformedMessageException expected) {
                return;
            }
            return;
        }
        org.apache.kafka.common.protocol.Message km = (org.apache.kafka.common.protocol.Message) kafkaMsg;
        ObjectSerializationCache cache = new ObjectSerializationCache();
        int size = km.size(cache, version);
        ByteBuffer kb = ByteBuffer.allocate(size);
        km.write(new ByteBufferAccessor(kb), cache, version);
        assertArrayEquals(oursBytes, kb.array(), () -> "bytes differ for " + msg.getClass().getSimpleName() + " v" + version + ": " + msg);

        Message back = msg.getClass().getConstructor().newInstance();
        Readable in = new Readable(Unpooled.wrappedBuffer(kb.array()));
        back.read(in, version);
        assertEquals(0, in.remaining(), "unread bytes");
        ByteBuf again = Unpooled.buffer();
        back.write(new ByteBufWritable(again), version);
        byte[] againBytes = new byte[again.readableBytes()];
        again.getBytes(0, againBytes);
        assertArrayEquals(oursBytes, againBytes, () -> "our read/write is not stable for " + msg.getClass().getSimpleName() + " v" + version);
        // what was read equals a second read of the same bytes
        Message back2 = msg.getClass().getConstructor().newInstance();
        back2.read(new Readable(Unpooled.wrappedBuffer(againBytes)), version);
        assertEquals(back, back2);
    }

    private Object randomStruct(Class<?> cls, Random r, int depth, boolean withNulls) throws Exception {
        Object o = cls.getConstructor().newInstance();
        for (Field f : cls.getFields()) {
            if (Modifier.isStatic(f.getModifiers())) {
                continue;
            }
            if (r.nextInt(5) == 0 && (withNulls || f.getType() != Records.class)) {
                continue; // keep the default (records default to null, which only nullable versions allow)
            }
            f.set(o, randomValue(f.getGenericType(), r, depth, withNulls, f.getType().isPrimitive()));
        }
        return o;
    }

    private Object randomValue(Type type, Random r, int depth, boolean withNulls, boolean primitive) throws Exception {
        if (!primitive && withNulls && r.nextInt(4) == 0) {
            return null;
        }
        if (type instanceof ParameterizedType pt) {
            Type elem = pt.getActualTypeArguments()[0];
            int n = depth > 3 ? 0 : r.nextInt(4);
            List<Object> list = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                list.add(randomValue(elem, r, depth + 1, false, false));
            }
            return list;
        }
        Class<?> c = (Class<?>) type;
        if (c == boolean.class || c == Boolean.class) {
            return r.nextBoolean();
        } else if (c == byte.class || c == Byte.class) {
            return (byte) r.nextInt();
        } else if (c == short.class || c == Short.class) {
            return (short) r.nextInt();
        } else if (c == int.class || c == Integer.class) {
            return r.nextBoolean() ? r.nextInt() : r.nextInt(65536); // uint16 fields are ints too
        } else if (c == long.class || c == Long.class) {
            return r.nextBoolean() ? r.nextLong() : (long) r.nextInt() & 0xffffffffL;
        } else if (c == double.class || c == Double.class) {
            return r.nextDouble();
        } else if (c == String.class) {
            int n = r.nextInt(12);
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < n; i++) {
                sb.append(r.nextInt(10) == 0 ? 'é' : (char) ('a' + r.nextInt(26)));
            }
            return sb.toString();
        } else if (c == byte[].class) {
            byte[] b = new byte[r.nextInt(20)];
            r.nextBytes(b);
            return b;
        } else if (c == UUID.class) {
            return new UUID(r.nextLong(), r.nextLong());
        } else if (c == Records.class) {
            byte[] b = new byte[r.nextInt(80)];
            r.nextBytes(b);
            return ByteBufRecords.wrap(b);
        } else if (Message.class.isAssignableFrom(c)) {
            return randomStruct(c, r, depth + 1, withNulls);
        }
        throw new IllegalStateException("no random value for " + type);
    }

    @Test
    void apiKeysTableMatchesKafka() {
        for (ApiKeys k : ApiKeys.values()) {
            org.apache.kafka.common.protocol.ApiKeys theirs = org.apache.kafka.common.protocol.ApiKeys.forId(k.id);
            assertEquals(theirs.name, k.title, "title of " + k);
            for (short v = k.lowestVersion; v <= k.highestVersion; v++) {
                assertEquals(theirs.requestHeaderVersion(v), k.requestHeaderVersion(v), k + " request header v" + v);
                assertEquals(theirs.responseHeaderVersion(v), k.responseHeaderVersion(v), k + " response header v" + v);
            }
        }
    }
}
