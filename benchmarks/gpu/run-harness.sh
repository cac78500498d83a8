#!/usr/bin/env bash
# Builds libmergetune with its CUDA kernels and runs the C++ tests and the full check-and-time harness, on a GPU
# machine that has only CMake, a C++ compiler and nvcc (no JDK, no Maven, no network).
#
#   benchmarks/gpu/run-harness.sh
#
#   BUILD_DIR   build directory (default build/harness, relative to the repository root)
#   OUT         where harness.log and harness.csv go (default: BUILD_DIR)
#   CUDA_ARCHS  MERGETUNE_CUDA_ARCHITECTURES to build (default: the CMake default, the one that ships)
#   (K2/K5: the full harness checks the anchor and scratch-interpolation kernels and times them at ViT-B/16 size,
#   150M parameters; MT_HARNESS_ANCHOR_PARAMS=n times them at n parameters instead)
#
# Exits non-zero when the build, a test or a harness check fails.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
BUILD_DIR="${BUILD_DIR:-build/harness}"
OUT="${OUT:-$BUILD_DIR}"
mkdir -p "$BUILD_DIR" "$OUT"
LOG="$OUT/harness.log"
CSV="$OUT/harness.csv"

# nvcc is often installed but not on PATH.
if ! command -v nvcc >/dev/null 2>&1 && [[ -z "${CUDACXX:-}" && -x /usr/local/cuda/bin/nvcc ]]; then
  export PATH="/usr/local/cuda/bin:$PATH"
fi

run() {
  echo "== mergetune GPU harness, $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname)"
  echo "repository: $ROOT ($(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo 'no git'))"
  if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi -L || true
  else
    echo "nvidia-smi: not found"
  fi
  cmake --version | head -n 1
  "${CUDACXX:-nvcc}" --version | tail -n 1 || true

  local -a configure=(-S cmake -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DMERGETUNE_CUDA=ON
                      -DMERGETUNE_BUILD_TESTS=ON)
  if [[ -n "${CUDA_ARCHS:-}" ]]; then configure+=("-DMERGETUNE_CUDA_ARCHITECTURES=$CUDA_ARCHS"); fi
  echo; echo "== configure"
  cmake "${configure[@]}"
  echo; echo "== build"
  cmake --build "$BUILD_DIR" -j "$(nproc)" --target mergetune mergetune_harness mergetune_tests

  local status=0
  echo; echo "== ctest"
  ctest --test-dir "$BUILD_DIR" --output-on-failure || status=1
  echo; echo "== harness (full)"
  MT_HARNESS_CSV="$CSV" "$BUILD_DIR/mergetune_harness" || status=1

  echo
  if [[ $status -eq 0 ]]; then echo "== all passed; log: $LOG, timings: $CSV"; else echo "== FAILED; log: $LOG"; fi
  return $status
}

run 2>&1 | tee "$LOG"
