/* test_record.c - record encoding, decoding, hashing, time text. */
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "record.h"

static const uint8_t prev[32] = { 1, 2, 3 };

static void encode_sample(rk_buf *b, uint8_t hash[32])
{
    char err[RK_ERROR_SIZE];

    ck_assert_int_eq(rk_record_encode(b, RK_KIND_PROVIDER_EVENT, 42, 1700000000123456789LL,
                                      prev, "order-1", 7, (const uint8_t *)"{\"a\":1}", 7,
                                      (const uint8_t *)"raw!", 4, hash, err),
                     RK_OK);
}

START_TEST(round_trip)
{
    rk_buf b = RK_BUF_INIT;
    uint8_t h[32];
    rk_record r;
    char err[RK_ERROR_SIZE];

    encode_sample(&b, h);
    ck_assert_uint_eq(b.len, RK_RECORD_OVERHEAD + 7 + 7 + 4);
    ck_assert_int_eq(rk_record_decode(b.data, b.len, &r, err), RK_OK);
    ck_assert_uint_eq(r.version, 1);
    ck_assert_uint_eq(r.kind, RK_KIND_PROVIDER_EVENT);
    ck_assert(r.seq == 42);
    ck_assert(r.recorded_at == 1700000000123456789LL);
    ck_assert(memcmp(r.prev_hash, prev, 32) == 0);
    ck_assert(r.ref_len == 7 && memcmp(r.ref, "order-1", 7) == 0);
    ck_assert(r.body_len == 7 && memcmp(r.body, "{\"a\":1}", 7) == 0);
    ck_assert(r.raw_len == 4 && memcmp(r.raw, "raw!", 4) == 0);
    ck_assert(memcmp(r.hash, h, 32) == 0);
    ck_assert_int_eq(rk_record_check_hash(b.data, b.len), RK_OK);
    rk_buf_free(&b);
}
END_TEST

/* The layout is fixed byte for byte: check the header fields in place. */
START_TEST(layout_bytes)
{
    rk_buf b = RK_BUF_INIT;
    uint8_t h[32], h2[32];

    encode_sample(&b, h);
    ck_assert(memcmp(b.data, "RKR\x01", 4) == 0);
    ck_assert_int_eq(b.data[4], 2);
    ck_assert_int_eq(b.data[5], 0);
    ck_assert_uint_eq(rk_get_be16(b.data + 6), 7);
    ck_assert(rk_get_be64(b.data + 8) == 42);
    ck_assert_uint_eq(rk_get_be32(b.data + 56), 7);
    ck_assert_uint_eq(rk_get_be32(b.data + 60), 4);
    ck_assert(memcmp(b.data + 64, "order-1{\"a\":1}raw!", 18) == 0);
    rk_sha256(h2, b.data, b.len - 32);
    ck_assert(memcmp(h, h2, 32) == 0);
    ck_assert(memcmp(b.data + b.len - 32, h, 32) == 0);
    rk_buf_free(&b);
}
END_TEST

START_TEST(corrupt_cases)
{
    rk_buf b = RK_BUF_INIT;
    uint8_t h[32];
    rk_record r;
    char err[RK_ERROR_SIZE];
    size_t i;

    encode_sample(&b, h);
    /* truncated at every length */
    for (i = 0; i < b.len; i++)
        ck_assert_int_eq(rk_record_decode(b.data, i, &r, err), RK_ERR_CORRUPT);
    /* wrong version has its own error */
    b.data[3] = 2;
    ck_assert_int_eq(rk_record_decode(b.data, b.len, &r, err), RK_ERR_VERSION);
    ck_assert_str_eq(err, "record format version 2 is not supported");
    b.data[3] = 1;
    /* bad magic, flags */
    b.data[0] = 'X';
    ck_assert_int_eq(rk_record_decode(b.data, b.len, &r, err), RK_ERR_CORRUPT);
    b.data[0] = 'R';
    b.data[5] = 1;
    ck_assert_int_eq(rk_record_decode(b.data, b.len, &r, err), RK_ERR_CORRUPT);
    b.data[5] = 0;
    /* lengths that do not add up, oversized */
    rk_put_be32(b.data + 56, 8);
    ck_assert_int_eq(rk_record_decode(b.data, b.len, &r, err), RK_ERR_CORRUPT);
    rk_put_be32(b.data + 56, RK_BODY_MAX + 1);
    ck_assert_int_eq(rk_record_decode(b.data, b.len, &r, err), RK_ERR_CORRUPT);
    rk_put_be32(b.data + 56, 7);
    ck_assert_int_eq(rk_record_decode(b.data, b.len, &r, err), RK_OK);
    /* every single flipped bit is caught by the hash */
    for (i = 0; i < (b.len - 32) * 8; i++) {
        b.data[i / 8] ^= (uint8_t)(1u << (i % 8));
        ck_assert_int_eq(rk_record_check_hash(b.data, b.len), RK_ERR_CORRUPT);
        b.data[i / 8] ^= (uint8_t)(1u << (i % 8));
    }
    ck_assert_int_eq(rk_record_check_hash(b.data, b.len), RK_OK);
    rk_buf_free(&b);
}
END_TEST

START_TEST(encode_limits)
{
    rk_buf b = RK_BUF_INIT;
    char err[RK_ERROR_SIZE], ref[RK_REF_MAX + 2];
    uint8_t *big = calloc(1, RK_BODY_MAX + 1);

    memset(ref, 'r', sizeof ref);
    ck_assert_int_eq(rk_record_encode(&b, 1, 0, 0, prev, ref, RK_REF_MAX + 1,
                                      (const uint8_t *)"{}", 2, NULL, 0, NULL, err),
                     RK_ERR_TOOBIG);
    ck_assert_int_eq(rk_record_encode(&b, 1, 0, 0, prev, "a\0b", 3,
                                      (const uint8_t *)"{}", 2, NULL, 0, NULL, err),
                     RK_ERR_INVALID);
    ck_assert_int_eq(rk_record_encode(&b, 1, 0, 0, prev, NULL, 0, big, RK_BODY_MAX + 1,
                                      NULL, 0, NULL, err),
                     RK_ERR_TOOBIG);
    ck_assert_int_eq(rk_record_encode(&b, 1, 0, 0, prev, NULL, 0, (const uint8_t *)"{}",
                                      2, big, RK_RAW_MAX + 1, NULL, err),
                     RK_ERR_TOOBIG);
    ck_assert_int_eq(rk_record_encode(&b, 256, 0, 0, prev, NULL, 0,
                                      (const uint8_t *)"{}", 2, NULL, 0, NULL, err),
                     RK_ERR_INVALID);
    ck_assert_uint_eq(b.len, 0);
    free(big);
    rk_buf_free(&b);
}
END_TEST

START_TEST(kind_names)
{
    rk_kind k;
    unsigned i;

    for (i = 0; i <= RK_KIND_KNOWN_MAX; i++) {
        ck_assert_int_eq(rk_kind_parse(rk_kind_name(i), &k), RK_OK);
        ck_assert_uint_eq(k, i);
    }
    ck_assert_str_eq(rk_kind_name(200), "unknown");
    ck_assert_int_eq(rk_kind_parse("unknown", &k), RK_ERR_INVALID);
    ck_assert_int_eq(rk_kind_parse("", &k), RK_ERR_INVALID);
}
END_TEST

START_TEST(time_text)
{
    char s[RK_TIME_STR_MAX];
    int64_t ns = 0;

    rk_time_format(0, s);
    ck_assert_str_eq(s, "1970-01-01T00:00:00.000000000Z");
    rk_time_format(1614265330LL * 1000000000 + 5, s);
    ck_assert_str_eq(s, "2021-02-25T15:02:10.000000005Z");
    rk_time_format(-1, s);
    ck_assert_str_eq(s, "1969-12-31T23:59:59.999999999Z");
    /* the ends of the range: the year always has four digits */
    rk_time_format(INT64_MAX, s);
    ck_assert_str_eq(s, "2262-04-11T23:47:16.854775807Z");
    rk_time_format(INT64_MIN, s);
    ck_assert_str_eq(s, "1677-09-21T00:12:43.145224192Z");
    ck_assert_int_eq(rk_time_parse("2021-02-25T15:02:10.000000005Z", &ns), RK_OK);
    ck_assert(ns == 1614265330LL * 1000000000 + 5);
    ck_assert_int_eq(rk_time_parse("2021-02-25T17:02:10+02:00", &ns), RK_OK);
    ck_assert(ns == 1614265330LL * 1000000000);
    ck_assert_int_eq(rk_time_parse("2024-02-29", &ns), RK_OK);
    rk_time_format(ns, s);
    ck_assert_str_eq(s, "2024-02-29T00:00:00.000000000Z");
    ck_assert_int_eq(rk_time_parse("2023-02-29", &ns), RK_ERR_INVALID);
    ck_assert_int_eq(rk_time_parse("2023-13-01", &ns), RK_ERR_INVALID);
    ck_assert_int_eq(rk_time_parse("2023-01-01T25:00:00Z", &ns), RK_ERR_INVALID);
    ck_assert_int_eq(rk_time_parse("2023-01-01T10:00:00", &ns), RK_ERR_INVALID);
    ck_assert_int_eq(rk_time_parse("2023-01-01T10:00:00.1234567890Z", &ns), RK_ERR_INVALID);
    ck_assert_int_eq(rk_time_parse("2023-01-01T10:00:00Zjunk", &ns), RK_ERR_INVALID);
    ck_assert_int_eq(rk_time_parse("yesterday", &ns), RK_ERR_INVALID);
    ck_assert_int_eq(rk_time_parse("1012-01-01T00:00:00Z", &ns), RK_ERR_RANGE);
    ck_assert_int_eq(rk_time_parse("2262-01-01", &ns), RK_ERR_RANGE);
    ck_assert_int_eq(rk_time_parse("2261-12-31T23:59:59.999999999Z", &ns), RK_OK);
    ck_assert_int_eq(rk_time_parse("1678-01-01T00:00:00Z", &ns), RK_OK);
    ck_assert_int_eq(rk_time_parse("", &ns), RK_ERR_INVALID);
    /* fractions of 1 to 9 digits are scaled to nanoseconds; none is not one */
    ck_assert_int_eq(rk_time_parse("1970-01-01T00:00:00.5Z", &ns), RK_OK);
    ck_assert(ns == 500000000);
    ck_assert_int_eq(rk_time_parse("1970-01-01T00:00:01.0123Z", &ns), RK_OK);
    ck_assert(ns == 1012300000);
    ck_assert_int_eq(rk_time_parse("1970-01-01T00:00:00.123456789Z", &ns), RK_OK);
    ck_assert(ns == 123456789);
    ck_assert_int_eq(rk_time_parse("1970-01-01T00:00:00.Z", &ns), RK_ERR_INVALID);
    ck_assert_int_eq(rk_time_parse("1970-01-01T00:00:00.", &ns), RK_ERR_INVALID);
}
END_TEST

Suite *rk_test_suite(void)
{
    Suite *s = suite_create("record");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, layout_bytes);
    tcase_add_test(tc, corrupt_cases);
    tcase_add_test(tc, encode_limits);
    tcase_add_test(tc, kind_names);
    tcase_add_test(tc, time_text);
    suite_add_tcase(s, tc);
    return s;
}
