#!/usr/bin/env bash
# Starts a Runnel broker in the foreground, like kafka-server-start.sh.
#   bin/runnel-server-start.sh [server.properties]
# Without a file: the embedded default config (one node on localhost:9092, data under ./data).
# Builds the broker first when it has not been built (RUNNEL_REBUILD=1 forces a rebuild).
# SIGTERM / Ctrl-C shut it down gracefully (logs flushed and closed).
#   bin/runnel-server-start.sh --help-config    lists every configuration key (as docs/configuration.md)
# Logging: timestamped lines on stderr; RUNNEL_LOG_LEVEL (trace, debug, info, warn, error; default info) and
# RUNNEL_LOG_FILE (write the log to this file instead) are read by the broker itself, so this script and the
# distribution's log alike.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cp_file="$root/broker/target/runtime-classpath.txt"
if [[ ! -f "$cp_file" || ! -d "$root/broker/target/classes" || "${RUNNEL_REBUILD:-0}" == "1" ]]; then
  echo "Building Runnel (first run)..." >&2
  (cd "$root" && ./mvnw -q -B -DskipTests install -pl broker -am) >&2
fi
# JVM defaults for a small broker that starts fast (bench/results/ has what each bought): the serial collector
# (no concurrent GC threads or remembered sets; the broker's live heap is small and its garbage per request),
# a heap that starts at 16 MB and grows only as needed, and the C1 compiler only (start-up and short runs
# spend far less CPU compiling; the hot paths are system calls more than Java code). RUNNEL_JVM_OPTS replaces
# these (e.g. "-XX:+UseG1GC" with full tiered compilation for a long-lived broker); RUNNEL_HEAP_OPTS and
# RUNNEL_OPTS come after them, so they win.
jvm_opts="${RUNNEL_JVM_OPTS:--XX:+UseSerialGC -Xms16m -XX:TieredStopAtLevel=1}"
exec java $jvm_opts ${RUNNEL_HEAP_OPTS:--Xmx512m} ${RUNNEL_OPTS:-} \
  -cp "$root/broker/target/classes:$(cat "$cp_file")" dev.runnel.broker.Main "$@"
