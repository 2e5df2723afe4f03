#ifndef CBFLOAT16_H
#define CBFLOAT16_H
#include <stddef.h>
#include <stdint.h>

/// to[i] = bf16(from[i]) for i < count, rounded to nearest even (NaN stays NaN): one VCVTNEPS2BF16 per 16 floats
/// where the CPU has AVX512_BF16 (the only CPUs L2C trains bf16 on), integer rounding one at a time elsewhere.
void cbf16_from_f32(const float *from, uint16_t *to, size_t count);

#endif
