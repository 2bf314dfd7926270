package dev.runnel.wire;

/** A top-level request or response body of one API key. */
public interface ApiMessage extends Message {
    short apiKey();

    short lowestSupportedVersion();

    short highestSupportedVersion();
}
