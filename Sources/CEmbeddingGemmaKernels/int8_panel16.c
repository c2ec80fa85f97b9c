#include "CEmbeddingGemmaKernels.h"

#include <stdint.h>

#include "int8_layout.h"

/* The 16-column weight panels of the AVX-512 VNNI kernel (int8.c) and the AMX kernel (amx.c). */

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

/* Vector r holds the 32 codes of column r in lanes 0-7 and of column r + 8 in lanes 8-15 (as
   dwords of 4 bytes); three rounds of two-register permutes turn that into vector g holding dword
   g of every column in lanes 0-15. Round s exchanges bit s of the register number with bit s of
   the lane number. */
static const int32_t transpose_index[3][2][16] = {
    {{0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30}, {1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31}},
    {{0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29}, {2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31}},
    {{0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27}, {4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31}},
};

EG_INT8_PANEL16_TARGET static inline void transpose_16x8(__m512i v[8]) {
    for (int s = 0; s < 3; s++) {
        /* lane l of the low result: bit s of l picks the register, the lane is l with bit s cleared
           (set, for the high result) */
        const __m512i lo = _mm512_loadu_si512(transpose_index[s][0]), hi = _mm512_loadu_si512(transpose_index[s][1]);
        for (int a = 0; a < 8; a++) {
            if (a & (1 << s)) continue;
            const __m512i first = v[a], second = v[a | 1 << s];
            v[a] = _mm512_permutex2var_epi32(first, lo, second);
            v[a | 1 << s] = _mm512_permutex2var_epi32(first, hi, second);
        }
    }
}

/* The rows are first decoded one after another into `codes` ([16][k] bytes), so memory is read as
   16 sequential streams one at a time (reading the 16 rows side by side, block by block, ran at a
   third of the speed on a Zen 5), then transposed block by block. */
EG_INT8_PANEL16_TARGET void eg_int8_pack_panel16(const uint8_t *w, int weight_type, long row_bytes, int columns, int nb, uint8_t *codes,
                                                 uint8_t *panel) {
    const int k = nb * 32;
    uint16_t halves[EG_INT8_PANEL16_COLUMNS][EG_QUANTIZED_MAX_K / 32];
    eg_int8_decode_rows(w, weight_type, row_bytes, columns, EG_INT8_PANEL16_COLUMNS, nb, codes, &halves[0][0]);
    for (int b = 0; b < nb; b++) {
        uint8_t *out = panel + (long)b * EG_INT8_PANEL16_BLOCK_BYTES;
        __m512i v[8];
        for (int r = 0; r < 8; r++) {
            const __m256i lo = _mm256_loadu_si256((const __m256i *)(codes + (long)r * k + b * 32));
            const __m256i hi = _mm256_loadu_si256((const __m256i *)(codes + (long)(r + 8) * k + b * 32));
            v[r] = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
        }
        transpose_16x8(v);
        for (int g = 0; g < 8; g++) _mm512_store_si512((__m512i *)(out + g * 64), v[g]);
        uint16_t scale_bits[EG_INT8_PANEL16_COLUMNS];
        for (int r = 0; r < EG_INT8_PANEL16_COLUMNS; r++) scale_bits[r] = halves[r][b];
        _mm512_store_ps((float *)(out + 512), _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)scale_bits)));
    }
}

#endif
