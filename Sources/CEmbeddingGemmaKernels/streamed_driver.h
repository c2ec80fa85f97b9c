#ifndef CEMBEDDINGGEMMA_STREAMED_DRIVER_H
#define CEMBEDDINGGEMMA_STREAMED_DRIVER_H

/* The driver the streamed kernels share (streamed.c for AVX-512, streamed_avx2.c for AVX2); only
   the per-type row decoders differ. EG_STREAMED_DRIVER(NAME, TARGET, VECTOR, ZERO, SUM, ROW) defines
   `int NAME(x, ldx, m, w, weight_type, row_bytes, n, k, y, ldy)` for the decoders
   ROW##_q8_0, ROW##_q4_0, ROW##_q5_0, ROW##_q4_k and ROW##_q6_k, each
   `(const uint8_t *row, int k, const float *x, long ldx, int m, VECTOR *a, VECTOR *b)` adding the row's
   products with m input rows into the accumulators a and b; SUM(v) adds a vector's lanes.

   Every weight row meets m (<= 4, a constant after inlining: one copy per count, so the loops over
   input rows unroll) input rows with two accumulators each, so that consecutive blocks do not wait
   on one another's multiply-adds; more input rows are taken 4 at a time. */
#define EG_STREAMED_MAX_ROWS 4

#define EG_STREAMED_FIXED(NAME, TARGET, M)                                                                        \
__attribute__((target(TARGET))) static void NAME##_##M(const float *x, long ldx, const uint8_t *w, int type,      \
                                                       long rb, int n, int k, float *y, long ldy) {              \
    NAME##_rows(x, ldx, M, w, type, rb, n, k, y, ldy);                                                            \
}

#define EG_STREAMED_DRIVER(NAME, TARGET, VECTOR, ZERO, SUM, ROW)                                                 \
__attribute__((target(TARGET), always_inline)) static inline void NAME##_rows(                                  \
    const float *x, long ldx, int m, const uint8_t *w, int type, long row_bytes, int n, int k, float *y, long ldy) { \
    for (int j = 0; j < n; j++, w += row_bytes) {                                                                 \
        VECTOR a[EG_STREAMED_MAX_ROWS], b[EG_STREAMED_MAX_ROWS];                                                  \
        for (int i = 0; i < m; i++) a[i] = b[i] = ZERO;                                                           \
        switch (type) {                                                                                           \
        case 8: ROW##_q8_0(w, k, x, ldx, m, a, b); break;                                                         \
        case 2: ROW##_q4_0(w, k, x, ldx, m, a, b); break;                                                         \
        case 6: ROW##_q5_0(w, k, x, ldx, m, a, b); break;                                                         \
        case 12: ROW##_q4_k(w, k, x, ldx, m, a, b); break;                                                        \
        default: ROW##_q6_k(w, k, x, ldx, m, a, b); break;                                                        \
        }                                                                                                         \
        for (int i = 0; i < m; i++) y[i * ldy + j] = SUM(a[i], b[i]);                                             \
    }                                                                                                             \
}                                                                                                                 \
EG_STREAMED_FIXED(NAME, TARGET, 1)                                                                                \
EG_STREAMED_FIXED(NAME, TARGET, 2)                                                                                \
EG_STREAMED_FIXED(NAME, TARGET, 3)                                                                                \
EG_STREAMED_FIXED(NAME, TARGET, 4)                                                                                \
int NAME(const float *x, long ldx, int m, const void *w, int weight_type, long row_bytes, int n, int k, float *y,  \
         long ldy) {                                                                                              \
    const int block = eg_streamed_block_size(weight_type);                                                        \
    if (block == 0 || k % block != 0 || m < 1) return 0;                                                          \
    const uint8_t *wb = (const uint8_t *)w;                                                                       \
    for (int i = 0; i < m; i += EG_STREAMED_MAX_ROWS) {                                                           \
        const float *xi = x + i * ldx;                                                                            \
        float *yi = y + i * ldy;                                                                                  \
        switch (m - i < EG_STREAMED_MAX_ROWS ? m - i : EG_STREAMED_MAX_ROWS) {                                    \
        case 1: NAME##_1(xi, ldx, wb, weight_type, row_bytes, n, k, yi, ldy); break;                              \
        case 2: NAME##_2(xi, ldx, wb, weight_type, row_bytes, n, k, yi, ldy); break;                              \
        case 3: NAME##_3(xi, ldx, wb, weight_type, row_bytes, n, k, yi, ldy); break;                              \
        default: NAME##_4(xi, ldx, wb, weight_type, row_bytes, n, k, yi, ldy); break;                             \
        }                                                                                                         \
    }                                                                                                             \
    return 1;                                                                                                     \
}

#endif
