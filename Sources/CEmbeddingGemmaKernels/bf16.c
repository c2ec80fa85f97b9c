/* Products in bfloat16 with float32 accumulation (AVX512-BF16's vdpbf16ps: 32 multiply-adds of
   bf16 pairs per instruction, twice the float32 FMA's 16), for models whose weights are stored as
   bf16: the input rows are rounded to bf16 (nearest even) once per call, the weights are used as
   stored. Register blocks of 4 input rows x 6 weight rows as the float32 AVX-512 kernel; weight
   rows in panels of about 48 KB, input rows in chunks of about 128 KB. The rounding instruction
   (vcvtne2ps2bf16) reads subnormal inputs as zero, so an input below 1.2e-38 becomes 0 where the
   engine's bf16 encoder would keep a subnormal: a difference below 1e-38 per term. */
#include "CEmbeddingGemmaKernels.h"

#include <stdint.h>
#include <stdlib.h>

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#include <immintrin.h>

#define EG_BF16_TARGET "avx512f,avx512bw,avx512vl,avx512bf16"

int eg_avx512bf16_available(void) {
    if (!eg_avx512_available()) return 0;
    unsigned int a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    if (!((b >> 30) & 1) || !((b >> 31) & 1)) return 0; /* AVX512BW, AVX512VL */
    if (!__get_cpuid_count(7, 1, &a, &b, &c, &d)) return 0;
    return (a >> 5) & 1; /* AVX512_BF16 */
}

/* y[i][j] = x[i] . w[j] for i < MR, j < NR (constants after inlining), k a multiple of 32. */
__attribute__((target(EG_BF16_TARGET), always_inline)) static inline void
eg_bf16_block(const uint16_t *x, long ldx, const uint16_t *w, long ldw, int k, float *y, long ldy, const int mr, const int nr) {
    __m512 acc[4][6];
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < nr; j++) acc[i][j] = _mm512_setzero_ps();
    for (int p = 0; p < k; p += 32) {
        __m512i wv[6];
        for (int j = 0; j < nr; j++) wv[j] = _mm512_loadu_si512((const void *)(w + j * ldw + p));
        for (int i = 0; i < mr; i++) {
            const __m512bh xi = (__m512bh)_mm512_loadu_si512((const void *)(x + i * ldx + p));
            for (int j = 0; j < nr; j++) acc[i][j] = _mm512_dpbf16_ps(acc[i][j], xi, (__m512bh)wv[j]);
        }
    }
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < nr; j++) y[i * ldy + j] = _mm512_reduce_add_ps(acc[i][j]);
}

/* One copy per block shape, so the loops over the block unroll. */
#define EG_BF16_SHAPE(MR, NR)                                                                                    \
__attribute__((target(EG_BF16_TARGET))) static void eg_bf16_##MR##x##NR(const uint16_t *x, long ldx, const uint16_t *w, \
                                                                       long ldw, int k, float *y, long ldy) { \
    eg_bf16_block(x, ldx, w, ldw, k, y, ldy, MR, NR);                                                            \
}
EG_BF16_SHAPE(4, 6)
EG_BF16_SHAPE(1, 6)
EG_BF16_SHAPE(4, 1)
EG_BF16_SHAPE(1, 1)

/* Rounds m rows of k floats (k % 32 == 0) to bf16, nearest even. */
__attribute__((target(EG_BF16_TARGET))) static void
eg_round_rows_bf16(const float *x, long ldx, int m, int k, uint16_t *out) {
    for (int i = 0; i < m; i++)
        for (int p = 0; p < k; p += 32) {
            const __m512 lo = _mm512_loadu_ps(x + i * ldx + p), hi = _mm512_loadu_ps(x + i * ldx + p + 16);
            _mm512_storeu_si512((void *)(out + (long)i * k + p), (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
        }
}

void eg_round_to_bf16(const float *x, long ldx, int m, int k, unsigned short *out) { eg_round_rows_bf16(x, ldx, m, k, out); }

int eg_gemm_bf16(const float *x, long ldx, int m, const unsigned short *w, long ldw, int n, int k, float *y, long ldy) {
    if (m <= 0 || n <= 0) return 1;
    uint16_t *xb = (uint16_t *)malloc((size_t)m * (size_t)k * sizeof(uint16_t));
    if (xb == NULL) return 0;
    eg_round_rows_bf16(x, ldx, m, k, xb);
    /* about 48 KB of weight rows per panel (a multiple of 6), about 128 KB of input rows per chunk */
    int panel = 6 * ((24576 / k) / 6);
    if (panel < 6) panel = 6;
    int chunk = (65536 / k) & ~3;
    if (chunk < 4) chunk = 4;
    for (int j0 = 0; j0 < n; j0 += panel) {
        const int j1 = j0 + panel < n ? j0 + panel : n;
        for (int i0 = 0; i0 < m; i0 += chunk) {
            const int i1 = i0 + chunk < m ? i0 + chunk : m;
            int j = j0;
            for (; j + 6 <= j1; j += 6) {
                int i = i0;
                for (; i + 4 <= i1; i += 4) eg_bf16_4x6(xb + (long)i * k, k, w + j * ldw, ldw, k, y + i * ldy + j, ldy);
                for (; i < i1; i++) eg_bf16_1x6(xb + (long)i * k, k, w + j * ldw, ldw, k, y + i * ldy + j, ldy);
            }
            for (; j < j1; j++) {
                int i = i0;
                for (; i + 4 <= i1; i += 4) eg_bf16_4x1(xb + (long)i * k, k, w + j * ldw, ldw, k, y + i * ldy + j, ldy);
                for (; i < i1; i++) eg_bf16_1x1(xb + (long)i * k, k, w + j * ldw, ldw, k, y + i * ldy + j, ldy);
            }
        }
    }
    free(xb);
    return 1;
}

#else

int eg_avx512bf16_available(void) { return 0; }

void eg_round_to_bf16(const float *x, long ldx, int m, int k, unsigned short *out) {
    (void)x; (void)ldx; (void)m; (void)k; (void)out;
}

int eg_gemm_bf16(const float *x, long ldx, int m, const unsigned short *w, long ldw, int n, int k, float *y, long ldy) {
    (void)x; (void)ldx; (void)m; (void)w; (void)ldw; (void)n; (void)k; (void)y; (void)ldy;
    return 0;
}

#endif
