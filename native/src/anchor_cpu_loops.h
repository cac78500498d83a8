// Internal: the K2 weight-space loops over one block, included by anchor_cpu.cpp (portable, namespace generic) and
// anchor_cpu_fma.cpp (-mavx2 -mfma, namespace fma). Both compile with -ffp-contract=off, and every fused
// multiply-add is an explicit std::fma, so the two are bit-identical (and so is the CUDA twin in anchor.cu).
//
// Element i of a block adds (w − w1)² (double) into lane i mod kAnchorLanes; the lanes are then added in the fixed
// tree. With the check, an element whose outputs are not all finite keeps its old values (select, no branch) and
// the first such index is returned through *first_bad. The tables are distinct memory (anchor.h), hence __restrict__.
#ifndef MT_ANCHOR_LOOPS_NS
#error "define MT_ANCHOR_LOOPS_NS before including anchor_cpu_loops.h"
#endif

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>

#include "anchor_internal.h"

namespace mt::cpu::MT_ANCHOR_LOOPS_NS {

namespace {

constexpr int64_t kNone = std::numeric_limits<int64_t>::max();

inline bool fin(float v) { return std::fabs(v) <= FLT_MAX; }
inline bool fin(double v) { return std::fabs(v) <= DBL_MAX; }

// The index (offset by c) of the first false of ok[0..n), or kNone. Flags are collected per chunk of lanes so the
// element loop stays free of cross-iteration dependencies (it vectorises).
inline int64_t first_not_ok(const bool* ok, int n, int64_t c) {
  for (int t = 0; t < n; ++t) {
    if (!ok[t]) return c + t;
  }
  return kNone;
}

template <bool kCheck, bool kGrad>
double value_grad(const AnchorArgs& a, const AnchorBlock& b, int64_t* first_bad) {
  const float* __restrict__ w = a.w[b.segment] + b.start;
  const float* __restrict__ w1 = a.w1[b.segment] + b.start;
  float* __restrict__ g = kGrad ? a.grad[b.segment] + b.start : nullptr;
  const float lam = a.lambda;
  double lanes[kAnchorLanes] = {};
  int64_t first = kNone;
  bool okv[kAnchorLanes];  // per-element flags of the current chunk (check only)
  for (int64_t c = 0; c < b.len; c += kAnchorLanes) {
    const int n = static_cast<int>(std::min<int64_t>(kAnchorLanes, b.len - c));
    for (int t = 0; t < n; ++t) {
      const int64_t i = c + t;
      const float wv = w[i], w1v = w1[i];
      const double dd = static_cast<double>(wv) - static_cast<double>(w1v);
      lanes[t] += dd * dd;
      bool ok = true;
      if (kGrad) {
        const float gv = g[i];
        const float gn = std::fma(wv - w1v, lam, gv);
        ok = fin(dd) & fin(gn);
        g[i] = (!kCheck || ok) ? gn : gv;
      } else {
        ok = fin(dd);
      }
      if (kCheck) okv[t] = ok;
    }
    if (kCheck && first == kNone) first = first_not_ok(okv, n, c);
  }
  *first_bad = first == kNone ? -1 : first;
  return anchor_tree_sum(lanes);
}

// One chunk of at most kAnchorLanes elements of SGD (pointers as __restrict__ parameters, as adamw_chunk).
template <bool kCheck, bool kMom>
inline void sgd_chunk(float* __restrict__ w, const float* __restrict__ w1, const float* __restrict__ g,
                      float* __restrict__ buf, const AnchorArgs& a, int n, double* __restrict__ lanes,
                      bool* __restrict__ okv) {
  const float lam = a.lambda, neg_lr = a.neg_lr, mom = a.momentum, omd = a.one_minus_dampening,
              wd = a.weight_decay;
  const bool use_wd = a.use_weight_decay, nesterov = a.nesterov, first_step = a.first_step;
  for (int t = 0; t < n; ++t) {
    const float wv = w[t], w1v = w1[t];
    const double dd = static_cast<double>(wv) - static_cast<double>(w1v);
    lanes[t] += dd * dd;
    float ge = std::fma(wv - w1v, lam, g[t]);          // the anchored gradient
    const float gwd = std::fma(wv, wd, ge);            // d_p.add(p, weight_decay)
    ge = use_wd ? gwd : ge;                            // (every branch computed, then selected: no control flow)
    float bn = 0.0f, bv = 0.0f;
    if (kMom) {
      bv = buf[t];  // read even on the first step (then unused): selects, not branches, so the loop vectorises
      const float bm = std::fma(ge, omd, bv * mom);     // buf.mul_(momentum).add_(d_p, 1 - dampening)
      bn = first_step ? ge : bm;
      const float gn = std::fma(bn, mom, ge);           // nesterov: d_p.add(buf, momentum)
      ge = nesterov ? gn : bn;
    }
    const float wn = std::fma(ge, neg_lr, wv);         // p.add_(d_p, -lr)
    const bool ok = !kCheck || (fin(dd) & fin(wn) & (!kMom || fin(bn)));
    w[t] = ok ? wn : wv;
    if (kMom) buf[t] = ok ? bn : bv;
    if (kCheck) okv[t] = ok;
  }
}

template <bool kCheck, bool kMom>
double sgd(const AnchorArgs& a, const AnchorBlock& b, int64_t* first_bad) {
  float* w = a.w[b.segment] + b.start;
  const float* w1 = a.w1[b.segment] + b.start;
  const float* g = a.grad[b.segment] + b.start;
  float* buf = kMom ? a.state0[b.segment] + b.start : nullptr;
  double lanes[kAnchorLanes] = {};
  int64_t first = kNone;
  bool okv[kAnchorLanes];  // per-element flags of the current chunk (check only)
  for (int64_t c = 0; c < b.len; c += kAnchorLanes) {
    const int n = static_cast<int>(std::min<int64_t>(kAnchorLanes, b.len - c));
    sgd_chunk<kCheck, kMom>(w + c, w1 + c, g + c, kMom ? buf + c : nullptr, a, n, lanes, okv);
    if (kCheck && first == kNone) first = first_not_ok(okv, n, c);
  }
  *first_bad = first == kNone ? -1 : first;
  return anchor_tree_sum(lanes);
}

// One chunk of at most kAnchorLanes elements of AdamW. The pointers are parameters so that __restrict__ holds for
// GCC (five streams are more than its run-time alias checks cover).
template <bool kCheck>
inline void adamw_chunk(float* __restrict__ w, const float* __restrict__ w1, const float* __restrict__ g,
                        float* __restrict__ m, float* __restrict__ v, const AnchorArgs& a, int n,
                        double* __restrict__ lanes, bool* __restrict__ okv) {
  const float lam = a.lambda, decay = a.decay, b1 = a.beta1, omb1 = a.one_minus_beta1, b2 = a.beta2,
              omb2 = a.one_minus_beta2, sbc2 = a.sqrt_bc2, eps = a.eps, neg_step = a.neg_step_size;
  for (int t = 0; t < n; ++t) {
    const float wv = w[t], w1v = w1[t], mv = m[t], vv = v[t];
    const double dd = static_cast<double>(wv) - static_cast<double>(w1v);
    lanes[t] += dd * dd;
    const float ge = std::fma(wv - w1v, lam, g[t]);
    const float wd = wv * decay;                          // p.mul_(1 - lr * weight_decay); decay is 1 without it
    const float mn = std::fma(ge, omb1, mv * b1);         // exp_avg.mul_(beta1).add_(grad, 1 - beta1)
    const float vn = vv * b2 + (omb2 * ge) * ge;          // exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1 - beta2)
    const float denom = std::sqrt(vn) / sbc2 + eps;       // (exp_avg_sq.sqrt() / sqrt(bc2)).add_(eps)
    const float wn = wd + (neg_step * mn) / denom;        // p.addcdiv_(exp_avg, denom, -step_size)
    const bool ok = !kCheck || (fin(dd) & fin(wn) & fin(mn) & fin(vn));
    w[t] = ok ? wn : wv;
    m[t] = ok ? mn : mv;
    v[t] = ok ? vn : vv;
    if (kCheck) okv[t] = ok;
  }
}

template <bool kCheck>
double adamw(const AnchorArgs& a, const AnchorBlock& b, int64_t* first_bad) {
  float* w = a.w[b.segment] + b.start;
  const float* w1 = a.w1[b.segment] + b.start;
  const float* g = a.grad[b.segment] + b.start;
  float* m = a.state0[b.segment] + b.start;
  float* v = a.state1[b.segment] + b.start;
  double lanes[kAnchorLanes] = {};
  int64_t first = kNone;
  bool okv[kAnchorLanes];  // per-element flags of the current chunk (check only)
  for (int64_t c = 0; c < b.len; c += kAnchorLanes) {
    const int n = static_cast<int>(std::min<int64_t>(kAnchorLanes, b.len - c));
    adamw_chunk<kCheck>(w + c, w1 + c, g + c, m + c, v + c, a, n, lanes, okv);
    if (kCheck && first == kNone) first = first_not_ok(okv, n, c);
  }
  *first_bad = first == kNone ? -1 : first;
  return anchor_tree_sum(lanes);
}

}  // namespace

double anchor_block(const AnchorArgs& a, const AnchorBlock& b, int64_t* first_bad) {
  switch (a.op) {
    case AnchorOp::kSgd:
      if (a.use_momentum) return a.check ? sgd<true, true>(a, b, first_bad) : sgd<false, true>(a, b, first_bad);
      return a.check ? sgd<true, false>(a, b, first_bad) : sgd<false, false>(a, b, first_bad);
    case AnchorOp::kAdamW: return a.check ? adamw<true>(a, b, first_bad) : adamw<false>(a, b, first_bad);
    default:
      if (a.grad != nullptr) {
        return a.check ? value_grad<true, true>(a, b, first_bad) : value_grad<false, true>(a, b, first_bad);
      }
      return a.check ? value_grad<true, false>(a, b, first_bad) : value_grad<false, false>(a, b, first_bad);
  }
}

}  // namespace mt::cpu::MT_ANCHOR_LOOPS_NS
