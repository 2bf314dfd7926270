#!/usr/bin/env bash
# Runnel vs Apache Kafka, side by side, with Kafka's own perf tools. One command:
#   bench/run.sh            full run (about 20 minutes on a busy 2-core machine), writes bench/results/<date>.md
#   bench/run.sh --quick    tiny sizes, one round: checks the harness works (about 4 minutes)
#   bench/run.sh -Dbench.rows=1,6 -Dbench.rounds=5 ...   a subset; settings in harness/src/.../Harness.java
#   -Dbench.runnelVariants='jdk= ;g1=-XX:+UseG1GC' adds Runnel with other JVM options (RUNNEL_JVM_OPTS, which
#   replace the start script's defaults; a blank value means the JDK's own) to every round, to measure a
#   change against the default in the same run
#   bench/run.sh --cluster-start   only this: start-up of a three-node cluster in a test JVM, Runnel's testkit
#   (EmbeddedRunnel.cluster(3)) vs Kafka's KafkaClusterTestKit, a fresh JVM per sample (3-7 minutes);
#   writes bench/results/<date>-cluster-start.md (-Dbench.rounds=N, -Dbench.heap=...)
#   bench/run.sh --cluster-replication [--quick]   only this: a three-node Runnel cluster against a three-node Kafka
#   cluster (broker processes on loopback, replication factor 3, min.insync.replicas=2): produce 1 KB acks=all and
#   acks=1 throughput, end-to-end latency under a fixed load, kill -9 of a partition leader -> next acknowledged write
#   (about 12 minutes plus waits for a quiet machine; --quick about 5); writes
#   bench/results/<date>-cluster-replication.md. Runnel is built from a clean export of HEAD (git archive) under
#   bench/target/runnel-src, so other work in the tree is not measured. Settings in harness/src/.../ClusterReplication.java.
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
cluster_start=0
cluster_replication=0
for a in "$@"; do
  case "$a" in
    --quick) opts+=(-Dbench.quick=true) ;;
    --primary-only) opts+=(-Dbench.primaryOnly=true) ;;
    --cluster-start) cluster_start=1 ;;
    --cluster-replication) cluster_replication=1 ;;
    -D*) opts+=("$a") ;;
    *) echo "unknown option $a (use --quick, --primary-only, --cluster-start, --cluster-replication, -Dbench.<setting>=<value>)" >&2; exit 2 ;;
  esac
done
mkdir -p "$target"

if [[ "$cluster_start" == "1" ]]; then
  # Runnel's testkit and its runtime classpath (reactor jars, so the build is the work tree's), Kafka's test kit and
  # clients from Maven Central (bench/kafka-testkit/pom.xml), one probe compiled against each.
  if [[ "${RUNNEL_SKIP_BUILD:-0}" != "1" || ! -s "$target/runnel-testkit.classpath" ]]; then
    echo "Building the Runnel testkit (package, no tests)..." >&2
    (cd "$root" && ./mvnw -q -B -DskipTests package dependency:build-classpath -pl testkit -am -DincludeScope=runtime \
      -Dmdep.outputFile="$target/runnel-testkit.classpath") >&2
  fi
  kcp_file="$target/kafka-testkit-$kafka.classpath"
  if [[ ! -s "$kcp_file" ]]; then
    echo "Resolving Apache Kafka $kafka's KafkaClusterTestKit (kafka-test-common-runtime) from Maven Central..." >&2
    (cd "$root" && ./mvnw -q -B -f bench/kafka-testkit/pom.xml -Dkafka.version="$kafka" \
      dependency:build-classpath -Dmdep.outputFile="$kcp_file") >&2
  fi
  kcp="$(cat "$kcp_file")"
  clients="$(tr ':' '\n' <<<"$kcp" | grep "/kafka-clients-$kafka.jar$")"
  testkit_jar="$(ls "$root"/testkit/target/runnel-testkit-*.jar | grep -v -- '-sources\|-javadoc' | head -1)"
  rcp="$testkit_jar:$(cat "$target/runnel-testkit.classpath"):$clients"
  probes="$root/bench/harness/probes"
  rm -rf "$target/probes-kafka" "$target/probes-runnel" "$target/harness"
  javac -nowarn -d "$target/probes-kafka" -cp "$kcp" "$probes"/common/dev/runnel/bench/probe/*.java \
    "$probes"/kafka/dev/runnel/bench/probe/*.java
  javac -nowarn -d "$target/probes-runnel" -cp "$rcp" "$probes"/common/dev/runnel/bench/probe/*.java \
    "$probes"/runnel/dev/runnel/bench/probe/*.java
  echo "$target/probes-kafka:$kcp" > "$target/probe-kafka.classpath"
  echo "$target/probes-runnel:$rcp" > "$target/probe-runnel.classpath"
  javac -nowarn -d "$target/harness" -cp "$kcp" "$root"/bench/harness/src/dev/runnel/bench/*.java
  exec java -Xmx256m "${opts[@]}" -cp "$target/harness:$kcp" dev.runnel.bench.ClusterStart "$root" "$root/bench/results" \
    "$kafka" "$target/probe-kafka.classpath" "$target/probe-runnel.classpath"
fi

if [[ "$cluster_replication" == "1" ]]; then
  # Runnel: the committed HEAD, exported and built on its own (the work tree may hold others' unfinished changes, and
  # their builds must not swap classes under a running benchmark). Kafka: broker and tools from Maven Central.
  src="$target/runnel-src"
  commit="$(git -C "$root" rev-parse --short HEAD)"
  if [[ "${RUNNEL_SKIP_BUILD:-0}" != "1" || ! -s "$src/broker/target/runtime-classpath.txt" ]]; then
    echo "Exporting Runnel $commit (git archive HEAD) to $src and building the broker (package, no tests, offline)..." >&2
    rm -rf "$src" && mkdir -p "$src"
    git -C "$root" archive HEAD | tar -x -C "$src"
    echo "$commit" > "$src/.bench-commit"
    (cd "$src" && ./mvnw -q -B -o -DskipTests package -pl broker -am) >&2
  fi
  commit="$(cat "$src/.bench-commit" 2>/dev/null || echo "$commit")"
  cp_file="$target/kafka-$kafka.classpath"
  if [[ ! -s "$cp_file" ]]; then
    echo "Resolving Apache Kafka $kafka (broker and tools) from Maven Central..." >&2
    (cd "$root" && ./mvnw -q -B -f bench/kafka-dist/pom.xml -Dkafka.version="$kafka" \
      dependency:build-classpath -Dmdep.outputFile="$cp_file") >&2
  fi
  tools_cp="$(cat "$cp_file")"
  rm -rf "$target/harness"
  javac -nowarn -d "$target/harness" -cp "$tools_cp" "$root"/bench/harness/src/dev/runnel/bench/*.java
  exec java -Xmx512m "${opts[@]}" -cp "$target/harness:$tools_cp" dev.runnel.bench.ClusterReplication "$src" \
    "$root/bench/results" "$kafka" "$cp_file" "$commit"
fi

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
