#ifndef CEMBEDDINGGEMMA_HALF_FLOAT_H
#define CEMBEDDINGGEMMA_HALF_FLOAT_H

#include <stdint.h>
#include <string.h>

/* The float32 value of the little-endian IEEE half-precision number at `p`, exactly (subnormals
   normalised, infinities and NaNs kept): the portable conversion of GGUF's float16 block scales,
   shared by the block decoders (kquants.c) and the portable int8 reference (int8.c). */
static inline float eg_half_to_float(const uint8_t *p) {
    const uint16_t h = (uint16_t)(p[0] | (p[1] << 8));
    const uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF, bits;
    if (exponent == 0x1F) {
        bits = sign | 0x7F800000u | (mantissa << 13);
    } else if (exponent != 0) {
        bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
    } else if (mantissa == 0) {
        bits = sign;
    } else {
        /* subnormal half: normalise */
        exponent = 113;
        while ((mantissa & 0x400) == 0) { mantissa <<= 1; exponent--; }
        bits = sign | (exponent << 23) | ((mantissa & 0x3FF) << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

#endif
