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

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm),
 * for the general parser, rk_time_parse (time_canonical, the replay's parse,
 * has its own form of it for years > 0).  Inlined (a GCC attribute). */
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
    rk_hms_put(out + 11, sod);
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

/*
 * For time_canonical, indexed by the two-digit month 0..99 as read: the
 * days of the month in a leap year, 0 for a number that is no month (so
 * one compare, d - 1 < days, checks month and day); for months 1..12, 1
 * for January and February, which belong to the year before in a year
 * that starts in March (so February's leap day is its last), and the day
 * of that March-based year on which the month starts (Howard Hinnant's
 * (153 * mp + 2) / 5, mp = 0 for March).
 */
static const struct {
    unsigned char days, early;
    unsigned short march_day;
} time_month[100] = {
    [1] = {31, 1, 306}, [2] = {29, 1, 337}, [3] = {31, 0, 0},    [4] = {30, 0, 31},
    [5] = {31, 0, 61},  [6] = {30, 0, 92},  [7] = {31, 0, 122},  [8] = {31, 0, 153},
    [9] = {30, 0, 184}, [10] = {31, 0, 214}, [11] = {30, 0, 245}, [12] = {31, 0, 275},
};

/*
 * The 8 bytes of p as a number whose lowest byte is p[0], whatever the
 * byte order (a GCC macro tells; a memcpy load, no alignment assumed): the
 * digit arithmetic below needs the first digit in the lowest byte.
 */
static inline uint64_t time_le64(const char *p)
{
    uint64_t w;

    memcpy(&w, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w;
}

/*
 * The shape of the canonical form ('0' where a digit goes, else the
 * separator itself) and, per byte, 0x7f minus the largest value that byte
 * of t ^ shape may have: 9 on a digit ('0'..'9' ^ '0' is 0..9, any other
 * byte gives more), 0 on a separator (only the separator gives 0).
 */
static const char time_shape[32] = "0000-00-00T00:00:00.000000000Z";
static const unsigned char time_add[32] = {
    0x76, 0x76, 0x76, 0x76, 0x7F, 0x76, 0x76, 0x7F, /* YYYY-MM- */
    0x76, 0x76, 0x7F, 0x76, 0x76, 0x7F, 0x76, 0x76, /* DDTHH:MM */
    0x7F, 0x76, 0x76, 0x7F, 0x76, 0x76, 0x76, 0x76, /* :SS.ffff */
    0x76, 0x76, 0x76, 0x76, 0x76, 0x7F              /* fffffZ */
};

/*
 * x = (8 bytes of t at `at`) ^ (the shape there), and into *bad the high
 * bit of every byte of x that is above its largest value: x | (x + add)
 * has a byte's high bit set exactly when the byte is above its limit
 * (x + 0x7f - limit passes 0x7f; a byte of 0x80 or more is above in
 * itself).  Only a byte above its limit carries into the next byte, and
 * the lowest such byte gets no carry, so *bad stays 0 exactly when every
 * byte is in bounds.  at is a constant at every call: the shape and add
 * words fold to constants.  Returns x: the digits' values (0..9) on digit
 * bytes, 0 on separators, once *bad is 0.
 */
static inline uint64_t time_word(const char *t, unsigned at, uint64_t *bad)
{
    uint64_t x = time_le64(t + at) ^ time_le64(time_shape + at);

    *bad |= x | (x + time_le64((const char *)time_add + at));
    return x;
}

/*
 * x * 0xa01 = x + (10 * x << 8): byte j becomes 10 * x[j-1] + x[j], the
 * two-digit number at bytes j-1, j (at most 99: no byte carries).  So the
 * two digits at bytes j-1 and j of a word of digit values are byte j here.
 */
static inline uint64_t time_pairs(uint64_t x)
{
    return x * 0xa01;
}

#define TIME_BYTE(w, j) ((unsigned)((w) >> (8 * (j))) & 0xff)

/*
 * The canonical form of a time, the one rk_time_format writes and records
 * hold: "YYYY-MM-DDTHH:MM:SS.fffffffffZ", exactly 30 bytes (t[0..30) must
 * be readable).  Replays parse one or two per record, so this form skips
 * the general parser: 1 with *ns set when t is such a time and the general
 * parser would accept it with the same value, 0 for anything else (the
 * caller then runs the general parser, which gives every error).
 *
 * In words of 8 bytes: the shape at 0, 8, 16 and 22 (the last overlapping)
 * with one branch for all (time_word); the two-digit fields from pairs of
 * digits (time_pairs); the nine fraction digits from the word at 20 (digit
 * values by ^ '0', known digits by then) in three multiplies, pairs, then
 * fours, then eight, and the ninth digit apart.  Inlined (a GCC attribute)
 * into both parsers.
 */
static inline __attribute__((always_inline)) int time_canonical(const char *t, int64_t *ns)
{
    uint64_t bad = 0, x0, x8, x16, f;
    unsigned y, mo, d, h, mi, sec, sod, yd, days, frac;

    x0 = time_pairs(time_word(t, 0, &bad));   /* YYYY-MM- */
    x8 = time_pairs(time_word(t, 8, &bad));   /* DDTHH:MM */
    x16 = time_pairs(time_word(t, 16, &bad)); /* :SS.ffff */
    time_word(t, 22, &bad);                   /* ffffffZ */
    if ((bad & 0x8080808080808080ULL) != 0)
        return 0;
    y = TIME_BYTE(x0, 1) * 100 + TIME_BYTE(x0, 3);
    mo = TIME_BYTE(x0, 6);
    d = TIME_BYTE(x8, 1);
    h = TIME_BYTE(x8, 4);
    mi = TIME_BYTE(x8, 7);
    sec = TIME_BYTE(x16, 2);
    /* the general parser's checks; any failure is left to it for its code */
    if (y - 1678 > 2261 - 1678 || d - 1 >= time_month[mo].days || h > 23 || mi > 59 ||
        sec > 59)
        return 0;
    if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
        return 0;
    sod = h * 3600 + mi * 60 + sec;
    /* the fraction's digits f0..f7 (bytes 20..27) as values, then f8 */
    f = time_le64(t + 20) ^ 0x3030303030303030ULL;
    frac = (unsigned)(t[28] - '0');
    if (f != 0) { /* else f0..f7 are all 0, as in whole seconds (the usual time) */
        /* pairs (16-bit lanes), fours (32-bit lanes), eight; no lane
         * overflows (99, 9999, 99999999) */
        f = time_pairs(f) >> 8 & 0x00ff00ff00ff00ffULL;
        f = (f + (f * 100 << 16)) >> 16 & 0x0000ffff0000ffffULL;
        f = (f + (f * 10000 << 32)) >> 32;
        frac += (unsigned)f * 10;
    }
    /* days since 1970-01-01: Hinnant's days_from_civil with the year
     * starting in March, for years > 0 (so plain unsigned division):
     * 365 * yd + yd / 4 (as 1461 * yd / 4) - yd / 100 + yd / 400 days
     * before year yd, + the day of that year, - 719468 (0000-03-01 to
     * 1970-01-01) */
    yd = y - time_month[mo].early;
    days = yd * 1461 / 4 - yd / 100 + yd / 400 + time_month[mo].march_day + d - 1;
    *ns = (((int64_t)days - 719468) * 86400 + sod) * 1000000000 + frac;
    return 1;
}

/*
 * The general parser of rk_time_parse_n, out of line (noinline): its
 * 48-byte copy stays out of the frame of the canonical path.
 */
static __attribute__((noinline)) rk_err time_parse_copy(const char *text, size_t len,
                                                         int64_t *ns)
{
    char buf[48];

    /*
     * NUL-terminated for the general parser.  It reads a text from its
     * start and decides on each byte by the bytes before it, and no time
     * is longer than 35 bytes: a text cut to 40 bytes fails exactly where
     * the whole one does (the RANGE or INVALID code alike).
     */
    if (len > 40)
        len = 40;
    memcpy(buf, text, len);
    buf[len] = '\0';
    return rk_time_parse(buf, ns);
}

rk_err rk_time_parse_n(const char *text, size_t len, int64_t *ns)
{
    if (len == 30 && time_canonical(text, ns))
        return RK_OK;
    return time_parse_copy(text, len, ns);
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
