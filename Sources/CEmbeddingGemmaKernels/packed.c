#include "CEmbeddingGemmaKernels.h"

/* The packed float32 kernel (packed_body.h) with AVX-512F: panels of 64 weight rows (4 vectors of 16),
   tiles of up to 6 input rows x 64 weight rows (24 accumulators of the 32 registers), depth in chunks of
   128, so a packed chunk (32 KB) stays in L1 while every tile of input rows passes over it. */

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#define EG_PACKED512 __attribute__((target("avx512f")))

/* 16 x 16 transpose: v[t] lane q becomes v[q] lane t. Unpacks and 4 x 4 shuffles inside 128-bit
   lanes, then a 4 x 4 transpose of the 128-bit lanes. */
EG_PACKED512 static inline void transpose_16x16(__m512 v[16]) {
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(v[i], v[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(v[i], v[i + 1]);
    }
    /* s[4i + q], lane L: rows 4i ..< 4i + 4 of column 4L + q */
    __m512 s[16];
    for (int i = 0; i < 16; i += 4) {
        s[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
        s[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xEE);
        s[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        s[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    for (int q = 0; q < 4; q++) {
        const __m512 p = _mm512_shuffle_f32x4(s[q], s[4 + q], 0x44), r = _mm512_shuffle_f32x4(s[8 + q], s[12 + q], 0x44);
        const __m512 u = _mm512_shuffle_f32x4(s[q], s[4 + q], 0xEE), w = _mm512_shuffle_f32x4(s[8 + q], s[12 + q], 0xEE);
        v[q] = _mm512_shuffle_f32x4(p, r, 0x88);
        v[4 + q] = _mm512_shuffle_f32x4(p, r, 0xDD);
        v[8 + q] = _mm512_shuffle_f32x4(u, w, 0x88);
        v[12 + q] = _mm512_shuffle_f32x4(u, w, 0xDD);
    }
}

#define EG_PK_TARGET EG_PACKED512
#define EG_PK_V __m512
#define EG_PK_LANES 16
#define EG_PK_VECTORS 4
#define EG_PK_CHUNK 128
#define EG_PK_MASK __mmask16
#define EG_PK_MASK_FIRST(here) ((here) >= 16 ? (__mmask16)0xFFFF : (here) > 0 ? (__mmask16)((1u << (here)) - 1) : (__mmask16)0)
#define EG_PK_MASKZ_LOAD(mask, p) _mm512_maskz_loadu_ps(mask, p)
#define EG_PK_MASK_STORE(p, mask, v) _mm512_mask_storeu_ps(p, mask, v)
#define EG_PK_LOADU _mm512_loadu_ps
#define EG_PK_LOAD _mm512_load_ps
#define EG_PK_STORE _mm512_store_ps
#define EG_PK_ZERO _mm512_setzero_ps
#define EG_PK_SET1 _mm512_set1_ps
#define EG_PK_FMADD _mm512_fmadd_ps
#define EG_PK_PREFETCH(p) _mm_prefetch((const char *)(p), _MM_HINT_T0)
#define EG_PK_TRANSPOSE transpose_16x16
#include "packed_body.h"

int eg_gemm_packed_avx512(const float *x, long ldx, int m, const float *w, long ldw, int n, int k, float *y, long ldy) {
    if (k <= 0 || k % 16 != 0) return 0;
    gemm_packed(x, ldx, m, w, ldw, n, k, y, ldy);
    return 1;
}

#else

int eg_gemm_packed_avx512(const float *x, long ldx, int m, const float *w, long ldw, int n, int k, float *y, long ldy) {
    (void)x; (void)ldx; (void)m; (void)w; (void)ldw; (void)n; (void)k; (void)y; (void)ldy;
    return 0;
}

#endif
