#ifndef CEMBEDDINGGEMMA_BLOCK_SIMD_H
#define CEMBEDDINGGEMMA_BLOCK_SIMD_H

/* AVX2 helpers shared by the float32 and the quantized kernels (x86-64 only, included inside
   the files' x86-64 sections): horizontal sum, and GGUF Q8_0 / Q4_0 block access. */

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

/* Sum of the 8 lanes. */
__attribute__((target("avx2,fma")))
static inline float eg_hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 0x55));
    return _mm_cvtss_f32(s);
}

/* The float16 scale at the start of a block (F16C, which every AVX2 CPU has). */
__attribute__((target("avx2,fma,f16c")))
static inline float eg_block_scale(const uint8_t *block) {
    uint16_t bits;
    memcpy(&bits, block, 2);
    return _cvtsh_ss(bits);
}

/* The 32 values of a Q8_0 (type 8) or Q4_0 (type 2) block as signed bytes, in order. Q4_0 keeps
   values 0..15 in the low nibbles and 16..31 in the high nibbles; a code c stands for c - 8. */
__attribute__((target("avx2,fma,f16c")))
static inline __m256i eg_block_values(const uint8_t *block, int weight_type) {
    if (weight_type == 8) return _mm256_loadu_si256((const __m256i *)(block + 2));
    const __m128i packed = _mm_loadu_si128((const __m128i *)(block + 2));
    const __m256i codes = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(packed, 4), packed), _mm256_set1_epi8(0x0F));
    return _mm256_sub_epi8(codes, _mm256_set1_epi8(8));
}

/* Bytes of one block of a type. */
static inline int eg_block_bytes(int weight_type) { return weight_type == 8 ? 34 : 18; }

#endif
