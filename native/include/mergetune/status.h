/*
 * mergetune C ABI: status codes and the thread-local error message.
 *
 * Every entry point returns an mt_status. On failure, mt_last_error() holds a readable message for the calling
 * thread until that thread's next failing call; mt_last_error_segment() / mt_last_error_input() locate the bad
 * element for errors that concern one segment of a segment table (non-finite values, bad pointers, lengths), so a
 * caller holding names (a state dict) can report "model 2, tensor visual.proj" instead of indices.
 */
#ifndef MERGETUNE_STATUS_H
#define MERGETUNE_STATUS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef int32_t mt_status;

#define MT_OK 0
#define MT_INVALID_ARGUMENT 1  /* null pointer, negative length, bad count, non-finite coefficient ... */
#define MT_NON_FINITE 2        /* NaN or Inf met in an input, or produced from finite inputs */
#define MT_CUDA_UNAVAILABLE 3  /* built without CUDA, no driver, or no device */
#define MT_CUDA_ERROR 4        /* a CUDA runtime call or kernel launch failed */
#define MT_OUT_OF_MEMORY 5
#define MT_INTERNAL 6

/* Flag for the kernels: report NaN/Inf in inputs or results as MT_NON_FINITE instead of computing with them. */
#define MT_CHECK_FINITE 1

/* Which input of a call an error concerns (mt_last_error_input). */
#define MT_INPUT_NONE (-3)
#define MT_INPUT_OUTPUT (-2)
#define MT_INPUT_BASE (-1)
/* values >= 0 name a model index */

const char* mt_last_error(void);
/* Segment index the last error concerns, or -1. */
int64_t mt_last_error_segment(void);
/* Element index inside that segment, or -1. */
int64_t mt_last_error_element(void);
/* MT_INPUT_* or a model index. */
int32_t mt_last_error_input(void);
/* "MT_OK", "MT_NON_FINITE", ... */
const char* mt_status_name(mt_status status);

#ifdef __cplusplus
}
#endif

#endif
