// K2 on the CPU: the weight-space calls split into fixed blocks (anchor_blocks) handed out to threads in ranges,
// each block's double sum kept in its own slot and the slots added in block order, so the value does not depend on
// the thread count. The per-block loops are anchor_cpu_loops.h (portable here, FMA in anchor_cpu_fma.cpp).
// Feature space: one row per class, threads over rows, the same lanes and tree over dim.
#define MT_ANCHOR_LOOPS_NS generic
#include "anchor_cpu_loops.h"

#include <cstring>
#include <vector>

#include "cpu_isa.h"
#include "error.h"
#include "parallel.h"

namespace mt::cpu {

namespace {

constexpr int64_t kMinBlocksPerThread = 32;  // 128K elements
constexpr int64_t kMinRowsElementsPerThread = int64_t{1} << 16;

bool use_fma() {
  static const bool has_fma = __builtin_cpu_supports("fma");
  return has_fma && std::strcmp(isa(), "avx2") == 0;
}

}  // namespace

mt_status anchor_f32(const AnchorArgs& a, double* value) {
  const std::vector<AnchorBlock> blocks = anchor_blocks(a.n_segments, a.lengths);
  const int64_t nb = static_cast<int64_t>(blocks.size());
  std::vector<double> partial(nb, 0.0);
  const int32_t threads = std::max(1, cpu_threads());
  std::vector<int64_t> bad_block(threads, -1), bad_element(threads, -1);
  auto block = use_fma() ? &fma::anchor_block : &generic::anchor_block;
  parallel_ranges(nb, kMinBlocksPerThread, threads, [&](int32_t part, int64_t begin, int64_t end) {
    for (int64_t k = begin; k < end; ++k) {
      int64_t bad = -1;
      partial[k] = block(a, blocks[k], &bad);
      if (bad >= 0) {
        bad_block[part] = k;
        bad_element[part] = bad;
        return;
      }
    }
  });
  for (int32_t p = 0; p < threads; ++p) {  // parts are in block order: the first hit is the lowest index
    if (bad_block[p] < 0) continue;
    const AnchorBlock& b = blocks[bad_block[p]];
    const int64_t s = b.segment, e = b.start + bad_element[p];
    float values[5] = {};
    bool present[5] = {true, true, a.grad != nullptr, a.state0 != nullptr && !(a.op == AnchorOp::kSgd && a.first_step),
                       a.state1 != nullptr};
    values[0] = a.w[s][e];
    values[1] = a.w1[s][e];
    if (present[2]) values[2] = a.grad[s][e];
    if (present[3]) values[3] = a.state0[s][e];
    if (present[4]) values[4] = a.state1[s][e];
    return report_anchor_non_finite(a.op, s, e, values, present);
  }
  if (value != nullptr) {
    double sum = 0.0;
    for (double p : partial) sum += p;
    *value = 0.5 * static_cast<double>(a.lambda) * sum;
  }
  return MT_OK;
}

mt_status anchor_feature_f32(int64_t n_classes, int64_t dim, const float* features, const float* targets,
                             float lambda, double* value, float* grad_features, int32_t flags) {
  const bool check = (flags & MT_CHECK_FINITE) != 0;
  std::vector<FeatureRow> rows(n_classes);
  const int32_t threads = std::max(1, cpu_threads());
  const int64_t min_rows = std::max<int64_t>(1, kMinRowsElementsPerThread / dim);
  std::vector<int64_t> bad_row(threads, -1), bad_col(threads, -1), bad_input(threads, -1);
  const double coef = -static_cast<double>(lambda) / static_cast<double>(n_classes);
  parallel_ranges(n_classes, min_rows, threads, [&](int32_t part, int64_t begin, int64_t end) {
    double dot[kAnchorLanes], nf[kAnchorLanes], nz[kAnchorLanes];
    for (int64_t c = begin; c < end; ++c) {
      const float* f = features + c * dim;
      const float* z = targets + c * dim;
      if (check) {
        for (int64_t j = 0; j < dim; ++j) {
          const int which = !std::isfinite(f[j]) ? 0 : !std::isfinite(z[j]) ? 1 : -1;
          if (which >= 0) {
            bad_row[part] = c;
            bad_col[part] = j;
            bad_input[part] = which;
            return;
          }
        }
      }
      std::fill(dot, dot + kAnchorLanes, 0.0);
      std::fill(nf, nf + kAnchorLanes, 0.0);
      std::fill(nz, nz + kAnchorLanes, 0.0);
      for (int64_t j0 = 0; j0 < dim; j0 += kAnchorLanes) {
        const int n = static_cast<int>(std::min<int64_t>(kAnchorLanes, dim - j0));
        for (int t = 0; t < n; ++t) {
          const double fv = f[j0 + t], zv = z[j0 + t];
          dot[t] += fv * zv;
          nf[t] += fv * fv;
          nz[t] += zv * zv;
        }
      }
      FeatureRow& r = rows[c];
      r.dot = anchor_tree_sum(dot);
      r.nf2 = anchor_tree_sum(nf);
      r.nz2 = anchor_tree_sum(nz);
      if (r.nf2 == 0.0 || r.nz2 == 0.0) {
        bad_row[part] = c;
        bad_col[part] = -1;
        bad_input[part] = r.nf2 == 0.0 ? 0 : 1;
        return;
      }
      if (grad_features == nullptr) continue;
      const double nfv = std::sqrt(r.nf2), nzv = std::sqrt(r.nz2);
      const double cosv = r.dot / (nfv * nzv);
      const double az = 1.0 / (nfv * nzv), bf = cosv / r.nf2;
      float* g = grad_features + c * dim;
      for (int64_t j = 0; j < dim; ++j) {
        g[j] = static_cast<float>(coef * (static_cast<double>(z[j]) * az - static_cast<double>(f[j]) * bf));
      }
    }
  });
  for (int32_t p = 0; p < threads; ++p) {
    if (bad_row[p] < 0) continue;
    const char* name = bad_input[p] == 0 ? "features" : "targets";
    const int32_t input = bad_input[p] == 0 ? MT_ANCHOR_INPUT_W : MT_ANCHOR_INPUT_STATE0;
    if (bad_col[p] < 0) {
      return fail_at(MT_INVALID_ARGUMENT, input, bad_row[p], -1,
                     "row %lld of %s has zero norm: its cosine is undefined", (long long)bad_row[p], name);
    }
    const float v = (bad_input[p] == 0 ? features : targets)[bad_row[p] * dim + bad_col[p]];
    return fail_at(MT_NON_FINITE, input, bad_row[p], bad_col[p], "non-finite value %s in %s, row %lld, column %lld",
                   std::isnan(v) ? "NaN" : (v > 0 ? "+Inf" : "-Inf"), name, (long long)bad_row[p],
                   (long long)bad_col[p]);
  }
  double sum = 0.0;
  for (const FeatureRow& r : rows) sum += feature_cos(r);
  *value = static_cast<double>(lambda) * (1.0 - sum / static_cast<double>(n_classes));
  return MT_OK;
}

}  // namespace mt::cpu
