package dev.runnel.wire;

import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.RequestHeaderData;

/**
 * The header of a request frame. {@code api} is null when the key is unknown; {@code versionSupported} tells
 * whether the schemas know this version (the broker decides separately what it implements).
 */
public record RequestHeader(ApiKeys api, short apiKey, short apiVersion, int correlationId, String clientId,
                            short headerVersion, boolean versionSupported) {

    /** Reads the header from the start of {@code in}, leaving it positioned at the request body. */
    public static RequestHeader read(Readable in) {
        if (in.remaining() < 8) {
            throw new MalformedMessageException("Request header needs 8 bytes, frame has " + in.remaining());
        }
        short apiKey = in.buffer().getShort(in.buffer().readerIndex());
        short apiVersion = in.buffer().getShort(in.buffer().readerIndex() + 2);
        ApiKeys api = ApiKeys.forId(apiKey);
        if (api == null) {
            in.readInt16();
            in.readInt16();
            int correlationId = in.readInt32();
            return new RequestHeader(null, apiKey, apiVersion, correlationId, null, (short) 1, false);
        }
        boolean supported = api.isVersionSupported(apiVersion);
        // An unknown (newer) version is read with the header its flexibility implies, as Kafka does,
        // so that an ApiVersions request from a newer client can still be answered.
        short headerVersion = api.requestHeaderVersion(apiVersion);
        RequestHeaderData data = new RequestHeaderData(in, headerVersion);
        return new RequestHeader(api, apiKey, apiVersion, data.correlationId, data.clientId, headerVersion, supported);
    }
}
