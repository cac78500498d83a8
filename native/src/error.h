// Internal: setting the thread-local error that mt_last_error() and friends report.
#pragma once

#include <cstdint>
#include "mergetune/status.h"

namespace mt {

void clear_error();
// Sets the message (printf-style) with no location; returns `status` so callers can `return fail(...)`.
mt_status fail(mt_status status, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
// Same, and records which input / segment / element the error concerns.
mt_status fail_at(mt_status status, int32_t input, int64_t segment, int64_t element, const char* fmt, ...)
    __attribute__((format(printf, 5, 6)));

// For an error raised by a one-segment sub-call: the error concerned segment 0 of that call, which is segment
// `segment` of the caller's table; the recorded index and the "segment 0" in the message are rewritten.
mt_status relocate_segment(mt_status status, int64_t segment);

}  // namespace mt
