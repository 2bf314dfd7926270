package dev.runnel.broker.quota;

import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A single node's client quotas on disk, {@code <log.dir>/.runnel-client-quotas.properties}, the way it keeps topic
 * configs in {@code .runnel-topics/}: a properties file rewritten whole (fsynced, then renamed over the old one) on
 * every change. One line per quota: {@code user=alice,client-id=app1/producer_byte_rate=1048576.0}; names are
 * URL-encoded, and a default entity is written {@code <default>} (what encoding never produces). In a cluster the
 * quotas live in the metadata log instead and this file is not used.
 */
public final class QuotaFile {
    static final String NAME = ".runnel-client-quotas.properties";
    private static final String DEFAULT = "<default>";
    private final Path file;

    public QuotaFile(Path dataDir) {
        this.file = dataDir.resolve(NAME);
    }

    public Map<QuotaEntity, Map<String, Double>> load() throws IOException {
        Map<QuotaEntity, Map<String, Double>> out = new TreeMap<>(java.util.Comparator.comparing(QuotaEntity::toString));
        if (!Files.exists(file)) {
            return Map.of();
        }
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        }
        for (String line : new TreeSet<>(p.stringPropertyNames())) {
            int slash = line.lastIndexOf('/');
            if (slash < 0) {
                throw new IOException(file + ": unreadable quota line " + line);
            }
            Map<String, String> entity = new TreeMap<>();
            for (String part : line.substring(0, slash).split(",")) {
                int eq = part.indexOf('=');
                if (eq < 0) {
                    throw new IOException(file + ": unreadable quota entity " + line);
                }
                String name = part.substring(eq + 1);
                entity.put(part.substring(0, eq), DEFAULT.equals(name) ? null : URLDecoder.decode(name, StandardCharsets.UTF_8));
            }
            double value;
            try {
                value = Double.parseDouble(p.getProperty(line));
            } catch (NumberFormatException e) {
                throw new IOException(file + ": unreadable quota value in " + line);
            }
            out.computeIfAbsent(new QuotaEntity(entity), k -> new TreeMap<>()).put(line.substring(slash + 1), value);
        }
        return Map.copyOf(out);
    }

    public void store(Map<QuotaEntity, Map<String, Double>> quotas) {
        Properties p = new Properties();
        quotas.forEach((entity, values) -> values.forEach((k, v) -> p.setProperty(line(entity, k), Double.toString(v))));
        Path tmp = file.resolveSibling(NAME + ".tmp");
        try {
            StringWriter w = new StringWriter();
            p.store(w, "Runnel client quotas");
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ch.write(ByteBuffer.wrap(w.toString().getBytes(StandardCharsets.UTF_8)));
                ch.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String line(QuotaEntity entity, String key) {
        StringBuilder sb = new StringBuilder();
        entity.entries().forEach((type, name) -> sb.append(sb.length() == 0 ? "" : ",").append(type).append('=')
                .append(name == null ? DEFAULT : URLEncoder.encode(name, StandardCharsets.UTF_8)));
        return sb.append('/').append(key).toString();
    }
}
