/* Linear layers for a few input rows (a generated token, a short query) on block-quantized
   weights: each weight row is read once as one stream (software-prefetched ahead), its blocks
   are decoded in registers and multiplied at once with every input row. Nothing is written
   between decoding and multiplying, so the product runs at the memory's speed: measured on a
   Zen 5, 2 threads, the 262 144 x 640 Q8_0 token table of Gemma 3 270M in about 5 ms against
   15 ms for decoding panels into a stack buffer first.

   Every weight is decoded to the float ggml's dequantizer gives (same operations in the same
   order, no fused multiply-add: the Swift decoders of BlockQuantization are the specification),
   so the products differ from a product with the dequantized matrix only in the order of the
   float32 sums. */
#include "CEmbeddingGemmaKernels.h"

#if defined(__clang__)
#pragma clang fp contract(off)
#endif

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#include <stdint.h>
#include <string.h>
#include "kquant_scales.h"
#include "streamed_driver.h"

#define EG_STREAM_TARGET __attribute__((target("avx512f,f16c"), always_inline)) static inline
/* Bytes ahead of the block being decoded that are prefetched: far enough for the memory's
   latency, near enough to stay in L1 (measured best between 256 and 1024 on Zen 5). */
#define EG_PREFETCH_DISTANCE 768

EG_STREAM_TARGET float eg_half(const uint8_t *p) {
    uint16_t bits;
    memcpy(&bits, p, 2);
    return _cvtsh_ss(bits);
}

/* acc[i] += x[i][0..15] * w for the m input rows. */
EG_STREAM_TARGET void eg_accumulate(__m512 *acc, const float *x, long ldx, int m, __m512 w) {
    for (int i = 0; i < m; i++) acc[i] = _mm512_fmadd_ps(_mm512_loadu_ps(x + i * ldx), w, acc[i]);
}

/* 16 signed or unsigned bytes widened to 16 int32 lanes. */
EG_STREAM_TARGET __m512i eg_bytes_s(const uint8_t *p) { return _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)p)); }
EG_STREAM_TARGET __m512i eg_bytes_u(const uint8_t *p) { return _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)p)); }

/* Q8_0: d * q. */
EG_STREAM_TARGET void eg_row_q8_0(const uint8_t *w, int k, const float *x, long ldx, int m, __m512 *a, __m512 *b) {
    for (int p = 0; p < k; p += 32, w += 34) {
        _mm_prefetch((const char *)w + EG_PREFETCH_DISTANCE, _MM_HINT_T0);
        const __m512 d = _mm512_set1_ps(eg_half(w));
        eg_accumulate(a, x + p, ldx, m, _mm512_mul_ps(d, _mm512_cvtepi32_ps(eg_bytes_s(w + 2))));
        eg_accumulate(b, x + p + 16, ldx, m, _mm512_mul_ps(d, _mm512_cvtepi32_ps(eg_bytes_s(w + 18))));
    }
}

/* Q4_0: d * (c - 8), low nibbles first. */
EG_STREAM_TARGET void eg_row_q4_0(const uint8_t *w, int k, const float *x, long ldx, int m, __m512 *a, __m512 *b) {
    const __m512i low = _mm512_set1_epi32(0x0F), eight = _mm512_set1_epi32(8);
    for (int p = 0; p < k; p += 32, w += 18) {
        _mm_prefetch((const char *)w + EG_PREFETCH_DISTANCE, _MM_HINT_T0);
        const __m512 d = _mm512_set1_ps(eg_half(w));
        const __m512i c = eg_bytes_u(w + 2);
        const __m512i c0 = _mm512_sub_epi32(_mm512_and_si512(c, low), eight), c1 = _mm512_sub_epi32(_mm512_srli_epi32(c, 4), eight);
        eg_accumulate(a, x + p, ldx, m, _mm512_mul_ps(_mm512_cvtepi32_ps(c0), d));
        eg_accumulate(b, x + p + 16, ldx, m, _mm512_mul_ps(_mm512_cvtepi32_ps(c1), d));
    }
}

/* Q5_0: (c - 16) * d, where bit j of the block's 32-bit word is the fifth bit of value j. */
EG_STREAM_TARGET void eg_row_q5_0(const uint8_t *w, int k, const float *x, long ldx, int m, __m512 *a, __m512 *b) {
    const __m512i low = _mm512_set1_epi32(0x0F), sixteen = _mm512_set1_epi32(16);
    for (int p = 0; p < k; p += 32, w += 22) {
        _mm_prefetch((const char *)w + EG_PREFETCH_DISTANCE, _MM_HINT_T0);
        const __m512 d = _mm512_set1_ps(eg_half(w));
        uint32_t high;
        memcpy(&high, w + 2, 4);
        const __m512i c = eg_bytes_u(w + 6);
        __m512i c0 = _mm512_and_si512(c, low), c1 = _mm512_srli_epi32(c, 4);
        c0 = _mm512_mask_or_epi32(c0, (__mmask16)(high & 0xFFFF), c0, sixteen);
        c1 = _mm512_mask_or_epi32(c1, (__mmask16)(high >> 16), c1, sixteen);
        eg_accumulate(a, x + p, ldx, m, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(c0, sixteen)), d));
        eg_accumulate(b, x + p + 16, ldx, m, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(c1, sixteen)), d));
    }
}


/* Q4_K: super-blocks of 256 in 8 sub-blocks of 32, each (d * scale) * c - (dmin * min). */
EG_STREAM_TARGET void eg_row_q4_k(const uint8_t *w, int k, const float *x, long ldx, int m, __m512 *a, __m512 *b) {
    const __m512i low = _mm512_set1_epi32(0x0F);
    for (int p = 0; p < k; p += 256, w += 144) {
        const float d = eg_half(w), dmin = eg_half(w + 2);
        const uint8_t *scales = w + 4, *q = w + 16;
        for (int pair = 0; pair < 4; pair++, q += 32) {
            _mm_prefetch((const char *)q + EG_PREFETCH_DISTANCE, _MM_HINT_T0);
            float s1, m1, s2, m2;
            eg_scale_min_k4(2 * pair, scales, &s1, &m1);
            eg_scale_min_k4(2 * pair + 1, scales, &s2, &m2);
            const __m512 d1 = _mm512_set1_ps(d * s1), min1 = _mm512_set1_ps(dmin * m1);
            const __m512 d2 = _mm512_set1_ps(d * s2), min2 = _mm512_set1_ps(dmin * m2);
            const __m512i c0 = eg_bytes_u(q), c1 = eg_bytes_u(q + 16);
            const float *xp = x + p + pair * 64;
            eg_accumulate(a, xp, ldx, m, _mm512_sub_ps(_mm512_mul_ps(d1, _mm512_cvtepi32_ps(_mm512_and_si512(c0, low))), min1));
            eg_accumulate(b, xp + 16, ldx, m, _mm512_sub_ps(_mm512_mul_ps(d1, _mm512_cvtepi32_ps(_mm512_and_si512(c1, low))), min1));
            eg_accumulate(a, xp + 32, ldx, m, _mm512_sub_ps(_mm512_mul_ps(d2, _mm512_cvtepi32_ps(_mm512_srli_epi32(c0, 4))), min2));
            eg_accumulate(b, xp + 48, ldx, m, _mm512_sub_ps(_mm512_mul_ps(d2, _mm512_cvtepi32_ps(_mm512_srli_epi32(c1, 4))), min2));
        }
    }
}

/* Q6_K: super-blocks of 256, value v = (4 low bits | 2 high bits << 4) - 32, weight (d * scale) * v
   with one signed 8-bit scale per 16 values. */
EG_STREAM_TARGET void eg_row_q6_k(const uint8_t *w, int k, const float *x, long ldx, int m, __m512 *a, __m512 *b) {
    const __m512i low = _mm512_set1_epi32(0x0F), three = _mm512_set1_epi32(3), offset = _mm512_set1_epi32(32);
    for (int p = 0; p < k; p += 256, w += 210) {
        const float d = eg_half(w + 208);
        _mm_prefetch((const char *)w + EG_PREFETCH_DISTANCE, _MM_HINT_T0);
        _mm_prefetch((const char *)w + EG_PREFETCH_DISTANCE + 64, _MM_HINT_T0);
        _mm_prefetch((const char *)w + EG_PREFETCH_DISTANCE + 128, _MM_HINT_T0);
        _mm_prefetch((const char *)w + EG_PREFETCH_DISTANCE + 192, _MM_HINT_T0);
        for (int half = 0; half < 2; half++) {
            const uint8_t *ql = w + 64 * half, *qh = w + 128 + 32 * half;
            const int8_t *sc = (const int8_t *)(w + 192 + 8 * half);
            const float *xp = x + p + 128 * half;
            for (int s = 0; s < 2; s++) {
                const __m512i l0 = eg_bytes_u(ql + 16 * s), l1 = eg_bytes_u(ql + 32 + 16 * s), h = eg_bytes_u(qh + 16 * s);
                const __m512i v1 = _mm512_or_si512(_mm512_and_si512(l0, low), _mm512_slli_epi32(_mm512_and_si512(h, three), 4));
                const __m512i v2 = _mm512_or_si512(_mm512_and_si512(l1, low), _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(h, 2), three), 4));
                const __m512i v3 = _mm512_or_si512(_mm512_srli_epi32(l0, 4), _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(h, 4), three), 4));
                const __m512i v4 = _mm512_or_si512(_mm512_srli_epi32(l1, 4), _mm512_slli_epi32(_mm512_srli_epi32(h, 6), 4));
                __m512 *acc = s == 0 ? a : b;
                const float *xs = xp + 16 * s;
                eg_accumulate(acc, xs, ldx, m, _mm512_mul_ps(_mm512_set1_ps(d * (float)sc[s]), _mm512_cvtepi32_ps(_mm512_sub_epi32(v1, offset))));
                eg_accumulate(acc, xs + 32, ldx, m, _mm512_mul_ps(_mm512_set1_ps(d * (float)sc[s + 2]), _mm512_cvtepi32_ps(_mm512_sub_epi32(v2, offset))));
                eg_accumulate(acc, xs + 64, ldx, m, _mm512_mul_ps(_mm512_set1_ps(d * (float)sc[s + 4]), _mm512_cvtepi32_ps(_mm512_sub_epi32(v3, offset))));
                eg_accumulate(acc, xs + 96, ldx, m, _mm512_mul_ps(_mm512_set1_ps(d * (float)sc[s + 6]), _mm512_cvtepi32_ps(_mm512_sub_epi32(v4, offset))));
            }
        }
    }
}

#define EG_SUM16(a, b) _mm512_reduce_add_ps(_mm512_add_ps(a, b))
EG_STREAMED_DRIVER(eg_gemm_streamed_avx512, "avx512f,f16c", __m512, _mm512_setzero_ps(), EG_SUM16, eg_row)

int eg_streamed_block_size(int weight_type) {
    switch (weight_type) {
    case 8: case 2: case 6: return 32;
    case 12: case 14: return 256;
    default: return 0;
    }
}

#else

int eg_streamed_block_size(int weight_type) {
    (void)weight_type;
    return 0;
}

int eg_gemm_streamed_avx512(const float *x, long ldx, int m, const void *w, int weight_type, long row_bytes, int n, int k, float *y,
                            long ldy) {
    (void)x; (void)ldx; (void)m; (void)w; (void)weight_type; (void)row_bytes; (void)n; (void)k; (void)y; (void)ldy;
    return 0;
}

#endif
