#!/bin/sh
# The image's entrypoint: runs the broker with a server.properties built from
#   1. the file at $RUNNEL_CONFIG (default /etc/runnel/server.properties: mount your own there), then
#   2. every RUNNEL_CFG_* environment variable, which sets (or overrides) one key:
#      strip RUNNEL_CFG_, lower-case, "___" -> "-", "__" -> "_", "_" -> ".",
#      e.g. RUNNEL_CFG_LOG_SEGMENT_BYTES=1048576 -> log.segment.bytes=1048576.
# With arguments that do not start with "-" it runs them instead (docker run IMAGE sh).
set -eu

if [ "$#" -gt 0 ] && [ "${1#-}" = "$1" ]; then
  exec "$@"
fi

RUNNEL_HOME="${RUNNEL_HOME:-/opt/runnel}"
config_in="${RUNNEL_CONFIG:-/etc/runnel/server.properties}"
config_out="${RUNNEL_EFFECTIVE_CONFIG:-${TMPDIR:-/tmp}/runnel-server.properties}"

{
  if [ -f "$config_in" ]; then
    cat "$config_in"
    echo
  fi
  echo "# From RUNNEL_CFG_* environment variables (later keys win):"
  env | grep '^RUNNEL_CFG_' | sort | while IFS='=' read -r name value; do
    key=$(printf '%s' "${name#RUNNEL_CFG_}" | tr '[:upper:]' '[:lower:]' \
      | sed -e 's/___/%/g' -e 's/__/@/g' -e 's/_/./g' -e 's/%/-/g' -e 's/@/_/g')
    printf '%s=%s\n' "$key" "$value"
  done
} > "$config_out"

if [ "${RUNNEL_PRINT_CONFIG:-false}" = "true" ]; then
  echo "Effective configuration ($config_out):" >&2
  cat "$config_out" >&2
fi

exec "$RUNNEL_HOME/bin/runnel-server-start.sh" "$config_out" "$@"
