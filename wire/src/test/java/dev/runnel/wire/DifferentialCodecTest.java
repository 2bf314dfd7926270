package dev.runnel.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.runnel.wire.message.ApiKeys;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Our generated classes against kafka-clients' own: for every message and every version, random messages
 * written by us must be read by Kafka, and Kafka's re-serialization must be byte-identical to ours; our
 * reader must accept exactly what Kafka's accepts (nulls included) and read back an equal message.
 *
 * <p>Our classes join two schema sets (wire-generator's SchemaMerger), so each version is checked against the
 * kafka-clients release that still describes it: the current one (4.4) where it has the version, else the legacy
 * one (3.9) for the versions 4.x removed. Both jars have the same package names, so each is loaded in a class
 * loader of its own (copied to target/kafka-clients-jars by the pom).
 */
class DifferentialCodecTest {
    private static final int MESSAGES_PER_VERSION = 12;
    private static final String OURS = "dev.runnel.wire.message.";
    private static final String KAFKAS = "org.apache.kafka.common.message.";
    private static final KafkaRelease CURRENT = KafkaRelease.load("kafka-clients-current.jar");
    private static final KafkaRelease LEGACY = KafkaRelease.load("kafka-clients-legacy.jar");

    /** One kafka-clients jar in an isolated class loader, used through reflection. */
    record KafkaRelease(ClassLoader loader) {
        static KafkaRelease load(String jar) {
            Path path = Path.of("target/kafka-clients-jars", jar);
            assertTrue(Files.isRegularFile(path), path + " missing: run the build through Maven (process-test-resources)");
            try {
                return new KafkaRelease(new URLClassLoader(new URL[] {path.toUri().toURL()}, new Slf4jOnly()));
            } catch (java.net.MalformedURLException e) {
                throw new IllegalStateException(e);
            }
        }

        /** Parent of the isolated loaders: the JDK plus the test class path's slf4j (kafka-clients logs through it). */
        private static final class Slf4jOnly extends ClassLoader {
            Slf4jOnly() {
                super(ClassLoader.getPlatformClassLoader());
            }

            @Override
            protected Class<?> findClass(String name) throws ClassNotFoundException {
                if (name.startsWith("org.slf4j.")) {
                    return DifferentialCodecTest.class.getClassLoader().loadClass(name);
                }
                throw new ClassNotFoundException(name);
            }
        }

        Class<?> cls(String name) throws ClassNotFoundException {
            return Class.forName(name, true, loader);
        }

        /** Kafka's message class of this name, when it describes {@code version}; else null. */
        Class<?> messageFor(String name, short version) throws Exception {
            Class<?> c;
            try {
                c = cls(KAFKAS + name);
            } catch (ClassNotFoundException e) {
                return null;
            }
            short lo = c.getField("LOWEST_SUPPORTED_VERSION").getShort(null);
            short hi = c.getField("HIGHEST_SUPPORTED_VERSION").getShort(null);
            return version >= lo && version <= hi ? c : null;
        }

        Object read(Class<?> kafkas, byte[] bytes, short version) throws Exception {
            Object accessor = cls("org.apache.kafka.common.protocol.ByteBufferAccessor").getConstructor(ByteBuffer.class)
                    .newInstance(ByteBuffer.wrap(bytes));
            return kafkas.getConstructor(cls("org.apache.kafka.common.protocol.Readable"), short.class).newInstance(accessor, version);
        }

        byte[] write(Object message, short version) throws Exception {
            Class<?> cacheClass = cls("org.apache.kafka.common.protocol.ObjectSerializationCache");
            Object cache = cacheClass.getConstructor().newInstance();
            Class<?> messageIface = cls("org.apache.kafka.common.protocol.Message");
            int size = (int) messageIface.getMethod("size", cacheClass, short.class).invoke(message, cache, version);
            ByteBuffer kb = ByteBuffer.allocate(size);
            Object accessor = cls("org.apache.kafka.common.protocol.ByteBufferAccessor").getConstructor(ByteBuffer.class).newInstance(kb);
            messageIface.getMethod("write", cls("org.apache.kafka.common.protocol.Writable"), cacheClass, short.class)
                    .invoke(message, accessor, cache, version);
            return kb.array();
        }

        /** Kafka's ApiKeys constant for this id, or null. */
        Object apiKey(int id) throws Exception {
            Class<?> keys = cls("org.apache.kafka.common.protocol.ApiKeys");
            Method forId = keys.getMethod("forId", int.class);
            try {
                return forId.invoke(null, id);
            } catch (InvocationTargetException e) {
                return null; // an id this release does not know
            }
        }
    }

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
        short lo = ours.getField("LOWEST_SUPPORTED_VERSION").getShort(null);
        short hi = ours.getField("HIGHEST_SUPPORTED_VERSION").getShort(null);
        Random random = new Random(name.hashCode());
        for (short v = lo; v <= hi; v++) {
            KafkaRelease release = CURRENT;
            Class<?> kafkas = CURRENT.messageFor(name, v);
            if (kafkas == null) {
                release = LEGACY;
                kafkas = LEGACY.messageFor(name, v);
            }
            if (kafkas == null) {
                fail("neither kafka-clients release describes " + name + " v" + v);
            }
            for (int i = 0; i < MESSAGES_PER_VERSION; i++) {
                boolean withNulls = i % 3 == 2;
                Message msg = (Message) randomStruct(ours, random, 0, withNulls);
                checkOne(msg, release, kafkas, v, withNulls);
            }
        }
    }

    private void checkOne(Message msg, KafkaRelease release, Class<?> kafkas, short version, boolean withNulls) throws Exception {
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
            kafkaMsg = release.read(kafkas, oursBytes, version);
        } catch (InvocationTargetException e) {
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
        byte[] kafkaBytes = release.write(kafkaMsg, version);
        assertArrayEquals(oursBytes, kafkaBytes, () -> "bytes differ for " + msg.getClass().getSimpleName() + " v" + version + ": " + msg);

        Message back = msg.getClass().getConstructor().newInstance();
        Readable in = new Readable(Unpooled.wrappedBuffer(kafkaBytes));
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
    void apiKeysTableMatchesKafka() throws Exception {
        for (ApiKeys k : ApiKeys.values()) {
            Object current = CURRENT.apiKey(k.id);
            if (current != null && (short) current.getClass().getMethod("latestVersion").invoke(current) < 0) {
                current = null; // an API 4.x removed but still lists without versions (LeaderAndIsr, ...)
            }
            Object legacy = LEGACY.apiKey(k.id);
            Object titled = current != null ? current : legacy;
            assertTrue(titled != null, "no kafka-clients release knows " + k);
            assertEquals(titled.getClass().getField("name").get(titled), k.title, "title of " + k);
            if (current != null) {
                // the top of the range and its stability come from the current release
                Method latest = current.getClass().getMethod("latestVersion", boolean.class);
                assertEquals((short) latest.invoke(current, true), k.highestVersion, "highest version of " + k);
                assertEquals((short) latest.invoke(current, false) < k.highestVersion, k.latestVersionUnstable, "unstable flag of " + k);
            }
            for (short v = k.lowestVersion; v <= k.highestVersion; v++) {
                Object theirs = current != null && (short) current.getClass().getMethod("oldestVersion").invoke(current) <= v ? current : legacy;
                Method req = theirs.getClass().getMethod("requestHeaderVersion", short.class);
                Method resp = theirs.getClass().getMethod("responseHeaderVersion", short.class);
                assertEquals((short) req.invoke(theirs, v), k.requestHeaderVersion(v), k + " request header v" + v);
                assertEquals((short) resp.invoke(theirs, v), k.responseHeaderVersion(v), k + " response header v" + v);
            }
        }
    }

    @Test
    void everyVersionOfBothReleasesIsGenerated() throws Exception {
        // the join covers 4.4's ranges and 3.9's removed low versions, e.g. Produce 0-13 and ListOffsets 0-11
        assertEquals(0, ApiKeys.PRODUCE.lowestVersion);
        assertEquals(13, ApiKeys.PRODUCE.highestVersion);
        assertEquals(0, ApiKeys.FETCH.lowestVersion);
        assertEquals(18, ApiKeys.FETCH.highestVersion);
        assertEquals(0, ApiKeys.LIST_OFFSETS.lowestVersion);
        assertEquals(11, ApiKeys.LIST_OFFSETS.highestVersion);
        assertEquals(0, ApiKeys.OFFSET_COMMIT.lowestVersion);
        assertEquals("ListConfigResources", ApiKeys.forId(74).title);
    }
}
