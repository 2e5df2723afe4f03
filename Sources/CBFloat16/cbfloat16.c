// fp32 → bf16 conversion of activations and gradients: memory-bound, so one pass at full vector width.
#include "cbfloat16.h"
#include "cpeak.h"
#include <immintrin.h>

static int has_avx512_bf16(void) {
    static int known = -1;
    if (known < 0) known = cpeak_detect().avx512_bf16;
    return known;
}

static uint16_t round_one(float x) {
    union { float f; uint32_t u; } v = {x};
    if ((v.u & 0x7fffffff) > 0x7f800000) return (uint16_t)((v.u >> 16) | 0x40);   // NaN: keep it quiet
    return (uint16_t)((v.u + 0x7fff + ((v.u >> 16) & 1)) >> 16);
}

__attribute__((target("avx512f,avx512bf16,avx512vl"))) static void convert_avx512(const float *from, uint16_t *to, size_t count) {
    size_t i = 0;
    for (; i + 32 <= count; i += 32) {
        __m512bh pair = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(from + i + 16), _mm512_loadu_ps(from + i));
        _mm512_storeu_si512((void *)(to + i), (__m512i)pair);
    }
    for (; i < count; i++) to[i] = round_one(from[i]);
}

void cbf16_from_f32(const float *from, uint16_t *to, size_t count) {
    if (has_avx512_bf16()) {
        convert_avx512(from, to, count);
    } else {
        for (size_t i = 0; i < count; i++) to[i] = round_one(from[i]);
    }
}
