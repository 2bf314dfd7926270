package dev.runnel.broker.handlers;

import dev.runnel.broker.network.RequestContext;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.message.ApiKeys;
import java.util.concurrent.CompletableFuture;

/**
 * Handles one API key. The request body (and any records in it, which are views of the frame) is only
 * valid during {@link #handle}; a handler that answers later must copy what it keeps.
 */
public interface ApiHandler {
    ApiKeys api();

    /** The lowest version advertised and accepted (0 unless the API truly lacks old versions). */
    default short lowestVersion() {
        return api().lowestVersion;
    }

    /** The highest version advertised and accepted. */
    short highestVersion();

    /**
     * Answers a request. A future completed with {@code null} sends no response (Produce with acks=0).
     * Responses leave the connection in request order whatever order the futures complete in.
     */
    CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request);
}
