// The thread-local error state behind mt_last_error().
#include "error.h"

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <string>

namespace {

struct ErrorState {
  char message[1024] = "";
  int32_t input = MT_INPUT_NONE;
  int64_t segment = -1;
  int64_t element = -1;
};

thread_local ErrorState g_error;

void set_message(const char* fmt, va_list args) {
  std::vsnprintf(g_error.message, sizeof(g_error.message), fmt, args);
}

}  // namespace

namespace mt {

void clear_error() { g_error = ErrorState{}; }

mt_status fail(mt_status status, const char* fmt, ...) {
  g_error = ErrorState{};
  va_list args;
  va_start(args, fmt);
  set_message(fmt, args);
  va_end(args);
  return status;
}

mt_status fail_at(mt_status status, int32_t input, int64_t segment, int64_t element, const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  set_message(fmt, args);
  va_end(args);
  g_error.input = input;
  g_error.segment = segment;
  g_error.element = element;
  return status;
}

mt_status relocate_segment(mt_status status, int64_t segment) {
  if (g_error.segment != 0 || segment == 0) return status;
  g_error.segment = segment;
  std::string m = g_error.message;
  const size_t at = m.find("segment 0");
  if (at != std::string::npos) {
    m.replace(at, 9, "segment " + std::to_string(segment));
    std::snprintf(g_error.message, sizeof(g_error.message), "%s", m.c_str());
  }
  return status;
}

}  // namespace mt

extern "C" {

const char* mt_last_error(void) { return g_error.message; }
int64_t mt_last_error_segment(void) { return g_error.segment; }
int64_t mt_last_error_element(void) { return g_error.element; }
int32_t mt_last_error_input(void) { return g_error.input; }

const char* mt_status_name(mt_status status) {
  switch (status) {
    case MT_OK: return "MT_OK";
    case MT_INVALID_ARGUMENT: return "MT_INVALID_ARGUMENT";
    case MT_NON_FINITE: return "MT_NON_FINITE";
    case MT_CUDA_UNAVAILABLE: return "MT_CUDA_UNAVAILABLE";
    case MT_CUDA_ERROR: return "MT_CUDA_ERROR";
    case MT_OUT_OF_MEMORY: return "MT_OUT_OF_MEMORY";
    case MT_INTERNAL: return "MT_INTERNAL";
    default: return "MT_UNKNOWN_STATUS";
  }
}

}  // extern "C"
