package dev.runnel.groupcoord;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Reads the subscribed topics out of a consumer's JoinGroup metadata (the "consumer" protocol). Every version of
 * that subscription starts with the version-0 layout: int16 version, then int32 count and int16-length topic names,
 * so reading that prefix works for all versions, as Kafka does.
 */
final class ConsumerProtocolSubscription {
    private ConsumerProtocolSubscription() {
    }

    static Optional<List<String>> topics(byte[] metadata) {
        if (metadata == null) {
            return Optional.empty();
        }
        try {
            ByteBuffer in = ByteBuffer.wrap(metadata);
            short version = in.getShort();
            if (version < 0) {
                return Optional.empty();
            }
            int count = in.getInt();
            if (count < 0 || count > in.remaining() / 2) {
                return Optional.empty();
            }
            List<String> topics = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                short len = in.getShort();
                if (len < 0 || len > in.remaining()) {
                    return Optional.empty();
                }
                byte[] name = new byte[len];
                in.get(name);
                topics.add(new String(name, StandardCharsets.UTF_8));
            }
            return Optional.of(topics);
        } catch (BufferUnderflowException e) {
            return Optional.empty();
        }
    }
}
