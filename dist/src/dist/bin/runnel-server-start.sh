#!/usr/bin/env bash
# Starts a Runnel broker in the foreground, like Kafka's kafka-server-start.sh.
#   bin/runnel-server-start.sh [config/server.properties]
# Without a file: the embedded defaults (one node on localhost:9092, data under ./data).
# SIGTERM / Ctrl-C shut it down gracefully (logs flushed and closed).
# Environment: JAVA_HOME (else java from PATH), RUNNEL_JVM_OPTS (replaces the GC/compiler defaults below),
# RUNNEL_HEAP_OPTS (default -Xmx512m), RUNNEL_LOG_LEVEL (default info), RUNNEL_OPTS (more JVM options).
set -euo pipefail
home="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ $# -gt 0 && ! -f "$1" ]]; then
  echo "No such config file: $1" >&2
  exit 1
fi
java="java"
if [[ -n "${JAVA_HOME:-}" ]]; then
  java="$JAVA_HOME/bin/java"
fi
log_opts=(
  "-Dorg.slf4j.simpleLogger.defaultLogLevel=${RUNNEL_LOG_LEVEL:-info}"
  "-Dorg.slf4j.simpleLogger.showDateTime=true"
  "-Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd HH:mm:ss,SSS"
  "-Dorg.slf4j.simpleLogger.showShortLogName=true"
)
# JVM defaults for a small broker that starts fast (see bench/results/): serial GC, a heap that starts at 16 MB,
# the C1 compiler only. RUNNEL_JVM_OPTS replaces them; RUNNEL_HEAP_OPTS and RUNNEL_OPTS come after and win.
# shellcheck disable=SC2086 # the *_OPTS variables hold several words on purpose
exec "$java" ${RUNNEL_JVM_OPTS:--XX:+UseSerialGC -Xms16m -XX:TieredStopAtLevel=1} ${RUNNEL_HEAP_OPTS:--Xmx512m} "${log_opts[@]}" ${RUNNEL_OPTS:-} \
  -cp "$home/lib/*" dev.runnel.broker.Main "$@"
