#include "CEmbeddingGemmaKernels.h"

/* Float32 products for many input rows with AVX-512F, as optimised BLAS libraries compute them:
   the weight rows are packed 64 at a time into a k-major panel (for each depth p, the 64 rows'
   values side by side, 64-byte aligned), and a register tile of up to 6 input rows x 64 weight
   rows adds one outer product per depth: four aligned panel loads, one broadcast input value per
   row, four FMAs per row. No horizontal sums, and no load straddles a cache line, whatever the
   alignment of the weights (the float32 tensors of the published safetensors file sit 56 bytes
   past a 64-byte boundary). Packing costs one transpose of the panel, shared by every input row.
   The depth is taken in chunks of 128, so a packed chunk (32 KB) stays in L1. */

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#define EG_PACKED512 __attribute__((target("avx512f")))
/* A panel: 64 weight rows (4 vectors of 16) x 128 of depth = 32 KB, on the stack and in L1 while every
   tile of input rows passes over it; outputs are summed chunk after chunk of depth. */
#define VECTORS 4
/* Floats ahead of the packing loads that are prefetched: the 16 rows read side by side are 16 streams,
   more than the hardware prefetcher follows. */
#define PREFETCH 64
#define PANEL (16 * VECTORS)
#define CHUNK 128
/* Every loop over a tile's rows is unrolled, so its accumulators live in registers. */
#define UNROLL _Pragma("clang loop unroll(full)")

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

/* panel[p * PANEL + c] = w[c * ldw + p] for c < columns (0 for the rest), p < depth (a multiple of 16). */
EG_PACKED512 static void pack_panel(const float *w, long ldw, int columns, int depth, float *panel) {
    for (int group = 0; group < VECTORS; group++) {
        for (int p = 0; p < depth; p += 16) {
            __m512 v[16];
            for (int t = 0; t < 16; t++) {
                const int c = group * 16 + t;
                if (c < columns) _mm_prefetch((const char *)(w + c * ldw + p + PREFETCH), _MM_HINT_T0);
                v[t] = c < columns ? _mm512_loadu_ps(w + c * ldw + p) : _mm512_setzero_ps();
            }
            transpose_16x16(v);
            for (int q = 0; q < 16; q++) _mm512_store_ps(panel + (long)(p + q) * PANEL + group * 16, v[q]);
        }
    }
}

/* ROWS input rows x PANEL packed weight rows over `depth`; mask[v] says which of vector v's 16 output
   columns exist. Later depth chunks add to the outputs (`accumulate`). */
#define TILE(ROWS)                                                                                             \
EG_PACKED512 static void tile##ROWS(const float *panel, int depth, const float *x, long ldx, float *y, long ldy, \
                                    const __mmask16 mask[VECTORS], int accumulate) {                           \
    __m512 acc[ROWS][VECTORS];                                                                                 \
    UNROLL for (int r = 0; r < ROWS; r++)                                                                      \
        UNROLL for (int v = 0; v < VECTORS; v++)                                                               \
            acc[r][v] = accumulate ? _mm512_maskz_loadu_ps(mask[v], y + r * ldy + 16 * v) : _mm512_setzero_ps(); \
    for (int p = 0; p < depth; p++) {                                                                          \
        __m512 w[VECTORS];                                                                                     \
        UNROLL for (int v = 0; v < VECTORS; v++) w[v] = _mm512_load_ps(panel + (long)p * PANEL + 16 * v);     \
        UNROLL for (int r = 0; r < ROWS; r++) {                                                                \
            const __m512 xv = _mm512_set1_ps(x[r * ldx + p]);                                                  \
            UNROLL for (int v = 0; v < VECTORS; v++) acc[r][v] = _mm512_fmadd_ps(xv, w[v], acc[r][v]);         \
        }                                                                                                      \
    }                                                                                                          \
    UNROLL for (int r = 0; r < ROWS; r++)                                                                      \
        UNROLL for (int v = 0; v < VECTORS; v++) _mm512_mask_storeu_ps(y + r * ldy + 16 * v, mask[v], acc[r][v]); \
}

TILE(6)
TILE(4)
TILE(2)
TILE(1)

EG_PACKED512 static void gemm_packed(const float *x, long ldx, int m, const float *w, long ldw, int n, int k, float *y, long ldy) {
    _Alignas(64) float panel[PANEL * CHUNK];
    for (int j = 0; j < n; j += PANEL) {
        const int columns = n - j < PANEL ? n - j : PANEL;
        __mmask16 mask[VECTORS];
        for (int v = 0; v < VECTORS; v++) {
            const int here = columns - 16 * v;
            mask[v] = here >= 16 ? 0xFFFF : here > 0 ? (__mmask16)((1u << here) - 1) : 0;
        }
        for (int p = 0; p < k; p += CHUNK) {
            const int depth = k - p < CHUNK ? k - p : CHUNK, more = p > 0;
            pack_panel(w + j * ldw + p, ldw, columns, depth, panel);
            const float *xp = x + p;
            float *yj = y + j;
            int i = 0;
            for (; i + 6 <= m; i += 6) tile6(panel, depth, xp + i * ldx, ldx, yj + i * ldy, ldy, mask, more);
            if (i + 4 <= m) { tile4(panel, depth, xp + i * ldx, ldx, yj + i * ldy, ldy, mask, more); i += 4; }
            if (i + 2 <= m) { tile2(panel, depth, xp + i * ldx, ldx, yj + i * ldy, ldy, mask, more); i += 2; }
            if (i < m) tile1(panel, depth, xp + i * ldx, ldx, yj + i * ldy, ldy, mask, more);
        }
    }
}

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
