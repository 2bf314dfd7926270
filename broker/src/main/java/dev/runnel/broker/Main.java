package dev.runnel.broker;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/** {@code runnel-server-start.sh [server.properties]}: runs in the foreground until SIGTERM/SIGINT. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) throws Exception {
        BrokerConfig config = args.length > 0 ? BrokerConfig.fromFile(Path.of(args[0])) : BrokerConfig.defaults();
        AutoCloseable server;
        try {
            boolean controllerOnly = dev.runnel.broker.cluster.KRaftConfig.isCluster(config)
                    && !dev.runnel.broker.cluster.KRaftConfig.from(config).broker();
            server = controllerOnly ? dev.runnel.broker.cluster.ControllerOnlyNode.start(config) : RunnelServer.start(config);
        } catch (IllegalStateException | IllegalArgumentException | java.io.IOException e) {
            // A wrong setting or a directory of another cluster: one line that says what, no stack trace.
            org.slf4j.LoggerFactory.getLogger(Main.class).error("Runnel cannot start: {}", e.getMessage());
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
