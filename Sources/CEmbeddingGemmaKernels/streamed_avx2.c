/* The streamed products of streamed.c for CPUs with AVX2 but not AVX-512 (e.g. AMD Zen 1-3):
   the same shapes, blocks decoded in registers 8 values at a time to ggml's floats (no fused
   multiply-add in the decoding), multiplied with up to 4 input rows as each weight row streams
   past once. */
#include "CEmbeddingGemmaKernels.h"

#if defined(__clang__)
#pragma clang fp contract(off)
#endif

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#include <stdint.h>
#include <string.h>
#include "kquant_scales.h"
#include "streamed_driver.h"

#define EG_AVX2_TARGET __attribute__((target("avx2,fma,f16c"), always_inline)) static inline
#define EG_AVX2_PREFETCH 768

EG_AVX2_TARGET float eg_half8(const uint8_t *p) {
    uint16_t bits;
    memcpy(&bits, p, 2);
    return _cvtsh_ss(bits);
}

/* acc[i] += x[i][0..7] * w for the m input rows. */
EG_AVX2_TARGET void eg_accumulate8(__m256 *acc, const float *x, long ldx, int m, __m256 w) {
    for (int i = 0; i < m; i++) acc[i] = _mm256_fmadd_ps(_mm256_loadu_ps(x + i * ldx), w, acc[i]);
}

/* 8 signed or unsigned bytes widened to 8 int32 lanes. */
EG_AVX2_TARGET __m256i eg_s8(const uint8_t *p) { return _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)p)); }
EG_AVX2_TARGET __m256i eg_u8(const uint8_t *p) { return _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p)); }

/* 16 in each lane whose bit of `bits` (bit i for lane i) is set, else 0. */
EG_AVX2_TARGET __m256i eg_fifth_bits(uint32_t bits) {
    const __m256i select = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    const __m256i set = _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32((int)bits), select), select);
    return _mm256_and_si256(set, _mm256_set1_epi32(16));
}

EG_AVX2_TARGET void eg_row8_q8_0(const uint8_t *w, int k, const float *x, long ldx, int m, __m256 *a, __m256 *b) {
    for (int p = 0; p < k; p += 32, w += 34) {
        _mm_prefetch((const char *)w + EG_AVX2_PREFETCH, _MM_HINT_T0);
        const __m256 d = _mm256_set1_ps(eg_half8(w));
        eg_accumulate8(a, x + p, ldx, m, _mm256_mul_ps(d, _mm256_cvtepi32_ps(eg_s8(w + 2))));
        eg_accumulate8(b, x + p + 8, ldx, m, _mm256_mul_ps(d, _mm256_cvtepi32_ps(eg_s8(w + 10))));
        eg_accumulate8(a, x + p + 16, ldx, m, _mm256_mul_ps(d, _mm256_cvtepi32_ps(eg_s8(w + 18))));
        eg_accumulate8(b, x + p + 24, ldx, m, _mm256_mul_ps(d, _mm256_cvtepi32_ps(eg_s8(w + 26))));
    }
}

EG_AVX2_TARGET void eg_row8_q4_0(const uint8_t *w, int k, const float *x, long ldx, int m, __m256 *a, __m256 *b) {
    const __m256i low = _mm256_set1_epi32(0x0F), eight = _mm256_set1_epi32(8);
    for (int p = 0; p < k; p += 32, w += 18) {
        _mm_prefetch((const char *)w + EG_AVX2_PREFETCH, _MM_HINT_T0);
        const __m256 d = _mm256_set1_ps(eg_half8(w));
        const __m256i c0 = eg_u8(w + 2), c1 = eg_u8(w + 10);
        eg_accumulate8(a, x + p, ldx, m, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_and_si256(c0, low), eight)), d));
        eg_accumulate8(b, x + p + 8, ldx, m, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_and_si256(c1, low), eight)), d));
        eg_accumulate8(a, x + p + 16, ldx, m, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srli_epi32(c0, 4), eight)), d));
        eg_accumulate8(b, x + p + 24, ldx, m, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srli_epi32(c1, 4), eight)), d));
    }
}

EG_AVX2_TARGET void eg_row8_q5_0(const uint8_t *w, int k, const float *x, long ldx, int m, __m256 *a, __m256 *b) {
    const __m256i low = _mm256_set1_epi32(0x0F), sixteen = _mm256_set1_epi32(16);
    for (int p = 0; p < k; p += 32, w += 22) {
        _mm_prefetch((const char *)w + EG_AVX2_PREFETCH, _MM_HINT_T0);
        const __m256 d = _mm256_set1_ps(eg_half8(w));
        uint32_t high;
        memcpy(&high, w + 2, 4);
        const __m256i c0 = eg_u8(w + 6), c1 = eg_u8(w + 14);
        const __m256i v0 = _mm256_or_si256(_mm256_and_si256(c0, low), eg_fifth_bits(high & 0xFF));
        const __m256i v1 = _mm256_or_si256(_mm256_and_si256(c1, low), eg_fifth_bits((high >> 8) & 0xFF));
        const __m256i v2 = _mm256_or_si256(_mm256_srli_epi32(c0, 4), eg_fifth_bits((high >> 16) & 0xFF));
        const __m256i v3 = _mm256_or_si256(_mm256_srli_epi32(c1, 4), eg_fifth_bits(high >> 24));
        eg_accumulate8(a, x + p, ldx, m, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(v0, sixteen)), d));
        eg_accumulate8(b, x + p + 8, ldx, m, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(v1, sixteen)), d));
        eg_accumulate8(a, x + p + 16, ldx, m, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(v2, sixteen)), d));
        eg_accumulate8(b, x + p + 24, ldx, m, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(v3, sixteen)), d));
    }
}


EG_AVX2_TARGET void eg_row8_q4_k(const uint8_t *w, int k, const float *x, long ldx, int m, __m256 *a, __m256 *b) {
    const __m256i low = _mm256_set1_epi32(0x0F);
    for (int p = 0; p < k; p += 256, w += 144) {
        const float d = eg_half8(w), dmin = eg_half8(w + 2);
        const uint8_t *scales = w + 4, *q = w + 16;
        for (int pair = 0; pair < 4; pair++, q += 32) {
            _mm_prefetch((const char *)q + EG_AVX2_PREFETCH, _MM_HINT_T0);
            float s1, m1, s2, m2;
            eg_scale_min_k4(2 * pair, scales, &s1, &m1);
            eg_scale_min_k4(2 * pair + 1, scales, &s2, &m2);
            const __m256 d1 = _mm256_set1_ps(d * s1), min1 = _mm256_set1_ps(dmin * m1);
            const __m256 d2 = _mm256_set1_ps(d * s2), min2 = _mm256_set1_ps(dmin * m2);
            const float *xp = x + p + pair * 64;
            for (int g = 0; g < 4; g++) {
                const __m256i c = eg_u8(q + 8 * g);
                __m256 *acc = g % 2 == 0 ? a : b;
                eg_accumulate8(acc, xp + 8 * g, ldx, m, _mm256_sub_ps(_mm256_mul_ps(d1, _mm256_cvtepi32_ps(_mm256_and_si256(c, low))), min1));
                eg_accumulate8(acc, xp + 32 + 8 * g, ldx, m, _mm256_sub_ps(_mm256_mul_ps(d2, _mm256_cvtepi32_ps(_mm256_srli_epi32(c, 4))), min2));
            }
        }
    }
}

EG_AVX2_TARGET void eg_row8_q6_k(const uint8_t *w, int k, const float *x, long ldx, int m, __m256 *a, __m256 *b) {
    const __m256i low = _mm256_set1_epi32(0x0F), three = _mm256_set1_epi32(3), offset = _mm256_set1_epi32(32);
    for (int p = 0; p < k; p += 256, w += 210) {
        const float d = eg_half8(w + 208);
        for (int line = 0; line < 4; line++) _mm_prefetch((const char *)w + EG_AVX2_PREFETCH + 64 * line, _MM_HINT_T0);
        for (int half = 0; half < 2; half++) {
            const uint8_t *ql = w + 64 * half, *qh = w + 128 + 32 * half;
            const int8_t *sc = (const int8_t *)(w + 192 + 8 * half);
            const float *xp = x + p + 128 * half;
            for (int g = 0; g < 4; g++) {
                const int s = g / 2; /* 16 values per scale */
                const __m256i l0 = eg_u8(ql + 8 * g), l1 = eg_u8(ql + 32 + 8 * g), h = eg_u8(qh + 8 * g);
                const __m256i v1 = _mm256_or_si256(_mm256_and_si256(l0, low), _mm256_slli_epi32(_mm256_and_si256(h, three), 4));
                const __m256i v2 = _mm256_or_si256(_mm256_and_si256(l1, low), _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(h, 2), three), 4));
                const __m256i v3 = _mm256_or_si256(_mm256_srli_epi32(l0, 4), _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(h, 4), three), 4));
                const __m256i v4 = _mm256_or_si256(_mm256_srli_epi32(l1, 4), _mm256_slli_epi32(_mm256_srli_epi32(h, 6), 4));
                __m256 *acc = g % 2 == 0 ? a : b;
                const float *xs = xp + 8 * g;
                eg_accumulate8(acc, xs, ldx, m, _mm256_mul_ps(_mm256_set1_ps(d * (float)sc[s]), _mm256_cvtepi32_ps(_mm256_sub_epi32(v1, offset))));
                eg_accumulate8(acc, xs + 32, ldx, m, _mm256_mul_ps(_mm256_set1_ps(d * (float)sc[s + 2]), _mm256_cvtepi32_ps(_mm256_sub_epi32(v2, offset))));
                eg_accumulate8(acc, xs + 64, ldx, m, _mm256_mul_ps(_mm256_set1_ps(d * (float)sc[s + 4]), _mm256_cvtepi32_ps(_mm256_sub_epi32(v3, offset))));
                eg_accumulate8(acc, xs + 96, ldx, m, _mm256_mul_ps(_mm256_set1_ps(d * (float)sc[s + 6]), _mm256_cvtepi32_ps(_mm256_sub_epi32(v4, offset))));
            }
        }
    }
}

/* Sum of the 8 lanes of a + b. */
EG_AVX2_TARGET float eg_sum8(__m256 a, __m256 b) {
    const __m256 v = _mm256_add_ps(a, b);
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 0x55));
    return _mm_cvtss_f32(s);
}

EG_STREAMED_DRIVER(eg_gemm_streamed_avx2, "avx2,fma,f16c", __m256, _mm256_setzero_ps(), eg_sum8, eg_row8)

#else

int eg_gemm_streamed_avx2(const float *x, long ldx, int m, const void *w, int weight_type, long row_bytes, int n, int k, float *y,
                          long ldy) {
    (void)x; (void)ldx; (void)m; (void)w; (void)weight_type; (void)row_bytes; (void)n; (void)k; (void)y; (void)ldy;
    return 0;
}

#endif
