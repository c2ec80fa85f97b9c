/* The AMX int8 product (no include guard: amx.c includes it twice). Before including, define
   EG_AMX_FUNCTION (the function's name), EG_AMX_TARGET (its attributes), and the tile operations
   EG_TILE_STATE, EG_TILE_LOADCONFIG(config), EG_TILE_ZERO(t), EG_TILE_LOADD(t, base, stride),
   EG_TILE_DPBSUD(c, a, b), EG_TILE_STORED(t, base, stride), EG_TILE_RELEASE() and EG_TILE_FAULT (non-zero
   when an operation faulted): the instructions, or the software model of amx_tiles.h. The tiles'
   shapes are amx_kernel_config()'s (amx.c).

   The weights are packed 16 columns at a time into the panels of the AVX-512 VNNI kernel, whose
   blocks are AMX B tiles (8 rows: dword g of each of the 16 columns, 4 codes a column). For 16
   activation rows and one block of 32, one TDPBSUD multiplies the A tile (16 rows x 32 signed
   codes, read in place from the quantized rows) by the B tile into a C tile of 16 x 16 exact int32
   sums, stored to memory; each row's sums then take the block's correction and are added to the
   float sums as fma(float(sum), scale_w * scale_x, acc) — the order of eg_gemm_int8_reference, so
   the same floats. The C tiles alternate between two registers so that the next block's product
   is on its way while this block's sums are scaled. */

/* The C tile C of block b: zero, A from the activation rows at x (x_bytes apart), B from the
   panel, multiply, store to `sums`. */
#define EG_AMX_BLOCK_PRODUCT(C, b, sums)                                                          \
    do {                                                                                          \
        EG_TILE_ZERO(C);                                                                          \
        EG_TILE_LOADD(2, x + (long)(b) * 32, x_bytes);                                            \
        EG_TILE_LOADD(3, panel + (long)(b) * EG_INT8_PANEL16_BLOCK_BYTES, 64);                     \
        EG_TILE_DPBSUD(C, 2, 3);                                                                  \
        EG_TILE_STORED(C, sums, 64);                                                              \
    } while (0)

EG_AMX_TARGET static int EG_AMX_FUNCTION(const void *xq, int m, const void *w, int weight_type, long row_bytes, int n, int k, float *y,
                                         long ldy) {
    EG_TILE_STATE
    const int nb = k / 32;
    const long x_bytes = eg_int8_row_bytes(k);
    _Alignas(64) uint8_t panel[(EG_QUANTIZED_MAX_K / 32) * EG_INT8_PANEL16_BLOCK_BYTES];
    _Alignas(64) uint8_t codes[EG_INT8_PANEL16_COLUMNS * EG_QUANTIZED_MAX_K];
    _Alignas(64) int32_t sums[2][16 * 16];
    const eg_tile_config config = amx_kernel_config();
    EG_TILE_LOADCONFIG(&config);
    for (int j = 0; j < n && !EG_TILE_FAULT; j += EG_INT8_PANEL16_COLUMNS) {
        const int columns = n - j < EG_INT8_PANEL16_COLUMNS ? n - j : EG_INT8_PANEL16_COLUMNS;
        eg_int8_pack_panel16((const uint8_t *)w + j * row_bytes, weight_type, row_bytes, columns, nb, codes, panel);
        const __mmask16 mask = (__mmask16)((1u << columns) - 1);
        for (int group = 0; group < m; group += 16) {
            /* The last group ends at row m (m >= 16), computing again rows of the group before: the same floats. */
            const int first = group + 16 <= m ? group : m - 16;
            const int8_t *x = (const int8_t *)xq + first * x_bytes;
            const uint8_t *row_floats = (const uint8_t *)x + k; /* row r's scales at + r * x_bytes, corrections after them */
            __m512 acc[16];
            for (int r = 0; r < 16; r++) acc[r] = _mm512_setzero_ps();
            EG_AMX_BLOCK_PRODUCT(0, 0, sums[0]);
            for (int b = 0; b < nb; b++) {
                if (b + 1 < nb) {
                    if ((b + 1) & 1) EG_AMX_BLOCK_PRODUCT(1, b + 1, sums[1]);
                    else EG_AMX_BLOCK_PRODUCT(0, b + 1, sums[0]);
                }
                const int32_t *block_sums = sums[b & 1];
                const __m512 scales = _mm512_load_ps((const float *)(panel + (long)b * EG_INT8_PANEL16_BLOCK_BYTES + 512));
                for (int r = 0; r < 16; r++) {
                    const uint8_t *floats = row_floats + r * x_bytes;
                    float dx;
                    int32_t correction;
                    memcpy(&dx, floats + b * 4, 4);
                    memcpy(&correction, floats + nb * 4 + b * 4, 4);
                    const __m512i sum = _mm512_add_epi32(_mm512_load_si512((const void *)(block_sums + r * 16)), _mm512_set1_epi32(correction));
                    acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), _mm512_mul_ps(scales, _mm512_set1_ps(dx)), acc[r]);
                }
            }
            for (int r = 0; r < 16; r++) _mm512_mask_storeu_ps(y + (long)(first + r) * ldy + j, mask, acc[r]);
        }
    }
    EG_TILE_RELEASE();
    return !EG_TILE_FAULT;
}

#undef EG_AMX_BLOCK_PRODUCT
