package dev.runnel.broker.handlers;

import dev.runnel.broker.network.RequestContext;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.DescribeUserScramCredentialsRequestData;
import dev.runnel.wire.message.DescribeUserScramCredentialsResponseData;
import dev.runnel.wire.message.DescribeUserScramCredentialsResponseData.DescribeUserScramCredentialsResult;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * DescribeUserScramCredentials (50), v0, answered as a Kafka cluster that holds no SCRAM credentials answers it
 * (Runnel has no SASL/SCRAM and no AlterUserScramCredentials): "all users" (a null or empty list) describes nobody;
 * each named user gets RESOURCE_NOT_FOUND, and a user named more than once in one request gets DUPLICATE_RESOURCE
 * (once, not per mention), with Kafka's messages. {@code kafka-configs --describe --entity-type users
 * --entity-name X} sends it after DescribeClientQuotas; the Java admin's {@code users()} leaves RESOURCE_NOT_FOUND
 * users out, so the tool prints the quotas and nothing about credentials, as against Kafka.
 */
public final class DescribeUserScramCredentialsHandler implements ApiHandler {
    static final String NOT_FOUND = "Attempt to describe a user credential that does not exist: ";
    static final String DUPLICATE = "Cannot describe SCRAM credentials for the same user twice in a single request: ";

    @Override
    public ApiKeys api() {
        return ApiKeys.DESCRIBE_USER_SCRAM_CREDENTIALS;
    }

    @Override
    public short highestVersion() {
        return 0;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        return CompletableFuture.completedFuture(describe((DescribeUserScramCredentialsRequestData) request));
    }

    static DescribeUserScramCredentialsResponseData describe(DescribeUserScramCredentialsRequestData request) {
        DescribeUserScramCredentialsResponseData response = new DescribeUserScramCredentialsResponseData();
        if (request.users == null || request.users.isEmpty()) {
            return response; // every user with a credential: none
        }
        Map<String, Boolean> duplicated = new LinkedHashMap<>();
        for (DescribeUserScramCredentialsRequestData.UserName user : request.users) {
            duplicated.merge(user.name, false, (seen, again) -> true);
        }
        duplicated.forEach((user, twice) -> response.results.add(new DescribeUserScramCredentialsResult().setUser(user)
                .setErrorCode((twice ? Errors.DUPLICATE_RESOURCE : Errors.RESOURCE_NOT_FOUND).code())
                .setErrorMessage((twice ? DUPLICATE : NOT_FOUND) + user)));
        return response;
    }
}
