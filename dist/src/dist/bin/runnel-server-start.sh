#!/usr/bin/env bash
# Starts a Runnel broker in the foreground, like Kafka's kafka-server-start.sh.
#   bin/runnel-server-start.sh [config/server.properties]
# Without a file: the embedded defaults (one node on localhost:9092, data under ./data).
# SIGTERM / Ctrl-C shut it down gracefully (logs flushed and closed).
# Environment: JAVA_HOME (else java from PATH), RUNNEL_HEAP_OPTS (default -Xmx512m), RUNNEL_LOG_LEVEL (default info),
# RUNNEL_OPTS (more JVM options).
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
# shellcheck disable=SC2086 # the *_OPTS variables hold several words on purpose
exec "$java" ${RUNNEL_HEAP_OPTS:--Xmx512m} "${log_opts[@]}" ${RUNNEL_OPTS:-} \
  -cp "$home/lib/*" dev.runnel.broker.Main "$@"
