#!/usr/bin/env bash
# Whole-command `merge` against the same-run I/O floor: task arithmetic of a base and 8 synthetic ViT-B/16-layout
# checkpoints (598.5 MB each, SyntheticCheckpoints) into one output, page cache warm (every file read once first).
#   bash benchmarks/merge-io.sh DIR ROUNDS [BEFORE_DIR]
# The floor: `cat` of the 9 inputs to /dev/null plus writing one output-sized file with one fdatasync (dd).
# The merges run as a user runs them, through ./mergetune (built first if stale), with the default digest (sha256),
# --hash xxh3-128 and --no-hash. BEFORE_DIR (optional) holds an older mergetune.jar + lib/ to time in the same rounds
# (interleaved), run with the JVM options of the launcher it came with.
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
./mergetune --version > /dev/null  # builds now if stale, not inside a timed run
# Each side gets its own JavaCPP cache (in DIR), so neither re-extracts the other's libmergetune (same jar name,
# other timestamps) inside a timed run, and one untimed warm-up merge each fills it and warms the page cache.
export MERGETUNE_JAVA_OPTS="${MERGETUNE_JAVA_OPTS:-} -Dorg.bytedeco.javacpp.cachedir=$dir/javacpp-after"
bjvm=("${jvm[@]}" -Dorg.bytedeco.javacpp.cachedir="$dir/javacpp-before" -Dmergetune.home="$PWD")
./mergetune "${merge[@]}" --out "$dir/merged.safetensors" > /dev/null
[[ -z "$before" ]] || "${bjvm[@]}" -jar "$before/mergetune.jar" "${merge[@]}" --out "$dir/merged-before.safetensors" > /dev/null
cat "${inputs[@]}" > /dev/null  # warm
echo "round,cat_inputs_s,write_output_s,floor_s,merge_after_s,merge_after_xxh3_s,merge_after_no_hash_s${before:+,merge_before_s}"
for r in $(seq 1 "$rounds"); do
  c=$(t cat "${inputs[@]}")
  w=$(t dd if=/dev/zero of="$dir/floor.out" bs=4M count=$(( (size + 4194303) / 4194304 )) conv=fdatasync status=none)
  rm -f "$dir/floor.out"
  a=$(t ./mergetune "${merge[@]}" --out "$dir/merged.safetensors")
  x=$(t ./mergetune "${merge[@]}" --hash xxh3-128 --out "$dir/merged-xxh3.safetensors")
  n=$(t ./mergetune "${merge[@]}" --no-hash --out "$dir/merged-nohash.safetensors")
  b=""
  if [[ -n "$before" ]]; then
    b=,$(t "${bjvm[@]}" -jar "$before/mergetune.jar" "${merge[@]}" --out "$dir/merged-before.safetensors")
  fi
  echo "$r,$c,$w,$(echo "$c + $w" | bc),$a,$x,$n$b"
done
