package dev.runnel.metadata.controller;

import dev.runnel.wire.Message;
import java.util.List;

/** What a controller operation decided: the records to commit, and the answer once they are committed. */
public record ControllerResult<T>(List<Message> records, T response) {
    public static <T> ControllerResult<T> of(List<Message> records, T response) {
        return new ControllerResult<>(List.copyOf(records), response);
    }

    public static <T> ControllerResult<T> none(T response) {
        return new ControllerResult<>(List.of(), response);
    }
}
