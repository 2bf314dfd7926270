package dev.runnel.broker.cluster;

import dev.runnel.broker.BrokerConfig;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node with {@code process.roles=controller}: a voter of the metadata quorum (and, while it leads, the active
 * controller) that serves no clients. Its CONTROLLER listener carries the quorum's traffic and answers tools run
 * with {@code --bootstrap-controller}; it keeps no partitions.
 */
public final class ControllerOnlyNode implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ControllerOnlyNode.class);

    private final ClusterNode cluster;

    private ControllerOnlyNode(ClusterNode cluster) {
        this.cluster = cluster;
    }

    public static ControllerOnlyNode start(BrokerConfig config) throws IOException {
        long t0 = System.nanoTime();
        KRaftConfig kraft = KRaftConfig.from(config);
        if (kraft.broker() || !kraft.controller()) {
            throw new IllegalArgumentException("ControllerOnlyNode is for process.roles=controller");
        }
        ClusterNode cluster = ClusterNode.start(kraft, config, null);
        LOG.info("Runnel node {} started in {} ms as a controller only, controller listener {}:{}, data in {}, cluster id {}, "
                        + "metadata quorum {} (controller: node {})", kraft.nodeId(), (System.nanoTime() - t0) / 1_000_000,
                kraft.controllerListener().host(), kraft.controllerListener().port(), config.logDirs().get(0).toAbsolutePath(),
                cluster.image().clusterId(), kraft.voters().keySet(), cluster.controllerId());
        return new ControllerOnlyNode(cluster);
    }

    public ClusterNode cluster() {
        return cluster;
    }

    @Override
    public void close() {
        cluster.close();
        LOG.info("Runnel node {} stopped", cluster.nodeId());
    }
}
