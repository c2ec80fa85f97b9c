#ifndef CEMBEDDINGGEMMA_KERNELS_H
#define CEMBEDDINGGEMMA_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/// CPU-feature-dispatched kernels that Swift cannot express: Swift code on x86-64 is compiled
/// for baseline SSE2, and only C can compile one function for AVX2+FMA and pick it at run time.

/// 1 when this CPU runs the AVX2+FMA kernels (x86-64 with AVX2, FMA, F16C and OS support for YMM state).
int eg_avx2_fma_available(void);

/// Float32 product with a transposed right-hand side ("NT"), the shape of a linear layer:
/// y[i * ldy + j] = sum over p < k of x[i * ldx + p] * w[j * ldw + p], for i < m, j < n.
/// Weight rows are taken in panels of about 48 KB and input rows in chunks of about 128 KB, so
/// both stay in cache; 4 input rows x 3 weight rows per block. Unlike OpenBLAS 0.3.21, it keeps
/// its speed when n is small (OpenBLAS drops to a third below about 320 output columns).
/// Requires eg_avx2_fma_available() and k % 8 == 0.
void eg_gemm_nt_avx2(const float *x, long ldx, int m, const float *w, long ldw, int n, int k, float *y, long ldy);

/// 1 when this CPU runs the AVX-512F kernels (eg_avx2_fma_available(), AVX512F, and OS support
/// for the opmask and ZMM state).
int eg_avx512_available(void);

/// eg_gemm_nt_avx2 with AVX-512F register blocks of 4 input rows x 6 weight rows (same cache
/// blocking). Requires eg_avx512_available() and k % 16 == 0.
void eg_gemm_nt_avx512(const float *x, long ldx, int m, const float *w, long ldw, int n, int k, float *y, long ldy);

/// eg_gemm_nt_avx512 for many input rows: weight rows packed 64 at a time, 128 of depth at a time, into a
/// k-major, 64-byte aligned 32 KB panel on the stack (16 x 16 transposes, shared by all m rows), then
/// register tiles of 6 input rows x 64 weight rows of outer products (no horizontal sums, no loads across
/// cache lines). Each output is summed over p in order with FMAs. Requires eg_avx512_available(); returns 0
/// (and writes nothing) unless k is a positive multiple of 16.
int eg_gemm_packed_avx512(const float *x, long ldx, int m, const float *w, long ldw, int n, int k, float *y, long ldy);

/// eg_gemm_packed_avx512 with AVX2+FMA: weight rows packed 16 at a time, 256 of depth at a time, into a
/// 16 KB panel (8 x 8 transposes), register tiles of 6 input rows x 16 weight rows. Each output is summed
/// over p in order with FMAs. Requires eg_avx2_fma_available(); returns 0 (and writes nothing) unless k is
/// a positive multiple of 8.
int eg_gemm_packed_avx2(const float *x, long ldx, int m, const float *w, long ldw, int n, int k, float *y, long ldy);

/// eg_gemm_quantized_avx2 with the AVX-512F blocks of eg_gemm_nt_avx512 (the decoding stays AVX2).
/// Requires eg_avx512_available(), k % 32 == 0 and k <= EG_QUANTIZED_MAX_K.
void eg_gemm_quantized_avx512(const float *x, int m, const void *w, int weight_type, int n, int k, float *y, long ldy);

/// Largest row width (k) of eg_gemm_quantized_avx2.
#define EG_QUANTIZED_MAX_K 4096

/// Decodes `rows` rows of `k` values (k % 32 == 0) in GGUF's Q8_0 (`weight_type` 8) or Q4_0
/// (`weight_type` 2) layout to float32 `out` ([rows x k]). Requires eg_avx2_fma_available().
void eg_decode_rows_avx2(const void *w, int weight_type, int rows, int k, float *out);

/// Decodes `rows` rows of `k` values of GGUF type `weight_type` — Q4_1 (3), Q5_0 (6), Q5_1 (7),
/// Q4_K (12), Q5_K (13) or Q6_K (14) — to float32 `out` ([rows x k]), bit for bit as ggml does.
/// Returns 0 (and writes nothing) for any other type. Any CPU; an AVX2 build where available.
int eg_decode_kquant_rows(const void *rows, int weight_type, int rows_count, int k, float *out);

/// Linear layer on weights of the block types eg_decode_kquant_rows decodes (Q4_1, Q5_0, Q5_1,
/// Q4_K, Q5_K, Q6_K), as eg_gemm_quantized_avx2 does for Q8_0/Q4_0: each panel of weight rows
/// (`row_bytes` apart) is decoded into a stack buffer and multiplied with every input row, so no
/// decoded copy of the matrix is written. The _avx512 variant multiplies with the AVX-512 blocks.
/// Returns 0 (and leaves y unspecified) for a type it does not decode. Requires
/// eg_avx2_fma_available() (eg_avx512_available() for _avx512), k a multiple of the type's block
/// and k <= EG_QUANTIZED_MAX_K.
int eg_gemm_decoded_avx2(const float *x, int m, const void *w, int weight_type, long row_bytes, int n, int k, float *y, long ldy);
int eg_gemm_decoded_avx512(const float *x, int m, const void *w, int weight_type, long row_bytes, int n, int k, float *y, long ldy);

/// Linear layer on Q8_0/Q4_0 weights with float32 activations, any number of rows:
/// y[i * ldy + j] = sum over p of x[i * k + p] * decode(w)[j][p], for i < m, j < n. Each panel of
/// weight rows (about 48 KB decoded) is decoded once into a stack buffer and multiplied with every
/// input row by eg_gemm_nt_avx2's blocks: the weights are read once, at 1.06 (Q8_0) or 0.56 (Q4_0)
/// bytes per value, and no decoded copy of the matrix is kept.
/// Requires eg_avx2_fma_available(), k % 32 == 0 and k <= EG_QUANTIZED_MAX_K.
void eg_gemm_quantized_avx2(const float *x, int m, const void *w, int weight_type, int n, int k, float *y, long ldy);

/// Block size (values) of the GGUF types eg_gemm_streamed_avx512 multiplies — Q8_0 (8), Q4_0 (2),
/// Q5_0 (6): 32; Q4_K (12), Q6_K (14): 256 — and 0 for any other type.
int eg_streamed_block_size(int weight_type);

/// Linear layer for a few input rows on block-quantized weights:
/// y[i * ldy + j] = sum over p < k of x[i * ldx + p] * decode(w)[j][p], for i < m, j < n, where
/// row j of `w` starts `row_bytes` after row j - 1. Each weight row is streamed once (prefetched
/// ahead) and its blocks decoded in registers to ggml's floats and multiplied with up to 4 input
/// rows at a time: the memory-bound shape of generating a token. Returns 0 (and writes nothing)
/// for a type eg_streamed_block_size does not list or a k that is not a multiple of its block.
/// Requires eg_avx512_available(); eg_gemm_streamed_avx2, the same with 8-lane AVX2 vectors,
/// requires eg_avx2_fma_available().
int eg_gemm_streamed_avx2(const float *x, long ldx, int m, const void *w, int weight_type, long row_bytes, int n, int k, float *y,
                          long ldy);
int eg_gemm_streamed_avx512(const float *x, long ldx, int m, const void *w, int weight_type, long row_bytes, int n, int k, float *y,
                            long ldy);

/// Bytes of one row of `k` activations quantized for the int8 products (a multiple of 64): k int8
/// codes, then k / 32 float scales, then k / 32 int32 corrections.
long eg_int8_row_bytes(int k);

/// Quantizes `m` rows of `k` floats (row i at x + i * ldx, k % 32 == 0) for the int8 products
/// against weights of GGUF type `weight_type` (Q8_0: 8, Q4_0: 2): per block of 32, the scale
/// d = max|x| / 127, the codes q = x / d rounded to nearest even, and the block's correction
/// -offset * (sum of q), where offset is what the kernel adds to the weights' codes to make them
/// unsigned (128 for Q8_0, 8 for Q4_0). `out` holds m * eg_int8_row_bytes(k) bytes, 4-byte aligned.
/// eg_quantize_int8_reference is the portable loop; eg_quantize_int8_avx512vnni writes the same bytes
/// with 16-lane vectors and requires eg_avx512vnni_available().
void eg_quantize_int8_reference(const float *x, long ldx, int m, int k, int weight_type, void *out);
void eg_quantize_int8_avx512vnni(const float *x, long ldx, int m, int k, int weight_type, void *out);

/// Int8 linear layer on Q8_0 (`weight_type` 8) or Q4_0 (2) weights, as llama.cpp multiplies them:
/// y[i * ldy + j] = sum over blocks b, in order, of float(exact integer dot product of block b of
/// activation row i and of weight row j) * (d_w * d_x), accumulated with fmaf, for i < m activation
/// rows quantized by eg_quantize_int8_* and j < n weight rows `row_bytes` apart. The portable
/// eg_gemm_int8_reference computes exactly that; eg_gemm_int8_avx512vnni returns the same floats:
/// it packs 16 weight rows at a time into a panel of unsigned codes (column-interleaved, 4 bytes a
/// column) and takes 8 vpdpbusd a block for up to 8 activation rows at once. Both return 0 (and
/// write nothing) unless the type is Q8_0/Q4_0 and k is a positive multiple of 32 up to
/// EG_QUANTIZED_MAX_K. The _avx512vnni variant requires eg_avx512vnni_available().
int eg_gemm_int8_reference(const void *xq, int m, const void *w, int weight_type, long row_bytes, int n, int k, float *y, long ldy);
int eg_gemm_int8_avx512vnni(const void *xq, int m, const void *w, int weight_type, long row_bytes, int n, int k, float *y, long ldy);

/// The int8 quantizer and product with 256-bit AVX-VNNI vectors (8-column panels, tiles of 4 rows) for
/// CPUs without AVX-512 VNNI; the same bytes and floats as the reference. Require eg_avxvnni_available().
void eg_quantize_int8_avxvnni(const float *x, long ldx, int m, int k, int weight_type, void *out);
int eg_gemm_int8_avxvnni(const void *xq, int m, const void *w, int weight_type, long row_bytes, int n, int k, float *y, long ldy);

/// 1 when this CPU has the AMX int8 tiles (AMX-TILE and AMX-INT8, tile state enabled by the OS in
/// XCR0) and eg_avx512vnni_available(): Intel Sapphire Rapids and later Xeons. No tile instruction may
/// run before eg_amx_request_permission() has returned 1.
int eg_amx_int8_available(void);

/// Asks the OS for the tile data state (Linux: arch_prctl(ARCH_REQ_XCOMP_PERM, XTILEDATA)); 1 when the
/// process may use the tiles, 0 when refused (always on other OSes and on CPUs without AMX).
int eg_amx_request_permission(void);

/// eg_gemm_int8_avx512vnni with AMX tiles: for 16 activation rows and 16 weight columns (the VNNI
/// kernel's panels) one TDPBSUD a block of 32 into exact int32 sums, then the same float steps, so
/// the same floats as eg_gemm_int8_reference; fewer than 16 rows go to eg_gemm_int8_avx512vnni. Loads
/// its tile configuration on the calling thread and releases the tiles before it returns. Requires
/// eg_amx_int8_available() and eg_amx_request_permission() == 1.
int eg_gemm_int8_amx(const void *xq, int m, const void *w, int weight_type, long row_bytes, int n, int k, float *y, long ldy);

/// eg_gemm_int8_amx's code with the tile instructions carried out by a software model of them (the
/// Intel SDM's pseudocode), for tests on CPUs without AMX; also returns 0 when the model saw an
/// instruction that would fault. Requires eg_avx512vnni_available().
int eg_gemm_int8_amx_model(const void *xq, int m, const void *w, int weight_type, long row_bytes, int n, int k, float *y, long ldy);

/// One TDPBSUD, for tests of the tile model: c ([rows][columns] int32, row-major) += a ([rows][depth]
/// signed bytes) times b ([depth / 4][columns * 4] unsigned bytes: row p holds bytes 4p ..< 4p + 4 of
/// each column), where c[i][j] gains a[i][4p + t] * b[p][4j + t] over p and t < 4. Returns 0 unless
/// 1 <= rows <= 16, 4 <= depth <= 64 with depth % 4 == 0, 1 <= columns <= 16 (the model reports a
/// faulting shape; eg_amx_dpbsud checks before). eg_amx_dpbsud runs the instruction and requires
/// eg_amx_int8_available() and the permission; eg_amx_dpbsud_model runs the model.
int eg_amx_dpbsud(const int8_t *a, int rows, int depth, const uint8_t *b, int columns, int32_t *c);
int eg_amx_dpbsud_model(const int8_t *a, int rows, int depth, const uint8_t *b, int columns, int32_t *c);

/// 1 when this CPU runs the AVX-VNNI kernels (eg_avx2_fma_available() and AVX-VNNI), else 0.
int eg_avxvnni_available(void);

/// 1 when this CPU runs the AVX-512 VNNI kernels (eg_avx512_available(), AVX512_VNNI, AVX512BW and
/// AVX512VL: the 512-bit byte dot product vpdpbusd), else 0.
int eg_avx512vnni_available(void);

/// Peak-throughput probes: `steps` rounds of 12 independent float32 multiply-adds on 8 lanes (AVX2+FMA,
/// 192 floating-point operations a step) or 16 on 16 lanes (AVX-512F, 512 a step). Require
/// eg_avx2_fma_available() / eg_avx512_available(); the return value only keeps the work alive.
float eg_fma_probe_avx2(long steps);
float eg_fma_probe_avx512(long steps);

/// The element-wise and row-wise steps of a Gemma layer, 8 (AVX2+FMA, _avx2) or 16 (AVX-512F, _avx512)
/// lanes at a time; the formulas of Swift's portable Kernels, with fused multiply-adds, e^x to about
/// 2 ulp. Defined on x86-64 only; require eg_avx2_fma_available() / eg_avx512_available().
/// gate[i] = gelu_tanh(gate[i]) * up[i] for i < count.
void eg_gelu_multiply_avx2(float *gate, const float *up, long count);
void eg_gelu_multiply_avx512(float *gate, const float *up, long count);
/// Backward of gelu_tanh(gate)·up: dgate[i] = dm[i]·up[i]·gelu'(gate[i]), dup[i] = dm[i]·gelu(gate[i]) (dgate may alias dm).
void eg_gelu_multiply_backward_avx2(const float *gate, const float *up, const float *dm, float *dgate, float *dup, long count);
void eg_gelu_multiply_backward_avx512(const float *gate, const float *up, const float *dm, float *dgate, float *dup, long count);
/// Softmax of row[lower..<upper] in place; the rest of row[0..<count] is set to zero.
void eg_softmax_avx2(float *row, long count, long lower, long upper);
void eg_softmax_avx512(float *row, long count, long lower, long upper);
/// Each of `rows` rows of `width` values: t = x * rsqrt(mean(x^2) + eps) * scale, written to y (which
/// may alias x) or added to it when `accumulate` is non-zero.
void eg_rms_norm_avx2(const float *x, float *y, long rows, long width, const float *scale, float eps, int accumulate);
void eg_rms_norm_avx512(const float *x, float *y, long rows, long width, const float *scale, float eps, int accumulate);
/// Rotary position embedding in place on `heads` heads of `head_dim` values per row (pairs i and
/// i + head_dim/2); row r at positions[r], whose head_dim/2 cosines and sines start at
/// cos_table/sin_table + positions[r] * head_dim/2.
void eg_rope_avx2(float *x, long rows, int heads, int head_dim, long row_stride, const int32_t *positions,
                  const float *cos_table, const float *sin_table);
void eg_rope_avx512(float *x, long rows, int heads, int head_dim, long row_stride, const int32_t *positions,
                    const float *cos_table, const float *sin_table);

/// A task of eg_pool_run: called once for each index in 0 ..< count.
typedef void (*eg_pool_task)(void *context, int index);

/// Starts the engine's worker threads so that eg_pool_run uses `threads` threads (the caller's
/// and threads - 1 workers; workers already started stay). Returns the number of threads it has.
int eg_pool_start(int threads);

/// Runs task(context, i) for i in 0 ..< count on the calling thread and the pool's workers and
/// returns when every call has returned. Workers spin for a short while after a job (so the many
/// short products of generating a token find them awake), then sleep. When the pool is already
/// running a job (another thread's, or a task calling eg_pool_run), the tasks run on the calling
/// thread one after another, so nested and concurrent calls never wait on each other.
void eg_pool_run(int count, eg_pool_task task, void *context);

/// 1 when this CPU runs eg_gemm_bf16: eg_avx512_available() with AVX512BW, AVX512VL and AVX512_BF16
/// (AMD Zen 4 and later, Intel Cooper Lake and Sapphire Rapids and later).
int eg_avx512bf16_available(void);

/// Product in bfloat16 with float32 accumulation on weights stored as bf16 (`w`, rows `ldw` values
/// apart): y[i * ldy + j] = sum over p < k of bf16(x[i * ldx + p]) * w[j * ldw + p], for i < m, j < n,
/// where bf16() rounds to nearest even; pairs are multiplied and summed by vdpbf16ps, twice the
/// multiply-adds of a float32 FMA. Requires eg_avx512bf16_available() and k % 32 == 0. Returns 0 if
/// the buffer for the rounded input rows (m * k * 2 bytes) cannot be allocated, else 1.
int eg_gemm_bf16(const float *x, long ldx, int m, const unsigned short *w, long ldw, int n, int k, float *y, long ldy);

/// Rounds `m` rows of `k` floats (row i at x + i * ldx, k % 32 == 0) to bf16, nearest even, into
/// `out` ([m x k]): the input rounding of eg_gemm_bf16, for tests. Requires eg_avx512bf16_available().
void eg_round_to_bf16(const float *x, long ldx, int m, int k, unsigned short *out);

/// Returns freed heap memory to the operating system (glibc's malloc_trim; nothing elsewhere).
/// Glibc's malloc_trim is not visible to Swift's Glibc module.
void eg_release_free_memory(void);

/// Zero-filled memory straight from the operating system (anonymous pages), for the large buffers of
/// one encoder pass: freed with eg_pages_free, it goes back at once instead of staying in a malloc
/// arena, and pages never written are never resident. NULL when the system refuses.
void *eg_pages_allocate(size_t bytes);

/// Returns memory from eg_pages_allocate (`bytes` as allocated) to the operating system.
void eg_pages_free(void *pages, size_t bytes);

/// The search index's first stage: scores `rows` 1-bit codes (`words` 64-bit words each, bit i set
/// when dimension i is ≥ 0) against a query given as `bits` bit planes of its values quantized to
/// 0 … 2^bits − 1 (`planes[b * words + w]`). `scores[r]` ranks rows as Σ qᵢ·sign(dᵢ) does (a
/// larger score, a closer row); popcount instructions where the processor has them.
void eg_sign_scores(const uint64_t *signs, long rows, int words, const uint64_t *planes, int bits, int32_t *scores);

/// The coarse first pass over a large index: `scores[r]` = how many of row r's sign bits equal the
/// query's (`query`: its sign words), one popcount per 64 dimensions.
void eg_sign_agreement(const uint64_t *signs, long rows, int words, const uint64_t *query, uint16_t *scores);

#endif
