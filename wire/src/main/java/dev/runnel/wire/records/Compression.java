package dev.runnel.wire.records;

/** The compression codecs of RecordBatch v2, by their id in bits 0-2 of the batch attributes. */
public enum Compression {
    NONE(0, "none"),
    GZIP(1, "gzip"),
    SNAPPY(2, "snappy"),
    LZ4(3, "lz4"),
    ZSTD(4, "zstd");

    private static final Compression[] BY_ID = values();

    public final int id;
    public final String kafkaName;

    Compression(int id, String kafkaName) {
        this.id = id;
        this.kafkaName = kafkaName;
    }

    /** The codec with this id, or {@code null} if the id is not one of 0..4. */
    public static Compression forId(int id) {
        return id >= 0 && id < BY_ID.length ? BY_ID[id] : null;
    }
}
