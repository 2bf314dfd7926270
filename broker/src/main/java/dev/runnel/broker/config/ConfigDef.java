package dev.runnel.broker.config;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Configuration keys as Kafka's {@code ConfigDef} declares them: each has a type, a default, a validator and a
 * documentation line, and a value is parsed and checked against them before anything uses it. A problem is
 * reported in Kafka's words ("Invalid value abc for configuration num.partitions: Not a number of type INT")
 * followed by what the key accepts, so that one line tells an operator what to write instead.
 */
public final class ConfigDef {

    /** How a value is parsed; the names are Kafka's ({@code ConfigDef.Type}). */
    public enum Type {
        BOOLEAN, STRING, INT, SHORT, LONG, DOUBLE, LIST, PASSWORD
    }

    /** Whether Runnel reads a key, or accepts it because Kafka has it and ignores it. */
    public enum Use {
        /** Runnel reads the key. */
        USED,
        /** A Kafka broker key Runnel accepts without acting on it (its value is still type-checked). */
        IGNORED
    }

    /** A rule on a parsed value: why it is unacceptable (the reason only, without key or value), or null. */
    public interface Validator {
        String problem(Object parsed);

        /** What the rule accepts, for messages and the documentation ("at least 1", "one of: a, b"). */
        String accepted();
    }

    /** A value was unacceptable: the message is the whole line for the operator. */
    public static final class ConfigException extends IllegalArgumentException {
        private final String key;
        private final String value;

        public ConfigException(String key, String value, String message) {
            super(message);
            this.key = key;
            this.value = value;
        }

        public String key() {
            return key;
        }

        public String value() {
            return value;
        }
    }

    /**
     * One key. A null {@code defaultValue} means "unset unless given" (a blank value counts as unset too);
     * {@code validator} may be null (any value of the type).
     */
    public record Key(String name, Type type, String defaultValue, Validator validator, String doc, Use use, boolean dynamic) {
        /** A key that only server.properties sets (read-only at run time). */
        public Key(String name, Type type, String defaultValue, Validator validator, String doc, Use use) {
            this(name, type, defaultValue, validator, doc, use, false);
        }

        /**
         * This key, changeable at run time as Kafka's dynamic broker configs are ({@code kafka-configs --alter
         * --entity-type brokers}).
         */
        public Key asDynamic() {
            return new Key(name, type, defaultValue, validator, doc, use, true);
        }

        /** What the key accepts: its type and its rule, in words. */
        public String accepted() {
            String t = switch (type) {
                case BOOLEAN -> "true or false";
                case INT -> "an integer (INT)";
                case SHORT -> "an integer (SHORT)";
                case LONG -> "an integer (LONG)";
                case DOUBLE -> "a number (DOUBLE)";
                case LIST -> "a comma-separated list";
                case STRING, PASSWORD -> "a string";
            };
            return validator == null ? t : t + ", " + validator.accepted();
        }
    }

    private static final Pattern COMMA = Pattern.compile("\\s*,\\s*");

    private final Map<String, Key> keys = new LinkedHashMap<>();

    /** Adds a key Runnel reads. Returns this, so that a table of keys reads one line per key. */
    public ConfigDef define(String name, Type type, String defaultValue, Validator validator, String doc) {
        return add(new Key(name, type, defaultValue, validator, doc, Use.USED));
    }

    /** Adds a Kafka key that Runnel accepts and ignores ({@code why}: what Runnel does instead). */
    public ConfigDef ignore(String name, Type type, String defaultValue, String why) {
        return add(new Key(name, type, defaultValue, null, why, Use.IGNORED));
    }

    public ConfigDef add(Key key) {
        if (keys.putIfAbsent(key.name(), key) != null) {
            throw new IllegalStateException("Config key defined twice: " + key.name());
        }
        return this;
    }

    public Key key(String name) {
        return keys.get(name);
    }

    public Collection<Key> keys() {
        return Collections.unmodifiableCollection(keys.values());
    }

    public Map<String, Key> asMap() {
        return Collections.unmodifiableMap(keys);
    }

    /**
     * Parses and validates a value of a defined key: the parsed value (Integer, Long, Short, Double, Boolean,
     * String or List of String), or null when the value is blank and the key has no default.
     *
     * @throws ConfigException naming the key, the value and what the key accepts
     */
    public static Object parse(Key key, String raw) {
        if (raw == null || (raw.isBlank() && key.defaultValue() == null && key.type() != Type.STRING
                && key.type() != Type.PASSWORD)) {
            return null;
        }
        String s = raw.trim();
        Object parsed;
        try {
            parsed = switch (key.type()) {
                case INT -> Integer.parseInt(s);
                case SHORT -> Short.parseShort(s);
                case LONG -> Long.parseLong(s);
                case DOUBLE -> Double.parseDouble(s);
                case BOOLEAN -> parseBoolean(s);
                case LIST -> s.isEmpty() ? List.of() : List.of(COMMA.split(s, -1));
                case STRING, PASSWORD -> s;
            };
        } catch (IllegalArgumentException e) {
            String reason = key.type() == Type.BOOLEAN ? "Expected value to be either true or false"
                    : "Not a number of type " + key.type();
            throw invalid(key, raw, reason);
        }
        if (key.validator() != null) {
            String problem = key.validator().problem(parsed);
            if (problem != null) {
                throw invalid(key, raw, problem);
            }
        }
        return parsed;
    }

    private static Boolean parseBoolean(String s) {
        if (s.equalsIgnoreCase("true")) {
            return Boolean.TRUE;
        }
        if (s.equalsIgnoreCase("false")) {
            return Boolean.FALSE;
        }
        throw new IllegalArgumentException(s);
    }

    /** Kafka's sentence, then what the key accepts and its default. */
    static ConfigException invalid(Key key, String raw, String reason) {
        String shown = key.type() == Type.PASSWORD ? "[hidden]" : raw;
        StringBuilder sb = new StringBuilder("Invalid value ").append(shown).append(" for configuration ")
                .append(key.name()).append(": ").append(reason).append(" (accepted: ").append(key.accepted());
        if (key.defaultValue() != null && !key.defaultValue().isEmpty()) {
            sb.append("; default ").append(key.defaultValue());
        }
        return new ConfigException(key.name(), raw, sb.append(')').toString());
    }

    // ---------------------------------------------------------------- validators

    public static Validator atLeast(long min) {
        return rule("at least " + min, v -> ((Number) v).longValue() < min ? "Value must be at least " + min : null);
    }

    public static Validator between(long min, long max) {
        return rule("from " + min + " to " + max, v -> {
            long n = ((Number) v).longValue();
            if (n < min) {
                return "Value must be at least " + min;
            }
            return n > max ? "Value must be no more than " + max : null;
        });
    }

    /** One of the given strings (compared ignoring case, as Runnel reads these keys). */
    public static Validator oneOf(String... allowed) {
        List<String> list = List.of(allowed);
        return rule("one of: " + String.join(", ", list), v -> list.stream().anyMatch(a -> a.equalsIgnoreCase((String) v))
                ? null : "String must be one of: " + String.join(", ", list));
    }

    /** A list whose every item is one of the given strings (ignoring case). */
    public static Validator listOf(String... allowed) {
        List<String> list = List.of(allowed);
        return rule("each one of: " + String.join(", ", list), v -> {
            for (Object item : (List<?>) v) {
                if (list.stream().noneMatch(a -> a.equalsIgnoreCase(item.toString()))) {
                    return "'" + item + "' is not one of: " + String.join(", ", list);
                }
            }
            return null;
        });
    }

    /** A list of at least one non-blank item. */
    public static Validator nonEmptyList() {
        return rule("at least one entry", v -> {
            List<?> l = (List<?>) v;
            return l.isEmpty() || l.stream().allMatch(i -> i.toString().isBlank()) ? "Must list at least one entry" : null;
        });
    }

    /** Listeners as Kafka writes them: {@code NAME://host:port,...}, port 0 to 65535 (0: a free port). */
    public static Validator listeners() {
        return rule("NAME://host:port entries, port 0-65535, e.g. PLAINTEXT://localhost:9092", v -> {
            List<?> l = (List<?>) v;
            if (l.isEmpty()) {
                return "Must list at least one listener";
            }
            for (Object item : l) {
                String e = item.toString();
                int sep = e.indexOf("://");
                if (sep <= 0) {
                    return "'" + e + "' is not NAME://host:port";
                }
                String problem = hostPortProblem(e, e.substring(sep + 3));
                if (problem != null) {
                    return problem;
                }
            }
            return null;
        });
    }

    /** Entries of {@code prefix host:port} (the prefix matched by {@code idPattern}, e.g. {@code 1@} of a voter). */
    public static Validator hostPorts(String accepted, Pattern idPattern) {
        return rule(accepted, v -> {
            for (Object item : (List<?>) v) {
                String e = item.toString();
                String hostPort = e;
                if (idPattern != null) {
                    var m = idPattern.matcher(e);
                    if (!m.lookingAt()) {
                        return "'" + e + "' is not " + accepted;
                    }
                    hostPort = e.substring(m.end());
                }
                String problem = hostPortProblem(e, hostPort);
                if (problem != null) {
                    return problem;
                }
            }
            return null;
        });
    }

    private static String hostPortProblem(String entry, String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        if (colon < 0 || hostPort.startsWith("[") && colon < hostPort.indexOf(']')) {
            return "'" + entry + "' has no port";
        }
        String port = hostPort.substring(colon + 1);
        int p;
        try {
            p = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            return "port '" + port + "' of '" + entry + "' is not a number";
        }
        return p < 0 || p > 65535 ? "port " + p + " of '" + entry + "' is not between 0 and 65535" : null;
    }

    /** {@code A:B,...} pairs (the listener security protocol map, per-address overrides with a count). */
    public static Validator pairs(String accepted, boolean countAfterColon) {
        return rule(accepted, v -> {
            for (Object item : (List<?>) v) {
                String e = item.toString();
                if (e.isEmpty()) {
                    continue;
                }
                int colon = e.lastIndexOf(':');
                if (colon <= 0 || colon == e.length() - 1) {
                    return "'" + e + "' is not " + accepted;
                }
                if (countAfterColon) {
                    try {
                        if (Integer.parseInt(e.substring(colon + 1).trim()) < 0) {
                            return "negative count in '" + e + "'";
                        }
                    } catch (NumberFormatException x) {
                        return "count '" + e.substring(colon + 1) + "' of '" + e + "' is not a number";
                    }
                }
            }
            return null;
        });
    }

    public static Validator rule(String accepted, Function<Object, String> check) {
        return new Validator() {
            @Override
            public String problem(Object parsed) {
                return check.apply(parsed);
            }

            @Override
            public String accepted() {
                return accepted;
            }
        };
    }

    // ---------------------------------------------------------------- suggestions and documentation

    /** The defined key nearest to an unknown one by edit distance, when it is close enough to be a typo; else null. */
    public String nearest(String unknown, Collection<String> alsoKnown) {
        List<String> candidates = new ArrayList<>(keys.keySet());
        candidates.addAll(alsoKnown);
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        String u = unknown.toLowerCase(Locale.ROOT);
        for (String c : candidates) {
            int d = editDistance(u, c);
            if (d < bestDistance) {
                best = c;
                bestDistance = d;
            }
        }
        // A typo is a few characters; "foo" is not a misspelt "acks".
        int allowed = Math.max(1, Math.min(4, unknown.length() / 4));
        return best != null && bestDistance <= allowed ? best : null;
    }

    /** Edit distance where a swap of two neighbours ("listnere") counts as one edit (optimal string alignment). */
    static int editDistance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }

    /** A Markdown table of the keys of one use: name, type, default, what is accepted, the doc line. */
    public String markdown(Use use) {
        StringBuilder sb = new StringBuilder();
        if (use == Use.USED) {
            sb.append("| key | type | default | accepted | dynamic | what it does |\n|---|---|---|---|---|---|\n");
        } else {
            sb.append("| key | type | default (Kafka's) | dynamic | why Runnel ignores it |\n|---|---|---|---|---|\n");
        }
        for (Key k : keys.values()) {
            if (k.use() != use) {
                continue;
            }
            String dflt = k.defaultValue() == null ? "(none)" : k.defaultValue().isEmpty() ? "\"\"" : "`" + k.defaultValue() + "`";
            sb.append("| `").append(k.name()).append("` | ").append(k.type()).append(" | ").append(dflt).append(" | ");
            if (use == Use.USED) {
                sb.append(k.validator() != null ? cell(k.validator().accepted()) : k.type() == Type.BOOLEAN ? "true or false" : "any").append(" | ");
            }
            sb.append(k.dynamic() ? "yes" : "").append(" | ");
            sb.append(cell(k.doc())).append(" |\n");
        }
        return sb.toString();
    }

    private static String cell(String s) {
        return s.replace("|", "\\|");
    }
}
