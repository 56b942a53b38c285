/*
 * sig.h - webhook signature schemes: verify a delivery on its raw bytes, and
 * sign one (for tests, replays and the `reckon webhook sign` tool).
 *
 * One table in sig.c describes every scheme; formats/webhook-signatures.md is
 * the written truth about each header, signed message and secret format.
 *
 *   scheme name          signature header(s)                     MAC
 *   standard-webhooks    webhook-id, webhook-timestamp,          v1  HMAC-SHA256, base64
 *                        webhook-signature (svix-* aliases)      v1a Ed25519, base64
 *   stripe               Stripe-Signature: t=..,v1=<hex>         HMAC-SHA256 over "t." body
 *   coinbase-commerce    X-CC-Webhook-Signature: <hex>           HMAC-SHA256 over body
 *   btcpay               BTCPay-Sig: sha256=<hex>                HMAC-SHA256 over body
 *   nowpayments          x-nowpayments-sig: <hex>                HMAC-SHA512 over body
 *   hmac                 configured (rk_sig_hmac)                configured
 *
 * Rules every scheme follows:
 *   - the MAC is computed over the raw body bytes exactly as received;
 *   - several secrets may be given at once (rotation): any one may verify,
 *     and the result says which (secret_index);
 *   - where the scheme has a timestamp it must lie within `tolerance`
 *     seconds of the caller's `now`, in both directions; the engine never
 *     reads the clock;
 *   - MACs are compared in constant time over their fixed length; decoded
 *     keys and computed MACs are wiped before returning; secrets never
 *     appear in error text;
 *   - header names are matched case-insensitively; leading and trailing
 *     spaces and tabs of a header value are ignored; a header we read that
 *     appears more than once is a malformed delivery.
 *
 * Order of the checks (so the reason is deterministic):
 *   1. parameters and every secret's format     -> RK_ERR_INVALID
 *   2. headers present and well formed          -> RK_ERR_SIGNATURE
 *   3. a signature verifies with some secret    -> RK_ERR_SIGNATURE
 *   4. the timestamp is within tolerance        -> RK_ERR_STALE
 * So RK_ERR_STALE means the delivery is authentic but outside the window
 * (a late retry or a replay), which the ledger records as such.
 *
 * Thread safety: no global state; every function may be called from any
 * thread concurrently.
 */
#ifndef RK_SIG_H
#define RK_SIG_H

#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "error.h"

#define RK_SIG_DEFAULT_TOLERANCE 300 /* seconds, both directions */
#define RK_SIG_ID_MAX 255            /* longest message id we accept */
#define RK_SIG_MAX_SIGNATURES 16     /* signatures in one header, at most */
#define RK_SIG_MAX_HEADER 8192       /* longest header value we read */
#define RK_SIG_MAX_KEY 512           /* longest decoded HMAC key (bytes) */

/* One HTTP request header; both strings borrowed for the call. */
typedef struct rk_sig_header {
    const char *name;
    const char *value;
} rk_sig_header;

/*
 * One secret exactly as configured (need not be NUL-terminated): for
 * standard-webhooks "whsec_<base64>" (HMAC key, v1), "whpk_<base64>"
 * (Ed25519 public key, v1a, verify only) or "whsk_<base64>" (Ed25519 secret
 * key, v1a, sign only); for every other scheme the bytes are the HMAC key
 * as-is.  Borrowed for the call; the engine never copies it except into
 * buffers it wipes.
 */
typedef struct rk_sig_secret {
    const uint8_t *bytes;
    size_t len;
} rk_sig_secret;

/* Schemes.  Values are stable (appended, never renumbered). */
typedef enum rk_sig_scheme {
    RK_SIG_SCHEME_NONE = 0,
    RK_SIG_STANDARD_WEBHOOKS = 1,
    RK_SIG_STRIPE = 2,
    RK_SIG_COINBASE_COMMERCE = 3,
    RK_SIG_BTCPAY = 4,
    RK_SIG_NOWPAYMENTS = 5,
    RK_SIG_HMAC = 6,
} rk_sig_scheme;

typedef enum rk_sig_alg {
    RK_SIG_SHA256 = 1, /* HMAC-SHA256, 32-byte MAC */
    RK_SIG_SHA512 = 2, /* HMAC-SHA512, 64-byte MAC */
} rk_sig_alg;

typedef enum rk_sig_encoding {
    RK_SIG_HEX = 1,    /* lowercase on output; either case accepted */
    RK_SIG_BASE64 = 2, /* RFC 4648 standard alphabet, padded */
} rk_sig_encoding;

/*
 * The generic in-house scheme "hmac".  Strings are borrowed for each call.
 *   header       name of the signature header (required)
 *   alg          RK_SIG_SHA256 or RK_SIG_SHA512
 *   encoding     RK_SIG_HEX or RK_SIG_BASE64
 *   prefix       text before the encoded MAC, e.g. "sha256="; NULL or ""
 *                for none.  Must be present when configured.
 *   ts_header    when set, the name of a header carrying integer unix
 *                seconds; the signed message is then "<ts>." + body and the
 *                tolerance applies.  NULL or "" for no timestamp.
 */
typedef struct rk_sig_hmac {
    const char *header;
    rk_sig_alg alg;
    rk_sig_encoding encoding;
    const char *prefix;
    const char *ts_header;
} rk_sig_hmac;

/* Everything but the secrets.  Fill with rk_sig_scheme_parse. */
typedef struct rk_sig_params {
    rk_sig_scheme scheme;
    int64_t tolerance; /* seconds, >= 0; default RK_SIG_DEFAULT_TOLERANCE */
    rk_sig_hmac hmac;  /* only for RK_SIG_HMAC */
} rk_sig_params;

/*
 * Why a delivery is (in)valid.  Stable numbers (appended, never
 * renumbered): the ledger stores them with rejected deliveries.
 */
typedef enum rk_sig_reason {
    RK_SIG_VALID = 0,                 /* a signature verified, timestamp ok */
    RK_SIG_MISSING_HEADER = 1,        /* a required header is absent */
    RK_SIG_MALFORMED_HEADER = 2,      /* a header cannot be parsed, or a
                                         signature does not decode to the
                                         MAC's length */
    RK_SIG_NO_KNOWN_VERSION = 3,      /* only unknown / legacy schemes (v0) */
    RK_SIG_BAD_SIGNATURE = 4,         /* well formed, but no secret verifies */
    RK_SIG_TIMESTAMP_TOO_OLD = 5,     /* authentic, ts < now - tolerance */
    RK_SIG_TIMESTAMP_IN_FUTURE = 6,   /* authentic, ts > now + tolerance */
    RK_SIG_NON_INTEGER_TIMESTAMP = 7, /* timestamp is not decimal digits */
    RK_SIG_BAD_SECRET = 8,            /* a configured secret is unusable */
    RK_SIG_BAD_PARAMS = 9,            /* parameters are incomplete or bad */
} rk_sig_reason;

/*
 * The outcome of rk_sig_verify.
 *   reason         why; RK_SIG_VALID only when the call returned RK_OK
 *   msg_id         the scheme's message id (standard-webhooks webhook-id),
 *                  NUL-terminated, when has_msg_id
 *   timestamp      the delivery's timestamp, when has_timestamp
 *   secret_index   index into the secrets array of the secret that
 *                  verified, or -1
 *   authentic      1 when a signature verified (reason VALID or
 *                  TIMESTAMP_*): only then are msg_id and timestamp
 *                  covered by the signature and fit to dedupe on
 * msg_id and timestamp are filled as soon as they parse, so a rejected
 * delivery still records what it claimed.
 */
typedef struct rk_sig_result {
    rk_sig_reason reason;
    char msg_id[RK_SIG_ID_MAX + 1];
    int has_msg_id;
    int64_t timestamp;
    int has_timestamp;
    int secret_index;
    int authentic;
} rk_sig_result;

/*
 * Set *p to the defaults of the scheme called `name` (see the table above;
 * exact, lowercase): tolerance RK_SIG_DEFAULT_TOLERANCE and, for "hmac",
 * alg RK_SIG_SHA256, encoding RK_SIG_HEX, no header (the caller must set
 * p->hmac.header).  RK_ERR_INVALID for an unknown name.
 */
rk_err rk_sig_scheme_parse(const char *name, rk_sig_params *p, char *err)
    __attribute__((warn_unused_result));

/* The scheme's name ("stripe"), or "unknown". */
const char *rk_sig_scheme_name(rk_sig_scheme s);

/* "sha256" / "sha512" -> *alg; "hex" / "base64" -> *enc.  RK_ERR_INVALID. */
rk_err rk_sig_alg_parse(const char *name, rk_sig_alg *alg, char *err)
    __attribute__((warn_unused_result));
rk_err rk_sig_encoding_parse(const char *name, rk_sig_encoding *enc, char *err)
    __attribute__((warn_unused_result));

/*
 * Verify one delivery.
 *   p          scheme and parameters
 *   secrets    nsecrets >= 1 secrets; any one may verify
 *   h, nh      the request headers (nh may be 0)
 *   body, len  the raw request body (body may be NULL when len is 0)
 *   now        the caller's current unix time in seconds
 *   res        always filled (reason set on every return)
 *   err        RK_ERROR_SIZE bytes or NULL: a message saying why, naming
 *              the header; never any secret material
 * Returns RK_OK when valid (res->reason == RK_SIG_VALID);
 *   RK_ERR_SIGNATURE  missing or malformed header, no signature of a known
 *                     version, bad signature, non-integer timestamp;
 *   RK_ERR_STALE      authentic but the timestamp is outside tolerance;
 *   RK_ERR_INVALID    bad parameters or a secret of the wrong format
 *                     (reason RK_SIG_BAD_PARAMS / RK_SIG_BAD_SECRET): a
 *                     configuration error, not a fault of the delivery;
 *   RK_ERR_NOMEM      out of memory.
 */
rk_err rk_sig_verify(const rk_sig_params *p, const rk_sig_secret *secrets,
                     size_t nsecrets, const rk_sig_header *h, size_t nh,
                     const uint8_t *body, size_t len, int64_t now,
                     rk_sig_result *res, char *err)
    __attribute__((warn_unused_result));

/*
 * A verifier: rk_sig_verify with its secrets prepared once, for a server
 * that checks many deliveries against the same secrets.  Results, reasons
 * and messages are exactly those of rk_sig_verify with the same p and
 * secrets.  What is prepared: every secret decoded and checked once; each
 * HMAC key scheduled into an OpenSSL MAC context once (the inner and outer
 * padded key blocks hashed), which a verification duplicates or reuses
 * instead of fetching the algorithm and keying a new context per call.
 *
 *   rk_sig_verifier_new     p as for rk_sig_verify; p's strings (generic
 *                           hmac header names, prefix) are borrowed until
 *                           free, the secrets only for the call (the
 *                           verifier keeps its own keyed contexts).
 *                           RK_ERR_INVALID for bad parameters or a secret of
 *                           the wrong format (the messages of
 *                           rk_sig_verify), RK_ERR_NOMEM.
 *   rk_sig_verifier_verify  rk_sig_verify on the prepared secrets.
 *   rk_sig_verifier_free    wipes every key (OpenSSL cleanses a context's
 *                           key schedule when it frees it); accepts NULL.
 *
 * Thread safety: one verifier may verify from any number of threads at
 * once (each call takes its own context; a mutex guards the idle ones).
 */
typedef struct rk_sig_verifier rk_sig_verifier;

rk_err rk_sig_verifier_new(const rk_sig_params *p, const rk_sig_secret *secrets,
                           size_t nsecrets, rk_sig_verifier **out, char *err)
    __attribute__((warn_unused_result));
rk_err rk_sig_verifier_verify(rk_sig_verifier *v, const rk_sig_header *h, size_t nh,
                              const uint8_t *body, size_t len, int64_t now,
                              rk_sig_result *res, char *err)
    __attribute__((warn_unused_result));
void rk_sig_verifier_free(rk_sig_verifier *v);

/* A short stable phrase for the reason ("bad signature"); never NULL. */
const char *rk_sig_reason_str(rk_sig_reason r);

/*
 * Produce the headers that make (msg_id, ts, body) a valid delivery under
 * `secret`, appended to headers_out as "Name: value\n" lines in a fixed
 * order.  msg_id is required for standard-webhooks (1..RK_SIG_ID_MAX
 * printable bytes) and ignored by the other schemes; ts is used by schemes
 * with a timestamp (>= 0).  For standard-webhooks a "whsec_" secret gives a
 * v1 signature and a "whsk_" Ed25519 secret key (base64 of the 32-byte seed
 * or of libsodium's 64-byte seed||public key) gives v1a.  nowpayments is
 * signed over the raw body (see formats/webhook-signatures.md).
 * RK_ERR_INVALID for bad parameters or secret, RK_ERR_NOMEM.
 */
rk_err rk_sig_sign(const rk_sig_params *p, const rk_sig_secret *secret,
                   const char *msg_id, int64_t ts, const uint8_t *body,
                   size_t len, rk_buf *headers_out, char *err)
    __attribute__((warn_unused_result));

#endif
