#include "CEmbeddingGemmaKernels.h"

/* Peak float32 multiply-add throughput probes: 12 (AVX2) or 16 (AVX-512) independent accumulator
   chains (enough to cover a 4-cycle FMA latency on 2 pipes), each step one FMA per chain. The result is
   returned through a sum so the loop cannot be removed. */

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

/* 12 chains, not 16: AVX2 code has only 16 YMM registers, and with the two constants 16 chains spill
   to the stack (measured on a Zen 5: 146 GFLOP/s on 2 cores instead of about 250). */
__attribute__((target("avx2,fma")))
float eg_fma_probe_avx2(long steps) {
    __m256 acc[12];
    for (int i = 0; i < 12; i++) acc[i] = _mm256_set1_ps((float)i * 1e-3f);
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    for (long s = 0; s < steps; s++)
        for (int i = 0; i < 12; i++) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
    __m256 total = acc[0];
    for (int i = 1; i < 12; i++) total = _mm256_add_ps(total, acc[i]);
    float out[8];
    _mm256_storeu_ps(out, total);
    return out[0] + out[7];
}

__attribute__((target("avx512f")))
float eg_fma_probe_avx512(long steps) {
    __m512 acc[16];
    for (int i = 0; i < 16; i++) acc[i] = _mm512_set1_ps((float)i * 1e-3f);
    const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    for (long s = 0; s < steps; s++)
        for (int i = 0; i < 16; i++) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
    __m512 total = acc[0];
    for (int i = 1; i < 16; i++) total = _mm512_add_ps(total, acc[i]);
    return _mm512_reduce_add_ps(total);
}

#else

float eg_fma_probe_avx2(long steps) { (void)steps; return 0; }
float eg_fma_probe_avx512(long steps) { (void)steps; return 0; }

#endif
