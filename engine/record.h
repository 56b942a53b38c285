/*
 * record.h - one evidence record: encode, decode, hash (formats/record.md).
 *
 * A record is a self-describing, versioned byte string:
 *
 *   OFFSET  SIZE  DESCRIPTION
 *   0       3     magic "RKR" (0x52 0x4b 0x52)
 *   3       1     format version, 1
 *   4       1     kind (rk_kind)
 *   5       1     flags, 0 in version 1
 *   6       2     R, length of the reference (0..RK_REF_MAX)
 *   8       8     sequence number
 *   16      8     recorded-at, signed nanoseconds since 1970-01-01 UTC
 *   24      32    hash of the previous record (zeros for sequence 0)
 *   56      4     B, length of the body (canonical JSON)
 *   60      4     W, length of the raw blob (0 when absent)
 *   64      R     reference, UTF-8, no NUL
 *   64+R    B     body
 *   64+R+B  W     raw blob, byte for byte
 *   64+R+B+W 32   record hash: SHA-256 of bytes [0, 64+R+B+W)
 *
 * Integers are big-endian.  The magic and version at the start of the hashed
 * bytes separate the record hash from the Merkle leaf (0x00) and node (0x01)
 * hashes.
 */
#ifndef RK_RECORD_H
#define RK_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "error.h"

#define RK_RECORD_VERSION 1
#define RK_RECORD_HEADER 64
#define RK_RECORD_OVERHEAD (RK_RECORD_HEADER + RK_HASH_SIZE)
#define RK_REF_MAX 512                 /* bytes of reference */
#define RK_BODY_MAX (16u * 1024 * 1024) /* bytes of body */
#define RK_RAW_MAX (16u * 1024 * 1024)  /* bytes of raw blob */

/* Record kinds.  Values are stored: append, never renumber. */
typedef enum rk_kind {
    RK_KIND_GENESIS = 0,          /* names the ledger; always sequence 0 */
    RK_KIND_WEBHOOK_DELIVERY = 1, /* one HTTP delivery, accepted or not */
    RK_KIND_PROVIDER_EVENT = 2,   /* a normalized provider event */
    RK_KIND_API_READ = 3,         /* a provider API read (poll) */
    RK_KIND_COMMERCE_ROW = 4,     /* one imported commerce row */
    RK_KIND_FINANCE_ROW = 5,      /* one imported finance row */
    RK_KIND_OPERATOR_NOTE = 6,    /* free text by an operator */
    RK_KIND_EXCEPTION_ACTION = 7, /* assign, annotate, propose, approve */
    RK_KIND_CHECKPOINT = 8,       /* a signed checkpoint of the records before it */
    RK_KIND_PERIOD_CLOSE = 9,     /* cut-off, lock and sign-off of a period */
    RK_KIND_DELIVERY_SUMMARY = 10, /* rejected deliveries counted, not stored */
    RK_KIND_POLICY = 11,          /* the rail policy in force from here on */
} rk_kind;

#define RK_KIND_KNOWN_MAX RK_KIND_POLICY

/* "webhook_delivery", ...; "unknown" for a value this build does not know. */
const char *rk_kind_name(unsigned kind);
/* Parse a kind name; RK_ERR_INVALID if unknown. */
rk_err rk_kind_parse(const char *name, rk_kind *out);

/*
 * A decoded record.  Pointers borrow from the bytes given to rk_record_decode
 * and stay valid as long as those bytes do.  ref is not NUL-terminated.
 */
typedef struct rk_record {
    unsigned version;
    unsigned kind;
    uint64_t seq;
    int64_t recorded_at;
    const uint8_t *prev_hash; /* RK_HASH_SIZE bytes */
    const char *ref;
    size_t ref_len;
    const uint8_t *body;
    size_t body_len;
    const uint8_t *raw;
    size_t raw_len;
    const uint8_t *hash; /* the stored record hash, RK_HASH_SIZE bytes */
} rk_record;

/*
 * Encode a record into out (appended), computing its hash.  hash_out (may be
 * NULL) receives the record hash.  RK_ERR_TOOBIG when a part exceeds its
 * limit, RK_ERR_INVALID for flags or a reference containing NUL.
 */
rk_err rk_record_encode(rk_buf *out, unsigned kind, uint64_t seq,
                        int64_t recorded_at, const uint8_t prev_hash[RK_HASH_SIZE],
                        const char *ref, size_t ref_len,
                        const uint8_t *body, size_t body_len,
                        const uint8_t *raw, size_t raw_len,
                        uint8_t hash_out[RK_HASH_SIZE], char *err);

/*
 * Parse the layout of p[0..len) into r without checking the hash.
 * RK_ERR_VERSION for an unknown version, RK_ERR_CORRUPT for anything else
 * that is wrong (short, bad magic, lengths that do not add up, flags).
 */
rk_err rk_record_decode(const uint8_t *p, size_t len, rk_record *r, char *err)
    __attribute__((warn_unused_result));

/* Recompute the hash of encoded bytes p[0..len) into out (len >= 32). */
void rk_record_compute_hash(const uint8_t *p, size_t len, uint8_t out[RK_HASH_SIZE]);

/* RK_OK when the stored hash matches the bytes, RK_ERR_CORRUPT otherwise. */
rk_err rk_record_check_hash(const uint8_t *p, size_t len)
    __attribute__((warn_unused_result));

/*
 * Times are UTC nanoseconds since 1970.  Text form is RFC 3339 with nine
 * fraction digits and 'Z': "2026-11-26T11:13:38.123456789Z" (always 30
 * characters for years 1970..9999).  out must hold RK_TIME_STR_MAX bytes.
 */
#define RK_TIME_STR_MAX 64
void rk_time_format(int64_t ns, char out[RK_TIME_STR_MAX]);
/*
 * Parse "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+hh:mm|-hh:mm)" (RFC 3339, 1..9
 * fraction digits) or a plain date "YYYY-MM-DD" (midnight UTC).
 * RK_ERR_INVALID when the text is not such a time, RK_ERR_RANGE for a year
 * outside 1678..2261 (beyond signed 64-bit nanoseconds).
 */
rk_err rk_time_parse(const char *text, int64_t *ns)
    __attribute__((warn_unused_result));
/*
 * rk_time_parse of text[0..len), which need not be NUL-terminated and must
 * hold no NUL byte: the same results, without a copy or a strlen for the
 * canonical form (rk_time_format's, which records hold).
 */
rk_err rk_time_parse_n(const char *text, size_t len, int64_t *ns)
    __attribute__((warn_unused_result));

#endif
