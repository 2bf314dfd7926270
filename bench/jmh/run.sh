#!/usr/bin/env bash
# JMH microbenchmarks of the hot paths (codec, batch validation, log append/read). Not part of `./mvnw verify`.
#   bench/jmh/run.sh                 all benchmarks, short settings (about 3 minutes)
#   bench/jmh/run.sh Crc -f 2        JMH options as usual: a name pattern, forks, -prof gc, ...
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
(cd "$root" && ./mvnw -q -B -Pbench -DskipTests package -pl bench/jmh -am) >&2
cd "$root/bench/jmh"
exec java -Xmx1g -cp "target/classes:$(cat target/runtime-classpath.txt)" org.openjdk.jmh.Main "$@"
