/*
 * test_planes_dec.c - the fold's exact decimals: dec_align, dec_add and
 * dec_cmp against the plain rule they shortcut, and dec_parse_n's one pass
 * against the parse rule (parse_matches_the_rule).
 *
 * dec_align skips rk_amount_rescale when both scales are equal or when a
 * zero rises to the other's scale, and dec_add tests the sum's range
 * inline instead of calling rk_amount_add.  The rule they must keep is the
 * one written out below with the library calls: rescale both to the larger
 * scale, then add, -1 on any failure.  planes.c is compiled into this file
 * (as test_replay_plain.c does) so its static helpers can be called; every
 * pair of a grid of values and scales, the range's edges and sums past it
 * included, must give the same return and leave both operands with the
 * same value and scale, on failure too.
 */
#include "planes.c"

#include "check_main.h"

/* The rule, with the library's calls only. */
static int ref_align(dec *a, dec *b)
{
    unsigned s = a->scale > b->scale ? a->scale : b->scale;

    if (rk_amount_rescale(a->v, a->scale, s, &a->v) != RK_OK ||
        rk_amount_rescale(b->v, b->scale, s, &b->v) != RK_OK)
        return -1;
    a->scale = b->scale = s;
    return 0;
}

static int ref_add(dec *acc, dec x)
{
    if (ref_align(acc, &x) != 0)
        return -1;
    return rk_amount_add(acc->v, x.v, &acc->v) == RK_OK ? 0 : -1;
}

static int ref_cmp(dec a, dec b, int *out)
{
    if (ref_align(&a, &b) != 0)
        return -1;
    *out = rk_amount_cmp(a.v, b.v);
    return 0;
}

#define LIM RK_AMOUNT_LIMIT

static size_t grid_values(rk_amount *v)
{
    rk_amount p = 1;
    size_t n = 0;
    int i;

    v[n++] = 0;
    for (i = 0; i <= 36; i += 6) { /* 1, 10^6, ... 10^36 and neighbours */
        v[n++] = p;
        v[n++] = -p;
        v[n++] = p - 1;
        v[n++] = p * 7 + 3;
        if (i < 36)
            p *= 1000000;
    }
    v[n++] = LIM;
    v[n++] = -LIM;
    v[n++] = LIM - 1;
    v[n++] = -LIM + 1;
    v[n++] = LIM + 1; /* out of range: no parse makes one, the rule still holds */
    v[n++] = -LIM - 1;
    v[n++] = LIM / 2;
    v[n++] = LIM / 2 + 1;
    v[n++] = -(LIM / 2) - 1;
    v[n++] = (rk_amount)(((unsigned __int128)1 << 127) - 1); /* int128's largest */
    v[n++] = -(rk_amount)(((unsigned __int128)1 << 127) - 1) - 1;
    v[n++] = (rk_amount)100000000; /* 1 BTC in satoshis */
    v[n++] = (rk_amount)10000000000000000000ULL;
    return n;
}

static const unsigned scales[] = {0, 1, 2, 6, 8, 18, 29, 30, 31, 40, 255};

/* Same value and scale.  (The loop below calls ck_abort_msg only on a
 * difference: a ck_assert per pair writes to check's pipe, 10^6 times.) */
static int same(const dec *a, const dec *b)
{
    return a->v == b->v && a->scale == b->scale;
}

START_TEST(align_add_cmp_match_the_rule)
{
    rk_amount v[64];
    size_t nv = grid_values(v), ns = sizeof scales / sizeof scales[0];
    size_t i, j, fails = 0, oks = 0;

    ck_assert_uint_le(nv, 64);
    for (i = 0; i < nv * ns; i++) {
        for (j = 0; j < nv * ns; j++) {
            dec a = {v[i / ns], scales[i % ns]}, b = {v[j / ns], scales[j % ns]};
            dec a1 = a, b1 = b, a2 = a, b2 = b;
            int r1, r2, c1 = 7, c2 = 7;

            r1 = dec_align(&a1, &b1);
            r2 = ref_align(&a2, &b2);
            if (r1 != r2 || !same(&a1, &a2) || !same(&b1, &b2))
                ck_abort_msg("align: pair %zu/%zu differs", i, j);

            a1 = a;
            a2 = a;
            r1 = dec_add(&a1, b);
            r2 = ref_add(&a2, b);
            if (r1 != r2 || !same(&a1, &a2))
                ck_abort_msg("add: pair %zu/%zu differs", i, j);
            if (r1 == 0)
                oks++;
            else
                fails++;

            r1 = dec_cmp(a, b, &c1);
            r2 = ref_cmp(a, b, &c2);
            if (r1 != r2 || c1 != c2)
                ck_abort_msg("cmp: pair %zu/%zu differs", i, j);
        }
    }
    /* both outcomes are well represented */
    ck_assert_uint_gt(oks, 1000);
    ck_assert_uint_gt(fails, 1000);
}
END_TEST

/* The overflow cases by name: the sum's range, int128's own overflow, and
 * a sum that overflows after a zero took the other's scale. */
START_TEST(add_overflow_cases)
{
    dec acc = {LIM, 2}, x = {1, 2};

    ck_assert_int_eq(dec_add(&acc, x), -1); /* LIM + 1: past the range */
    ck_assert(acc.v == LIM && acc.scale == 2);
    x.v = -1;
    ck_assert_int_eq(dec_add(&acc, x), 0);
    ck_assert(acc.v == LIM - 1);
    x.v = LIM;
    acc.v = LIM;
    ck_assert_int_eq(dec_add(&acc, x), -1); /* 2 LIM > 2^127: int128 overflows */
    ck_assert(acc.v == LIM);
    acc.v = -LIM;
    x.v = -LIM;
    ck_assert_int_eq(dec_add(&acc, x), -1);
    acc.v = -LIM;
    x.v = LIM;
    ck_assert_int_eq(dec_add(&acc, x), 0);
    ck_assert(acc.v == 0 && acc.scale == 2);
    /* a fresh sum takes the row's scale, then overflows like any other */
    acc.v = 0;
    acc.scale = 0;
    x.v = LIM;
    x.scale = 8;
    ck_assert_int_eq(dec_add(&acc, x), 0);
    ck_assert(acc.v == LIM && acc.scale == 8);
    ck_assert_int_eq(dec_add(&acc, x), -1);
    ck_assert(acc.v == LIM && acc.scale == 8);
    /* out of range in: fails, the zero's scale untouched */
    acc.v = 0;
    acc.scale = 0;
    x.v = LIM + 1;
    ck_assert_int_eq(dec_add(&acc, x), -1);
    ck_assert(acc.v == 0 && acc.scale == 0);
    /* a scale past the maximum: the library's answer (fails) */
    x.v = 1;
    x.scale = RK_AMOUNT_MAX_DECIMALS + 1;
    ck_assert_int_eq(dec_add(&acc, x), -1);
    ck_assert(acc.v == 0 && acc.scale == 0);
}
END_TEST

/*
 * dec_parse_n's one pass against the rule it shortcuts, written out with
 * the library calls: the scale is the count of bytes after the first dot
 * (at most RK_AMOUNT_MAX_DECIMALS), then rk_amount_parse at that scale.
 * The same return, and on success the same value and scale.
 */
static int ref_parse(const char *s, size_t n, dec *out)
{
    const char *dot = memchr(s, '.', n);
    unsigned scale = dot != NULL ? (unsigned)(n - (size_t)(dot - s) - 1) : 0;

    if (scale > RK_AMOUNT_MAX_DECIMALS || rk_amount_parse(s, n, scale, &out->v, NULL) != RK_OK)
        return -1;
    out->scale = scale;
    return 0;
}

static void parse_same(const char *s, size_t n)
{
    dec a = { 7, 3 }, b = { 7, 3 };
    int ra = dec_parse_n(s, n, &a), rb = ref_parse(s, n, &b);

    ck_assert_msg(ra == rb, "'%.*s': %d, the rule %d", (int)n, s, ra, rb);
    if (ra == 0)
        ck_assert_msg(a.v == b.v && a.scale == b.scale, "'%.*s': another value", (int)n, s);
}

/* xorshift64: a fixed sequence, the same on every run */
static uint64_t next_rand(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

START_TEST(parse_matches_the_rule)
{
    static const char *const edge[] = {
        "", "0", "-0", "0.0", "-0.0", "00", "01", "-01", "0.", "5.", ".5", "-.5", "-", "+",
        "+1", "--1", "1.2.3", "1..2", "1e5", "0x10", " 1", "1 ", "1,5", "12.50", "-12.50",
        "0.00100799", "895.00", "97000.00", "9999999999999999999", "-9999999999999999999",
        "999999999999999999.9", "1234567890123456789", "12345678901234567890",
        "0.000000000000000001", "0.00000000000000001", "1.000000000000000000000000000000",
        "1.0000000000000000000000000000000", "0.000000000000000000000000000001",
        "99999999999999999999999999999999999999", "-99999999999999999999999999999999999999",
        "100000000000000000000000000000000000000", "9999999999999999999999999999999999999.9",
        "99999999.999999999999999999999999999999", "999999999.999999999999999999999999999999",
        "18446744073709551615", "18446744073709551616", "9223372036854775808",
        "170141183460469231731687303715884105727", "1\\u0030", "٣",
    };
    static const char alpha[] = "0123456789012345678901234567890123456789.-+e \\x";
    char buf[96]; /* a sign, 40 + 32 digits and a dot at most */
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    size_t i, j, n;

    for (i = 0; i < sizeof edge / sizeof edge[0]; i++)
        parse_same(edge[i], strlen(edge[i]));
    /* any bytes of an amount's alphabet, lengths 0..45 */
    for (i = 0; i < 200000; i++) {
        n = next_rand(&x) % 46;
        for (j = 0; j < n; j++)
            buf[j] = alpha[next_rand(&x) % (sizeof alpha - 1)];
        parse_same(buf, n);
    }
    /* well-formed amounts: sign, 1..40 integer digits, 0..32 fraction digits */
    for (i = 0; i < 200000; i++) {
        size_t in = 1 + next_rand(&x) % 40, fr = next_rand(&x) % 33;

        n = 0;
        if (next_rand(&x) & 1)
            buf[n++] = '-';
        buf[n++] = (char)('1' + next_rand(&x) % 9);
        for (j = 1; j < in; j++)
            buf[n++] = (char)('0' + next_rand(&x) % 10);
        if (fr > 0) {
            buf[n++] = '.';
            for (j = 0; j < fr; j++)
                buf[n++] = (char)('0' + next_rand(&x) % 10);
        }
        parse_same(buf, n);
        if (in == 1) { /* the same with a zero integer part */
            buf[buf[0] == '-'] = '0';
            parse_same(buf, n);
        }
    }
}
END_TEST

Suite *rk_test_suite(void)
{
    Suite *s = suite_create("planes_dec");
    TCase *tc = tcase_create("limits");

    tcase_add_test(tc, align_add_cmp_match_the_rule);
    tcase_add_test(tc, add_overflow_cases);
    tcase_add_test(tc, parse_matches_the_rule);
    suite_add_tcase(s, tc);
    return s;
}
