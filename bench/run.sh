#!/usr/bin/env bash
# Runnel vs Apache Kafka, side by side, with Kafka's own perf tools. One command:
#   bench/run.sh            full run (about 20 minutes on a busy 2-core machine), writes bench/results/<date>.md
#   bench/run.sh --quick    tiny sizes, one round: checks the harness works (about 4 minutes)
#   bench/run.sh -Dbench.rows=1,6 -Dbench.rounds=5 ...   a subset; settings in harness/src/.../Harness.java
#   -Dbench.runnelVariants='jdk= ;g1=-XX:+UseG1GC' adds Runnel with other JVM options (RUNNEL_JVM_OPTS, which
#   replace the start script's defaults; a blank value means the JDK's own) to every round, to measure a
#   change against the default in the same run
# Environment: KAFKA_VERSION (default 4.3.1, the reference for ratios), KAFKA_SECOND_VERSION (default 3.9.2,
# empty to skip), BENCH_OPTS (extra -Dbench.* settings, see Harness.Settings), RUNNEL_SKIP_BUILD=1 to use the
# broker already built in broker/target.
# Kafka's broker and tools are resolved from Maven Central by bench/kafka-dist/pom.xml at run time; nothing of
# Kafka is committed. This is not part of `./mvnw verify`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="$root/bench/target"
kafka="${KAFKA_VERSION:-4.3.1}"
second="${KAFKA_SECOND_VERSION-3.9.2}"
opts=(${BENCH_OPTS:-})
for a in "$@"; do
  case "$a" in
    --quick) opts+=(-Dbench.quick=true) ;;
    --primary-only) opts+=(-Dbench.primaryOnly=true) ;;
    -D*) opts+=("$a") ;;
    *) echo "unknown option $a (use --quick, --primary-only, -Dbench.<setting>=<value>)" >&2; exit 2 ;;
  esac
done
mkdir -p "$target"

if [[ "${RUNNEL_SKIP_BUILD:-0}" != "1" ]]; then
  echo "Building the Runnel broker (package, no tests)..." >&2
  (cd "$root" && ./mvnw -q -B -DskipTests package -pl broker -am) >&2
fi

versions=("$kafka")
[[ -n "$second" ]] && versions+=("$second")
args=()
for v in "${versions[@]}"; do
  cp_file="$target/kafka-$v.classpath"
  if [[ ! -s "$cp_file" ]]; then
    echo "Resolving Apache Kafka $v (broker and tools) from Maven Central..." >&2
    (cd "$root" && ./mvnw -q -B -f bench/kafka-dist/pom.xml -Dkafka.version="$v" \
      dependency:build-classpath -Dmdep.outputFile="$cp_file") >&2
  fi
  args+=("$v=@$cp_file")
done

tools_cp="$(cat "$target/kafka-$kafka.classpath")"
rm -rf "$target/harness"
javac -nowarn -d "$target/harness" -cp "$tools_cp" "$root"/bench/harness/src/dev/runnel/bench/*.java
exec java -Xmx512m "${opts[@]}" \
  -cp "$target/harness:$tools_cp" dev.runnel.bench.Harness "$root" "$root/bench/results" "${args[@]}"
