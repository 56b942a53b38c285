/*
 * test_replay.c - the three planes and the deterministic replayer: property
 * tests (shuffled, duplicated streams fold to one digest; a prefix replays
 * like the stream stopped there), provider scenarios, timeline, diff, and
 * the corrupt / limits cases.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cJSON.h>

#include "adapt.h"
#include "canon.h"
#include "check_main.h"
#include "ledger.h"
#include "planes.h"
#include "planes_int.h"
#include "policy.h"
#include "record.h"
#include "replay.h"
#include "store.h"

#define SEC 1000000000LL
#define T0 1767225600LL /* 2026-01-01T00:00:00Z */

static int64_t fake_now;
static int64_t fake_clock(void *ctx)
{
    (void)ctx;
    return fake_now += SEC;
}

static rk_ledger *new_ledger(void)
{
    char *dir = rk_test_tmpdir();
    char path[4200], err[RK_ERROR_SIZE] = "";
    rk_ledger *l = NULL;

    ck_assert_ptr_nonnull(dir);
    snprintf(path, sizeof path, "%s/db", dir);
    free(dir);
    fake_now = T0 * SEC;
    ck_assert_msg(rk_ledger_create(path, "test.example/replay", fake_now, err) == RK_OK, "%s",
                  err);
    ck_assert_msg(rk_ledger_open(path, 0, &l, err) == RK_OK, "%s", err);
    rk_ledger_set_clock(l, fake_clock, NULL);
    rk_ledger_set_sync(l, 0);
    return l;
}

/* A body kept as canonical text plus its kind and reference. */
struct body {
    unsigned kind;
    char *ref;
    char *text;
};

static struct body make_body(unsigned kind, const char *ref, cJSON *o)
{
    struct body b;
    rk_buf buf = RK_BUF_INIT;
    char err[RK_ERROR_SIZE] = "";

    ck_assert_msg(rk_canon_write(o, 0, &buf, err) == RK_OK, "%s", err);
    cJSON_Delete(o);
    b.kind = kind;
    b.ref = strdup(ref);
    b.text = rk_buf_detach(&buf, NULL);
    return b;
}

static void body_free(struct body *b)
{
    free(b->ref);
    free(b->text);
}

static uint64_t append(rk_ledger *l, const struct body *b)
{
    rk_append_item it;
    char err[RK_ERROR_SIZE] = "";

    memset(&it, 0, sizeof it);
    it.kind = b->kind;
    it.ref = b->ref;
    it.body = (const uint8_t *)b->text;
    it.body_len = strlen(b->text);
    ck_assert_msg(rk_ledger_append(l, &it, 1, err) == RK_OK, "%s", err);
    return it.seq;
}

static void tstr(cJSON *o, const char *k, int64_t sec)
{
    char t[RK_TIME_STR_MAX];

    rk_time_format(sec * SEC, t);
    cJSON_AddStringToObject(o, k, t);
}

/* One payments[] item. */
struct pm {
    const char *amount, *asset, *network;
    int conf; /* -1: not reported */
};

/* A provider event as an adapter would write it (formats/provider-event.md). */
static struct body pe(const char *provider, const char *event_id, const char *status,
                      const char *context, const char *state, int64_t at, const char *order,
                      const char *pid, const char *parent, const struct pm *pms, size_t npm,
                      const char *source)
{
    cJSON *o = cJSON_CreateObject(), *refs, *arr, *x;
    size_t i;

    cJSON_AddStringToObject(o, "provider", provider);
    cJSON_AddStringToObject(o, "event_id", event_id);
    cJSON_AddStringToObject(o, "event_type", status);
    tstr(o, "occurred_at", at);
    refs = cJSON_AddObjectToObject(o, "refs");
    if (order != NULL)
        cJSON_AddStringToObject(refs, "order", order);
    if (pid != NULL)
        cJSON_AddStringToObject(refs, "payment", pid);
    if (parent != NULL)
        cJSON_AddStringToObject(refs, "parent", parent);
    cJSON_AddStringToObject(o, "status", status);
    if (context != NULL)
        cJSON_AddStringToObject(o, "context", context);
    cJSON_AddStringToObject(o, "state", state);
    arr = cJSON_AddArrayToObject(o, "payments");
    for (i = 0; i < npm; i++) {
        x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "amount", pms[i].amount);
        cJSON_AddStringToObject(x, "asset", pms[i].asset);
        cJSON_AddStringToObject(x, "network", pms[i].network);
        if (pms[i].conf >= 0)
            cJSON_AddNumberToObject(x, "confirmations", pms[i].conf);
        cJSON_AddItemToArray(arr, x);
    }
    cJSON_AddStringToObject(o, "source", source != NULL ? source : "webhook");
    cJSON_AddNumberToObject(o, "v", 1);
    return make_body(RK_KIND_PROVIDER_EVENT, order != NULL ? order : pid, o);
}

static struct body commerce(const char *order, const char *event, int64_t at,
                            const char *amount, const char *asset, const char *network,
                            int64_t expires)
{
    cJSON *o = cJSON_CreateObject(), *x;
    char rid[256];

    cJSON_AddStringToObject(o, "order", order);
    cJSON_AddStringToObject(o, "event", event);
    snprintf(rid, sizeof rid, "%s:%s", order, event);
    cJSON_AddStringToObject(o, "row_id", rid);
    tstr(o, "occurred_at", at);
    if (amount != NULL) {
        x = cJSON_AddObjectToObject(o, "expected");
        cJSON_AddStringToObject(x, "amount", amount);
        cJSON_AddStringToObject(x, "asset", asset);
        cJSON_AddStringToObject(x, "network", network);
        x = cJSON_AddObjectToObject(o, "price");
        cJSON_AddStringToObject(x, "amount", "25.00");
        cJSON_AddStringToObject(x, "currency", "USD");
    }
    if (expires > 0)
        tstr(o, "expires_at", expires);
    cJSON_AddNumberToObject(o, "v", 1);
    return make_body(RK_KIND_COMMERCE_ROW, order, o);
}

static struct body finance(const char *order, const char *row_id, const char *account,
                           const char *side, const char *amount, const char *currency,
                           const char *rate)
{
    cJSON *o = cJSON_CreateObject();

    cJSON_AddStringToObject(o, "order", order);
    cJSON_AddStringToObject(o, "row_id", row_id);
    cJSON_AddStringToObject(o, "account", account);
    cJSON_AddStringToObject(o, "side", side);
    cJSON_AddStringToObject(o, "amount", amount);
    cJSON_AddStringToObject(o, "currency", currency);
    if (rate != NULL) {
        cJSON_AddStringToObject(o, "fx_rate", rate);
        cJSON_AddStringToObject(o, "fx_source", "test");
    }
    tstr(o, "recognised_at", T0 + 7200);
    cJSON_AddStringToObject(o, "period", "2026-01");
    cJSON_AddNumberToObject(o, "v", 1);
    return make_body(RK_KIND_FINANCE_ROW, order, o);
}

/* Replay the whole ledger; return the document (caller frees). */
static char *replay_doc(rk_ledger *l, const rk_replay_point *pt, const char *ref,
                        uint8_t digest[RK_HASH_SIZE])
{
    rk_replay_point end = RK_REPLAY_POINT_END;
    rk_planes *p = NULL;
    rk_replay_at at;
    rk_buf out = RK_BUF_INIT;
    char err[RK_ERROR_SIZE] = "";

    ck_assert_msg(rk_replay_fold(l, pt != NULL ? pt : &end, &p, &at, err) == RK_OK, "%s", err);
    ck_assert_msg(rk_replay_document(p, &at, ref, &out, digest, err) == RK_OK, "%s", err);
    rk_planes_free(p);
    return rk_buf_detach(&out, NULL);
}

/* The state of one payment from a replay document. */
static cJSON *payment_of(cJSON *doc, const char *ref)
{
    cJSON *p = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "state"),
                                         "payments"),
        ref);
    ck_assert_msg(p != NULL, "no payment '%s'", ref);
    return p;
}

static cJSON *parse(const char *text)
{
    cJSON *o = NULL;
    char err[RK_ERROR_SIZE] = "";

    ck_assert_msg(rk_json_parse(text, strlen(text), &o, err) == RK_OK, "%s", err);
    return o;
}

static const char *pstr(cJSON *pay, const char *plane, const char *key)
{
    cJSON *x = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(pay, plane),
                                                key);
    return cJSON_IsString(x) ? x->valuestring : "(absent)";
}

/* The difference of that kind, or NULL. */
static cJSON *diff_kind(cJSON *pay, const char *kind)
{
    cJSON *d;

    cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(pay, "differences"))
    {
        if (strcmp(cJSON_GetObjectItemCaseSensitive(d, "kind")->valuestring, kind) == 0)
            return d;
    }
    return NULL;
}

static void append_all(rk_ledger *l, struct body *b, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        append(l, &b[i]);
}

static void free_all(struct body *b, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        body_free(&b[i]);
}

/* ---- property tests ------------------------------------------------------ */

static uint64_t rng_state;
static uint32_t rnd(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng_state >> 33);
}

/*
 * A random stream: per payment a commerce row, a ladder of BTCPay events at
 * increasing times (some joined only by payment id), sometimes a finance
 * row; payments with a NOWPayments top-up through a parent id.
 */
static size_t random_stream(struct body *b, size_t max, int npay)
{
    static const char *words[] = { "InvoiceCreated", "InvoiceReceivedPayment",
                                   "InvoiceProcessing", "InvoiceSettled", "InvoiceExpired",
                                   "InvoiceInvalid" };
    static const char *states[] = { "awaiting_payment", "detected", "confirming",
                                    "confirmed", "expired", "invalid" };
    size_t n = 0;
    int k, e, ne;
    char order[64], pid[64], eid[160];

    for (k = 0; k < npay && n + 12 < max; k++) {
        int64_t t = T0 + k * 60;
        snprintf(order, sizeof order, "ord-%04d", k);
        snprintf(pid, sizeof pid, "inv-%04d", k);
        b[n++] = commerce(order, "created", t, "0.00100000", "BTC", "bitcoin", t + 3600);
        if (k % 7 == 3) {
            /* NOWPayments: partially paid, then a top-up under a new id */
            struct pm half = { "0.50", "USDT", "tron", -1 };
            char child[64];
            snprintf(child, sizeof child, "np-%04d-b", k);
            snprintf(pid, sizeof pid, "np-%04d", k);
            b[n++] = pe("nowpayments", pid, "partially_paid", NULL, "underpaid", t + 10,
                        order, pid, NULL, &half, 1, NULL);
            snprintf(eid, sizeof eid, "%s-fin", child);
            b[n++] = pe("nowpayments", eid, "finished", NULL, "confirmed", t + 20, NULL, child,
                        pid, &half, 1, NULL);
            continue;
        }
        ne = 1 + (int)(rnd() % 5);
        for (e = 0; e < ne; e++) {
            int w = e < 4 ? e : 4 + (int)(rnd() % 2);
            struct pm paid = { (rnd() % 4) == 0 ? "0.00090000" : "0.00100000", "BTC",
                               "bitcoin", w >= 1 && w <= 3 ? w - 1 : -1 };
            snprintf(eid, sizeof eid, "%s-%d", pid, e);
            /* a third of the events carry only the payment id */
            b[n++] = pe("btcpay", eid, words[w], NULL, states[w], t + 10 + e * 5,
                        (rnd() % 3) == 0 && e > 0 ? NULL : order, pid, NULL, &paid,
                        w >= 1 && w <= 3 ? 1 : 0, (rnd() % 5) == 0 ? "api_read" : NULL);
        }
        if (k % 3 == 0) {
            snprintf(eid, sizeof eid, "je-%04d", k);
            b[n++] = finance(order, eid, "1200-crypto-clearing", "debit", "0.00100000", "BTC",
                             "97000.00");
        }
    }
    return n;
}

START_TEST(shuffled_and_duplicated_streams_give_one_digest)
{
    enum { MAX = 2400 };
    struct body *b = calloc(MAX, sizeof *b);
    size_t n, i, j, round;
    uint8_t d0[RK_HASH_SIZE], d1[RK_HASH_SIZE];
    rk_ledger *l;
    char *doc;

    rng_state = 42;
    n = random_stream(b, MAX, 150);
    l = new_ledger();
    append_all(l, b, n);
    doc = replay_doc(l, NULL, NULL, d0);
    free(doc);
    rk_ledger_close(l);
    for (round = 0; round < 4; round++) {
        struct body *s = calloc(2 * n, sizeof *s);
        size_t m = n;
        memcpy(s, b, n * sizeof *s);
        /* duplicates: re-deliver a random third of the provider events */
        for (i = 0; i < n; i++)
            if (b[i].kind == RK_KIND_PROVIDER_EVENT && rnd() % 3 == 0)
                s[m++] = b[i];
        for (i = m; i > 1; i--) {
            struct body t;
            j = rnd() % i;
            t = s[i - 1];
            s[i - 1] = s[j];
            s[j] = t;
        }
        l = new_ledger();
        append_all(l, s, m);
        doc = replay_doc(l, NULL, NULL, d1);
        ck_assert_msg(memcmp(d0, d1, RK_HASH_SIZE) == 0, "round %zu: digest differs", round);
        free(doc);
        rk_ledger_close(l);
        free(s);
    }
    free_all(b, n);
    free(b);
}
END_TEST

START_TEST(prefix_replay_equals_stopped_stream)
{
    enum { MAX = 400 };
    struct body *b = calloc(MAX, sizeof *b);
    size_t n, k;
    rk_ledger *full, *part;
    uint8_t d0[RK_HASH_SIZE], d1[RK_HASH_SIZE];

    rng_state = 7;
    n = random_stream(b, MAX, 30);
    full = new_ledger();
    append_all(full, b, n);
    for (k = 1; k <= n; k += 1 + n / 9) {
        rk_replay_point pt = { k, INT64_MAX }; /* records 0..k: genesis + k bodies */
        char *a, *c;
        part = new_ledger();
        append_all(part, b, k);
        a = replay_doc(full, &pt, NULL, d0);
        c = replay_doc(part, NULL, NULL, d1);
        ck_assert_msg(strcmp(a, c) == 0, "prefix %zu differs", k);
        /* --as-of the recorded time of record k gives the same point */
        {
            rk_replay_point tp = { UINT64_MAX, T0 * SEC + (int64_t)k * SEC };
            char *t = replay_doc(full, &tp, NULL, NULL);
            cJSON *x = parse(t), *y = parse(a);
            ck_assert(cJSON_Compare(cJSON_GetObjectItemCaseSensitive(x, "state"),
                                    cJSON_GetObjectItemCaseSensitive(y, "state"), 1));
            cJSON_Delete(x);
            cJSON_Delete(y);
            free(t);
        }
        free(a);
        free(c);
        rk_ledger_close(part);
    }
    rk_ledger_close(full);
    free_all(b, n);
    free(b);
}
END_TEST

START_TEST(same_point_same_bytes)
{
    enum { MAX = 300 };
    struct body *b = calloc(MAX, sizeof *b);
    size_t n;
    rk_ledger *l;
    char *a, *c;
    rk_buf out = RK_BUF_INIT;
    rk_replay_point end = RK_REPLAY_POINT_END;
    char err[RK_ERROR_SIZE] = "";

    rng_state = 99;
    n = random_stream(b, MAX, 20);
    l = new_ledger();
    append_all(l, b, n);
    a = replay_doc(l, NULL, NULL, NULL);
    c = replay_doc(l, NULL, NULL, NULL);
    ck_assert_str_eq(a, c);
    ck_assert_msg(rk_replay_run(l, &end, NULL, &out, err) == RK_OK, "%s", err);
    ck_assert_str_eq((const char *)out.data, a);
    ck_assert_msg(rk_canon_check(a, strlen(a), err) == RK_OK, "%s", err);
    rk_buf_free(&out);
    free(a);
    free(c);
    rk_ledger_close(l);
    free_all(b, n);
    free(b);
}
END_TEST

/* The digest is SHA-256 of the canonical bytes of the "state" member. */
START_TEST(digest_covers_state_member)
{
    rk_ledger *l = new_ledger();
    struct body b = commerce("o-1", "created", T0, "1.00", "USDT", "tron", 0);
    char *doc, hex[65], err[RK_ERROR_SIZE] = "";
    cJSON *o;
    rk_buf s = RK_BUF_INIT;
    uint8_t d[RK_HASH_SIZE];

    append(l, &b);
    doc = replay_doc(l, NULL, NULL, NULL);
    o = parse(doc);
    ck_assert_int_eq(rk_canon_write(cJSON_GetObjectItemCaseSensitive(o, "state"), 0, &s, err),
                     RK_OK);
    rk_sha256(d, s.data, s.len);
    rk_hex_encode(hex, d, RK_HASH_SIZE);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(o, "state_digest")->valuestring, hex);
    /* the document ends in the digest member */
    ck_assert(strstr(doc, "\"state_digest\":\"") != NULL);
    ck_assert(strncmp(doc + strlen(doc) - 66, hex, 64) == 0);
    rk_buf_free(&s);
    cJSON_Delete(o);
    free(doc);
    body_free(&b);
    rk_ledger_close(l);
}
END_TEST

/* ---- scenarios ------------------------------------------------------------ */

/* Coinbase: charge created, payment pending, then charge:failed whose
 * timeline ends UNRESOLVED/OVERPAID. */
START_TEST(coinbase_overpayment)
{
    rk_ledger *l = new_ledger();
    struct pm over = { "0.00120000", "BTC", "bitcoin", -1 };
    struct body b[4];
    cJSON *doc, *p, *d;
    char *text;

    b[0] = commerce("cb-1", "created", T0, "0.00100000", "BTC", "bitcoin", T0 + 3600);
    b[1] = pe("coinbase-commerce", "ev-1", "NEW", NULL, "awaiting_payment", T0 + 1, "cb-1",
              "CHG1", NULL, NULL, 0, NULL);
    b[2] = pe("coinbase-commerce", "ev-2", "PENDING", NULL, "detected", T0 + 60, "cb-1",
              "CHG1", NULL, &over, 1, NULL);
    b[3] = pe("coinbase-commerce", "ev-3", "UNRESOLVED", "OVERPAID", "needs_review",
              T0 + 600, "cb-1", "CHG1", NULL, &over, 1, NULL);
    append_all(l, b, 4);
    text = replay_doc(l, NULL, NULL, NULL);
    doc = parse(text);
    p = payment_of(doc, "cb-1");
    ck_assert_str_eq(pstr(p, "provider", "state"), "needs_review");
    ck_assert_str_eq(pstr(p, "provider", "reason"), "overpaid");
    d = diff_kind(p, "amount_mismatch");
    ck_assert_ptr_nonnull(d);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(d, "direction")->valuestring, "overpaid");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(d, "paid")->valuestring, "0.00120000");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(d, "expected")->valuestring,
                     "0.00100000");
    ck_assert_ptr_nonnull(diff_kind(p, "no_policy"));
    cJSON_Delete(doc);
    free(text);
    free_all(b, 4);
    rk_ledger_close(l);
}
END_TEST

/* BTCPay: Processing, then an API read says New after an RBF replacement:
 * an explicit reversal, then awaiting payment again. */
START_TEST(btcpay_rbf_processing_to_new)
{
    rk_ledger *l = new_ledger();
    struct pm pay = { "0.00100000", "BTC", "bitcoin", 0 };
    struct body b[3];
    cJSON *doc, *p, *d;
    char *text;

    b[0] = pe("btcpay", "d-1", "InvoiceCreated", NULL, "awaiting_payment", T0, "bp-1", "INV1",
              NULL, NULL, 0, NULL);
    b[1] = pe("btcpay", "d-2", "InvoiceProcessing", NULL, "confirming", T0 + 30, "bp-1", "INV1",
              NULL, &pay, 1, NULL);
    b[2] = pe("btcpay", "r-3", "New", NULL, "awaiting_payment", T0 + 90, "bp-1", "INV1", NULL,
              NULL, 0, "api_read");
    append_all(l, b, 3);
    text = replay_doc(l, NULL, NULL, NULL);
    doc = parse(text);
    p = payment_of(doc, "bp-1");
    ck_assert_str_eq(pstr(p, "provider", "state"), "awaiting_payment");
    d = diff_kind(p, "reversal");
    ck_assert_ptr_nonnull(d);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(d, "from")->valuestring, "confirming");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(d, "to")->valuestring, "awaiting_payment");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(d, "event")->valuestring, "btcpay:r-3");
    d = diff_kind(p, "api_drift");
    ck_assert_ptr_nonnull(d);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(d, "webhook")->valuestring, "confirming");
    ck_assert_ptr_null(diff_kind(p, "illegal_transition"));
    cJSON_Delete(doc);
    free(text);
    free_all(b, 3);
    rk_ledger_close(l);
}
END_TEST

/* Expired, then a payment arrives: paid_late, with the difference. */
START_TEST(paid_after_expiry)
{
    rk_ledger *l = new_ledger();
    struct pm pay = { "0.00100000", "BTC", "bitcoin", 0 };
    struct body b[4];
    cJSON *doc, *p;
    char *text;

    b[0] = commerce("late-1", "created", T0, "0.00100000", "BTC", "bitcoin", T0 + 900);
    b[1] = pe("btcpay", "l-1", "InvoiceCreated", NULL, "awaiting_payment", T0, "late-1", "INV2",
              NULL, NULL, 0, NULL);
    b[2] = pe("btcpay", "l-2", "InvoiceExpired", NULL, "expired", T0 + 900, "late-1", "INV2",
              NULL, NULL, 0, NULL);
    b[3] = pe("btcpay", "l-3", "InvoiceReceivedPayment", NULL, "detected", T0 + 1000, "late-1",
              "INV2", NULL, &pay, 1, NULL);
    append_all(l, b, 4);
    text = replay_doc(l, NULL, NULL, NULL);
    doc = parse(text);
    p = payment_of(doc, "late-1");
    ck_assert_str_eq(pstr(p, "provider", "state"), "paid_late");
    ck_assert_str_eq(pstr(p, "provider", "provider_state"), "detected");
    ck_assert_ptr_nonnull(diff_kind(p, "paid_late"));
    ck_assert_ptr_null(diff_kind(p, "illegal_transition"));
    cJSON_Delete(doc);
    free(text);
    free_all(b, 4);
    rk_ledger_close(l);
}
END_TEST

/* NOWPayments: partially_paid, then a top-up under a new payment_id with
 * parent_payment_id and no order: one payment, paid in full, in any order. */
START_TEST(nowpayments_partial_and_topup)
{
    struct pm half = { "50.000000", "USDT", "tron", -1 };
    struct body b[3];
    cJSON *doc, *p, *paid;
    char *text, *text2;
    uint8_t d0[RK_HASH_SIZE], d1[RK_HASH_SIZE];
    rk_ledger *l = new_ledger(), *l2;
    struct body r[3];

    b[0] = commerce("np-1", "created", T0, "100.000000", "USDT", "tron", T0 + 86400);
    b[1] = pe("nowpayments", "5001-partially_paid", "partially_paid", NULL, "underpaid",
              T0 + 60, "np-1", "5001", NULL, &half, 1, NULL);
    b[2] = pe("nowpayments", "5002-finished", "finished", NULL, "confirmed", T0 + 600, NULL,
              "5002", "5001", &half, 1, NULL);
    append_all(l, b, 3);
    text = replay_doc(l, NULL, NULL, d0);
    doc = parse(text);
    p = payment_of(doc, "np-1");
    ck_assert_str_eq(pstr(p, "provider", "state"), "confirmed");
    paid = cJSON_GetArrayItem(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(p, "provider"), "paid"),
        0);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(paid, "amount")->valuestring,
                     "100.000000");
    ck_assert_ptr_null(diff_kind(p, "amount_mismatch"));
    ck_assert_ptr_null(diff_kind(p, "duplicate_payment"));
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
                         cJSON_GetObjectItemCaseSensitive(p, "provider"), "payment_ids")),
                     2);
    /* top-up first, then the parent, then the order */
    r[0] = b[2];
    r[1] = b[1];
    r[2] = b[0];
    l2 = new_ledger();
    append_all(l2, r, 3);
    text2 = replay_doc(l2, NULL, NULL, d1);
    ck_assert(memcmp(d0, d1, RK_HASH_SIZE) == 0);
    cJSON_Delete(doc);
    free(text);
    free(text2);
    free_all(b, 3);
    rk_ledger_close(l);
    rk_ledger_close(l2);
}
END_TEST

/* A late, older event never regresses a newer state. */
START_TEST(out_of_order_does_not_regress)
{
    rk_ledger *l = new_ledger();
    struct pm pay = { "0.00100000", "BTC", "bitcoin", 2 };
    struct body b[2];
    cJSON *doc, *p;
    char *text;
    rk_planes_stats st;

    b[0] = pe("btcpay", "o-2", "InvoiceSettled", NULL, "confirmed", T0 + 100, "ooo", "INV3",
              NULL, &pay, 1, NULL);
    b[1] = pe("btcpay", "o-1", "InvoiceReceivedPayment", NULL, "detected", T0 + 10, "ooo",
              "INV3", NULL, &pay, 1, NULL);
    append_all(l, b, 2);
    text = replay_doc(l, NULL, NULL, NULL);
    doc = parse(text);
    p = payment_of(doc, "ooo");
    ck_assert_str_eq(pstr(p, "provider", "state"), "confirmed");
    ck_assert_str_eq(pstr(p, "provider", "detected_at"), "2026-01-01T00:00:10.000000000Z");
    ck_assert_ptr_null(diff_kind(p, "illegal_transition"));
    {
        rk_planes *pl = NULL;
        rk_replay_at at;
        rk_replay_point end = RK_REPLAY_POINT_END;
        char err[RK_ERROR_SIZE] = "";
        ck_assert_int_eq(rk_replay_fold(l, &end, &pl, &at, err), RK_OK);
        rk_planes_stats_get(pl, &st);
        ck_assert_uint_eq(st.reorders, 1);
        ck_assert_uint_eq(st.events, 2);
        rk_planes_free(pl);
    }
    cJSON_Delete(doc);
    free(text);
    free_all(b, 2);
    rk_ledger_close(l);
}
END_TEST

/* A forbidden step is flagged with its evidence and never applied. */
START_TEST(illegal_transition_is_flagged)
{
    rk_ledger *l = new_ledger();
    struct body b[3];
    cJSON *doc, *p, *d, *ev;
    char *text;

    b[0] = pe("generic", "g-0", "confirmed", NULL, "confirmed", T0, "gen-1", "G1", NULL, NULL, 0,
              NULL);
    b[1] = pe("generic", "g-1", "refunded", NULL, "refunded", T0 + 5, "gen-1", "G1", NULL, NULL,
              0, NULL);
    b[2] = pe("generic", "g-2", "detected", NULL, "detected", T0 + 10, "gen-1", "G1", NULL, NULL,
              0, NULL);
    append_all(l, b, 3);
    text = replay_doc(l, NULL, NULL, NULL);
    doc = parse(text);
    p = payment_of(doc, "gen-1");
    ck_assert_str_eq(pstr(p, "provider", "state"), "refunded");
    d = diff_kind(p, "illegal_transition");
    ck_assert_ptr_nonnull(d);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(d, "from")->valuestring, "refunded");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(d, "to")->valuestring, "detected");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(d, "rule")->valuestring, "forbidden");
    /* the evidence names the record */
    ev = cJSON_GetArrayItem(
        cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(
                    cJSON_GetObjectItemCaseSensitive(doc, "evidence"), "payments"),
                "gen-1"),
            "illegal_transitions"),
        0);
    ck_assert_int_eq((int)cJSON_GetObjectItemCaseSensitive(ev, "seq")->valuedouble, 3);
    cJSON_Delete(doc);
    free(text);
    free_all(b, 3);
    rk_ledger_close(l);
}
END_TEST

/* The same event twice: counted once, the second listed as a duplicate. */
START_TEST(duplicates_count_once)
{
    rk_ledger *l = new_ledger(), *l2 = new_ledger();
    struct body b = pe("btcpay", "dup-1", "InvoiceCreated", NULL, "awaiting_payment", T0, "d-1",
                       "INV4", NULL, NULL, 0, NULL);
    uint8_t d0[RK_HASH_SIZE], d1[RK_HASH_SIZE];
    char *t0, *t1;
    cJSON *doc, *dups;

    append(l, &b);
    append(l2, &b);
    append(l2, &b);
    append(l2, &b);
    t0 = replay_doc(l, NULL, NULL, d0);
    t1 = replay_doc(l2, NULL, NULL, d1);
    ck_assert(memcmp(d0, d1, RK_HASH_SIZE) == 0);
    doc = parse(t1);
    dups = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "evidence"),
                                             "payments"),
            "d-1"),
        "duplicates");
    ck_assert_int_eq(cJSON_GetArraySize(dups), 2);
    ck_assert_int_eq((int)cJSON_GetArrayItem(dups, 0)->valuedouble, 2);
    ck_assert_int_eq((int)cJSON_GetArrayItem(dups, 1)->valuedouble, 3);
    cJSON_Delete(doc);
    free(t0);
    free(t1);
    body_free(&b);
    rk_ledger_close(l);
    rk_ledger_close(l2);
}
END_TEST

/* A later API read disagreeing with the webhook's state is drift. */
START_TEST(webhook_api_drift)
{
    rk_ledger *l = new_ledger();
    struct pm pay = { "1.00", "USDT", "tron", -1 };
    struct body b[2];
    cJSON *doc, *p, *d;
    char *text;

    b[0] = pe("nowpayments", "w-1", "confirmed", NULL, "confirmed", T0, "dr-1", "7001", NULL,
              &pay, 1, NULL);
    b[1] = pe("nowpayments", "a-1", "confirming", NULL, "detected", T0 + 5, "dr-1", "7001", NULL,
              &pay, 1, "api_read");
    append_all(l, b, 2);
    text = replay_doc(l, NULL, NULL, NULL);
    doc = parse(text);
    p = payment_of(doc, "dr-1");
    d = diff_kind(p, "api_drift");
    ck_assert_ptr_nonnull(d);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(d, "api_read")->valuestring, "detected");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(d, "webhook")->valuestring, "confirmed");
    ck_assert_ptr_nonnull(diff_kind(p, "missing_in_plane"));
    cJSON_Delete(doc);
    free(text);
    free_all(b, 2);
    rk_ledger_close(l);
}
END_TEST

/* Wrong network and wrong asset against the commerce plane; finance
 * totals per currency and account; the latest commerce correction wins. */
START_TEST(wrong_rail_finance_and_corrections)
{
    rk_ledger *l = new_ledger();
    struct pm wrong = { "10.00", "USDT", "ethereum", 3 };
    struct body b[6];
    cJSON *doc, *p, *fin, *d;
    char *text;

    b[0] = commerce("w-1", "created", T0, "9.00", "USDT", "tron", 0);
    b[1] = commerce("w-1", "created", T0, "10.00", "USDT", "tron", 0); /* correction */
    b[2] = pe("nowpayments", "wn-1", "finished", NULL, "confirmed", T0 + 60, "w-1", "8001", NULL,
              &wrong, 1, NULL);
    b[3] = finance("w-1", "je-1", "1200-crypto-clearing", "debit", "10.00", "USDT", "1.0001");
    b[4] = finance("w-1", "je-2", "4000-revenue", "credit", "25.00", "USD", NULL);
    b[5] = finance("w-1", "je-3", "4000-revenue", "credit", "0.50", "USD", NULL);
    append_all(l, b, 6);
    text = replay_doc(l, NULL, NULL, NULL);
    doc = parse(text);
    p = payment_of(doc, "w-1");
    ck_assert_str_eq(pstr(p, "expected", "amount"), "10.00");
    d = diff_kind(p, "wrong_network");
    ck_assert_ptr_nonnull(d);
    ck_assert_ptr_null(diff_kind(p, "wrong_asset"));
    ck_assert_ptr_null(diff_kind(p, "amount_mismatch")); /* not comparable on another rail */
    fin = cJSON_GetObjectItemCaseSensitive(p, "finance");
    ck_assert_str_eq(pstr(cJSON_GetObjectItemCaseSensitive(fin, "totals"), "USD", "credit"),
                     "25.50");
    ck_assert_str_eq(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(
                                             cJSON_GetObjectItemCaseSensitive(fin, "fx"), 0),
                                         "rate")
            ->valuestring,
        "1.0001");
    ck_assert_int_eq(
        (int)cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(p, "commerce"),
                                              "rows")
            ->valuedouble,
        1);
    cJSON_Delete(doc);
    free(text);
    free_all(b, 6);
    rk_ledger_close(l);
}
END_TEST

/* A currency in two accounts: its total adds up both (write_finance then
 * adds the rows up again instead of copying one account's sum); a currency
 * in one account has that account's sum as its total. */
START_TEST(finance_totals_across_accounts)
{
    rk_ledger *l = new_ledger();
    struct body b[4];
    cJSON *doc, *tot;
    char *text;

    b[0] = commerce("t-1", "created", T0, "10.00", "USDT", "tron", 0);
    b[1] = finance("t-1", "je-1", "1200-clearing", "debit", "10.00", "USD", NULL);
    b[2] = finance("t-1", "je-2", "4000-revenue", "credit", "2.5", "USD", NULL);
    b[3] = finance("t-1", "je-3", "1200-clearing", "credit", "1", "EUR", NULL);
    append_all(l, b, 4);
    text = replay_doc(l, NULL, NULL, NULL);
    doc = parse(text);
    tot = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(payment_of(doc, "t-1"), "finance"), "totals");
    ck_assert_str_eq(pstr(tot, "USD", "credit"), "2.5");
    ck_assert_str_eq(pstr(tot, "USD", "debit"), "10.00");
    ck_assert_str_eq(pstr(tot, "EUR", "credit"), "1");
    ck_assert_str_eq(pstr(tot, "EUR", "debit"), "0");
    cJSON_Delete(doc);
    free(text);
    free_all(b, 4);
    rk_ledger_close(l);
}
END_TEST

/* ---- timeline and diff ------------------------------------------------------ */

START_TEST(timeline_lines)
{
    rk_ledger *l = new_ledger();
    struct pm pay = { "0.00100000", "BTC", "bitcoin", 1 };
    struct body b[4];
    rk_buf out = RK_BUF_INIT;
    rk_replay_point end = RK_REPLAY_POINT_END;
    char err[RK_ERROR_SIZE] = "";
    size_t i, lines = 0;
    cJSON *first;

    b[0] = pe("btcpay", "t-1", "InvoiceReceivedPayment", NULL, "detected", T0 + 10, NULL,
              "INV9", NULL, &pay, 1, NULL); /* joins by payment id, merged later */
    b[1] = commerce("tl-1", "created", T0, "0.00100000", "BTC", "bitcoin", 0);
    b[2] = commerce("other", "created", T0, "1.00", "USDT", "tron", 0);
    b[3] = pe("btcpay", "t-2", "InvoiceSettled", NULL, "confirmed", T0 + 20, "tl-1", "INV9",
              NULL, &pay, 1, NULL);
    append_all(l, b, 4);
    ck_assert_msg(rk_replay_timeline(l, "tl-1", &end, &out, err) == RK_OK, "%s", err);
    for (i = 0; i < out.len; i++)
        lines += out.data[i] == '\n';
    ck_assert_uint_eq(lines, 3); /* seq 1, 2, 4; not the other order */
    first = parse(strtok((char *)out.data, "\n"));
    ck_assert_int_eq((int)cJSON_GetObjectItemCaseSensitive(first, "seq")->valuedouble, 1);
    ck_assert_int_eq((int)cJSON_GetObjectItemCaseSensitive(first, "delivery_seq")->valuedouble,
                     0);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(first, "before")));
    cJSON_Delete(first);
    rk_buf_reset(&out);
    ck_assert_int_eq(rk_replay_timeline(l, "nope", &end, &out, err), RK_ERR_NOTFOUND);
    rk_buf_free(&out);
    free_all(b, 4);
    rk_ledger_close(l);
}
END_TEST

START_TEST(diff_between_points)
{
    rk_ledger *l = new_ledger();
    struct pm pay = { "0.00100000", "BTC", "bitcoin", 1 };
    struct body b[3];
    rk_buf out = RK_BUF_INIT;
    rk_replay_point a = { 1, INT64_MAX }, z = { 3, INT64_MAX };
    char err[RK_ERROR_SIZE] = "";
    cJSON *doc, *ch;

    b[0] = commerce("df-1", "created", T0, "0.00100000", "BTC", "bitcoin", 0);
    b[1] = pe("btcpay", "f-1", "InvoiceSettled", NULL, "confirmed", T0 + 20, "df-1", "INV8", NULL,
              &pay, 1, NULL);
    b[2] = commerce("df-2", "created", T0, "1.00", "USDT", "tron", 0);
    append_all(l, b, 3);
    ck_assert_msg(rk_replay_diff(l, &a, &z, &out, err) == RK_OK, "%s", err);
    doc = parse((const char *)out.data);
    ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "added"), 0)
                         ->valuestring,
                     "df-2");
    ch = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "changed"),
                                          "df-1");
    ck_assert_ptr_nonnull(ch);
    ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(ch, "members"), 0)
                         ->valuestring,
                     "differences");
    cJSON_Delete(doc);
    rk_buf_reset(&out);
    ck_assert_int_eq(rk_replay_diff(l, &z, &a, &out, err), RK_ERR_INVALID);
    rk_buf_free(&out);
    free_all(b, 3);
    rk_ledger_close(l);
}
END_TEST

/* ---- corrupt and limits ------------------------------------------------------- */

START_TEST(corrupt_bodies_are_skipped_not_fatal)
{
    rk_ledger *l = new_ledger();
    struct body good = commerce("c-1", "created", T0, "1.00", "USDT", "tron", 0);
    static const char *bad[] = {
        "{\"v\":2}",
        "{\"event_id\":\"x\",\"provider\":\"btcpay\",\"refs\":{},\"status\":\"New\",\"v\":1}",
        "{\"event_id\":\"x\",\"occurred_at\":\"yesterday\",\"provider\":\"btcpay\",\"refs\":{"
        "\"payment\":\"p\"},\"status\":\"New\",\"v\":1}",
        "[1,2]",
    };
    struct body b;
    size_t i;
    char *text;
    cJSON *doc, *sk;

    append(l, &good);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        b.kind = RK_KIND_PROVIDER_EVENT;
        b.ref = (char *)"p";
        b.text = (char *)bad[i];
        append(l, &b);
    }
    b.kind = RK_KIND_FINANCE_ROW;
    b.text = (char *)"{\"order\":\"c-1\",\"v\":1}";
    append(l, &b);
    b.kind = RK_KIND_COMMERCE_ROW;
    b.text = (char *)"{\"event\":\"created\",\"order\":\"c-1\",\"row_id\":\"r\",\"v\":1}";
    append(l, &b);
    text = replay_doc(l, NULL, NULL, NULL);
    doc = parse(text);
    sk = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "evidence"),
                                          "skipped");
    ck_assert_int_eq(cJSON_GetArraySize(sk), 6);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(sk, 0), "reason")
                         ->valuestring,
                     "provider event: version is not 1");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(sk, 3), "reason")
                         ->valuestring,
                     "body is not a JSON object");
    payment_of(doc, "c-1");
    cJSON_Delete(doc);
    free(text);
    body_free(&good);
    rk_ledger_close(l);
}
END_TEST

/*
 * The reasons for a bad payments[] list keep their precedence whatever
 * order the fold checks items in: more than 64 items first, then an item
 * lacking amount, asset or network anywhere in the list, then a bad
 * confirmations count.
 */
START_TEST(payment_item_reasons_keep_their_precedence)
{
    rk_ledger *l = new_ledger();
    static const char head[] = "{\"event_id\":\"e%d\",\"occurred_at\":"
                               "\"2026-01-01T00:00:00.000000000Z\",\"payments\":[";
    static const char tail[] = "],\"provider\":\"btcpay\",\"refs\":{\"payment\":\"p%d\"},"
                               "\"status\":\"New\",\"v\":1}";
    static const char *items[] = {
        /* a bad count before an item without an asset */
        "{\"amount\":\"1\",\"asset\":\"BTC\",\"confirmations\":-1,\"network\":\"bitcoin\"},"
        "{\"amount\":\"1\",\"network\":\"bitcoin\"}",
        /* only a bad count */
        "{\"amount\":\"1\",\"asset\":\"BTC\",\"network\":\"bitcoin\"},"
        "{\"amount\":\"1\",\"asset\":\"BTC\",\"confirmations\":\"6\",\"network\":\"bitcoin\"}",
        NULL, /* 65 items, the first without an amount */
        NULL, /* 65 good items */
    };
    static const char *want[] = {
        "provider event: a payment lacks amount, asset or network",
        "provider event: confirmations is not a non-negative integer",
        "provider event: more than 64 payments",
        "provider event: more than 64 payments",
    };
    rk_buf text = RK_BUF_INIT;
    char line[256], *doc_text;
    struct body b;
    cJSON *doc, *sk;
    int i, j;

    for (i = 0; i < 4; i++) {
        rk_buf_reset(&text);
        snprintf(line, sizeof line, head, i);
        ck_assert_int_eq(rk_buf_append(&text, line, strlen(line)), RK_OK);
        if (items[i] != NULL) {
            ck_assert_int_eq(rk_buf_append(&text, items[i], strlen(items[i])), RK_OK);
        } else {
            for (j = 0; j < 65; j++) {
                static const char good[] = "{\"amount\":\"1\",\"asset\":\"BTC\","
                                           "\"network\":\"bitcoin\"}";
                static const char no_amount[] = "{\"asset\":\"BTC\",\"network\":\"bitcoin\"}";
                const char *it = j == 0 && i == 2 ? no_amount : good;
                if (j > 0)
                    ck_assert_int_eq(rk_buf_putc(&text, ','), RK_OK);
                ck_assert_int_eq(rk_buf_append(&text, it, strlen(it)), RK_OK);
            }
        }
        snprintf(line, sizeof line, tail, i);
        ck_assert_int_eq(rk_buf_append(&text, line, strlen(line) + 1), RK_OK);
        b.kind = RK_KIND_PROVIDER_EVENT;
        b.ref = (char *)"p";
        b.text = (char *)text.data;
        append(l, &b);
    }
    doc_text = replay_doc(l, NULL, NULL, NULL);
    doc = parse(doc_text);
    sk = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "evidence"),
                                          "skipped");
    ck_assert_int_eq(cJSON_GetArraySize(sk), 4);
    for (i = 0; i < 4; i++)
        ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(sk, i), "reason")
                             ->valuestring,
                         want[i]);
    cJSON_Delete(doc);
    free(doc_text);
    rk_buf_free(&text);
    rk_ledger_close(l);
}
END_TEST

/* b with a member "raw" of n numbers added: members the fold ignores. */
static struct body with_raw(const struct body *b, int n)
{
    cJSON *o = parse(b->text), *raw = cJSON_AddArrayToObject(o, "raw");
    int i;

    for (i = 0; i < n; i++)
        cJSON_AddItemToArray(raw, cJSON_CreateNumber(i));
    return make_body(b->kind, b->ref, o);
}

/*
 * Bodies with more members and elements than the reader's tape holds are
 * read with a cursor instead: the same document as without the extra
 * members (which the fold ignores), byte for byte.
 */
START_TEST(bodies_beyond_the_tape_read_the_same)
{
    struct pm pay[2] = { { "0.40", "BTC", "bitcoin", 1 }, { "0.60", "BTC", "bitcoin", 2 } };
    struct body b[5], big[5];
    rk_ledger *la, *lb;
    char *ta, *tb;
    int i;

    b[0] = commerce("tp-1", "created", T0, "1.00", "BTC", "bitcoin", T0 + 3600);
    b[1] = pe("btcpay", "e1", "InvoiceProcessing", NULL, "confirming", T0 + 10, "tp-1", "inv-1",
              NULL, pay, 2, NULL);
    b[2] = pe("btcpay", "e2", "InvoiceSettled", NULL, "confirmed", T0 + 20, NULL, "inv-1", NULL,
              pay, 2, NULL);
    b[3] = finance("tp-1", "je-1", "1200-crypto-clearing", "debit", "1.00", "BTC", "97000.00");
    b[4] = finance("tp-1", "je-2", "4000-revenue", "credit", "97.00", "USD", NULL);
    for (i = 0; i < 5; i++)
        big[i] = with_raw(&b[i], 1100);
    fake_now = T0 * SEC;
    la = new_ledger();
    append_all(la, b, 5);
    fake_now = T0 * SEC;
    lb = new_ledger();
    append_all(lb, big, 5);
    ta = replay_doc(la, NULL, NULL, NULL);
    tb = replay_doc(lb, NULL, NULL, NULL);
    ck_assert_str_eq(ta, tb);
    ck_assert_ptr_nonnull(strstr(ta, "\"tp-1\""));
    free(ta);
    free(tb);
    free_all(b, 5);
    free_all(big, 5);
    rk_ledger_close(la);
    rk_ledger_close(lb);
}
END_TEST

START_TEST(limits)
{
    rk_ledger *l = new_ledger();
    rk_replay_point beyond = { 5, INT64_MAX }, end = RK_REPLAY_POINT_END;
    rk_buf out = RK_BUF_INIT;
    char err[RK_ERROR_SIZE] = "";
    rk_planes *p = NULL;
    rk_record r;

    ck_assert_int_eq(rk_replay_run(l, &beyond, NULL, &out, err), RK_ERR_NOTFOUND);
    ck_assert_str_eq(err, "seq 5 is beyond the last record 0");
    ck_assert_int_eq(rk_replay_run(l, &end, "absent", &out, err), RK_ERR_NOTFOUND);
    ck_assert_str_eq(err, "no payment 'absent' in the state");
    /* records must come in increasing sequence order */
    ck_assert_int_eq(rk_planes_new(&p, err), RK_OK);
    memset(&r, 0, sizeof r);
    r.kind = RK_KIND_OPERATOR_NOTE;
    r.seq = 4;
    r.body = (const uint8_t *)"{}";
    r.body_len = 2;
    ck_assert_int_eq(rk_planes_apply(p, &r, err), RK_OK);
    ck_assert_int_eq(rk_planes_apply(p, &r, err), RK_ERR_INVALID);
    ck_assert_str_eq(err, "seq 4: records out of order");
    rk_planes_free(p);
    rk_planes_free(NULL);
    rk_buf_free(&out);
    rk_ledger_close(l);
}
END_TEST


/* ---- with a rail policy ------------------------------------------------------ */

static const char policy_text[] =
    "{\"v\":1,\"rails\":[{\"network\":\"bitcoin\",\"asset\":\"BTC\",\"decimals\":8,"
    "\"confirmations_to_credit\":6,\"finality\":{\"rule\":\"depth\",\"depth\":6,"
    "\"probabilistic\":true},\"memo_required\":false,\"fee\":{\"treatment\":"
    "\"payer_pays_network_fee\",\"asset\":\"BTC\"},\"tolerance\":{\"under\":{\"abs\":\"0\","
    "\"bps\":0},\"over\":{\"abs\":\"0\",\"bps\":100}},\"windows\":{\"expiry_grace_s\":120,"
    "\"stale_after_s\":3600},\"sources\":{\"decimals\":\"t\",\"confirmations\":\"t\","
    "\"finality\":\"t\",\"memo\":\"t\",\"fee\":\"t\",\"tolerance\":\"t\",\"windows\":\"t\"}}]}";

static struct body policy_body_of(const char *text)
{
    rk_policy *pol = NULL;
    rk_buf b = RK_BUF_INIT;
    char err[RK_ERROR_SIZE] = "";
    struct body r;

    ck_assert_msg(rk_policy_parse(text, strlen(text), &pol, err) == RK_OK, "%s", err);
    ck_assert_msg(rk_policy_record_body(pol, &b, err) == RK_OK, "%s", err);
    rk_policy_free(pol);
    r.kind = RK_KIND_POLICY;
    r.ref = strdup("policy");
    r.text = rk_buf_detach(&b, NULL);
    return r;
}

static struct body policy_body(void)
{
    return policy_body_of(policy_text);
}

/* Confirmed at 1 confirmation on a rail needing 6: confirming, both facts. */
START_TEST(policy_depth_rule)
{
    rk_ledger *l = new_ledger();
    struct pm one = { "0.00100000", "BTC", "bitcoin", 1 };
    struct pm six = { "0.00100000", "BTC", "bitcoin", 6 };
    struct body b[4];
    cJSON *doc, *p;
    char *text;
    rk_replay_point before = { 2, INT64_MAX };

    b[0] = commerce("dp-1", "created", T0, "0.00100000", "BTC", "bitcoin", 0);
    b[1] = pe("btcpay", "dp-e1", "InvoiceSettled", NULL, "confirmed", T0 + 60, "dp-1", "INV5",
              NULL, &one, 1, NULL);
    b[2] = policy_body();
    b[3] = pe("nowpayments", "dp-e2", "finished", NULL, "confirmed", T0 + 60, "dp-2", "9001",
              NULL, &six, 1, NULL);
    append_all(l, b, 4);
    /* the policy at the point rules: after it, depth applies to earlier events too */
    text = replay_doc(l, NULL, NULL, NULL);
    doc = parse(text);
    p = payment_of(doc, "dp-1");
    ck_assert_str_eq(pstr(p, "provider", "state"), "confirming");
    ck_assert_str_eq(pstr(p, "provider", "provider_state"), "confirmed");
    ck_assert_str_eq(pstr(p, "provider", "state_why"), "rail-needs-more-confirmations");
    ck_assert_int_eq(
        (int)cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(p, "provider"),
                                              "confirmations")
            ->valuedouble,
        1);
    ck_assert_ptr_null(diff_kind(p, "no_policy"));
    ck_assert_ptr_null(diff_kind(p, "missing_in_plane")); /* not credited: no finance due */
    p = payment_of(doc, "dp-2");
    ck_assert_str_eq(pstr(p, "provider", "state"), "final");
    ck_assert_str_eq(pstr(p, "provider", "state_why"), "rail-finality-met");
    ck_assert(!cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(doc, "state"), "policy")));
    cJSON_Delete(doc);
    free(text);
    /* before the policy record: the provider's word, flagged no_policy */
    text = replay_doc(l, &before, NULL, NULL);
    doc = parse(text);
    p = payment_of(doc, "dp-1");
    ck_assert_str_eq(pstr(p, "provider", "state"), "confirmed");
    ck_assert_ptr_nonnull(diff_kind(p, "no_policy"));
    cJSON_Delete(doc);
    free(text);
    free_all(b, 4);
    rk_ledger_close(l);
}
END_TEST

/* Tolerance, unknown rail and stale pending under the policy. */
START_TEST(policy_tolerance_unknown_rail_stale)
{
    rk_ledger *l = new_ledger();
    struct pm over_small = { "0.00100500", "BTC", "bitcoin", 0 }; /* +0.5% <= 1% */
    struct pm over_big = { "0.00102000", "BTC", "bitcoin", 6 };   /* +2% */
    struct pm usdt = { "5.00", "USDT", "tron", -1 };
    struct body b[7];
    cJSON *doc, *p, *d;
    char *text;

    b[0] = policy_body();
    b[1] = commerce("tol-1", "created", T0, "0.00100000", "BTC", "bitcoin", 0);
    b[2] = pe("btcpay", "tol-e1", "InvoiceReceivedPayment", NULL, "detected", T0 + 10, "tol-1",
              "INV6", NULL, &over_small, 1, NULL);
    b[3] = commerce("tol-2", "created", T0, "0.00100000", "BTC", "bitcoin", 0);
    b[4] = pe("btcpay", "tol-e2", "InvoiceSettled", NULL, "confirmed", T0 + 10, "tol-2", "INV7",
              NULL, &over_big, 1, NULL);
    b[5] = pe("nowpayments", "ur-1", "finished", NULL, "confirmed", T0 + 20, "ur-1", "9100",
              NULL, &usdt, 1, NULL);
    /* two hours later something else happens: tol-1 has waited past 3600 s */
    b[6] = pe("nowpayments", "later", "waiting", NULL, "awaiting_payment", T0 + 7200, "other",
              "9200", NULL, NULL, 0, NULL);
    append_all(l, b, 7);
    text = replay_doc(l, NULL, NULL, NULL);
    doc = parse(text);
    p = payment_of(doc, "tol-1");
    ck_assert_ptr_null(diff_kind(p, "amount_mismatch"));
    d = diff_kind(p, "stale_pending");
    ck_assert_ptr_nonnull(d);
    ck_assert_int_eq((int)cJSON_GetObjectItemCaseSensitive(d, "age_s")->valuedouble, 7190);
    p = payment_of(doc, "tol-2");
    d = diff_kind(p, "amount_mismatch");
    ck_assert_ptr_nonnull(d);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(d, "direction")->valuestring, "overpaid");
    ck_assert_str_eq(pstr(p, "provider", "state"), "final");
    ck_assert_ptr_null(diff_kind(p, "stale_pending"));
    p = payment_of(doc, "ur-1");
    d = diff_kind(p, "unknown_rail");
    ck_assert_ptr_nonnull(d);
    ck_assert_str_eq(pstr(d, "rail", "network"), "tron");
    cJSON_Delete(doc);
    free(text);
    free_all(b, 7);
    rk_ledger_close(l);
}
END_TEST

/*
 * A provider that names only a symbol (NOWPayments "usdttrc20") pays on the
 * policy's one USDT rail on tron: no wrong_contract, no unknown_rail, and
 * the amount is judged on that rail.
 */
START_TEST(policy_implied_contract)
{
    static const char tron_policy[] =
        "{\"v\":1,\"rails\":[{\"network\":\"tron\",\"asset\":\"USDT\","
        "\"contract\":\"TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t\",\"decimals\":6,"
        "\"confirmations_to_credit\":19,\"finality\":{\"rule\":\"flag\",\"fallback_depth\":19,"
        "\"probabilistic\":false},\"memo_required\":false,\"fee\":{\"treatment\":"
        "\"payer_pays_network_fee\",\"asset\":\"TRX\"},\"tolerance\":{\"under\":{\"abs\":\"0.01\","
        "\"bps\":0},\"over\":{\"abs\":\"0.01\",\"bps\":0}},\"windows\":{\"expiry_grace_s\":120,"
        "\"stale_after_s\":3600},\"sources\":{\"decimals\":\"t\",\"confirmations\":\"t\","
        "\"finality\":\"t\",\"memo\":\"t\",\"fee\":\"t\",\"tolerance\":\"t\",\"windows\":\"t\"}}]}";
    rk_ledger *l = new_ledger();
    struct pm full = { "54.12", "USDT", "tron", 25 };
    struct pm part = { "50", "USDT", "tron", 25 };
    struct body b[5];
    const char *orders[2] = { "ic-1", "ic-2" };
    cJSON *doc, *p, *o, *x;
    char *text, rid[64];
    int i;

    b[0] = policy_body_of(tron_policy);
    for (i = 0; i < 2; i++) {
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "order", orders[i]);
        cJSON_AddStringToObject(o, "event", "created");
        snprintf(rid, sizeof rid, "%s:created", orders[i]);
        cJSON_AddStringToObject(o, "row_id", rid);
        tstr(o, "occurred_at", T0);
        x = cJSON_AddObjectToObject(o, "expected");
        cJSON_AddStringToObject(x, "amount", "54.12");
        cJSON_AddStringToObject(x, "asset", "USDT");
        cJSON_AddStringToObject(x, "contract", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t");
        cJSON_AddStringToObject(x, "network", "tron");
        cJSON_AddNumberToObject(o, "v", 1);
        b[1 + i] = make_body(RK_KIND_COMMERCE_ROW, orders[i], o);
    }
    b[3] = pe("nowpayments", "ic-e1", "finished", NULL, "confirmed", T0 + 60, "ic-1", "7001",
              NULL, &full, 1, NULL);
    b[4] = pe("nowpayments", "ic-e2", "partially_paid", NULL, "underpaid", T0 + 60, "ic-2",
              "7002", NULL, &part, 1, NULL);
    append_all(l, b, 5);
    text = replay_doc(l, NULL, NULL, NULL);
    doc = parse(text);
    p = payment_of(doc, "ic-1");
    ck_assert_ptr_null(diff_kind(p, "wrong_contract"));
    ck_assert_ptr_null(diff_kind(p, "unknown_rail"));
    ck_assert_ptr_null(diff_kind(p, "amount_mismatch"));
    p = payment_of(doc, "ic-2");
    ck_assert_ptr_null(diff_kind(p, "wrong_contract"));
    ck_assert_ptr_nonnull(diff_kind(p, "amount_mismatch"));
    cJSON_Delete(doc);
    free(text);
    free_all(b, 5);
    rk_ledger_close(l);
}
END_TEST

/* A policy record that does not parse is skipped; the one before stays. */
START_TEST(policy_bad_record_keeps_previous)
{
    rk_ledger *l = new_ledger();
    struct body b[2], bad;
    char *text;
    cJSON *doc, *sk;

    b[0] = policy_body();
    b[1] = commerce("pb-1", "created", T0, "0.00100000", "BTC", "bitcoin", 0);
    append_all(l, b, 2);
    bad.kind = RK_KIND_POLICY;
    bad.ref = (char *)"policy";
    bad.text = (char *)"{\"policy\":{\"rails\":[],\"v\":1},\"v\":1}";
    append(l, &bad);
    text = replay_doc(l, NULL, NULL, NULL);
    doc = parse(text);
    sk = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "evidence"),
                                          "skipped");
    ck_assert_int_eq(cJSON_GetArraySize(sk), 1);
    ck_assert_int_eq(
        (int)cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(sk, 0), "seq")->valuedouble, 3);
    ck_assert_int_eq((int)cJSON_GetObjectItemCaseSensitive(
                         cJSON_GetObjectItemCaseSensitive(doc, "evidence"), "policy_seq")
                         ->valuedouble,
                     1);
    ck_assert_ptr_null(diff_kind(payment_of(doc, "pb-1"), "no_policy"));
    cJSON_Delete(doc);
    free(text);
    free_all(b, 2);
    rk_ledger_close(l);
}
END_TEST

/* ---- real payloads through the adapters ------------------------------------- */

#define VEC "tests/vectors/adapt/"

/* Adapt one webhook vector into a body to append (fails the test if it
 * does not map). */
static struct body adapted(const char *provider, const char *name)
{
    char path[256], err[RK_ERROR_SIZE] = "";
    rk_buf in = RK_BUF_INIT;
    rk_adapt_event ev;
    struct body b;

    snprintf(path, sizeof path, VEC "%s.json", name);
    ck_assert_msg(rk_buf_read_file(&in, path, 1 << 20, err) == RK_OK, "%s", err);
    rk_adapt_event_init(&ev);
    ck_assert_msg(rk_adapt_webhook(provider, in.data, in.len, &ev, err) == RK_OK, "%s: %s", name,
                  err);
    b.kind = RK_KIND_PROVIDER_EVENT;
    b.ref = strdup(ev.ref);
    b.text = strndup((const char *)ev.body.data, ev.body.len);
    rk_adapt_event_free(&ev);
    rk_buf_free(&in);
    return b;
}

START_TEST(corpus_payloads_through_adapters)
{
    struct body b[9], r[9];
    rk_ledger *l = new_ledger(), *l2;
    uint8_t d0[RK_HASH_SIZE], d1[RK_HASH_SIZE];
    char *text, *text2, err[RK_ERROR_SIZE] = "";
    cJSON *doc, *p;
    rk_buf in = RK_BUF_INIT;
    rk_adapt_event ev;
    size_t i;

    /* coinbase-commerce/webhook_charge_created_test_payload.json, byte for byte */
    b[0] = adapted("coinbase-commerce", "cb_webhook_charge_created");
    b[1] = adapted("coinbase-commerce", "cb_webhook_overpaid");
    b[2] = adapted("btcpay", "bp_invoice_created");
    b[3] = adapted("btcpay", "bp_invoice_created_redelivery");
    b[4] = adapted("btcpay", "bp_received_payment");
    b[5] = adapted("btcpay", "bp_processing_overpaid");
    b[6] = adapted("btcpay", "bp_settled");
    b[7] = adapted("nowpayments", "np_ipn_partially_paid");
    b[8] = adapted("nowpayments", "np_ipn_topup");
    append_all(l, b, 9);
    text = replay_doc(l, NULL, NULL, d0);
    doc = parse(text);
    p = payment_of(doc, "66BEOV2A");
    ck_assert_str_eq(pstr(p, "provider", "state"), "awaiting_payment");
    p = payment_of(doc, "ORD-1001");
    ck_assert_str_eq(pstr(p, "provider", "state"), "needs_review");
    ck_assert_str_eq(pstr(p, "provider", "reason"), "overpaid");
    p = payment_of(doc, "ORD-2001");
    ck_assert_str_eq(pstr(p, "provider", "state"), "confirmed");
    ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
                                            cJSON_GetObjectItemCaseSensitive(p, "provider"),
                                            "flags"),
                                        0)
                         ->valuestring,
                     "overpaid");
    ck_assert_int_eq((int)cJSON_GetObjectItemCaseSensitive(
                         cJSON_GetObjectItemCaseSensitive(p, "provider"), "events")
                         ->valuedouble,
                     4); /* the redelivery counted once */
    p = payment_of(doc, "ORD-3001");
    ck_assert_str_eq(pstr(p, "provider", "state"), "confirmed");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
                         cJSON_GetObjectItemCaseSensitive(p, "provider"), "payment_ids")),
                     2);
    /* the same payloads in reverse order: the same state */
    for (i = 0; i < 9; i++)
        r[i] = b[8 - i];
    l2 = new_ledger();
    append_all(l2, r, 9);
    text2 = replay_doc(l2, NULL, NULL, d1);
    ck_assert(memcmp(d0, d1, RK_HASH_SIZE) == 0);
    /* the NOWPayments docs example as published is not JSON: nothing to fold */
    ck_assert_int_eq(rk_buf_read_file(&in, VEC "np_docs_ipn_published.json", 1 << 20, err),
                     RK_OK);
    rk_adapt_event_init(&ev);
    ck_assert_int_eq(rk_adapt_webhook("nowpayments", in.data, in.len, &ev, err), RK_ERR_INVALID);
    rk_adapt_event_free(&ev);
    rk_buf_free(&in);
    cJSON_Delete(doc);
    free(text);
    free(text2);
    free_all(b, 9);
    rk_ledger_close(l);
    rk_ledger_close(l2);
}
END_TEST

/* ---- golden output ---------------------------------------------------------- */

/*
 * Every byte of replay, timeline and diff over mixed streams (shuffled,
 * redelivered, merges by payment id, top-ups, a policy first and another in
 * the middle, corrupt bodies), hashed together.  The expected hash was taken
 * from the version 1 fold (cJSON bodies, cJSON rendering) before the fast
 * path replaced it: the output of the replayer is fixed by formats/replay.md
 * and must not move when the implementation does.
 */
static void golden_add(rk_buf *all, const char *what, const char *text)
{
    char err[RK_ERROR_SIZE] = "";

    ck_assert_msg(rk_buf_append(all, what, strlen(what)) == RK_OK &&
                      rk_buf_append(all, text, strlen(text)) == RK_OK &&
                      rk_buf_putc(all, '\n') == RK_OK,
                  "%s", err);
}

static void golden_ledger(rk_buf *all, rk_ledger *l, size_t n)
{
    static const char *refs[] = { "ord-0003", "ord-0010", "ord-0017", "inv-0021", "ord-0005" };
    rk_buf out = RK_BUF_INIT;
    char err[RK_ERROR_SIZE] = "", *doc;
    size_t i;
    rk_err rc;

    doc = replay_doc(l, NULL, NULL, NULL);
    golden_add(all, "replay:", doc);
    free(doc);
    for (i = 1; i < 4; i++) {
        rk_replay_point pt = { i * n / 4, INT64_MAX };
        doc = replay_doc(l, &pt, NULL, NULL);
        golden_add(all, "replay at:", doc);
        free(doc);
    }
    for (i = 0; i < sizeof refs / sizeof refs[0]; i++) {
        rk_replay_point end = RK_REPLAY_POINT_END;
        rk_buf_reset(&out);
        rc = rk_replay_run(l, &end, refs[i], &out, err);
        ck_assert_msg(rc == RK_OK || rc == RK_ERR_NOTFOUND, "%s", err);
        if (rc == RK_OK) {
            ck_assert_msg(rk_buf_putc(&out, '\0') == RK_OK, "nomem");
            golden_add(all, "ref:", (const char *)out.data);
        }
        rk_buf_reset(&out);
        rc = rk_replay_timeline(l, refs[i], &end, &out, err);
        ck_assert_msg(rc == RK_OK || rc == RK_ERR_NOTFOUND, "%s", err);
        if (rc == RK_OK) {
            ck_assert_msg(rk_buf_putc(&out, '\0') == RK_OK, "nomem");
            golden_add(all, "timeline:", (const char *)out.data);
        }
    }
    {
        rk_replay_point a = { n / 3, INT64_MAX }, z = RK_REPLAY_POINT_END;
        rk_buf_reset(&out);
        ck_assert_msg(rk_replay_diff(l, &a, &z, &out, err) == RK_OK, "%s", err);
        ck_assert_msg(rk_buf_putc(&out, '\0') == RK_OK, "nomem");
        golden_add(all, "diff:", (const char *)out.data);
    }
    rk_buf_free(&out);
}

/* A stream with redeliveries, shuffled; with_policy: 0 none, 1 first, 2 first
 * and a second one in the middle. */
static void golden_stream(rk_buf *all, uint64_t seed, int npay, int with_policy)
{
    enum { MAX = 1600 };
    struct body *b = calloc(MAX, sizeof *b), *s = calloc(2 * MAX + 8, sizeof *s);
    struct body pol = policy_body(), bad;
    size_t n, m, i, j;
    rk_ledger *l;

    rng_state = seed;
    n = random_stream(b, MAX, npay);
    memcpy(s, b, n * sizeof *s);
    m = n;
    for (i = 0; i < n; i++)
        if (b[i].kind == RK_KIND_PROVIDER_EVENT && rnd() % 4 == 0)
            s[m++] = b[i];
    for (i = m; i > 1; i--) {
        struct body t;
        j = rnd() % i;
        t = s[i - 1];
        s[i - 1] = s[j];
        s[j] = t;
    }
    l = new_ledger();
    if (with_policy >= 1)
        append(l, &pol);
    for (i = 0; i < m; i++) {
        append(l, &s[i]);
        if (i == m / 2 && with_policy == 2) {
            /* a second policy: without the bitcoin rail */
            bad.kind = RK_KIND_POLICY;
            bad.ref = (char *)"policy";
            bad.text = (char *)"{\"v\":1}";
            append(l, &bad); /* does not parse: skipped, the first stays */
        }
        if (i == m / 3) {
            bad.kind = RK_KIND_PROVIDER_EVENT;
            bad.ref = (char *)"x";
            bad.text = (char *)"{\"event_id\":\"x\",\"provider\":\"btcpay\",\"refs\":{},"
                               "\"status\":\"New\",\"v\":1}";
            append(l, &bad);
            bad.kind = RK_KIND_FINANCE_ROW;
            bad.text = (char *)"{\"order\":\"ord-0001\",\"side\":\"both\",\"v\":1}";
            append(l, &bad);
        }
    }
    golden_ledger(all, l, m);
    rk_ledger_close(l);
    body_free(&pol);
    free_all(b, n);
    free(b);
    free(s);
}

START_TEST(golden_output_unchanged)
{
    rk_buf all = RK_BUF_INIT;
    uint8_t d[RK_HASH_SIZE];
    char hex[2 * RK_HASH_SIZE + 1];

    golden_stream(&all, 42, 60, 0);
    golden_stream(&all, 43, 60, 1);
    golden_stream(&all, 44, 60, 2);
    golden_stream(&all, 45, 20, 1);
    rk_sha256(d, all.data, all.len);
    rk_hex_encode(hex, d, RK_HASH_SIZE);
    ck_assert_str_eq(hex, "26dd2c095de0889b08c7742ff094490978ca73420edd59d80f84baacf99bfc4d");
    rk_buf_free(&all);
}
END_TEST

/* ---- strings in the rendering ------------------------------------------------ */

/* The test string of strings_render_as_canon_writes_them: len - 1 letters
 * with special inserted at pos. */
static void odd_string(char *s, const char *special, size_t len, size_t pos)
{
    static const char letters[] = "abcdefghijklmnopqrstuvwxyz";
    size_t sl = strlen(special);

    memcpy(s, letters, pos);
    memcpy(s + pos, special, sl);
    memcpy(s + pos + sl, letters + pos, len - pos - 1);
    s[len - 1 + sl] = '\0';
}

/*
 * The renderer copies plain strings eight bytes at a time and hands any
 * string with a byte to escape (or a byte >= 0x80) to rk_canon_put_string.
 * Strings of every length up to 24 with one such byte at every position, in
 * names that come from the data (accounts, row ids) and in values (status,
 * context, event name), come out exactly as rk_canon_put_string writes
 * them, and the document is canonical.
 */
START_TEST(strings_render_as_canon_writes_them)
{
    static const char *specials[] = { "\"", "\\", "\n", "\x01", "\x1f", "\x7f", "\xc3\xa9",
                                      "~", " " };
    static const char *const shapes[] = { "\"event\":%s", "\"status\":%s", "\"context\":%s",
                                          "%s:{\"USD\":", "%s:" };
    rk_ledger *l = new_ledger();
    rk_buf want = RK_BUF_INIT;
    char s[64], order[32], rid[96], name[128], text[512], err[RK_ERROR_SIZE] = "", *doc;
    size_t len, pos, k, j, n = 0;
    struct body b;

    for (k = 0; k < sizeof specials / sizeof specials[0]; k++) {
        for (len = 1; len <= 24; len++) {
            for (pos = 0; pos < len; pos++) {
                odd_string(s, specials[k], len, pos);
                snprintf(order, sizeof order, "o-%zu", n++);
                b = pe("btcpay", s, s, s, "processing", T0, order, NULL, NULL, NULL, 0, NULL);
                append(l, &b);
                body_free(&b);
                snprintf(rid, sizeof rid, "%s/%s", order, s);
                b = finance(order, rid, s, "debit", "1.00", "USD", NULL);
                append(l, &b);
                body_free(&b);
            }
        }
    }
    doc = replay_doc(l, NULL, NULL, NULL);
    ck_assert_msg(rk_canon_check(doc, strlen(doc), err) == RK_OK, "%s", err);
    ck_assert_ptr_nonnull(strstr(doc, "\"skipped\":[]"));
    n = 0;
    for (k = 0; k < sizeof specials / sizeof specials[0]; k++) {
        for (len = 1; len <= 24; len++) {
            for (pos = 0; pos < len; pos++) {
                odd_string(s, specials[k], len, pos);
                snprintf(order, sizeof order, "o-%zu", n++);
                for (j = 0; j < sizeof shapes / sizeof shapes[0]; j++) {
                    if (j == 0)
                        snprintf(name, sizeof name, "btcpay:%s", s);
                    else if (j == 4)
                        snprintf(name, sizeof name, "%s/%s", order, s);
                    else
                        snprintf(name, sizeof name, "%s", s);
                    rk_buf_reset(&want);
                    ck_assert_int_eq(rk_canon_put_string(&want, name, strlen(name)), RK_OK);
                    ck_assert_int_eq(rk_buf_putc(&want, '\0'), RK_OK);
                    snprintf(text, sizeof text, shapes[j], (const char *)want.data);
                    ck_assert_msg(strstr(doc, text) != NULL, "%zu/%zu/%zu: %s is missing", k,
                                  len, pos, text);
                }
            }
        }
    }
    free(doc);
    rk_buf_free(&want);
    rk_ledger_close(l);
}
END_TEST

/* ---- compaction ---------------------------------------------------------------- */

struct twin {
    rk_planes *plain, *packed;
    rk_ledger *l;
    int each; /* compare after every record */
};

static rk_err twin_fetch(void *ctx, uint64_t seq, rk_buf *buf, rk_record *rec, char *err)
{
    return rk_ledger_read(ctx, seq, buf, rec, err);
}

static void twin_compare(struct twin *t, const char *ref)
{
    rk_buf a = RK_BUF_INIT, b = RK_BUF_INIT, c = RK_BUF_INIT, d = RK_BUF_INIT;
    char err[RK_ERROR_SIZE] = "";

    ck_assert_msg(rk_planes_write(t->plain, ref, &a, &b, err) == RK_OK, "%s", err);
    ck_assert_msg(rk_planes_write(t->packed, ref, &c, &d, err) == RK_OK, "%s", err);
    ck_assert_uint_eq(a.len, c.len);
    ck_assert_mem_eq(a.data, c.data, a.len);
    ck_assert_uint_eq(b.len, d.len);
    ck_assert_mem_eq(b.data, d.data, b.len);
    rk_buf_free(&a);
    rk_buf_free(&b);
    rk_buf_free(&c);
    rk_buf_free(&d);
}

static rk_err twin_apply(void *ctx, const rk_record *rec, const uint8_t *bytes, size_t len)
{
    struct twin *t = ctx;
    char err[RK_ERROR_SIZE] = "";

    (void)bytes;
    (void)len;
    ck_assert_msg(rk_planes_apply(t->plain, rec, err) == RK_OK, "%s", err);
    ck_assert_msg(rk_planes_apply(t->packed, rec, err) == RK_OK, "%s", err);
    ck_assert_str_eq(rk_planes_last_ref(t->plain) != NULL ? rk_planes_last_ref(t->plain) : "",
                     rk_planes_last_ref(t->packed) != NULL ? rk_planes_last_ref(t->packed) : "");
    if (t->each)
        twin_compare(t, NULL);
    return RK_OK;
}

static void twin_fold_on(rk_ledger *l, int each, size_t block, int nothread,
                         uint64_t *compacted, uint64_t *expanded);

/*
 * Fold l twice, without compaction and with the most eager one (idle 1);
 * block: the spill file's write block (0: the default, under which a small
 * state never leaves the write buffer; a few bytes: every rendering goes
 * through the file, many across two blocks).
 */
static void twin_fold(rk_ledger *l, int each, size_t block, uint64_t *compacted,
                      uint64_t *expanded)
{
    twin_fold_on(l, each, block, 0, compacted, expanded);
}

/* The same; nothread: compact on this thread, as without a compactor thread. */
static void twin_fold_on(rk_ledger *l, int each, size_t block, int nothread,
                         uint64_t *compacted, uint64_t *expanded)
{
    struct twin t = { NULL, NULL, l, each };
    char err[RK_ERROR_SIZE] = "";
    uint64_t open;

    ck_assert(rk_planes_new(&t.plain, err) == RK_OK);
    ck_assert(rk_planes_new(&t.packed, err) == RK_OK);
    if (block > 0)
        rk_planes_spill_block(t.packed, block);
    if (nothread)
        rk_planes_no_thread(t.packed);
    rk_planes_set_source(t.packed, twin_fetch, l, 1);
    ck_assert_msg(rk_ledger_scan(l, 0, UINT64_MAX, twin_apply, &t, err) == RK_OK, "%s", err);
    twin_compare(&t, NULL);
    rk_planes_compaction_stats(t.packed, &open, compacted, expanded);
    ck_assert_msg(rk_planes_detach(t.packed, err) == RK_OK, "%s", err);
    twin_compare(&t, NULL);
    rk_planes_free(t.plain);
    rk_planes_free(t.packed);
}

/*
 * A payment closes (final, commerce and finance present) and is compacted;
 * then an older event, a redelivery, another finance row and a new policy
 * arrive for it.  Every step renders exactly as the fold without compaction.
 */
START_TEST(compaction_then_older_event)
{
    rk_ledger *l = new_ledger();
    struct pm p1 = { "0.00100000", "BTC", "bitcoin", 1 }, p12 = { "0.00100000", "BTC",
                                                                  "bitcoin", 12 };
    struct body b[12], pol = policy_body(), pol2;
    uint64_t compacted = 0, expanded = 0;
    size_t i;

    b[0] = commerce("cp-1", "created", T0, "0.00100000", "BTC", "bitcoin", T0 + 3600);
    b[1] = pe("btcpay", "c-2", "InvoiceSettled", NULL, "confirmed", T0 + 30, "cp-1", "INVC",
              NULL, &p12, 1, NULL);
    b[2] = finance("cp-1", "je-c1", "1200-crypto-clearing", "debit", "0.00100000", "BTC",
                   "97000.00");
    b[3] = commerce("cp-2", "created", T0, "1.00", "USDT", "tron", 0);
    b[4] = commerce("cp-3", "created", T0, "1.00", "USDT", "tron", 0);
    /* older than c-2: sorts before it */
    b[5] = pe("btcpay", "c-1", "InvoiceProcessing", NULL, "confirming", T0 + 20, "cp-1",
              "INVC", NULL, &p1, 1, NULL);
    b[6] = commerce("cp-4", "created", T0, "1.00", "USDT", "tron", 0);
    b[7] = pe("btcpay", "c-2", "InvoiceSettled", NULL, "confirmed", T0 + 30, "cp-1", "INVC",
              NULL, &p12, 1, NULL); /* a redelivery */
    b[8] = commerce("cp-5", "created", T0, "1.00", "USDT", "tron", 0);
    b[9] = finance("cp-1", "je-c2", "4000-revenue", "credit", "97.00", "USD", NULL);
    b[10] = pe("btcpay", "c-0", "InvoiceCreated", NULL, "awaiting_payment", T0 + 5, NULL,
               "INVC", NULL, NULL, 0, NULL); /* by payment id only */
    b[11] = commerce("cp-6", "created", T0, "1.00", "USDT", "tron", 0);
    append(l, &pol);
    for (i = 0; i < 12; i++) {
        append(l, &b[i]);
        if (i == 8) {
            /* another policy in the middle (a longer grace): a new digest, so the
             * compacted payment's renderings are stale */
            char *text = strdup(policy_text), *g = strstr(text, "\"expiry_grace_s\":120");
            ck_assert_ptr_nonnull(g);
            memcpy(g + strlen("\"expiry_grace_s\":"), "240", 3);
            pol2 = policy_body_of(text);
            append(l, &pol2);
            body_free(&pol2);
            free(text);
        }
    }
    twin_fold(l, 1, 64, &compacted, &expanded);
    ck_assert_uint_gt(compacted, 0);
    ck_assert_uint_gt(expanded, 0);
    compacted = expanded = 0;
    twin_fold_on(l, 1, 0, 1, &compacted, &expanded); /* without the thread */
    ck_assert_uint_gt(compacted, 0);
    ck_assert_uint_gt(expanded, 0);
    body_free(&pol);
    free_all(b, 12);
    rk_ledger_close(l);
}
END_TEST

/* The golden streams fold to the same bytes with the most eager compaction. */
START_TEST(compaction_on_mixed_streams)
{
    enum { MAX = 1600 };
    struct body *b = calloc(MAX, sizeof *b), pol = policy_body();
    size_t n, i;
    uint64_t compacted = 0, expanded = 0, c, e;
    rk_ledger *l;
    uint64_t seed;

    for (seed = 42; seed < 45; seed++) {
        rng_state = seed;
        n = random_stream(b, MAX, 60);
        l = new_ledger();
        append(l, &pol);
        for (i = 0; i < n; i++) {
            append(l, &b[i]);
            if (b[i].kind == RK_KIND_PROVIDER_EVENT && i % 5 == 0)
                append(l, &b[i]); /* redelivered */
        }
        /* a late copy of every third event, after everything closed */
        for (i = 0; i < n; i += 3)
            append(l, &b[i]);
        twin_fold(l, seed == 42, seed == 42 ? 0 : seed == 43 ? 97 : 4096, &c, &e);
        compacted += c;
        expanded += e;
        rk_ledger_close(l);
        free_all(b, n);
    }
    body_free(&pol);
    free(b);
    ck_assert_uint_gt(compacted, 0);
    ck_assert_uint_gt(expanded, 0);
}
END_TEST

struct spill_fold {
    rk_planes *p;
    char *err;
};

static rk_err spill_apply(void *ctx, const rk_record *rec, const uint8_t *bytes, size_t len)
{
    struct spill_fold *f = ctx;

    (void)bytes;
    (void)len;
    return rk_planes_apply(f->p, rec, f->err);
}

/* Fold l with the most eager compaction into a spill file of 64-byte blocks,
 * on the compactor thread or (nothread) on this one. */
static rk_err spill_fold(rk_ledger *l, int nothread, char *err)
{
    struct spill_fold f = { NULL, err };
    rk_err rc;

    ck_assert(rk_planes_new(&f.p, err) == RK_OK);
    rk_planes_spill_block(f.p, 64);
    if (nothread)
        rk_planes_no_thread(f.p);
    rk_planes_set_source(f.p, twin_fetch, l, 1);
    rc = rk_ledger_scan(l, 0, UINT64_MAX, spill_apply, &f, err);
    /* the compactor thread may meet the error after the last record: as in
     * a replay, detaching waits for it */
    if (rc == RK_OK)
        rc = rk_planes_detach(f.p, err);
    rk_planes_free(f.p);
    return rc;
}

/*
 * The spill file: a $TMPDIR where no file can be made, and a file that
 * cannot grow (RLIMIT_FSIZE; the ledger is written before), are I/O errors
 * that name the cause; the fold stops on them and frees everything.
 */
START_TEST(compaction_spill_file_errors)
{
    struct body *b = calloc(400, sizeof *b), pol = policy_body();
    char err[RK_ERROR_SIZE] = "", *dir;
    const char *tmp0 = getenv("TMPDIR");
    char *tmp_saved = tmp0 != NULL ? strdup(tmp0) : NULL;
    struct rlimit old, small;
    void (*old_xfsz)(int);
    rk_ledger *l = new_ledger();
    size_t n, i;
    rk_err rc;

    rng_state = 42;
    n = random_stream(b, 400, 20);
    append(l, &pol);
    for (i = 0; i < n; i++)
        append(l, &b[i]);
    dir = rk_test_tmpdir(); /* before TMPDIR changes */
    ck_assert_ptr_nonnull(dir);

    ck_assert_int_eq(setenv("TMPDIR", "/nonexistent-reckon-spill", 1), 0);
    for (i = 0; i < 2; i++) {
        err[0] = '\0';
        rc = spill_fold(l, (int)i, err);
        ck_assert_int_eq(rc, RK_ERR_IO);
        ck_assert_str_eq(err, "cannot create a spill file in '/nonexistent-reckon-spill': "
                              "No such file or directory");
    }

    /* writes past 200 bytes fail with EFBIG instead of raising SIGXFSZ; the
     * soft limit only, so that it can be put back (CK_FORK=no runs on) */
    ck_assert_int_eq(setenv("TMPDIR", dir, 1), 0);
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    small = old;
    small.rlim_cur = 200;
    old_xfsz = signal(SIGXFSZ, SIG_IGN);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
    err[0] = '\0';
    rc = spill_fold(l, 0, err);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, old_xfsz);
    if (tmp_saved != NULL)
        setenv("TMPDIR", tmp_saved, 1);
    else
        unsetenv("TMPDIR");
    ck_assert_int_eq(rc, RK_ERR_IO);
    ck_assert_str_eq(err, "cannot write the spill file: File too large");

    free(tmp_saved);
    rmdir(dir);
    free(dir);
    body_free(&pol);
    free_all(b, n);
    free(b);
    rk_ledger_close(l);
}
END_TEST

/*
 * The fold reads the ledger on a thread of its own, through a ring of a few
 * thousand records: a damaged record far beyond the ring still fails the
 * fold with the record named, after everything before it; a point before
 * it never meets it; a fold that stops on a time while the reader waits on
 * a full ring returns.
 */
/* Three folds of one ledger: bodies parsed at once (rk_planes_apply),
 * parsed ahead with a tape too small for them (read with a cursor), and
 * parsed ahead with a tape of the caller's. */
struct three {
    rk_planes *p[3];
    rk_jent tape[4096];
    size_t used;
};

static rk_err three_apply(void *ctx, const rk_record *rec, const uint8_t *bytes, size_t len)
{
    struct three *t = ctx;
    rk_planes_prep a, b, extra;
    char err[RK_ERROR_SIZE] = "";

    (void)bytes;
    (void)len;
    ck_assert_msg(rk_planes_apply(t->p[0], rec, err) == RK_OK, "%s", err);
    rk_planes_prepare(NULL, rec, &a, t->tape, 8); /* a tape too small: a cursor */
    ck_assert_msg(rk_planes_apply_prepared(t->p[1], rec, &a, err) == RK_OK, "%s", err);
    ck_assert_ptr_null(a.parsed);
    rk_planes_prepare(NULL, rec, &b, t->tape, sizeof t->tape / sizeof t->tape[0]);
    if (rec->kind == RK_KIND_PROVIDER_EVENT || rec->kind == RK_KIND_COMMERCE_ROW ||
        rec->kind == RK_KIND_FINANCE_ROW)
        ck_assert(b.status == 1 || b.status == -1);
    ck_assert_msg(rk_planes_apply_prepared(t->p[2], rec, &b, err) == RK_OK, "%s", err);
    ck_assert_ptr_null(b.parsed);
    /* a prep that is never applied is cleared, parsed or not */
    rk_planes_prepare(NULL, rec, &extra, NULL, 0);
    rk_planes_prep_clear(&extra);
    rk_planes_prep_clear(&extra);
    rk_planes_prepare(NULL, rec, &extra, t->tape, sizeof t->tape / sizeof t->tape[0]);
    rk_planes_prep_clear(&extra);
    return RK_OK;
}

START_TEST(parsing_ahead_or_in_the_fold_gives_one_state)
{
    enum { MAX = 1600 };
    struct body *b = calloc(MAX, sizeof *b);
    struct three *t = calloc(1, sizeof *t);
    rk_buf st[3], ev[3];
    char err[RK_ERROR_SIZE] = "";
    rk_ledger *l = new_ledger();
    size_t n, i;

    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_nonnull(t);
    rng_state = 7;
    n = random_stream(b, MAX, 60);
    append_all(l, b, n);
    for (i = 0; i < 3; i++) {
        ck_assert(rk_planes_new(&t->p[i], err) == RK_OK);
        rk_buf_init(&st[i]);
        rk_buf_init(&ev[i]);
    }
    ck_assert_msg(rk_ledger_scan(l, 0, UINT64_MAX, three_apply, t, err) == RK_OK, "%s", err);
    for (i = 0; i < 3; i++)
        ck_assert_msg(rk_planes_write(t->p[i], NULL, &st[i], &ev[i], err) == RK_OK, "%s", err);
    for (i = 1; i < 3; i++) {
        ck_assert_uint_eq(st[i].len, st[0].len);
        ck_assert(memcmp(st[i].data, st[0].data, st[0].len) == 0);
        ck_assert_uint_eq(ev[i].len, ev[0].len);
        ck_assert(memcmp(ev[i].data, ev[0].data, ev[0].len) == 0);
    }
    for (i = 0; i < 3; i++) {
        rk_planes_free(t->p[i]);
        rk_buf_free(&st[i]);
        rk_buf_free(&ev[i]);
    }
    free_all(b, n);
    free(b);
    free(t);
    rk_ledger_close(l);
}
END_TEST

START_TEST(scan_errors_and_stops_through_the_reader_thread)
{
    enum { N = 6000, BAD = 5000 };
    char *dir = rk_test_tmpdir(), path[4200], err[RK_ERROR_SIZE] = "";
    rk_ledger *l = NULL;
    rk_store *s = NULL;
    rk_store_batch *sb;
    rk_append_item *it = calloc(N, sizeof *it);
    struct body b = commerce("big-1", "created", T0, "1.00", "USDT", "tron", 0);
    rk_replay_point end = RK_REPLAY_POINT_END, before = { BAD - 1, INT64_MAX }, when;
    rk_replay_at at;
    rk_planes *p = NULL;
    rk_record rec;
    rk_buf v = RK_BUF_INIT;
    uint8_t k[8];
    size_t i;

    ck_assert_ptr_nonnull(dir);
    ck_assert_ptr_nonnull(it);
    snprintf(path, sizeof path, "%s/db", dir);
    free(dir);
    fake_now = T0 * SEC;
    ck_assert_msg(rk_ledger_create(path, "test.example/replay", fake_now, err) == RK_OK, "%s",
                  err);
    ck_assert_msg(rk_ledger_open(path, 0, &l, err) == RK_OK, "%s", err);
    rk_ledger_set_clock(l, fake_clock, NULL);
    rk_ledger_set_sync(l, 0);
    for (i = 0; i < N; i++) {
        it[i].kind = b.kind;
        it[i].ref = b.ref;
        it[i].body = (const uint8_t *)b.text;
        it[i].body_len = strlen(b.text);
    }
    ck_assert_msg(rk_ledger_append(l, it, N, err) == RK_OK, "%s", err);
    /* the time of record 100: a point that stops the fold early */
    ck_assert_int_eq(rk_ledger_read(l, 100, &v, &rec, err), RK_OK);
    when.at = UINT64_MAX;
    when.as_of = rec.recorded_at;
    rk_ledger_close(l);
    /* record BAD holds a copy of record BAD - 1 */
    ck_assert_msg(rk_store_open(path, 0, &s, err) == RK_OK, "%s", err);
    rk_put_be64(k, BAD - 1);
    ck_assert_int_eq(rk_store_get(s, RK_CF_RECORDS, k, 8, &v, err), RK_OK);
    sb = rk_store_batch_new(s);
    rk_put_be64(k, BAD);
    rk_store_batch_put(sb, RK_CF_RECORDS, k, 8, v.data, v.len);
    ck_assert_int_eq(rk_store_write(s, sb, 1, err), RK_OK);
    rk_store_batch_free(sb);
    rk_store_close(s);
    ck_assert_msg(rk_ledger_open(path, RK_LEDGER_READONLY, &l, err) == RK_OK, "%s", err);

    ck_assert_int_eq(rk_replay_fold(l, &end, &p, &at, err), RK_ERR_CORRUPT);
    ck_assert_str_eq(err, "seq 5000: holds record 4999");
    ck_assert_ptr_null(p);
    ck_assert_msg(rk_replay_fold(l, &before, &p, &at, err) == RK_OK, "%s", err);
    ck_assert_uint_eq(at.records, BAD);
    rk_planes_free(p);
    p = NULL;
    ck_assert_msg(rk_replay_fold(l, &when, &p, &at, err) == RK_OK, "%s", err);
    ck_assert_uint_eq(at.records, 101);
    ck_assert_int_eq(at.recorded_at, when.as_of);
    rk_planes_free(p);
    rk_ledger_close(l);
    rk_buf_free(&v);
    body_free(&b);
    free(it);
}
END_TEST

Suite *rk_test_suite(void)
{
    Suite *s = suite_create("replay");
    TCase *t = tcase_create("replay");

    tcase_set_timeout(t, 120);
    tcase_add_test(t, shuffled_and_duplicated_streams_give_one_digest);
    tcase_add_test(t, bodies_beyond_the_tape_read_the_same);
    tcase_add_test(t, parsing_ahead_or_in_the_fold_gives_one_state);
    tcase_add_test(t, prefix_replay_equals_stopped_stream);
    tcase_add_test(t, same_point_same_bytes);
    tcase_add_test(t, digest_covers_state_member);
    tcase_add_test(t, coinbase_overpayment);
    tcase_add_test(t, btcpay_rbf_processing_to_new);
    tcase_add_test(t, paid_after_expiry);
    tcase_add_test(t, nowpayments_partial_and_topup);
    tcase_add_test(t, out_of_order_does_not_regress);
    tcase_add_test(t, illegal_transition_is_flagged);
    tcase_add_test(t, duplicates_count_once);
    tcase_add_test(t, webhook_api_drift);
    tcase_add_test(t, wrong_rail_finance_and_corrections);
    tcase_add_test(t, finance_totals_across_accounts);
    tcase_add_test(t, timeline_lines);
    tcase_add_test(t, diff_between_points);
    tcase_add_test(t, corrupt_bodies_are_skipped_not_fatal);
    tcase_add_test(t, limits);
    tcase_add_test(t, payment_item_reasons_keep_their_precedence);
    tcase_add_test(t, policy_depth_rule);
    tcase_add_test(t, policy_tolerance_unknown_rail_stale);
    tcase_add_test(t, policy_bad_record_keeps_previous);
    tcase_add_test(t, policy_implied_contract);
    tcase_add_test(t, corpus_payloads_through_adapters);
    tcase_add_test(t, golden_output_unchanged);
    tcase_add_test(t, strings_render_as_canon_writes_them);
    tcase_add_test(t, compaction_then_older_event);
    tcase_add_test(t, compaction_on_mixed_streams);
    tcase_add_test(t, compaction_spill_file_errors);
    tcase_add_test(t, scan_errors_and_stops_through_the_reader_thread);
    suite_add_tcase(s, t);
    return s;
}
