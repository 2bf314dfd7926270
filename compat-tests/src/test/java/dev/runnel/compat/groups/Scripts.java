package dev.runnel.compat.groups;

import dev.runnel.compat.support.ChildProcess;
import dev.runnel.compat.support.PythonScripts;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Runs a python program given as text (the group tests keep their scripts next to the assertions). */
final class Scripts {
    private Scripts() {
    }

    static ChildProcess.Result python(String source, Object... args) throws Exception {
        Path file = Files.createTempFile("runnel-groups-", ".py");
        try {
            Files.writeString(file, source, StandardCharsets.UTF_8);
            List<String> command = new ArrayList<>(List.of(PythonScripts.PYTHON.toString(), "-u", file.toString()));
            for (Object a : args) {
                command.add(String.valueOf(a));
            }
            return ChildProcess.run(command, null, Duration.ofSeconds(90));
        } finally {
            Files.deleteIfExists(file);
        }
    }

    static List<String> lines(ChildProcess.Result r, String prefix) {
        return r.stdoutLines().stream().filter(l -> l.startsWith(prefix)).toList();
    }
}
