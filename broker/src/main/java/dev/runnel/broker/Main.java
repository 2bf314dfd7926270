package dev.runnel.broker;

import dev.runnel.broker.config.BrokerConfigKeys;
import dev.runnel.broker.config.StartupChecks;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * {@code runnel-server-start.sh [server.properties]}: runs in the foreground until SIGTERM/SIGINT.
 * {@code --help-config} prints every configuration key (docs/configuration.md).
 *
 * <p>Whatever stops the start (a bad value, a missing file, a port in use, a directory it cannot write) is one
 * ERROR line that names the key, value, address or path and what to do, and exit code 1: no stack trace.
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) throws Exception {
        String logProblem = StartupChecks.configureLogging(System.getenv());
        if (logProblem != null) {
            System.err.println("Runnel cannot start: " + logProblem);
            System.exit(1);
            return;
        }
        if (args.length > 0 && args[0].equals("--help-config")) {
            System.out.print(BrokerConfigKeys.markdown());
            return;
        }
        if (args.length > 0 && (args[0].equals("--help") || args[0].equals("-h"))) {
            System.out.println("Usage: runnel-server-start.sh [server.properties]   (--help-config lists every key)\n"
                    + "Environment: RUNNEL_LOG_LEVEL (trace, debug, info, warn, error; default info), RUNNEL_LOG_FILE (log to this file)");
            return;
        }
        AutoCloseable server;
        try {
            BrokerConfig config = args.length > 0 ? BrokerConfig.fromFile(Path.of(args[0])) : BrokerConfig.defaults();
            StartupChecks.logDirs(config);
            boolean controllerOnly = dev.runnel.broker.cluster.KRaftConfig.isCluster(config)
                    && !dev.runnel.broker.cluster.KRaftConfig.from(config).broker();
            server = controllerOnly ? dev.runnel.broker.cluster.ControllerOnlyNode.start(config) : RunnelServer.start(config);
        } catch (IllegalStateException | IllegalArgumentException | java.io.IOException e) {
            // A wrong setting, a busy port, a directory of another cluster: one line that says what, no stack trace.
            org.slf4j.LoggerFactory.getLogger(Main.class).error("Runnel cannot start: {}", StartupChecks.oneLine(e));
            System.exit(1);
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                server.close();
            } catch (Exception e) {
                org.slf4j.LoggerFactory.getLogger(Main.class).warn("Shutdown failed: {}", e.toString());
            }
            stopped.countDown();
        }, "runnel-shutdown"));
        stopped.await();
    }
}
