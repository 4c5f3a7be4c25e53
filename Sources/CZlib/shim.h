#include <zlib.h>

#if defined(__x86_64__)
#include <stddef.h>
#include <stdint.h>
#include <cpuid.h>
#include <immintrin.h>

/* PNG's checksums with SIMD instructions, for PNGWriter (the stored pictures are checksummed
   twice per byte: CRC-32 per chunk, Adler-32 over the zlib stream). The same values as zlib's
   crc32 and adler32 (Tests: ChecksumTests); callers check cleave_cpu_has_checksum_simd() first. */

/* 1 when the CPU has PCLMULQDQ, SSSE3 and SSE4.1 (CPUID leaf 1, ECX bits 1, 9 and 19). */
static inline int cleave_cpu_has_checksum_simd(void) {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    return (c & (1u << 1)) && (c & (1u << 9)) && (c & (1u << 19));
}

/* The CRC-32 register (not inverted: callers invert before and after, as zlib does) after `len`
   bytes, `len` a multiple of 16 and at least 64, by carry-less multiplication: four 128-bit
   lanes folded 64 bytes per step, folded into one lane, reduced to 64 then 32 bits (Barrett).
   Gopal et al., "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ Instruction",
   Intel 2009; the constants are those of the reflected polynomial 0x104C11DB7. */
__attribute__((target("pclmul,sse4.1")))
static inline uint32_t cleave_crc32_fold(const uint8_t *buf, size_t len, uint32_t crc) {
    const __m128i k1k2 = _mm_set_epi64x(0x01c6e41596LL, 0x0154442bd4LL);
    const __m128i k3k4 = _mm_set_epi64x(0x00ccaa009eLL, 0x01751997d0LL);
    const __m128i k5k0 = _mm_set_epi64x(0, 0x0163cd6124LL);
    const __m128i poly = _mm_set_epi64x(0x01f7011641LL, 0x01db710641LL);
    __m128i x0, x1, x2, x3, x4, x5, x6, x7, x8;
    x1 = _mm_loadu_si128((const __m128i *)(buf + 0x00));
    x2 = _mm_loadu_si128((const __m128i *)(buf + 0x10));
    x3 = _mm_loadu_si128((const __m128i *)(buf + 0x20));
    x4 = _mm_loadu_si128((const __m128i *)(buf + 0x30));
    x1 = _mm_xor_si128(x1, _mm_cvtsi32_si128((int)crc));
    x0 = k1k2;
    buf += 64; len -= 64;
    while (len >= 64) {
        x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
        x6 = _mm_clmulepi64_si128(x2, x0, 0x00);
        x7 = _mm_clmulepi64_si128(x3, x0, 0x00);
        x8 = _mm_clmulepi64_si128(x4, x0, 0x00);
        x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
        x2 = _mm_clmulepi64_si128(x2, x0, 0x11);
        x3 = _mm_clmulepi64_si128(x3, x0, 0x11);
        x4 = _mm_clmulepi64_si128(x4, x0, 0x11);
        x1 = _mm_xor_si128(_mm_xor_si128(x1, x5), _mm_loadu_si128((const __m128i *)(buf + 0x00)));
        x2 = _mm_xor_si128(_mm_xor_si128(x2, x6), _mm_loadu_si128((const __m128i *)(buf + 0x10)));
        x3 = _mm_xor_si128(_mm_xor_si128(x3, x7), _mm_loadu_si128((const __m128i *)(buf + 0x20)));
        x4 = _mm_xor_si128(_mm_xor_si128(x4, x8), _mm_loadu_si128((const __m128i *)(buf + 0x30)));
        buf += 64; len -= 64;
    }
    /* Four lanes into one. */
    x0 = k3k4;
    x5 = _mm_clmulepi64_si128(x1, x0, 0x00); x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
    x1 = _mm_xor_si128(_mm_xor_si128(x1, x2), x5);
    x5 = _mm_clmulepi64_si128(x1, x0, 0x00); x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
    x1 = _mm_xor_si128(_mm_xor_si128(x1, x3), x5);
    x5 = _mm_clmulepi64_si128(x1, x0, 0x00); x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
    x1 = _mm_xor_si128(_mm_xor_si128(x1, x4), x5);
    /* Single 16-byte folds. */
    while (len >= 16) {
        x2 = _mm_loadu_si128((const __m128i *)buf);
        x5 = _mm_clmulepi64_si128(x1, x0, 0x00); x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
        x1 = _mm_xor_si128(_mm_xor_si128(x1, x2), x5);
        buf += 16; len -= 16;
    }
    /* 128 to 64 bits. */
    x2 = _mm_clmulepi64_si128(x1, x0, 0x10);
    x3 = _mm_setr_epi32(~0, 0, ~0, 0);
    x1 = _mm_srli_si128(x1, 8);
    x1 = _mm_xor_si128(x1, x2);
    x0 = k5k0;
    x2 = _mm_srli_si128(x1, 4);
    x1 = _mm_and_si128(x1, x3);
    x1 = _mm_clmulepi64_si128(x1, x0, 0x00);
    x1 = _mm_xor_si128(x1, x2);
    /* Barrett reduction to 32 bits. */
    x0 = poly;
    x2 = _mm_and_si128(x1, x3);
    x2 = _mm_clmulepi64_si128(x2, x0, 0x10);
    x2 = _mm_and_si128(x2, x3);
    x2 = _mm_clmulepi64_si128(x2, x0, 0x00);
    x1 = _mm_xor_si128(x1, x2);
    return (uint32_t)_mm_extract_epi32(x1, 1);
}

/* Adler-32 of `len` bytes continuing from `adler` (zlib's adler32), 32 bytes per step: byte sums
   by SAD, position-weighted sums by multiply-add, reduced modulo 65521 every 5536 bytes (zlib's
   NMAX bound: the 32-bit sums cannot overflow in between). */
__attribute__((target("ssse3")))
static inline uint32_t cleave_adler32_simd(uint32_t adler, const uint8_t *buf, size_t len) {
    const uint32_t base = 65521;
    uint32_t s1 = adler & 0xffff, s2 = adler >> 16;
    size_t blocks = len / 32;
    len -= blocks * 32;
    const __m128i tap1 = _mm_setr_epi8(32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17);
    const __m128i tap2 = _mm_setr_epi8(16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1);
    const __m128i zero = _mm_setzero_si128();
    const __m128i ones = _mm_set1_epi16(1);
    while (blocks) {
        size_t n = 5552 / 32;
        if (n > blocks) n = blocks;
        blocks -= n;
        __m128i ps = _mm_set_epi32(0, 0, 0, (int)(s1 * (uint32_t)n));
        __m128i v2 = _mm_set_epi32(0, 0, 0, (int)s2);
        __m128i v1 = zero;
        do {
            const __m128i b1 = _mm_loadu_si128((const __m128i *)buf);
            const __m128i b2 = _mm_loadu_si128((const __m128i *)(buf + 16));
            ps = _mm_add_epi32(ps, v1);
            v1 = _mm_add_epi32(v1, _mm_sad_epu8(b1, zero));
            v2 = _mm_add_epi32(v2, _mm_madd_epi16(_mm_maddubs_epi16(b1, tap1), ones));
            v1 = _mm_add_epi32(v1, _mm_sad_epu8(b2, zero));
            v2 = _mm_add_epi32(v2, _mm_madd_epi16(_mm_maddubs_epi16(b2, tap2), ones));
            buf += 32;
        } while (--n);
        v2 = _mm_add_epi32(v2, _mm_slli_epi32(ps, 5));
        v1 = _mm_add_epi32(v1, _mm_shuffle_epi32(v1, _MM_SHUFFLE(1, 0, 3, 2)));
        s1 += (uint32_t)_mm_cvtsi128_si32(v1);
        v2 = _mm_add_epi32(v2, _mm_shuffle_epi32(v2, _MM_SHUFFLE(2, 3, 0, 1)));
        v2 = _mm_add_epi32(v2, _mm_shuffle_epi32(v2, _MM_SHUFFLE(1, 0, 3, 2)));
        s2 = (uint32_t)_mm_cvtsi128_si32(v2);
        s1 %= base;
        s2 %= base;
    }
    while (len--) { s1 += *buf++; s2 += s1; }
    s1 %= base;
    s2 %= base;
    return s1 | (s2 << 16);
}
#endif
