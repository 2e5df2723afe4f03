// Peak-rate kernels compiled for the widest vector units, each behind its own target attribute; the caller
// runs one only where cpeak_detect() says the CPU and OS support it.
#include "cpeak.h"
#include <cpuid.h>
#include <immintrin.h>

static unsigned long long xgetbv0(void) {
    unsigned int eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

cpeak_features cpeak_detect(void) {
    cpeak_features f = {0, 0, 0, 0};
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return f;
    int osxsave = (ecx >> 27) & 1, fma = (ecx >> 12) & 1;
    if (!osxsave) return f;
    unsigned long long xcr0 = xgetbv0();
    int ymm = (xcr0 & 0x6) == 0x6, zmm = (xcr0 & 0xe6) == 0xe6;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return f;
    int avx2 = (ebx >> 5) & 1, avx512f = (ebx >> 16) & 1, amx_bf16 = (edx >> 22) & 1, amx_tile = (edx >> 24) & 1;
    f.avx2_fma = ymm && avx2 && fma;
    f.avx512f = zmm && avx512f;
    f.amx_bf16 = f.avx512f && amx_bf16 && amx_tile && (xcr0 & 0x60000) == 0x60000;
    unsigned int max7 = eax;
    if (max7 >= 1 && __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx)) f.avx512_bf16 = f.avx512f && ((eax >> 5) & 1);
    return f;
}

#define CHAINS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)

__attribute__((target("avx2,fma"))) float cpeak_fma256(long iterations, float seed) {
    __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
#define INIT(i) __m256 a##i = _mm256_set1_ps(seed + i);
    CHAINS(INIT)
#undef INIT
    for (long n = 0; n < iterations; n++) {
#define STEP(i) a##i = _mm256_fmadd_ps(a##i, m, c);
        CHAINS(STEP)
#undef STEP
    }
    __m256 s = _mm256_setzero_ps();
#define SUM(i) s = _mm256_add_ps(s, a##i);
    CHAINS(SUM)
#undef SUM
    float out[8];
    _mm256_storeu_ps(out, s);
    return out[0] + out[7];
}

__attribute__((target("avx512f"))) float cpeak_fma512(long iterations, float seed) {
    __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
#define INIT(i) __m512 a##i = _mm512_set1_ps(seed + i);
    CHAINS(INIT)
#undef INIT
    for (long n = 0; n < iterations; n++) {
#define STEP(i) a##i = _mm512_fmadd_ps(a##i, m, c);
        CHAINS(STEP)
#undef STEP
    }
    __m512 s = _mm512_setzero_ps();
#define SUM(i) s = _mm512_add_ps(s, a##i);
    CHAINS(SUM)
#undef SUM
    return _mm512_reduce_add_ps(s);
}

__attribute__((target("avx512f,avx512bf16"))) float cpeak_dpbf16(long iterations, float seed) {
    // bf16 pairs of small values: the fp32 accumulators grow slowly and stay finite.
    __m512bh x = (__m512bh)_mm512_set1_epi16(0x3c00), y = (__m512bh)_mm512_set1_epi16(0x3c00);   // 2^-7 each
#define INIT(i) __m512 a##i = _mm512_set1_ps(seed + i);
    CHAINS(INIT)
#undef INIT
    for (long n = 0; n < iterations; n++) {
#define STEP(i) a##i = _mm512_dpbf16_ps(a##i, x, y);
        CHAINS(STEP)
#undef STEP
    }
    __m512 s = _mm512_setzero_ps();
#define SUM(i) s = _mm512_add_ps(s, a##i);
    CHAINS(SUM)
#undef SUM
    return _mm512_reduce_add_ps(s);
}
