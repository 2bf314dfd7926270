package dev.runnel.broker.handlers;

import dev.runnel.broker.Broker;
import dev.runnel.broker.handlers.IncrementalAlterConfigsHandler.Outcome;
import dev.runnel.broker.network.RequestContext;
import dev.runnel.broker.state.Topic;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.AlterConfigsRequestData;
import dev.runnel.wire.message.AlterConfigsRequestData.AlterConfigsResource;
import dev.runnel.wire.message.AlterConfigsRequestData.AlterableConfig;
import dev.runnel.wire.message.AlterConfigsResponseData;
import dev.runnel.wire.message.AlterConfigsResponseData.AlterConfigsResourceResponse;
import dev.runnel.wire.message.ApiKeys;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * AlterConfigs (33), v0-2, the legacy API: the configs given for a topic replace its whole set of overrides
 * (anything not listed goes back to the broker's value). Validation and application are those of
 * {@link IncrementalAlterConfigsHandler}. For a BROKER resource the configs given replace its dynamic broker
 * configs ({@code kafka-configs --alter --entity-type brokers} sends the old ones plus the new): see
 * {@link BrokerConfigChanges}.
 */
public final class AlterConfigsHandler implements ApiHandler {

    @Override
    public ApiKeys api() {
        return ApiKeys.ALTER_CONFIGS;
    }

    @Override
    public short highestVersion() {
        return 2;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        AlterConfigsRequestData req = (AlterConfigsRequestData) request;
        Map<String, Integer> counts = new HashMap<>();
        for (AlterConfigsResource r : req.resources) {
            counts.merge(r.resourceType + "/" + r.resourceName, 1, Integer::sum);
        }
        java.util.List<Outcome> outcomes = new java.util.ArrayList<>();
        for (AlterConfigsResource r : req.resources) {
            outcomes.add(counts.get(r.resourceType + "/" + r.resourceName) > 1
                    ? new Outcome(Errors.INVALID_REQUEST, "Duplicate resource.")
                    : alter(ctx.broker(), r, req.validateOnly));
        }
        return IncrementalAlterConfigsHandler.respond(outcomes, settled -> {
            AlterConfigsResponseData resp = new AlterConfigsResponseData();
            for (int i = 0; i < settled.size(); i++) {
                AlterConfigsResource r = req.resources.get(i);
                resp.responses.add(new AlterConfigsResourceResponse()
                        .setErrorCode(settled.get(i).error().code())
                        .setErrorMessage(settled.get(i).message())
                        .setResourceType(r.resourceType)
                        .setResourceName(r.resourceName));
            }
            return resp;
        });
    }

    private static Outcome alter(Broker broker, AlterConfigsResource r, boolean validateOnly) {
        Map<String, String> configs = new TreeMap<>();
        for (AlterableConfig c : r.configs) {
            if (configs.containsKey(c.name)) {
                return new Outcome(Errors.INVALID_REQUEST, "Error due to duplicate config keys");
            }
            if (c.value == null) {
                return new Outcome(Errors.INVALID_REQUEST, "Null value not supported for : " + c.name);
            }
            configs.put(c.name, c.value);
        }
        switch (r.resourceType) {
            case DescribeConfigsHandler.TOPIC: {
                Outcome missing = IncrementalAlterConfigsHandler.findTopic(broker, r.resourceName);
                if (missing != null) {
                    return missing;
                }
                Topic t = broker.topics().get(r.resourceName);
                if (t == null) {
                    return new Outcome(Errors.UNKNOWN_TOPIC_OR_PARTITION, "The topic '" + r.resourceName + "' does not exist.");
                }
                return IncrementalAlterConfigsHandler.replaceTopicConfigs(broker, t, configs, validateOnly);
            }
            case DescribeConfigsHandler.BROKER:
                return BrokerConfigChanges.replace(broker, r.resourceName, configs, validateOnly);
            default:
                return IncrementalAlterConfigsHandler.unsupportedType(r.resourceType);
        }
    }
}
