/*
 * test_serve.c - the receiver in-process on 127.0.0.1 (a free port), driven
 * by a tiny socket client: every response code and the records behind it.
 *
 * The adapter is the test's own (opts.adapt): {"id":ID,"ref":REF} maps to
 * event key "generic:ID"; anything else is unmappable.  The provider
 * adapters have their own suite.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cJSON.h>

#include "apikey.h"
#include "canon.h"
#include "check_main.h"
#include "config.h"
#include "ledger.h"
#include "serve.h"
#include "sig.h"

#define NOW_S 1795692930LL
static int64_t fake_now = NOW_S * 1000000000LL + 123456789;

static int64_t fake_clock(void *ctx)
{
    (void)ctx;
    return fake_now;
}

static rk_err test_adapt(const char *provider, const cJSON *root, rk_adapt_event *ev,
                         char *err)
{
    const char *id, *ref;

    (void)provider;
    if (rk_json_get_string(root, "id", &id, NULL) != RK_OK ||
        rk_json_get_string(root, "ref", &ref, NULL) != RK_OK)
        return rk_seterr(err, RK_ERR_NOTFOUND, "test adapter: no id or ref");
    snprintf(ev->event_key, sizeof ev->event_key, "generic:%s", id);
    snprintf(ev->ref, sizeof ev->ref, "%s", ref);
    return rk_buf_printf(&ev->body, "{\"event_id\":\"%s\",\"v\":1}", id);
}

struct fix {
    char *dir;
    char db[4200];
    char keys[4200];
    rk_config *cfg;
    rk_ledger *l;
    rk_server *s;
    char key_op[RK_APIKEY_TEXT_SIZE], key_aud[RK_APIKEY_TEXT_SIZE];
    char key_op_id[RK_APIKEY_ID_SIZE], key_aud_id[RK_APIKEY_ID_SIZE];
};

static struct fix F;

/*
 * Every test runs twice (tcase_add_loop_test): _i = 0 with the default
 * event-driven pool, _i = 1 with a thread per connection.
 */
static int tpc;

static void start(const char *extra_cfg, int readonly)
{
    char err[RK_ERROR_SIZE] = "", text[4096], p[4300];
    rk_serve_opts o;
    rk_apikeys *ks = rk_apikeys_new();
    const rk_apikey *k;
    FILE *f;

    memset(&F, 0, sizeof F);
    F.dir = rk_test_tmpdir();
    snprintf(F.db, sizeof F.db, "%s/db", F.dir);
    ck_assert_int_eq(rk_ledger_create(F.db, "test.example/serve", fake_now, err), RK_OK);
    ck_assert_int_eq(rk_ledger_open(F.db, readonly ? RK_LEDGER_READONLY : 0, &F.l, err), RK_OK);
    rk_ledger_set_clock(F.l, fake_clock, NULL);
    snprintf(p, sizeof p, "%s/cb.secret", F.dir);
    f = fopen(p, "wb");
    fputs("cb-secret", f);
    fclose(f);
    snprintf(F.keys, sizeof F.keys, "%s/keys.json", F.dir);
    ck_assert_int_eq(rk_apikeys_add(ks, "olga", RK_ROLE_OPERATOR, 0, F.key_op, &k, err), RK_OK);
    memcpy(F.key_op_id, k->id, sizeof F.key_op_id);
    ck_assert_int_eq(rk_apikeys_add(ks, "audrey", RK_ROLE_AUDITOR, 0, F.key_aud, &k, err),
                     RK_OK);
    memcpy(F.key_aud_id, k->id, sizeof F.key_aud_id);
    ck_assert_int_eq(rk_apikeys_save(ks, F.keys, err), RK_OK);
    rk_apikeys_free(ks);
    setenv("RK_TEST_SW", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 1);
    snprintf(text, sizeof text,
             "{\"listen\":\"127.0.0.1:0\",\"body_limit\":1000,\"api_keys\":\"keys.json\",%s%s"
             "\"endpoints\":{"
             "\"cb\":{\"provider\":\"generic\",\"scheme\":\"coinbase-commerce\","
             "\"secrets\":[{\"file\":\"cb.secret\"}]},"
             "\"sw\":{\"provider\":\"generic\",\"scheme\":\"standard-webhooks\","
             "\"secrets\":[{\"env\":\"RK_TEST_SW\"}]}}}",
             tpc ? "\"thread_per_connection\":true," : "", extra_cfg);
    ck_assert_msg(rk_config_parse(text, strlen(text), F.dir, &F.cfg, err) == RK_OK, "%s", err);
    memset(&o, 0, sizeof o);
    o.clock = fake_clock;
    o.adapt = test_adapt;
    ck_assert_msg(rk_serve_start(F.l, F.cfg, &o, &F.s, err) == RK_OK, "%s", err);
    ck_assert_uint_ne(rk_serve_port(F.s), 0);
}

static void stop(void)
{
    char err[RK_ERROR_SIZE] = "";

    if (F.s != NULL)
        ck_assert_msg(rk_serve_stop(F.s, err) == RK_OK, "%s", err);
    rk_serve_free(F.s);
    rk_ledger_close(F.l);
    rk_config_free(F.cfg);
    free(F.dir);
    F.s = NULL;
}

/* ---- the tiny client --------------------------------------------------- */

struct resp {
    int code;
    char body[16384];
    unsigned peer_port;
    int refused_ok; /* set by the caller: a refused connection is code 0, not a failure */
};

/* Send raw request bytes (headers and body as given), read to EOF. */
static void http_raw(const char *req, size_t len, struct resp *r)
{
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    char buf[65536];
    size_t got = 0;
    ssize_t n;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    char *b;

    ck_assert_int_ge(fd, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(rk_serve_port(F.s));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        /* a server that is stopping may refuse: only where the test allows it */
        ck_assert_msg(r->refused_ok, "connect: %s", strerror(errno));
        close(fd);
        r->code = 0;
        r->body[0] = '\0';
        return;
    }
    getsockname(fd, (struct sockaddr *)&a, &al);
    r->peer_port = ntohs(a.sin_port);
    while (len > 0) {
        n = send(fd, req, len, MSG_NOSIGNAL);
        if (n <= 0)
            break; /* the server may close early (413) */
        req += n;
        len -= (size_t)n;
    }
    while (got < sizeof buf - 1 && (n = recv(fd, buf + got, sizeof buf - 1 - got, 0)) > 0)
        got += (size_t)n;
    buf[got] = '\0';
    close(fd);
    r->code = 0;
    sscanf(buf, "HTTP/1.1 %d", &r->code);
    b = strstr(buf, "\r\n\r\n");
    snprintf(r->body, sizeof r->body, "%s", b != NULL ? b + 4 : "");
}

/* POST body to path with extra header lines ("Name: value\n" each). */
static void post(const char *path, const char *hdrs, const char *body, struct resp *r)
{
    char req[65536], line[8192];
    const char *p = hdrs, *nl;
    size_t n;

    n = (size_t)snprintf(req, sizeof req, "POST %s HTTP/1.1\r\nHost: test\r\n"
                         "Connection: close\r\nContent-Length: %zu\r\n", path, strlen(body));
    while (p != NULL && *p != '\0') {
        nl = strchr(p, '\n');
        snprintf(line, sizeof line, "%.*s\r\n", (int)(nl != NULL ? nl - p : (long)strlen(p)), p);
        n += (size_t)snprintf(req + n, sizeof req - n, "%s", line);
        p = nl != NULL ? nl + 1 : NULL;
    }
    n += (size_t)snprintf(req + n, sizeof req - n, "\r\n%s", body);
    http_raw(req, n, r);
}

static void get(const char *path, struct resp *r)
{
    char req[512];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
                     path);
    http_raw(req, (size_t)n, r);
}

/* The signature header lines for body under an endpoint's scheme. */
static void sign(const char *scheme, const char *secret, const char *id, int64_t ts,
                 const char *body, char *out, size_t outn)
{
    rk_sig_params p;
    rk_sig_secret s = { (const uint8_t *)secret, strlen(secret) };
    rk_buf h = RK_BUF_INIT;

    ck_assert_int_eq(rk_sig_scheme_parse(scheme, &p, NULL), RK_OK);
    ck_assert_int_eq(rk_sig_sign(&p, &s, id, ts, (const uint8_t *)body, strlen(body), &h, NULL),
                     RK_OK);
    snprintf(out, outn, "%s", (const char *)h.data);
    rk_buf_free(&h);
}

static uint64_t ledger_size(void)
{
    uint64_t n;
    uint8_t h[32];

    rk_ledger_head(F.l, &n, h);
    return n;
}

/* Record seq: kind, body (NUL-terminated copy), raw length. */
static unsigned rec(uint64_t seq, char *body, size_t bn, size_t *raw_len, char *ref, size_t rn)
{
    rk_buf b = RK_BUF_INIT;
    rk_record r;
    unsigned kind;

    ck_assert_int_eq(rk_ledger_read(F.l, seq, &b, &r, NULL), RK_OK);
    snprintf(body, bn, "%.*s", (int)r.body_len, (const char *)r.body);
    if (raw_len != NULL)
        *raw_len = r.raw_len;
    if (ref != NULL)
        snprintf(ref, rn, "%.*s", (int)r.ref_len, r.ref);
    kind = r.kind;
    rk_buf_free(&b);
    return kind;
}

/* Does any stored record (its whole encoding) contain needle? */
static int ledger_holds(const char *needle)
{
    uint64_t seq, n = ledger_size();
    rk_buf b = RK_BUF_INIT;
    rk_record r;
    int found = 0;

    for (seq = 0; seq < n && !found; seq++) {
        rk_buf_reset(&b);
        ck_assert_int_eq(rk_ledger_read(F.l, seq, &b, &r, NULL), RK_OK);
        for (size_t i = 0; !found && i + strlen(needle) <= b.len; i++)
            found = memcmp(b.data + i, needle, strlen(needle)) == 0;
    }
    rk_buf_free(&b);
    return found;
}

#define WHEN "2026-11-26T11:35:30.123456789Z"

START_TEST(accepted_then_duplicate)
{
    char h[1024], body[4096], want[4096], ref[64], sigv[200];
    const char *payload = "{\"id\":\"evt1\",\"ref\":\"order-7\"}";
    struct resp r;
    size_t raw;

    tpc = _i;
    start("", 0);
    sign("coinbase-commerce", "cb-secret", NULL, 0, payload, h, sizeof h);
    post("/webhooks/cb", h, payload, &r);
    ck_assert_int_eq(r.code, 200);
    ck_assert_str_eq(r.body, "{\"outcome\":\"accepted\"}");
    ck_assert_uint_eq(ledger_size(), 3);
    /* the delivery, byte for byte */
    ck_assert_int_eq(rec(1, body, sizeof body, &raw, ref, sizeof ref), RK_KIND_WEBHOOK_DELIVERY);
    /* the signature header's value, without its line ending */
    snprintf(sigv, sizeof sigv, "%.*s", (int)strcspn(strchr(h, ' ') + 1, "\n"),
             strchr(h, ' ') + 1);
    snprintf(want, sizeof want,
             "{\"declared_size\":%zu,\"endpoint\":\"cb\",\"event_key\":\"generic:evt1\","
             "\"headers\":[[\"host\",\"test\"],[\"connection\",\"close\"],"
             "[\"content-length\",\"%zu\"],[\"x-cc-webhook-signature\",\"%s\"]],"
             "\"outcome\":\"accepted\",\"peer\":\"127.0.0.1:%u\",\"provider\":\"generic\","
             "\"received_at\":\"" WHEN "\",\"secret_index\":0,\"signature\":\"valid\","
             "\"size\":%zu,\"v\":1}",
             strlen(payload), strlen(payload), sigv, r.peer_port, strlen(payload));
    ck_assert_str_eq(body, want);
    ck_assert_uint_eq(raw, strlen(payload));
    ck_assert_str_eq(ref, "order-7");
    ck_assert_int_eq(rec(2, body, sizeof body, NULL, ref, sizeof ref), RK_KIND_PROVIDER_EVENT);
    ck_assert_str_eq(body, "{\"event_id\":\"evt1\",\"v\":1}");
    ck_assert_str_eq(ref, "order-7");

    /* the same event again: recorded as a duplicate, acknowledged, not applied */
    post("/webhooks/cb", h, payload, &r);
    ck_assert_int_eq(r.code, 200);
    ck_assert_str_eq(r.body, "{\"outcome\":\"duplicate\"}");
    ck_assert_uint_eq(ledger_size(), 4);
    ck_assert_int_eq(rec(3, body, sizeof body, &raw, NULL, 0), RK_KIND_WEBHOOK_DELIVERY);
    ck_assert(strstr(body, "\"duplicate_of\":2,") != NULL);
    ck_assert(strstr(body, "\"outcome\":\"duplicate\"") != NULL);
    ck_assert(strstr(body, "\"reason\":\"event already recorded\"") != NULL);
    ck_assert_uint_eq(raw, strlen(payload));
    stop();
}
END_TEST

START_TEST(rejects)
{
    char h[1024], body[4096], hdrs[2048];
    const char *payload = "{\"id\":\"evt2\",\"ref\":\"order-8\"}";
    struct resp r;
    size_t raw;

    tpc = _i;
    start("", 0);
    /* forged */
    post("/webhooks/cb", "X-CC-Webhook-Signature: "
         "0000000000000000000000000000000000000000000000000000000000000000\n"
         "Authorization: Bearer secret\nCookie: c=1\nX-Api-Key: k\nProxy-Authorization: p\n",
         payload, &r);
    ck_assert_int_eq(r.code, 401);
    ck_assert_int_eq(rec(1, body, sizeof body, &raw, NULL, 0), RK_KIND_WEBHOOK_DELIVERY);
    ck_assert(strstr(body, "\"outcome\":\"rejected\",\"peer\"") != NULL);
    ck_assert(strstr(body, "\"reason\":\"bad signature\"") != NULL);
    ck_assert(strstr(body, "[\"authorization\",\"[redacted]\"],[\"cookie\",\"[redacted]\"],"
                           "[\"x-api-key\",\"[redacted]\"],[\"proxy-authorization\",\"[redacted]\"]")
              != NULL);
    ck_assert_ptr_null(strstr(body, "secret"));
    ck_assert_uint_eq(raw, strlen(payload));
    /* missing header */
    post("/webhooks/cb", "", payload, &r);
    ck_assert_int_eq(r.code, 401);
    rec(2, body, sizeof body, NULL, NULL, 0);
    ck_assert(strstr(body, "\"reason\":\"missing header\"") != NULL);
    /* stale: authentic, so it records the message id and timestamp */
    sign("standard-webhooks", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_1", NOW_S - 301,
         payload, hdrs, sizeof hdrs);
    post("/webhooks/sw", hdrs, payload, &r);
    ck_assert_int_eq(r.code, 401);
    rec(3, body, sizeof body, NULL, NULL, 0);
    ck_assert(strstr(body, "\"msg_id\":\"msg_1\"") != NULL);
    ck_assert(strstr(body, "\"reason\":\"timestamp too old\"") != NULL);
    ck_assert(strstr(body, "\"timestamp\":1795692629") != NULL);
    ck_assert(strstr(body, "\"secret_index\":0") != NULL);
    /* verified but not JSON */
    sign("coinbase-commerce", "cb-secret", NULL, 0, "not json", h, sizeof h);
    post("/webhooks/cb", h, "not json", &r);
    ck_assert_int_eq(r.code, 400);
    rec(4, body, sizeof body, &raw, NULL, 0);
    ck_assert(strstr(body, "\"reason\":\"body is not JSON: ") != NULL);
    ck_assert_uint_eq(raw, 8);
    /* verified JSON the adapter cannot map: kept, 202 */
    sign("coinbase-commerce", "cb-secret", NULL, 0, "{\"x\":1}", h, sizeof h);
    post("/webhooks/cb", h, "{\"x\":1}", &r);
    ck_assert_int_eq(r.code, 202);
    rec(5, body, sizeof body, NULL, NULL, 0);
    ck_assert(strstr(body, "\"outcome\":\"unmapped\"") != NULL);
    ck_assert(strstr(body, "\"reason\":\"test adapter: no id or ref\"") != NULL);
    /* unknown endpoint */
    post("/webhooks/nope", "", payload, &r);
    ck_assert_int_eq(r.code, 404);
    rec(6, body, sizeof body, NULL, NULL, 0);
    ck_assert(strstr(body, "\"endpoint\":\"nope\"") != NULL);
    ck_assert(strstr(body, "\"reason\":\"unknown endpoint\"") != NULL);
    ck_assert_ptr_null(strstr(body, "provider"));
    /* too large by Content-Length: recorded without the body */
    {
        char big[1200];
        memset(big, 'a', sizeof big - 1);
        big[sizeof big - 1] = '\0';
        post("/webhooks/cb", "", big, &r);
        ck_assert_int_eq(r.code, 413);
        rec(7, body, sizeof body, &raw, NULL, 0);
        ck_assert(strstr(body, "\"declared_size\":1199") != NULL);
        ck_assert(strstr(body, "\"size\":0") != NULL);
        ck_assert(strstr(body, "\"reason\":\"body larger than 1000 bytes\"") != NULL);
        ck_assert_uint_eq(raw, 0);
    }
    /* other paths and methods are not deliveries */
    get("/webhooks/cb", &r);
    ck_assert_int_eq(r.code, 404);
    http_raw("PUT /webhooks/cb HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
             77, &r);
    ck_assert_int_eq(r.code, 405);
    get("/nothing", &r);
    ck_assert_int_eq(r.code, 404);
    ck_assert_uint_eq(ledger_size(), 8);
    stop();
}
END_TEST

START_TEST(chunked_too_large)
{
    char req[4096], body[4096];
    struct resp r;
    size_t n, raw;

    tpc = _i;
    start("", 0);
    /* no Content-Length: the stream passes the limit, the server records and closes */
    n = (size_t)snprintf(req, sizeof req, "POST /webhooks/cb HTTP/1.1\r\nHost: t\r\n"
                         "Transfer-Encoding: chunked\r\n\r\n");
    n += (size_t)snprintf(req + n, sizeof req - n, "3e8\r\n");
    memset(req + n, 'b', 1000);
    n += 1000;
    n += (size_t)snprintf(req + n, sizeof req - n, "\r\n10\r\nbbbbbbbbbbbbbbbb\r\n0\r\n\r\n");
    http_raw(req, n, &r);
    ck_assert_int_ne(r.code, 200);
    ck_assert_uint_eq(ledger_size(), 2);
    rec(1, body, sizeof body, &raw, NULL, 0);
    ck_assert(strstr(body, "\"reason\":\"body larger than 1000 bytes\"") != NULL);
    ck_assert(strstr(body, "\"size\":1016") != NULL);
    ck_assert_ptr_null(strstr(body, "declared_size"));
    ck_assert_uint_eq(raw, 0);
    stop();
}
END_TEST

START_TEST(flood)
{
    char body[4096];
    struct resp r;
    int i;

    tpc = _i;
    start("\"reject_flood\":{\"per_peer_per_minute\":2},", 0);
    for (i = 0; i < 5; i++) {
        post("/webhooks/cb", "X-CC-Webhook-Signature: zz\n", "{}", &r);
        ck_assert_int_eq(r.code, 401);
    }
    post("/webhooks/gone", "", "{}", &r);
    ck_assert_int_eq(r.code, 404);
    ck_assert_str_eq(r.body, "{\"outcome\":\"rejected\",\"recorded\":false}");
    ck_assert_uint_eq(ledger_size(), 3);
    stop();
    /* the summary is written on stop */
    ck_assert_int_eq(rk_ledger_open(F.db, RK_LEDGER_READONLY, &F.l, NULL), RK_OK);
    ck_assert_uint_eq(ledger_size(), 4);
    ck_assert_int_eq(rec(3, body, sizeof body, NULL, NULL, 0), RK_KIND_DELIVERY_SUMMARY);
    ck_assert_str_eq(body,
                     "{\"counts\":[{\"count\":3,\"endpoint\":\"cb\",\"peer\":\"127.0.0.1\","
                     "\"reason\":\"malformed header\"},{\"count\":1,\"endpoint\":\"gone\","
                     "\"peer\":\"127.0.0.1\",\"reason\":\"unknown endpoint\"}],\"limit\":2,"
                     "\"suppressed\":4,\"unattributed\":0,\"v\":1,"
                     "\"window_end\":\"2026-11-26T11:36:00.000000000Z\","
                     "\"window_start\":\"2026-11-26T11:35:00.000000000Z\"}");
    rk_ledger_close(F.l);
}
END_TEST

START_TEST(health_and_metrics)
{
    char h[1024];
    const char *payload = "{\"id\":\"e\",\"ref\":\"r\"}";
    struct resp r;

    tpc = _i;
    start("", 0);
    get("/healthz", &r);
    ck_assert_int_eq(r.code, 200);
    ck_assert_str_eq(r.body, "{\"head_seq\":0,\"size\":1,\"status\":\"ok\"}");
    sign("coinbase-commerce", "cb-secret", NULL, 0, payload, h, sizeof h);
    post("/webhooks/cb", h, payload, &r);
    post("/webhooks/cb", h, payload, &r);
    get("/healthz", &r);
    ck_assert_str_eq(r.body, "{\"head_seq\":3,\"size\":4,\"status\":\"ok\"}");
    get("/metrics", &r);
    ck_assert_int_eq(r.code, 200);
    ck_assert(strstr(r.body, "reckon_deliveries_total{endpoint=\"cb\",outcome=\"accepted\"} 1\n")
              != NULL);
    ck_assert(strstr(r.body, "reckon_deliveries_total{endpoint=\"cb\",outcome=\"duplicate\"} 1\n")
              != NULL);
    ck_assert(strstr(r.body, "reckon_append_seconds_count 2\n") != NULL);
    ck_assert(strstr(r.body, "reckon_append_seconds_bucket{le=\"+Inf\"} 2\n") != NULL);
    ck_assert(strstr(r.body, "reckon_ledger_size 4\n") != NULL);
    ck_assert(strstr(r.body, "reckon_checkpoints_total 0\n") != NULL);
    stop();
}
END_TEST

START_TEST(ledger_refuses)
{
    char h[1024];
    const char *payload = "{\"id\":\"e\",\"ref\":\"r\"}";
    struct resp r;

    tpc = _i;
    start("", 1); /* a read-only ledger refuses every append */
    sign("coinbase-commerce", "cb-secret", NULL, 0, payload, h, sizeof h);
    post("/webhooks/cb", h, payload, &r);
    ck_assert_int_eq(r.code, 503);
    post("/webhooks/cb", "", payload, &r);
    ck_assert_int_eq(r.code, 503);
    get("/metrics", &r);
    ck_assert(strstr(r.body, "reckon_append_failures_total 2\n") != NULL);
    ck_assert_uint_eq(ledger_size(), 1);
    stop();
}
END_TEST

/* The record of a rejected /api/ call: status, reason, key id ("" none) are in it. */
static void api_rec(uint64_t seq, unsigned status, const char *reason, const char *key_id,
                    const char *raw_want)
{
    char body[4096], want[1024];
    size_t raw;
    rk_buf b = RK_BUF_INIT;
    rk_record r;

    ck_assert_int_eq(rec(seq, body, sizeof body, &raw, want, sizeof want),
                     RK_KIND_WEBHOOK_DELIVERY);
    ck_assert_str_eq(want, ""); /* no reference */
    snprintf(want, sizeof want, "\"outcome\":\"rejected\",\"peer\":\"127.0.0.1:");
    ck_assert_msg(strstr(body, want) != NULL, "%s", body);
    snprintf(want, sizeof want, "\"reason\":\"%s\",\"received_at\":", reason);
    ck_assert_msg(strstr(body, want) != NULL, "%s", body);
    snprintf(want, sizeof want, "\"status\":%u,\"v\":1,\"via\":\"api\"}", status);
    ck_assert_msg(strstr(body, want) != NULL, "%s", body);
    snprintf(want, sizeof want, "\"key_id\":\"%s\",\"method\":", key_id);
    ck_assert_msg((strstr(body, want) != NULL) == (key_id[0] != '\0'), "%s", body);
    ck_assert_msg((strstr(body, "\"key_id\"") != NULL) == (key_id[0] != '\0'), "%s", body);
    /* the body as received */
    ck_assert_uint_eq(raw, strlen(raw_want));
    ck_assert_int_eq(rk_ledger_read(F.l, seq, &b, &r, NULL), RK_OK);
    ck_assert(memcmp(r.raw, raw_want, raw) == 0);
    rk_buf_free(&b);
}

START_TEST(notes_api)
{
    char auth[200], body[4096], want[2048], ref[64];
    const char *note = "{\"ref\":\"r\",\"text\":\"t\"}";
    struct resp r;
    rk_apikeys *ks = NULL;
    size_t raw;

    tpc = _i;
    start("", 0);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s\n", F.key_op);
    post("/api/notes", auth, "{\"ref\":\"order-7\",\"text\":\"customer called\",\"author\":\"x\"}",
         &r);
    ck_assert_int_eq(r.code, 400);
    ck_assert_str_eq(r.body, "{\"error\":\"the body must be {\\\"ref\\\":REF,\\\"text\\\":TEXT}\"}");
    api_rec(1, 400, "the body must be {\\\"ref\\\":REF,\\\"text\\\":TEXT}", F.key_op_id,
            "{\"ref\":\"order-7\",\"text\":\"customer called\",\"author\":\"x\"}");
    post("/api/notes", auth, "{\"ref\":\"order-7\",\"text\":\"customer called\"}", &r);
    ck_assert_int_eq(r.code, 201);
    ck_assert_str_eq(r.body, "{\"seq\":2}");
    ck_assert_int_eq(rec(2, body, sizeof body, NULL, ref, sizeof ref), RK_KIND_OPERATOR_NOTE);
    snprintf(want, sizeof want, "{\"author\":\"olga\",\"key_id\":\"%s\",\"ref\":\"order-7\","
             "\"text\":\"customer called\",\"v\":1,\"via\":\"api\"}", F.key_op_id);
    ck_assert_str_eq(body, want);
    ck_assert_str_eq(ref, "order-7");
    post("/api/notes", auth, "not json", &r);
    ck_assert_int_eq(r.code, 400);
    api_rec(3, 400, "the body must be {\\\"ref\\\":REF,\\\"text\\\":TEXT}", F.key_op_id,
            "not json");
    post("/api/notes", auth, "{\"ref\":\"\",\"text\":\"t\"}", &r);
    ck_assert_int_eq(r.code, 400);
    rec(4, body, sizeof body, NULL, NULL, 0);
    ck_assert_msg(strstr(body, "\"status\":400,") != NULL, "%s", body);
    post("/api/notes", auth, "{\"ref\":\"r\",\"text\":7}", &r);
    ck_assert_int_eq(r.code, 400);
    api_rec(5, 400, "the body must be {\\\"ref\\\":REF,\\\"text\\\":TEXT}", F.key_op_id,
            "{\"ref\":\"r\",\"text\":7}");
    post("/api/notes", "", note, &r);
    ck_assert_int_eq(r.code, 401);
    ck_assert_str_eq(r.body, "{\"error\":\"a bearer key is required\"}");
    api_rec(6, 401, "a bearer key is required", "", note);
    /* an unknown key, byte for byte: every credential header redacted */
    post("/api/notes", "Authorization: Bearer rk_0000\nCookie: sid=42\n"
         "X-Api-Key: rk_0001\nProxy-Authorization: Basic cHJveHk6cHc=\n", note, &r);
    ck_assert_int_eq(r.code, 401);
    ck_assert_str_eq(r.body, "{\"error\":\"unknown or revoked key\"}");
    ck_assert_int_eq(rec(7, body, sizeof body, &raw, NULL, 0), RK_KIND_WEBHOOK_DELIVERY);
    snprintf(want, sizeof want,
             "{\"declared_size\":%zu,\"endpoint\":\"/api/notes\","
             "\"headers\":[[\"host\",\"test\"],[\"connection\",\"close\"],"
             "[\"content-length\",\"%zu\"],[\"authorization\",\"[redacted]\"],"
             "[\"cookie\",\"[redacted]\"],[\"x-api-key\",\"[redacted]\"],"
             "[\"proxy-authorization\",\"[redacted]\"]],\"method\":\"POST\","
             "\"outcome\":\"rejected\",\"peer\":\"127.0.0.1:%u\","
             "\"reason\":\"unknown or revoked key\",\"received_at\":\"" WHEN "\","
             "\"size\":%zu,\"status\":401,\"v\":1,\"via\":\"api\"}",
             strlen(note), strlen(note), r.peer_port, strlen(note));
    ck_assert_str_eq(body, want);
    api_rec(7, 401, "unknown or revoked key", "", note);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s\n", F.key_aud);
    post("/api/notes", auth, note, &r);
    ck_assert_int_eq(r.code, 403);
    ck_assert_str_eq(r.body, "{\"error\":\"role auditor may not write notes\"}");
    api_rec(8, 403, "role auditor may not write notes", F.key_aud_id, note);
    /* revoking in the file takes effect at once */
    ck_assert_int_eq(rk_apikeys_load(F.keys, &ks, NULL), RK_OK);
    ck_assert_int_eq(rk_apikeys_revoke(ks, F.key_op_id, 1, NULL), RK_OK);
    ck_assert_int_eq(rk_apikeys_save(ks, F.keys, NULL), RK_OK);
    rk_apikeys_free(ks);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s\n", F.key_op);
    post("/api/notes", auth, note, &r);
    ck_assert_int_eq(r.code, 401);
    api_rec(9, 401, "unknown or revoked key", "", note);
    /* other paths and methods under /api/ */
    get("/api/notes", &r);
    ck_assert_int_eq(r.code, 405);
    ck_assert_str_eq(r.body, "{\"error\":\"method not allowed\"}");
    api_rec(10, 405, "method not allowed", "", "");
    rec(10, body, sizeof body, NULL, NULL, 0);
    ck_assert(strstr(body, "\"method\":\"GET\"") != NULL);
    ck_assert_ptr_null(strstr(body, "declared_size"));
    post("/api/keys", auth, note, &r);
    ck_assert_int_eq(r.code, 404);
    ck_assert_str_eq(r.body, "{\"error\":\"not found\"}");
    api_rec(11, 404, "not found", "", note);
    rec(11, body, sizeof body, NULL, NULL, 0);
    ck_assert(strstr(body, "\"endpoint\":\"/api/keys\"") != NULL);
    /* too large by Content-Length: recorded without a body, answered, closed */
    {
        const char *big = "POST /api/notes HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n";
        http_raw(big, strlen(big), &r);
    }
    ck_assert_int_eq(r.code, 413);
    ck_assert_str_eq(r.body, "{\"error\":\"body too large\"}");
    rec(12, body, sizeof body, &raw, NULL, 0);
    ck_assert_msg(strstr(body, "\"declared_size\":100000,") != NULL, "%s", body);
    ck_assert(strstr(body, "\"reason\":\"body larger than ") != NULL);
    ck_assert(strstr(body, "\"size\":0,\"status\":413,") != NULL);
    ck_assert_uint_eq(raw, 0);
    ck_assert_uint_eq(ledger_size(), 13);
    /* no presented key is stored anywhere */
    ck_assert(!ledger_holds(F.key_op));
    ck_assert(!ledger_holds(F.key_aud));
    ck_assert(!ledger_holds("rk_0000"));
    ck_assert(!ledger_holds("rk_0001"));
    ck_assert(!ledger_holds("sid=42"));
    ck_assert(!ledger_holds("cHJveHk6cHc="));
    stop();
}
END_TEST

START_TEST(api_chunked_too_large)
{
    char body[4096], head[256];
    size_t n, raw, big = 80000;
    char *req = malloc(big + 512);
    struct resp r;

    tpc = _i;
    start("", 0);
    /* no Content-Length: the stream passes the limit, the server records and closes */
    n = (size_t)snprintf(req, 512, "POST /api/notes HTTP/1.1\r\nHost: t\r\n"
                         "Authorization: Bearer rk_secret\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "%zx\r\n", big);
    memset(req + n, 'b', big);
    n += big;
    n += (size_t)snprintf(req + n, 512, "\r\n0\r\n\r\n");
    http_raw(req, n, &r);
    free(req);
    ck_assert_int_ne(r.code, 201);
    ck_assert_uint_eq(ledger_size(), 2);
    rec(1, body, sizeof body, &raw, NULL, 0);
    snprintf(head, sizeof head, "\"reason\":\"body larger than %d bytes\"",
             64 * 1024 + 512 * 6 + 1024);
    ck_assert_msg(strstr(body, head) != NULL, "%s", body);
    ck_assert(strstr(body, "[\"authorization\",\"[redacted]\"]") != NULL);
    ck_assert(strstr(body, ",\"status\":413,\"v\":1,\"via\":\"api\"}") != NULL);
    ck_assert_ptr_null(strstr(body, "declared_size"));
    ck_assert_uint_eq(raw, 0);
    ck_assert(!ledger_holds("rk_secret"));
    stop();
}
END_TEST

START_TEST(api_flood)
{
    char body[4096], auth[200];
    struct resp r;
    int i;

    tpc = _i;
    start("\"reject_flood\":{\"per_peer_per_minute\":2},", 0);
    for (i = 0; i < 4; i++) {
        post("/api/notes", "Authorization: Bearer rk_0000\n", "{}", &r);
        ck_assert_int_eq(r.code, 401);
    }
    ck_assert_str_eq(r.body, "{\"error\":\"unknown or revoked key\",\"recorded\":false}");
    get("/api/x", &r);
    ck_assert_int_eq(r.code, 404);
    ck_assert_str_eq(r.body, "{\"error\":\"not found\",\"recorded\":false}");
    /* a webhook reject of the same peer shares the allowance, in a row of its own */
    post("/webhooks/api/x", "", "{}", &r);
    ck_assert_int_eq(r.code, 404);
    /* a call a key authenticated is always stored */
    snprintf(auth, sizeof auth, "Authorization: Bearer %s\n", F.key_aud);
    post("/api/notes", auth, "{}", &r);
    ck_assert_int_eq(r.code, 403);
    ck_assert_uint_eq(ledger_size(), 4);
    api_rec(3, 403, "role auditor may not write notes", F.key_aud_id, "{}");
    stop();
    ck_assert_int_eq(rk_ledger_open(F.db, RK_LEDGER_READONLY, &F.l, NULL), RK_OK);
    ck_assert_uint_eq(ledger_size(), 5);
    ck_assert_int_eq(rec(4, body, sizeof body, NULL, NULL, 0), RK_KIND_DELIVERY_SUMMARY);
    ck_assert_str_eq(body,
                     "{\"counts\":[{\"count\":2,\"endpoint\":\"/api/notes\",\"peer\":\"127.0.0.1\","
                     "\"reason\":\"unknown or revoked key\",\"via\":\"api\"},"
                     "{\"count\":1,\"endpoint\":\"/api/x\",\"peer\":\"127.0.0.1\","
                     "\"reason\":\"not found\",\"via\":\"api\"},"
                     "{\"count\":1,\"endpoint\":\"api/x\",\"peer\":\"127.0.0.1\","
                     "\"reason\":\"unknown endpoint\"}],\"limit\":2,"
                     "\"suppressed\":4,\"unattributed\":0,\"v\":1,"
                     "\"window_end\":\"2026-11-26T11:36:00.000000000Z\","
                     "\"window_start\":\"2026-11-26T11:35:00.000000000Z\"}");
    rk_ledger_close(F.l);
}
END_TEST

START_TEST(start_errors)
{
    char err[RK_ERROR_SIZE] = "", text[512], *dir = rk_test_tmpdir(), db[4200];
    rk_config *cfg = NULL;
    rk_ledger *l = NULL;
    rk_server *s = (rk_server *)1;
    rk_serve_opts o;

    snprintf(db, sizeof db, "%s/db", dir);
    ck_assert_int_eq(rk_ledger_create(db, "t.example/x", 0, err), RK_OK);
    ck_assert_int_eq(rk_ledger_open(db, 0, &l, err), RK_OK);
    setenv("RK_TEST_SW", "k", 1);
    snprintf(text, sizeof text, "{\"listen\":\"127.0.0.1:0\",\"api_keys\":\"nokeys.json\","
             "\"endpoints\":{\"a\":{\"provider\":\"btcpay\",\"secrets\":[{\"env\":\"RK_TEST_SW\"}]}}}");
    ck_assert_int_eq(rk_config_parse(text, strlen(text), dir, &cfg, err), RK_OK);
    memset(&o, 0, sizeof o);
    ck_assert_int_eq(rk_serve_start(l, cfg, &o, &s, err), RK_ERR_INVALID);
    ck_assert_ptr_null(s);
    o.clock = fake_clock;
    ck_assert_int_eq(rk_serve_start(l, cfg, &o, &s, err), RK_ERR_NOTFOUND);
    ck_assert(strncmp(err, "api keys: cannot open", 21) == 0);
    rk_config_free(cfg);
    snprintf(text, sizeof text, "{\"listen\":\"192.0.2.1:1\",\"checkpoint\":{\"key\":\"no.key\","
             "\"every_records\":1},"
             "\"endpoints\":{\"a\":{\"provider\":\"btcpay\",\"secrets\":[{\"env\":\"RK_TEST_SW\"}]}}}");
    ck_assert_int_eq(rk_config_parse(text, strlen(text), dir, &cfg, err), RK_OK);
    ck_assert_int_eq(rk_serve_start(l, cfg, &o, &s, err), RK_ERR_NOTFOUND);
    ck_assert(strncmp(err, "checkpoint key: ", 16) == 0);
    rk_config_free(cfg);
    /* an address of no interface here */
    snprintf(text, sizeof text, "{\"listen\":\"192.0.2.1:1\","
             "\"endpoints\":{\"a\":{\"provider\":\"btcpay\",\"secrets\":[{\"env\":\"RK_TEST_SW\"}]}}}");
    ck_assert_int_eq(rk_config_parse(text, strlen(text), dir, &cfg, err), RK_OK);
    ck_assert_int_eq(rk_serve_start(l, cfg, &o, &s, err), RK_ERR_IO);
    ck_assert_str_eq(err, "cannot listen on 192.0.2.1:1 (address in use, or not an address of "
                          "this host?)");
    rk_config_free(cfg);
    /* a port in use, by a running server, in both threading models */
    for (int model = 0; model < 2; model++) {
        rk_server *first = NULL;
        rk_config *cfg2 = NULL;
        char want[160];

        snprintf(text, sizeof text, "{\"listen\":\"127.0.0.1:0\",\"thread_per_connection\":%s,"
                 "\"endpoints\":{\"a\":{\"provider\":\"btcpay\",\"secrets\":[{\"env\":\"RK_TEST_SW\"}]}}}",
                 model ? "true" : "false");
        ck_assert_int_eq(rk_config_parse(text, strlen(text), dir, &cfg, err), RK_OK);
        ck_assert_int_eq(rk_serve_start(l, cfg, &o, &first, err), RK_OK);
        snprintf(text, sizeof text, "{\"listen\":\"127.0.0.1:%u\",\"thread_per_connection\":%s,"
                 "\"endpoints\":{\"a\":{\"provider\":\"btcpay\",\"secrets\":[{\"env\":\"RK_TEST_SW\"}]}}}",
                 rk_serve_port(first), model ? "true" : "false");
        ck_assert_int_eq(rk_config_parse(text, strlen(text), dir, &cfg2, err), RK_OK);
        ck_assert_int_eq(rk_serve_start(l, cfg2, &o, &s, err), RK_ERR_IO);
        ck_assert_ptr_null(s);
        snprintf(want, sizeof want, "cannot listen on 127.0.0.1:%u (address in use, or not an "
                 "address of this host?)", rk_serve_port(first));
        ck_assert_str_eq(err, want);
        rk_serve_free(first);
        rk_config_free(cfg2);
        rk_config_free(cfg);
    }
    rk_serve_free(NULL);
    rk_ledger_close(l);
    free(dir);
}
END_TEST

START_TEST(checkpoints)
{
    char err[RK_ERROR_SIZE] = "", p[4300], body[8800], h[1024];
    rk_signer *sg = NULL;
    struct resp r;
    uint64_t cp = 0;
    rk_buf note = RK_BUF_INIT;
    char *d = rk_test_tmpdir();
    int i;

    /* a key beside the test's files: start() makes its own directory, so use an absolute path */
    snprintf(p, sizeof p, "%s/cp", d);
    ck_assert_int_eq(rk_signer_generate("test.example/cp", &sg, err), RK_OK);
    ck_assert_int_eq(rk_signer_write(sg, p, err), RK_OK);
    rk_signer_free(sg);
    snprintf(body, sizeof body, "\"checkpoint\":{\"key\":\"%s.key\",\"every_records\":1000},", p);
    start(body, 0);
    for (i = 0; i < 3; i++) {
        char payload[64];
        snprintf(payload, sizeof payload, "{\"id\":\"e%d\",\"ref\":\"r\"}", i);
        sign("coinbase-commerce", "cb-secret", NULL, 0, payload, h, sizeof h);
        post("/webhooks/cb", h, payload, &r);
        ck_assert_int_eq(r.code, 200);
    }
    stop();
    /* stop writes a final checkpoint covering everything before it */
    ck_assert_int_eq(rk_ledger_open(F.db, RK_LEDGER_READONLY, &F.l, NULL), RK_OK);
    ck_assert_uint_eq(ledger_size(), 8);
    ck_assert_int_eq(rk_ledger_latest_checkpoint(F.l, &note, &cp, err), RK_OK);
    ck_assert_uint_eq(cp, 7);
    ck_assert(strstr((const char *)note.data, "test.example/serve\n7\n") != NULL);
    rk_buf_free(&note);
    rk_ledger_close(F.l);
    free(d);
}
END_TEST


/* ---- concurrency: many requests at once ---------------------------------- */

#define NCONC 16

struct poster {
    pthread_barrier_t *go;
    char hdrs[1024];
    char payload[128];
    struct resp r;
};

static void *poster_main(void *arg)
{
    struct poster *p = arg;

    pthread_barrier_wait(p->go);
    post("/webhooks/cb", p->hdrs, p->payload, &p->r);
    return NULL;
}

/* NCONC clients post at once; ids: the same event id for all, or one each. */
static void post_concurrently(struct poster *ps, int same_id)
{
    pthread_t th[NCONC];
    pthread_barrier_t go;
    int i;

    pthread_barrier_init(&go, NULL, NCONC);
    for (i = 0; i < NCONC; i++) {
        ps[i].go = &go;
        snprintf(ps[i].payload, sizeof ps[i].payload, "{\"id\":\"evt-%d\",\"ref\":\"order-9\"}",
                 same_id ? 0 : i);
        sign("coinbase-commerce", "cb-secret", NULL, 0, ps[i].payload, ps[i].hdrs,
             sizeof ps[i].hdrs);
        ck_assert_int_eq(pthread_create(&th[i], NULL, poster_main, &ps[i]), 0);
    }
    for (i = 0; i < NCONC; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&go);
}

START_TEST(concurrent_duplicates)
{
    static struct poster ps[NCONC];
    char body[4096], *p;
    uint64_t seq, event_seq = 0, n;
    int i, accepted = 0, duplicates = 0, events = 0;

    tpc = _i;
    start("", 0);
    /* the same event, NCONC deliveries in flight at once: applied exactly once */
    post_concurrently(ps, 1);
    for (i = 0; i < NCONC; i++) {
        ck_assert_int_eq(ps[i].r.code, 200);
        accepted += strcmp(ps[i].r.body, "{\"outcome\":\"accepted\"}") == 0;
        duplicates += strcmp(ps[i].r.body, "{\"outcome\":\"duplicate\"}") == 0;
    }
    ck_assert_int_eq(accepted, 1);
    ck_assert_int_eq(duplicates, NCONC - 1);
    n = ledger_size();
    ck_assert_uint_eq(n, 1 + NCONC + 1);
    for (seq = 1; seq < n; seq++)
        if (rec(seq, body, sizeof body, NULL, NULL, 0) == RK_KIND_PROVIDER_EVENT) {
            events++;
            event_seq = seq;
        }
    ck_assert_int_eq(events, 1);
    /* every duplicate names the one event record, which precedes it */
    for (seq = 1; seq < n; seq++) {
        if (rec(seq, body, sizeof body, NULL, NULL, 0) != RK_KIND_WEBHOOK_DELIVERY)
            continue;
        p = strstr(body, "\"outcome\":\"duplicate\"");
        if (p == NULL) {
            ck_assert(strstr(body, "\"outcome\":\"accepted\"") != NULL);
            ck_assert_uint_eq(seq + 1, event_seq);
            continue;
        }
        snprintf(body + 3000, 64, "\"duplicate_of\":%llu,", (unsigned long long)event_seq);
        ck_assert(strstr(body, body + 3000) != NULL);
        ck_assert_uint_gt(seq, event_seq);
    }
    stop();
}
END_TEST

START_TEST(concurrent_ledger_failure)
{
    static struct poster ps[NCONC];
    struct resp r;
    char want[128];
    int i;

    tpc = _i;
    start("", 1); /* read-only: the committer's append fails for every request */
    post_concurrently(ps, 0);
    for (i = 0; i < NCONC; i++) {
        ck_assert_int_eq(ps[i].r.code, 503);
        ck_assert_str_eq(ps[i].r.body, "{\"error\":\"the ledger cannot take the write\"}");
    }
    get("/metrics", &r);
    snprintf(want, sizeof want, "reckon_append_failures_total %d\n", NCONC);
    ck_assert(strstr(r.body, want) != NULL);
    snprintf(want, sizeof want, "reckon_append_seconds_count %d\n", NCONC);
    ck_assert(strstr(r.body, want) != NULL);
    ck_assert(strstr(r.body, "outcome=\"accepted\"} 0\n") != NULL);
    ck_assert_uint_eq(ledger_size(), 1);
    stop();
}
END_TEST

/*
 * A clock for the ledger that holds the committer inside its append until
 * the test opens the gate: requests pile up handed over (suspended in the
 * pool) while the server is asked to stop.
 */
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_open, gate_entered;

static int64_t gated_clock(void *ctx)
{
    (void)ctx;
    pthread_mutex_lock(&gate_mu);
    gate_entered = 1;
    pthread_cond_broadcast(&gate_cv);
    while (!gate_open)
        pthread_cond_wait(&gate_cv, &gate_mu);
    pthread_mutex_unlock(&gate_mu);
    return fake_now;
}

static void *stopper_main(void *arg)
{
    char *err = arg;

    return (void *)(intptr_t)rk_serve_stop(F.s, err);
}

START_TEST(stop_with_suspended)
{
    static struct poster ps[NCONC];
    char err[RK_ERROR_SIZE] = "", body[4096], want[64];
    pthread_t stopper;
    void *rc;
    uint64_t n, seq;
    int i, ok = 0;

    tpc = _i;
    start("", 0);
    gate_open = gate_entered = 0;
    rk_ledger_set_clock(F.l, gated_clock, NULL);
    {
        pthread_t th[NCONC];
        pthread_barrier_t go;

        pthread_barrier_init(&go, NULL, NCONC + 1);
        for (i = 0; i < NCONC; i++) {
            ps[i].go = &go;
            snprintf(ps[i].payload, sizeof ps[i].payload,
                     "{\"id\":\"stop-%d\",\"ref\":\"order-9\"}", i % 4); /* duplicates park too */
            /* on a slow machine a client may first connect after the stop began */
            ps[i].r.refused_ok = 1;
            sign("coinbase-commerce", "cb-secret", NULL, 0, ps[i].payload, ps[i].hdrs,
                 sizeof ps[i].hdrs);
            ck_assert_int_eq(pthread_create(&th[i], NULL, poster_main, &ps[i]), 0);
        }
        pthread_barrier_wait(&go);
        /* the committer is inside its first append; the others queue or park */
        pthread_mutex_lock(&gate_mu);
        while (!gate_entered)
            pthread_cond_wait(&gate_cv, &gate_mu);
        pthread_mutex_unlock(&gate_mu);
        usleep(100000); /* not an assertion: gives the others time to be handed over */
        ck_assert_int_eq(pthread_create(&stopper, NULL, stopper_main, err), 0);
        usleep(100000); /* the stop is waiting for them */
        pthread_mutex_lock(&gate_mu);
        gate_open = 1;
        pthread_cond_broadcast(&gate_cv);
        pthread_mutex_unlock(&gate_mu);
        pthread_join(stopper, &rc);
        ck_assert_msg((intptr_t)rc == RK_OK, "%s", err);
        for (i = 0; i < NCONC; i++)
            pthread_join(th[i], NULL);
        pthread_barrier_destroy(&go);
    }
    /* each answered 200 or 503 (the stop came first), or saw the connection close */
    n = ledger_size();
    for (i = 0; i < NCONC; i++) {
        ck_assert(ps[i].r.code == 200 || ps[i].r.code == 503 || ps[i].r.code == 0);
        if (ps[i].r.code != 200)
            continue;
        ok++;
        /* every 2xx is in the ledger: its delivery, found by the client's port */
        snprintf(want, sizeof want, "\"peer\":\"127.0.0.1:%u\"", ps[i].r.peer_port);
        for (seq = 1; seq < n; seq++)
            if (rec(seq, body, sizeof body, NULL, NULL, 0) == RK_KIND_WEBHOOK_DELIVERY &&
                strstr(body, want) != NULL)
                break;
        ck_assert_uint_lt(seq, n);
    }
    ck_assert_int_ge(ok, 1); /* the first batch was appended before the stop */
    rk_serve_free(F.s);
    F.s = NULL;
    stop();
}
END_TEST

Suite *rk_test_suite(void)
{
    Suite *s = suite_create("serve");
    TCase *tc = tcase_create("serve");

    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, accepted_then_duplicate, 0, 2);
    tcase_add_loop_test(tc, rejects, 0, 2);
    tcase_add_loop_test(tc, chunked_too_large, 0, 2);
    tcase_add_loop_test(tc, flood, 0, 2);
    tcase_add_loop_test(tc, health_and_metrics, 0, 2);
    tcase_add_loop_test(tc, ledger_refuses, 0, 2);
    tcase_add_loop_test(tc, notes_api, 0, 2);
    tcase_add_loop_test(tc, api_flood, 0, 2);
    tcase_add_loop_test(tc, api_chunked_too_large, 0, 2);
    tcase_add_loop_test(tc, start_errors, 0, 2);
    tcase_add_loop_test(tc, checkpoints, 0, 2);
    tcase_add_loop_test(tc, concurrent_duplicates, 0, 2);
    tcase_add_loop_test(tc, concurrent_ledger_failure, 0, 2);
    tcase_add_loop_test(tc, stop_with_suspended, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}
