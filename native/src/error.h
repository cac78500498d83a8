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

}  // namespace mt
