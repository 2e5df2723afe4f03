#ifndef CBFLOAT16_H
#define CBFLOAT16_H
#include <stddef.h>
#include <stdint.h>

/// to[i] = bf16(from[i]) for i < count, rounded to nearest even (NaN stays NaN): one VCVTNEPS2BF16 per 16 floats
/// where the CPU has AVX512_BF16 (the only CPUs L2C trains bf16 on), integer rounding one at a time elsewhere.
void cbf16_from_f32(const float *from, uint16_t *to, size_t count);

/// to[i] = float(from[i]): bf16 widened exactly.
void cbf16_to_f32(const uint16_t *from, float *to, size_t count);

/// a[i] = bf16(a[i] + b[i]).
void cbf16_add(uint16_t *a, const uint16_t *b, size_t count);

// BatchNorm on one plane of an nChw16c bf16 tensor (`pixels` × 16 lanes; per-lane constants are 16 floats).

/// s1[j] += Σₚ x, s2[j] += Σₚ x² (fp32 within 256 pixels, double across).
void cbf16_plane_sums(const uint16_t *x, size_t pixels, double *s1, double *s2);

/// y = bf16(relu?(scale·x + shift + residual)); residual may be NULL.
void cbf16_plane_normalize(const uint16_t *x, const uint16_t *residual, uint16_t *y, size_t pixels,
                           const float *scale, const float *shift, int relu);

/// g = dy masked where the ReLU output y is 0 (y NULL: no ReLU); s1 += Σ g, s2 += Σ g·x; g stored when not NULL.
void cbf16_plane_backward_sums(const uint16_t *x, const uint16_t *y, const uint16_t *dy, uint16_t *g, size_t pixels,
                               double *s1, double *s2);

/// dx = bf16(scale·g + c1 + c2·x), g recomputed from dy and y as in cbf16_plane_backward_sums.
void cbf16_plane_input_gradient(const uint16_t *x, const uint16_t *y, const uint16_t *dy, uint16_t *dx, size_t pixels,
                                const float *scale, const float *c1, const float *c2);

#endif
