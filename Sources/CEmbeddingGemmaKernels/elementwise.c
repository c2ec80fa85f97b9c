#include "CEmbeddingGemmaKernels.h"

/* The element-wise and row-wise steps of a Gemma layer with AVX2+FMA and AVX-512F vectors: the
   loops of Swift's Kernels (compiled there for the SSE2 baseline, 4 lanes, no FMA), 8 or 16 lanes
   at a time with the same formulas. elementwise_body.h holds the loops; this file defines the
   vector operations for each instruction set and the scalar helpers for the last lanes. */

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "block_simd.h"

/* e^x = 2^n · e^r with n = round(x·log2 e), r = x − n·ln 2 (ln 2 split in two for exactness), e^r
   from a degree-7 polynomial; x clamped to [−87, 88] so 2^n stays a normal float. */
#define EG_LOG2E 1.44269504f
#define EG_ROUNDING_SHIFT 12582912.0f /* 1.5 · 2^23: adding it rounds to an integer */
#define EG_LN2_HIGH 0.693359375f
#define EG_LN2_LOW 2.12194440e-4f
#define EG_EXP_P0 1.98756915e-4f
#define EG_EXP_P1 1.39819995e-3f
#define EG_EXP_P2 8.33345190e-3f
#define EG_EXP_P3 4.16657960e-2f
#define EG_EXP_P4 1.66666655e-1f
#define EG_EXP_P5 5.00000010e-1f
/* gelu_tanh(x) = 0.5·x·(1 + tanh(u)) = x / (1 + e^(−2u)), u = √(2/π)·(x + 0.044715·x³). */
#define EG_GELU_K0 0.7978845608f
#define EG_GELU_K1 0.044715f

static inline float eg_exp_scalar(float x) {
    x = fminf(fmaxf(x, -87.0f), 88.0f);
    const float shifted = fmaf(x, EG_LOG2E, EG_ROUNDING_SHIFT);
    const float n = shifted - EG_ROUNDING_SHIFT;
    float r = fmaf(-n, EG_LN2_HIGH, x);
    r = fmaf(n, EG_LN2_LOW, r);
    float p = EG_EXP_P0;
    p = fmaf(p, r, EG_EXP_P1);
    p = fmaf(p, r, EG_EXP_P2);
    p = fmaf(p, r, EG_EXP_P3);
    p = fmaf(p, r, EG_EXP_P4);
    p = fmaf(p, r, EG_EXP_P5);
    p = fmaf(p, r * r, r) + 1.0f;
    int32_t bits;
    memcpy(&bits, &shifted, 4);
    bits = (bits - 0x4B400000 + 127) << 23;
    float scale;
    memcpy(&scale, &bits, 4);
    return p * scale;
}

static inline float eg_gelu_scalar(float x) {
    const float inner = EG_GELU_K0 * fmaf(EG_GELU_K1, x * x * x, x);
    return x / (1.0f + eg_exp_scalar(-2.0f * inner));
}

/* AVX2 + FMA: 8 lanes. */
#define EG_EW(name) name##_avx2
#define EG_EW_TARGET __attribute__((target("avx2,fma")))
#define VF __m256
#define W 8
#define V_LOAD _mm256_loadu_ps
#define V_STORE _mm256_storeu_ps
#define V_SET1 _mm256_set1_ps
#define V_ADD _mm256_add_ps
#define V_SUB _mm256_sub_ps
#define V_MUL _mm256_mul_ps
#define V_DIV _mm256_div_ps
#define V_FMADD _mm256_fmadd_ps
#define V_FNMADD _mm256_fnmadd_ps
#define V_MIN _mm256_min_ps
#define V_MAX _mm256_max_ps
#define V_HSUM eg_hsum /* block_simd.h */
#define V_HMAX eg_hmax_avx2
#define V_POW2 eg_pow2_avx2

EG_EW_TARGET static inline float eg_hmax_avx2(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_max_ss(s, _mm_shuffle_ps(s, s, 0x55)));
}

EG_EW_TARGET static inline __m256 eg_pow2_avx2(__m256 shifted) {
    const __m256i bits = _mm256_sub_epi32(_mm256_castps_si256(shifted), _mm256_set1_epi32(0x4B400000 - 127));
    return _mm256_castsi256_ps(_mm256_slli_epi32(bits, 23));
}

#include "elementwise_body.h"

#undef EG_EW
#undef EG_EW_TARGET
#undef VF
#undef W
#undef V_LOAD
#undef V_STORE
#undef V_SET1
#undef V_ADD
#undef V_SUB
#undef V_MUL
#undef V_DIV
#undef V_FMADD
#undef V_FNMADD
#undef V_MIN
#undef V_MAX
#undef V_HSUM
#undef V_HMAX
#undef V_POW2

/* AVX-512F: 16 lanes. */
#define EG_EW(name) name##_avx512
#define EG_EW_TARGET __attribute__((target("avx512f")))
#define VF __m512
#define W 16
#define V_LOAD _mm512_loadu_ps
#define V_STORE _mm512_storeu_ps
#define V_SET1 _mm512_set1_ps
#define V_ADD _mm512_add_ps
#define V_SUB _mm512_sub_ps
#define V_MUL _mm512_mul_ps
#define V_DIV _mm512_div_ps
#define V_FMADD _mm512_fmadd_ps
#define V_FNMADD _mm512_fnmadd_ps
#define V_MIN _mm512_min_ps
#define V_MAX _mm512_max_ps
#define V_HSUM _mm512_reduce_add_ps
#define V_HMAX _mm512_reduce_max_ps
#define V_POW2 eg_pow2_avx512

EG_EW_TARGET static inline __m512 eg_pow2_avx512(__m512 shifted) {
    const __m512i bits = _mm512_sub_epi32(_mm512_castps_si512(shifted), _mm512_set1_epi32(0x4B400000 - 127));
    return _mm512_castsi512_ps(_mm512_slli_epi32(bits, 23));
}

#include "elementwise_body.h"

#endif
