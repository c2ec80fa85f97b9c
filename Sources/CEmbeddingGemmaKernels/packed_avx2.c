#include "CEmbeddingGemmaKernels.h"

/* The packed float32 kernel (packed_body.h) with AVX2+FMA: panels of 16 weight rows (2 vectors of 8),
   tiles of up to 6 input rows x 16 weight rows (12 accumulators of the 16 registers, with the 2 panel
   vectors and the broadcast input), depth in chunks of 256, so a packed chunk (16 KB) stays in L1 while
   every tile of input rows passes over it. */

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#define EG_PACKED256 __attribute__((target("avx2,fma")))

/* 8 x 8 transpose: v[t] lane q becomes v[q] lane t. Unpacks and 4 x 4 shuffles inside 128-bit lanes,
   then an exchange of the 128-bit halves. */
EG_PACKED256 static inline void transpose_8x8(__m256 v[8]) {
    __m256 t[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(v[i], v[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(v[i], v[i + 1]);
    }
    /* s[4i + q]: rows 4i ..< 4i + 4 of column q (low half) and of column 4 + q (high half) */
    __m256 s[8];
    for (int i = 0; i < 8; i += 4) {
        s[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
        s[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
        s[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        s[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    for (int q = 0; q < 4; q++) {
        v[q] = _mm256_permute2f128_ps(s[q], s[4 + q], 0x20);
        v[4 + q] = _mm256_permute2f128_ps(s[q], s[4 + q], 0x31);
    }
}

/* Masked loads and stores for the outputs of a partial panel. Full panels (every panel but the last of a
   product) use plain ones: AMD cores run VMASKMOVPS stores as a slow microcoded sequence. */
EG_PACKED256 static inline __m256 masked_load(__m256i mask, const float *p) {
    return _mm256_testc_si256(mask, _mm256_set1_epi32(-1)) ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, mask);
}

EG_PACKED256 static inline void masked_store(float *p, __m256i mask, __m256 v) {
    if (_mm256_testc_si256(mask, _mm256_set1_epi32(-1))) _mm256_storeu_ps(p, v);
    else _mm256_maskstore_ps(p, mask, v);
}

#define EG_PK_TARGET EG_PACKED256
#define EG_PK_V __m256
#define EG_PK_LANES 8
#define EG_PK_VECTORS 2
#define EG_PK_CHUNK 256
#define EG_PK_MASK __m256i
#define EG_PK_MASK_FIRST(here) _mm256_cmpgt_epi32(_mm256_set1_epi32(here), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
#define EG_PK_MASKZ_LOAD(mask, p) masked_load(mask, p)
#define EG_PK_MASK_STORE(p, mask, v) masked_store(p, mask, v)
#define EG_PK_LOADU _mm256_loadu_ps
#define EG_PK_LOAD _mm256_load_ps
#define EG_PK_STORE _mm256_store_ps
#define EG_PK_ZERO _mm256_setzero_ps
#define EG_PK_SET1 _mm256_set1_ps
#define EG_PK_FMADD _mm256_fmadd_ps
#define EG_PK_PREFETCH(p) _mm_prefetch((const char *)(p), _MM_HINT_T0)
#define EG_PK_TRANSPOSE transpose_8x8
#include "packed_body.h"

int eg_gemm_packed_avx2(const float *x, long ldx, int m, const float *w, long ldw, int n, int k, float *y, long ldy) {
    if (k <= 0 || k % 8 != 0) return 0;
    gemm_packed(x, ldx, m, w, ldw, n, k, y, ldy);
    return 1;
}

#else

int eg_gemm_packed_avx2(const float *x, long ldx, int m, const float *w, long ldw, int n, int k, float *y, long ldy) {
    (void)x; (void)ldx; (void)m; (void)w; (void)ldw; (void)n; (void)k; (void)y; (void)ldy;
    return 0;
}

#endif
