/* test_bytes.c - big-endian, hex, base64, SHA-256 and rk_buf. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bytes.h"
#include "check_main.h"

START_TEST(be_round_trip)
{
    uint8_t p[8];

    rk_put_be64(p, 0x0102030405060708ULL);
    ck_assert_int_eq(p[0], 1);
    ck_assert_int_eq(p[7], 8);
    ck_assert(rk_get_be64(p) == 0x0102030405060708ULL);
    rk_put_be32(p, 0xdeadbeef);
    ck_assert_uint_eq(rk_get_be32(p), 0xdeadbeef);
    rk_put_be16(p, 0xbeef);
    ck_assert_uint_eq(rk_get_be16(p), 0xbeef);
}
END_TEST

/* FIPS 180-2 appendix B.1 ("abc") and the empty message. */
START_TEST(sha256_vectors)
{
    uint8_t h[32];
    char hex[65];
    rk_sha256_ctx *c = rk_sha256_new();

    rk_sha256(h, "abc", 3);
    rk_hex_encode(hex, h, 32);
    ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    rk_sha256(h, "", 0);
    rk_hex_encode(hex, h, 32);
    ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    ck_assert_ptr_nonnull(c);
    rk_sha256_update(c, "a", 1);
    rk_sha256_update(c, "bc", 2);
    rk_sha256_final(c, h);
    rk_hex_encode(hex, h, 32);
    ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    rk_sha256_free(c);
    rk_sha256_free(NULL);
}
END_TEST

START_TEST(hex_decode_errors)
{
    uint8_t b[2];

    ck_assert_int_eq(rk_hex_decode(b, 2, "0aFf", 4), RK_OK);
    ck_assert_int_eq(b[0], 0x0a);
    ck_assert_int_eq(b[1], 0xff);
    ck_assert_int_eq(rk_hex_decode(b, 2, "0aF", 3), RK_ERR_INVALID);
    ck_assert_int_eq(rk_hex_decode(b, 2, "0aFg", 4), RK_ERR_INVALID);
}
END_TEST

/* RFC 4648 section 10. */
START_TEST(base64_vectors)
{
    char out[16];
    uint8_t bin[8];
    size_t n = 0;

    rk_b64_encode(out, sizeof out, (const uint8_t *)"foob", 4);
    ck_assert_str_eq(out, "Zm9vYg==");
    ck_assert_int_eq(rk_b64_decode(bin, sizeof bin, &n, "Zm9vYmFy", 8), RK_OK);
    ck_assert_uint_eq(n, 6);
    ck_assert(memcmp(bin, "foobar", 6) == 0);
    ck_assert_int_eq(rk_b64_decode(bin, sizeof bin, &n, "Zm9vYg=", 7), RK_ERR_INVALID);
    ck_assert_int_eq(rk_b64_decode(bin, sizeof bin, &n, "Zm9v Yg==", 9), RK_ERR_INVALID);
    ck_assert_int_eq(rk_b64_decode(bin, 2, &n, "Zm9vYmFy", 8), RK_ERR_INVALID);
}
END_TEST

START_TEST(buf_grows)
{
    rk_buf b = RK_BUF_INIT;
    int i;

    for (i = 0; i < 1000; i++)
        ck_assert_int_eq(rk_buf_printf(&b, "%d,", i), RK_OK);
    ck_assert_uint_eq(b.len, strlen((char *)b.data));
    ck_assert(memcmp(b.data, "0,1,2,", 6) == 0);
    rk_buf_reset(&b);
    ck_assert_uint_eq(b.len, 0);
    rk_buf_free(&b);
    rk_buf_free(NULL);
}
END_TEST

START_TEST(read_file_limits)
{
    rk_buf b = RK_BUF_INIT;
    char err[RK_ERROR_SIZE];

    ck_assert_int_eq(rk_buf_read_file(&b, "/nonexistent/x", 10, err), RK_ERR_NOTFOUND);
    ck_assert_ptr_nonnull(strstr(err, "cannot open '/nonexistent/x'"));
    ck_assert_int_eq(rk_buf_read_file(&b, "/etc/passwd", 4, err), RK_ERR_TOOBIG);
    rk_buf_free(&b);
}
END_TEST

START_TEST(u64_text)
{
    char t[RK_U64_TEXT_MAX];

    ck_assert_uint_eq(rk_u64_text(t, 0), 1);
    ck_assert(memcmp(t, "0", 1) == 0);
    ck_assert_uint_eq(rk_u64_text(t, 10), 2);
    ck_assert(memcmp(t, "10", 2) == 0);
    ck_assert_uint_eq(rk_u64_text(t, UINT64_MAX), 20);
    ck_assert(memcmp(t, "18446744073709551615", 20) == 0);
    /* every length, at both ends: 10^k - 1 and 10^k, against printf */
    {
        uint64_t p = 1;
        char want[32];
        int k, d;

        for (k = 0; k < 20; k++, p *= 10) {
            for (d = -1; d <= 1; d++) {
                uint64_t v = p + (uint64_t)(int64_t)d;
                size_t n = rk_u64_text(t, v);
                ck_assert_uint_eq(n, (size_t)snprintf(want, sizeof want, "%" PRIu64, v));
                ck_assert_msg(memcmp(t, want, n) == 0, "%s", want);
            }
        }
    }
    /* every bit length, at both ends: 2^k - 1 and 2^k (the count reads
     * the bit length) */
    {
        char want[32];
        int k;

        for (k = 1; k < 64; k++) {
            uint64_t v = (uint64_t)1 << k;
            size_t n = rk_u64_text(t, v - 1);
            ck_assert_uint_eq(n, (size_t)snprintf(want, sizeof want, "%" PRIu64, v - 1));
            ck_assert_msg(memcmp(t, want, n) == 0, "%s", want);
            n = rk_u64_text(t, v);
            ck_assert_uint_eq(n, (size_t)snprintf(want, sizeof want, "%" PRIu64, v));
            ck_assert_msg(memcmp(t, want, n) == 0, "%s", want);
        }
    }
}
END_TEST

START_TEST(utf8_rules)
{
    uint32_t cp = 0;

    ck_assert_uint_eq(rk_utf8_next((const uint8_t *)"A", 1, &cp), 1);
    ck_assert_uint_eq(cp, 'A');
    ck_assert_uint_eq(rk_utf8_next((const uint8_t *)"\xc3\xa9", 2, &cp), 2);
    ck_assert_uint_eq(cp, 0xe9);
    ck_assert_uint_eq(rk_utf8_next((const uint8_t *)"\xe2\x82\xac", 3, &cp), 3);
    ck_assert_uint_eq(cp, 0x20ac);
    ck_assert_uint_eq(rk_utf8_next((const uint8_t *)"\xf0\x9f\x98\x80", 4, &cp), 4);
    ck_assert_uint_eq(cp, 0x1f600);
    ck_assert_uint_eq(rk_utf8_next((const uint8_t *)"\xc0\x80", 2, NULL), 0);     /* overlong */
    ck_assert_uint_eq(rk_utf8_next((const uint8_t *)"\xe0\x80\x80", 3, NULL), 0); /* overlong */
    ck_assert_uint_eq(rk_utf8_next((const uint8_t *)"\xed\xa0\x80", 3, NULL), 0); /* surrogate */
    ck_assert_uint_eq(rk_utf8_next((const uint8_t *)"\xf4\x90\x80\x80", 4, NULL), 0); /* > U+10FFFF */
    ck_assert_uint_eq(rk_utf8_next((const uint8_t *)"\xe2\x82", 2, NULL), 0);     /* truncated */
    ck_assert_uint_eq(rk_utf8_next((const uint8_t *)"\x80", 1, NULL), 0);         /* stray */
    ck_assert_uint_eq(rk_utf8_next((const uint8_t *)"", 0, NULL), 0);
    ck_assert_int_eq(rk_utf8_valid((const uint8_t *)"caf\xc3\xa9", 5), 1);
    ck_assert_int_eq(rk_utf8_valid((const uint8_t *)"a\0b", 3), 0);
    ck_assert_int_eq(rk_utf8_valid((const uint8_t *)"ab\xff", 3), 0);
    ck_assert_int_eq(rk_hex_digit('f'), 15);
    ck_assert_int_eq(rk_hex_digit('F'), 15);
    ck_assert_int_eq(rk_hex_digit('g'), -1);
}
END_TEST

Suite *rk_test_suite(void)
{
    Suite *s = suite_create("bytes");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, be_round_trip);
    tcase_add_test(tc, sha256_vectors);
    tcase_add_test(tc, hex_decode_errors);
    tcase_add_test(tc, base64_vectors);
    tcase_add_test(tc, buf_grows);
    tcase_add_test(tc, read_file_limits);
    tcase_add_test(tc, utf8_rules);
    tcase_add_test(tc, u64_text);
    suite_add_tcase(s, tc);
    return s;
}
