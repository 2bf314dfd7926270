package dev.runnel.wire.records;

/**
 * The Kafka error codes that record validation can produce, as plain {@code int}s so that this
 * package does not depend on the broker-wide error enum.
 */
public final class ErrorCodes {
    public static final int NONE = 0;
    /** A CRC mismatch, a truncated batch, a length below the minimum or an unknown magic byte. */
    public static final int CORRUPT_MESSAGE = 2;
    /** A batch larger than {@code max.message.bytes}. */
    public static final int MESSAGE_TOO_LARGE = 10;
    /** A whole request larger than the segment size. */
    public static final int RECORD_LIST_TOO_LARGE = 18;
    /** A producer-set LogAppendTime on a CreateTime topic, or a timestamp out of bounds. */
    public static final int INVALID_TIMESTAMP = 32;
    /** Legacy message formats (magic 0 and 1). */
    public static final int UNSUPPORTED_FOR_MESSAGE_FORMAT = 43;
    /** A codec the request version cannot carry (zstd to Fetch before v10). */
    public static final int UNSUPPORTED_COMPRESSION_TYPE = 76;
    /** A structurally invalid batch: bad count, bad offsets, control batch from a client, bad sequence. */
    public static final int INVALID_RECORD = 87;

    private ErrorCodes() {
    }
}
