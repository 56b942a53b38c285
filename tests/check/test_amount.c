/* test_amount.c - exact decimal amounts: parse, format, arithmetic, limits. */
#include <stdint.h>
#include <string.h>

#include "amount.h"
#include "check_main.h"

/* Parse text at decimals, expect RK_OK, and return the canonical text. */
static const char *round_trip(const char *text, unsigned decimals)
{
    static char out[RK_AMOUNT_STR_MAX];
    char err[RK_ERROR_SIZE] = "";
    rk_amount v = 0;
    rk_err rc = rk_amount_parse(text, strlen(text), decimals, &v, err);

    ck_assert_msg(rc == RK_OK, "parse '%s' at %u: %s", text, decimals, err);
    rk_amount_format(v, decimals, out);
    return out;
}

/* Expect code and a message containing `needle`. */
static void rejects(const char *text, unsigned decimals, rk_err code, const char *needle)
{
    char err[RK_ERROR_SIZE] = "";
    rk_amount v = 12345;
    rk_err rc = rk_amount_parse(text, strlen(text), decimals, &v, err);

    ck_assert_msg(rc == code, "'%s' at %u: got %d want %d (%s)", text, decimals, rc, code, err);
    ck_assert_msg(strstr(err, needle) != NULL, "'%s': message '%s' lacks '%s'", text, err, needle);
    ck_assert_msg(v == 12345, "'%s': output written on failure", text);
}

static rk_amount P(const char *text, unsigned decimals)
{
    rk_amount v = 0;

    ck_assert_int_eq(rk_amount_parse(text, strlen(text), decimals, &v, NULL), RK_OK);
    return v;
}

static const char *F(rk_amount v, unsigned decimals)
{
    static char out[RK_AMOUNT_STR_MAX];

    rk_amount_format(v, decimals, out);
    return out;
}

START_TEST(round_trips)
{
    /* decimals 0 */
    ck_assert_str_eq(round_trip("12", 0), "12");
    ck_assert_str_eq(round_trip("0", 0), "0");
    ck_assert_str_eq(round_trip("-7", 0), "-7");
    ck_assert_str_eq(round_trip("12.000", 0), "12");
    /* decimals 2 */
    ck_assert_str_eq(round_trip("10.5", 2), "10.50");
    ck_assert_str_eq(round_trip("-0.5", 2), "-0.50");
    ck_assert_str_eq(round_trip("0.01", 2), "0.01");
    ck_assert_str_eq(round_trip("1.500", 2), "1.50");
    ck_assert_str_eq(round_trip("0", 2), "0.00");
    /* decimals 8 (BTC) */
    ck_assert_str_eq(round_trip("0.001", 8), "0.00100000");
    ck_assert_str_eq(round_trip("21000000", 8), "21000000.00000000");
    ck_assert_str_eq(round_trip("0.00000001", 8), "0.00000001");
    ck_assert(P("0.00000001", 8) == 1);
    /* decimals 18 (wei) */
    ck_assert(P("0.000000000000000001", 18) == 1);
    ck_assert_str_eq(round_trip("0.000000000000000001", 18), "0.000000000000000001");
    ck_assert_str_eq(round_trip("-1", 18), "-1.000000000000000000");
    /* decimals 30 */
    ck_assert_str_eq(round_trip("0.000000000000000000000000000001", 30),
                     "0.000000000000000000000000000001");
    ck_assert_str_eq(round_trip("12345678", 30), "12345678.000000000000000000000000000000");
    ck_assert_str_eq(round_trip("-0.5", 30), "-0.500000000000000000000000000000");
}
END_TEST

/* Wei values beyond 2^64 and the edges of the 38-digit range. */
START_TEST(wide_values)
{
    rk_amount two64 = (rk_amount)1 << 64, two100 = (rk_amount)1 << 100;
    char err[RK_ERROR_SIZE];
    rk_amount v;

    /* 2^64 wei = 18446744073709551616 */
    ck_assert(P("18.446744073709551616", 18) == two64);
    ck_assert_str_eq(F(two64 + 1, 18), "18.446744073709551617");
    /* 2^100 wei = 1267650600228229401496703205376 */
    ck_assert(P("1267650600228.229401496703205376", 18) == two100);
    ck_assert_str_eq(F(-two100, 18), "-1267650600228.229401496703205376");
    /* the largest amount, 10^38 - 1, at 18 and 0 decimals */
    ck_assert(P("99999999999999999999.999999999999999999", 18) == RK_AMOUNT_LIMIT);
    ck_assert(P("-99999999999999999999999999999999999999", 0) == -RK_AMOUNT_LIMIT);
    ck_assert_str_eq(F(RK_AMOUNT_LIMIT, 18), "99999999999999999999.999999999999999999");
    ck_assert_str_eq(F(-RK_AMOUNT_LIMIT, 30), "-99999999.999999999999999999999999999999");
    /* around 19 digits, where reading moves from 64 to 128 bits */
    ck_assert(P("9999999999999999999", 0) == (rk_amount)9999999999999999999ULL);
    ck_assert(P("1.8446744073709551615", 19) == (rk_amount)18446744073709551615ULL);
    ck_assert(P("18446744073709551616", 0) == two64);
    ck_assert(P("-1844674407370955161.6", 1) == -two64);
    ck_assert(P("12345678.000000000000000000000000000001", 30) ==
              (rk_amount)12345678 * (rk_amount)1000000000000000ULL * 1000000000000000ULL + 1);
    /* 2^128 - 1 wei (uint128 max) does not fit: 39 digits */
    rejects("340282366920938463463.374607431768211455", 18, RK_ERR_RANGE, "out of range");
    /* 10^38 exactly, and 2^127 - 1 (int128 max) */
    rejects("100000000000000000000", 18, RK_ERR_RANGE, "out of range");
    rejects("170141183460469231731687303715884105727", 0, RK_ERR_RANGE, "out of range");
    rejects("-100000000000000000000000000000000000000", 0, RK_ERR_RANGE, "out of range");
    rejects("100000000", 30, RK_ERR_RANGE, "out of range");
    /* a very long digit string does not wrap around */
    rejects("1000000000000000000000000000000000000000000000000000000000000000000000000001",
            0, RK_ERR_RANGE, "out of range");
    /* format handles even int128 min/max (outside the amount range) */
    v = (rk_amount)(((unsigned __int128)1 << 127) - 1);
    ck_assert_str_eq(F(v, 0), "170141183460469231731687303715884105727");
    ck_assert_str_eq(F(-v - 1, 30), "-170141183.460469231731687303715884105728");
    ck_assert_uint_eq(strlen(F(-v - 1, 30)), 41);
    (void)err;
}
END_TEST

START_TEST(rejections)
{
    char err[RK_ERROR_SIZE];
    rk_amount v;

    rejects("", 2, RK_ERR_INVALID, "empty");
    ck_assert_int_eq(rk_amount_parse(NULL, 0, 2, &v, err), RK_ERR_INVALID);
    rejects("+5", 2, RK_ERR_INVALID, "'+'");
    rejects("1e5", 2, RK_ERR_INVALID, "exponent");
    rejects("1.5E2", 2, RK_ERR_INVALID, "exponent");
    rejects("0x10", 2, RK_ERR_INVALID, "hex");
    rejects(" 5", 2, RK_ERR_INVALID, "spaces");
    rejects("5 ", 2, RK_ERR_INVALID, "spaces");
    rejects("1 000", 2, RK_ERR_INVALID, "spaces");
    rejects("5\n", 2, RK_ERR_INVALID, "spaces");
    rejects("5.", 2, RK_ERR_INVALID, "both sides");
    rejects(".5", 2, RK_ERR_INVALID, "both sides");
    rejects("-.5", 2, RK_ERR_INVALID, "both sides");
    rejects(".", 2, RK_ERR_INVALID, "both sides");
    rejects("-", 2, RK_ERR_INVALID, "no digits");
    rejects("--1", 2, RK_ERR_INVALID, "unexpected character");
    rejects("1.2.3", 2, RK_ERR_INVALID, "unexpected character");
    rejects("1,5", 2, RK_ERR_INVALID, "unexpected character");
    rejects("007", 2, RK_ERR_INVALID, "leading zeros");
    rejects("00.5", 2, RK_ERR_INVALID, "leading zeros");
    rejects("-01", 2, RK_ERR_INVALID, "leading zeros");
    rejects("1.005", 2, RK_ERR_INVALID, "more than 2 fraction digits");
    rejects("0.000000001", 8, RK_ERR_INVALID, "more than 8 fraction digits");
    rejects("1.5", 0, RK_ERR_INVALID, "more than 0 fraction digits");
    rejects("1", 31, RK_ERR_INVALID, "31 decimals");
    rejects("NaN", 2, RK_ERR_INVALID, "unexpected character");
    rejects("inf", 2, RK_ERR_INVALID, "unexpected character");
    rejects("\xff", 2, RK_ERR_INVALID, "'?'");
    /* an embedded NUL is a character like any other */
    ck_assert_int_eq(rk_amount_parse("1\0" "2", 3, 2, &v, err), RK_ERR_INVALID);
    /* the length is respected: only "12" of "12.5" */
    ck_assert_int_eq(rk_amount_parse("12.5", 2, 2, &v, err), RK_OK);
    ck_assert(v == 1200);
    /* long text is quoted truncated */
    rejects("1111111111111111111111111111111111111111111111111111111111111x", 0,
            RK_ERR_INVALID, "...'");
}
END_TEST

/* "-0" is accepted as zero and never formatted with a sign. */
START_TEST(negative_zero)
{
    ck_assert(P("-0", 2) == 0);
    ck_assert(P("-0.00", 2) == 0);
    ck_assert(P("-0.000", 2) == 0);
    ck_assert_str_eq(round_trip("-0", 2), "0.00");
    ck_assert_str_eq(round_trip("-0.0", 0), "0");
}
END_TEST

START_TEST(add_sub)
{
    rk_amount r = 99, lim = RK_AMOUNT_LIMIT;

    ck_assert_int_eq(rk_amount_add(P("10.50", 2), P("-0.75", 2), &r), RK_OK);
    ck_assert_str_eq(F(r, 2), "9.75");
    ck_assert_int_eq(rk_amount_sub(P("1", 8), P("0.00000001", 8), &r), RK_OK);
    ck_assert_str_eq(F(r, 8), "0.99999999");
    ck_assert_int_eq(rk_amount_add(lim - 1, 1, &r), RK_OK);
    ck_assert(r == lim);
    r = 99;
    ck_assert_int_eq(rk_amount_add(lim, 1, &r), RK_ERR_RANGE);
    ck_assert_int_eq(rk_amount_add(lim, lim, &r), RK_ERR_RANGE);
    ck_assert_int_eq(rk_amount_add(-lim, -1, &r), RK_ERR_RANGE);
    ck_assert_int_eq(rk_amount_sub(-lim, 1, &r), RK_ERR_RANGE);
    ck_assert_int_eq(rk_amount_sub(lim, -lim, &r), RK_ERR_RANGE);
    ck_assert(r == 99);
    ck_assert_int_eq(rk_amount_sub(-lim, -lim, &r), RK_OK);
    ck_assert(r == 0);
    /* operands outside the range are refused even if the sum would fit */
    ck_assert_int_eq(rk_amount_add(lim + 1, -2, &r), RK_ERR_RANGE);
    ck_assert_int_eq(rk_amount_sub(lim + 1, 2, &r), RK_ERR_RANGE);
}
END_TEST

START_TEST(compare)
{
    rk_amount a = 0;

    ck_assert_int_eq(rk_amount_cmp(1, 2), -1);
    ck_assert_int_eq(rk_amount_cmp(2, 1), 1);
    ck_assert_int_eq(rk_amount_cmp(-RK_AMOUNT_LIMIT, RK_AMOUNT_LIMIT), -1);
    ck_assert_int_eq(rk_amount_cmp(5, 5), 0);
    /* 0.001 BTC (8 decimals) equals 0.001 at 18 decimals after rescaling */
    ck_assert_int_eq(rk_amount_rescale(P("0.001", 8), 8, 18, &a), RK_OK);
    ck_assert_int_eq(rk_amount_cmp(a, P("0.001", 18)), 0);
}
END_TEST

START_TEST(rescale)
{
    rk_amount r = 7;

    ck_assert_int_eq(rk_amount_rescale(P("1.23", 2), 2, 8, &r), RK_OK);
    ck_assert_str_eq(F(r, 8), "1.23000000");
    ck_assert_int_eq(rk_amount_rescale(P("-1.23000000", 8), 8, 2, &r), RK_OK);
    ck_assert_str_eq(F(r, 2), "-1.23");
    ck_assert_int_eq(rk_amount_rescale(P("5", 0), 0, 0, &r), RK_OK);
    ck_assert(r == 5);
    ck_assert_int_eq(rk_amount_rescale(1, 0, 30, &r), RK_OK);
    ck_assert_str_eq(F(r, 30), "1.000000000000000000000000000000");
    r = 7;
    /* would lose a digit */
    ck_assert_int_eq(rk_amount_rescale(P("1.23", 2), 2, 1, &r), RK_ERR_RANGE);
    ck_assert_int_eq(rk_amount_rescale(P("0.000000000000000001", 18), 18, 8, &r), RK_ERR_RANGE);
    /* would overflow 38 digits */
    ck_assert_int_eq(rk_amount_rescale(P("100000000", 0), 0, 30, &r), RK_ERR_RANGE);
    ck_assert_int_eq(rk_amount_rescale(RK_AMOUNT_LIMIT, 0, 1, &r), RK_ERR_RANGE);
    ck_assert_int_eq(rk_amount_rescale(RK_AMOUNT_LIMIT + 1, 0, 0, &r), RK_ERR_RANGE);
    ck_assert_int_eq(rk_amount_rescale(1, 31, 0, &r), RK_ERR_INVALID);
    ck_assert_int_eq(rk_amount_rescale(1, 0, 31, &r), RK_ERR_INVALID);
    ck_assert(r == 7);
    ck_assert_int_eq(rk_amount_rescale(P("99999999.999999999999999999999999999999", 30), 30, 0, &r),
                     RK_ERR_RANGE);
}
END_TEST

static rk_amount md(rk_amount a, rk_amount n, rk_amount d, int mode)
{
    rk_amount r = 0;

    ck_assert_int_eq(rk_amount_muldiv(a, n, d, mode, &r), RK_OK);
    return r;
}

START_TEST(muldiv_rounding)
{
    /* 25 / 10 = 2.5 (a tie) and 27 / 10 = 2.7, both signs */
    static const struct {
        rk_amount a;
        int mode;
        rk_amount want;
    } tie[] = {
        { 25, RK_ROUND_DOWN, 2 },       { -25, RK_ROUND_DOWN, -2 },
        { 25, RK_ROUND_UP, 3 },         { -25, RK_ROUND_UP, -3 },
        { 25, RK_ROUND_FLOOR, 2 },      { -25, RK_ROUND_FLOOR, -3 },
        { 25, RK_ROUND_CEILING, 3 },    { -25, RK_ROUND_CEILING, -2 },
        { 25, RK_ROUND_HALF_EVEN, 2 },  { -25, RK_ROUND_HALF_EVEN, -2 },
        { 35, RK_ROUND_HALF_EVEN, 4 },  { -35, RK_ROUND_HALF_EVEN, -4 },
        { 25, RK_ROUND_HALF_UP, 3 },    { -25, RK_ROUND_HALF_UP, -3 },
        { 27, RK_ROUND_HALF_EVEN, 3 },  { -27, RK_ROUND_HALF_EVEN, -3 },
        { 23, RK_ROUND_HALF_EVEN, 2 },  { -23, RK_ROUND_HALF_EVEN, -2 },
        { 23, RK_ROUND_HALF_UP, 2 },    { 27, RK_ROUND_DOWN, 2 },
        { 21, RK_ROUND_UP, 3 },         { 20, RK_ROUND_UP, 2 },
        { -20, RK_ROUND_FLOOR, -2 },    { 1, RK_ROUND_HALF_EVEN, 0 },
        { 5, RK_ROUND_HALF_EVEN, 0 },   { -5, RK_ROUND_HALF_EVEN, 0 },
        { -1, RK_ROUND_FLOOR, -1 },     { -1, RK_ROUND_DOWN, 0 },
    };
    size_t i;

    for (i = 0; i < sizeof tie / sizeof tie[0]; i++) {
        rk_amount got = md(tie[i].a, 1, 10, tie[i].mode);
        ck_assert_msg(got == tie[i].want, "case %zu: %d -> %d want %d", i, (int)tie[i].a,
                      (int)got, (int)tie[i].want);
    }
    /* signs of num and den count too */
    ck_assert(md(25, -1, 10, RK_ROUND_FLOOR) == -3);
    ck_assert(md(25, 1, -10, RK_ROUND_CEILING) == -2);
    ck_assert(md(-25, -1, -10, RK_ROUND_UP) == -3);
    ck_assert(md(-25, -1, 10, RK_ROUND_HALF_EVEN) == 2);
    /* 50 basis points of 1234.57 USD = 6.17285 -> 6.17 (cents) */
    ck_assert_str_eq(F(md(P("1234.57", 2), 50, 10000, RK_ROUND_HALF_EVEN), 2), "6.17");
    ck_assert_str_eq(F(md(P("1234.57", 2), 50, 10000, RK_ROUND_UP), 2), "6.18");
    /* 1/3 */
    ck_assert_str_eq(F(md(P("1", 18), 1, 3, RK_ROUND_HALF_EVEN), 18), "0.333333333333333333");
    ck_assert_str_eq(F(md(P("2", 18), 1, 3, RK_ROUND_HALF_EVEN), 18), "0.666666666666666667");
}
END_TEST

/* The intermediate product needs more than 128 bits. */
START_TEST(muldiv_wide)
{
    rk_amount lim = RK_AMOUNT_LIMIT, r = 5;
    rk_amount i128max = (rk_amount)(((unsigned __int128)1 << 127) - 1);

    ck_assert(md(lim, lim, lim, RK_ROUND_DOWN) == lim);
    ck_assert(md(-lim, lim, lim, RK_ROUND_DOWN) == -lim);
    ck_assert(md(lim, i128max, i128max, RK_ROUND_HALF_EVEN) == lim);
    /* (10^38-1) * 10^18 / 10^20 = 10^36 - 0.01 */
    ck_assert_str_eq(F(md(lim, P("1", 18), P("1", 20), RK_ROUND_DOWN), 0),
                     "999999999999999999999999999999999999");
    ck_assert_str_eq(F(md(lim, P("1", 18), P("1", 20), RK_ROUND_HALF_EVEN), 0),
                     "1000000000000000000000000000000000000");
    ck_assert_str_eq(F(md(P("123456789012345678901234567890", 0), P("98765432109876543210", 0),
                          P("98765432109876543210", 0), RK_ROUND_DOWN), 0),
                     "123456789012345678901234567890");
    /* (2^127-1)^2 / 1 does not fit */
    ck_assert_int_eq(rk_amount_muldiv(i128max, i128max, 1, RK_ROUND_DOWN, &r), RK_ERR_RANGE);
    ck_assert_int_eq(rk_amount_muldiv(lim, 2, 1, RK_ROUND_DOWN, &r), RK_ERR_RANGE);
    ck_assert_int_eq(rk_amount_muldiv(lim, 1, 1, RK_ROUND_DOWN, &r), RK_OK);
    /* rounding up crosses the limit */
    /* x * (10^38 + 1) / 10^38 = x + x / 10^38: truncates to x, rounds up to x + 1 */
    ck_assert_int_eq(rk_amount_muldiv(lim - 1, lim + 2, lim + 1, RK_ROUND_UP, &r), RK_OK);
    ck_assert(r == lim);
    ck_assert_int_eq(rk_amount_muldiv(lim, lim + 2, lim + 1, RK_ROUND_DOWN, &r), RK_OK);
    ck_assert(r == lim);
    ck_assert_int_eq(rk_amount_muldiv(lim, lim + 2, lim + 1, RK_ROUND_UP, &r), RK_ERR_RANGE);
    ck_assert_int_eq(rk_amount_muldiv(-lim, lim + 2, lim + 1, RK_ROUND_FLOOR, &r), RK_ERR_RANGE);
    ck_assert_int_eq(rk_amount_muldiv(-lim, lim + 2, lim + 1, RK_ROUND_CEILING, &r), RK_OK);
    ck_assert(r == -lim);
    ck_assert_int_eq(rk_amount_muldiv(i128max, 1, 1, RK_ROUND_UP, &r), RK_ERR_RANGE);
    r = 5;
    /* bad arguments */
    ck_assert_int_eq(rk_amount_muldiv(1, 1, 0, RK_ROUND_DOWN, &r), RK_ERR_INVALID);
    ck_assert_int_eq(rk_amount_muldiv(1, 1, 1, 0, &r), RK_ERR_INVALID);
    ck_assert_int_eq(rk_amount_muldiv(1, 1, 1, 7, &r), RK_ERR_INVALID);
    ck_assert(r == 5);
    /* int128 min as an operand: magnitude 2^127 */
    ck_assert(md(-i128max - 1, 1, -i128max - 1, RK_ROUND_DOWN) == 1);
}
END_TEST

START_TEST(format_limits)
{
    char out[RK_AMOUNT_STR_MAX];

    memset(out, 'x', sizeof out);
    ck_assert_uint_eq(rk_amount_format(5, 31, out), 0);
    ck_assert_str_eq(out, "");
    ck_assert_uint_eq(rk_amount_format(-5, 30, out), 33);
    ck_assert_str_eq(out, "-0.000000000000000000000000000005");
    ck_assert_uint_eq(rk_amount_format(0, 0, out), 1);
    ck_assert_str_eq(out, "0");
    /* magnitudes of 2^64 and above are written as two uint64 halves split
     * at 10^19: the low half keeps its zeros */
    ck_assert_uint_eq(rk_amount_format((rk_amount)UINT64_MAX + 1, 0, out), 20);
    ck_assert_str_eq(out, "18446744073709551616");
    ck_assert_uint_eq(rk_amount_format((rk_amount)10000000000000000000ULL * 5 + 7, 2, out), 21);
    ck_assert_str_eq(out, "500000000000000000.07");
    ck_assert_uint_eq(rk_amount_format(-(rk_amount)10000000000000000000ULL * 20, 21, out), 24);
    ck_assert_str_eq(out, "-0.200000000000000000000");
    ck_assert_uint_eq(rk_amount_format((rk_amount)10000000000000000000ULL - 1, 19, out), 21);
    ck_assert_str_eq(out, "0.9999999999999999999");
}
END_TEST

static uint64_t lcg_state = 0x2545F4914F6CDD1DULL;

static uint64_t next64(void)
{
    /* xorshift64*: a fixed, reproducible sequence */
    lcg_state ^= lcg_state >> 12;
    lcg_state ^= lcg_state << 25;
    lcg_state ^= lcg_state >> 27;
    return lcg_state * 0x2545F4914F6CDD1DULL;
}

/* format then parse is the identity over the whole range and all decimals */
START_TEST(round_trip_property)
{
    char out[RK_AMOUNT_STR_MAX], err[RK_ERROR_SIZE];
    int i;

    for (i = 0; i < 20000; i++) {
        unsigned __int128 m = ((unsigned __int128)next64() << 64) | next64();
        unsigned decimals = (unsigned)(next64() % 31);
        rk_amount v, back = 0;
        size_t n;

        m >>= next64() % 128; /* all magnitudes */
        v = (rk_amount)(m % ((unsigned __int128)RK_AMOUNT_LIMIT + 1));
        if (next64() & 1)
            v = -v;
        n = rk_amount_format(v, decimals, out);
        ck_assert_uint_eq(n, strlen(out));
        ck_assert_msg(rk_amount_parse(out, n, decimals, &back, err) == RK_OK, "%s: %s", out, err);
        ck_assert_msg(back == v, "%s at %u", out, decimals);
    }
}
END_TEST

/* muldiv agrees with plain 128-bit arithmetic where the product fits */
START_TEST(muldiv_property)
{
    int i;

    for (i = 0; i < 20000; i++) {
        rk_amount a = (rk_amount)(int64_t)next64() >> (next64() % 64);
        rk_amount num = (rk_amount)(int64_t)next64() >> (next64() % 64);
        rk_amount den = (rk_amount)(int64_t)next64() >> (next64() % 64);
        rk_amount p, q, r, fl, got;
        int mode;

        if (den == 0)
            den = 3;
        p = a * num; /* |p| < 2^126 */
        q = p / den; /* C truncates toward zero */
        r = p % den;
        fl = (r != 0 && ((r < 0) != (den < 0))) ? q - 1 : q; /* floor */
        for (mode = RK_ROUND_DOWN; mode <= RK_ROUND_HALF_UP; mode++) {
            rk_amount want = q, twice = r < 0 ? -2 * r : 2 * r, ad = den < 0 ? -den : den;
            int away = 0;

            switch (mode) {
            case RK_ROUND_DOWN: away = 0; break;
            case RK_ROUND_UP: away = r != 0; break;
            case RK_ROUND_FLOOR: want = fl; break;
            case RK_ROUND_CEILING: want = r != 0 ? fl + 1 : q; break;
            case RK_ROUND_HALF_UP: away = twice >= ad && r != 0; break;
            case RK_ROUND_HALF_EVEN:
                away = twice > ad || (twice == ad && r != 0 && (q & 1) != 0);
                break;
            }
            if (away)
                want += (p < 0) != (den < 0) ? -1 : 1;
            ck_assert_int_eq(rk_amount_muldiv(a, num, den, mode, &got), RK_OK);
            ck_assert_msg(got == want, "mode %d: %lld * %lld / %lld", mode, (long long)a,
                          (long long)num, (long long)den);
        }
    }
}
END_TEST

Suite *rk_test_suite(void)
{
    Suite *s = suite_create("amount");
    TCase *tc = tcase_create("amount");

    tcase_add_test(tc, round_trips);
    tcase_add_test(tc, wide_values);
    tcase_add_test(tc, rejections);
    tcase_add_test(tc, negative_zero);
    tcase_add_test(tc, add_sub);
    tcase_add_test(tc, compare);
    tcase_add_test(tc, rescale);
    tcase_add_test(tc, muldiv_rounding);
    tcase_add_test(tc, muldiv_wide);
    tcase_add_test(tc, format_limits);
    tcase_add_test(tc, round_trip_property);
    tcase_add_test(tc, muldiv_property);
    suite_add_tcase(s, tc);
    return s;
}
