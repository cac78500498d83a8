/* mergetune C ABI: the whole public surface. */
#ifndef MERGETUNE_H
#define MERGETUNE_H
#include "mergetune/status.h"
#include "mergetune/device.h"
#include "mergetune/interp.h"
#include "mergetune/signmax.h"
#include "mergetune/dare.h"
#include "mergetune/ties.h"
/* K1 */
#include "mergetune/multialpha.h"
/* K2 and K5 */
#include "mergetune/anchor.h"
#include "mergetune/scratch_interp.h"
/* generalized task arithmetic (mergekit's GTA family) */
#include "mergetune/gta.h"
#include "mergetune/gram.h"
#endif
