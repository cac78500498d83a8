/*
 * mergetune C ABI: K4c, TIES merging (trim, elect sign, disjoint merge) over segment tables.
 *
 * Per element j of segment s, with δ_i = models[i] − base in fp32 (or models[i] itself when base is NULL: the
 * inputs are then task vectors and the result is the merged task vector):
 *
 *   trim       kept_i  ⟺  a_i > t_i,s  or  (a_i == t_i,s and j < c_i,s)        a_i = bit pattern of |δ_i| (31 bits)
 *   weight     v_i     = kept_i ? w_i ⊗ δ_i : 0
 *   elect      score   = Σ_i v_i in double (MT_TIES_ELECT_MASS)  or  Σ_i sign(v_i) (MT_TIES_ELECT_COUNT)
 *              e       = sign(score), or zero_signs[s] ∈ {−1, 0, +1} where score == 0
 *   select     the v_i with sign(v_i) == e; where e == 0, the v_i < 0 (the TIES reference's torch.where quirk)
 *   aggregate  a = Σ_sel v_i (fp32, i in order); MT_TIES_DISJOINT_MEAN: a ⊘ d, d = Σ_sel w_i (fp32, i in order),
 *              d := 1 where it is 0; MT_TIES_DISJOINT_MAX: a = e ⊗ max_sel |v_i| (0 where nothing is selected,
 *              and 0 where e == 0: the official TIES code's "dis-max", src/utils/merge_utils.py disjoint_merge,
 *              multiplies the selected entries' largest magnitude by the elected sign)
 *   result     out = base ⊕ (λ ⊗ a)        (base NULL: out = λ ⊗ a)
 *
 * Each operation is one fp32 rounding (no FMA), so CPU and CUDA results are bit-identical. Thresholds t_i,s are bit
 * patterns of |x| (compare as unsigned integers, which orders non-negative floats); MT_TIES_KEEP_NONE keeps
 * nothing, t = 0 with c = length keeps everything. Exact selection is radix selection over those 31 bits in two
 * levels (bits 30..16, then bits 15..0), from histograms:
 *
 *   mt_ties_histogram_f32      level 0: hist[i·32768 + (a_i >> 16)] += 1 over every element of every segment;
 *                              level 1: hist[i·65536 + (a_i & 0xffff)] += 1 where (a_i >> 16) == prefixes[i]
 *                              (prefixes[i] = MT_TIES_KEEP_NONE skips model i). hist is host memory, added to, so
 *                              calls over the tensors of a model accumulate (global trim in a streaming merge).
 *   mt_ties_tie_cutoffs_f32    per (model, segment): how many elements have a == t_i,s, and the cutoff c that
 *                              keeps the first wanted[i·S+s] of them in index order (0 keeps none of them, a count
 *                              at or above the total keeps all: c = length).
 *   mt_ties_trim_per_segment_f32   the thresholds and cutoffs that keep the top keep_counts[i·S+s] elements of each
 *                              (model, segment) by |δ|: MT_TIES_TIES_KEEP_ALL keeps every element equal to the
 *                              keep_count-th largest (torch.kthvalue + >=, the TIES reference), MT_TIES_TIES_EXACT
 *                              keeps exactly keep_count, lower indices first among equals (mergekit keeps exactly
 *                              k; its order among equals is torch.topk's, unspecified). The CPU reads each
                              (model, segment) once and radix-selects in a copy of its patterns; CUDA uses the two
                              histogram levels and the tie cutoffs: the same t and c by definition.
 *   mt_ties_sign_census_f32    per segment, Σ_j sign(score_j) (int64): the reference's zero-sign rule takes the
 *                              majority elected sign over the whole parameter set.
 *   mt_ties_merge_f32          the merge above into out (out may alias base or a model exactly, as in K4a).
 *
 * Tables: models and per-(model, segment) arrays are model-major ([i · n_segments + s]). Device, stream and
 * MT_CHECK_FINITE as in interp.h; with MT_CHECK_FINITE every pass reports the first NaN/Inf input (or fp32
 * overflow of δ or of the result) by model, segment and element.
 */
#ifndef MERGETUNE_TIES_H
#define MERGETUNE_TIES_H

#include <stdint.h>
#include "mergetune/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MT_TIES_ELECT_MASS 0
#define MT_TIES_ELECT_COUNT 1

#define MT_TIES_DISJOINT_SUM 0
#define MT_TIES_DISJOINT_MEAN 1
#define MT_TIES_DISJOINT_MAX 2

#define MT_TIES_TIES_KEEP_ALL 0
#define MT_TIES_TIES_EXACT 1

#define MT_TIES_KEEP_NONE 0xffffffffu
#define MT_TIES_LEVEL0_BINS 32768
#define MT_TIES_LEVEL1_BINS 65536

mt_status mt_ties_histogram_f32(int32_t device, void* stream, int64_t n_segments, const int64_t* lengths,
                                const float* const* base, int32_t n_models, const float* const* models, int32_t level,
                                const uint32_t* prefixes, int64_t* hist, int32_t flags);

mt_status mt_ties_tie_cutoffs_f32(int32_t device, void* stream, int64_t n_segments, const int64_t* lengths,
                                  const float* const* base, int32_t n_models, const float* const* models,
                                  const uint32_t* thresholds, const int64_t* wanted, int64_t* tie_counts,
                                  int64_t* cutoffs, int32_t flags);

mt_status mt_ties_trim_per_segment_f32(int32_t device, void* stream, int64_t n_segments, const int64_t* lengths,
                                       const float* const* base, int32_t n_models, const float* const* models,
                                       const int64_t* keep_counts, int32_t ties, uint32_t* thresholds,
                                       int64_t* cutoffs, int32_t flags);

mt_status mt_ties_sign_census_f32(int32_t device, void* stream, int64_t n_segments, const int64_t* lengths,
                                  const float* const* base, int32_t n_models, const float* const* models,
                                  const uint32_t* thresholds, const int64_t* cutoffs, const float* weights,
                                  int32_t election, int64_t* sign_sums, int32_t flags);

mt_status mt_ties_merge_f32(int32_t device, void* stream, int64_t n_segments, const int64_t* lengths,
                            float* const* out, const float* const* base, int32_t n_models,
                            const float* const* models, const uint32_t* thresholds, const int64_t* cutoffs,
                            const float* weights, int32_t election, const float* zero_signs, int32_t aggregate,
                            float lambda, int32_t flags);

/* Radix-select helper (host only): the bin of `hist` (bins entries) holding the rank-th largest element
 * (rank >= 1, counted from the top bin down) and that element's rank inside the bin. MT_INVALID_ARGUMENT when the
 * histogram holds fewer than rank elements. */
mt_status mt_ties_pick_bin(const int64_t* hist, int32_t bins, int64_t rank, int32_t* bin, int64_t* rank_in_bin);

#ifdef __cplusplus
}
#endif

#endif
