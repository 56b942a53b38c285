/*
 * canon_int.h - canon's checks of single JSON values, shared inside the
 * engine (not a public header: tools never include it).
 *
 * rk_canon_check and rk_jv_parse_tape check a canonical text in one pass
 * with the functions below; planes.c's known-shape reader of record bodies
 * (the fast path of rk_planes_prepare) checks the values it meets with the
 * very same functions, so that both accept exactly the same strings and
 * integers.  They take positions by value and return the position past
 * what they checked, or 0 when it is not canonical (nothing valid ends at
 * 0).  The caller guarantees i < len on entry.
 */
#ifndef RK_CANON_INT_H
#define RK_CANON_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "canon.h"

#if defined(__SSE2__) && !defined(RK_CANON_NO_SIMD)
#include <emmintrin.h>
#endif

/* ---- runs of plain string bytes --------------------------------------- */

/*
 * How many of the 8 bytes at p are printable ASCII other than '"' and '\\',
 * counted from the first (8: all of them).  Word-at-a-time tests: a byte
 * >= 0x80 sets its top bit; "is a zero byte" is (v - 0x01..) & ~v & 0x80..;
 * "is below 0x20" is (v - 0x20..) & ~v & 0x80.. (valid as 0x20 <= 0x80).
 * A borrow only runs upwards from a flagged byte, so the lowest flag is
 * exact (bytes above it may be flagged wrongly, and are not looked at); on
 * a little-endian machine the lowest byte of the word is the first in
 * memory.  Elsewhere, a flag anywhere means "look at these bytes one by one".
 */
static inline size_t plain8(const unsigned char *p)
{
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    uint64_t w, q, b, m;

    memcpy(&w, p, 8);
    q = w ^ (ones * '"');
    b = w ^ (ones * '\\');
    m = (w & high) | ((w - ones * 0x20) & ~w & high) | ((q - ones) & ~q & high) |
        ((b - ones) & ~b & high);
    if (m == 0)
        return 8;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return (size_t)__builtin_ctzll(m) / 8;
#else
    return 0;
#endif
}

/*
 * The first i' >= i (below end) whose byte is not printable ASCII other
 * than '"' and '\\', or end: the run of bytes of a string that stand for
 * themselves and need no further look.  Most strings are such a run up to
 * their closing quote, and both rk_json_parse and the check of a body spend
 * most of their time in strings, so the run is found sixteen bytes at a
 * time where SSE2 exists (every x86-64): two compares flag the stop bytes
 * (below) and the lowest flagged byte is the answer.  Then eight at a time
 * (plain8), then one at a time near the end.  The loads never reach end:
 * each reads only bytes below it.
 *
 * One signed compare flags three of the four kinds of stop byte: x ^ 0x02
 * maps 0x00..0x1f onto itself and 0x80..0xff onto itself (negative as
 * signed bytes), and of all other bytes only '"' (0x22) onto 0x20; so
 * 0x21 > (x ^ 0x02), signed, holds exactly for the controls, the bytes
 * >= 0x80 and '"' (one compare where there were two and an OR); an
 * equality compare adds '\\'.
 *
 * RK_CANON_NO_SIMD at build time leaves out the SSE2 loop: the plain C
 * path, which tests/check/test_canon_plain.c builds and tests on machines
 * that have SSE2.
 */
static inline __attribute__((always_inline)) size_t plain_run(const unsigned char *p, size_t i,
                                                                size_t end)
{
#if defined(__SSE2__) && !defined(RK_CANON_NO_SIMD)
    const __m128i two = _mm_set1_epi8(0x02), bslash = _mm_set1_epi8('\\'),
                  below = _mm_set1_epi8(0x21);

    while (end - i >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        __m128i bad = _mm_or_si128(_mm_cmpgt_epi8(below, _mm_xor_si128(v, two)),
                                   _mm_cmpeq_epi8(v, bslash));
        unsigned m = (unsigned)_mm_movemask_epi8(bad);
        if (m != 0)
            return i + (size_t)__builtin_ctz(m);
        i += 16;
    }
#endif
    while (end - i >= 8) {
        size_t k = plain8(p + i);
        i += k;
        if (k < 8)
            return i;
    }
    while (i < end && p[i] >= 0x20 && p[i] < 0x80 && p[i] != '"' && p[i] != '\\')
        i++;
    return i;
}


/* ---- single values of a canonical text -------------------------------- */

/* The type of the valid value whose first byte is b. */
static inline rk_jv_type jv_type_of(unsigned char b)
{
    switch (b) {
    case '{': return RK_JV_OBJECT;
    case '[': return RK_JV_ARRAY;
    case '"': return RK_JV_STRING;
    case 't': return RK_JV_TRUE;
    case 'f': return RK_JV_FALSE;
    case 'n': return RK_JV_NULL;
    default: return RK_JV_INT;
    }
}

static inline int isdig(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/*
 * The rest of a string from i on, once the fast path of check_string met
 * something other than plain bytes and the closing quote (escapes, UTF-8,
 * the closing quote after them): the position past the closing quote, or
 * 0.  Kept out of line: most strings never get here, and check_string
 * stays small.
 */
size_t rk_canon_string_rest(const unsigned char *p, size_t len, size_t i);

/* The string whose opening quote is at i.  *plain is 1 when it is plain
 * printable ASCII up to its closing quote (no backslash, so its text is its
 * value), else 0.  Inlined, so that *plain stays in a register. */
static inline size_t check_string(const unsigned char *p, size_t len, size_t i, int *plain)
{
    i = plain_run(p, i + 1, len); /* past the opening quote */
    if (i < len && p[i] == '"') {
        *plain = 1;
        return i + 1;
    }
    *plain = 0;
    return rk_canon_string_rest(p, len, i);
}

/* -?(0|[1-9][0-9]*), not -0, magnitude below 2^63: canonical_integer's
 * rule, read in place. */
static inline size_t check_integer(const unsigned char *p, size_t len, size_t i)
{
    size_t d, n;
    int neg = p[i] == '-';

    d = i + (size_t)neg;
    for (i = d; i < len && isdig(p[i]); i++)
        ;
    n = i - d;
    if (n == 0 || n > 19)
        return 0;
    if (p[d] == '0')
        return n == 1 && !neg ? i : 0;
    return n < 19 || memcmp(p + d, "9223372036854775807", 19) <= 0 ? i : 0;
}

static inline size_t check_word(const unsigned char *p, size_t len, size_t i, const char *w, size_t n)
{
    if (len - i < n || memcmp(p + i, w, n) != 0)
        return 0;
    return i + n;
}

#endif
