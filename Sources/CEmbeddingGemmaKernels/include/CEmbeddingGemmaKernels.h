#ifndef CEMBEDDINGGEMMA_KERNELS_H
#define CEMBEDDINGGEMMA_KERNELS_H

/// CPU-feature-dispatched kernels that Swift cannot express: Swift code on x86-64 is compiled
/// for baseline SSE2, and only C can compile one function for AVX2+FMA and pick it at run time.

/// 1 when this CPU runs the AVX2+FMA kernels (x86-64 with AVX2, FMA and OS support for YMM state).
int eg_avx2_fma_available(void);

/// Small-batch linear layer: y[i * ldy + j] = sum over p < k of x[i * k + p] * w[j * k + p],
/// for i < m, j < n. `w` is a row-major [n x k] weight matrix, read once.
/// Meant for a few rows (a short query): each block of 3 weight rows is multiplied with every
/// input row while it sits in L1. Requires eg_avx2_fma_available() and k % 8 == 0.
void eg_small_gemm_avx2(const float *x, int m, const float *w, int n, int k, float *y, int ldy);

#endif
