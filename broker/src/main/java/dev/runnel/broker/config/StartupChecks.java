package dev.runnel.broker.config;

import dev.runnel.broker.BrokerConfig;
import dev.runnel.broker.cluster.MetaProperties;
import java.io.IOException;
import java.io.OutputStream;
import java.net.BindException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What {@code Main} checks before it opens anything, and how a failed start is told: one line naming the key,
 * value, address or path, and what to do about it.
 */
public final class StartupChecks {
    private StartupChecks() {
    }

    private static final List<String> LEVELS = List.of("trace", "debug", "info", "warn", "error", "off");

    /**
     * Sets slf4j-simple's properties from the environment before the first logger exists: level from
     * {@code RUNNEL_LOG_LEVEL} (default info), output to {@code RUNNEL_LOG_FILE} when set (else stderr), and
     * timestamps on every line. A {@code -Dorg.slf4j.simpleLogger.*} given on the command line wins.
     *
     * @return why the environment is unusable (one line), or null
     */
    public static String configureLogging(Map<String, String> env) {
        String level = env.getOrDefault("RUNNEL_LOG_LEVEL", "").trim().toLowerCase(Locale.ROOT);
        if (!level.isEmpty() && !LEVELS.contains(level)) {
            return "RUNNEL_LOG_LEVEL=" + env.get("RUNNEL_LOG_LEVEL") + " is not a level: use one of " + String.join(", ", LEVELS);
        }
        setIfAbsent("org.slf4j.simpleLogger.defaultLogLevel", level.isEmpty() ? "info" : level);
        setIfAbsent("org.slf4j.simpleLogger.showDateTime", "true");
        setIfAbsent("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd HH:mm:ss,SSS");
        setIfAbsent("org.slf4j.simpleLogger.showShortLogName", "true");
        String file = env.getOrDefault("RUNNEL_LOG_FILE", "").trim();
        if (!file.isEmpty()) {
            Path p = Path.of(file).toAbsolutePath();
            try (OutputStream ignored = Files.newOutputStream(p, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
                setIfAbsent("org.slf4j.simpleLogger.logFile", p.toString());
            } catch (IOException e) {
                return "RUNNEL_LOG_FILE=" + file + ": cannot write " + p + " (" + reason(e)
                        + "): give a file in a directory this user can write, or unset it to log to stderr";
            }
        }
        return null;
    }

    private static void setIfAbsent(String property, String value) {
        if (System.getProperty(property) == null) {
            System.setProperty(property, value);
        }
    }

    /**
     * The log directories exist (created if need be), are directories, are writable and do not belong to another
     * node.
     *
     * @throws ConfigDef.ConfigException naming the directory and the fix
     */
    public static void logDirs(BrokerConfig config) {
        for (Path dir : config.logDirs()) {
            Path abs = dir.toAbsolutePath().normalize();
            if (Files.exists(abs) && !Files.isDirectory(abs)) {
                throw new ConfigDef.ConfigException("log.dirs", dir.toString(), "log.dirs: " + abs
                        + " is a file, not a directory: set log.dirs to a directory (it is created if missing)");
            }
            try {
                Files.createDirectories(abs);
            } catch (IOException e) {
                throw new ConfigDef.ConfigException("log.dirs", dir.toString(), "log.dirs: cannot create " + abs + " ("
                        + reason(e) + "): create it for this user or set log.dirs to a writable directory");
            }
            if (!Files.isWritable(abs)) {
                throw new ConfigDef.ConfigException("log.dirs", dir.toString(), "log.dirs: " + abs + " is not writable by user "
                        + System.getProperty("user.name") + ": give this user write access or set log.dirs to a writable directory");
            }
            // A directory of another node (Kafka's meta.properties names it) is refused, as Kafka does.
            try {
                MetaProperties.read(abs).checkNode(config.nodeId());
            } catch (IOException e) {
                throw new ConfigDef.ConfigException("log.dirs", dir.toString(), "log.dirs: " + oneLine(e)
                        + ": fix or remove that meta.properties, or set log.dirs to this node's directory");
            }
        }
    }

    /**
     * The line for a listener that cannot bind, e.g. its port in use.
     *
     * @param key   the key that names the address ({@code listeners}, {@code metrics.port})
     * @param value its value
     */
    public static String listenFailure(String key, String value, String host, int port, Throwable cause) {
        String where = (host == null || host.isEmpty() ? "0.0.0.0" : host) + ":" + port;
        String what = key + "=" + value;
        if (cause instanceof BindException || String.valueOf(cause.getMessage()).contains("Address already in use")) {
            return "Cannot listen on " + where + " (" + what + "): address already in use; stop whatever holds port " + port
                    + " (another broker?) or set another port in " + key;
        }
        if (String.valueOf(cause.getMessage()).contains("Cannot assign requested address")
                || cause instanceof java.nio.channels.UnresolvedAddressException) {
            return "Cannot listen on " + where + " (" + what + "): " + host + " is not an address of this machine; "
                    + "use localhost, 0.0.0.0 or one of its addresses in " + key;
        }
        return "Cannot listen on " + where + " (" + what + "): " + oneLine(cause);
    }

    /** An exception's message as one line (the class name when it has none). */
    public static String oneLine(Throwable e) {
        String m = e instanceof FileSystemException f ? reason(f) + ": " + f.getFile() : e.getMessage();
        if (m == null || m.isBlank()) {
            m = e.getClass().getSimpleName();
        }
        return m.replace('\n', ' ').replace('\r', ' ');
    }

    private static String reason(IOException e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof FileSystemException f && f.getReason() != null) {
            return f.getReason();
        }
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "no such file or directory";
        }
        return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : " " + e.getMessage());
    }
}
