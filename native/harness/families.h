// The kernel families of the check-and-time harness, one source file each (main.cpp runs them in this order).
// check_X runs the family's checks on the CPU, and on CUDA when `cuda` (otherwise the clean MT_CUDA_UNAVAILABLE
// answers of its entry points); `quick` keeps the problems small. time_X adds the family's timing rows for one device.
#pragma once

#include <cstdint>

namespace mt::harness {

void check_interp(bool cuda, bool quick);      // K4a  interp.cpp      task arithmetic / interpolation
void check_signmax(bool cuda, bool quick);     // K3   signmax.cpp     ConDU's sign-consistent max unify / decouple
void check_dare(bool cuda, bool quick);        // K4b  dare.cpp        DARE drop + rescale
void check_ties(bool cuda, bool quick);        // K4c  ties.cpp        TIES trim, histograms, census, merge
void check_multialpha(bool cuda, bool quick);  // K1   multialpha.cpp  the multi-α loss
void check_anchor(bool cuda, bool quick);      // K2/K5 anchor.cpp     zero-shot anchor, scratch interpolation

void time_interp(int32_t device, int64_t mb);  // also the plain copies every "of copy" column is measured against
void time_signmax(int32_t device, int64_t mb);
void time_dare(int32_t device, int64_t mb);
void time_ties(int32_t device, int64_t mb);
void time_multialpha(int32_t device);
void time_anchor(int32_t device);  // at ViT-B/16 size

}  // namespace mt::harness
