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
#include "block_simd.h"

/* One weight row against 4 activation rows: the weight block is decoded once and its absolute
   value reused; each row costs sign, maddubs (|w| times x with w's sign), madd, convert and FMA. */
__attribute__((target("avx2,fma,f16c")))
static void row_x4(const uint8_t *w, int weight_type, int block_bytes, const int8_t *x0, const int8_t *x1,
                   const int8_t *x2, const int8_t *x3, int k, float out[4]) {
    const int nb = k / 32;
    const float *d0 = (const float *)(x0 + k), *d1 = (const float *)(x1 + k), *d2 = (const float *)(x2 + k),
                *d3 = (const float *)(x3 + k);
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    const __m256i ones = _mm256_set1_epi16(1);
    for (int b = 0; b < nb; b++, w += block_bytes) {
        const __m256i wv = eg_block_values(w, weight_type);
        const __m256i aw = _mm256_sign_epi8(wv, wv);
        const float dw = eg_block_scale(w);
#define EG_ROW(acc, xr, dr)                                                                               \
        {                                                                                                 \
            const __m256i xv = _mm256_sign_epi8(_mm256_load_si256((const __m256i *)(xr + b * 32)), wv);  \
            const __m256i sum = _mm256_madd_epi16(_mm256_maddubs_epi16(aw, xv), ones);                   \
            acc = _mm256_fmadd_ps(_mm256_set1_ps(dw * dr[b]), _mm256_cvtepi32_ps(sum), acc);             \
        }
        EG_ROW(a0, x0, d0)
        EG_ROW(a1, x1, d1)
        EG_ROW(a2, x2, d2)
        EG_ROW(a3, x3, d3)
#undef EG_ROW
    }
    out[0] = eg_hsum(a0);
    out[1] = eg_hsum(a1);
    out[2] = eg_hsum(a2);
    out[3] = eg_hsum(a3);
}

__attribute__((target("avx2,fma,f16c")))
void eg_quantized_gemm_avx2(const void *xq, int m, const void *w, int weight_type, int n, int k, float *y, int ldy) {
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

#else

void eg_quantized_gemm_avx2(const void *xq, int m, const void *w, int weight_type, int n, int k, float *y, int ldy) {
    (void)xq; (void)m; (void)w; (void)weight_type; (void)n; (void)k; (void)y; (void)ldy;
}

#endif
