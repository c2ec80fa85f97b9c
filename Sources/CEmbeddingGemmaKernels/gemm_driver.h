#ifndef CEMBEDDINGGEMMA_GEMM_DRIVER_H
#define CEMBEDDINGGEMMA_GEMM_DRIVER_H

/* The cache blocking shared by the AVX2 and AVX-512 float32 kernels: weight rows in panels of
   about 48 KB, input rows in chunks of about 128 KB, and inside them register blocks of 4 input
   rows x `width` weight rows. Only the blocks differ per instruction set; they are called through
   this table (one indirect call per block of 4 x width x k multiply-adds). */

/* y[0..3][0..width-1] = x[0..3] . w[0..width-1] */
typedef void (*eg_block_wide)(const float *x, long ldx, const float *w, long ldw, int k, float *y, long ldy);
/* y[0..width-1] = x . w[0..width-1] */
typedef void (*eg_block_row)(const float *x, const float *w, long ldw, int k, float *y);
/* y[0..3][0] = x[0..3] . w */
typedef void (*eg_block_column)(const float *x, long ldx, const float *w, int k, float *y, long ldy);
/* x . w */
typedef float (*eg_block_dot)(const float *x, const float *w, int k);

typedef struct {
    int width;            /* weight rows per register block */
    int depth;            /* k must be a multiple of this (the vector width in floats) */
    eg_block_wide wide;
    eg_block_row row;
    eg_block_column column;
    eg_block_dot dot;
} eg_block_set;

/* Floats of the buffer a panel of decoded weight rows is kept in (48 KB, on the stack). */
#define EG_PANEL_FLOATS (3 * EG_QUANTIZED_MAX_K)

/* Input rows per chunk: about 128 KB of them, which stay in L2 while a panel of weight rows
   is multiplied with them. A multiple of 4, at least 4. */
static inline int eg_chunk_rows(int k) {
    const int rows = (32768 / k) & ~3;
    return rows < 4 ? 4 : rows;
}

/* Weight rows per panel: about 48 KB of float32 rows, a multiple of `width` where that fits,
   never more than the panel buffer holds. */
static inline int eg_panel_rows(int k, int width) {
    const int rows = width * (EG_PANEL_FLOATS / (width * k));
    if (rows >= width) return rows;
    const int fit = EG_PANEL_FLOATS / k;
    return fit < 1 ? 1 : fit;
}

/* y[i][j] = x[i] . w[j] for i < m, j < n: input rows in L2-sized chunks, weight rows `width` at a time. */
static inline void eg_multiply_panel(const eg_block_set *b, const float *x, long ldx, int m, const float *w, long ldw, int n,
                                     int k, float *y, long ldy) {
    const int chunk = eg_chunk_rows(k), width = b->width;
    for (int i0 = 0; i0 < m; i0 += chunk) {
        const int i1 = i0 + chunk < m ? i0 + chunk : m;
        int j = 0;
        for (; j + width <= n; j += width) {
            int i = i0;
            for (; i + 4 <= i1; i += 4) b->wide(x + i * ldx, ldx, w + j * ldw, ldw, k, y + i * ldy + j, ldy);
            for (; i < i1; i++) b->row(x + i * ldx, w + j * ldw, ldw, k, y + i * ldy + j);
        }
        for (; j < n; j++) {
            int i = i0;
            for (; i + 4 <= i1; i += 4) b->column(x + i * ldx, ldx, w + j * ldw, k, y + i * ldy + j, ldy);
            for (; i < i1; i++) y[i * ldy + j] = b->dot(x + i * ldx, w + j * ldw, k);
        }
    }
}

/* The whole product, weight panel by weight panel. */
static inline void eg_gemm_nt_blocks(const eg_block_set *b, const float *x, long ldx, int m, const float *w, long ldw, int n,
                                     int k, float *y, long ldy) {
    const int panel = eg_panel_rows(k, b->width);
    for (int j = 0; j < n; j += panel) {
        const int count = n - j < panel ? n - j : panel;
        eg_multiply_panel(b, x, ldx, m, w + j * ldw, ldw, count, k, y + j, ldy);
    }
}

#endif
