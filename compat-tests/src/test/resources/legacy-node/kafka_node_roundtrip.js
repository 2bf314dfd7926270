// kafka-node 5.0.0 (LegacyNodeClientsTest): its Admin creates TOPIC, its Producer sends COUNT/2 keyed messages
// plain and COUNT/2 gzip-compressed (Produce v0-2: legacy message sets), then a ConsumerGroup (Fetch v0-2, JoinGroup,
// OffsetCommit) reads all COUNT and commits. kafka-node negotiates with ApiVersions but speaks only old versions.
// Usage: node kafka_node_roundtrip.js BOOTSTRAP TOPIC GROUP COUNT
// Prints CREATED, SENT {topic:{partition:offset}} twice, RECORD <offset> <key> <value>, COMMITTED; exit 0 when done.
const kafka = require('kafka-node');
const [bootstrap, topic, group, count] = process.argv.slice(2);
const n = parseInt(count, 10);
function done(code) { setTimeout(() => process.exit(code), 10); }
const options = { kafkaHost: bootstrap, requestTimeout: 15000 };
const client = new kafka.KafkaClient(options);
const admin = new kafka.Admin(client);
admin.createTopics([{ topic, partitions: 1, replicationFactor: 1 }], (err, res) => {
  if (err) { console.log('ERROR createTopics ' + err); return done(1); }
  console.log('CREATED ' + JSON.stringify(res));
  const producer = new kafka.Producer(client, { partitionerType: 0 });
  producer.on('error', e => { console.log('ERROR producer ' + e); done(1); });
  const start = () => {
    const half = Math.floor(n / 2);
    const plain = [], gz = [];
    for (let i = 0; i < n; i++) (i < half ? plain : gz).push(new kafka.KeyedMessage('key-' + i, 'value-' + i));
    producer.send([{ topic, partition: 0, messages: plain }], (e1, r1) => {
      if (e1) { console.log('ERROR send ' + e1); return done(1); }
      console.log('SENT ' + JSON.stringify(r1));
      producer.send([{ topic, partition: 0, messages: gz, attributes: 1 }], (e2, r2) => {
        if (e2) { console.log('ERROR send gzip ' + e2); return done(1); }
        console.log('SENT ' + JSON.stringify(r2));
        consume();
      });
    });
  };
  if (producer.ready) start(); else producer.on('ready', start);
});
function consume() {
  const cg = new kafka.ConsumerGroup(Object.assign({}, options, { groupId: group, fromOffset: 'earliest', autoCommit: false,
    sessionTimeout: 10000, protocol: ['roundrobin'] }), [topic]);
  let seen = 0;
  const timer = setTimeout(() => { console.log('ERROR timeout after ' + seen); done(2); }, 30000);
  cg.on('error', e => { console.log('ERROR group ' + e); done(1); });
  cg.on('message', m => {
    console.log('RECORD ' + m.offset + ' ' + m.key + ' ' + m.value);
    seen++;
    if (seen === n) {
      clearTimeout(timer);
      cg.commit(true, (e, r) => {
        if (e) { console.log('ERROR commit ' + e); return done(1); }
        console.log('COMMITTED');
        cg.close(true, () => { client.close(() => done(0)); });
      });
    }
  });
}
