/* The register tiles and the driver of the int8 VNNI products (no include guard: int8.c includes
   it for 512-bit vectors, int8_avxvnni.c for 256-bit ones). Before including, define:
   EG_I8_TARGET (the functions' attributes), EG_I8_NAME (the driver's name), EG_I8_COLUMNS (columns
   of a panel = lanes of a vector), EG_I8_BLOCK_BYTES (a panel block: codes, then float scales),
   EG_I8_PACK(w, weight_type, row_bytes, columns, nb, codes, panel) (the panel packer), EG_I8_MAX_ROWS
   (8 or 4: the largest tile that fits the register file), the vector types EG_I8_VI / EG_I8_VF and
   EG_I8_SET1_EPI32, EG_I8_LOAD_CODES, EG_I8_DPBUSD, EG_I8_LOAD_PS, EG_I8_SETZERO_PS, EG_I8_FMADD_PS,
   EG_I8_CVTEPI32_PS, EG_I8_MUL_PS, EG_I8_SET1_PS, and EG_I8_STORE_ROW(y, v, columns) (stores the
   first `columns` lanes of v).

   ROWS activation rows against one panel: per block, each row's integer sums start at its
   correction, take 8 vpdpbusd (the codes of the panel's columns against 4 broadcast activation
   bytes) and are added to the float sums as fma(float(sum), scale_w * scale_x, acc) — the order of
   eg_gemm_int8_reference, so the results are the same floats. */

#define EG_I8_TILE(ROWS)                                                                                     \
EG_I8_TARGET static void EG_I8_CONCAT(tile, ROWS)(const uint8_t *panel, int nb, const int8_t *x, long x_bytes, int k, \
                                                 float *y, long ldy, int columns) {                          \
    EG_I8_VF acc[ROWS];                                                                                      \
    for (int r = 0; r < ROWS; r++) acc[r] = EG_I8_SETZERO_PS();                                              \
    const float *d = (const float *)(x + k);                                                                 \
    const int32_t *correction = (const int32_t *)(d + nb);                                                   \
    for (int b = 0; b < nb; b++) {                                                                           \
        const uint8_t *block = panel + (long)b * EG_I8_BLOCK_BYTES;                                          \
        EG_I8_VI sum[ROWS];                                                                                  \
        for (int r = 0; r < ROWS; r++) sum[r] = EG_I8_SET1_EPI32(*(const int32_t *)((const uint8_t *)correction + r * x_bytes + b * 4)); \
        for (int g = 0; g < 8; g++) {                                                                        \
            const EG_I8_VI codes = EG_I8_LOAD_CODES(block + g * EG_I8_COLUMNS * 4);                          \
            for (int r = 0; r < ROWS; r++) {                                                                 \
                int32_t bytes;                                                                               \
                memcpy(&bytes, x + r * x_bytes + b * 32 + g * 4, 4);                                        \
                sum[r] = EG_I8_DPBUSD(sum[r], codes, EG_I8_SET1_EPI32(bytes));                               \
            }                                                                                                \
        }                                                                                                    \
        const EG_I8_VF scales = EG_I8_LOAD_PS((const float *)(block + EG_I8_COLUMNS * 32));                  \
        for (int r = 0; r < ROWS; r++) {                                                                     \
            const float dx = *(const float *)((const uint8_t *)d + r * x_bytes + b * 4);                     \
            acc[r] = EG_I8_FMADD_PS(EG_I8_CVTEPI32_PS(sum[r]), EG_I8_MUL_PS(scales, EG_I8_SET1_PS(dx)), acc[r]); \
        }                                                                                                    \
    }                                                                                                        \
    for (int r = 0; r < ROWS; r++) EG_I8_STORE_ROW(y + r * ldy, acc[r], columns);                            \
}

#define EG_I8_CONCAT(a, b) EG_I8_CONCAT_(a, b)
#define EG_I8_CONCAT_(a, b) a##b

#if EG_I8_MAX_ROWS >= 8
EG_I8_TILE(8)
#endif
EG_I8_TILE(4)
EG_I8_TILE(2)
EG_I8_TILE(1)

/* Panel by panel (packed once, used by every row), the rows in the largest tiles that fit. */
EG_I8_TARGET static void EG_I8_NAME(const void *xq, int m, const void *w, int weight_type, long row_bytes, int n, int k, float *y, long ldy) {
    const int nb = k / 32;
    const long x_bytes = eg_int8_row_bytes(k);
    _Alignas(64) uint8_t panel[(EG_QUANTIZED_MAX_K / 32) * EG_I8_BLOCK_BYTES];
    _Alignas(64) uint8_t codes[EG_I8_COLUMNS * EG_QUANTIZED_MAX_K];
    for (int j = 0; j < n; j += EG_I8_COLUMNS) {
        const int columns = n - j < EG_I8_COLUMNS ? n - j : EG_I8_COLUMNS;
        EG_I8_PACK((const uint8_t *)w + j * row_bytes, weight_type, row_bytes, columns, nb, codes, panel);
        const int8_t *x = (const int8_t *)xq;
        float *out = y + j;
        int i = 0;
#if EG_I8_MAX_ROWS >= 8
        for (; i + 8 <= m; i += 8) tile8(panel, nb, x + i * x_bytes, x_bytes, k, out + i * ldy, ldy, columns);
        if (i + 4 <= m) { tile4(panel, nb, x + i * x_bytes, x_bytes, k, out + i * ldy, ldy, columns); i += 4; }
#else
        for (; i + 4 <= m; i += 4) tile4(panel, nb, x + i * x_bytes, x_bytes, k, out + i * ldy, ldy, columns);
#endif
        if (i + 2 <= m) { tile2(panel, nb, x + i * x_bytes, x_bytes, k, out + i * ldy, ldy, columns); i += 2; }
        if (i < m) tile1(panel, nb, x + i * x_bytes, x_bytes, k, out + i * ldy, ldy, columns);
    }
}

#undef EG_I8_TILE
#undef EG_I8_CONCAT
#undef EG_I8_CONCAT_
