#ifndef CEMBEDDINGGEMMA_CPU_STATE_H
#define CEMBEDDINGGEMMA_CPU_STATE_H

/* The register state the OS saves and restores for this process (XCR0, read by xgetbv): a vector
   or tile unit the CPU has is usable only when its state bits are set. The caller has checked
   OSXSAVE (CPUID.1:ECX bit 27), directly or through eg_avx2_fma_available(). */

#if defined(__x86_64__) || defined(_M_X64)
static inline unsigned int eg_xcr0(void) {
    unsigned int xcr0_lo, xcr0_hi;
    __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
    return xcr0_lo;
}
#endif

#endif
