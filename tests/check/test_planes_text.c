/*
 * test_planes_text.c - planes.c's inline number text (wr_u64_text) against
 * rk_u64_text, and its time text (wr_time_text, which keeps the last date)
 * against rk_time_format.  planes.c is compiled into this file (its writers are
 * static), as in test_planes_dec.c.
 */
#include "planes.c"

#include "check_main.h"

static void same_text(uint64_t v)
{
    char a[RK_U64_TEXT_MAX], b[RK_U64_TEXT_MAX];
    size_t na = wr_u64_text(a, v), nb = rk_u64_text(b, v);

    ck_assert_msg(na == nb && memcmp(a, b, na) == 0, "%llu: %.*s vs %.*s",
                  (unsigned long long)v, (int)na, a, (int)nb, b);
}

/* Every number below 200 000, each power of ten and its neighbours, the
 * 10^8 boundary where it hands over to rk_u64_text, and UINT64_MAX. */
START_TEST(u64_text_is_rk_u64_text)
{
    uint64_t v, p = 1;
    int i;

    for (v = 0; v < 200000; v++)
        same_text(v);
    for (i = 0; i < 20; i++) {
        same_text(p - 1);
        same_text(p);
        same_text(p + 1);
        if (i < 19)
            p *= 10;
    }
    for (v = 99999990; v < 100000010; v++)
        same_text(v);
    same_text(UINT64_MAX);
    same_text(UINT64_MAX - 1);
}
END_TEST

/* wr_time_text of t, through w (and its kept date), against rk_time_format */
static void same_time(struct wr *w, int64_t t)
{
    char want[RK_TIME_STR_MAX];
    uint8_t got[RK_TIME_STR_MAX];
    uint8_t *end = wr_time_text(w, got, t);

    rk_time_format(t, want);
    ck_assert_msg(end == got + WR_TIME_LEN && strlen(want) == WR_TIME_LEN &&
                      memcmp(got, want, WR_TIME_LEN) == 0,
                  "%lld: %.30s vs %s", (long long)t, (const char *)got, want);
}

/* t, then whole seconds around it on its day (the kept date's path) */
static void same_times_near(struct wr *w, int64_t t)
{
    static const int64_t step[] = {0, 1, -1, 59, 3600, -3600, 86399, -86399};
    int64_t s = t - t % 1000000000; /* whole seconds (toward 0: either day) */
    size_t i;

    same_time(w, t);
    for (i = 0; i < sizeof step / sizeof step[0]; i++) {
        int64_t u;
        if (!__builtin_mul_overflow(step[i], INT64_C(1000000000), &u) &&
            !__builtin_add_overflow(s, u, &u))
            same_time(w, u);
        same_time(w, t); /* back to t's day, again */
    }
}

/* Edge instants (the int64 ends, 1970, day and second boundaries on both
 * sides of 0, leap days) and random ones from a fixed seed. */
START_TEST(time_text_is_rk_time_format)
{
    static const int64_t edge[] = {
        INT64_MIN, INT64_MIN + 1, INT64_MAX, INT64_MAX - 1, 0, 1, -1,
        999999999, 1000000000, -999999999, -1000000000, -1000000001,
        INT64_C(86400000000000), INT64_C(86400000000000) - 1, INT64_C(-86400000000000),
        INT64_C(-86400000000000) - 1, INT64_C(-86400000000000) + 1,
        INT64_C(951782400000000000),  /* 2000-02-29 */
        INT64_C(4107542400000000000), /* 2100-03-01 */
        INT64_C(1709164800000000000), /* 2024-02-29 */
        INT64_C(-2208988800000000000), /* 1900-01-01 */
    };
    struct wr w;
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    size_t i;

    wr_init(&w, NULL);
    for (i = 0; i < sizeof edge / sizeof edge[0]; i++)
        same_times_near(&w, edge[i]);
    for (i = 0; i < 30000; i++) {
        x ^= x << 13; /* xorshift64 */
        x ^= x >> 7;
        x ^= x << 17;
        /* all of int64, then whole seconds, then the years 2000 to 2100 */
        if (i % 3 == 0)
            same_time(&w, (int64_t)x);
        else if (i % 3 == 1)
            same_times_near(&w, (int64_t)(x >> 1) / 1000000000 * 1000000000);
        else
            same_times_near(&w, INT64_C(946684800000000000) +
                                    (int64_t)(x % UINT64_C(3155760000000000000)));
    }
}
END_TEST

Suite *rk_test_suite(void)
{
    Suite *s = suite_create("planes_text");
    TCase *t = tcase_create("u64");

    tcase_add_test(t, u64_text_is_rk_u64_text);
    tcase_add_test(t, time_text_is_rk_time_format);
    suite_add_tcase(s, t);
    return s;
}
