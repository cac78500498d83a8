#!/usr/bin/env bash
# Peak resident memory of a streaming merge: 8 synthetic ViT-B/16-layout checkpoints (~600 MB each) and a base,
# task arithmetic into one output, measured with /usr/bin/time -v. Needs ~6 GB of disk under DIR.
#   bash benchmarks/merge-memory.sh [DIR]     (default build/synthetic)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dir="${1:-build/synthetic}"
[[ -f benchmarks/target/benchmarks.jar ]] || mvn -B -q -DskipTests package
if [[ ! -f "$dir/model-7.safetensors" ]]; then
  java -cp "benchmarks/target/benchmarks.jar:benchmarks/target/lib/*" dev.mergetune.bench.SyntheticCheckpoints "$dir" 8
fi
ls -l "$dir"
models=("$dir"/model-{0..7}.safetensors)
/usr/bin/time -v ./mergetune merge --method task-arithmetic --base "$dir/base.safetensors" --models "${models[@]}" \
  --scale 0.3 --out "$dir/merged.safetensors" 2> "$dir/time.log"
grep -E "Maximum resident set size|Elapsed \(wall clock\)" "$dir/time.log"
