"""Reads partition PARTITION of TOPIC from the beginning with kafka-python, without a group.

Usage: kafka_python_consumer.py BOOTSTRAP TOPIC PARTITION EXPECTED_COUNT

Output, one fact per line:
  VERSION <kafka-python version>
  BEGINNING <offset>          (beginning_offsets)
  END <offset>                (end_offsets)
  RECORD <offset> <key> <value> <header key>=<header value>,...
Exits 0 once EXPECTED_COUNT records were read, 2 if they did not all arrive within 20 seconds.
"""
import sys
import time

import kafka
from kafka import KafkaConsumer, TopicPartition


def main():
    bootstrap, topic, partition, expected = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    print("VERSION", kafka.__version__, flush=True)
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        request_timeout_ms=15000,
        api_version_auto_timeout_ms=10000,
    )
    tp = TopicPartition(topic, partition)
    consumer.assign([tp])
    consumer.seek_to_beginning(tp)
    print("BEGINNING", consumer.beginning_offsets([tp])[tp], flush=True)
    print("END", consumer.end_offsets([tp])[tp], flush=True)

    records = []
    deadline = time.monotonic() + 20
    while len(records) < expected and time.monotonic() < deadline:
        for batch in consumer.poll(timeout_ms=500).values():
            records.extend(batch)
    for r in records:
        headers = ",".join("%s=%s" % (k, v.decode()) for k, v in (r.headers or []))
        print("RECORD", r.offset, r.key.decode(), r.value.decode(), headers, flush=True)
    consumer.close()
    return 0 if len(records) >= expected else 2


if __name__ == "__main__":
    sys.exit(main())
