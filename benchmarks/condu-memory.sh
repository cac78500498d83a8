#!/usr/bin/env bash
# Peak resident memory (VmHWM, native included) of a ConDU session step and a decouple at CLIP ViT-B/16 scale with
# 11 synthetic tasks, and the bytes stored per task (issue 8). Each step runs in a fresh JVM. Needs ~2.5 GB of disk
# under ROOT; building the 10-task store takes a few minutes.
#   bash benchmarks/condu-memory.sh [ROOT]     (default build/condu-memory)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="${1:-build/condu-memory}"
[[ -f benchmarks/target/benchmarks.jar ]] || mvn -B -q -DskipTests package
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
run() {
  java -Xmx2g -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 -Dorg.bytedeco.javacpp.maxBytes=0 \
    -cp "benchmarks/target/benchmarks.jar:benchmarks/target/lib/*" dev.mergetune.bench.ConduMemory "$@"
}
run build "$root"
run step "$root"
run decouple "$root"
