#ifndef CEMBEDDINGGEMMA_INT8_LAYOUT_H
#define CEMBEDDINGGEMMA_INT8_LAYOUT_H

/* Int8 products on Q8_0/Q4_0 weights, as llama.cpp multiplies them: activations quantized per
   block of 32 to int8 with one float scale, weights taken as their integer codes, exact integer
   sums per block, then one float multiply-add per block with both scales.

   The byte dot product (vpdpbusd) multiplies unsigned by signed bytes, so the weights enter as
   unsigned codes: a Q8_0 value q as q + 128, a Q4_0 value (c - 8) as its code c. The offset this
   adds to a block's sum, offset * (sum of the activation codes), is stored with each quantized
   activation row as the block's correction and becomes the integer accumulator's start value.

   A quantized activation row (eg_int8_row_bytes): k int8 codes, then k / 32 float scales, then
   k / 32 int32 corrections, padded to 64 bytes.

   The vector kernels pack a panel of weight rows (output columns) at a time, block by block, into
   vectors of 4 codes per column (column-interleaved), so one vpdpbusd with 4 broadcast activation
   bytes adds 4 products to every column's integer sum; the panel is used by every activation row. */

#include "CEmbeddingGemmaKernels.h"
#include <stdint.h>
#include <string.h>

/* What the kernel adds to the weights' codes to make them unsigned. */
static inline int eg_int8_code_offset(int weight_type) { return weight_type == 8 ? 128 : 8; }

/* Whether the int8 kernels take this weight type and row length. */
static inline int eg_int8_supported(int weight_type, int k) {
    return (weight_type == 8 || weight_type == 2) && k > 0 && k % 32 == 0 && k <= EG_QUANTIZED_MAX_K;
}

/* Bytes ahead of the block being packed that the packers prefetch: the panel's rows are one
   contiguous region read once, so the hardware prefetcher alone leaves the loads waiting
   (measured on a Zen 5: W2 on Q8_0 13 ms without, 9-10 ms with 2 KB). */
#define EG_INT8_PREFETCH 2048

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

/* The 32 unsigned codes of one Q8_0 (type 8) or Q4_0 (type 2) block, in order. */
__attribute__((target("avx2")))
static inline __m256i eg_int8_block_codes(const uint8_t *block, int weight_type) {
    if (weight_type == 8) return _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(block + 2)), _mm256_set1_epi8((char)0x80));
    const __m128i packed = _mm_loadu_si128((const __m128i *)(block + 2));
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(packed, 4), packed), _mm256_set1_epi8(0x0F));
}

/* The first step of packing a panel of `panel_columns` weight rows: rows decoded one after another
   into `codes` ([panel_columns][nb * 32] unsigned codes) and their float16 scale bits into `halves`
   ([panel_columns][EG_QUANTIZED_MAX_K / 32]); rows past `columns` get zero codes and scales. Memory is
   read as one sequential stream (the panel's rows are contiguous), prefetched ahead. */
__attribute__((target("avx2")))
static inline void eg_int8_decode_rows(const uint8_t *w, int weight_type, long row_bytes, int columns, int panel_columns, int nb,
                                       uint8_t *codes, uint16_t *halves) {
    const int block_bytes = weight_type == 8 ? 34 : 18, k = nb * 32;
    for (int r = 0; r < panel_columns; r++) {
        uint8_t *out = codes + (long)r * k;
        uint16_t *scale_bits = halves + r * (EG_QUANTIZED_MAX_K / 32);
        if (r >= columns) {
            memset(out, 0, (size_t)k);
            for (int b = 0; b < nb; b++) scale_bits[b] = 0;
            continue;
        }
        const uint8_t *row = w + r * row_bytes;
        for (int b = 0; b < nb; b++) {
            const uint8_t *block = row + b * block_bytes;
            _mm_prefetch((const char *)block + EG_INT8_PREFETCH, _MM_HINT_T0);
            _mm256_storeu_si256((__m256i *)(out + b * 32), eg_int8_block_codes(block, weight_type));
            scale_bits[b] = (uint16_t)(block[0] | block[1] << 8);
        }
    }
}

/* A 16-column panel (eg_int8_pack_panel16): the weights of 16 output columns, block by block. Each
   block takes 512 bytes of unsigned codes — 8 vectors, vector g holding values 4g ..< 4g + 4 of the
   16 columns, 4 bytes a column, so one vpdpbusd with 4 broadcast activation bytes adds 4 products to
   each column's sum (and the 8 vectors are an AMX B tile of 8 rows x 64 bytes) — then the 16
   columns' float scales. */
#define EG_INT8_PANEL16_COLUMNS 16
#define EG_INT8_PANEL16_BLOCK_BYTES (512 + 64)
#define EG_INT8_PANEL16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,f16c")))

/* Packs `columns` (<= 16) weight rows, `row_bytes` apart, into a panel of nb blocks (64-byte
   aligned, nb * EG_INT8_PANEL16_BLOCK_BYTES bytes); missing columns get zero codes and scales.
   `codes` is scratch of 16 * nb * 32 bytes. Requires eg_avx512_available() with AVX512BW/VL. */
EG_INT8_PANEL16_TARGET void eg_int8_pack_panel16(const uint8_t *w, int weight_type, long row_bytes, int columns, int nb, uint8_t *codes,
                                                 uint8_t *panel);
#endif

#endif
