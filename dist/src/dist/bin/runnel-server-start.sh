#!/usr/bin/env bash
# Starts a Runnel broker in the foreground, like Kafka's kafka-server-start.sh.
#   bin/runnel-server-start.sh [config/server.properties]
# Without a file: the embedded defaults (one node on localhost:9092, data under ./data).
# SIGTERM / Ctrl-C shut it down gracefully (logs flushed and closed).
# Environment: JAVA_HOME (else java from PATH), RUNNEL_JVM_OPTS (replaces the GC/compiler defaults below),
# RUNNEL_HEAP_OPTS (default -Xmx512m), RUNNEL_OPTS (more JVM options); RUNNEL_LOG_LEVEL (trace, debug, info, warn,
# error; default info) and RUNNEL_LOG_FILE (log to this file instead of stderr), read by the broker itself.
#   bin/runnel-server-start.sh --help-config    lists every configuration key
set -euo pipefail
home="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
java="java"
if [[ -n "${JAVA_HOME:-}" ]]; then
  java="$JAVA_HOME/bin/java"
fi
# JVM defaults for a small broker that starts fast (see bench/results/): serial GC, a heap that starts at 16 MB,
# the C1 compiler only. RUNNEL_JVM_OPTS replaces them; RUNNEL_HEAP_OPTS and RUNNEL_OPTS come after and win.
# shellcheck disable=SC2086 # the *_OPTS variables hold several words on purpose
exec "$java" ${RUNNEL_JVM_OPTS:--XX:+UseSerialGC -Xms16m -XX:TieredStopAtLevel=1} ${RUNNEL_HEAP_OPTS:--Xmx512m} ${RUNNEL_OPTS:-} \
  -cp "$home/lib/*" dev.runnel.broker.Main "$@"
