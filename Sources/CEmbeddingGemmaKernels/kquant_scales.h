#ifndef CEMBEDDINGGEMMA_KQUANT_SCALES_H
#define CEMBEDDINGGEMMA_KQUANT_SCALES_H

#include <stdint.h>

/* The 6-bit scale and minimum of sub-block j (0..7) of a Q4_K / Q5_K super-block, from its 12 packed
   bytes `q`, as ggml's get_scale_min_k4 unpacks them. Shared by the block decoders (kquants.c) and
   the streamed kernels. */
static inline void eg_scale_min_k4(int j, const uint8_t *q, float *d, float *m) {
    if (j < 4) {
        *d = (float)(q[j] & 63);
        *m = (float)(q[j + 4] & 63);
    } else {
        *d = (float)((q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4));
        *m = (float)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

#endif
