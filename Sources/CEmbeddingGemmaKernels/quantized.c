#include "CEmbeddingGemmaKernels.h"

#include <math.h>
#include <stdint.h>

/* A quantized activation row: k int8 values (32-byte aligned blocks, so loads never split a
   cache line), then k / 32 float scales; rows are padded to 32 bytes. */
int eg_q8_activation_row_bytes(int k) { return (k + (k / 32) * 4 + 31) / 32 * 32; }

void eg_quantize_activations_q8(const float *x, int m, int k, void *out) {
    const int nb = k / 32;
    const long row_bytes = eg_q8_activation_row_bytes(k);
    for (int i = 0; i < m; i++) {
        int8_t *q = (int8_t *)out + i * row_bytes;
        float *scales = (float *)(q + k);
        for (int b = 0; b < nb; b++) {
            const float *v = x + (long)i * k + b * 32;
            float amax = 0;
            for (int t = 0; t < 32; t++) amax = fmaxf(amax, fabsf(v[t]));
            const float d = amax / 127.0f;
            const float inverse = d != 0 ? 1.0f / d : 0.0f;
            scales[b] = d;
            /* round half away from zero, like llama.cpp's roundf, without a libm call per value */
            for (int t = 0; t < 32; t++) {
                const float y = v[t] * inverse;
                q[b * 32 + t] = (int8_t)(int)(y + (y >= 0 ? 0.5f : -0.5f));
            }
        }
    }
}

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#include "block_simd.h"

/* One weight row against 4 activation rows: the weight block is decoded once and its absolute
   value reused; each row costs sign, an unsigned x signed byte dot product summed per 4 bytes
   (`DOT`: maddubs + madd on AVX2, one vpdpbusd with VNNI), convert and FMA. The integer sums are
   exact either way (|w| <= 127 and |x| <= 127 keep maddubs' 16-bit pairs below saturation), so
   every variant returns the same floats. */
#define EG_ROW_X4(NAME, TARGET, DOT)                                                                          \
__attribute__((target(TARGET)))                                                                              \
static void NAME(const uint8_t *w, int weight_type, int block_bytes, const int8_t *x0, const int8_t *x1,     \
                 const int8_t *x2, const int8_t *x3, int k, float out[4]) {                                  \
    const int nb = k / 32;                                                                                   \
    const float *d0 = (const float *)(x0 + k), *d1 = (const float *)(x1 + k), *d2 = (const float *)(x2 + k), \
                *d3 = (const float *)(x3 + k);                                                               \
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps(); \
    for (int b = 0; b < nb; b++, w += block_bytes) {                                                         \
        const __m256i wv = eg_block_values(w, weight_type);                                                  \
        const __m256i aw = _mm256_sign_epi8(wv, wv);                                                         \
        const float dw = eg_block_scale(w);                                                                  \
        a0 = _mm256_fmadd_ps(_mm256_set1_ps(dw * d0[b]), _mm256_cvtepi32_ps(DOT(aw, _mm256_sign_epi8(_mm256_load_si256((const __m256i *)(x0 + b * 32)), wv))), a0); \
        a1 = _mm256_fmadd_ps(_mm256_set1_ps(dw * d1[b]), _mm256_cvtepi32_ps(DOT(aw, _mm256_sign_epi8(_mm256_load_si256((const __m256i *)(x1 + b * 32)), wv))), a1); \
        a2 = _mm256_fmadd_ps(_mm256_set1_ps(dw * d2[b]), _mm256_cvtepi32_ps(DOT(aw, _mm256_sign_epi8(_mm256_load_si256((const __m256i *)(x2 + b * 32)), wv))), a2); \
        a3 = _mm256_fmadd_ps(_mm256_set1_ps(dw * d3[b]), _mm256_cvtepi32_ps(DOT(aw, _mm256_sign_epi8(_mm256_load_si256((const __m256i *)(x3 + b * 32)), wv))), a3); \
    }                                                                                                        \
    out[0] = eg_hsum(a0);                                                                                    \
    out[1] = eg_hsum(a1);                                                                                    \
    out[2] = eg_hsum(a2);                                                                                    \
    out[3] = eg_hsum(a3);                                                                                    \
}

#define EG_DOT_AVX2(u, s) _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1))
#define EG_DOT_AVX512VNNI(u, s) _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s)
#define EG_DOT_AVXVNNI(u, s) _mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), u, s)

EG_ROW_X4(row_x4_avx2, "avx2,fma,f16c", EG_DOT_AVX2)
EG_ROW_X4(row_x4_avx512vnni, "avx2,fma,f16c,avx512f,avx512vl,avx512vnni", EG_DOT_AVX512VNNI)
EG_ROW_X4(row_x4_avxvnni, "avx2,fma,f16c,avxvnni", EG_DOT_AVXVNNI)

typedef void (*eg_row_x4)(const uint8_t *, int, int, const int8_t *, const int8_t *, const int8_t *, const int8_t *, int, float[4]);

/* Every weight row against the activation rows, 4 at a time. */
static void quantized_gemm(eg_row_x4 row_x4, const void *xq, int m, const void *w, int weight_type, int n, int k, float *y, int ldy) {
    const int nb = k / 32;
    const int8_t *x = (const int8_t *)xq;
    const long x_bytes = eg_q8_activation_row_bytes(k);
    const int block_bytes = eg_block_bytes(weight_type);
    const long row_bytes = (long)nb * block_bytes;
    for (int j = 0; j < n; j++) {
        const uint8_t *wj = (const uint8_t *)w + (long)j * row_bytes;
        for (int i = 0; i < m; i += 4) {
            /* rows past m repeat row i; their results are dropped */
            const int8_t *r0 = x + i * x_bytes;
            const int8_t *r1 = i + 1 < m ? r0 + x_bytes : r0;
            const int8_t *r2 = i + 2 < m ? r0 + 2 * x_bytes : r0;
            const int8_t *r3 = i + 3 < m ? r0 + 3 * x_bytes : r0;
            float out[4];
            row_x4(wj, weight_type, block_bytes, r0, r1, r2, r3, k, out);
            for (int t = 0; t < 4 && i + t < m; t++) y[(long)(i + t) * ldy + j] = out[t];
        }
    }
}

void eg_quantized_gemm_avx2(const void *xq, int m, const void *w, int weight_type, int n, int k, float *y, int ldy) {
    quantized_gemm(row_x4_avx2, xq, m, w, weight_type, n, k, y, ldy);
}

int eg_vnni_available(void) {
    if (!eg_avx2_fma_available()) return 0;
    unsigned int a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    const int avx512_vnni = eg_avx512_available() && ((c >> 11) & 1) && ((b >> 31) & 1); /* VNNI, VL */
    if (avx512_vnni) return 2;
    if (!__get_cpuid_count(7, 1, &a, &b, &c, &d)) return 0;
    return ((a >> 4) & 1) ? 1 : 0; /* AVX-VNNI */
}

void eg_quantized_gemm_vnni(const void *xq, int m, const void *w, int weight_type, int n, int k, float *y, int ldy) {
    const int vnni = eg_vnni_available();
    quantized_gemm(vnni == 2 ? row_x4_avx512vnni : row_x4_avxvnni, xq, m, w, weight_type, n, k, y, ldy);
}

#else

void eg_quantized_gemm_avx2(const void *xq, int m, const void *w, int weight_type, int n, int k, float *y, int ldy) {
    (void)xq; (void)m; (void)w; (void)weight_type; (void)n; (void)k; (void)y; (void)ldy;
}

int eg_vnni_available(void) { return 0; }

void eg_quantized_gemm_vnni(const void *xq, int m, const void *w, int weight_type, int n, int k, float *y, int ldy) {
    (void)xq; (void)m; (void)w; (void)weight_type; (void)n; (void)k; (void)y; (void)ldy;
}

#endif
