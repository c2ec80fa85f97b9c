#include "CEmbeddingGemmaKernels.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#include "block_simd.h"
#include "cpu_state.h"
#include "gemm_driver.h"
#include "avx512_blocks.h"

int eg_avx2_fma_available(void) {
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, f16c = (c >> 29) & 1;
    if (!fma || !osxsave || !avx || !f16c) return 0;
    if ((eg_xcr0() & 0x6) != 0x6) return 0; /* XMM and YMM state enabled by the OS */
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return (b >> 5) & 1; /* AVX2 */
}

/* 4 input rows x 3 weight rows: 12 accumulators + 3 weight vectors + 1 input vector = 16 YMM
   registers, so nothing spills; 7 loads per 12 FMAs. The next 3 weight rows (the driver's next
   block, consecutive in memory) are prefetched a cache line at a time as these are read, so that
   a query's product, bound by reading the weights, keeps the memory busy (as block4x6 of avx512.c;
   W2 15-18 instead of 26-28 ms on a Zen 5 with AVX-512 disabled). */
__attribute__((target("avx2,fma")))
static void block4x3(const float *x, long ldx, const float *w, long ldw, int k, float *y, long ldy) {
    __m256 acc[4][3];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 3; j++) acc[i][j] = _mm256_setzero_ps();
    for (int p = 0; p < k; p += 8) {
        const __m256 w0 = _mm256_loadu_ps(w + p), w1 = _mm256_loadu_ps(w + ldw + p), w2 = _mm256_loadu_ps(w + 2 * ldw + p);
        if ((p & 15) == 0)
            for (int j = 3; j < 6; j++) _mm_prefetch((const char *)(w + j * ldw + p), _MM_HINT_T0);
        for (int i = 0; i < 4; i++) {
            const __m256 xi = _mm256_loadu_ps(x + i * ldx + p);
            acc[i][0] = _mm256_fmadd_ps(xi, w0, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(xi, w1, acc[i][1]);
            acc[i][2] = _mm256_fmadd_ps(xi, w2, acc[i][2]);
        }
    }
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 3; j++) y[i * ldy + j] = eg_hsum(acc[i][j]);
}

/* 1 input row x 3 weight rows. */
__attribute__((target("avx2,fma")))
static void block1x3(const float *x, const float *w, long ldw, int k, float *y) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps();
    for (int p = 0; p < k; p += 8) {
        const __m256 xi = _mm256_loadu_ps(x + p);
        a0 = _mm256_fmadd_ps(xi, _mm256_loadu_ps(w + p), a0);
        a1 = _mm256_fmadd_ps(xi, _mm256_loadu_ps(w + ldw + p), a1);
        a2 = _mm256_fmadd_ps(xi, _mm256_loadu_ps(w + 2 * ldw + p), a2);
    }
    y[0] = eg_hsum(a0);
    y[1] = eg_hsum(a1);
    y[2] = eg_hsum(a2);
}

/* 4 input rows x 1 weight row. */
__attribute__((target("avx2,fma")))
static void block4x1(const float *x, long ldx, const float *w, int k, float *y, long ldy) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    for (int p = 0; p < k; p += 8) {
        const __m256 wp = _mm256_loadu_ps(w + p);
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + p), wp, a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + ldx + p), wp, a1);
        a2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + 2 * ldx + p), wp, a2);
        a3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + 3 * ldx + p), wp, a3);
    }
    y[0] = eg_hsum(a0);
    y[ldy] = eg_hsum(a1);
    y[2 * ldy] = eg_hsum(a2);
    y[3 * ldy] = eg_hsum(a3);
}

/* 1 input row x 1 weight row. */
__attribute__((target("avx2,fma")))
static float dot1(const float *x, const float *w, int k) {
    __m256 a = _mm256_setzero_ps();
    for (int p = 0; p < k; p += 8) a = _mm256_fmadd_ps(_mm256_loadu_ps(x + p), _mm256_loadu_ps(w + p), a);
    return eg_hsum(a);
}

/* The AVX2 register blocks (4 x 3, k a multiple of 8). */
static const eg_block_set avx2_blocks = {3, 8, block4x3, block1x3, block4x1, dot1};

__attribute__((target("avx2,fma")))
void eg_gemm_nt_avx2(const float *x, long ldx, int m, const float *w, long ldw, int n, int k, float *y, long ldy) {
    eg_gemm_nt_blocks(&avx2_blocks, x, ldx, m, w, ldw, n, k, y, ldy);
}

void eg_gemm_nt_avx512(const float *x, long ldx, int m, const float *w, long ldw, int n, int k, float *y, long ldy) {
    eg_gemm_nt_blocks(&eg_avx512_blocks, x, ldx, m, w, ldw, n, k, y, ldy);
}

/* One row of Q8_0 (type 8) or Q4_0 (type 2) blocks decoded to k floats. */
__attribute__((target("avx2,fma,f16c")))
static void decode_row(const unsigned char *w, int type, int k, float *out) {
    const int nb = k / 32;
    for (int b = 0; b < nb; b++, w += eg_block_bytes(type)) {
        const __m256 d = _mm256_set1_ps(eg_block_scale(w));
        const __m256i values = eg_block_values(w, type);
        const __m128i lo = _mm256_castsi256_si128(values), hi = _mm256_extracti128_si256(values, 1);
        float *o = out + b * 32;
        _mm256_storeu_ps(o, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo))));
        _mm256_storeu_ps(o + 8, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8)))));
        _mm256_storeu_ps(o + 16, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi))));
        _mm256_storeu_ps(o + 24, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8)))));
    }
}

__attribute__((target("avx2,fma,f16c")))
void eg_decode_rows_avx2(const void *w, int weight_type, int rows, int k, float *out) {
    const long row_bytes = (long)(k / 32) * eg_block_bytes(weight_type);
    for (int r = 0; r < rows; r++) decode_row((const unsigned char *)w + r * row_bytes, weight_type, k, out + (long)r * k);
}

/* Q8_0/Q4_0 weights decoded panel by panel into a stack buffer, multiplied by `blocks`. */
__attribute__((target("avx2,fma,f16c")))
static void gemm_quantized(const eg_block_set *blocks, const float *x, int m, const void *w, int weight_type, int n, int k, float *y,
                           long ldy) {
    float rows[EG_PANEL_FLOATS];
    const long row_bytes = (long)(k / 32) * eg_block_bytes(weight_type);
    const unsigned char *wb = (const unsigned char *)w;
    const int panel = eg_panel_rows(k, blocks->width);
    for (int j = 0; j < n; j += panel) {
        const int count = n - j < panel ? n - j : panel;
        for (int t = 0; t < count; t++) decode_row(wb + (j + t) * row_bytes, weight_type, k, rows + (long)t * k);
        eg_multiply_panel(blocks, x, k, m, rows, k, count, k, y + j, ldy);
    }
}

void eg_gemm_quantized_avx2(const float *x, int m, const void *w, int weight_type, int n, int k, float *y, long ldy) {
    gemm_quantized(&avx2_blocks, x, m, w, weight_type, n, k, y, ldy);
}

/* Weights of the other block types (eg_decode_kquant_rows), decoded panel by panel likewise. */
static int gemm_decoded(const eg_block_set *blocks, const float *x, int m, const void *w, int weight_type, long row_bytes, int n, int k,
                        float *y, long ldy) {
    float rows[EG_PANEL_FLOATS];
    const unsigned char *wb = (const unsigned char *)w;
    const int panel = eg_panel_rows(k, blocks->width);
    for (int j = 0; j < n; j += panel) {
        const int count = n - j < panel ? n - j : panel;
        if (!eg_decode_kquant_rows(wb + (long)j * row_bytes, weight_type, count, k, rows)) return 0;
        eg_multiply_panel(blocks, x, k, m, rows, k, count, k, y + j, ldy);
    }
    return 1;
}

int eg_gemm_decoded_avx2(const float *x, int m, const void *w, int weight_type, long row_bytes, int n, int k, float *y, long ldy) {
    return gemm_decoded(&avx2_blocks, x, m, w, weight_type, row_bytes, n, k, y, ldy);
}

int eg_gemm_decoded_avx512(const float *x, int m, const void *w, int weight_type, long row_bytes, int n, int k, float *y, long ldy) {
    return gemm_decoded(&eg_avx512_blocks, x, m, w, weight_type, row_bytes, n, k, y, ldy);
}

void eg_gemm_quantized_avx512(const float *x, int m, const void *w, int weight_type, int n, int k, float *y, long ldy) {
    gemm_quantized(&eg_avx512_blocks, x, m, w, weight_type, n, k, y, ldy);
}

#else

int eg_avx2_fma_available(void) { return 0; }

void eg_gemm_nt_avx2(const float *x, long ldx, int m, const float *w, long ldw, int n, int k, float *y, long ldy) {
    (void)x; (void)ldx; (void)m; (void)w; (void)ldw; (void)n; (void)k; (void)y; (void)ldy;
}

void eg_decode_rows_avx2(const void *w, int weight_type, int rows, int k, float *out) {
    (void)w; (void)weight_type; (void)rows; (void)k; (void)out;
}

void eg_gemm_quantized_avx2(const float *x, int m, const void *w, int weight_type, int n, int k, float *y, long ldy) {
    (void)x; (void)m; (void)w; (void)weight_type; (void)n; (void)k; (void)y; (void)ldy;
}

void eg_gemm_nt_avx512(const float *x, long ldx, int m, const float *w, long ldw, int n, int k, float *y, long ldy) {
    (void)x; (void)ldx; (void)m; (void)w; (void)ldw; (void)n; (void)k; (void)y; (void)ldy;
}

void eg_gemm_quantized_avx512(const float *x, int m, const void *w, int weight_type, int n, int k, float *y, long ldy) {
    (void)x; (void)m; (void)w; (void)weight_type; (void)n; (void)k; (void)y; (void)ldy;
}

int eg_gemm_decoded_avx2(const float *x, int m, const void *w, int weight_type, long row_bytes, int n, int k, float *y, long ldy) {
    (void)x; (void)m; (void)w; (void)weight_type; (void)row_bytes; (void)n; (void)k; (void)y; (void)ldy;
    return 0;
}

int eg_gemm_decoded_avx512(const float *x, int m, const void *w, int weight_type, long row_bytes, int n, int k, float *y, long ldy) {
    (void)x; (void)m; (void)w; (void)weight_type; (void)row_bytes; (void)n; (void)k; (void)y; (void)ldy;
    return 0;
}

#endif
