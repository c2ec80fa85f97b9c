#include "CEmbeddingGemmaKernels.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* One block of 32 quantized activations. */
typedef struct {
    float d;
    int8_t q[32];
} eg_block_q8_act;

int eg_q8_activation_row_bytes(int k) { return (k / 32) * (int)sizeof(eg_block_q8_act); }

void eg_quantize_activations_q8(const float *x, int m, int k, void *out) {
    eg_block_q8_act *blocks = (eg_block_q8_act *)out;
    const int nb = k / 32;
    for (int i = 0; i < m; i++) {
        for (int b = 0; b < nb; b++) {
            const float *v = x + (long)i * k + b * 32;
            float amax = 0;
            for (int t = 0; t < 32; t++) amax = fmaxf(amax, fabsf(v[t]));
            const float d = amax / 127.0f;
            const float inverse = d != 0 ? 1.0f / d : 0.0f;
            eg_block_q8_act *block = blocks + (long)i * nb + b;
            block->d = d;
            for (int t = 0; t < 32; t++) block->q[t] = (int8_t)roundf(v[t] * inverse);
        }
    }
}

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

/* IEEE half to float with F16C, which every AVX2 CPU has. */
__attribute__((target("avx2,fma,f16c")))
static inline float half_to_float(const uint8_t *p) {
    uint16_t bits;
    memcpy(&bits, p, 2);
    return _cvtsh_ss(bits);
}

__attribute__((target("avx2,fma,f16c")))
static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 0x55));
    return _mm_cvtss_f32(s);
}

/* Sum of the 32 products of signed bytes a and b, as 8 int32 lanes converted to float.
   maddubs needs one unsigned operand: |a| times b with a's sign moved onto b. */
__attribute__((target("avx2,fma,f16c")))
static inline __m256 dot32(__m256i a, __m256i b) {
    const __m256i pairs = _mm256_maddubs_epi16(_mm256_sign_epi8(a, a), _mm256_sign_epi8(b, a));
    return _mm256_cvtepi32_ps(_mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
}

__attribute__((target("avx2,fma,f16c")))
static float row_dot_q8_0(const uint8_t *w, const eg_block_q8_act *x, int nb) {
    __m256 acc = _mm256_setzero_ps();
    for (int b = 0; b < nb; b++, w += 34) {
        const __m256i wv = _mm256_loadu_si256((const __m256i *)(w + 2));
        const __m256i xv = _mm256_loadu_si256((const __m256i *)x[b].q);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(half_to_float(w) * x[b].d), dot32(wv, xv), acc);
    }
    return hsum8(acc);
}

__attribute__((target("avx2,fma,f16c")))
static float row_dot_q4_0(const uint8_t *w, const eg_block_q8_act *x, int nb) {
    __m256 acc = _mm256_setzero_ps();
    const __m256i low = _mm256_set1_epi8(0x0F), eight = _mm256_set1_epi8(8);
    for (int b = 0; b < nb; b++, w += 18) {
        const __m128i packed = _mm_loadu_si128((const __m128i *)(w + 2));
        /* values 0..15 in the low nibbles, 16..31 in the high nibbles */
        __m256i wv = _mm256_set_m128i(_mm_srli_epi16(packed, 4), packed);
        wv = _mm256_sub_epi8(_mm256_and_si256(wv, low), eight);
        const __m256i xv = _mm256_loadu_si256((const __m256i *)x[b].q);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(half_to_float(w) * x[b].d), dot32(wv, xv), acc);
    }
    return hsum8(acc);
}

__attribute__((target("avx2,fma,f16c")))
void eg_quantized_gemm_avx2(const void *xq, int m, const void *w, int weight_type, int n, int k, float *y, int ldy) {
    const int nb = k / 32;
    const eg_block_q8_act *x = (const eg_block_q8_act *)xq;
    const int block_bytes = weight_type == 8 ? 34 : 18;
    const long row_bytes = (long)nb * block_bytes;
    for (int j = 0; j < n; j++) {
        const uint8_t *wj = (const uint8_t *)w + (long)j * row_bytes;
        for (int i = 0; i < m; i++) {
            const eg_block_q8_act *xi = x + (long)i * nb;
            y[(long)i * ldy + j] = weight_type == 8 ? row_dot_q8_0(wj, xi, nb) : row_dot_q4_0(wj, xi, nb);
        }
    }
}

#else

void eg_quantized_gemm_avx2(const void *xq, int m, const void *w, int weight_type, int n, int k, float *y, int ldy) {
    (void)xq; (void)m; (void)w; (void)weight_type; (void)n; (void)k; (void)y; (void)ldy;
}

#endif
