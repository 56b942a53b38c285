/* amount.c - exact decimal amounts in 128-bit minor units (formats/amounts.md). */
#include "amount.h"
#include "bytes.h"

#include <stdint.h>
#include <string.h>

typedef unsigned __int128 u128;

#define QUOTE_MAX 48 /* bytes of offending text quoted in a message */

/* 10^n for n <= 38 (10^38 fits: 2^127 is about 1.7e38). */
static u128 pow10u(unsigned n)
{
    u128 p = 1;

    while (n-- > 0)
        p *= 10;
    return p;
}

static u128 magnitude(rk_amount v)
{
    return v < 0 ? (u128)0 - (u128)v : (u128)v;
}

static int in_range(rk_amount v)
{
    return v >= -RK_AMOUNT_LIMIT && v <= RK_AMOUNT_LIMIT;
}

/* Copy at most QUOTE_MAX bytes of text for a message, '?' for unprintables. */
static const char *quote(char *q, const char *text, size_t len)
{
    size_t i, n = len < QUOTE_MAX ? len : QUOTE_MAX;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)text[i];
        q[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if (len > QUOTE_MAX) {
        memcpy(q + n, "...", 3);
        n += 3;
    }
    q[n] = '\0';
    return q;
}

static int isdig(char c)
{
    return c >= '0' && c <= '9';
}

/*
 * Digit k of the scaled value: the integer digits, then the fraction digits,
 * then zeros (the fraction padded to the scale).
 */
static unsigned digit_at(const char *text, size_t int_start, size_t int_len,
                         size_t frac_start, size_t frac_len, size_t k)
{
    if (k < int_len)
        return (unsigned)(text[int_start + k] - '0');
    if (k - int_len < frac_len)
        return (unsigned)(text[frac_start + k - int_len] - '0');
    return 0;
}

/*
 * The common case first: a short amount ("0.00123456", "-12.50") whose
 * value in minor units fits in 64 bits.  One pass reads the digits and
 * finds the dot; 1 with *out set when the text follows the grammar and the
 * general parser below would give the same value, 0 for anything else
 * (another byte, a second dot, a misplaced one, leading zeros, more
 * fraction digits than decimals, too long): the general parser then
 * decides, with its messages.  At most 19 bytes, so at most 19 digits,
 * and int_len + decimals <= 19 digits after scaling: below 10^19 < 2^64.
 * Kept behind a macro so a test can build the general path alone and
 * compare (tests/check/test_amount_plain.c).
 */
#ifndef RK_AMOUNT_FAST
#define RK_AMOUNT_FAST 1
#endif

static int amount_short(const char *text, size_t len, unsigned decimals, rk_amount *out)
{
    static const uint64_t p10[20] = {
        1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL,
        100000000ULL, 1000000000ULL, 10000000000ULL, 100000000000ULL, 1000000000000ULL,
        10000000000000ULL, 100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
        100000000000000000ULL, 1000000000000000000ULL, 10000000000000000000ULL
    };
    size_t i, start, int_len, frac_len = 0;
    uint64_t acc = 0;
    unsigned d;

    if (len == 0 || len > 19)
        return 0;
    start = text[0] == '-';
    /* the integer digits, then after a dot the fraction digits, into one number */
    for (i = start; i < len && (d = (unsigned)(unsigned char)text[i] - '0') <= 9; i++)
        acc = acc * 10 + d;
    int_len = i - start;
    if (i < len && text[i] == '.') {
        size_t from = ++i;

        for (; i < len && (d = (unsigned)(unsigned char)text[i] - '0') <= 9; i++)
            acc = acc * 10 + d;
        frac_len = i - from;
        if (frac_len == 0)
            return 0;
    }
    if (i != len || int_len == 0 || (int_len > 1 && text[start] == '0') ||
        frac_len > decimals || int_len + decimals > 19)
        return 0;
    acc *= p10[decimals - frac_len];
    *out = start ? -(rk_amount)acc : (rk_amount)acc;
    return 1;
}

/* The general parser: every text, every message (rk_amount_parse). */
static __attribute__((noinline)) rk_err amount_parse_general(const char *text, size_t len,
                                                             unsigned decimals,
                                                             rk_amount *out, char *err)
{
    char q[QUOTE_MAX + 4];
    size_t i = 0, int_start, int_len, frac_start = 0, frac_len = 0, k;
    u128 acc = 0, limit = (u128)RK_AMOUNT_LIMIT;
    int neg = 0;

    /* the quoted text (Q) is made only for a message: most amounts parse */
#define Q quote(q, text, len)

    if (decimals > RK_AMOUNT_MAX_DECIMALS)
        return rk_seterr(err, RK_ERR_INVALID, "amount: %u decimals exceed the maximum of %d",
                         decimals, RK_AMOUNT_MAX_DECIMALS);
    if (text == NULL || len == 0)
        return rk_seterr(err, RK_ERR_INVALID, "amount: empty text");
    if (text[0] == '-') {
        neg = 1;
        i = 1;
    } else if (text[0] == '+') {
        return rk_seterr(err, RK_ERR_INVALID, "amount '%s': a '+' sign is not allowed", Q);
    }
    int_start = i;
    while (i < len && isdig(text[i]))
        i++;
    int_len = i - int_start;
    if (i < len && text[i] == '.') {
        frac_start = ++i;
        while (i < len && isdig(text[i]))
            i++;
        frac_len = i - frac_start;
        if (int_len == 0 || frac_len == 0)
            return rk_seterr(err, RK_ERR_INVALID,
                             "amount '%s': a '.' needs digits on both sides", Q);
    }
    if (i < len) {
        char c = text[i];
        if (c == 'e' || c == 'E')
            return rk_seterr(err, RK_ERR_INVALID, "amount '%s': exponents are not allowed", Q);
        if (c == 'x' || c == 'X')
            return rk_seterr(err, RK_ERR_INVALID, "amount '%s': hex is not allowed", Q);
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
            return rk_seterr(err, RK_ERR_INVALID, "amount '%s': spaces are not allowed", Q);
        return rk_seterr(err, RK_ERR_INVALID, "amount '%s': unexpected character at offset %zu",
                         Q, i);
    }
    if (int_len == 0)
        return rk_seterr(err, RK_ERR_INVALID, "amount '%s': no digits", Q);
    if (int_len > 1 && text[int_start] == '0')
        return rk_seterr(err, RK_ERR_INVALID, "amount '%s': leading zeros are not allowed", Q);
    for (k = decimals; k < frac_len; k++)
        if (text[frac_start + k] != '0')
            return rk_seterr(err, RK_ERR_INVALID,
                             "amount '%s': more than %u fraction digits", Q, decimals);

    /*
     * acc = integer digits, then `decimals` fraction digits (zero-padded).
     * With at most 38 digits the value is at most 10^38 - 1 = the limit, so
     * no digit can overflow and the test per digit (a 128-bit division) is
     * not needed; the first 19 digits fit a 64-bit word, which is cheaper
     * still.  Longer texts (leading fraction zeros, rejected ranges) take
     * the checked loop.
     */
    if (int_len + decimals <= 38) {
        size_t nd = int_len + decimals;
        uint64_t lo = 0;

        for (k = 0; k < nd; k++) {
            unsigned d = digit_at(text, int_start, int_len, frac_start, frac_len, k);

            if (k < 19) {
                lo = lo * 10 + d;
                continue;
            }
            if (k == 19)
                acc = lo;
            acc = acc * 10 + d;
        }
        if (nd <= 19)
            acc = lo;
        *out = neg ? -(rk_amount)acc : (rk_amount)acc;
        return RK_OK;
    }
    for (k = 0; k < int_len + decimals; k++) {
        unsigned d = digit_at(text, int_start, int_len, frac_start, frac_len, k);

        if (acc > (limit - d) / 10)
            return rk_seterr(err, RK_ERR_RANGE,
                             "amount '%s': out of range at %u decimals (max 38 digits)",
                             Q, decimals);
        acc = acc * 10 + d;
    }
    *out = neg ? -(rk_amount)acc : (rk_amount)acc;
    return RK_OK;
#undef Q
}

/*
 * The short path first, outside the general parser's frame (it is large:
 * 128-bit accumulators, a message buffer), then the general parser.
 * amount_short declines what the general parser's first checks reject
 * (empty text, decimals beyond 19), so they keep their messages.
 */
rk_err rk_amount_parse(const char *text, size_t len, unsigned decimals,
                       rk_amount *out, char *err)
{
    if (RK_AMOUNT_FAST && text != NULL && amount_short(text, len, decimals, out))
        return RK_OK;
    return amount_parse_general(text, len, decimals, out, err);
}

size_t rk_amount_format(rk_amount v, unsigned decimals, char *out)
{
    /* 10^19: the largest power of ten below 2^64, so that a magnitude
     * (at most 2^127) is hi * 10^19 + lo with both parts in uint64 */
    const uint64_t e19 = 10000000000000000000ULL;
    char digits[48]; /* the magnitude's digits, most significant first */
    size_t nd, n = 0;
    u128 m = magnitude(v);

    if (decimals > RK_AMOUNT_MAX_DECIMALS) {
        out[0] = '\0';
        return 0;
    }
    if (m >> 64 == 0 && decimals <= 19) {
        /*
         * The usual amount, without a copy of variable length (each such
         * memcpy is a call): the digits go after 20 '0's in z, so that the
         * digits to show, nshow of them (at least decimals + 1: "0.001"),
         * are the last nshow before `end`, and the integer part and the
         * fraction are each copied as a fixed 24 bytes, of which the first
         * intlen or `decimals` count.  z has 64 bytes, all of them set, so
         * every copy reads within it; out takes at most 1 + 24 bytes, then
         * '.' at 21 at most and 24 more: 46 of its RK_AMOUNT_STR_MAX (the
         * bytes after the NUL are scratch).
         */
        char z[64];
        const char *end;
        size_t nshow;

        memset(z, '0', sizeof z);
        end = z + 20 + rk_u64_text(z + 20, (uint64_t)m);
        nshow = (size_t)(end - (z + 20));
        if (nshow <= decimals)
            nshow = decimals + 1;
        if (v < 0)
            out[n++] = '-';
        memcpy(out + n, end - nshow, 24);
        n += nshow - decimals;
        if (decimals > 0) {
            out[n++] = '.';
            memcpy(out + n, end - decimals, 24);
            n += decimals;
        }
        out[n] = '\0';
        return n;
    }
    /* uint64 arithmetic (rk_u64_text) instead of a 128-bit division per
     * digit: replay formats an amount for every total it renders */
    if (m >> 64 == 0) {
        nd = rk_u64_text(digits, (uint64_t)m);
    } else {
        char lo[RK_U64_TEXT_MAX];
        size_t nlo = rk_u64_text(lo, (uint64_t)(m % e19));

        nd = rk_u64_text(digits, (uint64_t)(m / e19));
        memset(digits + nd, '0', 19 - nlo); /* lo padded to 19 digits */
        memcpy(digits + nd + 19 - nlo, lo, nlo);
        nd += 19;
    }
    if (v < 0)
        out[n++] = '-';
    if (nd > decimals) {
        /* the integer part, then '.' and the last `decimals` digits */
        memcpy(out + n, digits, nd - decimals);
        n += nd - decimals;
        if (decimals > 0) {
            out[n++] = '.';
            memcpy(out + n, digits + nd - decimals, decimals);
            n += decimals;
        }
    } else {
        /* below 1: "0." and zeros before the digits ("0.00100000") */
        out[n++] = '0';
        out[n++] = '.';
        memset(out + n, '0', decimals - nd);
        n += decimals - nd;
        memcpy(out + n, digits, nd);
        n += nd;
    }
    out[n] = '\0';
    return n;
}

rk_err rk_amount_add(rk_amount a, rk_amount b, rk_amount *out)
{
    rk_amount r;

    if (!in_range(a) || !in_range(b) || __builtin_add_overflow(a, b, &r) || !in_range(r))
        return RK_ERR_RANGE;
    *out = r;
    return RK_OK;
}

rk_err rk_amount_sub(rk_amount a, rk_amount b, rk_amount *out)
{
    rk_amount r;

    if (!in_range(a) || !in_range(b) || __builtin_sub_overflow(a, b, &r) || !in_range(r))
        return RK_ERR_RANGE;
    *out = r;
    return RK_OK;
}

rk_err rk_amount_rescale(rk_amount v, unsigned from, unsigned to, rk_amount *out)
{
    u128 m, p;

    if (from > RK_AMOUNT_MAX_DECIMALS || to > RK_AMOUNT_MAX_DECIMALS)
        return RK_ERR_INVALID;
    if (!in_range(v))
        return RK_ERR_RANGE;
    m = magnitude(v);
    if (to >= from) {
        p = pow10u(to - from);
        if (m > (u128)RK_AMOUNT_LIMIT / p)
            return RK_ERR_RANGE;
        m *= p;
    } else {
        p = pow10u(from - to);
        if (m % p != 0)
            return RK_ERR_RANGE;
        m /= p;
    }
    *out = v < 0 ? -(rk_amount)m : (rk_amount)m;
    return RK_OK;
}

int rk_amount_cmp(rk_amount a, rk_amount b)
{
    return (a > b) - (a < b);
}

/* ---- 256-bit unsigned helpers for muldiv ------------------------------ */

typedef struct {
    u128 hi, lo;
} u256;

static u256 mul128(u128 a, u128 b)
{
    uint64_t a0 = (uint64_t)a, a1 = (uint64_t)(a >> 64);
    uint64_t b0 = (uint64_t)b, b1 = (uint64_t)(b >> 64);
    u128 p00 = (u128)a0 * b0, p01 = (u128)a0 * b1;
    u128 p10 = (u128)a1 * b0, p11 = (u128)a1 * b1;
    u128 mid = (p00 >> 64) + (uint64_t)p01 + (uint64_t)p10; /* < 3 * 2^64 */
    u256 r;

    r.lo = (mid << 64) | (uint64_t)p00;
    r.hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
    return r;
}

/*
 * n / d by restoring long division (d != 0).  The quotient is wanted only if
 * it fits 128 bits; *overflow is set otherwise.
 */
static u128 div256(u256 n, u128 d, u128 *rem, int *overflow)
{
    u128 q = 0, r = 0;
    int i;

    *overflow = n.hi >= d; /* quotient >= 2^128 */
    if (*overflow)
        return 0;
    r = n.hi;
    for (i = 127; i >= 0; i--) {
        int carry = (int)(r >> 127);

        r = (r << 1) | ((n.lo >> i) & 1);
        q <<= 1;
        if (carry || r >= d) {
            r -= d;
            q |= 1;
        }
    }
    *rem = r;
    return q;
}

rk_err rk_amount_muldiv(rk_amount a, rk_amount num, rk_amount den, int rounding,
                        rk_amount *out)
{
    int neg = (a < 0) ^ (num < 0) ^ (den < 0);
    u128 d = magnitude(den), q, r, half_other;
    int overflow, up = 0;

    if (den == 0 || rounding < RK_ROUND_DOWN || rounding > RK_ROUND_HALF_UP)
        return RK_ERR_INVALID;
    q = div256(mul128(magnitude(a), magnitude(num)), d, &r, &overflow);
    if (overflow || q > (u128)RK_AMOUNT_LIMIT)
        return RK_ERR_RANGE;
    if (r != 0) {
        half_other = d - r; /* compare r with d/2 without doubling r */
        switch (rounding) {
        case RK_ROUND_DOWN: up = 0; break;
        case RK_ROUND_UP: up = 1; break;
        case RK_ROUND_FLOOR: up = neg; break;
        case RK_ROUND_CEILING: up = !neg; break;
        case RK_ROUND_HALF_UP: up = r >= half_other; break;
        case RK_ROUND_HALF_EVEN:
            up = r > half_other || (r == half_other && (q & 1) != 0);
            break;
        }
    }
    if (up)
        q++;
    if (q > (u128)RK_AMOUNT_LIMIT)
        return RK_ERR_RANGE;
    if (q == 0)
        neg = 0;
    *out = neg ? -(rk_amount)q : (rk_amount)q;
    return RK_OK;
}
