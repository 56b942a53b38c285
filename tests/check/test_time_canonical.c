/*
 * test_time_canonical.c - the canonical-form fast path of rk_time_parse and
 * rk_time_parse_n ("YYYY-MM-DDTHH:MM:SS.fffffffffZ", 30 bytes, read by word
 * tricks in record.c) against the general parser and against a day count
 * written plainly here.  The general parser never sees a 30-byte text that
 * the fast path accepts, so each text is compared with forms of the same
 * instant only the general parser reads: the zone as "+00:00" or "-00:00",
 * a lowercase 'z', the fraction without its trailing zeros.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "record.h"

static int leap(long y)
{
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

static int month_len(long y, int m)
{
    static const int len[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    return m == 2 && leap(y) ? 29 : len[m - 1];
}

/*
 * The reference: 1 and *ns when the fields make a time the parsers accept
 * (years 1678..2261, a real date, 23:59:59 at most), the days counted one
 * year and one month at a time from 1970.
 */
static int ref_time(long y, int mo, int d, int h, int mi, int s, long frac, int64_t *ns)
{
    int64_t days = 0;
    long yy;
    int m;

    if (y < 1678 || y > 2261 || mo < 1 || mo > 12 || d < 1 || d > month_len(y, mo) ||
        h > 23 || mi > 59 || s > 59)
        return 0;
    for (yy = 1970; yy < y; yy++)
        days += leap(yy) ? 366 : 365;
    for (yy = y; yy < 1970; yy++)
        days -= leap(yy) ? 366 : 365;
    for (m = 1; m < mo; m++)
        days += month_len(y, m);
    days += d - 1;
    *ns = ((days * 24 + h) * 60 + mi) * 60 + s;
    *ns = *ns * 1000000000 + frac;
    return 1;
}

/* t (30 bytes, NUL-terminated) through rk_time_parse, rk_time_parse_n with
 * junk after the 30 bytes, and the general parser's forms of it; all must
 * agree in code and value.  Returns the code. */
static rk_err check_text(const char *t)
{
    char buf[80], form[80];
    int64_t a = 1, b = 2, c = 3;
    rk_err ra, rb, rc;
    size_t k, n;

    ck_assert_uint_eq(strlen(t), 30);
    ra = rk_time_parse(t, &a);
    memcpy(buf, t, 30);
    memcpy(buf + 30, "1:00Zjunk", 10); /* no NUL at 30: parse_n reads 30 bytes */
    rb = rk_time_parse_n(buf, 30, &b);
    ck_assert_msg(ra == rb, "'%s': parse %d, parse_n %d", t, (int)ra, (int)rb);
    if (ra == RK_OK)
        ck_assert_msg(a == b, "'%s': parse and parse_n values differ", t);
    /* the zone written out, or a lowercase 'z', when t ends in Z; any other
     * last byte makes no time the general parser accepts */
    if (t[29] != 'Z' && t[29] != 'z') {
        ck_assert_msg(ra == RK_ERR_INVALID, "'%s': rc %d", t, (int)ra);
        return ra;
    }
    for (k = 0; k < 3; k++) {
        memcpy(form, t, 29);
        strcpy(form + 29, k == 0 ? "+00:00" : k == 1 ? "-00:00" : "z");
        rc = rk_time_parse(form, &c);
        ck_assert_msg(ra == rc, "'%s': %d, '%s': %d", t, (int)ra, form, (int)rc);
        if (ra == RK_OK)
            ck_assert_msg(a == c, "'%s' and '%s': values differ", t, form);
    }
    /* the fraction without trailing zeros (none left: no fraction) */
    if (t[19] == '.') {
        for (n = 29; n > 20 && t[n - 1] == '0'; n--)
            ;
        if (n == 20)
            n = 19;
        if (n < 29) {
            memcpy(form, t, n);
            strcpy(form + n, "Z");
            rc = rk_time_parse(form, &c);
            ck_assert_msg(ra == rc, "'%s': %d, '%s': %d", t, (int)ra, form, (int)rc);
            if (ra == RK_OK)
                ck_assert_msg(a == c, "'%s' and '%s': values differ", t, form);
        }
    }
    return ra;
}

/* The fields as a canonical text (the year as four digits, any field may
 * be out of range), checked as above and against the reference. */
static void check_fields(long y, int mo, int d, int h, int mi, int s, long frac)
{
    char t[64];
    int64_t want, got;
    rk_err rc;

    snprintf(t, sizeof t, "%04ld-%02d-%02dT%02d:%02d:%02d.%09ldZ", y, mo, d, h, mi, s, frac);
    rc = check_text(t);
    if (!ref_time(y, mo, d, h, mi, s, frac, &want)) {
        /* out of range years are RANGE, other misses INVALID */
        ck_assert_msg(rc == ((y < 1678 || y > 2261) ? RK_ERR_RANGE : RK_ERR_INVALID),
                      "'%s': rc %d", t, (int)rc);
        return;
    }
    ck_assert_msg(rc == RK_OK, "'%s': rc %d", t, (int)rc);
    ck_assert_int_eq(rk_time_parse(t, &got), RK_OK);
    ck_assert_msg(got == want, "'%s': %lld, want %lld", t, (long long)got, (long long)want);
}

START_TEST(canonical_edge_dates)
{
    static const long years[] = {1,    1600, 1677, 1678, 1679, 1700, 1800, 1899, 1900,
                                 1904, 1969, 1970, 1971, 1999, 2000, 2001, 2023, 2024,
                                 2100, 2104, 2200, 2260, 2261, 2262, 2400, 9999};
    size_t i;
    int mo, d;
    int64_t ns;

    /* every month end and its neighbours, days 0..32, months 0..13 */
    for (i = 0; i < sizeof years / sizeof years[0]; i++)
        for (mo = 0; mo <= 13; mo++)
            for (d = 0; d <= 32; d++) {
                check_fields(years[i], mo, d, 0, 0, 0, 0);
                check_fields(years[i], mo, d, 23, 59, 59, 999999999);
            }
    /* the leap days by name */
    ck_assert_int_eq(check_text("2000-02-29T00:00:00.000000000Z"), RK_OK);
    ck_assert_int_eq(check_text("2024-02-29T12:00:00.000000000Z"), RK_OK);
    ck_assert_int_eq(check_text("2100-02-29T00:00:00.000000000Z"), RK_ERR_INVALID);
    ck_assert_int_eq(check_text("2023-02-29T00:00:00.000000000Z"), RK_ERR_INVALID);
    ck_assert_int_eq(check_text("1900-02-29T00:00:00.000000000Z"), RK_ERR_INVALID);
    /* the epoch and the bounds of int64 nanoseconds the parser takes */
    ck_assert_int_eq(rk_time_parse("1970-01-01T00:00:00.000000000Z", &ns), RK_OK);
    ck_assert(ns == 0);
    ck_assert_int_eq(rk_time_parse("1970-01-01T00:00:00.000000001Z", &ns), RK_OK);
    ck_assert(ns == 1);
    ck_assert_int_eq(rk_time_parse("1969-12-31T23:59:59.999999999Z", &ns), RK_OK);
    ck_assert(ns == -1);
    ck_assert_int_eq(check_text("0001-01-01T00:00:00.000000000Z"), RK_ERR_RANGE);
    ck_assert_int_eq(check_text("9999-12-31T23:59:59.999999999Z"), RK_ERR_RANGE);
    ck_assert_int_eq(check_text("0000-00-00T00:00:00.000000000Z"), RK_ERR_RANGE);
    ck_assert_int_eq(check_text("1678-01-01T00:00:00.000000000Z"), RK_OK);
    ck_assert_int_eq(check_text("2261-12-31T23:59:59.999999999Z"), RK_OK);
    ck_assert_int_eq(check_text("1677-12-31T23:59:59.999999999Z"), RK_ERR_RANGE);
    ck_assert_int_eq(check_text("2262-01-01T00:00:00.000000000Z"), RK_ERR_RANGE);
    /* hours, minutes and seconds at and past their limits */
    for (d = 0; d <= 99; d++) {
        check_fields(2024, 12, 31, d, 0, 0, 0);
        check_fields(2024, 12, 31, 0, d, 0, 0);
        check_fields(2024, 12, 31, 0, 0, d, 0);
        check_fields(2024, 12, 31, 23, d, 59, 0);
        check_fields(2024, d, 1, 0, 0, 0, 0);
        check_fields(2024, 1, d, 0, 0, 0, 0);
    }
}
END_TEST

START_TEST(canonical_every_byte)
{
    static const char *const base[] = {
        "2021-02-25T15:02:10.000000005Z", "2000-02-29T23:59:59.999999999Z",
        "1970-01-01T00:00:00.000000000Z", "2261-12-31T23:59:59.123456789Z",
        "1678-01-01T00:00:00.987654321Z", "2024-10-09T19:09:09.090909090Z",
    };
    char t[64];
    size_t b, i;
    unsigned v;

    /* every byte position set to every other byte value but NUL (the
     * texts hold none): non-digits, neighbour digits, separators */
    for (b = 0; b < sizeof base / sizeof base[0]; b++) {
        ck_assert_int_eq(check_text(base[b]), RK_OK);
        for (i = 0; i < 30; i++)
            for (v = 1; v < 256; v++) {
                if ((char)v == base[b][i])
                    continue;
                memcpy(t, base[b], 31);
                t[i] = (char)v;
                check_text(t);
            }
    }
}
END_TEST

START_TEST(canonical_random)
{
    uint64_t seed = 0x2545F4914F6CDD1DULL; /* fixed: the same run every time */
    unsigned i;

    for (i = 0; i < 200000; i++) {
        long y, frac;
        int mo, d, h, mi, s;

        /* xorshift64 */
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        y = 1600 + (long)(seed % 720);            /* 1600..2319: past both bounds */
        mo = (int)((seed >> 12) % 14);            /* 0..13 */
        d = (int)((seed >> 16) % 33);             /* 0..32 */
        h = (int)((seed >> 22) % 26);             /* 0..25 */
        mi = (int)((seed >> 27) % 62);            /* 0..61 */
        s = (int)((seed >> 33) % 62);             /* 0..61 */
        frac = (long)((seed >> 39) % 1000000000u); /* 0..999999999 */
        if (i % 4 == 0) /* mostly valid, so most texts take the fast path */
            check_fields(y, mo, d, h, mi, s, frac);
        else
            check_fields(1678 + y % 584, 1 + mo % 12, 1 + d % 28, h % 24, mi % 60, s % 60,
                         frac);
    }
}
END_TEST

Suite *rk_test_suite(void)
{
    Suite *s = suite_create("time_canonical");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, canonical_edge_dates);
    tcase_add_test(tc, canonical_every_byte);
    tcase_add_test(tc, canonical_random);
    suite_add_tcase(s, tc);
    return s;
}
