package dev.runnel.broker.handlers;

/**
 * The {@code *_authorized_operations} bit fields (bit n set = ACL operation code n allowed). Runnel has no
 * authorizer, and Kafka without one reports every operation the resource type supports (its
 * {@code AclEntry.supportedOperations}): READ 3, WRITE 4, CREATE 5, DELETE 6, ALTER 7, DESCRIBE 8, CLUSTER_ACTION 9,
 * DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11, IDEMPOTENT_WRITE 12.
 */
public final class AuthorizedOperations {
    /** A topic: READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS (3576). */
    public static final int TOPIC = bits(3, 4, 5, 6, 7, 8, 10, 11);
    /** The cluster: CREATE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE (8096). */
    public static final int CLUSTER = bits(5, 7, 8, 9, 10, 11, 12);
    /** A group: READ, DELETE, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS (3400). */
    public static final int GROUP = bits(3, 6, 8, 10, 11);

    private AuthorizedOperations() {
    }

    private static int bits(int... ops) {
        int v = 0;
        for (int op : ops) {
            v |= 1 << op;
        }
        return v;
    }
}
