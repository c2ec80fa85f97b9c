#include "CEmbeddingGemmaKernels.h"

#include <stdint.h>
#include <string.h>

/* The AMX int8 product (Intel Sapphire Rapids and later Xeons): the kernel of amx_body.h compiled
   with the tile instructions, and again with the software model of amx_tiles.h for the tests; the
   CPU and OS checks that must pass before any tile instruction runs. */

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#include <immintrin.h>
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "amx_tiles.h"
#include "cpu_state.h"
#include "int8_layout.h"

int eg_amx_int8_available(void) {
    if (!eg_avx512vnni_available()) return 0;
    unsigned int a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    if (!((d >> 24) & 1) || !((d >> 25) & 1)) return 0; /* AMX-TILE, AMX-INT8 */
    return ((eg_xcr0() >> 17) & 3) == 3; /* XTILECFG and XTILEDATA state enabled by the OS */
}

int eg_amx_request_permission(void) {
#if defined(__linux__)
    /* Linux (5.16 and later) gives a process the tile data state only when asked: without this, the
       first tile instruction is killed with SIGILL. The permission is the process's, for every thread. */
    enum { get_permission = 0x1022, request_permission = 0x1023, xtiledata = 18 };
    if (syscall(SYS_arch_prctl, request_permission, xtiledata) != 0) return 0;
    unsigned long granted = 0;
    if (syscall(SYS_arch_prctl, get_permission, &granted) != 0) return 0;
    return (int)((granted >> xtiledata) & 1);
#else
    return 0;
#endif
}

/* Tiles: 0 and 1 the C tiles (16 rows x 16 int32), 2 the A tile (16 rows x 32 bytes), 3 the B
   tile (8 rows x 64 bytes). */
static eg_tile_config amx_kernel_config(void) {
    eg_tile_config config;
    memset(&config, 0, sizeof config);
    config.palette = 1;
    config.rows[0] = 16; config.colsb[0] = 64;
    config.rows[1] = 16; config.colsb[1] = 64;
    config.rows[2] = 16; config.colsb[2] = 32;
    config.rows[3] = 8;  config.colsb[3] = 64;
    return config;
}

/* The kernel with the tile instructions. */
#define EG_AMX_FUNCTION gemm_amx
#define EG_AMX_TARGET __attribute__((target("amx-tile,amx-int8,avx512f,avx512bw,avx512vl,avx512vnni,f16c")))
#define EG_TILE_STATE
#define EG_TILE_LOADCONFIG(config) _tile_loadconfig(config)
#define EG_TILE_ZERO(t) _tile_zero(t)
#define EG_TILE_LOADD(t, base, stride) _tile_loadd(t, base, stride)
#define EG_TILE_DPBSUD(c, a, b) _tile_dpbsud(c, a, b)
#define EG_TILE_STORED(t, base, stride) _tile_stored(t, base, stride)
#define EG_TILE_RELEASE() _tile_release()
#define EG_TILE_FAULT 0
#include "amx_body.h"
#undef EG_AMX_FUNCTION
#undef EG_AMX_TARGET
#undef EG_TILE_STATE
#undef EG_TILE_LOADCONFIG
#undef EG_TILE_ZERO
#undef EG_TILE_LOADD
#undef EG_TILE_DPBSUD
#undef EG_TILE_STORED
#undef EG_TILE_RELEASE
#undef EG_TILE_FAULT

/* The same kernel with the software model of the tiles. */
#define EG_AMX_FUNCTION gemm_amx_model
#define EG_AMX_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,f16c")))
#define EG_TILE_STATE eg_tile_model tile_model = {0};
#define EG_TILE_LOADCONFIG(config) eg_tile_model_loadconfig(&tile_model, config)
#define EG_TILE_ZERO(t) eg_tile_model_zero(&tile_model, t)
#define EG_TILE_LOADD(t, base, stride) eg_tile_model_loadd(&tile_model, t, base, stride)
#define EG_TILE_DPBSUD(c, a, b) eg_tile_model_dpbsud(&tile_model, c, a, b)
#define EG_TILE_STORED(t, base, stride) eg_tile_model_stored(&tile_model, t, base, stride)
#define EG_TILE_RELEASE() ((void)0)
#define EG_TILE_FAULT (tile_model.fault)
#include "amx_body.h"

typedef int (*amx_kernel)(const void *xq, int m, const void *w, int weight_type, long row_bytes, int n, int k, float *y, long ldy);

/* The checks of both entry points; fewer rows than a tile take the AVX-512 VNNI kernel (the same floats). */
static int amx_product(amx_kernel tiles, const void *xq, int m, const void *w, int weight_type, long row_bytes, int n, int k, float *y,
                       long ldy) {
    if (!eg_int8_supported(weight_type, k)) return 0;
    if (m < 16) return eg_gemm_int8_avx512vnni(xq, m, w, weight_type, row_bytes, n, k, y, ldy);
    return tiles(xq, m, w, weight_type, row_bytes, n, k, y, ldy);
}

int eg_gemm_int8_amx(const void *xq, int m, const void *w, int weight_type, long row_bytes, int n, int k, float *y, long ldy) {
    return amx_product(gemm_amx, xq, m, w, weight_type, row_bytes, n, k, y, ldy);
}

int eg_gemm_int8_amx_model(const void *xq, int m, const void *w, int weight_type, long row_bytes, int n, int k, float *y, long ldy) {
    return amx_product(gemm_amx_model, xq, m, w, weight_type, row_bytes, n, k, y, ldy);
}

/* One TDPBSUD of the given shape: tile 0 = c, tile 1 = a, tile 2 = b. */
static eg_tile_config single_product_config(int rows, int depth, int columns) {
    eg_tile_config config;
    memset(&config, 0, sizeof config);
    config.palette = 1;
    config.rows[0] = (uint8_t)rows; config.colsb[0] = (uint16_t)(columns * 4);
    config.rows[1] = (uint8_t)rows; config.colsb[1] = (uint16_t)depth;
    config.rows[2] = (uint8_t)(depth / 4); config.colsb[2] = (uint16_t)(columns * 4);
    return config;
}

static int single_product_shape_valid(int rows, int depth, int columns) {
    return rows >= 1 && rows <= 16 && depth >= 4 && depth <= 64 && depth % 4 == 0 && columns >= 1 && columns <= 16;
}

__attribute__((target("amx-tile,amx-int8")))
int eg_amx_dpbsud(const int8_t *a, int rows, int depth, const uint8_t *b, int columns, int32_t *c) {
    if (!single_product_shape_valid(rows, depth, columns)) return 0;
    const eg_tile_config config = single_product_config(rows, depth, columns);
    _tile_loadconfig(&config);
    _tile_loadd(0, c, columns * 4);
    _tile_loadd(1, a, depth);
    _tile_loadd(2, b, columns * 4);
    _tile_dpbsud(0, 1, 2);
    _tile_stored(0, c, columns * 4);
    _tile_release();
    return 1;
}

int eg_amx_dpbsud_model(const int8_t *a, int rows, int depth, const uint8_t *b, int columns, int32_t *c) {
    /* Unlike eg_amx_dpbsud, shapes the instruction would fault on reach the model, which reports them. */
    if (rows < 0 || rows > 255 || depth < 0 || depth > 1020 || columns < 0 || columns > 255) return 0;
    const eg_tile_config config = single_product_config(rows, depth, columns);
    eg_tile_model model = {0};
    eg_tile_model_loadconfig(&model, &config);
    eg_tile_model_loadd(&model, 0, c, columns * 4);
    eg_tile_model_loadd(&model, 1, a, depth);
    eg_tile_model_loadd(&model, 2, b, columns * 4);
    eg_tile_model_dpbsud(&model, 0, 1, 2);
    if (model.fault) return 0;
    eg_tile_model_stored(&model, 0, c, columns * 4);
    return 1;
}

#else

int eg_amx_int8_available(void) { return 0; }

int eg_amx_request_permission(void) { return 0; }

int eg_gemm_int8_amx(const void *xq, int m, const void *w, int weight_type, long row_bytes, int n, int k, float *y, long ldy) {
    (void)xq; (void)m; (void)w; (void)weight_type; (void)row_bytes; (void)n; (void)k; (void)y; (void)ldy;
    return 0;
}

int eg_gemm_int8_amx_model(const void *xq, int m, const void *w, int weight_type, long row_bytes, int n, int k, float *y, long ldy) {
    (void)xq; (void)m; (void)w; (void)weight_type; (void)row_bytes; (void)n; (void)k; (void)y; (void)ldy;
    return 0;
}

int eg_amx_dpbsud(const int8_t *a, int rows, int depth, const uint8_t *b, int columns, int32_t *c) {
    (void)a; (void)rows; (void)depth; (void)b; (void)columns; (void)c;
    return 0;
}

int eg_amx_dpbsud_model(const int8_t *a, int rows, int depth, const uint8_t *b, int columns, int32_t *c) {
    (void)a; (void)rows; (void)depth; (void)b; (void)columns; (void)c;
    return 0;
}

#endif
