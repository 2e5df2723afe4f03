#ifndef CPEAK_H
#define CPEAK_H

/// What this CPU executes natively, from CPUID and the register state the OS enables (XGETBV).
typedef struct {
    int avx2_fma;      ///< AVX2 and FMA3, with YMM state enabled
    int avx512f;       ///< AVX-512 Foundation, with ZMM and mask state enabled
    int avx512_bf16;   ///< AVX512_BF16: VDPBF16PS, bf16 pair dot products into fp32
    int amx_bf16;      ///< AMX tiles with bf16 (the OS must also grant the tile state to the process)
} cpeak_features;

cpeak_features cpeak_detect(void);

/// Each kernel runs `iterations` rounds of 12 independent accumulator chains and returns a value that
/// depends on all of them (so nothing is optimised away). FLOPs per round:
/// fma256 12·8·2, fma512 12·16·2, dpbf16 12·32·2 (16 lanes, each a 2-term bf16 dot product and an add).
float cpeak_fma256(long iterations, float seed);
float cpeak_fma512(long iterations, float seed);
float cpeak_dpbf16(long iterations, float seed);

#endif
