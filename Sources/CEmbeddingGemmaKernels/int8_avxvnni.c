#include "CEmbeddingGemmaKernels.h"

#include <stdint.h>
#include <string.h>

#include "int8_layout.h"

/* The int8 product with AVX-VNNI (VEX-encoded, 256-bit vpdpbusd: Intel Alder Lake and later
   client cores, AMD Zen 5), for CPUs without AVX-512 VNNI: 8-column panels and tiles of up to 4
   activation rows (16 vector registers). Same integer sums and the same float operations, in the
   same order, as eg_gemm_int8_reference. */

#if defined(__x86_64__) || defined(_M_X64)

#define EG_AVXVNNI __attribute__((target("avx2,fma,f16c,avxvnni")))

/* A panel block: 8 vectors of codes (vector g: values 4g ..< 4g + 4 of the 8 columns, 4 bytes a
   column), then the 8 columns' float scales. */
#define COLUMNS 8
#define BLOCK_BYTES (256 + 32)

/* Sum of the 8 int32 lanes. */
EG_AVXVNNI static inline int32_t sum_lanes(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}

/* eg_quantize_int8_reference with 8-lane vectors: the same operations, so the same bytes. */
EG_AVXVNNI static void quantize_avxvnni(const float *x, long ldx, int m, int k, int weight_type, void *out) {
    const int nb = k / 32, offset = eg_int8_code_offset(weight_type);
    const long row_bytes = eg_int8_row_bytes(k);
    const __m256 magnitude = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (int i = 0; i < m; i++) {
        int8_t *q = (int8_t *)out + i * row_bytes;
        float *d = (float *)(q + k);
        int32_t *correction = (int32_t *)(d + nb);
        for (int b = 0; b < nb; b++) {
            const float *v = x + i * ldx + b * 32;
            __m256 f[4];
            __m256 amax = _mm256_setzero_ps();
            for (int t = 0; t < 4; t++) {
                f[t] = _mm256_loadu_ps(v + 8 * t);
                amax = _mm256_max_ps(amax, _mm256_and_ps(f[t], magnitude));
            }
            __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
            m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
            m4 = _mm_max_ss(m4, _mm_shuffle_ps(m4, m4, 0x55));
            const float scale = _mm_cvtss_f32(m4) / 127.0f;
            const __m256 inverse = _mm256_set1_ps(scale != 0 ? 1.0f / scale : 0.0f);
            __m256i c[4], total = _mm256_setzero_si256();
            for (int t = 0; t < 4; t++) {
                c[t] = _mm256_cvtps_epi32(_mm256_mul_ps(f[t], inverse));
                total = _mm256_add_epi32(total, c[t]);
            }
            /* int32 -> int16 -> int8 packs interleave the 128-bit halves; `order` undoes that. */
            const __m256i bytes = _mm256_packs_epi16(_mm256_packs_epi32(c[0], c[1]), _mm256_packs_epi32(c[2], c[3]));
            _mm256_storeu_si256((__m256i *)(q + b * 32), _mm256_permutevar8x32_epi32(bytes, order));
            d[b] = scale;
            correction[b] = -offset * sum_lanes(total);
        }
    }
}

/* Dword g of each of the 8 vectors into vector g (an 8 x 8 transpose of 4-byte groups). */
EG_AVXVNNI static inline void transpose_8x8(__m256i v[8]) {
    __m256i t[8], u[8];
    for (int r = 0; r < 8; r += 2) {
        t[r] = _mm256_unpacklo_epi32(v[r], v[r + 1]);
        t[r + 1] = _mm256_unpackhi_epi32(v[r], v[r + 1]);
    }
    for (int h = 0; h < 8; h += 4) {
        u[h] = _mm256_unpacklo_epi64(t[h], t[h + 2]);
        u[h + 1] = _mm256_unpackhi_epi64(t[h], t[h + 2]);
        u[h + 2] = _mm256_unpacklo_epi64(t[h + 1], t[h + 3]);
        u[h + 3] = _mm256_unpackhi_epi64(t[h + 1], t[h + 3]);
    }
    for (int g = 0; g < 4; g++) {
        v[g] = _mm256_permute2x128_si256(u[g], u[g + 4], 0x20);
        v[g + 4] = _mm256_permute2x128_si256(u[g], u[g + 4], 0x31);
    }
}

/* Packs `columns` (<= 8) weight rows, `row_bytes` apart, into a panel of nb blocks (missing
   columns: zero codes and scales); rows are decoded one after another into `codes` first, as the
   AVX-512 packer does. */
EG_AVXVNNI static void pack_panel(const uint8_t *w, int weight_type, long row_bytes, int columns, int nb, uint8_t *codes, uint8_t *panel) {
    const int k = nb * 32;
    uint16_t halves[COLUMNS][EG_QUANTIZED_MAX_K / 32];
    eg_int8_decode_rows(w, weight_type, row_bytes, columns, COLUMNS, nb, codes, &halves[0][0]);
    for (int b = 0; b < nb; b++) {
        uint8_t *out = panel + (long)b * BLOCK_BYTES;
        __m256i v[8];
        for (int r = 0; r < 8; r++) v[r] = _mm256_loadu_si256((const __m256i *)(codes + (long)r * k + b * 32));
        transpose_8x8(v);
        for (int g = 0; g < 8; g++) _mm256_store_si256((__m256i *)(out + g * 32), v[g]);
        uint16_t scale_bits[COLUMNS];
        for (int r = 0; r < COLUMNS; r++) scale_bits[r] = halves[r][b];
        _mm256_store_ps((float *)(out + 256), _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)scale_bits)));
    }
}

/* A partial panel's row goes through a buffer, so that only its `columns` are written. */
EG_AVXVNNI static inline void store_row(float *y, __m256 v, int columns) {
    if (columns == COLUMNS) {
        _mm256_storeu_ps(y, v);
        return;
    }
    float lanes[COLUMNS];
    _mm256_storeu_ps(lanes, v);
    memcpy(y, lanes, (size_t)columns * sizeof(float));
}

/* The tiles of 4, 2 and 1 rows (16 vector registers) against an 8-column panel, and the driver gemm_avxvnni. */
#define EG_I8_TARGET EG_AVXVNNI
#define EG_I8_NAME gemm_avxvnni
#define EG_I8_COLUMNS COLUMNS
#define EG_I8_BLOCK_BYTES BLOCK_BYTES
#define EG_I8_PACK pack_panel
#define EG_I8_MAX_ROWS 4
#define EG_I8_VI __m256i
#define EG_I8_VF __m256
#define EG_I8_SET1_EPI32 _mm256_set1_epi32
#define EG_I8_LOAD_CODES(p) _mm256_load_si256((const __m256i *)(p))
#define EG_I8_DPBUSD _mm256_dpbusd_avx_epi32
#define EG_I8_LOAD_PS _mm256_load_ps
#define EG_I8_SETZERO_PS _mm256_setzero_ps
#define EG_I8_FMADD_PS _mm256_fmadd_ps
#define EG_I8_CVTEPI32_PS _mm256_cvtepi32_ps
#define EG_I8_MUL_PS _mm256_mul_ps
#define EG_I8_SET1_PS _mm256_set1_ps
#define EG_I8_STORE_ROW store_row
#include "int8_tiles_body.h"

void eg_quantize_int8_avxvnni(const float *x, long ldx, int m, int k, int weight_type, void *out) {
    quantize_avxvnni(x, ldx, m, k, weight_type, out);
}

int eg_gemm_int8_avxvnni(const void *xq, int m, const void *w, int weight_type, long row_bytes, int n, int k, float *y, long ldy) {
    if (!eg_int8_supported(weight_type, k)) return 0;
    gemm_avxvnni(xq, m, w, weight_type, row_bytes, n, k, y, ldy);
    return 1;
}

#else

void eg_quantize_int8_avxvnni(const float *x, long ldx, int m, int k, int weight_type, void *out) {
    (void)x; (void)ldx; (void)m; (void)k; (void)weight_type; (void)out;
}

int eg_gemm_int8_avxvnni(const void *xq, int m, const void *w, int weight_type, long row_bytes, int n, int k, float *y, long ldy) {
    (void)xq; (void)m; (void)w; (void)weight_type; (void)row_bytes; (void)n; (void)k; (void)y; (void)ldy;
    return 0;
}

#endif
