#!/usr/bin/env bash
# Whole-command `merge` against the same-run I/O floor: task arithmetic of a base and 8 synthetic ViT-B/16-layout
# checkpoints (598.5 MB each, SyntheticCheckpoints) into one output, page cache warm (every file read once first).
#   bash benchmarks/merge-io.sh DIR ROUNDS [BEFORE_DIR]
# The floor: `cat` of the 9 inputs to /dev/null plus writing one output-sized file with one fdatasync (dd).
# BEFORE_DIR (optional) holds an older mergetune.jar + lib/ to time in the same rounds (interleaved).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dir="$1"; rounds="${2:-3}"; before="${3:-}"
[[ -f "$dir/model-7.safetensors" ]] || java -cp "benchmarks/target/benchmarks.jar:benchmarks/target/lib/*" \
  dev.mergetune.bench.SyntheticCheckpoints "$dir" 8
inputs=("$dir/base.safetensors" "$dir"/model-{0..7}.safetensors)
size=$(stat -c %s "$dir/base.safetensors")
export OPENBLAS_NUM_THREADS=1
jvm=(java -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 -Dorg.bytedeco.javacpp.maxBytes=0)
merge=(merge --no-progress --method task-arithmetic --base "$dir/base.safetensors" --models "${inputs[@]:1}" --scale 0.3)
t() { local s e; s=$(date +%s.%N); "$@" > /dev/null; e=$(date +%s.%N); echo "$e - $s" | bc; }
cat "${inputs[@]}" > /dev/null  # warm
echo "round,cat_inputs_s,write_output_s,floor_s,merge_after_s,merge_after_no_hash_s${before:+,merge_before_s}"
for r in $(seq 1 "$rounds"); do
  c=$(t cat "${inputs[@]}")
  w=$(t dd if=/dev/zero of="$dir/floor.out" bs=4M count=$(( (size + 4194303) / 4194304 )) conv=fdatasync status=none)
  rm -f "$dir/floor.out"
  a=$(t "${jvm[@]}" -jar java/cli/target/mergetune.jar "${merge[@]}" --out "$dir/merged.safetensors")
  n=$(t "${jvm[@]}" -jar java/cli/target/mergetune.jar "${merge[@]}" --no-hash --out "$dir/merged-nohash.safetensors")
  b=""
  if [[ -n "$before" ]]; then
    b=,$(t "${jvm[@]}" -jar "$before/mergetune.jar" "${merge[@]}" --out "$dir/merged-before.safetensors")
  fi
  echo "$r,$c,$w,$(echo "$c + $w" | bc),$a,$n$b"
done
