#!/usr/bin/env bash
# Runs the JMH suite: bash benchmarks/run.sh [smoke|full|scale] [benchmark-regex]
#   bash benchmarks/run.sh full ConduBench   ConDU store at ViT-B/16 scale, 11 tasks (~2.5 GB of disk under
#                                            benchmarks/target/condu-fixture during the run; memory figure:
#                                            bash benchmarks/condu-memory.sh)
# Builds the benchmarks jar if needed; prints a Markdown table (GB/s, fraction of a same-run copy) and writes it
# with JMH's JSON under benchmarks/target/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ ! -f benchmarks/target/benchmarks.jar || ! -d benchmarks/target/lib ]]; then
  mvn -B -q -DskipTests package
fi
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
exec java -Xmx1g -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 -Dorg.bytedeco.javacpp.maxBytes=0 \
  -cp "benchmarks/target/benchmarks.jar:benchmarks/target/lib/*" dev.mergetune.bench.BenchMain "$@"
