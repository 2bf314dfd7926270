"""kafka-python pinned to an old broker release (api_version given, so it never sends ApiVersions and
speaks that release's protocol: Produce v0-v2 with message format v0/v1, Fetch v0-v3, ...).

Usage:
  kafka_python_legacy.py produce BOOTSTRAP TOPIC API_VERSION COUNT CODEC PREFIX
  kafka_python_legacy.py consume BOOTSTRAP TOPIC API_VERSION EXPECTED_COUNT
  kafka_python_legacy.py group   BOOTSTRAP TOPIC API_VERSION GROUP EXPECTED_COUNT

API_VERSION is dotted (0.9, 0.10.0, 0.10.1). Output, one fact per line:
  SENT <offset> <timestamp>                    (produce: RecordMetadata of each synchronous send)
  RECORD <offset> <key> <value> <timestamp> <timestamp type>   (consume, group)
  COMMITTED <offset>                           (group: the committed offset of partition 0 after commit())
Exits 0 when done, 2 if the expected records did not all arrive within 20 seconds.
"""
import sys
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition


def api(s):
    return tuple(int(x) for x in s.split("."))


def produce(bootstrap, topic, version, count, codec, prefix):
    producer = KafkaProducer(bootstrap_servers=bootstrap, api_version=api(version),
                             compression_type=None if codec == "none" else codec,
                             linger_ms=0, request_timeout_ms=15000)
    # half synchronous (one message per request), half in one batch (one compressed wrapper per request)
    for i in range(count // 2):
        md = producer.send(topic, key=("%s-key-%d" % (prefix, i)).encode(),
                           value=("%s-value-%d" % (prefix, i)).encode(), partition=0).get(timeout=15)
        print("SENT", md.offset, md.timestamp, flush=True)
    futures = [producer.send(topic, key=("%s-key-%d" % (prefix, i)).encode(),
                             value=("%s-value-%d" % (prefix, i)).encode(), partition=0)
               for i in range(count // 2, count)]
    producer.flush(timeout=15)
    for f in futures:
        md = f.get(timeout=15)
        print("SENT", md.offset, md.timestamp, flush=True)
    producer.close()


def read(consumer, expected):
    records = []
    deadline = time.monotonic() + 20
    while len(records) < expected and time.monotonic() < deadline:
        for batch in consumer.poll(timeout_ms=500).values():
            records.extend(batch)
    for r in records:
        print("RECORD", r.offset, r.key.decode() if r.key is not None else None,
              r.value.decode() if r.value is not None else None, r.timestamp, r.timestamp_type, flush=True)
    return len(records) >= expected


def consume(bootstrap, topic, version, expected):
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, api_version=api(version), auto_offset_reset="earliest",
                             enable_auto_commit=False, request_timeout_ms=15000)
    tp = TopicPartition(topic, 0)
    consumer.assign([tp])
    consumer.seek_to_beginning(tp)
    ok = read(consumer, expected)
    consumer.close()
    return ok


def group(bootstrap, topic, version, group_id, expected):
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, api_version=api(version), group_id=group_id,
                             auto_offset_reset="earliest", enable_auto_commit=False, request_timeout_ms=15000,
                             session_timeout_ms=10000, heartbeat_interval_ms=1000)
    ok = read(consumer, expected)
    consumer.commit()
    print("COMMITTED", consumer.committed(TopicPartition(topic, 0)), flush=True)
    consumer.close()
    return ok


def main():
    cmd, bootstrap, topic, version = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    if cmd == "produce":
        produce(bootstrap, topic, version, int(sys.argv[5]), sys.argv[6], sys.argv[7])
        return 0
    if cmd == "consume":
        return 0 if consume(bootstrap, topic, version, int(sys.argv[5])) else 2
    if cmd == "group":
        return 0 if group(bootstrap, topic, version, sys.argv[5], int(sys.argv[6])) else 2
    raise SystemExit("unknown command " + cmd)


if __name__ == "__main__":
    sys.exit(main())
