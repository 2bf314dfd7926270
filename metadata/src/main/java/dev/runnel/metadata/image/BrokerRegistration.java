package dev.runnel.metadata.image;

import java.util.List;
import java.util.Optional;
import java.util.UUID;

/** A registered broker as the metadata log knows it (Kafka's RegisterBrokerRecord plus later changes). */
public record BrokerRegistration(int id, long epoch, UUID incarnationId, List<Endpoint> endpoints, String rack,
                                 boolean fenced, boolean inControlledShutdown) {

    public record Endpoint(String listener, String host, int port, short securityProtocol) {
    }

    public Optional<Endpoint> endpoint(String listenerName) {
        return endpoints.stream().filter(e -> e.listener().equals(listenerName)).findFirst();
    }

    /** Whether partitions may be led by it: registered, unfenced and not shutting down. */
    public boolean usable() {
        return !fenced && !inControlledShutdown;
    }

    BrokerRegistration withFenced(boolean f) {
        return new BrokerRegistration(id, epoch, incarnationId, endpoints, rack, f, inControlledShutdown);
    }

    BrokerRegistration withControlledShutdown(boolean s) {
        return new BrokerRegistration(id, epoch, incarnationId, endpoints, rack, fenced, s);
    }
}
