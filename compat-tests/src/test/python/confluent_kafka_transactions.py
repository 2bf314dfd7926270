"""Transactions with confluent-kafka-python (librdkafka): commit, abort, and a consume-transform-produce step whose
consumer offsets go into the transaction (send_offsets_to_transaction).

Usage: confluent_kafka_transactions.py BOOTSTRAP IN_TOPIC OUT_TOPIC GROUP TRANSACTIONAL_ID

Output, one fact per line:
  VERSION <confluent-kafka version> librdkafka <version>
  STEP <name>                  each transactional call that returned
  RECORD <offset> <value>      what a read_uncommitted group consumer of IN_TOPIC read (control records are skipped)
  COMMITTED <offset>           the group's committed offset of IN_TOPIC-0 after the last commit
Exits 0 when every step succeeded, 1 when a call raised (the error is printed as ERROR <text>), 2 on a read timeout.
"""
import sys
import time

import confluent_kafka
from confluent_kafka import Consumer, Producer, TopicPartition


def main():
    bootstrap, topic_in, topic_out, group, txn_id = sys.argv[1:6]
    print("VERSION", confluent_kafka.version()[0], "librdkafka", confluent_kafka.libversion()[0], flush=True)
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": txn_id, "linger.ms": 5})
    try:
        producer.init_transactions(30)
        print("STEP init", flush=True)
        producer.begin_transaction()
        for i in range(3):
            producer.produce(topic_in, value="c-%d" % i, partition=0)
        producer.commit_transaction(30)
        print("STEP commit", flush=True)

        producer.begin_transaction()
        for i in range(2):
            producer.produce(topic_in, value="a-%d" % i, partition=0)
        producer.flush(30)
        producer.abort_transaction(30)
        print("STEP abort", flush=True)

        consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False,
                             "auto.offset.reset": "earliest", "isolation.level": "read_uncommitted"})
        consumer.subscribe([topic_in])
        seen = []
        deadline = time.time() + 30
        while len(seen) < 5:
            if time.time() > deadline:
                print("TIMEOUT read", len(seen), flush=True)
                sys.exit(2)
            m = consumer.poll(0.2)
            if m is None or m.error():
                continue
            seen.append(m)
            print("RECORD", m.offset(), m.value().decode(), flush=True)

        producer.begin_transaction()
        producer.produce(topic_out, value="C-0-2", partition=0)
        producer.send_offsets_to_transaction([TopicPartition(topic_in, 0, 3)], consumer.consumer_group_metadata(), 30)
        producer.commit_transaction(30)
        print("STEP send_offsets_commit", flush=True)

        deadline = time.time() + 30
        while True:
            committed = consumer.committed([TopicPartition(topic_in, 0)], 10)[0].offset
            if committed == 3 or time.time() > deadline:
                break
            time.sleep(0.05)
        print("COMMITTED", committed, flush=True)
        consumer.close()
    except confluent_kafka.KafkaException as e:
        print("ERROR", e, flush=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
