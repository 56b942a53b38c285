/*
 * sig.c - webhook signature schemes, one table (formats/webhook-signatures.md).
 *
 * A scheme is a row of `schemes[]`: how to read its headers into candidate
 * signatures, a timestamp and an id (parse), which message prefix it signs
 * (msg), which MAC and encoding, and optionally a second candidate message
 * derived from the body (alt_message) that is tried only after the raw
 * bytes failed.  Verification is the same loop for every scheme.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <sodium.h>

#include <cJSON.h>

#include "sig.h"

#include "canon.h"

#define MAC_MAX 64  /* HMAC-SHA512 and Ed25519 signatures are 64 bytes */
#define PRE_MAX (RK_SIG_ID_MAX + 1 + 20 + 1 + 1)
#define TS_DIGITS_MAX 18 /* keeps every accepted timestamp inside int64 */
/*
 * Idle keyed contexts a verifier keeps per secret: as many as threads
 * verify at once, in practice; a context beyond that is freed after use.
 */
#define IDLE_MAX 64

/* What a candidate signature (and a key) is. */
enum kind {
    K_NONE = 0,
    K_HMAC256, /* HMAC-SHA256, 32 bytes */
    K_HMAC512, /* HMAC-SHA512, 64 bytes */
    K_ED25519, /* Ed25519 signature, 64 bytes; key: 32-byte public key */
};

/* Which bytes precede the body in the signed message. */
enum msg {
    MSG_BODY,       /* body */
    MSG_TS_BODY,    /* "<ts>." body */
    MSG_ID_TS_BODY, /* "<id>.<ts>." body */
};

struct cand {
    enum kind kind;
    uint8_t mac[MAC_MAX];
    size_t len;
};

/* A delivery's headers, parsed; text pointers borrow the header values. */
struct parsed {
    struct cand cand[RK_SIG_MAX_SIGNATURES];
    size_t ncand;
    size_t nbad;     /* known-version signatures that did not decode */
    size_t nunknown; /* signatures of unknown or legacy versions */
    enum msg msg;
    const char *id;
    size_t idlen;
    const char *ts;
    size_t tslen;
};

/* A secret turned into a key; wiped by key_wipe. */
struct key {
    enum kind kind; /* K_HMAC256/512 for HMAC keys, K_ED25519 for a public key */
    const uint8_t *k;
    size_t klen;
    uint8_t dec[RK_SIG_MAX_KEY];
};

struct scheme;
typedef rk_err (*parse_fn)(const struct scheme *d, const rk_sig_params *p,
                           const rk_sig_header *h, size_t nh, struct parsed *out,
                           rk_sig_result *res, char *err);
/*
 * A second candidate message built from the body, tried after the raw
 * bytes.  Returns RK_OK and fills out, or RK_ERR_INVALID when the body has
 * no such form (then only the raw bytes count).
 */
typedef rk_err (*alt_fn)(const uint8_t *body, size_t len, rk_buf *out);

/*
 * NOWPayments' second candidate: the body parsed and written back with the
 * keys of every object sorted bytewise, no whitespace, strings escaped as
 * JSON.stringify does, and every number exactly as its source literal
 * (formats/webhook-signatures.md 3.5).  RK_ERR_INVALID when not JSON.
 */
static rk_err sorted_keys_message(const uint8_t *body, size_t len, rk_buf *out)
{
    cJSON *root = NULL;
    rk_err rc;

    rc = rk_json_parse((const char *)body, len, &root, NULL);
    if (rc == RK_OK)
        rc = rk_canon_write(root, RK_CANON_ANY_NUMBER, out, NULL);
    cJSON_Delete(root);
    return rc;
}

struct scheme {
    rk_sig_scheme id;
    const char *name;
    parse_fn parse;
    enum kind mac;          /* HMAC of the single-signature schemes */
    rk_sig_encoding enc;    /* encoding of the single-signature schemes */
    const char *header;     /* signature header as we emit it */
    const char *prefix;     /* text before the MAC in the header, or NULL */
    alt_fn alt_message;     /* second candidate message, or NULL */
};

static rk_err parse_standard(const struct scheme *, const rk_sig_params *,
                             const rk_sig_header *, size_t, struct parsed *,
                             rk_sig_result *, char *);
static rk_err parse_stripe(const struct scheme *, const rk_sig_params *,
                           const rk_sig_header *, size_t, struct parsed *,
                           rk_sig_result *, char *);
static rk_err parse_single(const struct scheme *, const rk_sig_params *,
                           const rk_sig_header *, size_t, struct parsed *,
                           rk_sig_result *, char *);

static const struct scheme schemes[] = {
    { RK_SIG_STANDARD_WEBHOOKS, "standard-webhooks", parse_standard,
      K_HMAC256, RK_SIG_BASE64, "webhook-signature", NULL, NULL },
    { RK_SIG_STRIPE, "stripe", parse_stripe,
      K_HMAC256, RK_SIG_HEX, "Stripe-Signature", NULL, NULL },
    { RK_SIG_COINBASE_COMMERCE, "coinbase-commerce", parse_single,
      K_HMAC256, RK_SIG_HEX, "X-CC-Webhook-Signature", NULL, NULL },
    { RK_SIG_BTCPAY, "btcpay", parse_single,
      K_HMAC256, RK_SIG_HEX, "BTCPay-Sig", "sha256=", NULL },
    /*
     * NOWPayments signs its JSON re-serialised with sorted keys.  The raw
     * bytes are tried first, then the sorted-keys form.
     */
    { RK_SIG_NOWPAYMENTS, "nowpayments", parse_single,
      K_HMAC512, RK_SIG_HEX, "x-nowpayments-sig", NULL, sorted_keys_message },
    /* Everything comes from rk_sig_params.hmac. */
    { RK_SIG_HMAC, "hmac", parse_single, K_NONE, 0, NULL, NULL, NULL },
};

#define NSCHEMES (sizeof schemes / sizeof schemes[0])

static const char *const reasons[] = {
    [RK_SIG_VALID] = "valid",
    [RK_SIG_MISSING_HEADER] = "missing header",
    [RK_SIG_MALFORMED_HEADER] = "malformed header",
    [RK_SIG_NO_KNOWN_VERSION] = "no signature of a known version",
    [RK_SIG_BAD_SIGNATURE] = "bad signature",
    [RK_SIG_TIMESTAMP_TOO_OLD] = "timestamp too old",
    [RK_SIG_TIMESTAMP_IN_FUTURE] = "timestamp in the future",
    [RK_SIG_NON_INTEGER_TIMESTAMP] = "non-integer timestamp",
    [RK_SIG_BAD_SECRET] = "bad secret format",
    [RK_SIG_BAD_PARAMS] = "bad parameters",
};

const char *rk_sig_reason_str(rk_sig_reason r)
{
    if ((size_t)r < sizeof reasons / sizeof reasons[0] && reasons[r] != NULL)
        return reasons[r];
    return "unknown reason";
}

static const struct scheme *scheme_find(rk_sig_scheme id)
{
    size_t i;

    for (i = 0; i < NSCHEMES; i++)
        if (schemes[i].id == id)
            return &schemes[i];
    return NULL;
}

const char *rk_sig_scheme_name(rk_sig_scheme s)
{
    const struct scheme *d = scheme_find(s);

    return d != NULL ? d->name : "unknown";
}

rk_err rk_sig_scheme_parse(const char *name, rk_sig_params *p, char *err)
{
    size_t i;

    memset(p, 0, sizeof *p);
    for (i = 0; name != NULL && i < NSCHEMES; i++) {
        if (strcmp(name, schemes[i].name) == 0) {
            p->scheme = schemes[i].id;
            p->tolerance = RK_SIG_DEFAULT_TOLERANCE;
            p->hmac.alg = RK_SIG_SHA256;
            p->hmac.encoding = RK_SIG_HEX;
            return RK_OK;
        }
    }
    return rk_seterr(err, RK_ERR_INVALID,
                     "unknown signature scheme '%s' (standard-webhooks, stripe, "
                     "coinbase-commerce, btcpay, nowpayments, hmac)",
                     name != NULL ? name : "");
}

rk_err rk_sig_alg_parse(const char *name, rk_sig_alg *alg, char *err)
{
    if (name != NULL && strcmp(name, "sha256") == 0)
        *alg = RK_SIG_SHA256;
    else if (name != NULL && strcmp(name, "sha512") == 0)
        *alg = RK_SIG_SHA512;
    else
        return rk_seterr(err, RK_ERR_INVALID,
                         "unknown hmac algorithm '%s' (sha256, sha512)",
                         name != NULL ? name : "");
    return RK_OK;
}

rk_err rk_sig_encoding_parse(const char *name, rk_sig_encoding *enc, char *err)
{
    if (name != NULL && strcmp(name, "hex") == 0)
        *enc = RK_SIG_HEX;
    else if (name != NULL && strcmp(name, "base64") == 0)
        *enc = RK_SIG_BASE64;
    else
        return rk_seterr(err, RK_ERR_INVALID,
                         "unknown signature encoding '%s' (hex, base64)",
                         name != NULL ? name : "");
    return RK_OK;
}

/* ---- small helpers ------------------------------------------------- */

static size_t kind_len(enum kind k)
{
    return k == K_HMAC256 ? 32 : k == K_NONE ? 0 : 64;
}

static int has_text(const char *s)
{
    return s != NULL && s[0] != '\0';
}

/* An HTTP token: what a header name may be made of (RFC 9110 5.6.2). */
static int is_token(const char *s)
{
    const char *extra = "!#$%&'*+-.^_`|~";

    if (!has_text(s) || strlen(s) > 128)
        return 0;
    for (; *s != '\0'; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || strchr(extra, *s) != NULL))
            return 0;
    return 1;
}

static int is_visible(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
            return 0;
    return 1;
}

/* The scheme's effective single-signature parameters. */
static enum kind scheme_mac(const struct scheme *d, const rk_sig_params *p)
{
    if (d->id != RK_SIG_HMAC)
        return d->mac;
    return p->hmac.alg == RK_SIG_SHA512 ? K_HMAC512 : K_HMAC256;
}

static rk_sig_encoding scheme_enc(const struct scheme *d, const rk_sig_params *p)
{
    return d->id == RK_SIG_HMAC ? p->hmac.encoding : d->enc;
}

static const char *scheme_header(const struct scheme *d, const rk_sig_params *p)
{
    return d->id == RK_SIG_HMAC ? p->hmac.header : d->header;
}

static const char *scheme_prefix(const struct scheme *d, const rk_sig_params *p)
{
    const char *pre = d->id == RK_SIG_HMAC ? p->hmac.prefix : d->prefix;

    return has_text(pre) ? pre : NULL;
}

static rk_err check_params(const struct scheme **dp, const rk_sig_params *p,
                           char *err)
{
    const struct scheme *d = p != NULL ? scheme_find(p->scheme) : NULL;

    if (d == NULL)
        return rk_seterr(err, RK_ERR_INVALID, "no signature scheme set");
    if (p->tolerance < 0)
        return rk_seterr(err, RK_ERR_INVALID, "negative timestamp tolerance");
    if (d->id == RK_SIG_HMAC) {
        const rk_sig_hmac *m = &p->hmac;
        if (!is_token(m->header))
            return rk_seterr(err, RK_ERR_INVALID,
                             "hmac: signature header name missing or invalid");
        if (has_text(m->ts_header) && !is_token(m->ts_header))
            return rk_seterr(err, RK_ERR_INVALID,
                             "hmac: invalid timestamp header name");
        if (m->alg != RK_SIG_SHA256 && m->alg != RK_SIG_SHA512)
            return rk_seterr(err, RK_ERR_INVALID, "hmac: unknown algorithm");
        if (m->encoding != RK_SIG_HEX && m->encoding != RK_SIG_BASE64)
            return rk_seterr(err, RK_ERR_INVALID, "hmac: unknown encoding");
        if (has_text(m->prefix) &&
            (strlen(m->prefix) > 64 || !is_visible(m->prefix, strlen(m->prefix))))
            return rk_seterr(err, RK_ERR_INVALID, "hmac: invalid prefix");
    }
    *dp = d;
    return RK_OK;
}

/*
 * Find header `name` (case-insensitive), value trimmed of spaces and tabs.
 * Returns 1 found, 0 absent, -1 present more than once.
 */
static int header_get(const rk_sig_header *h, size_t nh, const char *name,
                      const char **val, size_t *vlen)
{
    size_t i;
    int found = 0;

    for (i = 0; i < nh; i++) {
        const char *v;
        size_t n;

        if (h[i].name == NULL || strcasecmp(h[i].name, name) != 0)
            continue;
        if (found)
            return -1;
        found = 1;
        v = h[i].value != NULL ? h[i].value : "";
        while (*v == ' ' || *v == '\t')
            v++;
        n = strlen(v);
        while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
            n--;
        *val = v;
        *vlen = n;
    }
    return found;
}

static rk_err fail(rk_sig_result *res, rk_sig_reason r, char *err,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Set the reason and the message; return the rk_err that goes with it. */
static rk_err fail(rk_sig_result *res, rk_sig_reason r, char *err,
                   const char *fmt, ...)
{
    rk_err code;
    va_list ap;

    switch (r) {
    case RK_SIG_TIMESTAMP_TOO_OLD:
    case RK_SIG_TIMESTAMP_IN_FUTURE:
        code = RK_ERR_STALE;
        break;
    case RK_SIG_BAD_SECRET:
    case RK_SIG_BAD_PARAMS:
        code = RK_ERR_INVALID;
        break;
    default:
        code = RK_ERR_SIGNATURE;
        break;
    }
    res->reason = r;
    if (err != NULL) {
        va_start(ap, fmt);
        vsnprintf(err, RK_ERROR_SIZE, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* Read a required header into *val; fills the reason when it fails. */
static rk_err need_header(const rk_sig_header *h, size_t nh, const char *name,
                          const char **val, size_t *vlen, rk_sig_result *res,
                          char *err)
{
    int r = header_get(h, nh, name, val, vlen);

    if (r == 0)
        return fail(res, RK_SIG_MISSING_HEADER, err, "missing header '%s'", name);
    if (r < 0)
        return fail(res, RK_SIG_MALFORMED_HEADER, err,
                    "header '%s' appears more than once", name);
    if (*vlen > RK_SIG_MAX_HEADER)
        return fail(res, RK_SIG_MALFORMED_HEADER, err, "header '%s' is too long",
                    name);
    return RK_OK;
}

/* Integer unix seconds: 1..TS_DIGITS_MAX decimal digits, nothing else. */
static rk_err parse_ts(const char *name, const char *s, size_t n,
                       struct parsed *out, rk_sig_result *res, char *err)
{
    int64_t v = 0;
    size_t i;

    for (i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return fail(res, RK_SIG_NON_INTEGER_TIMESTAMP, err,
                        "header '%s': timestamp is not an integer", name);
    if (n == 0)
        return fail(res, RK_SIG_NON_INTEGER_TIMESTAMP, err,
                    "header '%s': empty timestamp", name);
    if (n > TS_DIGITS_MAX)
        return fail(res, RK_SIG_MALFORMED_HEADER, err,
                    "header '%s': timestamp out of range", name);
    for (i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    out->ts = s;
    out->tslen = n;
    res->timestamp = v;
    res->has_timestamp = 1;
    return RK_OK;
}

/* Decode one encoded MAC of exactly kind_len(k) bytes into c. */
static int decode_mac(struct cand *c, enum kind k, rk_sig_encoding enc,
                      const char *s, size_t n)
{
    size_t want = kind_len(k);
    size_t got = 0;
    uint8_t tmp[MAC_MAX + 3];

    if (enc == RK_SIG_HEX) {
        if (rk_hex_decode(c->mac, want, s, n) != RK_OK)
            return 0;
    } else {
        if (rk_b64_decode(tmp, sizeof tmp, &got, s, n) != RK_OK || got != want)
            return 0;
        memcpy(c->mac, tmp, want);
    }
    c->kind = k;
    c->len = want;
    return 1;
}

/* Room for one more signature in the header? */
static rk_err sig_slot(const struct parsed *out, const char *name,
                       rk_sig_result *res, char *err)
{
    if (out->ncand + out->nbad + out->nunknown >= RK_SIG_MAX_SIGNATURES)
        return fail(res, RK_SIG_MALFORMED_HEADER, err,
                    "header '%s': more than %d signatures", name,
                    RK_SIG_MAX_SIGNATURES);
    return RK_OK;
}

/* A signature of a known version: a candidate if it decodes, else bad. */
static rk_err add_cand(struct parsed *out, enum kind k, rk_sig_encoding enc,
                       const char *s, size_t n, const char *name,
                       rk_sig_result *res, char *err)
{
    rk_err rc = sig_slot(out, name, res, err);

    if (rc != RK_OK)
        return rc;
    if (decode_mac(&out->cand[out->ncand], k, enc, s, n))
        out->ncand++;
    else
        out->nbad++;
    return RK_OK;
}

/* ---- parsers, one per header shape ---------------------------------- */

/*
 * Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature
 * ("v1,<b64> v1a,<b64> ...").  Svix documents svix-id / svix-timestamp /
 * svix-signature as the same headers under its own prefix; we read the
 * webhook-* family when webhook-signature is present, else svix-*, never a
 * mix.
 */
static rk_err parse_standard(const struct scheme *d, const rk_sig_params *p,
                             const rk_sig_header *h, size_t nh,
                             struct parsed *out, rk_sig_result *res, char *err)
{
    const char *sig_name = "webhook-signature", *id_name = "webhook-id",
               *ts_name = "webhook-timestamp";
    const char *sig, *id, *ts, *pos, *end;
    size_t siglen, idlen, tslen;
    const char *tmp;
    size_t tmplen;
    rk_err rc;

    (void)d;
    (void)p;
    if (header_get(h, nh, sig_name, &tmp, &tmplen) == 0 &&
        header_get(h, nh, "svix-signature", &tmp, &tmplen) != 0) {
        sig_name = "svix-signature";
        id_name = "svix-id";
        ts_name = "svix-timestamp";
    }
    if ((rc = need_header(h, nh, sig_name, &sig, &siglen, res, err)) != RK_OK ||
        (rc = need_header(h, nh, id_name, &id, &idlen, res, err)) != RK_OK ||
        (rc = need_header(h, nh, ts_name, &ts, &tslen, res, err)) != RK_OK)
        return rc;
    if (idlen == 0 || idlen > RK_SIG_ID_MAX || !is_visible(id, idlen))
        return fail(res, RK_SIG_MALFORMED_HEADER, err,
                    "header '%s': id must be 1 to 255 visible characters", id_name);
    memcpy(res->msg_id, id, idlen);
    res->msg_id[idlen] = '\0';
    res->has_msg_id = 1;
    out->id = id;
    out->idlen = idlen;
    out->msg = MSG_ID_TS_BODY;
    if ((rc = parse_ts(ts_name, ts, tslen, out, res, err)) != RK_OK)
        return rc;
    if (siglen == 0)
        return fail(res, RK_SIG_MALFORMED_HEADER, err, "header '%s' is empty",
                    sig_name);
    end = sig + siglen;
    for (pos = sig; pos < end;) {
        const char *tok, *comma;
        size_t toklen, vlen;

        while (pos < end && *pos == ' ')
            pos++;
        tok = pos;
        while (pos < end && *pos != ' ')
            pos++;
        toklen = (size_t)(pos - tok);
        if (toklen == 0)
            break;
        comma = memchr(tok, ',', toklen);
        if ((rc = sig_slot(out, sig_name, res, err)) != RK_OK)
            return rc;
        if (comma == NULL) {
            out->nbad++; /* "<version>,<signature>" without the comma */
            continue;
        }
        vlen = (size_t)(tok + toklen - (comma + 1));
        if (comma - tok == 2 && memcmp(tok, "v1", 2) == 0)
            rc = add_cand(out, K_HMAC256, RK_SIG_BASE64, comma + 1, vlen,
                          sig_name, res, err);
        else if (comma - tok == 3 && memcmp(tok, "v1a", 3) == 0)
            rc = add_cand(out, K_ED25519, RK_SIG_BASE64, comma + 1, vlen,
                          sig_name, res, err);
        else
            out->nunknown++; /* unknown versions are skipped */
        if (rc != RK_OK)
            return rc;
    }
    return RK_OK;
}

/* Stripe: "t=<unix>,v1=<hex>[,v1=<hex>...][,v0=...]". */
static rk_err parse_stripe(const struct scheme *d, const rk_sig_params *p,
                           const rk_sig_header *h, size_t nh,
                           struct parsed *out, rk_sig_result *res, char *err)
{
    const char *name = d->header;
    const char *v, *pos, *end, *ts = NULL;
    size_t vlen, tslen = 0;
    rk_err rc;

    (void)p;
    if ((rc = need_header(h, nh, name, &v, &vlen, res, err)) != RK_OK)
        return rc;
    if (vlen == 0)
        return fail(res, RK_SIG_MALFORMED_HEADER, err, "header '%s' is empty",
                    name);
    out->msg = MSG_TS_BODY;
    end = v + vlen;
    for (pos = v; pos <= end; pos++) {
        const char *item = pos, *eq, *iend;
        size_t klen, ilen;

        while (pos < end && *pos != ',')
            pos++;
        iend = pos;
        while (item < iend && (*item == ' ' || *item == '\t'))
            item++;
        while (iend > item && (iend[-1] == ' ' || iend[-1] == '\t'))
            iend--;
        ilen = (size_t)(iend - item);
        eq = memchr(item, '=', ilen);
        if (eq == NULL)
            return fail(res, RK_SIG_MALFORMED_HEADER, err,
                        "header '%s': item without '='", name);
        klen = (size_t)(eq - item);
        if (klen == 1 && item[0] == 't') {
            if (ts != NULL)
                return fail(res, RK_SIG_MALFORMED_HEADER, err,
                            "header '%s': more than one timestamp", name);
            ts = eq + 1;
            tslen = (size_t)(iend - ts);
            continue;
        }
        if ((rc = sig_slot(out, name, res, err)) != RK_OK)
            return rc;
        if (klen == 2 && memcmp(item, "v1", 2) == 0)
            rc = add_cand(out, K_HMAC256, RK_SIG_HEX, eq + 1,
                          (size_t)(iend - eq - 1), name, res, err);
        else
            out->nunknown++; /* v0 and unknown schemes are ignored */
        if (rc != RK_OK)
            return rc;
    }
    if (ts == NULL)
        return fail(res, RK_SIG_MALFORMED_HEADER, err,
                    "header '%s': no timestamp (t=)", name);
    return parse_ts(name, ts, tslen, out, res, err);
}

/* One header holding one MAC, optional prefix, optional timestamp header. */
static rk_err parse_single(const struct scheme *d, const rk_sig_params *p,
                           const rk_sig_header *h, size_t nh,
                           struct parsed *out, rk_sig_result *res, char *err)
{
    const char *name = scheme_header(d, p);
    const char *prefix = scheme_prefix(d, p);
    const char *v, *ts;
    size_t vlen, tslen, plen;
    rk_err rc;

    if ((rc = need_header(h, nh, name, &v, &vlen, res, err)) != RK_OK)
        return rc;
    out->msg = MSG_BODY;
    if (d->id == RK_SIG_HMAC && has_text(p->hmac.ts_header)) {
        rc = need_header(h, nh, p->hmac.ts_header, &ts, &tslen, res, err);
        if (rc != RK_OK)
            return rc;
        if ((rc = parse_ts(p->hmac.ts_header, ts, tslen, out, res, err)) != RK_OK)
            return rc;
        out->msg = MSG_TS_BODY;
    }
    if (vlen == 0)
        return fail(res, RK_SIG_MALFORMED_HEADER, err, "header '%s' is empty",
                    name);
    if (prefix != NULL) {
        plen = strlen(prefix);
        if (vlen < plen || memcmp(v, prefix, plen) != 0)
            return fail(res, RK_SIG_MALFORMED_HEADER, err,
                        "header '%s': missing signature prefix", name);
        v += plen;
        vlen -= plen;
    }
    if (!decode_mac(&out->cand[0], scheme_mac(d, p), scheme_enc(d, p), v, vlen))
        return fail(res, RK_SIG_MALFORMED_HEADER, err,
                    "header '%s': signature does not decode to a MAC", name);
    out->ncand = 1;
    return RK_OK;
}

/* ---- keys and MACs --------------------------------------------------- */

static void key_wipe(struct key *k)
{
    sodium_memzero(k, sizeof *k);
}

static int starts(const rk_sig_secret *s, const char *pre)
{
    size_t n = strlen(pre);

    return s->len >= n && memcmp(s->bytes, pre, n) == 0;
}

/*
 * Turn secret number idx into a key for verification (sign = 0) or signing
 * (sign = 1).  For "whsk_" the 64-byte libsodium secret key lands in dec.
 */
static rk_err key_from_secret(const struct scheme *d, const rk_sig_params *p,
                              const rk_sig_secret *s, size_t idx, int sign,
                              struct key *k, char *err)
{
    const char *text = (const char *)s->bytes;
    size_t n = 0, skip;

    memset(k, 0, sizeof *k);
    if (s->bytes == NULL || s->len == 0)
        return rk_seterr(err, RK_ERR_INVALID, "secret %zu: empty", idx + 1);
    if (d->id != RK_SIG_STANDARD_WEBHOOKS) {
        k->kind = scheme_mac(d, p);
        k->k = s->bytes;
        k->klen = s->len;
        return RK_OK;
    }
    if (starts(s, "whpk_") || starts(s, "whsk_")) {
        int is_pk = starts(s, "whpk_");
        uint8_t seed[crypto_sign_SEEDBYTES], pk[crypto_sign_PUBLICKEYBYTES];
        rk_err rc = RK_OK;

        if (is_pk == sign)
            return rk_seterr(err, RK_ERR_INVALID,
                             sign ? "secret %zu: a whpk_ public key cannot sign"
                                  : "secret %zu: a whsk_ secret key cannot verify; "
                                    "give its whpk_ public key",
                             idx + 1);
        if (rk_b64_decode(k->dec, sizeof k->dec, &n, text + 5, s->len - 5) != RK_OK)
            rc = rk_seterr(err, RK_ERR_INVALID, "secret %zu: bad base64", idx + 1);
        else if (is_pk && n != crypto_sign_PUBLICKEYBYTES)
            rc = rk_seterr(err, RK_ERR_INVALID,
                           "secret %zu: whpk_ key must be 32 bytes", idx + 1);
        else if (!is_pk && n == crypto_sign_SEEDBYTES) {
            memcpy(seed, k->dec, sizeof seed);
            crypto_sign_seed_keypair(pk, k->dec, seed);
        } else if (!is_pk && n == crypto_sign_SECRETKEYBYTES) {
            /* seed || public key: the public half must match the seed */
            uint8_t sk[crypto_sign_SECRETKEYBYTES];
            crypto_sign_ed25519_sk_to_seed(seed, k->dec);
            crypto_sign_seed_keypair(pk, sk, seed);
            if (sodium_memcmp(sk, k->dec, sizeof sk) != 0)
                rc = rk_seterr(err, RK_ERR_INVALID,
                               "secret %zu: whsk_ public half does not match", idx + 1);
            sodium_memzero(sk, sizeof sk);
        } else if (!is_pk)
            rc = rk_seterr(err, RK_ERR_INVALID,
                           "secret %zu: whsk_ key must be 32 or 64 bytes", idx + 1);
        sodium_memzero(seed, sizeof seed);
        if (rc != RK_OK) {
            key_wipe(k);
            return rc;
        }
        k->kind = K_ED25519;
        k->k = k->dec;
        k->klen = is_pk ? crypto_sign_PUBLICKEYBYTES : crypto_sign_SECRETKEYBYTES;
        return RK_OK;
    }
    skip = starts(s, "whsec_") ? 6 : 0;
    if (rk_b64_decode(k->dec, sizeof k->dec, &n, text + skip, s->len - skip) != RK_OK ||
        n == 0) {
        key_wipe(k);
        return rk_seterr(err, RK_ERR_INVALID,
                         "secret %zu: not whsec_<base64>, whpk_<base64> or "
                         "whsk_<base64>", idx + 1);
    }
    k->kind = K_HMAC256;
    k->k = k->dec;
    k->klen = n;
    return RK_OK;
}

/* A new HMAC context keyed with key into *out; RK_ERR_NOMEM / RK_ERR_INVALID. */
static rk_err hmac_keyed(enum kind kind, const uint8_t *key, size_t klen, EVP_MAC_CTX **out)
{
    EVP_MAC *mac = NULL;
    EVP_MAC_CTX *ctx = NULL;
    OSSL_PARAM params[2];
    char digest[8];
    rk_err rc = RK_ERR_NOMEM;

    *out = NULL;
    memcpy(digest, kind == K_HMAC512 ? "SHA512" : "SHA256", 7);
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0);
    params[1] = OSSL_PARAM_construct_end();
    mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (mac == NULL)
        goto out;
    ctx = EVP_MAC_CTX_new(mac); /* holds its own reference to mac */
    if (ctx == NULL)
        goto out;
    rc = RK_ERR_INVALID;
    if (EVP_MAC_init(ctx, key, klen, params) != 1)
        goto out;
    *out = ctx;
    ctx = NULL;
    rc = RK_OK;
out:
    EVP_MAC_CTX_free(ctx); /* clears the key schedule */
    EVP_MAC_free(mac);
    return rc;
}

/*
 * The MAC of pre || body with ctx, a context keyed already (by
 * hmac_keyed, or a duplicate of one, or used before: EVP_MAC_init
 * without a key starts a new message under the same key).
 */
static rk_err hmac_run(EVP_MAC_CTX *ctx, enum kind kind, const uint8_t *pre, size_t prelen,
                       const uint8_t *body, size_t len, uint8_t out[MAC_MAX])
{
    size_t outlen = 0;

    if (EVP_MAC_init(ctx, NULL, 0, NULL) != 1 ||
        (prelen > 0 && EVP_MAC_update(ctx, pre, prelen) != 1) ||
        (len > 0 && EVP_MAC_update(ctx, body, len) != 1) ||
        EVP_MAC_final(ctx, out, &outlen, MAC_MAX) != 1 || outlen != kind_len(kind))
        return RK_ERR_INVALID;
    return RK_OK;
}

/* HMAC over pre || body into out; RK_ERR_NOMEM / RK_ERR_INVALID. */
static rk_err hmac(enum kind kind, const uint8_t *key, size_t klen,
                   const uint8_t *pre, size_t prelen, const uint8_t *body,
                   size_t len, uint8_t out[MAC_MAX])
{
    EVP_MAC_CTX *ctx = NULL;
    rk_err rc = hmac_keyed(kind, key, klen, &ctx);

    if (rc == RK_OK)
        rc = hmac_run(ctx, kind, pre, prelen, body, len, out);
    EVP_MAC_CTX_free(ctx); /* clears the key schedule */
    return rc;
}

/* ---- verifiers ------------------------------------------------------- */

/*
 * One secret of a verifier.  Ed25519: the public key in k (k.k points into
 * k.dec).  HMAC: tmpl, a context keyed once and never run itself; each
 * verification takes an idle duplicate (or makes one with
 * EVP_MAC_CTX_dup) and gives it back, so the algorithm is fetched and the
 * key hashed into its padded blocks once per secret, not per delivery.
 * An idle context holds the key schedule, as tmpl does, and nothing else
 * that matters: EVP_MAC_init without a key resets it to the keyed state.
 */
struct vkey {
    struct key k;
    EVP_MAC_CTX *tmpl;
    EVP_MAC_CTX *idle[IDLE_MAX];
    size_t nidle;
};

struct rk_sig_verifier {
    rk_sig_params p;
    struct vkey *keys;
    size_t n;
    pthread_mutex_t mu; /* guards every keys[i].idle */
};

/* The MAC of pre || body under prepared secret vk, as hmac(). */
static rk_err vkey_hmac(rk_sig_verifier *v, struct vkey *vk, const uint8_t *pre,
                        size_t prelen, const uint8_t *body, size_t len,
                        uint8_t out[MAC_MAX])
{
    EVP_MAC_CTX *ctx = NULL;
    rk_err rc;

    pthread_mutex_lock(&v->mu);
    if (vk->nidle > 0)
        ctx = vk->idle[--vk->nidle];
    pthread_mutex_unlock(&v->mu);
    if (ctx == NULL && (ctx = EVP_MAC_CTX_dup(vk->tmpl)) == NULL)
        return RK_ERR_NOMEM;
    rc = hmac_run(ctx, vk->k.kind, pre, prelen, body, len, out);
    if (rc == RK_OK) {
        pthread_mutex_lock(&v->mu);
        if (vk->nidle < IDLE_MAX) {
            vk->idle[vk->nidle++] = ctx;
            ctx = NULL;
        }
        pthread_mutex_unlock(&v->mu);
    }
    EVP_MAC_CTX_free(ctx); /* a failed one, or one too many */
    return rc;
}

void rk_sig_verifier_free(rk_sig_verifier *v)
{
    size_t i;

    if (v == NULL)
        return;
    for (i = 0; i < v->n; i++) {
        while (v->keys[i].nidle > 0)
            EVP_MAC_CTX_free(v->keys[i].idle[--v->keys[i].nidle]);
        EVP_MAC_CTX_free(v->keys[i].tmpl);
        key_wipe(&v->keys[i].k);
    }
    free(v->keys);
    pthread_mutex_destroy(&v->mu);
    free(v);
}

/* The bytes signed before the body: "", "<ts>." or "<id>.<ts>.". */
static size_t build_prefix(char pre[PRE_MAX], enum msg m, const char *id,
                           size_t idlen, const char *ts, size_t tslen)
{
    size_t n = 0;

    if (m == MSG_ID_TS_BODY) {
        memcpy(pre, id, idlen);
        n = idlen;
        pre[n++] = '.';
    }
    if (m != MSG_BODY) {
        memcpy(pre + n, ts, tslen);
        n += tslen;
        pre[n++] = '.';
    }
    return n;
}

/* ---- verify ---------------------------------------------------------- */

/*
 * Does key k verify any candidate over pre || body?  Returns 1 yes, 0 no,
 * or a negative rk_err.  flat holds pre || body once built (Ed25519 needs
 * the message in one piece).  With a verifier, vk is k's prepared secret
 * in v, and an HMAC runs on its keyed contexts.
 */
static int try_key(const struct key *k, rk_sig_verifier *v, struct vkey *vk,
                   const struct parsed *ps, const uint8_t *pre, size_t prelen,
                   const uint8_t *body, size_t len, rk_buf *flat)
{
    uint8_t mac[MAC_MAX];
    size_t i;
    int ok = 0;

    if (k->kind == K_ED25519) {
        if (flat->len == 0 && prelen + len > 0) {
            if (rk_buf_append(flat, pre, prelen) != RK_OK ||
                rk_buf_append(flat, body, len) != RK_OK)
                return -(int)RK_ERR_NOMEM;
        }
        for (i = 0; i < ps->ncand && !ok; i++)
            if (ps->cand[i].kind == K_ED25519 &&
                crypto_sign_verify_detached(ps->cand[i].mac, flat->data, flat->len,
                                            k->k) == 0)
                ok = 1;
        return ok;
    }
    for (i = 0; i < ps->ncand; i++)
        if (ps->cand[i].kind == k->kind)
            break;
    if (i == ps->ncand)
        return 0;
    {
        rk_err rc = vk != NULL ? vkey_hmac(v, vk, pre, prelen, body, len, mac)
                               : hmac(k->kind, k->k, k->klen, pre, prelen, body, len, mac);
        if (rc != RK_OK) {
            sodium_memzero(mac, sizeof mac);
            return -(int)rc;
        }
    }
    for (; i < ps->ncand; i++)
        if (ps->cand[i].kind == k->kind &&
            CRYPTO_memcmp(mac, ps->cand[i].mac, kind_len(k->kind)) == 0)
            ok = 1;
    sodium_memzero(mac, sizeof mac);
    return ok;
}

/*
 * Try every secret over one candidate message; index of the one, or -1.
 * The secrets are v's prepared ones when v is given.
 */
static rk_err try_secrets(const struct scheme *d, const rk_sig_params *p,
                          const rk_sig_secret *secrets, size_t nsecrets,
                          rk_sig_verifier *v, const struct parsed *ps,
                          const uint8_t *pre, size_t prelen, const uint8_t *body,
                          size_t len, long *which, char *err)
{
    rk_buf flat = RK_BUF_INIT;
    struct key k;
    size_t i;
    rk_err rc = RK_OK;

    *which = -1;
    for (i = 0; i < nsecrets && *which < 0; i++) {
        int r;

        if (v != NULL) {
            r = try_key(&v->keys[i].k, v, &v->keys[i], ps, pre, prelen, body, len, &flat);
        } else {
            rc = key_from_secret(d, p, &secrets[i], i, 0, &k, err);
            if (rc != RK_OK)
                break;
            r = try_key(&k, NULL, NULL, ps, pre, prelen, body, len, &flat);
            key_wipe(&k);
        }
        if (r < 0) {
            rc = rk_seterr(err, (rk_err)-r, "cannot compute the signature");
            break;
        }
        if (r == 1)
            *which = (long)i;
    }
    rk_buf_free(&flat);
    return rc;
}

/*
 * The checks of rk_sig_verify before any header is read: libsodium,
 * parameters, arguments and (unless v, whose secrets were checked when it
 * was made) every secret's format.  res is reset.
 */
static rk_err verify_start(const rk_sig_params *p, const rk_sig_secret *secrets,
                           size_t nsecrets, int prepared, const rk_sig_header *h,
                           size_t nh, const uint8_t *body, size_t len,
                           const struct scheme **d, rk_sig_result *res, char *err)
{
    struct key k;
    size_t i;
    rk_err rc;

    memset(res, 0, sizeof *res);
    res->secret_index = -1;
    if (err != NULL)
        err[0] = '\0';
    if (sodium_init() < 0)
        return fail(res, RK_SIG_BAD_PARAMS, err, "cannot initialise libsodium");
    if ((rc = check_params(d, p, err)) != RK_OK) {
        res->reason = RK_SIG_BAD_PARAMS;
        return rc;
    }
    if ((!prepared && secrets == NULL) || nsecrets == 0 || (h == NULL && nh > 0) ||
        (body == NULL && len > 0)) {
        res->reason = RK_SIG_BAD_PARAMS;
        return rk_seterr(err, RK_ERR_INVALID, "no secret, headers or body given");
    }
    for (i = 0; !prepared && i < nsecrets; i++) {
        rc = key_from_secret(*d, p, &secrets[i], i, 0, &k, err);
        key_wipe(&k);
        if (rc != RK_OK) {
            res->reason = RK_SIG_BAD_SECRET;
            return rc;
        }
    }
    return RK_OK;
}

/* rk_sig_verify once verify_start passed; the secrets are v's when v is given. */
static rk_err verify_core(const struct scheme *d, const rk_sig_params *p,
                          const rk_sig_secret *secrets, size_t nsecrets,
                          rk_sig_verifier *v, const rk_sig_header *h, size_t nh,
                          const uint8_t *body, size_t len, int64_t now,
                          rk_sig_result *res, char *err)
{
    struct parsed ps;
    char pre[PRE_MAX];
    size_t prelen;
    rk_buf alt = RK_BUF_INIT;
    long which = -1;
    rk_err rc;
    __int128 diff;

    memset(&ps, 0, sizeof ps);
    if ((rc = d->parse(d, p, h, nh, &ps, res, err)) != RK_OK)
        goto out;
    if (ps.ncand == 0) {
        rc = ps.nbad > 0
                 ? fail(res, RK_SIG_MALFORMED_HEADER, err,
                        "header '%s': no signature decodes to a MAC",
                        scheme_header(d, p))
                 : fail(res, RK_SIG_NO_KNOWN_VERSION, err,
                        "header '%s': no signature of a known version",
                        scheme_header(d, p));
        goto out;
    }
    prelen = build_prefix(pre, ps.msg, ps.id, ps.idlen, ps.ts, ps.tslen);
    rc = try_secrets(d, p, secrets, nsecrets, v, &ps, (const uint8_t *)pre, prelen,
                     body, len, &which, err);
    if (rc == RK_OK && which < 0 && d->alt_message != NULL &&
        d->alt_message(body, len, &alt) == RK_OK)
        rc = try_secrets(d, p, secrets, nsecrets, v, &ps, (const uint8_t *)pre,
                         prelen, alt.data, alt.len, &which, err);
    if (rc != RK_OK) {
        res->reason = RK_SIG_BAD_PARAMS;
        goto out;
    }
    if (which < 0) {
        rc = fail(res, RK_SIG_BAD_SIGNATURE, err,
                  "header '%s': no signature verifies with the given secrets",
                  scheme_header(d, p));
        goto out;
    }
    res->secret_index = (int)which;
    res->authentic = 1;
    if (res->has_timestamp) {
        diff = (__int128)res->timestamp - (__int128)now;
        if (diff < -(__int128)p->tolerance) {
            rc = fail(res, RK_SIG_TIMESTAMP_TOO_OLD, err,
                      "timestamp %lld is more than %lld s before now",
                      (long long)res->timestamp, (long long)p->tolerance);
            goto out;
        }
        if (diff > (__int128)p->tolerance) {
            rc = fail(res, RK_SIG_TIMESTAMP_IN_FUTURE, err,
                      "timestamp %lld is more than %lld s after now",
                      (long long)res->timestamp, (long long)p->tolerance);
            goto out;
        }
    }
    res->reason = RK_SIG_VALID;
    rc = RK_OK;
out:
    sodium_memzero(&ps, sizeof ps);
    rk_buf_free(&alt);
    return rc;
}

rk_err rk_sig_verify(const rk_sig_params *p, const rk_sig_secret *secrets,
                     size_t nsecrets, const rk_sig_header *h, size_t nh,
                     const uint8_t *body, size_t len, int64_t now,
                     rk_sig_result *res, char *err)
{
    const struct scheme *d = NULL;
    rk_err rc = verify_start(p, secrets, nsecrets, 0, h, nh, body, len, &d, res, err);

    if (rc != RK_OK)
        return rc;
    return verify_core(d, p, secrets, nsecrets, NULL, h, nh, body, len, now, res, err);
}

rk_err rk_sig_verifier_verify(rk_sig_verifier *v, const rk_sig_header *h, size_t nh,
                              const uint8_t *body, size_t len, int64_t now,
                              rk_sig_result *res, char *err)
{
    const struct scheme *d = NULL;
    rk_err rc = verify_start(&v->p, NULL, v->n, 1, h, nh, body, len, &d, res, err);

    if (rc != RK_OK)
        return rc;
    return verify_core(d, &v->p, NULL, v->n, v, h, nh, body, len, now, res, err);
}

rk_err rk_sig_verifier_new(const rk_sig_params *p, const rk_sig_secret *secrets,
                           size_t nsecrets, rk_sig_verifier **out, char *err)
{
    const struct scheme *d = NULL;
    rk_sig_verifier *v;
    rk_sig_result res;
    struct vkey *vk;
    size_t i;
    rk_err rc;

    *out = NULL;
    /* the same checks, in the same order and words, as rk_sig_verify */
    rc = verify_start(p, secrets, nsecrets, 0, NULL, 0, NULL, 0, &d, &res, err);
    if (rc != RK_OK)
        return rc;
    v = calloc(1, sizeof *v);
    if (v == NULL || (v->keys = calloc(nsecrets, sizeof *v->keys)) == NULL) {
        free(v);
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    }
    pthread_mutex_init(&v->mu, NULL);
    v->p = *p;
    v->n = nsecrets;
    for (i = 0; rc == RK_OK && i < nsecrets; i++) {
        vk = &v->keys[i];
        rc = key_from_secret(d, p, &secrets[i], i, 0, &vk->k, err);
        if (rc != RK_OK || vk->k.kind == K_ED25519)
            continue; /* a public key: kept as it is (k.k points into k.dec) */
        rc = hmac_keyed(vk->k.kind, vk->k.k, vk->k.klen, &vk->tmpl);
        if (rc != RK_OK)
            rk_seterr(err, rc, "secret %zu: cannot key the MAC", i + 1);
        /* the key lives on in tmpl only; k.k may point at the caller's secret */
        sodium_memzero(vk->k.dec, sizeof vk->k.dec);
        vk->k.k = NULL;
        vk->k.klen = 0;
    }
    if (rc != RK_OK) {
        rk_sig_verifier_free(v);
        return rc;
    }
    *out = v;
    return RK_OK;
}

/* ---- sign ------------------------------------------------------------ */

static rk_err put_mac(rk_buf *o, rk_sig_encoding enc, const uint8_t *mac, size_t n)
{
    char text[2 * MAC_MAX + 1];
    rk_err rc;

    if (enc == RK_SIG_HEX)
        rk_hex_encode(text, mac, n);
    else
        rk_b64_encode(text, sizeof text, mac, n);
    rc = rk_buf_puts(o, text);
    return rc;
}

rk_err rk_sig_sign(const rk_sig_params *p, const rk_sig_secret *secret,
                   const char *msg_id, int64_t ts, const uint8_t *body,
                   size_t len, rk_buf *headers_out, char *err)
{
    const struct scheme *d = NULL;
    struct key k;
    rk_buf o = RK_BUF_INIT, flat = RK_BUF_INIT;
    char pre[PRE_MAX], tstext[24];
    size_t prelen, idlen = 0;
    uint8_t mac[MAC_MAX];
    enum msg m = MSG_BODY;
    rk_err rc;

    memset(&k, 0, sizeof k);
    if (sodium_init() < 0)
        return rk_seterr(err, RK_ERR_INVALID, "cannot initialise libsodium");
    if ((rc = check_params(&d, p, err)) != RK_OK)
        return rc;
    if (secret == NULL || headers_out == NULL || (body == NULL && len > 0))
        return rk_seterr(err, RK_ERR_INVALID, "no secret, output or body given");
    if (ts < 0)
        return rk_seterr(err, RK_ERR_INVALID, "negative timestamp");
    snprintf(tstext, sizeof tstext, "%lld", (long long)ts);
    if (d->id == RK_SIG_STANDARD_WEBHOOKS) {
        idlen = msg_id != NULL ? strlen(msg_id) : 0;
        if (idlen == 0 || idlen > RK_SIG_ID_MAX || !is_visible(msg_id, idlen))
            return rk_seterr(err, RK_ERR_INVALID,
                             "message id must be 1 to 255 visible characters");
        m = MSG_ID_TS_BODY;
    } else if (d->id == RK_SIG_STRIPE ||
               (d->id == RK_SIG_HMAC && has_text(p->hmac.ts_header))) {
        m = MSG_TS_BODY;
    }
    if ((rc = key_from_secret(d, p, secret, 0, 1, &k, err)) != RK_OK)
        return rc;
    prelen = build_prefix(pre, m, msg_id, idlen, tstext, strlen(tstext));
    if (k.kind == K_ED25519) {
        rc = RK_ERR_NOMEM;
        if (rk_buf_append(&flat, pre, prelen) != RK_OK ||
            rk_buf_append(&flat, body, len) != RK_OK)
            goto out;
        crypto_sign_detached(mac, NULL, flat.data, flat.len, k.k);
    } else if ((rc = hmac(k.kind, k.k, k.klen, (const uint8_t *)pre, prelen, body,
                          len, mac)) != RK_OK) {
        rk_seterr(err, rc, "cannot compute the signature");
        goto out;
    }
    rc = RK_ERR_NOMEM;
    switch (d->id) {
    case RK_SIG_STANDARD_WEBHOOKS:
        if (rk_buf_printf(&o, "webhook-id: %s\nwebhook-timestamp: %s\n"
                              "webhook-signature: %s,",
                          msg_id, tstext, k.kind == K_ED25519 ? "v1a" : "v1") != RK_OK ||
            put_mac(&o, RK_SIG_BASE64, mac, kind_len(k.kind)) != RK_OK)
            goto out;
        break;
    case RK_SIG_STRIPE:
        if (rk_buf_printf(&o, "%s: t=%s,v1=", d->header, tstext) != RK_OK ||
            put_mac(&o, RK_SIG_HEX, mac, 32) != RK_OK)
            goto out;
        break;
    default:
        if (m == MSG_TS_BODY &&
            rk_buf_printf(&o, "%s: %s\n", p->hmac.ts_header, tstext) != RK_OK)
            goto out;
        if (rk_buf_printf(&o, "%s: %s", scheme_header(d, p),
                          scheme_prefix(d, p) != NULL ? scheme_prefix(d, p) : "") != RK_OK ||
            put_mac(&o, scheme_enc(d, p), mac, kind_len(k.kind)) != RK_OK)
            goto out;
        break;
    }
    if (rk_buf_putc(&o, '\n') != RK_OK ||
        rk_buf_append(headers_out, o.data, o.len) != RK_OK)
        goto out;
    rc = RK_OK;
out:
    if (rc == RK_ERR_NOMEM)
        rk_seterr(err, rc, "out of memory");
    key_wipe(&k);
    sodium_memzero(mac, sizeof mac);
    if (flat.data != NULL)
        sodium_memzero(flat.data, flat.len);
    rk_buf_free(&flat);
    rk_buf_free(&o);
    return rc;
}
