package dev.runnel.wire;

/** A generated protocol struct that can be read from and written to the wire in a given version. */
public interface Message {
    void read(Readable in, short version);

    void write(Writable out, short version);
}
