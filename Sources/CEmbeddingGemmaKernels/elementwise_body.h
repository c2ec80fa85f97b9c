/* The element-wise and row-wise steps of a Gemma layer (GELU gate, softmax, RMSNorm, RoPE), written
   once over a vector width. elementwise.c includes this file once per instruction set, after
   defining:
     EG_EW(name)   the function name with the instruction set's suffix
     EG_EW_TARGET  the target attribute
     VF, W         the float vector type and its lane count
     V_LOAD, V_STORE, V_SET1, V_ADD, V_SUB, V_MUL, V_DIV, V_FMADD(a, b, c) = a·b + c,
     V_FNMADD(a, b, c) = c − a·b, V_MIN, V_MAX, V_HSUM, V_HMAX (lane sum / maximum),
     V_POW2(s)     2^n as floats from s = n + 1.5·2^23 (the rounding trick of eg_exp_scalar).
   Lanes past the last whole vector go through the scalar helpers of elementwise.c, which compute
   the same formulas. */

/* e^x to about 2 ulp: the clamp, reduction and polynomial of eg_exp_scalar, W lanes at a time. */
EG_EW_TARGET static inline VF EG_EW(exp)(VF x) {
    x = V_MIN(V_MAX(x, V_SET1(-87.0f)), V_SET1(88.0f));
    const VF shifted = V_FMADD(x, V_SET1(EG_LOG2E), V_SET1(EG_ROUNDING_SHIFT));
    const VF n = V_SUB(shifted, V_SET1(EG_ROUNDING_SHIFT));
    VF r = V_FNMADD(n, V_SET1(EG_LN2_HIGH), x);
    r = V_FMADD(n, V_SET1(EG_LN2_LOW), r);
    VF p = V_SET1(EG_EXP_P0);
    p = V_FMADD(p, r, V_SET1(EG_EXP_P1));
    p = V_FMADD(p, r, V_SET1(EG_EXP_P2));
    p = V_FMADD(p, r, V_SET1(EG_EXP_P3));
    p = V_FMADD(p, r, V_SET1(EG_EXP_P4));
    p = V_FMADD(p, r, V_SET1(EG_EXP_P5));
    p = V_ADD(V_FMADD(p, V_MUL(r, r), r), V_SET1(1.0f));
    return V_MUL(p, V_POW2(shifted));
}

EG_EW_TARGET void EG_EW(eg_gelu_multiply)(float *gate, const float *up, long count) {
    long i = 0;
    for (; i + W <= count; i += W) {
        const VF x = V_LOAD(gate + i);
        const VF inner = V_MUL(V_SET1(EG_GELU_K0), V_FMADD(V_SET1(EG_GELU_K1), V_MUL(V_MUL(x, x), x), x));
        const VF e = EG_EW(exp)(V_MUL(V_SET1(-2.0f), inner));
        V_STORE(gate + i, V_MUL(V_DIV(x, V_ADD(V_SET1(1.0f), e)), V_LOAD(up + i)));
    }
    for (; i < count; i++) gate[i] = eg_gelu_scalar(gate[i]) * up[i];
}

/* Backward of gate·up → gelu_tanh(gate)·up: with s = 1 / (1 + e^(−2u)) (so gelu = x·s),
   d gelu/dx = s + x·s·(1 − s)·2·√(2/π)·(1 + 3·0.044715·x²). dgate may alias dm. */
EG_EW_TARGET void EG_EW(eg_gelu_multiply_backward)(const float *gate, const float *up, const float *dm, float *dgate,
                                                   float *dup, long count) {
    long i = 0;
    for (; i + W <= count; i += W) {
        const VF x = V_LOAD(gate + i);
        const VF x2 = V_MUL(x, x);
        const VF inner = V_MUL(V_SET1(EG_GELU_K0), V_FMADD(V_SET1(EG_GELU_K1), V_MUL(x2, x), x));
        const VF s = V_DIV(V_SET1(1.0f), V_ADD(V_SET1(1.0f), EG_EW(exp)(V_MUL(V_SET1(-2.0f), inner))));
        const VF g = V_LOAD(dm + i);
        const VF slope = V_MUL(V_SET1(2.0f * EG_GELU_K0), V_FMADD(V_SET1(3.0f * EG_GELU_K1), x2, V_SET1(1.0f)));
        const VF derivative = V_FMADD(V_MUL(V_MUL(x, s), V_SUB(V_SET1(1.0f), s)), slope, s);
        V_STORE(dup + i, V_MUL(g, V_MUL(x, s)));
        V_STORE(dgate + i, V_MUL(V_MUL(g, V_LOAD(up + i)), derivative));
    }
    for (; i < count; i++) {
        const float x = gate[i];
        const float inner = EG_GELU_K0 * fmaf(EG_GELU_K1, x * x * x, x);
        const float s = 1.0f / (1.0f + eg_exp_scalar(-2.0f * inner));
        const float g = dm[i];
        const float derivative = s + x * s * (1.0f - s) * 2.0f * EG_GELU_K0 * (1.0f + 3.0f * EG_GELU_K1 * x * x);
        dup[i] = g * x * s;
        dgate[i] = g * up[i] * derivative;
    }
}

EG_EW_TARGET void EG_EW(eg_softmax)(float *row, long count, long lower, long upper) {
    float *v = row + lower;
    const long n = upper - lower;
    long i = 0;
    VF top = V_SET1(-INFINITY);
    for (; i + W <= n; i += W) top = V_MAX(top, V_LOAD(v + i));
    float maximum = V_HMAX(top);
    for (; i < n; i++) maximum = v[i] > maximum ? v[i] : maximum;
    const VF shift = V_SET1(maximum);
    VF sum = V_SET1(0.0f);
    for (i = 0; i + W <= n; i += W) {
        const VF e = EG_EW(exp)(V_SUB(V_LOAD(v + i), shift));
        V_STORE(v + i, e);
        sum = V_ADD(sum, e);
    }
    float total = V_HSUM(sum);
    for (; i < n; i++) {
        v[i] = eg_exp_scalar(v[i] - maximum);
        total += v[i];
    }
    const float inv = 1.0f / total;
    const VF scale = V_SET1(inv);
    for (i = 0; i + W <= n; i += W) V_STORE(v + i, V_MUL(V_LOAD(v + i), scale));
    for (; i < n; i++) v[i] *= inv;
    for (i = 0; i < lower; i++) row[i] = 0;
    for (i = upper; i < count; i++) row[i] = 0;
}

EG_EW_TARGET void EG_EW(eg_rms_norm)(const float *x, float *y, long rows, long width, const float *scale, float eps,
                                     int accumulate) {
    for (long r = 0; r < rows; r++) {
        const float *xr = x + r * width;
        float *yr = y + r * width;
        VF s0 = V_SET1(0.0f), s1 = V_SET1(0.0f);
        long i = 0;
        for (; i + 2 * W <= width; i += 2 * W) {
            const VF a = V_LOAD(xr + i), b = V_LOAD(xr + i + W);
            s0 = V_FMADD(a, a, s0);
            s1 = V_FMADD(b, b, s1);
        }
        float squares = V_HSUM(V_ADD(s0, s1));
        for (; i < width; i++) squares += xr[i] * xr[i];
        const float inv = 1.0f / sqrtf(squares / (float)width + eps);
        const VF vinv = V_SET1(inv);
        for (i = 0; i + W <= width; i += W) {
            const VF t = V_MUL(V_MUL(V_LOAD(xr + i), vinv), V_LOAD(scale + i));
            V_STORE(yr + i, accumulate ? V_ADD(V_LOAD(yr + i), t) : t);
        }
        for (; i < width; i++) {
            const float t = (xr[i] * inv) * scale[i];
            yr[i] = accumulate ? yr[i] + t : t;
        }
    }
}

EG_EW_TARGET void EG_EW(eg_rope)(float *x, long rows, int heads, int head_dim, long row_stride, const int32_t *positions,
                                 const float *cos_table, const float *sin_table) {
    const long half = head_dim / 2;
    for (long r = 0; r < rows; r++) {
        const float *c = cos_table + (long)positions[r] * half, *s = sin_table + (long)positions[r] * half;
        for (int h = 0; h < heads; h++) {
            float *lo = x + r * row_stride + (long)h * head_dim, *hi = lo + half;
            long i = 0;
            for (; i + W <= half; i += W) {
                const VF a = V_LOAD(lo + i), b = V_LOAD(hi + i), vc = V_LOAD(c + i), vs = V_LOAD(s + i);
                V_STORE(lo + i, V_SUB(V_MUL(a, vc), V_MUL(b, vs)));
                V_STORE(hi + i, V_ADD(V_MUL(b, vc), V_MUL(a, vs)));
            }
            for (; i < half; i++) {
                const float a = lo[i], b = hi[i];
                lo[i] = a * c[i] - b * s[i];
                hi[i] = b * c[i] + a * s[i];
            }
        }
    }
}
