package dev.runnel.broker.txn;

import dev.runnel.broker.Broker;

/**
 * The finalized {@code transaction.version} feature level this broker advertises in ApiVersions. Kafka 4.x clients
 * use transactions V2 (KIP-890: no AddPartitionsToTxn, an epoch bump with every EndTxn v5) when it is 2, as on a new
 * Kafka 4.x cluster; {@code runnel.transaction.version} sets it (1 = transactions V1 for every client).
 */
public final class TransactionsV2 {
    public static final String FEATURE = "transaction.version";
    public static final String CONFIG = "runnel.transaction.version";
    public static final short MAX_LEVEL = 2;

    private TransactionsV2() {
    }

    /** The finalized level: the configured one, 2 by default. */
    public static short level(Broker broker) {
        String v = broker.config().get(CONFIG);
        return v == null ? MAX_LEVEL : (short) Integer.parseInt(v.trim());
    }

    public static boolean enabled(Broker broker) {
        return level(broker) >= 2;
    }
}
