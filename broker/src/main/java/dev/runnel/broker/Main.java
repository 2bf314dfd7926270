package dev.runnel.broker;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/** {@code runnel-server-start.sh [server.properties]}: runs in the foreground until SIGTERM/SIGINT. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) throws Exception {
        BrokerConfig config = args.length > 0 ? BrokerConfig.fromFile(Path.of(args[0])) : BrokerConfig.defaults();
        RunnelServer server = RunnelServer.start(config);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }, "runnel-shutdown"));
        stopped.await();
    }
}
