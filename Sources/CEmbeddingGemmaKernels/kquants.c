/* Decoders of the GGUF encodings llama.cpp's quantizer writes besides Q8_0 / Q4_0: Q4_1, Q5_0,
   Q5_1 (blocks of 32) and the k-quants Q4_K, Q5_K, Q6_K (super-blocks of 256). Each value is
   computed as ggml's reference dequantizer computes it, product by product with no fused
   multiply-add, so the floats equal ggml's and gguf-py's bit for bit (the Swift decoders in
   BlockQuantization+KQuants.swift are the specification; a test compares the two).
   The loops are written for the compiler to vectorise; an AVX2 build is chosen at run time. */
#include "CEmbeddingGemmaKernels.h"

#include <stdint.h>
#include <string.h>
#include "half_float.h"
#include "kquant_scales.h"

#if defined(__clang__)
#pragma clang fp contract(off)
#endif



#define EG_DECODERS(SUFFIX, ATTRIBUTE)                                                                  \
ATTRIBUTE static void q4_1_##SUFFIX(const uint8_t *b, float *y) {                                      \
    const float d = eg_half_to_float(b), m = eg_half_to_float(b + 2);                                  \
    const uint8_t *q = b + 4;                                                                          \
    for (int j = 0; j < 16; j++) {                                                                     \
        y[j] = (float)(q[j] & 0x0F) * d + m;                                                           \
        y[j + 16] = (float)(q[j] >> 4) * d + m;                                                        \
    }                                                                                                  \
}                                                                                                      \
ATTRIBUTE static void q5_##SUFFIX(const uint8_t *b, float *y, int has_min) {                           \
    const float d = eg_half_to_float(b), m = has_min ? eg_half_to_float(b + 2) : 0.0f;                 \
    const int header = has_min ? 4 : 2;                                                                \
    uint32_t qh;                                                                                       \
    memcpy(&qh, b + header, 4);                                                                        \
    const uint8_t *q = b + header + 4;                                                                 \
    int32_t x0[16], x1[16];                                                                            \
    for (int j = 0; j < 16; j++) {                                                                     \
        const uint8_t h0 = (uint8_t)(((qh >> j) << 4) & 0x10), h1 = (uint8_t)((qh >> (j + 12)) & 0x10); \
        x0[j] = (int32_t)((q[j] & 0x0F) | h0);                                                         \
        x1[j] = (int32_t)((q[j] >> 4) | h1);                                                           \
    }                                                                                                  \
    if (has_min) {                                                                                     \
        for (int j = 0; j < 16; j++) { y[j] = (float)x0[j] * d + m; y[j + 16] = (float)x1[j] * d + m; } \
    } else {                                                                                           \
        for (int j = 0; j < 16; j++) { y[j] = (float)(x0[j] - 16) * d; y[j + 16] = (float)(x1[j] - 16) * d; } \
    }                                                                                                  \
}                                                                                                      \
ATTRIBUTE static void q4_k_##SUFFIX(const uint8_t *b, float *y) {                                      \
    const float d = eg_half_to_float(b), dmin = eg_half_to_float(b + 2);                               \
    const uint8_t *scales = b + 4, *q = b + 16;                                                        \
    for (int pair = 0; pair < 4; pair++, q += 32, y += 64) {                                           \
        float s1, m1, s2, m2;                                                                          \
        eg_scale_min_k4(2 * pair, scales, &s1, &m1);                                                   \
        eg_scale_min_k4(2 * pair + 1, scales, &s2, &m2);                                               \
        const float d1 = d * s1, min1 = dmin * m1, d2 = d * s2, min2 = dmin * m2;                      \
        for (int l = 0; l < 32; l++) y[l] = d1 * (float)(q[l] & 0x0F) - min1;                          \
        for (int l = 0; l < 32; l++) y[32 + l] = d2 * (float)(q[l] >> 4) - min2;                       \
    }                                                                                                  \
}                                                                                                      \
ATTRIBUTE static void q5_k_##SUFFIX(const uint8_t *b, float *y) {                                      \
    const float d = eg_half_to_float(b), dmin = eg_half_to_float(b + 2);                               \
    const uint8_t *scales = b + 4, *qh = b + 16, *ql = b + 48;                                         \
    uint8_t u1 = 1, u2 = 2;                                                                            \
    for (int pair = 0; pair < 4; pair++, ql += 32, y += 64, u1 <<= 2, u2 <<= 2) {                      \
        float s1, m1, s2, m2;                                                                          \
        eg_scale_min_k4(2 * pair, scales, &s1, &m1);                                                   \
        eg_scale_min_k4(2 * pair + 1, scales, &s2, &m2);                                               \
        const float d1 = d * s1, min1 = dmin * m1, d2 = d * s2, min2 = dmin * m2;                      \
        for (int l = 0; l < 32; l++) y[l] = d1 * (float)((ql[l] & 0x0F) + ((qh[l] & u1) ? 16 : 0)) - min1; \
        for (int l = 0; l < 32; l++) y[32 + l] = d2 * (float)((ql[l] >> 4) + ((qh[l] & u2) ? 16 : 0)) - min2; \
    }                                                                                                  \
}                                                                                                      \
ATTRIBUTE static void q6_k_##SUFFIX(const uint8_t *b, float *y) {                                      \
    const float d = eg_half_to_float(b + 208);                                                         \
    const uint8_t *ql = b, *qh = b + 128;                                                              \
    const int8_t *sc = (const int8_t *)(b + 192);                                                      \
    for (int half = 0; half < 2; half++, y += 128, ql += 64, qh += 32, sc += 8) {                      \
        for (int l = 0; l < 32; l++) {                                                                 \
            const int s = l / 16;                                                                      \
            const int32_t v1 = (int32_t)((ql[l] & 0x0F) | ((qh[l] & 3) << 4)) - 32;                    \
            const int32_t v2 = (int32_t)((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;        \
            const int32_t v3 = (int32_t)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;               \
            const int32_t v4 = (int32_t)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;          \
            y[l] = d * (float)sc[s] * (float)v1;                                                       \
            y[l + 32] = d * (float)sc[s + 2] * (float)v2;                                              \
            y[l + 64] = d * (float)sc[s + 4] * (float)v3;                                              \
            y[l + 96] = d * (float)sc[s + 6] * (float)v4;                                              \
        }                                                                                              \
    }                                                                                                  \
}                                                                                                      \
ATTRIBUTE static int decode_##SUFFIX(const void *rows, int type, int nrows, int cols, float *out) {    \
    int block_size, block_bytes;                                                                       \
    switch (type) {                                                                                    \
    case 3: block_size = 32; block_bytes = 20; break;                                                  \
    case 6: block_size = 32; block_bytes = 22; break;                                                  \
    case 7: block_size = 32; block_bytes = 24; break;                                                  \
    case 12: block_size = 256; block_bytes = 144; break;                                               \
    case 13: block_size = 256; block_bytes = 176; break;                                               \
    case 14: block_size = 256; block_bytes = 210; break;                                               \
    default: return 0;                                                                                 \
    }                                                                                                  \
    const long blocks = (long)nrows * (cols / block_size);                                             \
    const uint8_t *b = (const uint8_t *)rows;                                                          \
    for (long i = 0; i < blocks; i++, b += block_bytes, out += block_size) {                           \
        switch (type) {                                                                                \
        case 3: q4_1_##SUFFIX(b, out); break;                                                          \
        case 6: q5_##SUFFIX(b, out, 0); break;                                                         \
        case 7: q5_##SUFFIX(b, out, 1); break;                                                         \
        case 12: q4_k_##SUFFIX(b, out); break;                                                         \
        case 13: q5_k_##SUFFIX(b, out); break;                                                         \
        default: q6_k_##SUFFIX(b, out); break;                                                         \
        }                                                                                              \
    }                                                                                                  \
    return 1;                                                                                          \
}

EG_DECODERS(portable, )

#if defined(__x86_64__) || defined(_M_X64)
EG_DECODERS(avx2, __attribute__((target("avx2,fma"))))
#endif

int eg_decode_kquant_rows(const void *rows, int type, int nrows, int cols, float *out) {
#if defined(__x86_64__) || defined(_M_X64)
    static int avx2 = -1;
    if (avx2 < 0) avx2 = eg_avx2_fma_available();
    if (avx2) return decode_avx2(rows, type, nrows, cols, out);
#endif
    return decode_portable(rows, type, nrows, cols, out);
}
