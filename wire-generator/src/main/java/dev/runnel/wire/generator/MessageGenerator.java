package dev.runnel.wire.generator;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Reads Kafka's message schemas ({@code common/message/*.json}) and writes one Java class per schema, with
 * read and write for every version, plus the {@code ApiKeys} table. Run at build time by the wire module.
 *
 * <p>Arguments: schema directory, output source root, Java package.
 */
public final class MessageGenerator {
    private static final Set<String> PRIMITIVES =
            Set.of("bool", "int8", "int16", "uint16", "int32", "uint32", "int64", "float64", "string", "bytes", "uuid", "records");
    private static final Set<String> JAVA_KEYWORDS = Set.of("default", "class", "package", "interface", "public", "private",
            "static", "final", "new", "this", "switch", "case", "byte", "short", "int", "long", "boolean", "char", "double", "float");

    public static void main(String[] args) throws IOException {
        Path schemaDir = Path.of(args[0]);
        Path outRoot = Path.of(args[1]);
        String pkg = args[2];
        Path outDir = outRoot.resolve(pkg.replace('.', '/'));
        Files.createDirectories(outDir);
        ObjectMapper mapper = new ObjectMapper();
        mapper.enable(JsonParser.Feature.ALLOW_COMMENTS);
        Map<String, MessageSpec> current = readSchemas(mapper, schemaDir);
        List<MessageSpec> specs;
        if (args.length > 3) {
            specs = SchemaMerger.merge(readSchemas(mapper, Path.of(args[3])), current);
        } else {
            specs = new ArrayList<>(current.values());
        }
        for (MessageSpec spec : specs) {
            String code = new ClassWriter(pkg, spec).generate();
            Files.writeString(outDir.resolve(spec.className() + ".java"), code, StandardCharsets.UTF_8);
        }
        Files.writeString(outDir.resolve("ApiKeys.java"), apiKeys(pkg, specs), StandardCharsets.UTF_8);
        System.out.println("runnel wire generator: " + specs.size() + " schemas -> " + outDir);
    }

    /** Every schema of a directory, by file name (sorted). */
    static Map<String, MessageSpec> readSchemas(ObjectMapper mapper, Path dir) throws IOException {
        Map<String, MessageSpec> specs = new TreeMap<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.filter(f -> f.toString().endsWith(".json")).sorted().toList()) {
                specs.put(p.getFileName().toString(), MessageSpec.parse(mapper.readTree(p.toFile())));
            }
        }
        return specs;
    }

    // ---------------------------------------------------------------- model

    record Versions(int lo, int hi) {
        static final Versions NONE = new Versions(1, 0);

        static Versions parse(String s) {
            if (s == null) {
                return NONE;
            }
            s = s.trim();
            if (s.isEmpty() || s.equals("none")) {
                return NONE;
            }
            if (s.endsWith("+")) {
                return new Versions(Integer.parseInt(s.substring(0, s.length() - 1)), Short.MAX_VALUE);
            }
            int dash = s.indexOf('-');
            if (dash > 0) {
                return new Versions(Integer.parseInt(s.substring(0, dash)), Integer.parseInt(s.substring(dash + 1)));
            }
            int v = Integer.parseInt(s);
            return new Versions(v, v);
        }

        boolean empty() {
            return lo > hi;
        }

        boolean contains(int v) {
            return v >= lo && v <= hi;
        }

        /** The union of two ranges that touch or overlap (an empty side is ignored). */
        Versions union(Versions o) {
            if (empty()) {
                return o;
            }
            if (o.empty()) {
                return this;
            }
            if (Math.max(lo, o.lo) > Math.min(hi, o.hi) + 1) {
                throw new IllegalStateException("cannot join the disjoint version ranges " + this + " and " + o);
            }
            return new Versions(Math.min(lo, o.lo), Math.max(hi, o.hi));
        }

        Versions intersect(Versions o) {
            return new Versions(Math.max(lo, o.lo), Math.min(hi, o.hi));
        }

        /** A Java boolean expression over {@code version}. */
        String test() {
            if (empty()) {
                return "false";
            }
            if (lo <= 0 && hi >= Short.MAX_VALUE) {
                return "true";
            }
            if (hi >= Short.MAX_VALUE) {
                return "version >= " + lo;
            }
            if (lo <= 0) {
                return "version <= " + hi;
            }
            if (lo == hi) {
                return "version == " + lo;
            }
            return "(version >= " + lo + " && version <= " + hi + ")";
        }
    }

    record FieldSpec(String name, String type, Versions versions, Versions nullableVersions, Versions taggedVersions,
                     Integer tag, String defaultValue, Versions flexibleOverride, List<FieldSpec> fields) {
        static FieldSpec parse(JsonNode n) {
            List<FieldSpec> children = new ArrayList<>();
            if (n.has("fields")) {
                n.get("fields").forEach(c -> children.add(parse(c)));
            }
            return new FieldSpec(
                    n.get("name").asText(),
                    n.get("type").asText().trim(),
                    Versions.parse(text(n, "versions")),
                    Versions.parse(text(n, "nullableVersions")),
                    Versions.parse(text(n, "taggedVersions")),
                    n.has("tag") ? n.get("tag").asInt() : null,
                    n.has("default") ? n.get("default").asText() : null,
                    n.has("flexibleVersions") ? Versions.parse(text(n, "flexibleVersions")) : null,
                    children);
        }

        boolean isArray() {
            return type.startsWith("[]");
        }

        String elementType() {
            return isArray() ? type.substring(2) : type;
        }

        boolean isStruct() {
            return !PRIMITIVES.contains(elementType()) && !isArray();
        }

        boolean elementIsStruct() {
            return !PRIMITIVES.contains(elementType());
        }

        boolean nullableDefault() {
            return "null".equals(defaultValue);
        }

        String javaName() {
            String s = Character.toLowerCase(name.charAt(0)) + name.substring(1);
            return JAVA_KEYWORDS.contains(s) ? s + "_" : s;
        }
    }

    record StructSpec(String name, Versions versions, List<FieldSpec> fields) {
    }

    record MessageSpec(String name, String type, Integer apiKey, Versions validVersions, Versions flexibleVersions,
                       List<FieldSpec> fields, List<StructSpec> commonStructs, boolean latestVersionUnstable) {
        static MessageSpec parse(JsonNode n) {
            List<FieldSpec> fields = new ArrayList<>();
            if (n.has("fields")) {
                n.get("fields").forEach(f -> fields.add(FieldSpec.parse(f)));
            }
            List<StructSpec> common = new ArrayList<>();
            if (n.has("commonStructs")) {
                for (JsonNode c : n.get("commonStructs")) {
                    List<FieldSpec> cf = new ArrayList<>();
                    c.get("fields").forEach(f -> cf.add(FieldSpec.parse(f)));
                    common.add(new StructSpec(c.get("name").asText(), Versions.parse(text(c, "versions")), cf));
                }
            }
            return new MessageSpec(
                    n.get("name").asText(),
                    n.get("type").asText(),
                    n.has("apiKey") ? n.get("apiKey").asInt() : null,
                    Versions.parse(text(n, "validVersions")),
                    Versions.parse(text(n, "flexibleVersions")),
                    fields,
                    common,
                    n.has("latestVersionUnstable") && n.get("latestVersionUnstable").asBoolean());
        }

        /** As Kafka names them: requests, responses and headers get a Data suffix, other schemas keep their name. */
        String className() {
            return type.equals("request") || type.equals("response") || type.equals("header") ? name + "Data" : name;
        }

        boolean isApi() {
            return apiKey != null && (type.equals("request") || type.equals("response"));
        }
    }

    static String text(JsonNode n, String key) {
        return n.has(key) ? n.get(key).asText() : null;
    }

    // ---------------------------------------------------------------- code

    static final class ClassWriter {
        private final String pkg;
        private final MessageSpec spec;
        private final Map<String, StructSpec> structs = new LinkedHashMap<>();
        private final StringBuilder out = new StringBuilder();
        private int tmp;

        ClassWriter(String pkg, MessageSpec spec) {
            this.pkg = pkg;
            this.spec = spec;
            for (StructSpec s : spec.commonStructs()) {
                structs.put(s.name(), s);
            }
            collect(spec.fields());
        }

        private void collect(List<FieldSpec> fields) {
            for (FieldSpec f : fields) {
                if (!f.fields().isEmpty()) {
                    structs.putIfAbsent(f.elementType(), new StructSpec(f.elementType(), f.versions(), f.fields()));
                    collect(f.fields());
                }
            }
        }

        String generate() {
            for (StructSpec s : spec.commonStructs()) {
                collect(s.fields());
            }
            line(0, "// Generated by runnel-wire-generator from Kafka's " + spec.name() + ".json. Do not edit.");
            line(0, "package " + pkg + ";");
            line(0, "");
            line(0, "@SuppressWarnings({\"all\"})");
            String iface = spec.isApi() ? "dev.runnel.wire.ApiMessage" : "dev.runnel.wire.Message";
            line(0, "public final class " + spec.className() + " implements " + iface + " {");
            if (spec.apiKey() != null) {
                line(1, "public static final short API_KEY = " + spec.apiKey() + ";");
            }
            line(1, "public static final short LOWEST_SUPPORTED_VERSION = " + spec.validVersions().lo() + ";");
            line(1, "public static final short HIGHEST_SUPPORTED_VERSION = " + spec.validVersions().hi() + ";");
            line(0, "");
            body(1, spec.className(), spec.fields(), spec.validVersions());
            if (spec.isApi()) {
                line(1, "@Override public short apiKey() { return API_KEY; }");
                line(1, "@Override public short lowestSupportedVersion() { return LOWEST_SUPPORTED_VERSION; }");
                line(1, "@Override public short highestSupportedVersion() { return HIGHEST_SUPPORTED_VERSION; }");
            }
            for (StructSpec s : structs.values()) {
                line(0, "");
                line(1, "public static final class " + s.name() + " implements dev.runnel.wire.Message {");
                body(2, s.name(), s.fields(), s.versions());
                line(1, "}");
            }
            line(0, "}");
            return out.toString();
        }

        private void body(int d, String cls, List<FieldSpec> fields, Versions structVersions) {
            for (FieldSpec f : fields) {
                line(d, "public " + javaType(f) + " " + f.javaName() + " = " + defaultExpr(f) + ";");
            }
            line(0, "");
            line(d, "public " + cls + "() {");
            line(d, "}");
            line(0, "");
            line(d, "public " + cls + "(dev.runnel.wire.Readable in, short version) {");
            line(d + 1, "read(in, version);");
            line(d, "}");
            line(0, "");
            // setters for fluent construction
            for (FieldSpec f : fields) {
                String m = "set" + f.name();
                line(d, "public " + cls + " " + m + "(" + javaType(f) + " v) { this." + f.javaName() + " = v; return this; }");
            }
            line(0, "");
            readMethod(d, fields);
            line(0, "");
            writeMethod(d, fields);
            line(0, "");
            equalsHashToString(d, cls, fields);
        }

        // ---- read

        private void readMethod(int d, List<FieldSpec> fields) {
            line(d, "@Override");
            line(d, "public void read(dev.runnel.wire.Readable in, short version) {");
            for (FieldSpec f : fields) {
                line(d + 1, "this." + f.javaName() + " = " + defaultExpr(f) + ";");
            }
            for (FieldSpec f : fields) {
                Versions untagged = untaggedVersions(f);
                if (untagged.empty()) {
                    continue;
                }
                line(d + 1, "if (" + untagged.test() + ") {");
                readValue(d + 2, f, "this." + f.javaName(), false);
                line(d + 1, "}");
            }
            List<FieldSpec> tagged = taggedFields(fields);
            line(d + 1, "if (" + spec.flexibleVersions().test() + ") {");
            line(d + 2, "int numTagged = in.checkTaggedFieldCount(in.readUnsignedVarint());");
            line(d + 2, "for (int i = 0; i < numTagged; i++) {");
            line(d + 3, "int tag = in.readUnsignedVarint();");
            line(d + 3, "int size = in.readUnsignedVarint();");
            line(d + 3, "switch (tag) {");
            for (FieldSpec f : tagged) {
                line(d + 4, "case " + f.tag() + ":");
                line(d + 5, "if (" + f.taggedVersions().intersect(f.versions()).test() + ") {");
                readValue(d + 6, f, "this." + f.javaName(), true);
                line(d + 6, "break;");
                line(d + 5, "}");
                line(d + 5, "in.skip(size);");
                line(d + 5, "break;");
            }
            line(d + 4, "default:");
            line(d + 5, "in.skip(size);");
            line(d + 5, "break;");
            line(d + 3, "}");
            line(d + 2, "}");
            line(d + 1, "}");
            line(d, "}");
        }

        /** Versions in which a field is present and not tagged. */
        private Versions untaggedVersions(FieldSpec f) {
            if (f.taggedVersions().empty()) {
                return f.versions();
            }
            // a tagged field is tagged in all of its versions (Kafka requires this)
            return Versions.NONE;
        }

        private List<FieldSpec> taggedFields(List<FieldSpec> fields) {
            List<FieldSpec> tagged = new ArrayList<>();
            for (FieldSpec f : fields) {
                if (f.tag() != null) {
                    tagged.add(f);
                }
            }
            tagged.sort(Comparator.comparingInt(FieldSpec::tag));
            return tagged;
        }

        /** Expression telling whether strings/bytes/arrays use compact encoding for this field. */
        private String flexTest(FieldSpec f, boolean tagged) {
            if (tagged) {
                return "true";
            }
            if (f.flexibleOverride() != null) {
                return f.flexibleOverride().test();
            }
            return spec.flexibleVersions().test();
        }

        private void readValue(int d, FieldSpec f, String target, boolean tagged) {
            String flex = flexTest(f, tagged);
            String nullable = f.nullableVersions().test();
            String name = f.name();
            if (f.isArray()) {
                String n = "n" + (tmp++);
                line(d, "int " + n + " = (" + flex + ") ? in.readCompactLength() : in.readInt32();");
                line(d, "if (" + n + " < 0) {");
                line(d + 1, "if (!(" + nullable + ")) throw new dev.runnel.wire.MalformedMessageException(\"non-nullable field " + name + " was null\");");
                line(d + 1, target + " = null;");
                line(d, "} else {");
                line(d + 1, "in.checkArrayLength(" + n + ");");
                String list = "l" + (tmp++);
                String elemType = boxed(f.elementType());
                line(d + 1, "java.util.ArrayList<" + elemType + "> " + list + " = new java.util.ArrayList<>(in.listCapacity(" + n + "));");
                String i = "i" + (tmp++);
                line(d + 1, "for (int " + i + " = 0; " + i + " < " + n + "; " + i + "++) {");
                if (f.elementIsStruct()) {
                    line(d + 2, list + ".add(new " + f.elementType() + "(in, version));");
                } else {
                    String e = "e" + (tmp++);
                    line(d + 2, elemType + " " + e + ";");
                    readPrimitive(d + 2, f.elementType(), e, flex, "false", name);
                    line(d + 2, list + ".add(" + e + ");");
                }
                line(d + 1, "}");
                line(d + 1, target + " = " + list + ";");
                line(d, "}");
            } else if (f.isStruct()) {
                if (!f.nullableVersions().empty()) {
                    line(d, "if ((" + nullable + ") && in.readInt8() < 0) {");
                    line(d + 1, target + " = null;");
                    line(d, "} else {");
                    line(d + 1, target + " = new " + f.type() + "(in, version);");
                    line(d, "}");
                } else {
                    line(d, target + " = new " + f.type() + "(in, version);");
                }
            } else {
                readPrimitive(d, f.type(), target, flex, nullable, name);
            }
        }

        private void readPrimitive(int d, String type, String target, String flex, String nullable, String name) {
            switch (type) {
                case "bool" -> line(d, target + " = in.readBool();");
                case "int8" -> line(d, target + " = in.readInt8();");
                case "int16" -> line(d, target + " = in.readInt16();");
                case "uint16" -> line(d, target + " = in.readUint16();");
                case "int32" -> line(d, target + " = in.readInt32();");
                case "uint32" -> line(d, target + " = in.readUint32();");
                case "int64" -> line(d, target + " = in.readInt64();");
                case "float64" -> line(d, target + " = in.readFloat64();");
                case "uuid" -> line(d, target + " = in.readUuid();");
                case "string", "bytes", "records" -> {
                    String n = "n" + (tmp++);
                    String lenRead = type.equals("string") ? "in.readInt16()" : "in.readInt32()";
                    line(d, "int " + n + " = (" + flex + ") ? in.readCompactLength() : " + lenRead + ";");
                    line(d, "if (" + n + " < 0) {");
                    line(d + 1, "if (!(" + nullable + ")) throw new dev.runnel.wire.MalformedMessageException(\"non-nullable field " + name + " was null\");");
                    line(d + 1, target + " = null;");
                    line(d, "} else {");
                    String reader = switch (type) {
                        case "string" -> "in.readString(" + n + ")";
                        case "bytes" -> "in.readBytes(" + n + ")";
                        default -> "in.readRecords(" + n + ")";
                    };
                    line(d + 1, target + " = " + reader + ";");
                    line(d, "}");
                }
                default -> throw new IllegalStateException("unknown type " + type);
            }
        }

        // ---- write

        private void writeMethod(int d, List<FieldSpec> fields) {
            line(d, "@Override");
            line(d, "public void write(dev.runnel.wire.Writable out, short version) {");
            for (FieldSpec f : fields) {
                Versions untagged = untaggedVersions(f);
                if (untagged.empty()) {
                    continue;
                }
                line(d + 1, "if (" + untagged.test() + ") {");
                writeValue(d + 2, f, "this." + f.javaName(), false);
                line(d + 1, "}");
            }
            List<FieldSpec> tagged = taggedFields(fields);
            line(d + 1, "if (" + spec.flexibleVersions().test() + ") {");
            if (tagged.isEmpty()) {
                line(d + 2, "out.writeUnsignedVarint(0);");
            } else {
                line(d + 2, "int numTagged = 0;");
                for (FieldSpec f : tagged) {
                    line(d + 2, "if ((" + f.taggedVersions().intersect(f.versions()).test() + ") && " + nonDefault(f) + ") numTagged++;");
                }
                line(d + 2, "out.writeUnsignedVarint(numTagged);");
                for (FieldSpec f : tagged) {
                    line(d + 2, "if ((" + f.taggedVersions().intersect(f.versions()).test() + ") && " + nonDefault(f) + ") {");
                    line(d + 3, "out.writeUnsignedVarint(" + f.tag() + ");");
                    line(d + 3, "io.netty.buffer.ByteBuf tagBuf = io.netty.buffer.Unpooled.buffer();");
                    line(d + 3, "dev.runnel.wire.Writable outer = out;");
                    line(d + 3, "{");
                    line(d + 4, "dev.runnel.wire.Writable out2 = new dev.runnel.wire.ByteBufWritable(tagBuf);");
                    writeValueTo(d + 4, f, "this." + f.javaName(), true, "out2");
                    line(d + 3, "}");
                    line(d + 3, "outer.writeUnsignedVarint(tagBuf.readableBytes());");
                    line(d + 3, "outer.writeByteBuf(tagBuf);");
                    line(d + 3, "tagBuf.release();");
                    line(d + 2, "}");
                }
            }
            line(d + 1, "}");
            line(d, "}");
        }

        private void writeValue(int d, FieldSpec f, String v, boolean tagged) {
            writeValueTo(d, f, v, tagged, "out");
        }

        private void writeValueTo(int d, FieldSpec f, String v, boolean tagged, String o) {
            String flex = flexTest(f, tagged);
            if (f.isArray()) {
                line(d, "if (" + v + " == null) {");
                line(d + 1, "if (" + flex + ") " + o + ".writeUnsignedVarint(0); else " + o + ".writeInt32(-1);");
                line(d, "} else {");
                line(d + 1, "if (" + flex + ") " + o + ".writeUnsignedVarint(" + v + ".size() + 1); else " + o + ".writeInt32(" + v + ".size());");
                String e = "e" + (tmp++);
                line(d + 1, "for (" + boxed(f.elementType()) + " " + e + " : " + v + ") {");
                if (f.elementIsStruct()) {
                    line(d + 2, e + ".write(" + o + ", version);");
                } else {
                    writePrimitive(d + 2, f.elementType(), e, flex, o);
                }
                line(d + 1, "}");
                line(d, "}");
            } else if (f.isStruct()) {
                if (!f.nullableVersions().empty()) {
                    line(d, "if (" + f.nullableVersions().test() + ") {");
                    line(d + 1, "if (" + v + " == null) { " + o + ".writeInt8((byte) -1); } else { " + o + ".writeInt8((byte) 1); " + v + ".write(" + o + ", version); }");
                    line(d, "} else {");
                    line(d + 1, v + ".write(" + o + ", version);");
                    line(d, "}");
                } else {
                    line(d, v + ".write(" + o + ", version);");
                }
            } else {
                writePrimitive(d, f.type(), v, flex, o);
            }
        }

        private void writePrimitive(int d, String type, String v, String flex, String o) {
            switch (type) {
                case "bool" -> line(d, o + ".writeBool(" + v + ");");
                case "int8" -> line(d, o + ".writeInt8(" + v + ");");
                case "int16" -> line(d, o + ".writeInt16(" + v + ");");
                case "uint16" -> line(d, o + ".writeInt16((short) (int) " + v + ");");
                case "int32" -> line(d, o + ".writeInt32(" + v + ");");
                case "uint32" -> line(d, o + ".writeInt32((int) (long) " + v + ");");
                case "int64" -> line(d, o + ".writeInt64(" + v + ");");
                case "float64" -> line(d, o + ".writeFloat64(" + v + ");");
                case "uuid" -> line(d, o + ".writeUuid(" + v + ");");
                case "string" -> {
                    String b = "b" + (tmp++);
                    line(d, "if (" + v + " == null) {");
                    line(d + 1, "if (" + flex + ") " + o + ".writeUnsignedVarint(0); else " + o + ".writeInt16((short) -1);");
                    line(d, "} else {");
                    line(d + 1, "byte[] " + b + " = " + v + ".getBytes(java.nio.charset.StandardCharsets.UTF_8);");
                    line(d + 1, "if (" + flex + ") " + o + ".writeUnsignedVarint(" + b + ".length + 1); else " + o + ".writeInt16((short) " + b + ".length);");
                    line(d + 1, o + ".writeByteArray(" + b + ");");
                    line(d, "}");
                }
                case "bytes" -> {
                    line(d, "if (" + v + " == null) {");
                    line(d + 1, "if (" + flex + ") " + o + ".writeUnsignedVarint(0); else " + o + ".writeInt32(-1);");
                    line(d, "} else {");
                    line(d + 1, "if (" + flex + ") " + o + ".writeUnsignedVarint(" + v + ".length + 1); else " + o + ".writeInt32(" + v + ".length);");
                    line(d + 1, o + ".writeByteArray(" + v + ");");
                    line(d, "}");
                }
                case "records" -> {
                    line(d, "if (" + v + " == null) {");
                    line(d + 1, "if (" + flex + ") " + o + ".writeUnsignedVarint(0); else " + o + ".writeInt32(-1);");
                    line(d, "} else {");
                    line(d + 1, "if (" + flex + ") " + o + ".writeUnsignedVarint(" + v + ".sizeInBytes() + 1); else " + o + ".writeInt32(" + v + ".sizeInBytes());");
                    line(d + 1, o + ".writeRecords(" + v + ");");
                    line(d, "}");
                }
                default -> throw new IllegalStateException("unknown type " + type);
            }
        }

        /** Java expression: the field differs from its default, so a tagged field must be written. */
        private String nonDefault(FieldSpec f) {
            String v = "this." + f.javaName();
            if (f.isArray()) {
                return f.nullableDefault() ? v + " != null" : "(" + v + " == null || !" + v + ".isEmpty())";
            }
            if (f.isStruct()) {
                return f.nullableDefault() ? v + " != null" : "(" + v + " == null || !" + v + ".equals(new " + f.type() + "()))";
            }
            return switch (f.type()) {
                case "string" -> f.nullableDefault() ? v + " != null" : "!java.util.Objects.equals(" + v + ", " + defaultExpr(f) + ")";
                case "bytes" -> f.nullableDefault() ? v + " != null" : "(" + v + " == null || " + v + ".length != 0)";
                case "records" -> v + " != null";
                case "uuid" -> "!" + v + ".equals(" + defaultExpr(f) + ")";
                case "float64" -> "Double.compare(" + v + ", " + defaultExpr(f) + ") != 0";
                default -> v + " != " + defaultExpr(f);
            };
        }

        // ---- equals / hashCode / toString

        private void equalsHashToString(int d, String cls, List<FieldSpec> fields) {
            line(d, "@Override");
            line(d, "public boolean equals(Object obj) {");
            line(d + 1, "if (this == obj) return true;");
            line(d + 1, "if (!(obj instanceof " + cls + ")) return false;");
            line(d + 1, cls + " other = (" + cls + ") obj;");
            for (FieldSpec f : fields) {
                String a = "this." + f.javaName();
                String b = "other." + f.javaName();
                String jt = javaType(f);
                if (jt.equals("byte[]")) {
                    line(d + 1, "if (!java.util.Arrays.equals(" + a + ", " + b + ")) return false;");
                } else if (jt.equals("double")) {
                    line(d + 1, "if (Double.compare(" + a + ", " + b + ") != 0) return false;");
                } else if (isPrimitiveJava(jt)) {
                    line(d + 1, "if (" + a + " != " + b + ") return false;");
                } else {
                    line(d + 1, "if (!java.util.Objects.equals(" + a + ", " + b + ")) return false;");
                }
            }
            line(d + 1, "return true;");
            line(d, "}");
            line(0, "");
            line(d, "@Override");
            line(d, "public int hashCode() {");
            line(d + 1, "int h = 0;");
            for (FieldSpec f : fields) {
                String a = "this." + f.javaName();
                String jt = javaType(f);
                String hc = jt.equals("byte[]") ? "java.util.Arrays.hashCode(" + a + ")"
                        : isPrimitiveJava(jt) ? boxed2(jt) + ".hashCode(" + a + ")"
                        : "java.util.Objects.hashCode(" + a + ")";
                line(d + 1, "h = 31 * h + " + hc + ";");
            }
            line(d + 1, "return h;");
            line(d, "}");
            line(0, "");
            line(d, "@Override");
            line(d, "public String toString() {");
            StringBuilder sb = new StringBuilder("\"" + cls + "(\"");
            boolean first = true;
            for (FieldSpec f : fields) {
                String a = "this." + f.javaName();
                String val = javaType(f).equals("byte[]") ? "java.util.Arrays.toString(" + a + ")" : "String.valueOf(" + a + ")";
                sb.append(" + \"").append(first ? "" : ", ").append(f.javaName()).append("=\" + ").append(val);
                first = false;
            }
            sb.append(" + \")\"");
            line(d + 1, "return " + sb + ";");
            line(d, "}");
        }

        // ---- types and defaults

        private String javaType(FieldSpec f) {
            if (f.isArray()) {
                return "java.util.List<" + boxed(f.elementType()) + ">";
            }
            if (f.isStruct()) {
                return f.type();
            }
            return primitiveJava(f.type());
        }

        private static boolean isPrimitiveJava(String jt) {
            return Set.of("boolean", "byte", "short", "int", "long", "double").contains(jt);
        }

        private static String boxed2(String jt) {
            return switch (jt) {
                case "boolean" -> "Boolean";
                case "byte" -> "Byte";
                case "short" -> "Short";
                case "int" -> "Integer";
                case "long" -> "Long";
                case "double" -> "Double";
                default -> jt;
            };
        }

        private static String primitiveJava(String t) {
            return switch (t) {
                case "bool" -> "boolean";
                case "int8" -> "byte";
                case "int16" -> "short";
                case "uint16", "int32" -> "int";
                case "uint32", "int64" -> "long";
                case "float64" -> "double";
                case "string" -> "String";
                case "bytes" -> "byte[]";
                case "uuid" -> "java.util.UUID";
                case "records" -> "dev.runnel.wire.Records";
                default -> t;
            };
        }

        private static String boxed(String elementType) {
            if (!PRIMITIVES.contains(elementType)) {
                return elementType;
            }
            return boxed2(primitiveJava(elementType));
        }

        private String defaultExpr(FieldSpec f) {
            String dv = f.defaultValue();
            if (f.isArray()) {
                return f.nullableDefault() ? "null" : "new java.util.ArrayList<>()";
            }
            if (f.isStruct()) {
                return f.nullableDefault() ? "null" : "new " + f.type() + "()";
            }
            switch (f.type()) {
                case "bool":
                    return dv != null && dv.equals("true") ? "true" : "false";
                case "int8":
                    return "(byte) " + num(dv);
                case "int16":
                    return "(short) " + num(dv);
                case "uint16":
                case "int32":
                    return num(dv);
                case "uint32":
                case "int64":
                    return num(dv) + "L";
                case "float64":
                    return dv == null || dv.isEmpty() ? "0.0" : Double.toString(Double.parseDouble(dv));
                case "string":
                    if (dv == null) {
                        return "\"\"";
                    }
                    return dv.equals("null") ? "null" : "\"" + dv.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
                case "bytes":
                    return "null".equals(dv) ? "null" : "new byte[0]";
                case "records":
                    return "null";
                case "uuid":
                    return "new java.util.UUID(0L, 0L)";
                default:
                    throw new IllegalStateException("unknown type " + f.type());
            }
        }

        private static String num(String dv) {
            if (dv == null || dv.isBlank()) {
                return "0";
            }
            dv = dv.trim();
            if (dv.startsWith("0x") || dv.startsWith("0X")) {
                return Long.toString(Long.parseLong(dv.substring(2), 16));
            }
            return Long.toString(Long.parseLong(dv));
        }

        private void line(int depth, String s) {
            out.append("    ".repeat(depth)).append(s).append('\n');
        }
    }

    // ---------------------------------------------------------------- ApiKeys

    static String apiKeys(String pkg, List<MessageSpec> specs) {
        Map<Integer, MessageSpec> requests = new TreeMap<>();
        Map<Integer, MessageSpec> responses = new TreeMap<>();
        for (MessageSpec s : specs) {
            if (!s.isApi()) {
                continue;
            }
            (s.type().equals("request") ? requests : responses).put(s.apiKey(), s);
        }
        StringBuilder sb = new StringBuilder();
        sb.append("// Generated by runnel-wire-generator from Kafka's message schemas. Do not edit.\n");
        sb.append("package ").append(pkg).append(";\n\n");
        sb.append("/** Every API key the schemas describe, with its version ranges and message classes. */\n");
        sb.append("public enum ApiKeys {\n");
        List<String> rows = new ArrayList<>();
        for (Map.Entry<Integer, MessageSpec> e : requests.entrySet()) {
            MessageSpec req = e.getValue();
            MessageSpec resp = responses.get(e.getKey());
            if (resp == null) {
                continue;
            }
            String title = req.name().substring(0, req.name().length() - "Request".length());
            rows.add("    " + upperSnake(title) + "(" + e.getKey() + ", \"" + title + "\", " + req.validVersions().lo() + ", "
                    + req.validVersions().hi() + ", " + (req.flexibleVersions().empty() ? Short.MAX_VALUE : req.flexibleVersions().lo())
                    + ", " + (resp.flexibleVersions().empty() ? Short.MAX_VALUE : resp.flexibleVersions().lo()) + ", "
                    + req.latestVersionUnstable() + ", " + req.className() + "::new, " + resp.className() + "::new)");
        }
        sb.append(String.join(",\n", rows)).append(";\n\n");
        sb.append("""
                    private static final ApiKeys[] BY_ID;

                    static {
                        int max = 0;
                        for (ApiKeys k : values()) {
                            max = Math.max(max, k.id);
                        }
                        BY_ID = new ApiKeys[max + 1];
                        for (ApiKeys k : values()) {
                            BY_ID[k.id] = k;
                        }
                    }

                    public final short id;
                    public final String title;
                    public final short lowestVersion;
                    public final short highestVersion;
                    private final short firstFlexibleRequestVersion;
                    private final short firstFlexibleResponseVersion;
                    /** The schema marks its highest version as still unstable: brokers must not advertise it. */
                    public final boolean latestVersionUnstable;
                    private final java.util.function.Supplier<dev.runnel.wire.ApiMessage> request;
                    private final java.util.function.Supplier<dev.runnel.wire.ApiMessage> response;

                    ApiKeys(int id, String title, int lowest, int highest, int firstFlexibleRequest, int firstFlexibleResponse,
                            boolean latestVersionUnstable, java.util.function.Supplier<dev.runnel.wire.ApiMessage> request,
                            java.util.function.Supplier<dev.runnel.wire.ApiMessage> response) {
                        this.id = (short) id;
                        this.title = title;
                        this.lowestVersion = (short) lowest;
                        this.highestVersion = (short) highest;
                        this.firstFlexibleRequestVersion = (short) firstFlexibleRequest;
                        this.firstFlexibleResponseVersion = (short) firstFlexibleResponse;
                        this.latestVersionUnstable = latestVersionUnstable;
                        this.request = request;
                        this.response = response;
                    }

                    /** The API with this key, or null when the schemas describe none. */
                    public static ApiKeys forId(int id) {
                        return id >= 0 && id < BY_ID.length ? BY_ID[id] : null;
                    }

                    public boolean isVersionSupported(short version) {
                        return version >= lowestVersion && version <= highestVersion;
                    }

                    public boolean isFlexibleRequest(short version) {
                        return version >= firstFlexibleRequestVersion;
                    }

                    public boolean isFlexibleResponse(short version) {
                        return version >= firstFlexibleResponseVersion;
                    }

                    /** Request header v2 for flexible versions, else v1 (ControlledShutdown v0 used v0). */
                    public short requestHeaderVersion(short version) {
                        if (this == CONTROLLED_SHUTDOWN && version == 0) {
                            return 0;
                        }
                        return (short) (isFlexibleRequest(version) ? 2 : 1);
                    }

                    /** Response header v1 for flexible versions, else v0; ApiVersions always answers with v0. */
                    public short responseHeaderVersion(short version) {
                        if (this == API_VERSIONS) {
                            return 0;
                        }
                        return (short) (isFlexibleResponse(version) ? 1 : 0);
                    }

                    public dev.runnel.wire.ApiMessage newRequest() {
                        return request.get();
                    }

                    public dev.runnel.wire.ApiMessage newResponse() {
                        return response.get();
                    }
                }
                """);
        return sb.toString();
    }

    static String upperSnake(String camel) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < camel.length(); i++) {
            char c = camel.charAt(i);
            if (Character.isUpperCase(c) && i > 0 && (Character.isLowerCase(camel.charAt(i - 1))
                    || (i + 1 < camel.length() && Character.isLowerCase(camel.charAt(i + 1)) && Character.isUpperCase(camel.charAt(i - 1))))) {
                sb.append('_');
            }
            sb.append(Character.toUpperCase(c));
        }
        return sb.toString();
    }
}
