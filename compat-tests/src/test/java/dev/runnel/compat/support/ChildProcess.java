package dev.runnel.compat.support;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs an external program (a Kafka CLI tool in a child JVM, kcat, a python script) with a
 * deadline, feeding it stdin and capturing stdout and stderr. Everything is echoed to the test
 * output so a failing run can be read from the surefire report.
 */
public final class ChildProcess {

    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    /** What a finished child process left behind. */
    public record Result(List<String> command, int exitCode, String stdout, String stderr) {

        public List<String> stdoutLines() {
            return stdout.isEmpty() ? List.of() : Arrays.asList(stdout.split("\\R"));
        }

        /** A description for assertion messages. */
        public String describe() {
            return "command " + abbreviate(command) + " exited " + exitCode + "\n--- stdout ---\n" + stdout
                    + "\n--- stderr ---\n" + stderr;
        }

        public Result assertExitCode(int expected) {
            if (exitCode != expected) {
                fail("expected exit code " + expected + " but " + describe());
            }
            return this;
        }
    }

    private ChildProcess() {
    }

    /** The command line with very long arguments (classpaths) shortened, for logs. */
    static List<String> abbreviate(List<String> command) {
        List<String> shown = new ArrayList<>();
        for (String arg : command) {
            shown.add(arg.length() <= 160 ? arg : arg.substring(0, 60) + "...(" + arg.length() + " chars)");
        }
        return shown;
    }

    public static Result run(List<String> command, String stdin, Duration timeout) throws IOException,
            InterruptedException {
        Path out = Files.createTempFile("compat-child-", ".out");
        Path err = Files.createTempFile("compat-child-", ".err");
        try {
            ProcessBuilder builder = new ProcessBuilder(command)
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile());
            if (stdin == null) {
                builder.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            }
            System.out.println("[compat] running " + abbreviate(command));
            long startNanos = System.nanoTime();
            Process process = builder.start();
            if (stdin != null) {
                try (OutputStream in = process.getOutputStream()) {
                    in.write(stdin.getBytes(StandardCharsets.UTF_8));
                } catch (IOException e) {
                    // The child may exit (e.g. on a usage error) before reading its input; its exit
                    // code and stderr tell the story.
                    System.out.println("[compat] writing stdin failed: " + e);
                }
            }
            boolean finished = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!finished) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
            Result result = new Result(List.copyOf(command), finished ? process.exitValue() : -1,
                    Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
            long millis = (System.nanoTime() - startNanos) / 1_000_000;
            System.out.println("[compat] finished in " + millis + " ms: " + result.describe());
            if (!finished) {
                fail("timed out after " + timeout + ": " + result.describe());
            }
            return result;
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /**
     * Runs {@code mainClass} from the kafka-tools artifact in a child JVM whose classpath is the
     * one Maven wrote to the file named by {@code runnel.toolsClasspathFile}.
     */
    public static Result kafkaTool(String mainClass, String stdin, String... args) throws IOException,
            InterruptedException {
        String classpathFile = System.getProperty("runnel.toolsClasspathFile");
        assumeTrue(classpathFile != null && Files.isRegularFile(Path.of(classpathFile)),
                "Kafka CLI tools need the classpath file named by -Drunnel.toolsClasspathFile "
                        + "(written by maven-dependency-plugin; run these tests through Maven); got " + classpathFile);
        String classpath = Files.readString(Path.of(classpathFile), StandardCharsets.UTF_8).trim();
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // Start fast: these JVMs live for a second or two.
        command.add("-XX:TieredStopAtLevel=1");
        command.add("-XX:+UseSerialGC");
        command.add("-Xshare:auto");
        command.add("-Xmx256m");
        command.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
        command.add("-cp");
        command.add(classpath);
        command.add(mainClass);
        command.addAll(Arrays.asList(args));
        return run(command, stdin, DEFAULT_TIMEOUT);
    }

    /** The directory holding this module's python scripts ({@code src/test/python}). */
    public static Path pythonScriptDir() {
        String basedir = System.getProperty("basedir", System.getProperty("user.dir"));
        Path dir = Path.of(basedir, "src", "test", "python");
        if (!Files.isDirectory(dir)) {
            dir = Path.of(basedir, "compat-tests", "src", "test", "python");
        }
        return dir;
    }
}
