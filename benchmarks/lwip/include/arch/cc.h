/* lwIP's port header for the benchmarks: x86-64 Linux user space, gcc.
 * lwIP's arch.h supplies the rest (stdint types, little-endian default). */
#ifndef UK_BENCH_LWIP_ARCH_CC_H
#define UK_BENCH_LWIP_ARCH_CC_H

#include <stdio.h>
#include <stdlib.h>

#define LWIP_PLATFORM_DIAG(x) do { printf x; } while (0)
#define LWIP_PLATFORM_ASSERT(x) do { fprintf(stderr, "lwIP assertion: %s at %s:%d\n", x, __FILE__, __LINE__); abort(); } while (0)

/* Byte swaps as single instructions rather than lwIP's portable C. */
#define lwip_htons(x) ((u16_t)__builtin_bswap16((u16_t)(x)))
#define lwip_htonl(x) ((u32_t)__builtin_bswap32((u32_t)(x)))

#endif
