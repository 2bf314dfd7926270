package dev.runnel.compat.groups;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.ChildProcess;
import dev.runnel.compat.support.Clients;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * kafkajs 2.2.4 (from the npm registry, installed on first use into target/) with two consumers in one group:
 * both get partitions, together they read every record once, and their commits are visible to Kafka's admin client.
 */
class KafkajsGroupTest {
    private static final String VERSION = "2.2.4";

    @RegisterExtension
    static final Broker broker = Broker.create();

    private static final String SCRIPT = """
            const { Kafka, logLevel } = require('kafkajs');
            const [bootstrap, topic, group, expected] = process.argv.slice(2);
            const kafka = new Kafka({ clientId: 'kafkajs-compat', brokers: [bootstrap], logLevel: logLevel.NOTHING });
            const seen = [];
            const members = [kafka.consumer({ groupId: group, sessionTimeout: 10000 }),
                             kafka.consumer({ groupId: group, sessionTimeout: 10000 })];
            const assigned = [0, 0];
            async function main() {
              for (let i = 0; i < members.length; i++) {
                const c = members[i];
                c.on(c.events.GROUP_JOIN, e => {
                  const parts = e.payload.memberAssignment[topic] || [];
                  assigned[i] = parts.length;
                  console.log('JOIN ' + i + ' generation=' + e.payload.generationId + ' partitions=' + parts.length);
                });
                await c.connect();
                await c.subscribe({ topic, fromBeginning: true });
                await c.run({ eachMessage: async ({ message }) => { seen.push(message.value.toString()); } });
              }
              const deadline = Date.now() + 40000;
              while ((seen.length < Number(expected) || assigned[0] === 0 || assigned[1] === 0) && Date.now() < deadline) {
                await new Promise(r => setTimeout(r, 100));
              }
              for (const v of seen) console.log('RECORD ' + v);
              console.log('ASSIGNED ' + assigned.join(','));
              for (const c of members) await c.disconnect();
            }
            main().then(() => process.exit(0), e => { console.log('ERROR ' + e); process.exit(1); });
            """;

    private static Path installKafkajs() throws Exception {
        Path dir = Path.of(System.getProperty("basedir", "."), "target", "kafkajs-" + VERSION);
        if (Files.isDirectory(dir.resolve("node_modules").resolve("kafkajs"))) {
            return dir;
        }
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/npm")) && Files.isExecutable(Path.of("/usr/bin/node")),
                "node and npm are needed for the kafkajs tests");
        Files.createDirectories(dir);
        ChildProcess.Result r = ChildProcess.run(List.of("/usr/bin/npm", "install", "--prefix", dir.toString(), "--no-audit",
                "--no-fund", "--loglevel=error", "kafkajs@" + VERSION), null, Duration.ofMinutes(3));
        assumeTrue(r.exitCode() == 0, "npm could not install kafkajs@" + VERSION + ": " + r.describe());
        return dir;
    }

    @Test
    void twoKafkajsConsumersShareATopic() throws Exception {
        Path dir = installKafkajs();
        String topic = Clients.uniqueTopic("kafkajs-group");
        String group = "kafkajs-" + topic;
        Clients.createTopic(broker, topic, 4);
        List<String> produced = GroupClients.produce(broker, topic, 4, 0, 5);
        Path script = dir.resolve("group-consumer.js");
        Files.writeString(script, SCRIPT, StandardCharsets.UTF_8);
        ChildProcess.Result r = ChildProcess.run(List.of("/usr/bin/node", script.toString(), broker.bootstrapServers(), topic, group,
                Integer.toString(produced.size())), null, Duration.ofSeconds(90)).assertExitCode(0);
        List<String> records = Scripts.lines(r, "RECORD ").stream().map(l -> l.substring(7)).toList();
        assertEquals(new TreeSet<>(produced), new TreeSet<>(records), r.describe());
        assertEquals(produced.size(), records.size(), "nothing twice");
        String assigned = Scripts.lines(r, "ASSIGNED ").get(0);
        List<String> counts = List.of(assigned.substring(9).split(","));
        assertTrue(!counts.contains("0"), "both members own partitions: " + r.describe());
    }
}
