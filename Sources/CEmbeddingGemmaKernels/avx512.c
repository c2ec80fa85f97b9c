#include "CEmbeddingGemmaKernels.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#include <immintrin.h>
#include "avx512_blocks.h"
#include "cpu_state.h"

int eg_avx512_available(void) {
    if (!eg_avx2_fma_available()) return 0;
    unsigned int a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    if (!((b >> 16) & 1)) return 0; /* AVX512F */
    return (eg_xcr0() & 0xE6) == 0xE6; /* XMM, YMM, opmask and both ZMM halves enabled by the OS */
}

/* 4 input rows x 6 weight rows: 24 accumulators + 6 weight vectors + 1 input vector = 31 of the
   32 ZMM registers; 10 loads per 24 FMAs of 16 lanes. The next 6 weight rows (the driver's next
   block; rows are consecutive in memory) are prefetched as these are read: a query's product is
   bound by reading the weights from memory, and the prefetch keeps the memory busy while the
   block's other input rows are multiplied (W2 17-18 instead of 21-24 ms on a Zen 5). A prefetch
   past the end of the matrix does not fault. */
__attribute__((target("avx512f")))
static void block4x6(const float *x, long ldx, const float *w, long ldw, int k, float *y, long ldy) {
    __m512 acc[4][6];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 6; j++) acc[i][j] = _mm512_setzero_ps();
    for (int p = 0; p < k; p += 16) {
        __m512 wv[6];
        for (int j = 0; j < 6; j++) wv[j] = _mm512_loadu_ps(w + j * ldw + p);
        for (int j = 6; j < 12; j++) _mm_prefetch((const char *)(w + j * ldw + p), _MM_HINT_T0);
        for (int i = 0; i < 4; i++) {
            const __m512 xi = _mm512_loadu_ps(x + i * ldx + p);
            for (int j = 0; j < 6; j++) acc[i][j] = _mm512_fmadd_ps(xi, wv[j], acc[i][j]);
        }
    }
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 6; j++) y[i * ldy + j] = _mm512_reduce_add_ps(acc[i][j]);
}

/* 1 input row x 6 weight rows. */
__attribute__((target("avx512f")))
static void block1x6(const float *x, const float *w, long ldw, int k, float *y) {
    __m512 acc[6];
    for (int j = 0; j < 6; j++) acc[j] = _mm512_setzero_ps();
    for (int p = 0; p < k; p += 16) {
        const __m512 xi = _mm512_loadu_ps(x + p);
        for (int j = 0; j < 6; j++) acc[j] = _mm512_fmadd_ps(xi, _mm512_loadu_ps(w + j * ldw + p), acc[j]);
    }
    for (int j = 0; j < 6; j++) y[j] = _mm512_reduce_add_ps(acc[j]);
}

/* 4 input rows x 1 weight row. */
__attribute__((target("avx512f")))
static void block4x1(const float *x, long ldx, const float *w, int k, float *y, long ldy) {
    __m512 acc[4];
    for (int i = 0; i < 4; i++) acc[i] = _mm512_setzero_ps();
    for (int p = 0; p < k; p += 16) {
        const __m512 wp = _mm512_loadu_ps(w + p);
        for (int i = 0; i < 4; i++) acc[i] = _mm512_fmadd_ps(_mm512_loadu_ps(x + i * ldx + p), wp, acc[i]);
    }
    for (int i = 0; i < 4; i++) y[i * ldy] = _mm512_reduce_add_ps(acc[i]);
}

/* 1 input row x 1 weight row. */
__attribute__((target("avx512f")))
static float dot1(const float *x, const float *w, int k) {
    __m512 a = _mm512_setzero_ps();
    for (int p = 0; p < k; p += 16) a = _mm512_fmadd_ps(_mm512_loadu_ps(x + p), _mm512_loadu_ps(w + p), a);
    return _mm512_reduce_add_ps(a);
}

const eg_block_set eg_avx512_blocks = {6, 16, block4x6, block1x6, block4x1, dot1};

#else

int eg_avx512_available(void) { return 0; }

#endif
