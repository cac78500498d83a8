// Plain reference of K4c (mt_ties_*), for tests and the harness: trimming by a full sort, everything after it in
// double, one element at a time.
//
//   δ_i      = m_i − b in fp32 (the quantity the trim ranks; or m_i itself without b)
//   trim     per group (a model's whole table, or one (model, segment)): sort the group's elements by |δ|
//            descending, then by flat index ascending; KEEP_ALL keeps every element with |δ| >= the k-th one's,
//            EXACT keeps the first k of that order
//   v_i      = w_i · δ_i in double where kept, else 0
//   score    = Σ v_i (mass) or Σ sign(v_i) (count); e = sign(score), or the zero sign where score == 0
//   agg      = Σ of the v_i with sign(v_i) == e (e == 0: v_i < 0); mean: / Σ of their w_i (1 where that is 0);
//              max: e · max of their |v_i| (0 where none; the official TIES "dis-max")
//   out      = b + λ · agg
//
// Trim decisions are exact (the same fp32 δ); the kernels' fp32 sums agree with the double result to rounding.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace mt::ref {

struct TiesInputs {
  std::vector<int64_t> lengths;
  const float* const* base;    // [segment], or NULL
  const float* const* models;  // [i · S + s]
  int32_t n_models;
};

inline float ties_delta(const TiesInputs& in, int32_t i, int64_t s, int64_t j) {
  const int64_t S = static_cast<int64_t>(in.lengths.size());
  const float m = in.models[i * S + s][j];
  return in.base != nullptr ? m - in.base[s][j] : m;
}

// kept[i][s][j] for trim groups: `global` (one group per model over all segments, keep[i]) or per (model,
// segment) (keep[i · S + s]); `exact` chooses EXACT over KEEP_ALL.
inline std::vector<std::vector<std::vector<char>>> ties_keep_masks(const TiesInputs& in, bool global,
                                                                   const std::vector<int64_t>& keep, bool exact) {
  const int64_t S = static_cast<int64_t>(in.lengths.size());
  std::vector<std::vector<std::vector<char>>> kept(in.n_models);
  for (int32_t i = 0; i < in.n_models; ++i) {
    kept[i].resize(S);
    for (int64_t s = 0; s < S; ++s) kept[i][s].assign(in.lengths[s], 0);
  }
  struct Item {
    float mag;
    int64_t s, j;  // flat order = (s, j)
  };
  auto run = [&](int32_t i, int64_t first, int64_t last, int64_t k) {
    std::vector<Item> items;
    for (int64_t s = first; s < last; ++s) {
      for (int64_t j = 0; j < in.lengths[s]; ++j) items.push_back({std::fabs(ties_delta(in, i, s, j)), s, j});
    }
    std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) { return a.mag > b.mag; });
    const int64_t n = static_cast<int64_t>(items.size());
    if (k <= 0) return;
    if (k >= n) {
      for (const Item& it : items) kept[i][it.s][it.j] = 1;
      return;
    }
    const float t = items[k - 1].mag;
    for (int64_t p = 0; p < n; ++p) {
      if (exact ? p < k : items[p].mag >= t) kept[i][items[p].s][items[p].j] = 1;
    }
  };
  for (int32_t i = 0; i < in.n_models; ++i) {
    if (global) {
      run(i, 0, S, keep[i]);
    } else {
      for (int64_t s = 0; s < S; ++s) run(i, s, s + 1, keep[i * S + s]);
    }
  }
  return kept;
}

struct TiesElement {
  double score, agg;
  int elected;
};

inline TiesElement ties_element(const TiesInputs& in, const std::vector<std::vector<std::vector<char>>>& kept,
                                int64_t s, int64_t j, const float* weights, bool count, int zero_sign, bool mean,
                                bool max = false) {
  double mass = 0.0, votes = 0.0;
  for (int32_t i = 0; i < in.n_models; ++i) {
    if (!kept[i][s][j]) continue;
    const double v = static_cast<double>(weights[i]) * ties_delta(in, i, s, j);
    mass += v;
    votes += v > 0 ? 1.0 : (v < 0 ? -1.0 : 0.0);
  }
  const double score = count ? votes : mass;
  const int e = score > 0 ? 1 : (score < 0 ? -1 : zero_sign);
  double sum = 0.0, den = 0.0, biggest = 0.0;
  for (int32_t i = 0; i < in.n_models; ++i) {
    if (!kept[i][s][j]) continue;
    const double v = static_cast<double>(weights[i]) * ties_delta(in, i, s, j);
    if (e > 0 ? v > 0 : v < 0) {
      sum += v;
      den += weights[i];
      biggest = std::max(biggest, std::fabs(v));
    }
  }
  if (mean) sum /= den == 0.0 ? 1.0 : den;
  if (max) sum = e * biggest;
  return {score, sum, e};
}

// Σ_j sign(score_j) per segment.
inline std::vector<int64_t> ties_census(const TiesInputs& in, const std::vector<std::vector<std::vector<char>>>& kept,
                                        const float* weights, bool count) {
  std::vector<int64_t> out(in.lengths.size(), 0);
  for (size_t s = 0; s < in.lengths.size(); ++s) {
    for (int64_t j = 0; j < in.lengths[s]; ++j) {
      const double score = ties_element(in, kept, s, j, weights, count, 0, false).score;
      out[s] += score > 0 ? 1 : (score < 0 ? -1 : 0);
    }
  }
  return out;
}

// out[s][j] in double, and the magnitude scale the fp32 result is compared at: |b| + |λ|·Σ_sel|v| / |den|.
inline void ties_merge(const TiesInputs& in, const std::vector<std::vector<std::vector<char>>>& kept,
                       const float* weights, bool count, const std::vector<int>& zero_signs, bool mean, double lambda,
                       std::vector<std::vector<double>>* out, std::vector<std::vector<double>>* scale,
                       bool max = false) {
  const int64_t S = static_cast<int64_t>(in.lengths.size());
  out->assign(S, {});
  scale->assign(S, {});
  for (int64_t s = 0; s < S; ++s) {
    (*out)[s].resize(in.lengths[s]);
    (*scale)[s].resize(in.lengths[s]);
    for (int64_t j = 0; j < in.lengths[s]; ++j) {
      const TiesElement el = ties_element(in, kept, s, j, weights, count, zero_signs[s], mean, max);
      double mag = 0.0, den = 0.0, biggest = 0.0;
      for (int32_t i = 0; i < in.n_models; ++i) {
        if (!kept[i][s][j]) continue;
        const double v = static_cast<double>(weights[i]) * ties_delta(in, i, s, j);
        if (el.elected > 0 ? v > 0 : v < 0) {
          mag += std::fabs(v);
          den += weights[i];
          biggest = std::max(biggest, std::fabs(v));
        }
      }
      if (mean) mag /= den == 0.0 ? 1.0 : std::fabs(den);
      if (max) mag = biggest;
      const double b = in.base != nullptr ? in.base[s][j] : 0.0;
      (*out)[s][j] = b + lambda * el.agg;
      (*scale)[s][j] = std::fabs(b) + std::fabs(lambda) * mag;
    }
  }
}

}  // namespace mt::ref
