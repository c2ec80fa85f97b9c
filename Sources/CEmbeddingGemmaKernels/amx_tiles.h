#ifndef CEMBEDDINGGEMMA_AMX_TILES_H
#define CEMBEDDINGGEMMA_AMX_TILES_H

/* The AMX tile configuration and a software model of the tile instructions the int8 kernel uses.

   The model follows the operation pseudocode of the Intel SDM (LDTILECFG, TILEZERO, TILELOADD,
   TDPBSUD, TILESTORED): it carries the kernel's exact code (amx_body.h, compiled a second time with
   these functions in place of the instructions) on CPUs without AMX, so that the tests check the
   kernel's tile shapes, strides and data layout against the portable product everywhere, and check
   the model against the instructions where the CPU has AMX. An instruction that would fault
   (#UD or #GP: an invalid configuration, tiles of mismatched shapes, an unconfigured tile) sets
   `fault`, and the kernel reports failure. */

#include <stdint.h>
#include <string.h>

/* The 64-byte operand of LDTILECFG, palette 1: 8 tiles of up to 16 rows x 64 bytes. */
typedef struct {
    uint8_t palette;
    uint8_t start_row;
    uint8_t reserved[14];
    uint16_t colsb[16]; /* bytes per row of tile t */
    uint8_t rows[16];   /* rows of tile t */
} eg_tile_config;

_Static_assert(sizeof(eg_tile_config) == 64, "LDTILECFG reads 64 bytes");

/* The state of the modelled tile registers. */
typedef struct {
    int configured;
    int fault;
    uint8_t rows[8];
    uint16_t colsb[8];
    _Alignas(64) uint8_t data[8][16 * 64];
} eg_tile_model;

/* LDTILECFG: palette 1 only (palette 0 would release the tiles); reserved bytes zero; per tile at
   most 16 rows and 64 bytes, both zero or both non-zero; tiles 8-15 unused. Clears every tile. */
static inline void eg_tile_model_loadconfig(eg_tile_model *model, const eg_tile_config *config) {
    int valid = config->palette == 1 && config->start_row == 0;
    for (int i = 0; i < 14; i++) valid &= config->reserved[i] == 0;
    for (int t = 0; t < 16; t++) {
        const int rows = config->rows[t], colsb = config->colsb[t];
        if (t >= 8) valid &= rows == 0 && colsb == 0;
        else valid &= rows <= 16 && colsb <= 64 && (rows == 0) == (colsb == 0);
    }
    if (!valid) { model->fault = 1; return; }
    model->configured = 1;
    for (int t = 0; t < 8; t++) {
        model->rows[t] = config->rows[t];
        model->colsb[t] = config->colsb[t];
    }
    memset(model->data, 0, sizeof model->data);
}

/* Whether tile t can be used: configured, and of non-zero shape. */
static inline int eg_tile_model_usable(eg_tile_model *model, int t) {
    if (!model->configured || t < 0 || t >= 8 || model->rows[t] == 0) { model->fault = 1; return 0; }
    return 1;
}

/* TILEZERO. */
static inline void eg_tile_model_zero(eg_tile_model *model, int t) {
    if (!eg_tile_model_usable(model, t)) return;
    memset(model->data[t], 0, sizeof model->data[t]);
}

/* TILELOADD: row r of the tile from base + r * stride, colsb bytes; the rest of the tile zeroed. */
static inline void eg_tile_model_loadd(eg_tile_model *model, int t, const void *base, long stride) {
    if (!eg_tile_model_usable(model, t)) return;
    memset(model->data[t], 0, sizeof model->data[t]);
    for (int r = 0; r < model->rows[t]; r++) memcpy(model->data[t] + r * 64, (const uint8_t *)base + r * stride, model->colsb[t]);
}

/* TILESTORED: row r of the tile to base + r * stride, colsb bytes. */
static inline void eg_tile_model_stored(eg_tile_model *model, int t, void *base, long stride) {
    if (!eg_tile_model_usable(model, t)) return;
    for (int r = 0; r < model->rows[t]; r++) memcpy((uint8_t *)base + r * stride, model->data[t] + r * 64, model->colsb[t]);
}

/* TDPBSUD c, a, b: for each row m of c and dword n of c's rows, c[m].dword[n] += the sum over
   dwords k of a's row m of 4 products of a's signed bytes a[m].byte[4k + i] and b's unsigned bytes
   b[k].byte[4n + i]. Shapes: rows(c) = rows(a), colsb(c) = colsb(b), colsb(a) = 4 rows(b);
   otherwise #UD. */
static inline void eg_tile_model_dpbsud(eg_tile_model *model, int c, int a, int b) {
    if (!eg_tile_model_usable(model, c) || !eg_tile_model_usable(model, a) || !eg_tile_model_usable(model, b)) return;
    if (c == a || c == b || a == b || model->rows[c] != model->rows[a] || model->colsb[c] != model->colsb[b] ||
        model->colsb[a] != 4 * model->rows[b] || model->colsb[c] % 4 != 0) {
        model->fault = 1;
        return;
    }
    for (int m = 0; m < model->rows[c]; m++) {
        for (int n = 0; n < model->colsb[c] / 4; n++) {
            /* 32-bit sums that wrap on overflow, as the instruction's do (unsigned: defined in C). */
            uint32_t sum;
            memcpy(&sum, model->data[c] + m * 64 + n * 4, 4);
            for (int k = 0; k < model->colsb[a] / 4; k++)
                for (int i = 0; i < 4; i++)
                    sum += (uint32_t)((int32_t)(int8_t)model->data[a][m * 64 + 4 * k + i] * (int32_t)model->data[b][k * 64 + 4 * n + i]);
            memcpy(model->data[c] + m * 64 + n * 4, &sum, 4);
        }
    }
}

#endif
