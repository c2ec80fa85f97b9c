#ifndef CEMBEDDINGGEMMA_AVX512_BLOCKS_H
#define CEMBEDDINGGEMMA_AVX512_BLOCKS_H

#include "gemm_driver.h"

/* The AVX-512F register blocks (4 x 6, k a multiple of 16), defined in avx512.c. */
extern const eg_block_set eg_avx512_blocks;

#endif
