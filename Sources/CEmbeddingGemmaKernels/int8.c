#include "CEmbeddingGemmaKernels.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "half_float.h"
#include "int8_layout.h"

/* The portable reference (eg_quantize_int8_reference, eg_gemm_int8_reference) and the AVX-512 VNNI
   kernel with 16-column panels (packed by int8_panel16.c); the AVX-VNNI kernel is in int8_avxvnni.c,
   the AMX kernel in amx.c. */

long eg_int8_row_bytes(int k) { return ((long)k + (long)(k / 32) * 8 + 63) / 64 * 64; }

/* The block of 32 activations at v: scale d = max|v| / 127, codes q = v / d rounded to nearest
   even (lrintf in the default rounding mode, as the vector conversion does). */
static void quantize_block(const float *v, int offset, int8_t *q, float *d, int32_t *correction) {
    float amax = 0;
    for (int t = 0; t < 32; t++) amax = fmaxf(amax, fabsf(v[t]));
    const float scale = amax / 127.0f;
    const float inverse = scale != 0 ? 1.0f / scale : 0.0f;
    int sum = 0;
    for (int t = 0; t < 32; t++) {
        q[t] = (int8_t)lrintf(v[t] * inverse);
        sum += q[t];
    }
    *d = scale;
    *correction = -offset * sum;
}

/* The unsigned code of value t (0 ..< 32) of a Q8_0 or Q4_0 block. */
static int weight_code(const uint8_t *block, int weight_type, int t) {
    if (weight_type == 8) return (int8_t)block[2 + t] + 128;
    return t < 16 ? block[2 + t] & 0x0F : block[2 + t - 16] >> 4;
}

void eg_quantize_int8_reference(const float *x, long ldx, int m, int k, int weight_type, void *out) {
    const int nb = k / 32, offset = eg_int8_code_offset(weight_type);
    const long row_bytes = eg_int8_row_bytes(k);
    for (int i = 0; i < m; i++) {
        int8_t *q = (int8_t *)out + i * row_bytes;
        float *d = (float *)(q + k);
        int32_t *correction = (int32_t *)(d + nb);
        for (int b = 0; b < nb; b++) quantize_block(x + i * ldx + b * 32, offset, q + b * 32, d + b, correction + b);
    }
}

int eg_gemm_int8_reference(const void *xq, int m, const void *w, int weight_type, long row_bytes, int n, int k, float *y, long ldy) {
    if (!eg_int8_supported(weight_type, k)) return 0;
    const int nb = k / 32, block_bytes = weight_type == 8 ? 34 : 18;
    const long x_bytes = eg_int8_row_bytes(k);
    for (int i = 0; i < m; i++) {
        const int8_t *q = (const int8_t *)xq + i * x_bytes;
        const float *d = (const float *)(q + k);
        const int32_t *correction = (const int32_t *)(d + nb);
        for (int j = 0; j < n; j++) {
            const uint8_t *row = (const uint8_t *)w + j * row_bytes;
            float acc = 0;
            for (int b = 0; b < nb; b++) {
                const uint8_t *block = row + b * block_bytes;
                int32_t sum = correction[b];
                for (int t = 0; t < 32; t++) sum += weight_code(block, weight_type, t) * q[b * 32 + t];
                acc = fmaf((float)sum, eg_half_to_float(block) * d[b], acc);
            }
            y[i * ldy + j] = acc;
        }
    }
    return 1;
}

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#include <immintrin.h>

int eg_avx512vnni_available(void) {
    if (!eg_avx512_available()) return 0;
    unsigned int a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return ((c >> 11) & 1) && ((b >> 31) & 1) && ((b >> 30) & 1); /* AVX512_VNNI, VL, BW */
}

int eg_avxvnni_available(void) {
    if (!eg_avx2_fma_available()) return 0;
    unsigned int a, b, c, d;
    if (!__get_cpuid_count(7, 1, &a, &b, &c, &d)) return 0;
    return (a >> 4) & 1; /* AVX-VNNI */
}

#define EG_VNNI512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,f16c")))

/* eg_quantize_int8_reference with 16-lane vectors: the same operations in the same order, so the same bytes. */
EG_VNNI512 static void quantize_avx512(const float *x, long ldx, int m, int k, int weight_type, void *out) {
    const int nb = k / 32, offset = eg_int8_code_offset(weight_type);
    const long row_bytes = eg_int8_row_bytes(k);
    for (int i = 0; i < m; i++) {
        int8_t *q = (int8_t *)out + i * row_bytes;
        float *d = (float *)(q + k);
        int32_t *correction = (int32_t *)(d + nb);
        for (int b = 0; b < nb; b++) {
            const float *v = x + i * ldx + b * 32;
            const __m512 v0 = _mm512_loadu_ps(v), v1 = _mm512_loadu_ps(v + 16);
            const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
            const float scale = amax / 127.0f;
            const __m512 inverse = _mm512_set1_ps(scale != 0 ? 1.0f / scale : 0.0f);
            const __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, inverse)), q1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, inverse));
            _mm_storeu_si128((__m128i *)(q + b * 32), _mm512_cvtsepi32_epi8(q0));
            _mm_storeu_si128((__m128i *)(q + b * 32 + 16), _mm512_cvtsepi32_epi8(q1));
            d[b] = scale;
            correction[b] = -offset * _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
        }
    }
}

/* The tiles of 8, 4, 2 and 1 rows against a 16-column panel, and the driver gemm_avx512vnni. */
#define EG_I8_TARGET EG_VNNI512
#define EG_I8_NAME gemm_avx512vnni
#define EG_I8_COLUMNS EG_INT8_PANEL16_COLUMNS
#define EG_I8_BLOCK_BYTES EG_INT8_PANEL16_BLOCK_BYTES
#define EG_I8_PACK eg_int8_pack_panel16
#define EG_I8_MAX_ROWS 8
#define EG_I8_VI __m512i
#define EG_I8_VF __m512
#define EG_I8_SET1_EPI32 _mm512_set1_epi32
#define EG_I8_LOAD_CODES(p) _mm512_load_si512((const __m512i *)(p))
#define EG_I8_DPBUSD _mm512_dpbusd_epi32
#define EG_I8_LOAD_PS _mm512_load_ps
#define EG_I8_SETZERO_PS _mm512_setzero_ps
#define EG_I8_FMADD_PS _mm512_fmadd_ps
#define EG_I8_CVTEPI32_PS _mm512_cvtepi32_ps
#define EG_I8_MUL_PS _mm512_mul_ps
#define EG_I8_SET1_PS _mm512_set1_ps
#define EG_I8_STORE_ROW(y, v, columns) _mm512_mask_storeu_ps(y, (__mmask16)((1u << (columns)) - 1), v)
#include "int8_tiles_body.h"

void eg_quantize_int8_avx512vnni(const float *x, long ldx, int m, int k, int weight_type, void *out) {
    quantize_avx512(x, ldx, m, k, weight_type, out);
}

int eg_gemm_int8_avx512vnni(const void *xq, int m, const void *w, int weight_type, long row_bytes, int n, int k, float *y, long ldy) {
    if (!eg_int8_supported(weight_type, k)) return 0;
    gemm_avx512vnni(xq, m, w, weight_type, row_bytes, n, k, y, ldy);
    return 1;
}

#else

int eg_avx512vnni_available(void) { return 0; }

int eg_avxvnni_available(void) { return 0; }

void eg_quantize_int8_avx512vnni(const float *x, long ldx, int m, int k, int weight_type, void *out) {
    (void)x; (void)ldx; (void)m; (void)k; (void)weight_type; (void)out;
}

int eg_gemm_int8_avx512vnni(const void *xq, int m, const void *w, int weight_type, long row_bytes, int n, int k, float *y, long ldy) {
    (void)xq; (void)m; (void)w; (void)weight_type; (void)row_bytes; (void)n; (void)k; (void)y; (void)ldy;
    return 0;
}

#endif
