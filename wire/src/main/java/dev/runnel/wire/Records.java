package dev.runnel.wire;

/**
 * The bytes of a {@code records} field: record batches, never parsed by the message codec. On the way in
 * they are a view of the request frame ({@link ByteBufRecords}); on the way out the broker may supply an
 * implementation backed by file regions, which a zero-copy {@link Writable} sends without copying.
 */
public interface Records {
    int sizeInBytes();

    /** Copies the bytes into {@code out}; zero-copy writers recognise their own implementations instead. */
    void writeTo(Writable out);
}
