// Elementwise kernels on bf16 activations: the BatchNorm passes of a bf16 ResNet, the residual sum, widening.
// A plane is one (sample, 16-channel block) of an nChw16c tensor: `pixels` rows of 16 lanes. Arithmetic is fp32;
// values are widened on load and rounded to nearest even on store. Written as plain loops that the compiler
// vectorises, compiled for AVX-512 and for any x86-64 (target_clones picks at load time).
#include "cbfloat16.h"

#define LANES 16
#define KERNEL __attribute__((target_clones("arch=x86-64-v4", "default")))

static inline float widen(uint16_t b) {
    union { uint32_t u; float f; } v = { (uint32_t)b << 16 };
    return v.f;
}

// Round to nearest even on the 16 bits kept; NaN stays a quiet NaN.
static inline uint16_t narrow(float x) {
    union { float f; uint32_t u; } v = { x };
    uint32_t rounded = (v.u + 0x7fffu + ((v.u >> 16) & 1u)) >> 16;
    return (v.u & 0x7fffffffu) > 0x7f800000u ? (uint16_t)((v.u >> 16) | 0x40u) : (uint16_t)rounded;
}

// max(v, 0) by the sign bit: +0 for every negative v, NaN kept.
static inline float rectify(float x) {
    union { float f; uint32_t u; } v = { x };
    v.u &= ~(uint32_t)((int32_t)v.u >> 31);
    return v.f;
}

// dy where the stored ReLU output y (+0 or more) is positive, else 0.
static inline float passed(uint16_t y, float dy) { return (int16_t)y > 0 ? dy : 0.0f; }

KERNEL void cbf16_to_f32(const uint16_t *restrict from, float *restrict to, size_t count) {
    for (size_t i = 0; i < count; i++) to[i] = widen(from[i]);
}

KERNEL void cbf16_add(uint16_t *restrict a, const uint16_t *restrict b, size_t count) {
    for (size_t i = 0; i < count; i++) a[i] = narrow(widen(a[i]) + widen(b[i]));
}

KERNEL void cbf16_plane_sums(const uint16_t *restrict x, size_t pixels, double *restrict s1, double *restrict s2) {
    for (size_t p0 = 0; p0 < pixels; p0 += 256) {
        size_t end = p0 + 256 < pixels ? p0 + 256 : pixels;
        float a1[LANES] = {0}, a2[LANES] = {0};
        for (size_t p = p0; p < end; p++)
            for (int j = 0; j < LANES; j++) {
                float v = widen(x[p * LANES + j]);
                a1[j] += v;
                a2[j] += v * v;
            }
        for (int j = 0; j < LANES; j++) { s1[j] += a1[j]; s2[j] += a2[j]; }
    }
}

// The loops below take their optional operands (NULL pointers) and flags as constants of an always-inlined body,
// one specialised copy per combination: a loop that tests a NULL pointer per element compiles to masked loads
// from address 0, which the CPU completes by a slow fault-suppression assist (60× slower here).
#define INLINE static inline __attribute__((always_inline))

INLINE void normalize(const uint16_t *restrict x, const uint16_t *restrict residual, uint16_t *restrict y, size_t pixels,
                      const float *restrict a, const float *restrict b, int relu) {
    for (size_t p = 0; p < pixels; p++)
        for (int j = 0; j < LANES; j++) {
            size_t i = p * LANES + j;
            float v = a[j] * widen(x[i]) + b[j];
            if (residual) v += widen(residual[i]);
            y[i] = narrow(relu ? rectify(v) : v);
        }
}

KERNEL void cbf16_plane_normalize(const uint16_t *restrict x, const uint16_t *restrict residual, uint16_t *restrict y, size_t pixels,
                                  const float *restrict scale, const float *restrict shift, int relu) {
    float a[LANES], b[LANES];
    for (int j = 0; j < LANES; j++) { a[j] = scale[j]; b[j] = shift[j]; }
    if (residual) {
        if (relu) normalize(x, residual, y, pixels, a, b, 1); else normalize(x, residual, y, pixels, a, b, 0);
    } else {
        if (relu) normalize(x, NULL, y, pixels, a, b, 1); else normalize(x, NULL, y, pixels, a, b, 0);
    }
}

INLINE void backward_sums(const uint16_t *restrict x, const uint16_t *restrict y, const uint16_t *restrict dy,
                          uint16_t *restrict g, size_t pixels, double *restrict s1, double *restrict s2) {
    for (size_t p0 = 0; p0 < pixels; p0 += 256) {
        size_t end = p0 + 256 < pixels ? p0 + 256 : pixels;
        float a1[LANES] = {0}, a2[LANES] = {0};
        for (size_t p = p0; p < end; p++)
            for (int j = 0; j < LANES; j++) {
                size_t i = p * LANES + j;
                float d = y ? passed(y[i], widen(dy[i])) : widen(dy[i]);
                if (g) g[i] = narrow(d);
                a1[j] += d;
                a2[j] += d * widen(x[i]);
            }
        for (int j = 0; j < LANES; j++) { s1[j] += a1[j]; s2[j] += a2[j]; }
    }
}

KERNEL void cbf16_plane_backward_sums(const uint16_t *restrict x, const uint16_t *restrict y, const uint16_t *restrict dy,
                                      uint16_t *restrict g, size_t pixels, double *restrict s1, double *restrict s2) {
    if (y) {
        if (g) backward_sums(x, y, dy, g, pixels, s1, s2); else backward_sums(x, y, dy, NULL, pixels, s1, s2);
    } else {
        if (g) backward_sums(x, NULL, dy, g, pixels, s1, s2); else backward_sums(x, NULL, dy, NULL, pixels, s1, s2);
    }
}

INLINE void input_gradient(const uint16_t *restrict x, const uint16_t *restrict y, const uint16_t *restrict dy, uint16_t *restrict dx,
                           size_t pixels, const float *restrict a, const float *restrict k1, const float *restrict k2) {
    for (size_t p = 0; p < pixels; p++)
        for (int j = 0; j < LANES; j++) {
            size_t i = p * LANES + j;
            float d = y ? passed(y[i], widen(dy[i])) : widen(dy[i]);
            dx[i] = narrow(a[j] * d + k1[j] + k2[j] * widen(x[i]));
        }
}

KERNEL void cbf16_plane_input_gradient(const uint16_t *restrict x, const uint16_t *restrict y, const uint16_t *restrict dy,
                                       uint16_t *restrict dx, size_t pixels, const float *restrict scale,
                                       const float *restrict c1, const float *restrict c2) {
    float a[LANES], k1[LANES], k2[LANES];
    for (int j = 0; j < LANES; j++) { a[j] = scale[j]; k1[j] = c1[j]; k2[j] = c2[j]; }
    if (y) input_gradient(x, y, dy, dx, pixels, a, k1, k2); else input_gradient(x, NULL, dy, dx, pixels, a, k1, k2);
}
