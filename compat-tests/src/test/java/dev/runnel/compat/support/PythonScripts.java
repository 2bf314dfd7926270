package dev.runnel.compat.support;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs this module's python scripts ({@code src/test/python}) with Debian's interpreter, where
 * the Debian client packages (python3-kafka, python3-confluent-kafka) are installed — not with
 * whatever {@code python3} comes first on PATH.
 */
public final class PythonScripts {

    public static final Path PYTHON = Path.of("/usr/bin/python3");
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private PythonScripts() {
    }

    /** Skips the calling test (with the reason) unless {@code module} imports under /usr/bin/python3. */
    public static void assumeModule(String module, String debianPackage) throws Exception {
        assumeTrue(Files.isExecutable(PYTHON), PYTHON + " is not installed; skipping the " + module + " tests");
        ChildProcess.Result result = ChildProcess.run(List.of(PYTHON.toString(), "-c", "import " + module), null, TIMEOUT);
        assumeTrue(result.exitCode() == 0, "python module " + module + " is missing under " + PYTHON
                + " (Debian package " + debianPackage + "); skipping: " + result.stderr().strip());
    }

    public static ChildProcess.Result run(String script, Object... args) throws Exception {
        Path path = ChildProcess.pythonScriptDir().resolve(script);
        if (!Files.isRegularFile(path)) {
            throw new IllegalStateException("python script not found: " + path.toAbsolutePath());
        }
        List<String> command = new ArrayList<>(List.of(PYTHON.toString(), "-u", path.toString()));
        for (Object arg : args) {
            command.add(String.valueOf(arg));
        }
        return ChildProcess.run(command, null, TIMEOUT);
    }
}
