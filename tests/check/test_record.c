/* test_record.c - record encoding, decoding, hashing, time text. */
#include <stdio.h>
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

/* Decode of b with one or more header faults: code and message are those of
 * the first failing check in the order of formats/record.md (magic, version,
 * flags, limits, total length, reference), however many fields are wrong:
 * rk_record_decode tests them all at once and then names the first. */
static void reject_is(const rk_buf *b, rk_err code, const char *msg)
{
    rk_record r;
    char err[RK_ERROR_SIZE];

    ck_assert_int_eq(rk_record_decode(b->data, b->len, &r, err), code);
    ck_assert_str_eq(err, msg);
}

START_TEST(corrupt_first_fault)
{
    rk_buf b = RK_BUF_INIT, good = RK_BUF_INIT;
    uint8_t h[32];
    rk_record r;
    char err[RK_ERROR_SIZE];
    size_t i;

    encode_sample(&good, h);
    ck_assert_int_eq(rk_buf_append(&b, good.data, good.len), RK_OK);
    ck_assert_int_eq(rk_record_decode(b.data, RK_RECORD_OVERHEAD - 1, &r, err),
                     RK_ERR_CORRUPT);
    ck_assert_str_eq(err, "record is 95 bytes, shorter than 96");
    /* each byte of the magic, then every fault after it as well */
    for (i = 0; i < 3; i++) {
        b.data[i] ^= 0x20;
        reject_is(&b, RK_ERR_CORRUPT, "record does not start with 'RKR'");
        b.data[i] ^= 0x20;
    }
    b.data[1] = 'k';
    b.data[3] = 9;
    b.data[5] = 1;
    rk_put_be32(b.data + 60, RK_RAW_MAX + 1);
    reject_is(&b, RK_ERR_CORRUPT, "record does not start with 'RKR'");
    b.data[1] = 'K';
    reject_is(&b, RK_ERR_VERSION, "record format version 9 is not supported");
    b.data[3] = 0;
    reject_is(&b, RK_ERR_VERSION, "record format version 0 is not supported");
    b.data[3] = 1;
    reject_is(&b, RK_ERR_CORRUPT, "record flags 0x01 are not 0");
    b.data[5] = 0x80;
    reject_is(&b, RK_ERR_CORRUPT, "record flags 0x80 are not 0");
    b.data[5] = 0;
    reject_is(&b, RK_ERR_CORRUPT, "record part lengths exceed the limits");
    rk_put_be32(b.data + 60, 0xffffffffu);
    reject_is(&b, RK_ERR_CORRUPT, "record part lengths exceed the limits");
    rk_put_be32(b.data + 60, 0);
    rk_put_be16(b.data + 6, RK_REF_MAX + 1);
    reject_is(&b, RK_ERR_CORRUPT, "record part lengths exceed the limits");
    /* at the limits themselves: only the total is wrong */
    rk_put_be16(b.data + 6, RK_REF_MAX);
    rk_put_be32(b.data + 56, RK_BODY_MAX);
    rk_put_be32(b.data + 60, RK_RAW_MAX);
    reject_is(&b, RK_ERR_CORRUPT, "record lengths add up to 33555040 bytes, stored 114");
    /* the sample's own lengths, one byte off either way */
    memcpy(b.data, good.data, good.len);
    rk_put_be32(b.data + 56, rk_get_be32(good.data + 56) + 1);
    reject_is(&b, RK_ERR_CORRUPT, "record lengths add up to 115 bytes, stored 114");
    rk_put_be32(b.data + 56, rk_get_be32(good.data + 56) - 1);
    reject_is(&b, RK_ERR_CORRUPT, "record lengths add up to 113 bytes, stored 114");
    memcpy(b.data, good.data, good.len);
    /* a NUL in the reference is checked last, after every length */
    b.data[RK_RECORD_HEADER + 1] = 0;
    reject_is(&b, RK_ERR_CORRUPT, "record reference contains a NUL byte");
    memcpy(b.data, good.data, good.len);
    ck_assert_int_eq(rk_record_decode(b.data, b.len, &r, err), RK_OK);
    ck_assert_uint_eq(r.version, 1);
    rk_buf_free(&b);
    rk_buf_free(&good);
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

/*
 * The canonical form "YYYY-MM-DDTHH:MM:SS.fffffffffZ" (30 bytes) takes a
 * fast path in rk_time_parse and rk_time_parse_n.  The same time written
 * with "+00:00" (35 bytes) or a lowercase 'z' never does, so it is read by
 * the general parser: both must give the same code and the same value.
 */
static void same_as_general(const char *t)
{
    char gen[64], lower[64], padded[64];
    int64_t a = 1, b = 2, c = 3, d = 4;
    rk_err ra, rb, rc, rd;
    size_t n = strlen(t);

    ck_assert_uint_eq(n, 30);
    memcpy(gen, t, 29);
    memcpy(gen + 29, "+00:00", 7);
    memcpy(lower, t, 31);
    lower[29] = t[29] == 'Z' ? 'z' : t[29];
    /* rk_time_parse_n reads no further than len: junk follows, no NUL */
    memcpy(padded, t, 30);
    memcpy(padded + 30, "99:99Zjunk", 11);
    ra = rk_time_parse(t, &a);
    rb = rk_time_parse(t[29] == 'Z' ? gen : lower, &b);
    rc = rk_time_parse_n(padded, 30, &c);
    rd = rk_time_parse(lower, &d);
    ck_assert_msg(ra == rb && ra == rc && ra == rd, "'%s': %d %d %d %d", t, ra, rb, rc, rd);
    if (ra == RK_OK)
        ck_assert_msg(a == b && a == c && a == d, "'%s': values differ", t);
}

START_TEST(time_fast_path)
{
    static const unsigned years[] = { 1677, 1678, 1700, 1800, 1899, 1900, 1904, 1969, 1970,
                                      1999, 2000, 2001, 2004, 2023, 2024, 2100, 2200, 2261,
                                      2262, 2400, 9999, 0 };
    static const char bad[] = { '/', ':', '@', 'a', ' ', '0' - 16, '0' + 16, (char)0xB0,
                                (char)0x80, 'Z', 'T', '-', '.' };
    char t[64], m[64], s[RK_TIME_STR_MAX];
    unsigned yi, mo, d, i, j;
    int64_t ns, ns2, hi;

    /* every day of the calendar edge years, month 0..13, day 0..32 */
    for (yi = 0; yi < sizeof years / sizeof years[0]; yi++)
        for (mo = 0; mo <= 13; mo++)
            for (d = 0; d <= 32; d++) {
                snprintf(t, sizeof t, "%04u-%02u-%02uT12:34:56.123456789Z", years[yi], mo, d);
                same_as_general(t);
            }
    /* hours, minutes and seconds around their limits, second 60 included */
    for (i = 0; i <= 61; i++) {
        snprintf(t, sizeof t, "2024-02-29T%02u:%02u:%02u.000000000Z", i % 26, i, i);
        same_as_general(t);
        snprintf(t, sizeof t, "2024-12-31T23:59:%02u.999999999Z", i);
        same_as_general(t);
    }
    /* every byte replaced by a non-digit or a wrong separator */
    snprintf(t, sizeof t, "2021-02-25T15:02:10.000000005Z");
    for (i = 0; i < 30; i++)
        for (j = 0; j < sizeof bad; j++) {
            memcpy(m, t, 31);
            m[i] = bad[j];
            if (i == 29) {
                /* the last byte: only 'Z' ('z' above) ends such a time */
                ck_assert_int_eq(rk_time_parse(m, &ns), bad[j] == 'Z' ? RK_OK : RK_ERR_INVALID);
                continue;
            }
            same_as_general(m);
        }
    /* round trips over the range parsed (years 1678..2261), steps of about 11 days */
    ck_assert_int_eq(rk_time_parse("2261-12-31T23:59:59.999999999Z", &hi), RK_OK);
    ck_assert_int_eq(rk_time_parse("1678-01-01T00:00:00.000000000Z", &ns), RK_OK);
    for (; ns <= hi; ns += 987654321123456789LL / 1000) {
        rk_time_format(ns, s);
        ck_assert_int_eq(rk_time_parse(s, &ns2), RK_OK);
        ck_assert(ns2 == ns);
        same_as_general(s);
    }
    /* the general path behind rk_time_parse_n: other lengths, long texts */
    ck_assert_int_eq(rk_time_parse_n("2021-02-25T17:02:10+02:00xx", 25, &ns), RK_OK);
    ck_assert(ns == 1614265330LL * 1000000000);
    ck_assert_int_eq(rk_time_parse_n("2024-02-29", 10, &ns), RK_OK);
    ck_assert_int_eq(rk_time_parse_n("2024-02-29", 9, &ns), RK_ERR_INVALID);
    ck_assert_int_eq(rk_time_parse_n("", 0, &ns), RK_ERR_INVALID);
    memset(m, '0', sizeof m);
    memcpy(m, "1012-01-01T00:00:00Z", 20);
    ck_assert_int_eq(rk_time_parse_n(m, sizeof m, &ns), RK_ERR_RANGE);
    memcpy(m, "2012-01-01T00:00:00Z", 20);
    ck_assert_int_eq(rk_time_parse_n(m, sizeof m, &ns), RK_ERR_INVALID);
    ck_assert_int_eq(rk_time_parse_n("2021-02-25T15:02:10.000000005Zjunk", 34, &ns),
                     RK_ERR_INVALID);
}
END_TEST

Suite *rk_test_suite(void)
{
    Suite *s = suite_create("record");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, layout_bytes);
    tcase_add_test(tc, corrupt_cases);
    tcase_add_test(tc, corrupt_first_fault);
    tcase_add_test(tc, encode_limits);
    tcase_add_test(tc, kind_names);
    tcase_add_test(tc, time_text);
    tcase_add_test(tc, time_fast_path);
    suite_add_tcase(s, tc);
    return s;
}
