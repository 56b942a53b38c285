/*
 * test_planes_text.c - planes.c's inline number text (wr_u64_text) against
 * rk_u64_text.  planes.c is compiled into this file (its writers are
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

Suite *rk_test_suite(void)
{
    Suite *s = suite_create("planes_text");
    TCase *t = tcase_create("u64");

    tcase_add_test(t, u64_text_is_rk_u64_text);
    suite_add_tcase(s, t);
    return s;
}
