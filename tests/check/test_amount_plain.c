/*
 * test_amount_plain.c - rk_amount_parse's fast path (short amounts) against
 * its general path alone.
 *
 * engine/amount.c is compiled a second time into this test, without the
 * fast path (RK_AMOUNT_FAST 0) and with its public names renamed plain_*,
 * so both paths run side by side: the library's rk_amount_parse (fast path
 * first) and plain_amount_parse (the general parser only).  Every text must
 * give the same code, the same value and the same message.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "amount.h"
#include "check_main.h"

#define RK_AMOUNT_FAST 0
#define rk_amount_parse plain_amount_parse
#define rk_amount_format plain_amount_format
#define rk_amount_add plain_amount_add
#define rk_amount_sub plain_amount_sub
#define rk_amount_rescale plain_amount_rescale
#define rk_amount_cmp plain_amount_cmp
#define rk_amount_muldiv plain_amount_muldiv
#include "amount.c"
#undef rk_amount_parse
#undef rk_amount_format
#undef rk_amount_add
#undef rk_amount_sub
#undef rk_amount_rescale
#undef rk_amount_cmp
#undef rk_amount_muldiv

/* Both paths on text[0..len) at decimals: same code, value and message. */
static void same(const char *text, size_t len, unsigned decimals)
{
    char e1[RK_ERROR_SIZE] = "", e2[RK_ERROR_SIZE] = "";
    rk_amount v1 = 7, v2 = 7;
    rk_err r1 = rk_amount_parse(text, len, decimals, &v1, e1);
    rk_err r2 = plain_amount_parse(text, len, decimals, &v2, e2);

    ck_assert_msg(r1 == r2, "'%.*s' at %u: %d vs %d", (int)len, text, decimals, r1, r2);
    ck_assert_msg(v1 == v2, "'%.*s' at %u: values differ", (int)len, text, decimals);
    ck_assert_msg(strcmp(e1, e2) == 0, "'%.*s' at %u: '%s' vs '%s'", (int)len, text,
                  decimals, e1, e2);
}

START_TEST(paths_agree_built)
{
    static const char *ints[] = { "", "0", "00", "01", "1", "9", "10", "123", "999999999",
                                  "1000000000000000000", "9999999999999999999",
                                  "18446744073709551615", "18446744073709551616",
                                  "99999999999999999999", "0000" };
    static const char *fracs[] = { "", ".", ".0", ".5", ".05", ".50", ".00", ".123456789",
                                   ".1234567890123456789", ".000000000000000000001", "..5",
                                   ".5.", ".5e3", ".5 ", "x" };
    static const char *signs[] = { "", "-", "+", "--", " " };
    char t[128];
    size_t a, b, c;
    unsigned d;

    for (a = 0; a < sizeof signs / sizeof signs[0]; a++)
        for (b = 0; b < sizeof ints / sizeof ints[0]; b++)
            for (c = 0; c < sizeof fracs / sizeof fracs[0]; c++) {
                int n = snprintf(t, sizeof t, "%s%s%s", signs[a], ints[b], fracs[c]);

                for (d = 0; d <= RK_AMOUNT_MAX_DECIMALS + 1; d++)
                    same(t, (size_t)n, d);
            }
}
END_TEST

static uint64_t next(uint64_t x)
{
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
}

/* Texts of 0..24 bytes over digits, '.', '-' and a few others, from a fixed
 * pseudo-random sequence (xorshift64), at every decimals up to 20. */
START_TEST(paths_agree_random)
{
    static const char alpha[] = "0123456789012345678900..--+e x";
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    char t[32];
    size_t n, i;
    unsigned k, d;

    for (k = 0; k < 100000; k++) {
        x = next(x);
        n = (size_t)(x % 25);
        d = (unsigned)((x >> 40) % 21);
        for (i = 0; i < n; i++) {
            x = next(x);
            t[i] = alpha[x % (sizeof alpha - 1)];
        }
        same(t, n, d);
    }
}
END_TEST

/* The fast path's edges: 19 bytes, 19 digits after scaling, a NUL inside. */
START_TEST(paths_agree_edges)
{
    unsigned d;

    for (d = 0; d <= 20; d++) {
        same("1234567890123456789", 19, d);
        same("-123456789012345678", 19, d);
        same("123456789.123456789", 19, d);
        same("12345678901234567890", 20, d);
        same("0.000000000000000001", 20, d);
        same("0.00000000000000001", 19, d);
        same("-0", 2, d);
        same("-0.00", 5, d);
        same("-", 1, d);
        same(".", 1, d);
        same("5.", 2, d);
        same(".5", 2, d);
        same("1\0002", 3, d);
        same("1.5", 2, d); /* only "1." is the text */
    }
}
END_TEST

Suite *rk_test_suite(void)
{
    Suite *s = suite_create("amount_plain");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, paths_agree_built);
    tcase_add_test(tc, paths_agree_random);
    tcase_add_test(tc, paths_agree_edges);
    suite_add_tcase(s, tc);
    return s;
}
