package dev.runnel.compat.quotas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.ChildProcess.Result;
import dev.runnel.compat.support.Clients;
import dev.runnel.compat.support.KafkaConfigsTool;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeUserScramCredentialsResult;
import org.apache.kafka.common.errors.DuplicateResourceException;
import org.apache.kafka.common.errors.ResourceNotFoundException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * DescribeUserScramCredentials (50), which Runnel answers as a Kafka cluster without SCRAM credentials does.
 * {@code kafka-configs --describe --entity-type users --entity-name X} sends it after DescribeClientQuotas (not for
 * {@code --entity-default} and not when clients are named too); without it the tool failed after printing the quotas.
 * The stock Java admin reads the per-user errors: RESOURCE_NOT_FOUND with Kafka's message for a named user, nobody
 * for "all users", DUPLICATE_RESOURCE for a user named twice.
 */
class UserScramCredentialsTest {

    @RegisterExtension
    static final Broker broker = Broker.create();

    @ParameterizedTest(name = "{0}")
    @EnumSource(KafkaConfigsTool.class)
    void kafkaConfigsDescribesANamedUsersQuotasAndNoCredentials(KafkaConfigsTool tool) throws Exception {
        String b = broker.bootstrapServers();
        String user = "scram-less-" + tool.tag();
        tool.run(b, "--alter", "--entity-type", "users", "--entity-name", user, "--add-config", "producer_byte_rate=2048")
                .assertExitCode(0);
        Result r = tool.run(b, "--describe", "--entity-type", "users", "--entity-name", user).assertExitCode(0);
        System.out.println("[scram] " + tool + " --describe --entity-type users --entity-name " + user + " printed: "
                + r.stdout().trim());
        assertEquals(List.of("Quota configs for user-principal '" + user + "' are producer_byte_rate=2048.0"),
                r.stdoutLines().stream().filter(l -> !l.isBlank()).toList(), r.describe());

        // a user with neither quotas nor credentials: nothing at all, and no error
        r = tool.run(b, "--describe", "--entity-type", "users", "--entity-name", "nobody-" + tool.tag()).assertExitCode(0);
        assertEquals(List.of(), r.stdoutLines().stream().filter(l -> !l.isBlank()).toList(), r.describe());
        assertTrue(!r.stderr().contains("Exception"), r.describe());
    }

    @Test
    void theJavaAdminGetsKafkasPerUserErrors() throws Exception {
        try (Admin admin = Clients.admin(broker)) {
            DescribeUserScramCredentialsResult named = admin.describeUserScramCredentials(List.of("alice", "bob"));
            assertEquals(List.of(), named.users().get(10, TimeUnit.SECONDS), "users without credentials are left out");
            ExecutionException e = assertThrows(ExecutionException.class, () -> named.description("alice").get(10, TimeUnit.SECONDS));
            assertInstanceOf(ResourceNotFoundException.class, e.getCause());
            assertEquals("Attempt to describe a user credential that does not exist: alice", e.getCause().getMessage());

            DescribeUserScramCredentialsResult everyone = admin.describeUserScramCredentials();
            assertEquals(List.of(), everyone.users().get(10, TimeUnit.SECONDS));
            assertEquals(0, everyone.all().get(10, TimeUnit.SECONDS).size());

            DescribeUserScramCredentialsResult twice = admin.describeUserScramCredentials(List.of("carol", "carol", "dave"));
            assertEquals(List.of("carol"), twice.users().get(10, TimeUnit.SECONDS), "a DUPLICATE_RESOURCE user is listed");
            e = assertThrows(ExecutionException.class, () -> twice.description("carol").get(10, TimeUnit.SECONDS));
            assertInstanceOf(DuplicateResourceException.class, e.getCause());
            assertEquals("Cannot describe SCRAM credentials for the same user twice in a single request: carol", e.getCause().getMessage());
            e = assertThrows(ExecutionException.class, () -> twice.all().get(10, TimeUnit.SECONDS));
            assertInstanceOf(DuplicateResourceException.class, e.getCause(), "all() fails on the first error other than not-found");
            e = assertThrows(ExecutionException.class, () -> twice.description("dave").get(10, TimeUnit.SECONDS));
            assertInstanceOf(ResourceNotFoundException.class, e.getCause());
            System.out.println("[scram] Java admin: named users RESOURCE_NOT_FOUND, all users empty, duplicates DUPLICATE_RESOURCE");
        }
    }
}
