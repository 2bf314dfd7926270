package dev.runnel.broker.cluster;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Base64;
import java.util.Properties;
import java.util.UUID;

/**
 * Kafka's {@code meta.properties} in a log directory ({@code version=1}, {@code cluster.id}, {@code node.id},
 * {@code directory.id}): which cluster and node the directory belongs to. Kafka writes it with
 * {@code kafka-storage format}; a Runnel node writes it on its first start with the cluster id its quorum agreed
 * on, and accepts one written by {@code kafka-storage format}.
 */
public record MetaProperties(Path file, String clusterId, Integer nodeId, String directoryId) {

    public static MetaProperties read(Path logDir) throws IOException {
        Path f = logDir.resolve("meta.properties");
        if (!Files.exists(f)) {
            return new MetaProperties(f, null, null, null);
        }
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(f)) {
            p.load(r);
        }
        Integer node = null;
        String n = p.getProperty("node.id", p.getProperty("broker.id"));
        if (n != null) {
            try {
                node = Integer.parseInt(n.trim());
            } catch (NumberFormatException e) {
                throw new IOException(f + " has an invalid node.id '" + n + "'");
            }
        }
        return new MetaProperties(f, trimOrNull(p.getProperty("cluster.id")), node, trimOrNull(p.getProperty("directory.id")));
    }

    private static String trimOrNull(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }

    /** Refuses a directory that belongs to another node. */
    public void checkNode(int configuredNodeId) {
        if (nodeId != null && nodeId != configuredNodeId) {
            throw new IllegalStateException("The log directory " + file.getParent() + " belongs to node " + nodeId + " (its meta.properties says node.id="
                    + nodeId + "), but this node is configured with node.id=" + configuredNodeId
                    + ". Use the node's own directory, or remove meta.properties if the directory is meant to be reused.");
        }
    }

    /** Refuses a directory that belongs to another cluster; writes the file when it has no cluster id yet. */
    public MetaProperties adopt(String quorumClusterId, int node) throws IOException {
        if (clusterId != null && !clusterId.equals(quorumClusterId)) {
            throw new IllegalStateException("The log directory " + file.getParent() + " belongs to another cluster: its meta.properties has cluster.id="
                    + clusterId + ", but this cluster's metadata quorum has cluster.id=" + quorumClusterId
                    + ". Point log.dirs at a directory of this cluster (or an empty one).");
        }
        if (clusterId != null && nodeId != null && directoryId != null) {
            return this;
        }
        String dir = directoryId != null ? directoryId : randomId();
        Properties p = new Properties();
        p.setProperty("version", "1");
        p.setProperty("cluster.id", quorumClusterId);
        p.setProperty("node.id", Integer.toString(node));
        p.setProperty("directory.id", dir);
        Path tmp = file.resolveSibling("meta.properties.tmp");
        try (Writer w = Files.newBufferedWriter(tmp)) {
            p.store(w, "Written by Runnel: the cluster and node this log directory belongs to (Kafka's format)");
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return new MetaProperties(file, quorumClusterId, node, dir);
    }

    /** A random id as Kafka writes them: 16 random bytes, URL-safe base64 without padding. */
    public static String randomId() {
        UUID u = UUID.randomUUID();
        ByteBuffer bb = ByteBuffer.allocate(16).putLong(u.getMostSignificantBits()).putLong(u.getLeastSignificantBits());
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bb.array());
    }
}
