package dev.runnel.wire;

/** Writes response headers: v0 is the correlation id, v1 adds an empty tagged-field buffer. */
public final class ResponseHeader {
    private ResponseHeader() {
    }

    public static void write(Writable out, int correlationId, short headerVersion) {
        out.writeInt32(correlationId);
        if (headerVersion >= 1) {
            out.writeUnsignedVarint(0);
        }
    }
}
