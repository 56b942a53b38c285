/* test_sig.c - webhook signature schemes: vectors, malformed headers, limits. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "check_main.h"
#include "sig.h"

#define VECDIR "tests/vectors/sig/"

/* ---- the vector file ------------------------------------------------- */

struct vec {
    rk_sig_params p;
    int have_p;
    char hmac_header[64], hmac_prefix[64], hmac_ts[64];
    rk_sig_secret secrets[8];
    size_t nsecrets;
    rk_sig_header h[16];
    char names[16][128];
    size_t nh;
    rk_buf body;
    int64_t now;
    char expect[64];
    int secret_index; /* -2: not checked */
    char msg_id[256];
    int64_t timestamp;
    int have_timestamp;
    int line;
};

static void vec_reset(struct vec *v)
{
    rk_buf_free(&v->body);
    memset(v, 0, sizeof *v);
    v->secret_index = -2;
}

/*
 * rk_sig_verify, and the same through a verifier (rk_sig_verifier_new with
 * the same parameters and secrets): both must give the same code, result
 * and message.  A verifier is run twice, so its second run is on a reused
 * context.  Returns rk_sig_verify's code.
 */
static rk_err verify_both(const rk_sig_params *p, const rk_sig_secret *secrets, size_t n,
                          const rk_sig_header *h, size_t nh, const uint8_t *body,
                          size_t len, int64_t now, rk_sig_result *res, char *err)
{
    rk_sig_verifier *v = NULL;
    rk_sig_result r2;
    char e2[RK_ERROR_SIZE];
    rk_err rc = rk_sig_verify(p, secrets, n, h, nh, body, len, now, res, err);
    rk_err rc2 = rk_sig_verifier_new(p, secrets, n, &v, e2);
    int round;

    if (rc2 != RK_OK) {
        /* refused when made: only for what rk_sig_verify refuses as bad configuration */
        ck_assert_int_eq(rc2, rc);
        ck_assert_int_eq(rc, RK_ERR_INVALID);
        ck_assert_str_eq(e2, err);
        ck_assert_ptr_null(v);
        return rc;
    }
    for (round = 0; round < 2; round++) {
        memset(&r2, 0x5a, sizeof r2);
        rc2 = rk_sig_verifier_verify(v, h, nh, body, len, now, &r2, e2);
        ck_assert_int_eq(rc2, rc);
        ck_assert_str_eq(e2, err);
        ck_assert_int_eq(r2.reason, res->reason);
        ck_assert_int_eq(r2.secret_index, res->secret_index);
        ck_assert_int_eq(r2.authentic, res->authentic);
        ck_assert_int_eq(r2.has_msg_id, res->has_msg_id);
        if (res->has_msg_id)
            ck_assert_str_eq(r2.msg_id, res->msg_id);
        ck_assert_int_eq(r2.has_timestamp, res->has_timestamp);
        if (res->has_timestamp)
            ck_assert(r2.timestamp == res->timestamp);
    }
    rk_sig_verifier_free(v);
    return rc;
}

static void vec_run(struct vec *v)
{
    rk_sig_result res;
    char err[RK_ERROR_SIZE];
    rk_err rc;

    ck_assert_msg(v->have_p, "vector at line %d has no scheme", v->line);
    rc = verify_both(&v->p, v->secrets, v->nsecrets, v->h, v->nh, v->body.data,
                     v->body.len, v->now, &res, err);
    ck_assert_msg(strcmp(rk_sig_reason_str(res.reason), v->expect) == 0,
                  "vector at line %d: got '%s' (%s), want '%s'", v->line,
                  rk_sig_reason_str(res.reason), err, v->expect);
    ck_assert_int_eq(rc == RK_OK, res.reason == RK_SIG_VALID);
    if (v->secret_index != -2)
        ck_assert_int_eq(res.secret_index, v->secret_index);
    if (v->msg_id[0] != '\0') {
        ck_assert_int_eq(res.has_msg_id, 1);
        ck_assert_str_eq(res.msg_id, v->msg_id);
    }
    if (v->have_timestamp) {
        ck_assert_int_eq(res.has_timestamp, 1);
        ck_assert(res.timestamp == v->timestamp);
    }
}

START_TEST(vector_file)
{
    rk_buf file = RK_BUF_INIT, lines = RK_BUF_INIT;
    char err[RK_ERROR_SIZE];
    struct vec v;
    char *line, *save = NULL;
    int lineno = 0, ran = 0;
    size_t i;

    memset(&v, 0, sizeof v);
    vec_reset(&v);
    ck_assert_int_eq(rk_buf_read_file(&file, VECDIR "vectors.txt", 1 << 20, err), RK_OK);
    /* keep each line's text alive for the borrowed pointers: one copy */
    ck_assert_int_eq(rk_buf_append(&lines, file.data, file.len), RK_OK);
    ck_assert_int_eq(rk_buf_puts(&lines, "\n\n"), RK_OK);
    for (line = (char *)lines.data; line != NULL; line = save) {
        char *nl = strchr(line, '\n'), *arg;
        lineno++;
        save = nl != NULL ? nl + 1 : NULL;
        if (nl != NULL)
            *nl = '\0';
        if (line[0] == '#')
            continue;
        if (line[0] == '\0') {
            if (v.have_p) {
                vec_run(&v);
                ran++;
            }
            vec_reset(&v);
            continue;
        }
        if (v.line == 0)
            v.line = lineno;
        arg = strchr(line, ' ');
        ck_assert_msg(arg != NULL, "line %d: no value", lineno);
        *arg++ = '\0';
        if (strcmp(line, "scheme") == 0) {
            ck_assert_int_eq(rk_sig_scheme_parse(arg, &v.p, err), RK_OK);
            v.have_p = 1;
            v.p.hmac.header = v.hmac_header;
            v.p.hmac.prefix = v.hmac_prefix;
            v.p.hmac.ts_header = v.hmac_ts;
        } else if (strcmp(line, "secret") == 0) {
            v.secrets[v.nsecrets].bytes = (const uint8_t *)arg;
            v.secrets[v.nsecrets++].len = strlen(arg);
        } else if (strcmp(line, "header") == 0) {
            char *colon = strchr(arg, ':');
            ck_assert_ptr_nonnull(colon);
            snprintf(v.names[v.nh], sizeof v.names[v.nh], "%.*s", (int)(colon - arg), arg);
            v.h[v.nh].name = v.names[v.nh];
            v.h[v.nh++].value = colon + 1;
        } else if (strcmp(line, "now") == 0) {
            v.now = strtoll(arg, NULL, 10);
        } else if (strcmp(line, "tolerance") == 0) {
            v.p.tolerance = strtoll(arg, NULL, 10);
        } else if (strcmp(line, "body-text") == 0) {
            ck_assert_int_eq(rk_buf_puts(&v.body, arg), RK_OK);
        } else if (strcmp(line, "body-file") == 0) {
            char path[256];
            snprintf(path, sizeof path, VECDIR "%s", arg);
            ck_assert_int_eq(rk_buf_read_file(&v.body, path, 1 << 20, err), RK_OK);
        } else if (strcmp(line, "hmac-header") == 0) {
            snprintf(v.hmac_header, sizeof v.hmac_header, "%s", arg);
        } else if (strcmp(line, "hmac-prefix") == 0) {
            snprintf(v.hmac_prefix, sizeof v.hmac_prefix, "%s", arg);
        } else if (strcmp(line, "hmac-timestamp-header") == 0) {
            snprintf(v.hmac_ts, sizeof v.hmac_ts, "%s", arg);
        } else if (strcmp(line, "hmac-alg") == 0) {
            ck_assert_int_eq(rk_sig_alg_parse(arg, &v.p.hmac.alg, err), RK_OK);
        } else if (strcmp(line, "hmac-encoding") == 0) {
            ck_assert_int_eq(rk_sig_encoding_parse(arg, &v.p.hmac.encoding, err), RK_OK);
        } else if (strcmp(line, "expect") == 0) {
            snprintf(v.expect, sizeof v.expect, "%s", arg);
        } else if (strcmp(line, "secret-index") == 0) {
            v.secret_index = atoi(arg);
        } else if (strcmp(line, "msg-id") == 0) {
            snprintf(v.msg_id, sizeof v.msg_id, "%s", arg);
        } else if (strcmp(line, "timestamp") == 0) {
            v.timestamp = strtoll(arg, NULL, 10);
            v.have_timestamp = 1;
        } else {
            ck_abort_msg("line %d: unknown key '%s'", lineno, line);
        }
    }
    vec_reset(&v);
    rk_buf_free(&v.body);
    rk_buf_free(&file);
    rk_buf_free(&lines);
    ck_assert_int_ge(ran, 19);
    (void)i;
}
END_TEST

/* ---- helpers for the hand-written cases ------------------------------- */

static const char *SW_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
static const char *SW_BODY = "{\"test\": 2432232314}";
static const char *SW_SIG = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

static rk_sig_secret sec(const char *s)
{
    rk_sig_secret x = { (const uint8_t *)s, strlen(s) };
    return x;
}

static rk_sig_params params(const char *scheme)
{
    rk_sig_params p;
    char err[RK_ERROR_SIZE];

    ck_assert_int_eq(rk_sig_scheme_parse(scheme, &p, err), RK_OK);
    return p;
}

/* Verify with one secret, `body` text and now; return the reason. */
static rk_sig_reason check(const rk_sig_params *p, const char *secret,
                           const rk_sig_header *h, size_t nh, const char *body,
                           int64_t now, rk_err want_rc)
{
    rk_sig_secret s = sec(secret);
    rk_sig_result res;
    char err[RK_ERROR_SIZE];
    rk_err rc = verify_both(p, &s, 1, h, nh, (const uint8_t *)body, strlen(body),
                            now, &res, err);

    ck_assert_msg(rc == want_rc, "rc %d want %d (%s)", rc, want_rc, err);
    if (strlen(secret) >= 8)
        ck_assert_msg(strstr(err, secret) == NULL, "secret in error text");
    ck_assert(rc != RK_OK || err[0] == '\0');
    ck_assert(rc == RK_OK || err[0] != '\0');
    return res.reason;
}

static rk_sig_reason sw(const char *id, const char *ts, const char *sig, rk_err want_rc)
{
    rk_sig_params p = params("standard-webhooks");
    rk_sig_header h[3];
    size_t n = 0;

    if (id != NULL)
        h[n++] = (rk_sig_header){ "webhook-id", id };
    if (ts != NULL)
        h[n++] = (rk_sig_header){ "webhook-timestamp", ts };
    if (sig != NULL)
        h[n++] = (rk_sig_header){ "webhook-signature", sig };
    return check(&p, SW_SECRET, h, n, SW_BODY, 1614265330, want_rc);
}

START_TEST(standard_webhooks_malformed)
{
    const char *id = "msg_p5jXN8AQM9LWM0D4loKWxJek", *ts = "1614265330";
    char many[2048], longid[300];
    int i;

    ck_assert_int_eq(sw(id, ts, SW_SIG, RK_OK), RK_SIG_VALID);
    ck_assert_int_eq(sw(NULL, ts, SW_SIG, RK_ERR_SIGNATURE), RK_SIG_MISSING_HEADER);
    ck_assert_int_eq(sw(id, NULL, SW_SIG, RK_ERR_SIGNATURE), RK_SIG_MISSING_HEADER);
    ck_assert_int_eq(sw(id, ts, NULL, RK_ERR_SIGNATURE), RK_SIG_MISSING_HEADER);
    ck_assert_int_eq(sw(id, ts, "", RK_ERR_SIGNATURE), RK_SIG_MALFORMED_HEADER);
    ck_assert_int_eq(sw(id, ts, "   ", RK_ERR_SIGNATURE), RK_SIG_MALFORMED_HEADER);
    ck_assert_int_eq(sw(id, ts, "v1,", RK_ERR_SIGNATURE), RK_SIG_MALFORMED_HEADER);
    ck_assert_int_eq(sw(id, ts, "v1,g0hM9SsE+OTPJTGt", RK_ERR_SIGNATURE),
                     RK_SIG_MALFORMED_HEADER); /* truncated base64 */
    ck_assert_int_eq(sw(id, ts, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE",
                        RK_ERR_SIGNATURE), RK_SIG_MALFORMED_HEADER); /* no padding */
    ck_assert_int_eq(sw(id, ts, "v1,g0hM9SsE*OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
                        RK_ERR_SIGNATURE), RK_SIG_MALFORMED_HEADER);
    ck_assert_int_eq(sw(id, ts, "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
                        RK_ERR_SIGNATURE), RK_SIG_MALFORMED_HEADER); /* no version */
    ck_assert_int_eq(sw(id, ts, "v1a,AAAA", RK_ERR_SIGNATURE), RK_SIG_MALFORMED_HEADER);
    ck_assert_int_eq(sw(id, ts, "v2,abc v0,def", RK_ERR_SIGNATURE), RK_SIG_NO_KNOWN_VERSION);
    ck_assert_int_eq(sw(id, ts, "V1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
                        RK_ERR_SIGNATURE), RK_SIG_NO_KNOWN_VERSION);
    /* a garbage v1 next to a good one does not spoil it (rotation) */
    ck_assert_int_eq(sw(id, ts, "v1,AAAA v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
                        RK_OK), RK_SIG_VALID);
    ck_assert_int_eq(sw(id, "16142653x0", SW_SIG, RK_ERR_SIGNATURE),
                     RK_SIG_NON_INTEGER_TIMESTAMP);
    ck_assert_int_eq(sw(id, "", SW_SIG, RK_ERR_SIGNATURE), RK_SIG_NON_INTEGER_TIMESTAMP);
    ck_assert_int_eq(sw(id, "-1614265330", SW_SIG, RK_ERR_SIGNATURE),
                     RK_SIG_NON_INTEGER_TIMESTAMP);
    ck_assert_int_eq(sw(id, "1614265330.5", SW_SIG, RK_ERR_SIGNATURE),
                     RK_SIG_NON_INTEGER_TIMESTAMP);
    ck_assert_int_eq(sw(id, "1234567890123456789", SW_SIG, RK_ERR_SIGNATURE),
                     RK_SIG_MALFORMED_HEADER); /* 19 digits: out of range */
    ck_assert_int_eq(sw("", ts, SW_SIG, RK_ERR_SIGNATURE), RK_SIG_MALFORMED_HEADER);
    ck_assert_int_eq(sw("msg p5j", ts, SW_SIG, RK_ERR_SIGNATURE), RK_SIG_MALFORMED_HEADER);
    memset(longid, 'a', 256);
    longid[256] = '\0';
    ck_assert_int_eq(sw(longid, ts, SW_SIG, RK_ERR_SIGNATURE), RK_SIG_MALFORMED_HEADER);
    longid[255] = '\0'; /* 255 is allowed: only the signature fails */
    ck_assert_int_eq(sw(longid, ts, SW_SIG, RK_ERR_SIGNATURE), RK_SIG_BAD_SIGNATURE);
    /* RK_SIG_MAX_SIGNATURES signatures are fine, one more is not */
    many[0] = '\0';
    for (i = 0; i < RK_SIG_MAX_SIGNATURES - 1; i++)
        strcat(many, "v9,x ");
    strcat(many, SW_SIG);
    ck_assert_int_eq(sw(id, ts, many, RK_OK), RK_SIG_VALID);
    strcat(many, " v9,x");
    ck_assert_int_eq(sw(id, ts, many, RK_ERR_SIGNATURE), RK_SIG_MALFORMED_HEADER);
}
END_TEST

START_TEST(duplicate_and_oversized_headers)
{
    rk_sig_params p = params("standard-webhooks");
    rk_sig_header h[4] = {
        { "webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek" },
        { "webhook-timestamp", "1614265330" },
        { "webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" },
        { "Webhook-Signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" },
    };
    char *big = malloc(RK_SIG_MAX_HEADER + 2);

    ck_assert_int_eq(check(&p, SW_SECRET, h, 4, SW_BODY, 1614265330, RK_ERR_SIGNATURE),
                     RK_SIG_MALFORMED_HEADER);
    /* webhook-* wins over svix-*; no mixing */
    h[3] = (rk_sig_header){ "svix-signature", "v1,AAAA" };
    ck_assert_int_eq(check(&p, SW_SECRET, h, 4, SW_BODY, 1614265330, RK_OK), RK_SIG_VALID);
    h[2] = (rk_sig_header){ "x-other", "1" };
    h[3] = (rk_sig_header){ "svix-signature", SW_SIG };
    ck_assert_int_eq(check(&p, SW_SECRET, h, 4, SW_BODY, 1614265330, RK_ERR_SIGNATURE),
                     RK_SIG_MISSING_HEADER); /* svix-id / svix-timestamp absent */
    ck_assert_ptr_nonnull(big);
    memset(big, 'A', RK_SIG_MAX_HEADER + 1);
    big[RK_SIG_MAX_HEADER + 1] = '\0';
    h[2] = (rk_sig_header){ "webhook-signature", big };
    ck_assert_int_eq(check(&p, SW_SECRET, h, 3, SW_BODY, 1614265330, RK_ERR_SIGNATURE),
                     RK_SIG_MALFORMED_HEADER);
    /* a NULL value reads as empty */
    h[2] = (rk_sig_header){ "webhook-signature", NULL };
    ck_assert_int_eq(check(&p, SW_SECRET, h, 3, SW_BODY, 1614265330, RK_ERR_SIGNATURE),
                     RK_SIG_MALFORMED_HEADER);
    free(big);
}
END_TEST

START_TEST(bad_secrets)
{
    rk_sig_params p = params("standard-webhooks");
    rk_sig_header h[3] = {
        { "webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek" },
        { "webhook-timestamp", "1614265330" },
        { "webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" },
    };
    rk_sig_secret two[2] = { sec(SW_SECRET), sec("whsec_not*base64") };
    rk_sig_result res;
    char err[RK_ERROR_SIZE];

    ck_assert_int_eq(check(&p, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS", h, 3, SW_BODY,
                           1614265330, RK_ERR_INVALID), RK_SIG_BAD_SECRET);
    ck_assert_int_eq(check(&p, "whsec_", h, 3, SW_BODY, 1614265330, RK_ERR_INVALID),
                     RK_SIG_BAD_SECRET);
    ck_assert_int_eq(check(&p, "", h, 3, SW_BODY, 1614265330, RK_ERR_INVALID),
                     RK_SIG_BAD_SECRET);
    ck_assert_int_eq(check(&p, "whpk_AAAA", h, 3, SW_BODY, 1614265330, RK_ERR_INVALID),
                     RK_SIG_BAD_SECRET);
    ck_assert_int_eq(check(&p, "whsk_nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=", h, 3,
                           SW_BODY, 1614265330, RK_ERR_INVALID), RK_SIG_BAD_SECRET);
    /* the prefix is optional: bare base64 is the same key */
    ck_assert_int_eq(check(&p, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", h, 3, SW_BODY,
                           1614265330, RK_OK), RK_SIG_VALID);
    /* one bad secret among good ones fails the whole configuration */
    ck_assert_int_eq(rk_sig_verify(&p, two, 2, h, 3, (const uint8_t *)SW_BODY,
                                   strlen(SW_BODY), 1614265330, &res, err),
                     RK_ERR_INVALID);
    ck_assert_int_eq(res.reason, RK_SIG_BAD_SECRET);
    ck_assert_str_eq(err, "secret 2: not whsec_<base64>, whpk_<base64> or whsk_<base64>");
    ck_assert_int_eq(rk_sig_verify(&p, two, 0, h, 3, (const uint8_t *)SW_BODY,
                                   strlen(SW_BODY), 1614265330, &res, err),
                     RK_ERR_INVALID);
    ck_assert_int_eq(res.reason, RK_SIG_BAD_PARAMS);
}
END_TEST

static rk_sig_reason stripe(const char *value, int64_t now, rk_err want)
{
    rk_sig_params p = params("stripe");
    rk_sig_header h = { "Stripe-Signature", value };

    return check(&p, "whsec_reckon_stripe_test_secret", &h, value != NULL, 
                 "{\"id\":\"evt_reckon_1\",\"object\":\"event\",\"type\":"
                 "\"payment_intent.succeeded\"}", now, want);
}

#define STRIPE_V1 "5faab1b32d2d2dd23ca2a9fd1ea8e696d4ecbafe5f99c2fc06963ffa13698dca"

START_TEST(stripe_malformed)
{
    ck_assert_int_eq(stripe("t=1700000000,v1=" STRIPE_V1, 1700000000, RK_OK), RK_SIG_VALID);
    ck_assert_int_eq(stripe(" t=1700000000 , v1=" STRIPE_V1 " ", 1700000000, RK_OK),
                     RK_SIG_VALID);
    ck_assert_int_eq(stripe("v1=" STRIPE_V1 ",t=1700000000", 1700000000, RK_OK),
                     RK_SIG_VALID);
    ck_assert_int_eq(stripe(NULL, 1700000000, RK_ERR_SIGNATURE), RK_SIG_MISSING_HEADER);
    ck_assert_int_eq(stripe("", 1700000000, RK_ERR_SIGNATURE), RK_SIG_MALFORMED_HEADER);
    ck_assert_int_eq(stripe("t=1700000000", 1700000000, RK_ERR_SIGNATURE),
                     RK_SIG_NO_KNOWN_VERSION);
    ck_assert_int_eq(stripe("t=1700000000,v0=" STRIPE_V1 ",v2=ab", 1700000000,
                            RK_ERR_SIGNATURE), RK_SIG_NO_KNOWN_VERSION);
    ck_assert_int_eq(stripe("v1=" STRIPE_V1, 1700000000, RK_ERR_SIGNATURE),
                     RK_SIG_MALFORMED_HEADER);
    ck_assert_int_eq(stripe("t=abc,v1=" STRIPE_V1, 1700000000, RK_ERR_SIGNATURE),
                     RK_SIG_NON_INTEGER_TIMESTAMP);
    ck_assert_int_eq(stripe("t=,v1=" STRIPE_V1, 1700000000, RK_ERR_SIGNATURE),
                     RK_SIG_NON_INTEGER_TIMESTAMP);
    ck_assert_int_eq(stripe("t=1700000000,v1=5faab1b32d", 1700000000, RK_ERR_SIGNATURE),
                     RK_SIG_MALFORMED_HEADER);
    ck_assert_int_eq(stripe("t=1700000000,v1=", 1700000000, RK_ERR_SIGNATURE),
                     RK_SIG_MALFORMED_HEADER);
    ck_assert_int_eq(stripe("t=1700000000,v1=" STRIPE_V1 "0", 1700000000,
                            RK_ERR_SIGNATURE), RK_SIG_MALFORMED_HEADER);
    ck_assert_int_eq(stripe("t=1700000000,v1=zz" STRIPE_V1 + 2, 1700000000,
                            RK_ERR_SIGNATURE), RK_SIG_MALFORMED_HEADER);
    ck_assert_int_eq(stripe("t=1,t=1700000000,v1=" STRIPE_V1, 1700000000,
                            RK_ERR_SIGNATURE), RK_SIG_MALFORMED_HEADER);
    ck_assert_int_eq(stripe("t=1700000000,v1" STRIPE_V1, 1700000000, RK_ERR_SIGNATURE),
                     RK_SIG_MALFORMED_HEADER);
    ck_assert_int_eq(stripe("t=1700000000,v1=" STRIPE_V1 ",", 1700000000,
                            RK_ERR_SIGNATURE), RK_SIG_MALFORMED_HEADER);
    ck_assert_int_eq(stripe("t=1700000000,v1=" STRIPE_V1, 1700000301, RK_ERR_STALE),
                     RK_SIG_TIMESTAMP_TOO_OLD);
    ck_assert_int_eq(stripe("t=1700000000,v1=" STRIPE_V1, 1699999699, RK_ERR_STALE),
                     RK_SIG_TIMESTAMP_IN_FUTURE);
    /* the edges are inside */
    ck_assert_int_eq(stripe("t=1700000000,v1=" STRIPE_V1, 1700000300, RK_OK), RK_SIG_VALID);
    ck_assert_int_eq(stripe("t=1700000000,v1=" STRIPE_V1, 1699999700, RK_OK), RK_SIG_VALID);
    /* a forged signature outside the window is a bad signature, not stale */
    ck_assert_int_eq(stripe("t=1700000001,v1=" STRIPE_V1, 1800000000, RK_ERR_SIGNATURE),
                     RK_SIG_BAD_SIGNATURE);
}
END_TEST

static rk_sig_reason single(const char *scheme, const char *name, const char *value,
                            rk_err want)
{
    rk_sig_params p = params(scheme);
    rk_sig_header h = { name, value };

    return check(&p, "k", &h, value != NULL, "body", 0, want);
}

START_TEST(single_header_malformed)
{
    static const char *hex64 =
        "0000000000000000000000000000000000000000000000000000000000000000";
    char hex128[129];

    memset(hex128, '0', 128);
    hex128[128] = '\0';
    ck_assert_int_eq(single("coinbase-commerce", "X-CC-Webhook-Signature", NULL,
                            RK_ERR_SIGNATURE), RK_SIG_MISSING_HEADER);
    ck_assert_int_eq(single("coinbase-commerce", "X-CC-Webhook-Signature", "",
                            RK_ERR_SIGNATURE), RK_SIG_MALFORMED_HEADER);
    ck_assert_int_eq(single("coinbase-commerce", "X-CC-Webhook-Signature", "8be7742c",
                            RK_ERR_SIGNATURE), RK_SIG_MALFORMED_HEADER);
    ck_assert_int_eq(single("coinbase-commerce", "X-CC-Webhook-Signature", hex128,
                            RK_ERR_SIGNATURE), RK_SIG_MALFORMED_HEADER);
    ck_assert_int_eq(single("coinbase-commerce", "X-CC-Webhook-Signature", hex64,
                            RK_ERR_SIGNATURE), RK_SIG_BAD_SIGNATURE);
    ck_assert_int_eq(single("btcpay", "BTCPay-Sig", hex64, RK_ERR_SIGNATURE),
                     RK_SIG_MALFORMED_HEADER);
    ck_assert_int_eq(single("btcpay", "BTCPay-Sig", "sha256=", RK_ERR_SIGNATURE),
                     RK_SIG_MALFORMED_HEADER);
    ck_assert_int_eq(single("btcpay", "BTCPay-Sig", "sha512=00", RK_ERR_SIGNATURE),
                     RK_SIG_MALFORMED_HEADER);
    ck_assert_int_eq(single("btcpay", "btcpay-sig", "sha256=0000", RK_ERR_SIGNATURE),
                     RK_SIG_MALFORMED_HEADER);
    ck_assert_int_eq(single("nowpayments", "x-nowpayments-sig", hex64, RK_ERR_SIGNATURE),
                     RK_SIG_MALFORMED_HEADER); /* SHA-256 length, SHA-512 expected */
    ck_assert_int_eq(single("nowpayments", "X-NOWPAYMENTS-SIG", hex128, RK_ERR_SIGNATURE),
                     RK_SIG_BAD_SIGNATURE);
}
END_TEST

START_TEST(hmac_params_and_timestamp)
{
    rk_sig_params p = params("hmac");
    rk_sig_header h[2] = { { "X-Sig", "00" }, { "X-Ts", "12" } };
    rk_sig_result res;
    rk_sig_secret s = sec("k");
    char err[RK_ERROR_SIZE];
    rk_sig_alg alg;
    rk_sig_encoding enc;

    /* no header configured */
    ck_assert_int_eq(rk_sig_verify(&p, &s, 1, h, 2, NULL, 0, 0, &res, err), RK_ERR_INVALID);
    ck_assert_int_eq(res.reason, RK_SIG_BAD_PARAMS);
    p.hmac.header = "X Sig";
    ck_assert_int_eq(rk_sig_verify(&p, &s, 1, h, 2, NULL, 0, 0, &res, err), RK_ERR_INVALID);
    p.hmac.header = "X-Sig";
    p.hmac.ts_header = "X-Missing";
    ck_assert_int_eq(check(&p, "k", h, 2, "", 0, RK_ERR_SIGNATURE), RK_SIG_MISSING_HEADER);
    p.hmac.ts_header = "x-ts";
    h[1].value = "1e9";
    ck_assert_int_eq(check(&p, "k", h, 2, "", 0, RK_ERR_SIGNATURE),
                     RK_SIG_NON_INTEGER_TIMESTAMP);
    p.tolerance = -1;
    ck_assert_int_eq(rk_sig_verify(&p, &s, 1, h, 2, NULL, 0, 0, &res, err), RK_ERR_INVALID);
    p.tolerance = 300;
    p.hmac.alg = 7;
    ck_assert_int_eq(rk_sig_verify(&p, &s, 1, h, 2, NULL, 0, 0, &res, err), RK_ERR_INVALID);
    p.hmac.alg = RK_SIG_SHA256;
    p.hmac.encoding = 9;
    ck_assert_int_eq(rk_sig_verify(&p, &s, 1, h, 2, NULL, 0, 0, &res, err), RK_ERR_INVALID);
    ck_assert_int_eq(rk_sig_alg_parse("md5", &alg, err), RK_ERR_INVALID);
    ck_assert_str_eq(err, "unknown hmac algorithm 'md5' (sha256, sha512)");
    ck_assert_int_eq(rk_sig_encoding_parse("base32", &enc, err), RK_ERR_INVALID);
    ck_assert_int_eq(rk_sig_encoding_parse("base64", &enc, err), RK_OK);
    ck_assert_int_eq(enc, RK_SIG_BASE64);
    ck_assert_int_eq(rk_sig_scheme_parse("svix", &p, err), RK_ERR_INVALID);
    ck_assert_int_eq(rk_sig_scheme_parse(NULL, &p, err), RK_ERR_INVALID);
    p.scheme = 99;
    ck_assert_int_eq(rk_sig_verify(&p, &s, 1, h, 2, NULL, 0, 0, &res, err), RK_ERR_INVALID);
    ck_assert_str_eq(rk_sig_scheme_name(RK_SIG_BTCPAY), "btcpay");
    ck_assert_str_eq(rk_sig_scheme_name(99), "unknown");
}
END_TEST

/* The reason phrases are an interface: the CLI prints them, scripts match. */
START_TEST(reason_strings)
{
    static const char *want[] = {
        "valid", "missing header", "malformed header",
        "no signature of a known version", "bad signature", "timestamp too old",
        "timestamp in the future", "non-integer timestamp", "bad secret format",
        "bad parameters",
    };
    size_t i;

    for (i = 0; i < sizeof want / sizeof want[0]; i++)
        ck_assert_str_eq(rk_sig_reason_str((rk_sig_reason)i), want[i]);
    ck_assert_str_eq(rk_sig_reason_str((rk_sig_reason)77), "unknown reason");
}
END_TEST

/* ---- sign -> verify round trips --------------------------------------- */

/* Split "Name: value\n" lines into h (pointers into buf, modified). */
static size_t split_headers(char *buf, rk_sig_header *h, size_t max)
{
    size_t n = 0;
    char *line = buf;

    while (*line != '\0' && n < max) {
        char *nl = strchr(line, '\n'), *colon = strchr(line, ':');
        ck_assert_ptr_nonnull(nl);
        ck_assert_ptr_nonnull(colon);
        *nl = '\0';
        *colon = '\0';
        h[n].name = line;
        h[n++].value = colon + 2;
        line = nl + 1;
    }
    return n;
}

static void round_trip(rk_sig_params *p, const char *sign_secret, const char *verify_secret)
{
    rk_buf out = RK_BUF_INIT, body = RK_BUF_INIT;
    rk_sig_secret s = sec(sign_secret);
    rk_sig_secret v[2] = { sec("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), sec(verify_secret) };
    rk_sig_header h[4];
    rk_sig_result res;
    char err[RK_ERROR_SIZE];
    size_t n, i;

    for (i = 0; i < 3000; i++)
        ck_assert_int_eq(rk_buf_putc(&body, (char)(i * 7)), RK_OK);
    ck_assert_int_eq(rk_sig_sign(p, &s, "msg_round_trip", 1700000000, body.data, body.len,
                                 &out, err), RK_OK);
    n = split_headers((char *)out.data, h, 4);
    /* the second secret verifies; the first is a decoy of the right format */
    if (p->scheme != RK_SIG_STANDARD_WEBHOOKS)
        v[0] = sec("decoy-secret");
    ck_assert_int_eq(verify_both(p, v, 2, h, n, body.data, body.len, 1700000010, &res, err),
                     RK_OK);
    ck_assert_int_eq(res.reason, RK_SIG_VALID);
    ck_assert_int_eq(res.secret_index, 1);
    ck_assert_int_eq(res.authentic, 1);
    if (p->scheme == RK_SIG_STANDARD_WEBHOOKS)
        ck_assert_str_eq(res.msg_id, "msg_round_trip");
    body.data[1234] ^= 1;
    ck_assert_int_eq(verify_both(p, v, 2, h, n, body.data, body.len, 1700000010, &res, err),
                     RK_ERR_SIGNATURE);
    ck_assert_int_eq(res.reason, RK_SIG_BAD_SIGNATURE);
    ck_assert_int_eq(res.authentic, 0);
    ck_assert_int_eq(res.secret_index, -1);
    body.data[1234] ^= 1;
    if (res.has_timestamp) {
        ck_assert(res.timestamp == 1700000000);
        ck_assert_int_eq(verify_both(p, v, 2, h, n, body.data, body.len, 1700000301, &res,
                                       err), RK_ERR_STALE);
        ck_assert_int_eq(res.reason, RK_SIG_TIMESTAMP_TOO_OLD);
        ck_assert_int_eq(res.authentic, 1); /* genuine, but late */
    }
    rk_buf_free(&out);
    rk_buf_free(&body);
}

START_TEST(round_trips)
{
    rk_sig_params p;
    static const char *schemes[] = { "stripe", "coinbase-commerce", "btcpay", "nowpayments" };
    size_t i;

    p = params("standard-webhooks");
    round_trip(&p, SW_SECRET, SW_SECRET);
    /* v1a: whsk_ as the 32-byte seed and as the 64-byte seed||pk */
    round_trip(&p, "whsk_nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=",
               "whpk_11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
    round_trip(&p, "whsk_nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2DXWpgBgrEKt9VL/tPJZAc6"
                   "DuFy89qmIyWvAhpo9wdRGg==",
               "whpk_11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
    for (i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
        p = params(schemes[i]);
        round_trip(&p, "a rotated secret", "a rotated secret");
    }
    p = params("hmac");
    p.hmac.header = "X-Hook-Sig";
    round_trip(&p, "s", "s");
    p.hmac.alg = RK_SIG_SHA512;
    p.hmac.encoding = RK_SIG_BASE64;
    p.hmac.prefix = "v=";
    p.hmac.ts_header = "X-Hook-Time";
    round_trip(&p, "s", "s");
}
END_TEST

START_TEST(sign_public_vectors_and_errors)
{
    rk_sig_params p = params("standard-webhooks");
    rk_sig_secret s = sec(SW_SECRET);
    rk_buf out = RK_BUF_INIT, body = RK_BUF_INIT;
    char err[RK_ERROR_SIZE];

    ck_assert_int_eq(rk_sig_sign(&p, &s, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                                 (const uint8_t *)SW_BODY, strlen(SW_BODY), &out, err), RK_OK);
    ck_assert_str_eq((char *)out.data,
                     "webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek\n"
                     "webhook-timestamp: 1614265330\n"
                     "webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=\n");
    rk_buf_reset(&out);
    p = params("coinbase-commerce");
    s = sec("30291a20-0bd1-4267-9b0f-e6e7b123c0bf");
    ck_assert_int_eq(rk_buf_read_file(&body, VECDIR "coinbase-commerce-charge-created.json",
                                      4096, err), RK_OK);
    ck_assert_uint_eq(body.len, 816);
    ck_assert_int_eq(rk_sig_sign(&p, &s, NULL, 0, body.data, body.len, &out, err), RK_OK);
    ck_assert_str_eq((char *)out.data, "X-CC-Webhook-Signature: "
                     "8be7742c7d372f08a6a3224edadf18a22b65fa9e28f3f2de97376cdaa092590d\n");
    /* errors */
    p = params("standard-webhooks");
    s = sec(SW_SECRET);
    ck_assert_int_eq(rk_sig_sign(&p, &s, NULL, 1, NULL, 0, &out, err), RK_ERR_INVALID);
    ck_assert_int_eq(rk_sig_sign(&p, &s, "a b", 1, NULL, 0, &out, err), RK_ERR_INVALID);
    ck_assert_int_eq(rk_sig_sign(&p, &s, "id", -1, NULL, 0, &out, err), RK_ERR_INVALID);
    s = sec("whpk_11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
    ck_assert_int_eq(rk_sig_sign(&p, &s, "id", 1, NULL, 0, &out, err), RK_ERR_INVALID);
    ck_assert_str_eq(err, "secret 1: a whpk_ public key cannot sign");
    /* seed || a public key that is not the seed's */
    s = sec("whsk_nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2DXWpgBgrEKt9VL/tPJZAc6"
            "DuFy89qmIyWvAhpo9wdRGw==");
    ck_assert_int_eq(rk_sig_sign(&p, &s, "id", 1, NULL, 0, &out, err), RK_ERR_INVALID);
    s = sec("whsk_AAAA");
    ck_assert_int_eq(rk_sig_sign(&p, &s, "id", 1, NULL, 0, &out, err), RK_ERR_INVALID);
    s = sec("whsk_!!!!");
    ck_assert_int_eq(rk_sig_sign(&p, &s, "id", 1, NULL, 0, &out, err), RK_ERR_INVALID);
    p = params("hmac");
    s = sec("k");
    rk_buf_reset(&out);
    ck_assert_int_eq(rk_sig_sign(&p, &s, NULL, 1, NULL, 0, &out, err), RK_ERR_INVALID);
    ck_assert_uint_eq(out.len, 0); /* nothing appended on failure */
    rk_buf_free(&out);
    rk_buf_free(&body);
}
END_TEST

/* Oversized and empty bodies, and limits of the timestamp arithmetic. */
/*
 * NOWPayments' second candidate: the body re-serialised with sorted keys.
 * Self-made vector: HMAC-SHA512 with secret "np-secret" over
 * {"a":{"c":"x","d":2},"b":1.50,"payment_id":5077125051}, computed with
 * Python's hmac module, not with our code.
 */
START_TEST(nowpayments_sorted_keys)
{
    rk_sig_params p = params("nowpayments");
    const char *mac = "ca0fc7be9a3f9aeb38eb15cef08e54965dce5073835cb7c5146bbd6e5a187bdf"
                      "2050d4c7f69bf0e06c0d85a94b813f1e4b44eb21251be23a1f03012264ae6af1";
    rk_sig_header h[1] = { { "x-nowpayments-sig", mac } };

    /* keys out of order at both levels, whitespace, the number literal kept */
    ck_assert_int_eq(check(&p, "np-secret", h, 1,
                           "{\"payment_id\": 5077125051, \"b\": 1.50,\n \"a\": {\"d\": 2, \"c\": \"x\"}}",
                           0, RK_OK),
                     RK_SIG_VALID);
    /* the sorted form itself verifies as raw bytes */
    ck_assert_int_eq(check(&p, "np-secret", h, 1,
                           "{\"a\":{\"c\":\"x\",\"d\":2},\"b\":1.50,\"payment_id\":5077125051}",
                           0, RK_OK),
                     RK_SIG_VALID);
    /* a changed number literal (1.5 for 1.50) is another message */
    ck_assert_int_eq(check(&p, "np-secret", h, 1,
                           "{\"payment_id\": 5077125051, \"b\": 1.5, \"a\": {\"d\": 2, \"c\": \"x\"}}",
                           0, RK_ERR_SIGNATURE),
                     RK_SIG_BAD_SIGNATURE);
    /* not JSON: only the raw bytes are tried */
    ck_assert_int_eq(check(&p, "np-secret", h, 1, "{\"a\":", 0, RK_ERR_SIGNATURE),
                     RK_SIG_BAD_SIGNATURE);
}
END_TEST

START_TEST(limits)
{
    rk_sig_params p = params("stripe");
    rk_sig_secret s = sec("k");
    rk_buf out = RK_BUF_INIT;
    rk_sig_header h[1];
    rk_sig_result res;
    char err[RK_ERROR_SIZE];
    uint8_t *big = calloc(1, 8u << 20);
    size_t n;

    ck_assert_ptr_nonnull(big);
    ck_assert_int_eq(rk_sig_sign(&p, &s, NULL, 999999999999999999LL, big, 8u << 20, &out, err),
                     RK_OK);
    n = split_headers((char *)out.data, h, 1);
    ck_assert_int_eq(rk_sig_verify(&p, &s, 1, h, n, big, 8u << 20, INT64_MIN, &res, err),
                     RK_ERR_STALE);
    ck_assert_int_eq(res.reason, RK_SIG_TIMESTAMP_IN_FUTURE);
    ck_assert_int_eq(rk_sig_verify(&p, &s, 1, h, n, big, 8u << 20, INT64_MAX, &res, err),
                     RK_ERR_STALE);
    ck_assert_int_eq(res.reason, RK_SIG_TIMESTAMP_TOO_OLD);
    p.tolerance = INT64_MAX;
    ck_assert_int_eq(rk_sig_verify(&p, &s, 1, h, n, big, 8u << 20, 0, &res, err), RK_OK);
    ck_assert_int_eq(rk_sig_verify(&p, &s, 1, h, n, big, 8u << 20, INT64_MIN, &res, err),
                     RK_ERR_STALE); /* 1.9e19 s apart: no overflow */
    rk_buf_reset(&out);
    p = params("coinbase-commerce");
    ck_assert_int_eq(rk_sig_sign(&p, &s, NULL, 0, NULL, 0, &out, err), RK_OK);
    n = split_headers((char *)out.data, h, 1);
    ck_assert_int_eq(rk_sig_verify(&p, &s, 1, h, n, NULL, 0, 0, &res, err), RK_OK);
    ck_assert_int_eq(rk_sig_verify(&p, &s, 1, h, n, NULL, 5, 0, &res, err), RK_ERR_INVALID);
    free(big);
    rk_buf_free(&out);
}
END_TEST

/* ---- verifiers --------------------------------------------------------- */

struct vjob {
    rk_sig_verifier *v;
    const rk_sig_header *h;
    size_t nh;
    const rk_buf *body;
    int bad; /* results that differed from what was expected */
};

/* Alternate a genuine and a forged body, 300 times, on one shared verifier. */
static void *vjob_main(void *arg)
{
    struct vjob *j = arg;
    rk_buf forged = RK_BUF_INIT;
    rk_sig_result res;
    char err[RK_ERROR_SIZE];
    int i;

    if (rk_buf_append(&forged, j->body->data, j->body->len) != RK_OK)
        j->bad++;
    else
        forged.data[7] ^= 1;
    for (i = 0; i < 300; i++) {
        const rk_buf *b = i % 2 == 0 ? j->body : &forged;
        rk_err rc = rk_sig_verifier_verify(j->v, j->h, j->nh, b->data, b->len, 1700000010,
                                           &res, err);
        if (i % 2 == 0 ? (rc != RK_OK || res.secret_index != 1)
                       : (rc != RK_ERR_SIGNATURE || res.reason != RK_SIG_BAD_SIGNATURE))
            j->bad++;
    }
    rk_buf_free(&forged);
    return NULL;
}

START_TEST(verifier_threads_and_errors)
{
    rk_sig_params p = params("coinbase-commerce");
    rk_sig_secret s = sec("the endpoint secret");
    rk_sig_secret two[2] = { sec("an older secret"), sec("the endpoint secret") };
    rk_sig_secret bad[2] = { sec("whsec_AAAA"), sec("whsec_!!!") };
    rk_buf out = RK_BUF_INIT, body = RK_BUF_INIT;
    rk_sig_verifier *v = NULL;
    rk_sig_header h[2];
    pthread_t th[4];
    struct vjob jobs[4];
    char err[RK_ERROR_SIZE];
    size_t n, i;

    /* the configuration errors of rk_sig_verify, when the verifier is made */
    ck_assert_int_eq(rk_sig_verifier_new(&p, two, 0, &v, err), RK_ERR_INVALID);
    ck_assert_str_eq(err, "no secret, headers or body given");
    ck_assert_ptr_null(v);
    ck_assert_int_eq(rk_sig_verifier_new(&p, NULL, 1, &v, err), RK_ERR_INVALID);
    ck_assert_ptr_null(v);
    p = params("standard-webhooks");
    ck_assert_int_eq(rk_sig_verifier_new(&p, bad, 2, &v, err), RK_ERR_INVALID);
    ck_assert_str_eq(err, "secret 2: not whsec_<base64>, whpk_<base64> or whsk_<base64>");
    ck_assert(strstr(err, "!!!") == NULL);
    ck_assert_ptr_null(v);
    p.scheme = (rk_sig_scheme)99;
    ck_assert_int_eq(rk_sig_verifier_new(&p, bad, 1, &v, err), RK_ERR_INVALID);
    ck_assert_ptr_null(v);
    rk_sig_verifier_free(NULL);

    /* one verifier, four threads at once: every result as if alone */
    p = params("coinbase-commerce");
    for (i = 0; i < 2000; i++)
        ck_assert_int_eq(rk_buf_putc(&body, (char)('a' + i % 26)), RK_OK);
    ck_assert_int_eq(rk_sig_sign(&p, &s, NULL, 0, body.data, body.len, &out, err), RK_OK);
    n = split_headers((char *)out.data, h, 2);
    ck_assert_int_eq(rk_sig_verifier_new(&p, two, 2, &v, err), RK_OK);
    for (i = 0; i < 4; i++) {
        jobs[i].v = v;
        jobs[i].h = h;
        jobs[i].nh = n;
        jobs[i].body = &body;
        jobs[i].bad = 0;
        ck_assert_int_eq(pthread_create(&th[i], NULL, vjob_main, &jobs[i]), 0);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(jobs[i].bad, 0);
    }
    rk_sig_verifier_free(v);
    rk_buf_free(&out);
    rk_buf_free(&body);
}
END_TEST

Suite *rk_test_suite(void)
{
    Suite *s = suite_create("sig");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, vector_file);
    tcase_add_test(tc, standard_webhooks_malformed);
    tcase_add_test(tc, duplicate_and_oversized_headers);
    tcase_add_test(tc, bad_secrets);
    tcase_add_test(tc, stripe_malformed);
    tcase_add_test(tc, single_header_malformed);
    tcase_add_test(tc, hmac_params_and_timestamp);
    tcase_add_test(tc, reason_strings);
    tcase_add_test(tc, round_trips);
    tcase_add_test(tc, verifier_threads_and_errors);
    tcase_add_test(tc, sign_public_vectors_and_errors);
    tcase_add_test(tc, limits);
    tcase_add_test(tc, nowpayments_sorted_keys);
    suite_add_tcase(s, tc);
    return s;
}
