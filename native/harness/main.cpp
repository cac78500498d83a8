// Check-and-time harness of every kernel family, in the spirit of llm.c's dev/cuda files: each kernel is first
// checked against its plain double-precision reference (native/reference/*_ref.h), then timed against a plain copy
// on the same device. On CUDA the results are also checked against the CPU's, bit for bit where the kernel promises
// it. One source file per family (families.h lists them: K4a interp, K3 signmax, K4b DARE, K4c TIES, K1 multi-α
// loss, K2/K5 anchor and scratch interpolation); the shared problems, buffers and timing rows are in common.h.
//
//   mergetune_harness [--quick | --timing-only] [--mb N]
//
// --quick runs small sizes and checks only (seconds; a ctest, also on machines without a GPU). The full run adds
// large sizes and the timing table; MT_HARNESS_CSV=path also writes the timing rows as CSV. --timing-only skips
// the checks and prints the timing table alone (copies, K4a, K3 unify, K4b and K4c at N MB, default 64; N MB is one
// array: a call with T inputs moves (T + 2)·N MB; K1 and K2/K5 at their own sizes). The CUDA sections run only when
// mt_cuda_device_count() > 0. The exit status is 0 when every check passed, and the last line reads
// "N passed, M failed". benchmarks/gpu/run-harness.sh builds and runs it on a GPU machine.
#include "common.h"
#include "families.h"

namespace mt::harness {
namespace {

void write_csv(const char* path) {
  FILE* f = std::fopen(path, "w");
  if (f == nullptr) {
    result(false, "writing CSV to %s: %s", path, std::strerror(errno));
    return;
  }
  std::fprintf(f, "kernel,device,n_models,mb,ms,gb_per_s,fraction_of_copy\n");
  for (const Row& r : g_rows) {  // n_models is empty for the copies
    const std::string models = r.n_models >= 0 ? std::to_string(r.n_models) : "";
    std::fprintf(f, "%s,%s,%s,%lld,%.4f,%.2f,%.4f\n", r.kernel.c_str(), r.device.c_str(), models.c_str(),
                 (long long)r.mb, r.ms, r.gbps, r.fraction);
  }
  const bool ok = std::fclose(f) == 0;
  result(ok, "timing rows written to %s", path);
}

void print_cuda_status(bool* available) {
  int32_t runtime = 0, driver = 0;
  mt_cuda_versions(&runtime, &driver);
  const int32_t count = mt_cuda_device_count();
  *available = count > 0;
  std::printf("CUDA: built %s", mt_built_with_cuda() ? "with kernels for " : "without CUDA");
  if (mt_built_with_cuda()) std::printf("sm %s, runtime %d, driver %d", mt_cuda_architectures(), runtime, driver);
  std::printf("\n");
  if (!*available) {
    std::printf("CUDA: not available (%s)\n", mt_cuda_unavailable_reason());
    return;
  }
  for (int32_t d = 0; d < count; ++d) {
    char name[256];
    int64_t total = 0, free_bytes = 0;
    int32_t major = 0, minor = 0;
    const mt_status st = mt_cuda_device_info(d, name, sizeof(name), &total, &free_bytes, &major, &minor);
    if (st != MT_OK) {
      result(false, "cuda device %d info: %s", d, last_error(st).c_str());
      continue;
    }
    std::printf("CUDA: device %d: %s, sm_%d%d, %.1f GiB (%.1f GiB free)\n", d, name, major, minor,
                total / 1073741824.0, free_bytes / 1073741824.0);
  }
}

void time_all(bool cuda, int64_t kernel_mb) {
  std::printf("  %-18s %-6s %8s %6s %9s %9s %8s\n", "kernel", "device", "n_models", "MB", "ms", "GB/s", "of copy");
  for (const int32_t device : {int32_t{MT_DEVICE_CPU}, int32_t{MT_DEVICE_CUDA}}) {
    if (device == MT_DEVICE_CUDA && !cuda) {
      std::printf("  cuda: not available (%s)\n", mt_cuda_unavailable_reason());
      break;
    }
    for (const int64_t mb : {int64_t{64}, int64_t{256}}) time_interp(device, mb);
    if (kernel_mb != 64 && kernel_mb != 256) time_interp(device, kernel_mb);
    time_signmax(device, kernel_mb);
    time_dare(device, kernel_mb);
    time_ties(device, kernel_mb);
    time_multialpha(device);  // K1
    time_anchor(device);      // K2/K5, at ViT-B/16 size
  }
  if (const char* csv = std::getenv("MT_HARNESS_CSV"); csv != nullptr && csv[0] != '\0') write_csv(csv);
}

int harness(bool quick, bool timing_only, int64_t kernel_mb) {
  std::printf("mergetune harness (%s): libmergetune %s, %d CPU threads, CPU ISA %s\n",
              timing_only ? "timing only" : quick ? "quick" : "full", mt_version(), mt_get_num_threads(), mt_cpu_isa());
  bool cuda = false;
  print_cuda_status(&cuda);
  if (timing_only) {
    std::printf("\n== Timing (GB/s counts (n_models + 2) * 4 bytes per element; \"of copy\" is against the best copy)\n");
    time_all(cuda, kernel_mb);
    std::printf("\n%d passed, %d failed\n", g_passed, g_failed);
    return g_failed == 0 ? 0 : 1;
  }
  result((mt_cuda_device_count() > 0) == (mt_cuda_unavailable_reason()[0] == '\0'),
         "mt_cuda_unavailable_reason() is empty exactly when devices are present");

  check_interp(cuda, quick);
  check_signmax(cuda, quick);
  check_dare(cuda, quick);
  check_ties(cuda, quick);
  check_multialpha(cuda, quick);
  check_anchor(cuda, quick);


  std::printf("\n== Timing (GB/s counts (n_models + 2) * 4 bytes per element; \"of copy\" is against the best copy)\n");
  if (quick) {
    std::printf("  skipped (--quick)\n");
  } else {
    time_all(cuda, kernel_mb);
  }

  std::printf("\n%d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}

}  // namespace
}  // namespace mt::harness


int main(int argc, char** argv) {
  using mt::harness::g_failed;
  using mt::harness::g_passed;
  bool quick = false, timing_only = false;
  int64_t kernel_mb = 64;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      quick = true;
    } else if (std::strcmp(argv[i], "--timing-only") == 0) {
      timing_only = true;
    } else if (std::strcmp(argv[i], "--mb") == 0 && i + 1 < argc && std::atoll(argv[i + 1]) > 0) {
      kernel_mb = std::atoll(argv[++i]);
    } else {
      std::fprintf(stderr,
                   "usage: %s [--quick | --timing-only] [--mb N]\n"
                   "  --quick        small sizes, checks only\n"
                   "  --timing-only  no checks: the timing table alone\n"
                   "  --mb N         size of one array in the K3 unify and K4b timing runs (default 64)\n"
                   "  MT_HARNESS_CSV=path also writes the timing rows as CSV; MERGETUNE_CPU_ISA=generic times the\n"
                   "  portable CPU path\n",
                   argv[0]);
      return std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0 ? 0 : 2;
    }
  }
  if (quick && timing_only) {
    std::fprintf(stderr, "--quick and --timing-only exclude each other\n");
    return 2;
  }
  try {
    return mt::harness::harness(quick, timing_only, kernel_mb);
  } catch (const std::exception& e) {
    std::printf("harness aborted: %s\n%d passed, %d failed\n", e.what(), g_passed, g_failed + 1);
    return 1;
  }
}
