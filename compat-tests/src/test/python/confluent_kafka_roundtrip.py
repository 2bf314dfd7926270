"""Produces COUNT keyed records to partition 0 of TOPIC with confluent-kafka-python (librdkafka),
then reads them back with an assigned partition from the beginning.

Usage: confluent_kafka_roundtrip.py BOOTSTRAP TOPIC COUNT [COMPRESSION]

The consumer gets a group.id only because confluent-kafka refuses to create a consumer without
one; it never subscribes nor commits. Output, one fact per line:
  VERSION <confluent-kafka version> librdkafka <version>
  DELIVERED <index> <partition> <offset>
  DELIVERY_ERROR <index> <error>
  RECORD <offset> <key> <value>
Exits 0 when everything was delivered and read back, 1 on a delivery failure, 2 if reading timed out.
"""
import sys
import time

import confluent_kafka
from confluent_kafka import Consumer, Producer, TopicPartition, OFFSET_BEGINNING


def main():
    bootstrap, topic, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    compression = sys.argv[4] if len(sys.argv) > 4 else "none"
    print("VERSION", confluent_kafka.version()[0], "librdkafka", confluent_kafka.libversion()[0], flush=True)

    producer = Producer({
        "bootstrap.servers": bootstrap,
        "compression.codec": compression,
        "linger.ms": 20,
        "message.timeout.ms": 15000,
    })
    delivered = {}

    def report(index):
        def on_delivery(err, msg):
            if err is not None:
                delivered[index] = "DELIVERY_ERROR %d %s" % (index, err)
            else:
                delivered[index] = "DELIVERED %d %d %d" % (index, msg.partition(), msg.offset())
        return on_delivery

    for i in range(count):
        producer.produce(topic, key="key-%d" % i, value="value-%d" % i, partition=0, on_delivery=report(i))
        producer.poll(0)
    remaining = producer.flush(20)
    for i in range(count):
        print(delivered.get(i, "DELIVERY_ERROR %d no report" % i), flush=True)
    if remaining or any(line.startswith("DELIVERY_ERROR") for line in delivered.values()) or len(delivered) < count:
        return 1

    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": "unused-" + topic,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
    })
    consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    records = []
    deadline = time.monotonic() + 20
    while len(records) < count and time.monotonic() < deadline:
        msg = consumer.poll(0.5)
        if msg is None:
            continue
        if msg.error():
            print("CONSUME_ERROR", msg.error(), flush=True)
            continue
        records.append(msg)
    for m in records:
        print("RECORD", m.offset(), m.key().decode(), m.value().decode(), flush=True)
    consumer.close()
    return 0 if len(records) >= count else 2


if __name__ == "__main__":
    sys.exit(main())
