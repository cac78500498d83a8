#!/usr/bin/env bash
# The cost of MergeTune's released recipe (continue --preset mergetune-coop) with fresh crops every step against the
# same recipe on cached views (--augmentation cached: the baseline's V pre-drawn views), on the project's world with
# the committed tiny CLIP (issue 18). One CoOp baseline (train --method coop on the base classes of world/datasets/shapes,
# 16 shots, V = 10 views), then the two continuations alternated REPEATS times (default 3), each in a fresh JVM.
# Prints each run's stage seconds (result.json: feature caching, training, report) and images per second, and the
# ratios per pair. Checkpoints only at the last step, so that the comparison is of features, not of fsyncs.
#   bash benchmarks/mergetune-stage.sh [ROOT] [REPEATS]      (default build/mergetune-stage, 3)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="${1:-build/mergetune-stage}"
repeats="${2:-3}"
model=demo/tiny-clip/tiny-clip.safetensors
mkdir -p "$root"
[[ -f "$root/world/world.json" ]] || ./mergetune world --seed 7 --out "$root/world" > /dev/null
if [[ ! -f "$root/coop/result.json" ]]; then
  ./mergetune train --method coop --model "$model" --vocab "$root/world/vocab/world-bpe.txt.gz" \
    --data "$root/world/datasets/shapes/train" --val "$root/world/datasets/shapes/val" --subsample base --shots 16 --batch 8 \
    --epochs 30 --template 'a photo of a {}' --no-progress --out "$root/coop" > "$root/coop.log" 2>&1
fi
stage() {  # mode, run number
  local out="$root/mt-$1-$2"
  rm -rf "$out"
  ./mergetune continue --from "$root/coop" --out "$out" --preset mergetune-coop --anchor-template 'a photo of a {}' \
    --augmentation "$1" --checkpoint-every 100000 --test "$root/world/datasets/shapes/test" --no-progress > "$out.log" 2>&1
  python3 - "$out" "$1" <<'EOF'
import json, statistics, sys
out, mode = sys.argv[1], sys.argv[2]
seconds = json.load(open(out + "/result.json"))["seconds"]
ips = statistics.median(json.loads(l)["images_per_second"] for l in open(out + "/metrics.jsonl"))
print(f"{mode:6s} stage {seconds:7.2f} s, training {ips:7.1f} images/s (median over epochs)")
open(out + ".seconds", "w").write(str(seconds))
EOF
}
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%F)"
for i in $(seq 1 "$repeats"); do
  stage cached "$i"
  stage fresh "$i"
  python3 -c "c=float(open('$root/mt-cached-$i.seconds').read()); f=float(open('$root/mt-fresh-$i.seconds').read());\
print(f'pair {$i}: fresh / cached = {f / c:.2f}')"
done
