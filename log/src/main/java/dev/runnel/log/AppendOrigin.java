package dev.runnel.log;

/** Who is appending, which decides how much is validated (as Kafka's {@code AppendOrigin}). */
public enum AppendOrigin {
    /** A producer: full validation, one batch per request, sequence checks, duplicate detection. */
    CLIENT,
    /** The broker's own coordinators (group offsets, transaction markers): framing/CRC and epoch checks only. */
    COORDINATOR
}
