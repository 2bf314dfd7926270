package dev.runnel.broker.quota;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which quota applies to whom (Kafka's eight levels) and who shares a rate. */
class ClientQuotaManagerTest {
    private static final String P = ClientQuotaRules.PRODUCER_BYTE_RATE;

    private static ClientQuotaManager with(Map<QuotaEntity, Double> quotas) {
        ClientQuotaManager m = new ClientQuotaManager(P, 11, 1);
        Map<QuotaEntity, Map<String, Double>> all = new HashMap<>();
        quotas.forEach((e, v) -> all.put(e, Map.of(P, v, ClientQuotaRules.CONSUMER_BYTE_RATE, 1.0)));
        m.update(all);
        return m;
    }

    private static QuotaEntity user(String u) {
        return QuotaEntity.of(QuotaEntity.USER, u);
    }

    private static QuotaEntity client(String c) {
        return QuotaEntity.of(QuotaEntity.CLIENT_ID, c);
    }

    private static QuotaEntity userClient(String u, String c) {
        return QuotaEntity.of(QuotaEntity.USER, u, QuotaEntity.CLIENT_ID, c);
    }

    @Test
    void theMostSpecificOfEightLevelsWins() {
        Map<QuotaEntity, Double> q = new HashMap<>();
        q.put(client(null), 8.0);
        assertEquals(8.0, with(q).quota("alice", "app"));
        q.put(client("app"), 7.0);
        assertEquals(7.0, with(q).quota("alice", "app"));
        q.put(user(null), 6.0);
        assertEquals(6.0, with(q).quota("alice", "app"));
        q.put(userClient(null, null), 5.0);
        assertEquals(5.0, with(q).quota("alice", "app"));
        q.put(userClient(null, "app"), 4.0);
        assertEquals(4.0, with(q).quota("alice", "app"));
        q.put(user("alice"), 3.0);
        assertEquals(3.0, with(q).quota("alice", "app"));
        q.put(userClient("alice", null), 2.0);
        assertEquals(2.0, with(q).quota("alice", "app"));
        q.put(userClient("alice", "app"), 1.0);
        assertEquals(1.0, with(q).quota("alice", "app"));
        // others fall back to the defaults that match them
        assertEquals(5.0, with(q).quota("bob", "other"));
        assertEquals(4.0, with(q).quota("bob", "app"));
    }

    @Test
    void noQuotaNoMeasurement() {
        ClientQuotaManager m = with(Map.of(client("app"), 100.0));
        assertNull(m.quota(ClientQuotaManager.ANONYMOUS, "other"));
        assertEquals(0, m.recordAndGetThrottleMs(ClientQuotaManager.ANONYMOUS, "other", 1L << 30, 1000));
        assertEquals(Integer.MAX_VALUE, m.maxValueInQuotaWindow(ClientQuotaManager.ANONYMOUS, "other", 1000));
        assertEquals(1000, m.maxValueInQuotaWindow(ClientQuotaManager.ANONYMOUS, "app", 1000)); // 100 * 10 windows * 1 s
        assertTrue(m.enabled());
        assertTrue(!with(Map.of()).enabled());
    }

    @Test
    void aDefaultClientQuotaGivesEachClientIdItsOwnRateAUserQuotaIsShared() {
        ClientQuotaManager perClient = with(Map.of(client(null), 1000.0));
        assertEquals(0, perClient.recordAndGetThrottleMs("u", "a", 10_000, 0));
        assertEquals(0, perClient.recordAndGetThrottleMs("u", "b", 10_000, 0)); // b has its own budget
        assertEquals(1000, perClient.recordAndGetThrottleMs("u", "a", 1000, 0));

        ClientQuotaManager perUser = with(Map.of(user("u"), 1000.0));
        assertEquals(0, perUser.recordAndGetThrottleMs("u", "a", 10_000, 0));
        assertEquals(1000, perUser.recordAndGetThrottleMs("u", "b", 1000, 0)); // the same rate as a
    }

    @Test
    void changingAQuotaKeepsTheMeasuredRate() {
        ClientQuotaManager m = with(Map.of(client("a"), 1000.0));
        assertEquals(0, m.recordAndGetThrottleMs("u", "a", 10_000, 0));
        m.update(Map.of(client("a"), Map.of(P, 500.0)));
        assertEquals(10_000, m.recordAndGetThrottleMs("u", "a", 0, 0)); // 10000 B over 10 s = 1000 B/s, twice 500
    }
}
