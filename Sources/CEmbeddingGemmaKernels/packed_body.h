/* The packed float32 kernel's body, compiled once per vector width (packed.c: AVX-512F, 16 lanes;
   packed_avx2.c: AVX2+FMA, 8 lanes), as optimised BLAS libraries compute large products: the weight rows
   are packed EG_PK_VECTORS vectors wide into a k-major panel (for each depth p, the panel's weight rows'
   values side by side, aligned), and a register tile of up to 6 input rows x the panel's weight rows adds
   one outer product per depth: EG_PK_VECTORS aligned panel loads, one broadcast input value per row,
   EG_PK_VECTORS FMAs per row. No horizontal sums, and no load straddles a cache line, whatever the
   alignment of the weights (the float32 tensors of the published safetensors file sit 56 bytes past a
   64-byte boundary). Packing costs one transpose of the panel, shared by every input row. The depth is
   taken in chunks of EG_PK_CHUNK, so a packed chunk stays in L1; each output is summed over p in order.

   The including file defines, before including this file:
     EG_PK_TARGET                  the function attribute enabling the instruction set
     EG_PK_V, EG_PK_LANES          the float vector type and its lanes
     EG_PK_VECTORS, EG_PK_CHUNK    vectors per panel row, depth per chunk
     EG_PK_MASK                    the type of a lane mask (which of a vector's output columns exist)
     EG_PK_MASK_FIRST(here)        the mask of the first `here` lanes (all when here >= lanes, none when <= 0)
     EG_PK_MASKZ_LOAD(mask, p)     load the masked lanes from p, zero elsewhere; EG_PK_MASK_STORE(p, mask, v)
     EG_PK_LOADU, EG_PK_LOAD, EG_PK_STORE, EG_PK_ZERO, EG_PK_SET1, EG_PK_FMADD, EG_PK_PREFETCH(p)
     EG_PK_TRANSPOSE(v)            transpose EG_PK_LANES vectors: v[t] lane q becomes v[q] lane t
   and it gets the static function gemm_packed(x, ldx, m, w, ldw, n, k, y, ldy) (k a multiple of the lanes). */

#define PANEL (EG_PK_LANES * EG_PK_VECTORS)
/* Floats ahead of the packing loads that are prefetched: the panel's rows read side by side are more
   streams than the hardware prefetcher follows. */
#define PREFETCH 64
/* Every loop over a tile's rows is unrolled, so its accumulators live in registers. */
#define UNROLL _Pragma("clang loop unroll(full)")

/* panel[p * PANEL + c] = w[c * ldw + p] for c < columns (0 for the rest), p < depth (a multiple of the lanes). */
EG_PK_TARGET static void pack_panel(const float *w, long ldw, int columns, int depth, float *panel) {
    for (int group = 0; group < EG_PK_VECTORS; group++) {
        for (int p = 0; p < depth; p += EG_PK_LANES) {
            EG_PK_V v[EG_PK_LANES];
            for (int t = 0; t < EG_PK_LANES; t++) {
                const int c = group * EG_PK_LANES + t;
                if (c < columns) EG_PK_PREFETCH(w + c * ldw + p + PREFETCH);
                v[t] = c < columns ? EG_PK_LOADU(w + c * ldw + p) : EG_PK_ZERO();
            }
            EG_PK_TRANSPOSE(v);
            for (int q = 0; q < EG_PK_LANES; q++) EG_PK_STORE(panel + (long)(p + q) * PANEL + group * EG_PK_LANES, v[q]);
        }
    }
}

/* ROWS input rows x PANEL packed weight rows over `depth`; mask[v] says which of vector v's output
   columns exist. Later depth chunks add to the outputs (`accumulate`). */
#define TILE(ROWS)                                                                                             \
EG_PK_TARGET static void tile##ROWS(const float *panel, int depth, const float *x, long ldx, float *y, long ldy, \
                                    const EG_PK_MASK mask[EG_PK_VECTORS], int accumulate) {                    \
    EG_PK_V acc[ROWS][EG_PK_VECTORS];                                                                          \
    UNROLL for (int r = 0; r < ROWS; r++)                                                                      \
        UNROLL for (int v = 0; v < EG_PK_VECTORS; v++)                                                         \
            acc[r][v] = accumulate ? EG_PK_MASKZ_LOAD(mask[v], y + r * ldy + EG_PK_LANES * v) : EG_PK_ZERO();   \
    for (int p = 0; p < depth; p++) {                                                                          \
        EG_PK_V w[EG_PK_VECTORS];                                                                              \
        UNROLL for (int v = 0; v < EG_PK_VECTORS; v++) w[v] = EG_PK_LOAD(panel + (long)p * PANEL + EG_PK_LANES * v); \
        UNROLL for (int r = 0; r < ROWS; r++) {                                                                \
            const EG_PK_V xv = EG_PK_SET1(x[r * ldx + p]);                                                     \
            UNROLL for (int v = 0; v < EG_PK_VECTORS; v++) acc[r][v] = EG_PK_FMADD(xv, w[v], acc[r][v]);       \
        }                                                                                                      \
    }                                                                                                          \
    UNROLL for (int r = 0; r < ROWS; r++)                                                                      \
        UNROLL for (int v = 0; v < EG_PK_VECTORS; v++) EG_PK_MASK_STORE(y + r * ldy + EG_PK_LANES * v, mask[v], acc[r][v]); \
}

TILE(6)
TILE(4)
TILE(2)
TILE(1)

EG_PK_TARGET static void gemm_packed(const float *x, long ldx, int m, const float *w, long ldw, int n, int k, float *y, long ldy) {
    _Alignas(64) float panel[PANEL * EG_PK_CHUNK];
    for (int j = 0; j < n; j += PANEL) {
        const int columns = n - j < PANEL ? n - j : PANEL;
        EG_PK_MASK mask[EG_PK_VECTORS];
        for (int v = 0; v < EG_PK_VECTORS; v++) mask[v] = EG_PK_MASK_FIRST(columns - EG_PK_LANES * v);
        for (int p = 0; p < k; p += EG_PK_CHUNK) {
            const int depth = k - p < EG_PK_CHUNK ? k - p : EG_PK_CHUNK, more = p > 0;
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

#undef PANEL
#undef PREFETCH
#undef UNROLL
#undef TILE
