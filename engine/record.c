/* record.c - encode, decode and hash one evidence record (formats/record.md). */
#include "record.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

static const char *const kind_names[] = {
    [RK_KIND_GENESIS] = "genesis",
    [RK_KIND_WEBHOOK_DELIVERY] = "webhook_delivery",
    [RK_KIND_PROVIDER_EVENT] = "provider_event",
    [RK_KIND_API_READ] = "api_read",
    [RK_KIND_COMMERCE_ROW] = "commerce_row",
    [RK_KIND_FINANCE_ROW] = "finance_row",
    [RK_KIND_OPERATOR_NOTE] = "operator_note",
    [RK_KIND_EXCEPTION_ACTION] = "exception_action",
    [RK_KIND_CHECKPOINT] = "checkpoint",
    [RK_KIND_PERIOD_CLOSE] = "period_close",
    [RK_KIND_DELIVERY_SUMMARY] = "delivery_summary",
    [RK_KIND_POLICY] = "policy",
};

const char *rk_kind_name(unsigned kind)
{
    if (kind > RK_KIND_KNOWN_MAX)
        return "unknown";
    return kind_names[kind];
}

rk_err rk_kind_parse(const char *name, rk_kind *out)
{
    unsigned k;

    for (k = 0; k <= RK_KIND_KNOWN_MAX; k++) {
        if (strcmp(name, kind_names[k]) == 0) {
            *out = (rk_kind)k;
            return RK_OK;
        }
    }
    return RK_ERR_INVALID;
}

void rk_record_compute_hash(const uint8_t *p, size_t len, uint8_t out[RK_HASH_SIZE])
{
    rk_sha256(out, p, len - RK_HASH_SIZE);
}

rk_err rk_record_encode(rk_buf *out, unsigned kind, uint64_t seq,
                        int64_t recorded_at, const uint8_t prev_hash[RK_HASH_SIZE],
                        const char *ref, size_t ref_len,
                        const uint8_t *body, size_t body_len,
                        const uint8_t *raw, size_t raw_len,
                        uint8_t hash_out[RK_HASH_SIZE], char *err)
{
    uint8_t *p;
    size_t total, start = out->len;

    if (kind > 255)
        return rk_seterr(err, RK_ERR_INVALID, "record kind %u out of range", kind);
    if (ref_len > RK_REF_MAX)
        return rk_seterr(err, RK_ERR_TOOBIG, "reference is %zu bytes, limit %d",
                         ref_len, RK_REF_MAX);
    if (ref_len > 0 && memchr(ref, '\0', ref_len) != NULL)
        return rk_seterr(err, RK_ERR_INVALID, "reference contains a NUL byte");
    if (body_len > RK_BODY_MAX)
        return rk_seterr(err, RK_ERR_TOOBIG, "body is %zu bytes, limit %u",
                         body_len, RK_BODY_MAX);
    if (raw_len > RK_RAW_MAX)
        return rk_seterr(err, RK_ERR_TOOBIG, "raw blob is %zu bytes, limit %u",
                         raw_len, RK_RAW_MAX);
    total = RK_RECORD_OVERHEAD + ref_len + body_len + raw_len;
    if (rk_buf_reserve(out, total) != RK_OK)
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory encoding record");
    p = out->data + start;
    memcpy(p, "RKR", 3);
    p[3] = RK_RECORD_VERSION;
    p[4] = (uint8_t)kind;
    p[5] = 0;
    rk_put_be16(p + 6, (uint16_t)ref_len);
    rk_put_be64(p + 8, seq);
    rk_put_be64(p + 16, (uint64_t)recorded_at);
    memcpy(p + 24, prev_hash, RK_HASH_SIZE);
    rk_put_be32(p + 56, (uint32_t)body_len);
    rk_put_be32(p + 60, (uint32_t)raw_len);
    p += RK_RECORD_HEADER;
    if (ref_len > 0)
        memcpy(p, ref, ref_len);
    p += ref_len;
    if (body_len > 0)
        memcpy(p, body, body_len);
    p += body_len;
    if (raw_len > 0)
        memcpy(p, raw, raw_len);
    p += raw_len;
    rk_sha256(p, out->data + start, total - RK_HASH_SIZE);
    if (hash_out != NULL)
        memcpy(hash_out, p, RK_HASH_SIZE);
    out->len = start + total;
    out->data[out->len] = '\0';
    return RK_OK;
}

/* Big-endian loads for rk_record_decode, inlined: every scan decodes every
 * record, and bytes.c's rk_get_be* are calls (five per record).  GCC turns
 * each into one load and a byte swap. */
static inline uint32_t dec_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t dec_be64(const uint8_t *p)
{
    return (uint64_t)dec_be32(p) << 32 | dec_be32(p + 4);
}

/*
 * The first check of rk_record_decode's that p[0..len) fails, with its
 * message: called only once the combined test in rk_record_decode found one,
 * so that the error (code, text, and which check is named first) is the same
 * as checking one field at a time.
 */
static rk_err decode_reject(const uint8_t *p, size_t len, size_t ref_len,
                            size_t body_len, size_t raw_len, char *err)
{
    if (memcmp(p, "RKR", 3) != 0)
        return rk_seterr(err, RK_ERR_CORRUPT, "record does not start with 'RKR'");
    if (p[3] != RK_RECORD_VERSION)
        return rk_seterr(err, RK_ERR_VERSION, "record format version %u is not supported",
                         p[3]);
    if (p[5] != 0)
        return rk_seterr(err, RK_ERR_CORRUPT, "record flags 0x%02x are not 0", p[5]);
    if (ref_len > RK_REF_MAX || body_len > RK_BODY_MAX || raw_len > RK_RAW_MAX)
        return rk_seterr(err, RK_ERR_CORRUPT, "record part lengths exceed the limits");
    return rk_seterr(err, RK_ERR_CORRUPT, "record lengths add up to %zu bytes, stored %zu",
                     RK_RECORD_OVERHEAD + ref_len + body_len + raw_len, len);
}

rk_err rk_record_decode(const uint8_t *p, size_t len, rk_record *r, char *err)
{
    size_t ref_len, body_len, raw_len;

    if (len < RK_RECORD_OVERHEAD)
        return rk_seterr(err, RK_ERR_CORRUPT, "record is %zu bytes, shorter than %d",
                         len, RK_RECORD_OVERHEAD);
    ref_len = (size_t)p[6] << 8 | p[7];
    body_len = dec_be32(p + 56);
    raw_len = dec_be32(p + 60);
    /*
     * Every header check at once (magic and version as one 32-bit word,
     * flags, limits, total length): one branch per record on the path every
     * good record takes; decode_reject names the first that failed.  The
     * limits keep the sum below from overflowing (each part < 2^25).
     */
    if (dec_be32(p) != (0x524b5200u | RK_RECORD_VERSION) || p[5] != 0 ||
        ref_len > RK_REF_MAX || body_len > RK_BODY_MAX || raw_len > RK_RAW_MAX ||
        RK_RECORD_OVERHEAD + ref_len + body_len + raw_len != len)
        return decode_reject(p, len, ref_len, body_len, raw_len, err);
    r->version = RK_RECORD_VERSION;
    r->kind = p[4];
    r->seq = dec_be64(p + 8);
    r->recorded_at = (int64_t)dec_be64(p + 16);
    r->prev_hash = p + 24;
    r->ref = (const char *)p + RK_RECORD_HEADER;
    r->ref_len = ref_len;
    r->body = p + RK_RECORD_HEADER + ref_len;
    r->body_len = body_len;
    r->raw = r->body + body_len;
    r->raw_len = raw_len;
    r->hash = r->raw + raw_len;
    if (memchr(r->ref, '\0', ref_len) != NULL)
        return rk_seterr(err, RK_ERR_CORRUPT, "record reference contains a NUL byte");
    return RK_OK;
}

rk_err rk_record_check_hash(const uint8_t *p, size_t len)
{
    uint8_t h[RK_HASH_SIZE];

    if (len < RK_RECORD_OVERHEAD)
        return RK_ERR_CORRUPT;
    rk_record_compute_hash(p, len, h);
    return sodium_memcmp(h, p + len - RK_HASH_SIZE, RK_HASH_SIZE) == 0 ? RK_OK
                                                                      : RK_ERR_CORRUPT;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
 * Inlined (a GCC attribute): the replay's time parse (time_canonical) calls
 * it for every record. */
static inline __attribute__((always_inline)) int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* v as exactly n decimal digits, zero-padded (v < 10^n): two digits per
 * division, from a table of the pairs "00".."99" (a time has 23 digits). */
static inline void put_digits(char *out, unsigned v, int n)
{

    while (n >= 2) {
        n -= 2;
        memcpy(out + n, rk_digit_pairs + 2 * (v % 100), 2);
        v /= 100;
    }
    if (n > 0)
        out[0] = (char)('0' + v % 10);
}

void rk_time_format(int64_t ns, char out[RK_TIME_STR_MAX])
{
    int64_t secs = ns / 1000000000, frac = ns % 1000000000;
    int64_t days, z, era, y;
    unsigned doe, yoe, doy, mp, d, m, sod;

    if (frac < 0) {
        frac += 1000000000;
        secs -= 1;
    }
    days = secs / 86400;
    if (secs % 86400 < 0)
        days -= 1;
    sod = (unsigned)(secs - days * 86400);
    z = days + 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = (int64_t)yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    /*
     * "%04lld-%02u-%02uT%02u:%02u:%02u.%09lldZ" written digit by digit:
     * replays format a time for every payment they render, and snprintf
     * costs ten times as much.  int64 nanoseconds reach the years 1677 to
     * 2262 only, so the year always has four digits.
     */
    put_digits(out, (unsigned)y, 4);
    out[4] = '-';
    /* the fields below 100 straight from the table: no division */
    memcpy(out + 5, rk_digit_pairs + 2 * m, 2);
    out[7] = '-';
    memcpy(out + 8, rk_digit_pairs + 2 * d, 2);
    out[10] = 'T';
    memcpy(out + 11, rk_digit_pairs + 2 * (sod / 3600), 2);
    out[13] = ':';
    memcpy(out + 14, rk_digit_pairs + 2 * (sod / 60 % 60), 2);
    out[16] = ':';
    memcpy(out + 17, rk_digit_pairs + 2 * (sod % 60), 2);
    out[19] = '.';
    if (frac == 0)
        memcpy(out + 20, "000000000", 9); /* whole seconds: the usual time */
    else
        put_digits(out + 20, (unsigned)frac, 9);
    out[29] = 'Z';
    out[30] = '\0';
}

static int digits(const char *p, int n, unsigned *v)
{
    unsigned acc = 0; /* a local: a store through v each digit costs more */
    int i;

    for (i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return 0;
        acc = acc * 10 + (unsigned)(p[i] - '0');
    }
    *v = acc;
    return 1;
}

/* Days of each month in a leap year (February's 29th is checked apart). */
static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

/* Two decimal digits already known to be digits. */
static unsigned two(const char *p)
{
    return (unsigned)(p[0] - '0') * 10 + (unsigned)(p[1] - '0');
}

/*
 * Is the word of t at byte `at` (8 bytes) the canonical form's shape there?
 * A byte is a digit when its high nibble is 3 and its low nibble at most 9,
 * i.e. (b & 0xF0) == 0x30 and ((b + 6) & 0xF0) == 0x30; a separator must
 * equal its byte exactly.  So, for the whole word: (w & M) == S and
 * ((w + A) & M) == S, where S is the shape ('0' = 0x30 for a digit, else
 * the separator), M is 0xF0 for a digit and 0xFF for a separator, and A is
 * 6 for a digit and 0 for a separator (A = ~M & 0x06 per byte).  No byte
 * carries into the next: the second test counts only when the first held,
 * and then every byte is at most 0x3F + 6.  S, M and w are loaded the same
 * way (memcpy), so byte order does not matter; at is a constant at every
 * call, so S and M are folded to constants.
 */
static int time_word(const char *t, unsigned at)
{
    static const char shape[32] = "0000-00-00T00:00:00.000000000Z";
    static const unsigned char mask[32] = {
        0xF0, 0xF0, 0xF0, 0xF0, 0xFF, 0xF0, 0xF0, 0xFF, /* YYYY-MM- */
        0xF0, 0xF0, 0xFF, 0xF0, 0xF0, 0xFF, 0xF0, 0xF0, /* DDTHH:MM */
        0xFF, 0xF0, 0xF0, 0xFF, 0xF0, 0xF0, 0xF0, 0xF0, /* :SS.ffff */
        0xF0, 0xF0, 0xF0, 0xF0, 0xF0, 0xFF              /* fffffZ */
    };
    uint64_t w, s, m;

    memcpy(&w, t + at, 8);
    memcpy(&s, shape + at, 8);
    memcpy(&m, mask + at, 8);
    return (w & m) == s && ((w + (~m & 0x0606060606060606ULL)) & m) == s;
}

/*
 * The canonical form of a time, the one rk_time_format writes and records
 * hold: "YYYY-MM-DDTHH:MM:SS.fffffffffZ", exactly 30 bytes (t[0..30) must
 * be readable).  Replays parse one or two per record, so this form skips
 * the general parser: 1 with *ns set when t is such a time and the general
 * parser would accept it with the same value, 0 for anything else (the
 * caller then runs the general parser, which gives every error).  The
 * shape is checked a word at a time (time_word: words at 0, 8, 16 and 22,
 * the last overlapping), the digits are then read without checks.
 */
static int time_canonical(const char *t, int64_t *ns)
{
    unsigned y, mo, d, h, mi, sec;
    int64_t frac;

    if (!time_word(t, 0) || !time_word(t, 8) || !time_word(t, 16) || !time_word(t, 22))
        return 0;
    y = two(t) * 100 + two(t + 2);
    mo = two(t + 5);
    d = two(t + 8);
    h = two(t + 11);
    mi = two(t + 14);
    sec = two(t + 17);
    frac = (int64_t)(two(t + 20) * 1000000 + two(t + 22) * 10000 + two(t + 24) * 100 +
                     two(t + 26)) * 10 + (t[28] - '0');
    /* the general parser's checks; any failure is left to it for its code */
    if (y < 1678 || y > 2261 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
        (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) ||
        h > 23 || mi > 59 || sec > 59)
        return 0;
    *ns = (days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) * 1000000000 + frac;
    return 1;
}

rk_err rk_time_parse_n(const char *text, size_t len, int64_t *ns)
{
    char buf[48];

    if (len == 30 && time_canonical(text, ns))
        return RK_OK;
    /*
     * Any other text goes to the general parser, NUL-terminated.  It reads
     * a text from its start and decides on each byte by the bytes before
     * it, and no time is longer than 35 bytes: a text cut to 40 bytes fails
     * exactly where the whole one does (the RANGE or INVALID code alike).
     */
    if (len > 40)
        len = 40;
    memcpy(buf, text, len);
    buf[len] = '\0';
    return rk_time_parse(buf, ns);
}

rk_err rk_time_parse(const char *t, int64_t *ns)
{
    unsigned y, mo, d, h = 0, mi = 0, s = 0, oh = 0, om = 0;
    static const int64_t scale[10] = { 0,       100000000, 10000000, 1000000, 100000,
                                       10000,   1000,      100,      10,      1 };
    int64_t frac = 0, off = 0;
    const char *p;
    int nd;

    /* the canonical form first (strnlen reads no further than 31 bytes) */
    if (strnlen(t, 31) == 30 && time_canonical(t, ns))
        return RK_OK;
    if (!digits(t, 4, &y) || t[4] != '-' || !digits(t + 5, 2, &mo) || t[7] != '-' ||
        !digits(t + 8, 2, &d))
        return RK_ERR_INVALID;
    /* int64 nanoseconds since 1970 span 1677-09-21 .. 2262-04-11 */
    if (y < 1678 || y > 2261)
        return RK_ERR_RANGE;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
        (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))))
        return RK_ERR_INVALID;
    p = t + 10;
    if (*p != '\0') {
        if ((*p != 'T' && *p != 't') || !digits(p + 1, 2, &h) || p[3] != ':' ||
            !digits(p + 4, 2, &mi) || p[6] != ':' || !digits(p + 7, 2, &s))
            return RK_ERR_INVALID;
        if (h > 23 || mi > 59 || s > 59)
            return RK_ERR_INVALID;
        p += 9;
        if (*p == '.') {
            /* the digits as an integer, then scaled once to nanoseconds */
            p++;
            for (nd = 0; p[nd] >= '0' && p[nd] <= '9'; nd++) {
                if (nd == 9)
                    return RK_ERR_INVALID; /* more than 9 digits */
                frac = frac * 10 + (p[nd] - '0');
            }
            if (nd == 0)
                return RK_ERR_INVALID;
            frac *= scale[nd];
            p += nd;
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) ||
                oh > 23 || om > 59)
                return RK_ERR_INVALID;
            off = ((int64_t)oh * 3600 + om * 60) * (*p == '+' ? 1 : -1);
            p += 6;
        } else {
            return RK_ERR_INVALID;
        }
        if (*p != '\0')
            return RK_ERR_INVALID;
    }
    *ns = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) - off) *
              1000000000 + frac;
    return RK_OK;
}
