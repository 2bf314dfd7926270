"""Produces COUNT keyed records with headers to partition 0 of TOPIC with kafka-python.

Usage: kafka_python_producer.py BOOTSTRAP TOPIC COUNT [COMPRESSION]

The first half is sent synchronously (send().get() returns RecordMetadata), the second half
asynchronously with callbacks, then flushed. Output, one fact per line:
  VERSION <kafka-python version>
  API_VERSION <broker version kafka-python inferred from ApiVersions>
  SYNC <index> <topic> <partition> <offset>
  ASYNC <index> <topic> <partition> <offset>
  ERROR <index> <exception>
Exits 0 when every record was acknowledged, 1 otherwise.
"""
import sys

import kafka
from kafka import KafkaProducer


def main():
    bootstrap, topic, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    compression = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] != "none" else None
    print("VERSION", kafka.__version__, flush=True)
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        key_serializer=str.encode,
        value_serializer=str.encode,
        compression_type=compression,
        acks="all",
        linger_ms=20,
        request_timeout_ms=10000,
        max_block_ms=15000,
        api_version_auto_timeout_ms=10000,
    )
    print("API_VERSION", ".".join(str(p) for p in producer.config["api_version"]), flush=True)

    failures = []
    half = count // 2
    for i in range(half):
        metadata = producer.send(topic, key="key-%d" % i, value="value-%d" % i, partition=0,
                                 headers=[("index", str(i).encode())]).get(timeout=15)
        print("SYNC", i, metadata.topic, metadata.partition, metadata.offset, flush=True)

    results = {}

    def on_success(index):
        return lambda metadata: results.__setitem__(index, "ASYNC %d %s %d %d" % (
            index, metadata.topic, metadata.partition, metadata.offset))

    def on_error(index):
        def record(exc):
            results[index] = "ERROR %d %r" % (index, exc)
            failures.append(index)
        return record

    for i in range(half, count):
        future = producer.send(topic, key="key-%d" % i, value="value-%d" % i, partition=0,
                               headers=[("index", str(i).encode())])
        future.add_callback(on_success(i))
        future.add_errback(on_error(i))
    producer.flush(timeout=15)
    for i in range(half, count):
        print(results.get(i, "ERROR %d no callback after flush" % i), flush=True)
        if i not in results:
            failures.append(i)
    producer.close(timeout=10)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
