package dev.runnel.broker.quota;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.runnel.wire.Errors;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** AlterClientQuotas' validation, with Kafka's messages. */
class ClientQuotaRulesTest {
    private static ClientQuotaRules.Outcome one(QuotaEntity e, ClientQuotaRules.Op... ops) {
        return ClientQuotaRules.alter(Map.of(), List.of(new ClientQuotaRules.Alteration(e, List.of(ops)))).outcomes().get(e);
    }

    private static ClientQuotaRules.Op set(String k, double v) {
        return new ClientQuotaRules.Op(k, v);
    }

    @Test
    void refusals() {
        QuotaEntity c = QuotaEntity.of("client-id", "x");
        assertEquals("Invalid configuration key connection_creation_rate", one(c, set("connection_creation_rate", 5)).message());
        assertEquals("Quota producer_byte_rate must be greater than 0", one(c, set("producer_byte_rate", 0)).message());
        assertEquals("producer_byte_rate cannot be a fractional value.", one(c, set("producer_byte_rate", 1.5)).message());
        assertEquals(Errors.NONE, one(c, set("request_percentage", 12.5)).error());
        assertEquals("Invalid quota entity combination, IP entity shouldnot be combined with User or ClientId",
                one(QuotaEntity.of("ip", "1.2.3.4", "user", "u"), set("connection_creation_rate", 5)).message());
        assertEquals("Invalid configuration key producer_byte_rate", one(QuotaEntity.of("ip", null), set("producer_byte_rate", 5)).message());
        assertEquals(Errors.NONE, one(QuotaEntity.of("ip", "10.0.0.1"), set("connection_creation_rate", 5)).error());
        assertEquals(Errors.NONE, one(QuotaEntity.of("ip", "::1"), set("connection_creation_rate", 5)).error());
        assertEquals("1.2.3.4.5 is not a valid IP or resolvable host.",
                one(QuotaEntity.of("ip", "1.2.3.4.5"), set("connection_creation_rate", 5)).message());
        assertEquals("Unhandled client quota entity type: group", one(QuotaEntity.of("group", "g"), set("producer_byte_rate", 5)).message());
        assertEquals("Empty user not supported", one(QuotaEntity.of("user", ""), set("producer_byte_rate", 5)).message());
        assertEquals("Invalid empty client quota entity", one(new QuotaEntity(Map.of()), set("producer_byte_rate", 5)).message());
        assertEquals(Errors.INVALID_REQUEST, one(c, set("producer_byte_rate", 5), set("producer_byte_rate", 6)).error());
    }

    @Test
    void changesOnlyWhatDiffers() {
        QuotaEntity c = QuotaEntity.of("client-id", "x");
        Map<QuotaEntity, Map<String, Double>> now = Map.of(c, Map.of("producer_byte_rate", 100.0));
        ClientQuotaRules.Result r = ClientQuotaRules.alter(now, List.of(new ClientQuotaRules.Alteration(c, List.of(
                set("producer_byte_rate", 100), new ClientQuotaRules.Op("consumer_byte_rate", null), set("consumer_byte_rate", 1)))));
        assertEquals(Errors.INVALID_REQUEST, r.outcomes().get(c).error()); // a key twice
        r = ClientQuotaRules.alter(now, List.of(new ClientQuotaRules.Alteration(c, List.of(
                set("producer_byte_rate", 100), new ClientQuotaRules.Op("consumer_byte_rate", null)))));
        assertEquals(List.of(), r.changes());
        r = ClientQuotaRules.alter(now, List.of(new ClientQuotaRules.Alteration(c, List.of(new ClientQuotaRules.Op("producer_byte_rate", null)))));
        assertEquals(List.of(new ClientQuotaRules.Change(c, "producer_byte_rate", null)), r.changes());
        assertEquals(Map.of(), ClientQuotas.applied(now, r.changes()));
    }
}
