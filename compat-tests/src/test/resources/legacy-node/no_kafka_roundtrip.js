// no-kafka 3.4.4 (LegacyNodeClientsTest): a Producer with gzip sends COUNT keyed messages one by one (Produce v1:
// magic 0 gzip wrappers), then a GroupConsumer (GroupCoordinator v0, JoinGroup v0, Fetch v0, OffsetCommit v2) reads
// them from the earliest offset and commits after each one.
// Usage: node no_kafka_roundtrip.js BOOTSTRAP TOPIC GROUP COUNT
// Prints SENT <offset> ok|<error code>, RECORD <offset> <key> <value>, COMMITTED; exit 0 when done.
const Kafka = require('no-kafka');
const [bootstrap, topic, group, count] = process.argv.slice(2);
const n = parseInt(count, 10);
const logger = { logLevel: 1 };
async function main() {
  const producer = new Kafka.Producer({ connectionString: bootstrap, logger, codec: Kafka.COMPRESSION_GZIP });
  await producer.init();
  for (let i = 0; i < n; i++) {
    const r = await producer.send({ topic, partition: 0, message: { key: 'key-' + i, value: 'value-' + i } });
    console.log('SENT ' + r[0].offset + ' ' + (r[0].error ? r[0].error.code : 'ok'));
  }
  await producer.end();
  const consumer = new Kafka.GroupConsumer({ connectionString: bootstrap, groupId: group, logger, startingOffset: Kafka.EARLIEST_OFFSET });
  let seen = 0;
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timeout after ' + seen)), 30000);
    consumer.init({ subscriptions: [topic], handler: async (messageSet, t, partition) => {
      for (const m of messageSet) {
        console.log('RECORD ' + m.offset + ' ' + m.message.key + ' ' + m.message.value);
        seen++;
        await consumer.commitOffset({ topic: t, partition, offset: m.offset });
      }
      if (seen >= n) { clearTimeout(timer); resolve(); }
    } }).catch(reject);
  });
  console.log('COMMITTED');
  await consumer.end();
}
main().then(() => process.exit(0), e => { console.log('ERROR ' + e); process.exit(1); });
