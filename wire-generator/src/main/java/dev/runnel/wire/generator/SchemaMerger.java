package dev.runnel.wire.generator;

import dev.runnel.wire.generator.MessageGenerator.FieldSpec;
import dev.runnel.wire.generator.MessageGenerator.MessageSpec;
import dev.runnel.wire.generator.MessageGenerator.StructSpec;
import dev.runnel.wire.generator.MessageGenerator.Versions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Joins two schema sets into one class per message: the current set (Kafka 4.x) describes every version it still
 * has, the legacy set (Kafka 3.9) the versions 4.x removed (KIP-896), which old clients still send.
 *
 * <p>For each message, versions from the current set's lowest version up are exactly the current schema; versions
 * below it are exactly the legacy schema. A field's version ranges are cut at that boundary and joined, so a
 * field 4.x dropped (ListOffsets MaxNumOffsets v0) stays for the old versions, and a field 4.x narrowed (Produce
 * Name "0-12") keeps its old versions too. A legacy version the legacy schema marks unstable (early-access share
 * groups) is not taken. A legacy message whose API key the current set gives to another message is dropped.
 */
final class SchemaMerger {
    private SchemaMerger() {
    }

    static List<MessageSpec> merge(Map<String, MessageSpec> legacy, Map<String, MessageSpec> current) {
        Set<String> currentApiKeys = new HashSet<>();
        for (MessageSpec s : current.values()) {
            if (s.isApi()) {
                currentApiKeys.add(s.type() + ":" + s.apiKey());
            }
        }
        // Only requests carry latestVersionUnstable; their responses share it.
        Set<Integer> legacyUnstable = new HashSet<>();
        for (MessageSpec s : legacy.values()) {
            if (s.isApi() && s.latestVersionUnstable()) {
                legacyUnstable.add(s.apiKey());
            }
        }
        Map<String, MessageSpec> out = new LinkedHashMap<>();
        for (Map.Entry<String, MessageSpec> e : current.entrySet()) {
            MessageSpec old = legacy.get(e.getKey());
            out.put(e.getKey(), old == null ? e.getValue()
                    : mergeMessage(old, e.getValue(), old.isApi() && legacyUnstable.contains(old.apiKey())));
        }
        for (Map.Entry<String, MessageSpec> e : legacy.entrySet()) {
            MessageSpec old = e.getValue();
            if (!out.containsKey(e.getKey()) && !(old.isApi() && currentApiKeys.contains(old.type() + ":" + old.apiKey()))) {
                out.put(e.getKey(), old);
            }
        }
        List<MessageSpec> list = new ArrayList<>(out.values());
        list.sort((a, b) -> a.name().compareTo(b.name()));
        return list;
    }

    /** The legacy schema's stable versions (its highest is excluded when marked unstable). */
    private static Versions stable(MessageSpec s, boolean unstable) {
        Versions v = s.validVersions();
        return unstable && !v.empty() ? new Versions(v.lo(), v.hi() - 1) : v;
    }

    static MessageSpec mergeMessage(MessageSpec old, MessageSpec cur, boolean oldLatestUnstable) {
        if (cur.validVersions().empty()) {
            return old; // a whole API 4.x removed (LeaderAndIsr, ...): the legacy schema as it was
        }
        Versions oldStable = stable(old, oldLatestUnstable);
        int boundary = cur.validVersions().lo();
        Versions oldOnly = oldStable.intersect(new Versions(0, boundary - 1));
        if (oldOnly.empty()) {
            return cur;
        }
        Versions newRange = new Versions(boundary, Short.MAX_VALUE);
        if (!sameOn(old.flexibleVersions(), cur.flexibleVersions(), oldOnly)) {
            throw new IllegalStateException(cur.name() + ": flexible versions differ below v" + boundary);
        }
        Versions flexible = cur.flexibleVersions();
        Merge m = new Merge(cur.name(), oldOnly, newRange);
        List<FieldSpec> fields = m.fields(old.fields(), cur.fields());
        Map<String, StructSpec> oldStructs = new LinkedHashMap<>();
        old.commonStructs().forEach(s -> oldStructs.put(s.name(), s));
        List<StructSpec> common = new ArrayList<>();
        for (StructSpec s : cur.commonStructs()) {
            StructSpec o = oldStructs.remove(s.name());
            if (o == null) {
                common.add(s);
            } else {
                common.add(new StructSpec(s.name(), s.versions().intersect(newRange).union(o.versions().intersect(oldOnly)),
                        m.fields(o.fields(), s.fields())));
            }
        }
        for (StructSpec o : oldStructs.values()) {
            common.add(new StructSpec(o.name(), o.versions().intersect(oldOnly), o.fields()));
        }
        return new MessageSpec(cur.name(), cur.type(), cur.apiKey(), new Versions(oldOnly.lo(), cur.validVersions().hi()),
                flexible, fields, common, cur.latestVersionUnstable());
    }

    /** The two ranges contain the same versions of {@code within}. */
    private static boolean sameOn(Versions a, Versions b, Versions within) {
        for (int v = within.lo(); v <= within.hi(); v++) {
            if (a.contains(v) != b.contains(v)) {
                return false;
            }
        }
        return true;
    }

    private record Merge(String message, Versions oldOnly, Versions newRange) {
        private Versions join(Versions cur, Versions old) {
            return cur.intersect(newRange).union(old.intersect(oldOnly));
        }

        List<FieldSpec> fields(List<FieldSpec> oldFields, List<FieldSpec> curFields) {
            Map<String, FieldSpec> oldByName = new LinkedHashMap<>();
            oldFields.forEach(f -> oldByName.put(f.name(), f));
            List<FieldSpec> out = new ArrayList<>();
            for (FieldSpec f : curFields) {
                FieldSpec o = oldByName.get(f.name());
                out.add(o == null ? restrict(f) : field(o, f));
            }
            // Fields only the legacy schema has, each after the field that preceded it there.
            String previous = null;
            for (FieldSpec o : oldFields) {
                boolean inCurrent = curFields.stream().anyMatch(f -> f.name().equals(o.name()));
                if (!inCurrent && !o.versions().intersect(oldOnly).empty()) {
                    int at = 0;
                    for (int i = 0; i < out.size(); i++) {
                        if (out.get(i).name().equals(previous)) {
                            at = i + 1;
                        }
                    }
                    out.add(at, oldOnlyField(o));
                }
                previous = o.name();
            }
            return out;
        }

        /** A field only the current schema has: not present below the boundary. */
        private FieldSpec restrict(FieldSpec f) {
            List<FieldSpec> children = new ArrayList<>();
            f.fields().forEach(c -> children.add(restrict(c)));
            return new FieldSpec(f.name(), f.type(), f.versions().intersect(newRange), f.nullableVersions().intersect(newRange),
                    f.taggedVersions().intersect(newRange), f.tag(), f.defaultValue(), f.flexibleOverride(), children);
        }

        /** A field only the legacy schema has: present only below the boundary. */
        private FieldSpec oldOnlyField(FieldSpec o) {
            List<FieldSpec> children = new ArrayList<>();
            o.fields().forEach(c -> children.add(oldOnlyField(c)));
            return new FieldSpec(o.name(), o.type(), o.versions().intersect(oldOnly), o.nullableVersions().intersect(oldOnly),
                    o.taggedVersions().intersect(oldOnly), o.tag(), o.defaultValue(), o.flexibleOverride(), children);
        }

        private FieldSpec field(FieldSpec o, FieldSpec f) {
            if (!o.type().equals(f.type())) {
                throw new IllegalStateException(message + "." + f.name() + ": type " + o.type() + " became " + f.type());
            }
            if (!java.util.Objects.equals(o.tag(), f.tag()) && o.tag() != null && f.tag() != null) {
                throw new IllegalStateException(message + "." + f.name() + ": tag " + o.tag() + " became " + f.tag());
            }
            if (f.flexibleOverride() != null || o.flexibleOverride() != null) {
                Versions a = o.flexibleOverride() == null ? Versions.NONE : o.flexibleOverride();
                Versions b = f.flexibleOverride() == null ? Versions.NONE : f.flexibleOverride();
                if (!sameOn(a, b, oldOnly)) {
                    throw new IllegalStateException(message + "." + f.name() + ": field flexible versions differ below the boundary");
                }
            }
            List<FieldSpec> children = fields(o.fields(), f.fields());
            return new FieldSpec(f.name(), f.type(), join(f.versions(), o.versions()),
                    join(f.nullableVersions(), o.nullableVersions()), join(f.taggedVersions(), o.taggedVersions()),
                    f.tag() != null ? f.tag() : o.tag(), f.defaultValue(), f.flexibleOverride(), children);
        }
    }
}
