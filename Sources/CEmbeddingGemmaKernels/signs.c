// First stage of the search index's dense search: every row's 1-bit code (the signs of its
// vector's values) scored against the query, the query kept at `bits` bits per dimension as bit
// planes. With u_i the query's quantized value (0 … 2^bits − 1) and s_i = ±1 the row's sign,
// Σ (u_i − c)·s_i = 2·U − (2^bits − 1)·P + const, where U = Σ_b 2^b·popcount(row & plane_b) and
// P = popcount(row): a few popcounts per 64 dimensions instead of 64 multiply-adds.
#include "CEmbeddingGemmaKernels.h"

#define EG_SIGNS_BODY                                                                          \
    const long limit = (long)(1 << bits) - 1;                                                  \
    for (long r = 0; r < rows; r++) {                                                          \
        const uint64_t *row = signs + r * words;                                               \
        long weighted = 0, set = 0;                                                            \
        for (int w = 0; w < words; w++) {                                                      \
            const uint64_t x = row[w];                                                         \
            set += __builtin_popcountll(x);                                                    \
            for (int b = 0; b < bits; b++) {                                                   \
                weighted += (long)__builtin_popcountll(x & planes[b * words + w]) << b;        \
            }                                                                                  \
        }                                                                                      \
        scores[r] = (int32_t)(2 * weighted - limit * set);                                     \
    }

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("popcnt")))
static void eg_sign_scores_popcnt(const uint64_t *signs, long rows, int words, const uint64_t *planes, int bits, int32_t *scores) {
    EG_SIGNS_BODY
}
#endif

static void eg_sign_scores_portable(const uint64_t *signs, long rows, int words, const uint64_t *planes, int bits, int32_t *scores) {
    EG_SIGNS_BODY
}

void eg_sign_scores(const uint64_t *signs, long rows, int words, const uint64_t *planes, int bits, int32_t *scores) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    static int has_popcnt = -1;
    if (has_popcnt < 0) {
        __builtin_cpu_init();
        has_popcnt = __builtin_cpu_supports("popcnt") ? 1 : 0;
    }
    if (has_popcnt) {
        eg_sign_scores_popcnt(signs, rows, words, planes, bits, scores);
        return;
    }
#endif
    eg_sign_scores_portable(signs, rows, words, planes, bits, scores);
}

// The coarse pass for large indexes: how many of a row's sign bits agree with the query's own
// signs (1 bit against 1 bit; `words` popcounts a row). Rows that agree least are left out
// before the finer score above.
#define EG_AGREEMENT_BODY                                                                      \
    for (long r = 0; r < rows; r++) {                                                          \
        const uint64_t *row = signs + r * words;                                               \
        int agree = 0;                                                                         \
        for (int w = 0; w < words; w++) agree += __builtin_popcountll(~(row[w] ^ query[w]));    \
        scores[r] = (uint16_t)agree;                                                           \
    }

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("popcnt")))
static void eg_sign_agreement_popcnt(const uint64_t *signs, long rows, int words, const uint64_t *query, uint16_t *scores) {
    EG_AGREEMENT_BODY
}
#endif

static void eg_sign_agreement_portable(const uint64_t *signs, long rows, int words, const uint64_t *query, uint16_t *scores) {
    EG_AGREEMENT_BODY
}

void eg_sign_agreement(const uint64_t *signs, long rows, int words, const uint64_t *query, uint16_t *scores) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    if (__builtin_cpu_supports("popcnt")) {
        eg_sign_agreement_popcnt(signs, rows, words, query, scores);
        return;
    }
#endif
    eg_sign_agreement_portable(signs, rows, words, query, scores);
}
