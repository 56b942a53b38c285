/*
 * test_adapt.c - provider adapters: every vector under tests/vectors/adapt/
 * through its adapter, compared byte for byte with its .out file; the cases
 * the formats call out; every error path; the api_read batch in a ledger.
 *
 * RK_ADAPT_REGEN=1 rewrites the .out files from the code instead of
 * comparing (then review them with git diff before committing).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapt.h"
#include "adapt_int.h"
#include "check_main.h"
#include "ledger.h"
#include "lifecycle.h"

#define VEC "tests/vectors/adapt/"

/* ---- rendering a result as the .out files hold it ----------------------- */

static void render_event(rk_buf *out, const rk_adapt_event *ev)
{
    ck_assert_int_eq(rk_buf_printf(out, "key %s\nref %s\n", ev->event_key, ev->ref), RK_OK);
    ck_assert_int_eq(rk_buf_append(out, ev->body.data, ev->body.len), RK_OK);
    ck_assert_int_eq(rk_buf_putc(out, '\n'), RK_OK);
}

static rk_err render_item(void *ctx, size_t index, const rk_adapt_event *ev,
                          const char *item_err)
{
    rk_buf *out = ctx;

    if (ev == NULL) {
        ck_assert_ptr_nonnull(item_err);
        ck_assert_int_eq(rk_buf_printf(out, "item %zu unmapped %s\n", index, item_err),
                         RK_OK);
        return RK_OK;
    }
    ck_assert_ptr_null(item_err);
    ck_assert_int_eq(rk_buf_printf(out, "item %zu\n", index), RK_OK);
    render_event(out, ev);
    return RK_OK;
}

/*
 * rk_adapt_webhook_json on the tree rk_json_parse makes of the same bytes
 * must give byte for byte what rk_adapt_webhook gave (want), whenever the
 * bytes are JSON at all.
 */
static void same_from_tree(const char *provider, const uint8_t *p, size_t n,
                           const rk_buf *want)
{
    char err[RK_ERROR_SIZE] = "";
    rk_buf got = RK_BUF_INIT;
    rk_adapt_event ev;
    cJSON *root = NULL;
    rk_err rc;

    if (rk_json_parse((const char *)p, n, &root, NULL) != RK_OK)
        return;
    rk_adapt_event_init(&ev);
    rc = rk_adapt_webhook_json(provider, root, &ev, err);
    if (rc != RK_OK)
        ck_assert_int_eq(rk_buf_printf(&got, "error %d %s\n", (int)rc, err), RK_OK);
    else
        render_event(&got, &ev);
    ck_assert_uint_le(got.len, want->len);
    ck_assert_msg(memcmp(got.data, want->data + want->len - got.len, got.len) == 0,
                  "tree and bytes differ:\n%.*s\nvs\n%.*s", (int)got.len, (char *)got.data,
                  (int)want->len, (char *)want->data);
    rk_adapt_event_free(&ev);
    rk_buf_free(&got);
    cJSON_Delete(root);
}

/* What the adapter makes of bytes, as text. */
static void render(const char *provider, int api, const uint8_t *p, size_t n, rk_buf *out)
{
    char err[RK_ERROR_SIZE] = "";
    rk_adapt_event ev;
    rk_err rc;

    rk_adapt_event_init(&ev);
    if (api)
        rc = rk_adapt_api_read(provider, p, n, render_item, out, err);
    else
        rc = rk_adapt_webhook(provider, p, n, &ev, err);
    if (rc != RK_OK)
        ck_assert_int_eq(rk_buf_printf(out, "error %d %s\n", (int)rc, err), RK_OK);
    else if (!api)
        render_event(out, &ev);
    rk_adapt_event_free(&ev);
    if (!api)
        same_from_tree(provider, p, n, out);
}

/* ---- the vector table --------------------------------------------------- */

struct vector {
    const char *name; /* VEC <name>.json in, VEC <name>.out expected */
    const char *provider;
    int api;
};

static const struct vector vectors[] = {
    { "cb_webhook_charge_created", "coinbase-commerce", 0 },
    { "cb_webhook_overpaid", "coinbase-commerce", 0 },
    { "cb_webhook_confirmed_confirmations", "coinbase-commerce", 0 },
    { "cb_api_sdk_fixture_charge", "coinbase-commerce", 1 },
    { "cb_api_sdk_fixture_event", "coinbase-commerce", 1 },
    { "cb_api_list", "coinbase-commerce", 1 },
    { "bp_invoice_created", "btcpay", 0 },
    { "bp_invoice_created_redelivery", "btcpay", 0 },
    { "bp_received_payment", "btcpay", 0 },
    { "bp_received_payment_after_expiration", "btcpay", 0 },
    { "bp_payment_settled_lightning", "btcpay", 0 },
    { "bp_processing_overpaid", "btcpay", 0 },
    { "bp_settled", "btcpay", 0 },
    { "bp_settled_manually_marked", "btcpay", 0 },
    { "bp_expired", "btcpay", 0 },
    { "bp_expired_partially_paid", "btcpay", 0 },
    { "bp_invalid", "btcpay", 0 },
    { "bp_payout_created", "btcpay", 0 },
    { "bp_webhook_processing_rbf", "btcpay", 0 },
    { "bp_api_invoices", "btcpay", 1 },
    { "np_docs_ipn_published", "nowpayments", 0 },
    { "np_docs_ipn_fixed", "nowpayments", 0 },
    { "np_ipn_partially_paid", "nowpayments", 0 },
    { "np_ipn_topup", "nowpayments", 0 },
    { "np_ipn_waiting_exponent", "nowpayments", 0 },
    { "np_ipn_unknown_status", "nowpayments", 0 },
    { "np_api_list", "nowpayments", 1 },
    { "gen_valid", "generic", 0 },
    { "gen_needs_review", "generic", 0 },
    { "gen_api_list", "generic", 1 },
};

#define NVECTORS (sizeof vectors / sizeof vectors[0])

static void read_vec(const char *name, const char *ext, rk_buf *b)
{
    char path[256], err[RK_ERROR_SIZE] = "";

    snprintf(path, sizeof path, VEC "%s%s", name, ext);
    ck_assert_msg(rk_buf_read_file(b, path, 1 << 20, err) == RK_OK, "%s: %s", path, err);
}

START_TEST(vectors_byte_for_byte)
{
    const struct vector *v = &vectors[_i];
    rk_buf in = RK_BUF_INIT, got = RK_BUF_INIT, want = RK_BUF_INIT;
    char path[256];

    read_vec(v->name, ".json", &in);
    render(v->provider, v->api, in.data, in.len, &got);
    if (getenv("RK_ADAPT_REGEN") != NULL) {
        FILE *f;

        snprintf(path, sizeof path, VEC "%s.out", v->name);
        f = fopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(got.data, 1, got.len, f), got.len);
        fclose(f);
    }
    read_vec(v->name, ".out", &want);
    ck_assert_msg(got.len == want.len && memcmp(got.data, want.data, got.len) == 0,
                  "%s: got\n%s\nwant\n%s", v->name, (char *)got.data, (char *)want.data);
    rk_buf_free(&in);
    rk_buf_free(&got);
    rk_buf_free(&want);
}
END_TEST

/* Every strict prefix of every vector is an error, never a crash. */
START_TEST(vectors_truncated)
{
    const struct vector *v = &vectors[_i];
    rk_buf in = RK_BUF_INIT, sink = RK_BUF_INIT;
    char err[RK_ERROR_SIZE];
    rk_adapt_event ev;
    size_t n, end;

    read_vec(v->name, ".json", &in);
    for (end = in.len; end > 0 && in.data[end - 1] == '\n'; end--)
        ;
    rk_adapt_event_init(&ev);
    for (n = 0; n < end; n++) {
        uint8_t *copy = malloc(n + 1); /* exact size: ASan sees any overread */

        ck_assert_ptr_nonnull(copy);
        memcpy(copy, in.data, n);
        if (v->api)
            ck_assert_int_eq(rk_adapt_api_read(v->provider, copy, n, render_item, &sink, err),
                             RK_ERR_INVALID);
        else
            ck_assert_int_eq(rk_adapt_webhook(v->provider, copy, n, &ev, err), RK_ERR_INVALID);
        free(copy);
    }
    ck_assert_uint_eq(sink.len, 0);
    rk_adapt_event_free(&ev);
    rk_buf_free(&in);
}
END_TEST

/* ---- helpers for single cases ------------------------------------------- */

static rk_err hook(const char *provider, const char *body, rk_adapt_event *ev, char *err)
{
    return rk_adapt_webhook(provider, (const uint8_t *)body, strlen(body), ev, err);
}

/* The webhook must fail with code and a message containing needle. */
static void hook_fails(const char *provider, const char *body, rk_err code, const char *needle)
{
    char err[RK_ERROR_SIZE] = "";
    rk_adapt_event ev;
    rk_err rc;

    rk_adapt_event_init(&ev);
    rc = hook(provider, body, &ev, err);
    ck_assert_msg(rc == code, "%s: %s: got %d (%s), want %d", provider, body, (int)rc, err,
                  (int)code);
    ck_assert_msg(strstr(err, needle) != NULL, "%s: message '%s' lacks '%s'", body, err,
                  needle);
    ck_assert_str_eq(ev.event_key, "");
    rk_adapt_event_free(&ev);
}

/* The webhook must map, and its body contain needle. */
static void hook_has(const char *provider, const char *body, const char *needle)
{
    char err[RK_ERROR_SIZE] = "";
    rk_adapt_event ev;

    rk_adapt_event_init(&ev);
    ck_assert_msg(hook(provider, body, &ev, err) == RK_OK, "%s: %s", body, err);
    ck_assert_msg(strstr((const char *)ev.body.data, needle) != NULL, "%s lacks %s",
                  (const char *)ev.body.data, needle);
    rk_adapt_event_free(&ev);
}

static void file_event(const char *name, const char *provider, rk_adapt_event *ev)
{
    char err[RK_ERROR_SIZE] = "";
    rk_buf in = RK_BUF_INIT;

    read_vec(name, ".json", &in);
    ck_assert_msg(rk_adapt_webhook(provider, in.data, in.len, ev, err) == RK_OK, "%s: %s",
                  name, err);
    rk_buf_free(&in);
}

/* ---- the cases the formats call out ------------------------------------- */

START_TEST(coinbase_overpaid_is_needs_review)
{
    rk_adapt_event ev;
    const char *b;

    rk_adapt_event_init(&ev);
    file_event("cb_webhook_overpaid", "coinbase-commerce", &ev);
    b = (const char *)ev.body.data;
    ck_assert_ptr_nonnull(strstr(b, "\"event_type\":\"charge:failed\""));
    ck_assert_ptr_nonnull(strstr(b, "\"state\":\"needs_review\""));
    ck_assert_ptr_nonnull(strstr(b, "\"reason\":\"overpaid\""));
    ck_assert_ptr_nonnull(strstr(b, "\"context\":\"OVERPAID\""));
    ck_assert_ptr_nonnull(strstr(b, "\"confirmations\":12"));
    ck_assert_ptr_nonnull(strstr(b, "\"amount\":\"0.06\""));
    ck_assert_str_eq(ev.event_key, "coinbase-commerce:9a8b7c6d-1111-4222-8333-444455556666");
    ck_assert_str_eq(ev.ref, "ORD-1001");
    rk_adapt_event_free(&ev);
}
END_TEST

START_TEST(coinbase_confirmation_spellings)
{
    const char *pre = "{\"id\":\"d\",\"event\":{\"id\":\"e\",\"type\":\"charge:pending\","
                      "\"data\":{\"code\":\"C1\",\"timeline\":[{\"time\":\"2024-01-01T00:00:00Z\","
                      "\"status\":\"PENDING\"}],\"payments\":[{\"network\":\"bitcoin\","
                      "\"value\":{\"crypto\":{\"amount\":\"1\",\"currency\":\"BTC\"}},";
    char body[1024];

    snprintf(body, sizeof body, "%s\"block\":{\"confirmations\":4}}]}}}", pre);
    hook_has("coinbase-commerce", body, "\"confirmations\":4");
    snprintf(body, sizeof body, "%s\"block\":{\"confirmations_accumulated\":5}}]}}}", pre);
    hook_has("coinbase-commerce", body, "\"confirmations\":5");
    snprintf(body, sizeof body, "%s\"confirmations\":6}]}}}", pre);
    hook_has("coinbase-commerce", body, "\"confirmations\":6");
    snprintf(body, sizeof body, "%s\"confirmations_accumulated\":7}]}}}", pre);
    hook_has("coinbase-commerce", body, "\"confirmations\":7");
    snprintf(body, sizeof body, "%s\"block\":{\"confirmations\":-1}}]}}}", pre);
    hook_fails("coinbase-commerce", body, RK_ERR_INVALID, "confirmations: not a confirmation");
    snprintf(body, sizeof body, "%s\"block\":{\"confirmations\":\"3\"}}]}}}", pre);
    hook_fails("coinbase-commerce", body, RK_ERR_INVALID, "block.confirmations");
    snprintf(body, sizeof body, "%s\"block\":{\"confirmations\":9007199254740992}}]}}}", pre);
    hook_fails("coinbase-commerce", body, RK_ERR_INVALID, "not a confirmation count");
}
END_TEST

START_TEST(btcpay_redelivery_same_event_id)
{
    rk_adapt_event a, b;

    rk_adapt_event_init(&a);
    rk_adapt_event_init(&b);
    file_event("bp_invoice_created", "btcpay", &a);
    file_event("bp_invoice_created_redelivery", "btcpay", &b);
    ck_assert_str_eq(a.event_key, "btcpay:9tEU1ShUmQC9u1yH6A4GyW");
    ck_assert_str_eq(a.event_key, b.event_key);
    ck_assert_uint_eq(a.body.len, b.body.len);
    ck_assert(memcmp(a.body.data, b.body.data, a.body.len) == 0);
    /* no originalDeliveryId: the delivery id is the event id */
    hook_has("btcpay", "{\"deliveryId\":\"D9\",\"type\":\"InvoiceCreated\",\"timestamp\":1,"
                       "\"invoiceId\":\"I\"}",
             "\"event_id\":\"D9\"");
    rk_adapt_event_free(&a);
    rk_adapt_event_free(&b);
}
END_TEST

START_TEST(btcpay_expiry_late_and_rbf)
{
    rk_adapt_event ev;
    char err[RK_ERROR_SIZE] = "";
    rk_buf in = RK_BUF_INIT, out = RK_BUF_INIT;

    rk_adapt_event_init(&ev);
    file_event("bp_expired_partially_paid", "btcpay", &ev);
    ck_assert_ptr_nonnull(strstr((char *)ev.body.data, "\"state\":\"underpaid\""));
    file_event("bp_received_payment_after_expiration", "btcpay", &ev);
    ck_assert_ptr_nonnull(strstr((char *)ev.body.data, "\"state\":\"paid_late\""));
    ck_assert_ptr_nonnull(strstr((char *)ev.body.data, "\"context\":\"afterExpiration\""));
    /* precedence: manuallyMarked before overPaid */
    file_event("bp_settled_manually_marked", "btcpay", &ev);
    ck_assert_ptr_nonnull(strstr((char *)ev.body.data, "\"state\":\"resolved\""));
    /* RBF: a Processing webhook, then a read showing the invoice New again */
    file_event("bp_webhook_processing_rbf", "btcpay", &ev);
    ck_assert_ptr_nonnull(strstr((char *)ev.body.data, "\"state\":\"confirming\""));
    read_vec("bp_api_invoices", ".json", &in);
    ck_assert_int_eq(rk_adapt_api_read("btcpay", in.data, in.len, render_item, &out, err),
                     RK_OK);
    ck_assert_ptr_nonnull(strstr((char *)out.data, "ref ORD-2003\n{\"event_id\":\"api:RbfInv1:"));
    ck_assert_ptr_nonnull(strstr((char *)out.data, "\"state\":\"awaiting_payment\",\"status\":"
                                                   "\"New\""));
    /* the replayer explains the step only through an explicit reversal */
    ck_assert_int_eq(rk_lifecycle_via_reversal(RK_STATE_CONFIRMING, RK_STATE_AWAITING_PAYMENT),
                     1);
    rk_adapt_event_free(&ev);
    rk_buf_free(&in);
    rk_buf_free(&out);
}
END_TEST

START_TEST(nowpayments_cases)
{
    rk_adapt_event ev;
    const char *b;

    rk_adapt_event_init(&ev);
    file_event("np_ipn_partially_paid", "nowpayments", &ev);
    b = (const char *)ev.body.data;
    ck_assert_str_eq(ev.event_key, "nowpayments:5077125051:partially_paid:1709635555123");
    ck_assert_ptr_nonnull(strstr(b, "\"state\":\"underpaid\""));
    ck_assert_ptr_nonnull(strstr(b, "\"amount\":\"0.000891234567891234\""));
    ck_assert_ptr_nonnull(strstr(b, "\"occurred_at\":\"2024-03-05T10:45:55.123000000Z\""));
    file_event("np_ipn_topup", "nowpayments", &ev);
    b = (const char *)ev.body.data;
    ck_assert_ptr_nonnull(
        strstr(b, "\"refs\":{\"order\":\"ORD-3001\",\"parent\":\"5077125051\",\"payment\":"
                  "\"5077125099\"}"));
    ck_assert_ptr_nonnull(strstr(b, "\"amount\":\"46.130001\",\"asset\":\"USDT\",\"network\":"
                                    "\"tron\""));
    /* the published docs example is not JSON: a clear message with the place */
    hook_fails("nowpayments", "{\n\"payment_extra_ids\":null\n\"fee\": {}\n}", RK_ERR_INVALID,
               "nowpayments: not JSON: json: expected ',' or '}' after member at line 3 column 1");
    /* more fraction digits than any asset has */
    hook_fails("nowpayments",
               "{\"payment_id\":1,\"payment_status\":\"waiting\",\"updated_at\":1,"
               "\"pay_currency\":\"btc\",\"actually_paid\":0.0000000000000000000000000000001}",
               RK_ERR_INVALID, "$.actually_paid: more than 30 fraction digits");
    hook_fails("nowpayments",
               "{\"payment_id\":1,\"payment_status\":\"waiting\",\"updated_at\":1,"
               "\"pay_currency\":\"btc\",\"actually_paid\":1e39}",
               RK_ERR_INVALID, "$.actually_paid: more than 38 integer digits");
    hook_fails("nowpayments",
               "{\"payment_id\":1,\"payment_status\":\"waiting\",\"updated_at\":1,"
               "\"pay_currency\":\"btc\",\"actually_paid\":1e999999999999999999999}",
               RK_ERR_INVALID, "$.actually_paid: more than 38 integer digits");
    hook_fails("nowpayments",
               "{\"payment_id\":1,\"payment_status\":\"waiting\",\"updated_at\":1,"
               "\"pay_currency\":\"btc\",\"actually_paid\":-1}",
               RK_ERR_INVALID, "negative amount");
    hook_fails("nowpayments",
               "{\"payment_id\":1.5,\"payment_status\":\"waiting\",\"updated_at\":1}",
               RK_ERR_INVALID, "$.payment_id: '1.5' is not a plain non-negative integer");
    hook_fails("nowpayments",
               "{\"payment_id\":1,\"payment_status\":\"waiting\",\"updated_at\":1e3}",
               RK_ERR_INVALID, "$.updated_at: not a time in milliseconds");
    hook_fails("nowpayments",
               "{\"payment_id\":1,\"payment_status\":\"waiting\",\"updated_at\":"
               "99999999999999999999}",
               RK_ERR_INVALID, "$.updated_at: not a time in milliseconds");
    hook_fails("nowpayments",
               "{\"payment_id\":1,\"payment_status\":\"waiting\",\"updated_at\":"
               "18446744073709551}",
               RK_ERR_INVALID, "$.updated_at: time 18446744073709551 is out of range");
    hook_fails("nowpayments", "{\"payment_id\":1,\"payment_status\":\"waiting\"}",
               RK_ERR_INVALID, "$.updated_at: missing");
    hook_fails("nowpayments",
               "{\"payment_id\":1,\"payment_status\":\"waiting\",\"updated_at\":1,"
               "\"actually_paid\":1}",
               RK_ERR_INVALID, "$.pay_currency: missing");
    hook_fails("nowpayments",
               "{\"payment_id\":1,\"payment_status\":\"waiting\",\"updated_at\":1,"
               "\"context\":1,\"pay_amount\":\"1.5.\",\"pay_currency\":\"btc\"}",
               RK_ERR_INVALID, "$.pay_amount: '1.5.' is not amount text");
    rk_adapt_event_free(&ev);
}
END_TEST

/* ---- error paths by provider -------------------------------------------- */

START_TEST(coinbase_errors)
{
    const char *p = "coinbase-commerce";

    hook_fails(p, "", RK_ERR_INVALID, "coinbase-commerce: not JSON");
    hook_fails(p, "[]", RK_ERR_INVALID, "coinbase-commerce: $: not an object");
    hook_fails(p, "{\"id\":1}", RK_ERR_INVALID, "$.event: missing or not an object");
    hook_fails(p, "{\"event\":{\"type\":\"charge:created\"}}", RK_ERR_INVALID,
               "$.event.id: missing");
    hook_fails(p, "{\"event\":{\"id\":\"\",\"type\":\"charge:created\"}}", RK_ERR_INVALID,
               "$.event.id: empty");
    hook_fails(p, "{\"event\":{\"id\":7,\"type\":\"charge:created\"}}", RK_ERR_INVALID,
               "$.event.id: not a string");
    hook_fails(p, "{\"event\":{\"id\":\"e\",\"type\":\"checkout:created\",\"data\":{}}}",
               RK_ERR_NOTFOUND, "'checkout:created' is not a charge event");
    hook_fails(p, "{\"event\":{\"id\":\"e\",\"type\":\"charge:created\",\"data\":[]}}",
               RK_ERR_INVALID, "$.event.data: not a charge object");
    hook_fails(p, "{\"event\":{\"id\":\"e\",\"type\":\"charge:created\",\"data\":{\"code\":"
                  "\"C\"}}}",
               RK_ERR_INVALID, "$.event.data.timeline: missing");
    hook_fails(p, "{\"event\":{\"id\":\"e\",\"type\":\"charge:created\",\"data\":{\"code\":"
                  "\"C\",\"timeline\":[]}}}",
               RK_ERR_NOTFOUND, "$.event.data.timeline: empty");
    hook_fails(p, "{\"event\":{\"id\":\"e\",\"type\":\"charge:created\",\"data\":{\"code\":"
                  "\"C\",\"timeline\":[{\"time\":\"2024-01-01T00:00:00Z\",\"status\":"
                  "\"FROZEN\"}]}}}",
               RK_ERR_NOTFOUND, "FROZEN");
    hook_fails(p, "{\"event\":{\"id\":\"e\",\"type\":\"charge:created\",\"data\":{\"code\":"
                  "\"C\",\"timeline\":[{\"time\":\"yesterday\",\"status\":\"NEW\"}]}}}",
               RK_ERR_INVALID, "$.event.data.timeline[0].time: 'yesterday' is not an RFC 3339");
    hook_fails(p, "{\"event\":{\"id\":\"e\",\"type\":\"charge:created\",\"data\":{"
                  "\"metadata\":{\"customer_id\":\"x\"},\"timeline\":[{\"time\":"
                  "\"2024-01-01T00:00:00Z\",\"status\":\"NEW\"}]}}}",
               RK_ERR_NOTFOUND, "no reference");
    hook_fails(p, "{\"event\":{\"id\":\"e\",\"type\":\"charge:created\",\"data\":{\"code\":"
                  "\"C\",\"metadata\":[],\"timeline\":[]}}}",
               RK_ERR_INVALID, "$.event.data.metadata: not an object");
    hook_fails(p, "{\"event\":{\"id\":\"e\",\"type\":\"charge:created\",\"data\":{\"code\":"
                  "\"C\",\"timeline\":[{\"time\":\"2024-01-01T00:00:00Z\",\"status\":\"NEW\"}],"
                  "\"payments\":[{\"network\":\"bitcoin\",\"value\":{\"crypto\":{\"amount\":1.5e,"
                  "\"currency\":\"BTC\"}}}]}}}",
               RK_ERR_INVALID, "not JSON");
    hook_fails(p, "{\"event\":{\"id\":\"e\",\"type\":\"charge:created\",\"data\":{\"code\":"
                  "\"C\",\"timeline\":[{\"time\":\"2024-01-01T00:00:00Z\",\"status\":\"NEW\"}],"
                  "\"payments\":[{\"network\":\"bitcoin\",\"value\":{\"crypto\":{\"amount\":"
                  "\"1\"}}}]}}}",
               RK_ERR_INVALID, "$.event.data.payments[0].value.crypto.currency: missing");
    hook_fails(p, "{\"event\":{\"id\":\"e\",\"type\":\"charge:created\",\"data\":{\"code\":"
                  "\"C\",\"timeline\":[{\"time\":\"2024-01-01T00:00:00Z\",\"status\":\"NEW\"}],"
                  "\"payments\":{}}}}",
               RK_ERR_INVALID, "$.event.data.payments: not an array");
    /* a context on a status that has none: no row, nothing guessed */
    hook_fails(p, "{\"event\":{\"id\":\"e\",\"type\":\"charge:created\",\"data\":{\"code\":"
                  "\"C\",\"timeline\":[{\"time\":\"2024-01-01T00:00:00Z\",\"status\":\"NEW\","
                  "\"context\":\"OVERPAID\"}]}}}",
               RK_ERR_NOTFOUND, "OVERPAID");
    /* an order id as a number, and unknown networks kept as "unknown" */
    hook_has(p, "{\"event\":{\"id\":\"e\",\"type\":\"charge:pending\",\"data\":{\"metadata\":"
                "{\"order_id\":123},\"timeline\":[{\"time\":\"2024-01-01T00:00:00Z\",\"status\":"
                "\"PENDING\"}],\"payments\":[{\"network\":\"zcash\",\"value\":{\"crypto\":"
                "{\"amount\":\"1.10\",\"currency\":\"zec\"}}}]}}}",
             "\"payments\":[{\"amount\":\"1.1\",\"asset\":\"ZEC\",\"network\":\"unknown\"}]");
}
END_TEST

START_TEST(btcpay_errors)
{
    const char *p = "btcpay";

    hook_fails(p, "{\"deliveryId\":\"D\",\"timestamp\":1,\"invoiceId\":\"I\"}", RK_ERR_INVALID,
               "$.type: missing");
    hook_fails(p, "{\"type\":\"InvoiceCreated\",\"timestamp\":1,\"invoiceId\":\"I\"}",
               RK_ERR_INVALID, "$.deliveryId: missing");
    hook_fails(p, "{\"type\":\"InvoiceCreated\",\"deliveryId\":\"D\",\"invoiceId\":\"I\"}",
               RK_ERR_INVALID, "$.timestamp: missing");
    hook_fails(p, "{\"type\":\"InvoiceCreated\",\"deliveryId\":\"D\",\"timestamp\":\"1\","
                  "\"invoiceId\":\"I\"}",
               RK_ERR_INVALID, "$.timestamp: not a unix time");
    hook_fails(p, "{\"type\":\"InvoiceCreated\",\"deliveryId\":\"D\",\"timestamp\":"
                  "99999999999,\"invoiceId\":\"I\"}",
               RK_ERR_INVALID, "$.timestamp: time 99999999999 is out of range");
    hook_fails(p, "{\"type\":\"InvoiceCreated\",\"deliveryId\":\"D\",\"timestamp\":1}",
               RK_ERR_NOTFOUND, "no reference");
    hook_fails(p, "{\"type\":\"InvoiceCreated\",\"deliveryId\":\"D\",\"timestamp\":1,"
                  "\"invoiceId\":\"I\",\"isRedelivery\":\"no\"}",
               RK_ERR_INVALID, "$.isRedelivery: not a boolean");
    hook_fails(p, "{\"type\":\"InvoiceExpired\",\"deliveryId\":\"D\",\"timestamp\":1,"
                  "\"invoiceId\":\"I\",\"partiallyPaid\":1}",
               RK_ERR_INVALID, "$.partiallyPaid: not a boolean");
    hook_fails(p, "{\"type\":\"InvoiceCreated\",\"deliveryId\":\"D\",\"timestamp\":1,"
                  "\"invoiceId\":\"I\",\"metadata\":\"x\"}",
               RK_ERR_INVALID, "$.metadata: not an object");
    hook_fails(p, "{\"type\":\"InvoiceCreated\",\"deliveryId\":\"D\",\"timestamp\":1,"
                  "\"invoiceId\":\"I\",\"metadata\":{\"orderId\":true}}",
               RK_ERR_INVALID, "$.metadata.orderId: not a string or an integer");
    hook_fails(p, "{\"type\":\"PayoutApproved\",\"deliveryId\":\"D\",\"timestamp\":1}",
               RK_ERR_NOTFOUND, "'PayoutApproved' is not an invoice event");
    /* a flag with no row for that type (afterExpiration on InvoiceSettled) */
    hook_fails(p, "{\"type\":\"InvoiceSettled\",\"deliveryId\":\"D\",\"timestamp\":1,"
                  "\"invoiceId\":\"I\",\"afterExpiration\":true}",
               RK_ERR_NOTFOUND, "afterExpiration");
    hook_fails(p, "{\"type\":\"InvoiceReceivedPayment\",\"deliveryId\":\"D\",\"timestamp\":1,"
                  "\"invoiceId\":\"I\",\"payment\":{\"id\":\"x\",\"value\":\"1\"}}",
               RK_ERR_INVALID, "$.paymentMethodId: missing");
    hook_fails(p, "{\"type\":\"InvoiceReceivedPayment\",\"deliveryId\":\"D\",\"timestamp\":1,"
                  "\"invoiceId\":\"I\",\"paymentMethodId\":\"BTC\",\"payment\":{\"id\":\"x\","
                  "\"value\":1e-31}}",
               RK_ERR_INVALID, "$.payment.value: more than 30 fraction digits");
    hook_fails(p, "{\"type\":\"InvoiceReceivedPayment\",\"deliveryId\":\"D\",\"timestamp\":1,"
                  "\"invoiceId\":\"I\",\"paymentMethodId\":\"BTC\",\"payment\":[]}",
               RK_ERR_INVALID, "$.payment: not an object");
    hook_fails(p, "{\"type\":\"InvoiceReceivedPayment\",\"deliveryId\":\"D\",\"timestamp\":1,"
                  "\"invoiceId\":\"I\",\"paymentMethodId\":\"BTC\",\"payment\":{\"id\":\"x\","
                  "\"value\":\"1\",\"receivedDate\":-5}}",
               RK_ERR_INVALID, "$.payment.receivedDate: not a unix time");
    /* unknown payment methods keep their asset and say network "unknown" */
    hook_has(p, "{\"type\":\"InvoiceReceivedPayment\",\"deliveryId\":\"D\",\"timestamp\":1,"
                "\"invoiceId\":\"I\",\"paymentMethodId\":\"xmr-CHAIN\",\"payment\":{\"id\":"
                "\"x\",\"value\":\"1.000\"}}",
             "\"payments\":[{\"amount\":\"1\",\"asset\":\"XMR\",\"id\":\"x\",\"network\":"
             "\"unknown\",\"tx\":\"x\"}]");
}
END_TEST

START_TEST(generic_errors)
{
    const char *p = "generic";
    const char *ok = "\"v\":1,\"event_id\":\"e\",\"event_type\":\"t\",\"occurred_at\":"
                     "\"2024-01-01T00:00:00Z\",\"refs\":{\"order\":\"O\"},";
    char b[1024];

#define G(tail) (snprintf(b, sizeof b, "{%s%s}", ok, tail), b)
    hook_has(p, G("\"state\":\"detected\",\"payments\":[]"), "\"state\":\"detected\"");
    hook_fails(p, G("\"state\":\"detected\",\"payments\":[],\"extra\":1"), RK_ERR_INVALID,
               "$: unknown member 'extra'");
    hook_fails(p, G("\"state\":\"paid\",\"payments\":[]"), RK_ERR_NOTFOUND, "paid");
    hook_fails(p, G("\"state\":\"detected\""), RK_ERR_INVALID, "$.payments: missing");
    hook_fails(p, G("\"state\":\"detected\",\"payments\":[{\"amount\":1,\"asset\":\"BTC\","
                    "\"network\":\"bitcoin\"}]"),
               RK_ERR_INVALID, "$.payments[0].amount: not a string");
    hook_fails(p, G("\"state\":\"detected\",\"payments\":[{\"amount\":\"1\",\"asset\":\"btc\","
                    "\"network\":\"bitcoin\"}]"),
               RK_ERR_INVALID, "$.payments[0].asset: 'btc' is not an upper-case asset symbol");
    hook_fails(p, G("\"state\":\"detected\",\"payments\":[{\"amount\":\"1\",\"asset\":\"BTC\","
                    "\"network\":\"Bitcoin\"}]"),
               RK_ERR_INVALID, "is not an lower-case network id");
    hook_fails(p, G("\"state\":\"detected\",\"payments\":[{\"amount\":\"01\",\"asset\":\"BTC\","
                    "\"network\":\"bitcoin\"}]"),
               RK_ERR_INVALID, "'01' is not amount text");
    hook_fails(p, G("\"state\":\"detected\",\"payments\":[{\"amount\":\"1\",\"asset\":\"BTC\","
                    "\"network\":\"bitcoin\",\"finalized\":\"yes\"}]"),
               RK_ERR_INVALID, "finalized: not \"true\" or \"false\"");
    hook_fails(p, G("\"state\":\"detected\",\"payments\":[{\"amount\":\"1\",\"asset\":\"BTC\","
                    "\"network\":\"bitcoin\",\"fee\":\"1\"}]"),
               RK_ERR_INVALID, "$.payments[0]: unknown member 'fee'");
    hook_fails(p, G("\"state\":\"detected\",\"reason\":\"manual\",\"payments\":[]"),
               RK_ERR_INVALID, "$.reason: only with state needs_review");
    hook_fails(p, G("\"state\":\"needs_review\",\"reason\":\"bored\",\"payments\":[]"),
               RK_ERR_NOTFOUND, "bored");
    hook_fails(p, G("\"state\":\"detected\",\"flag\":\"late\",\"payments\":[]"),
               RK_ERR_INVALID, "$.flag: 'late' is not a flag");
    hook_fails(p, G("\"state\":\"detected\",\"payments\":[],\"payments_scope\":\"most\""),
               RK_ERR_INVALID, "$.payments_scope: 'most' is not all, some or none");
    hook_fails(p, G("\"state\":\"detected\",\"payments\":[{\"amount\":\"1\",\"asset\":\"BTC\","
                    "\"network\":\"bitcoin\"}],\"payments_scope\":\"none\""),
               RK_ERR_INVALID, "not empty with scope none");
    hook_fails(p, G("\"state\":\"detected\",\"payments\":[],\"order_seq\":-1"), RK_ERR_INVALID,
               "$.order_seq: not a count");
    hook_fails(p, G("\"state\":\"detected\",\"payments\":[],\"fiat\":{\"amount\":\"1\"}"),
               RK_ERR_INVALID, "$.fiat.currency: missing");
#undef G
    hook_fails(p, "{\"v\":2}", RK_ERR_INVALID, "$.v: not version 1");
    hook_fails(p, "{\"event_id\":\"e\"}", RK_ERR_INVALID, "$.v: missing");
    hook_fails(p, "{\"v\":1,\"event_id\":\"e\",\"event_type\":\"t\",\"occurred_at\":"
                  "\"2024-01-01T00:00:00Z\",\"refs\":{},\"state\":\"detected\",\"payments\":[]}",
               RK_ERR_NOTFOUND, "no reference");
    hook_fails(p, "{\"v\":1,\"event_type\":\"t\"}", RK_ERR_INVALID, "$.event_id: missing");
    hook_fails(p, "{\"v\":1,\"event_id\":\"e\",\"event_type\":\"t\",\"occurred_at\":"
                  "\"1012-01-01T00:00:00Z\"}",
               RK_ERR_INVALID, "$.occurred_at: '1012-01-01T00:00:00Z' is out of range");
    hook_fails(p, "{\"v\":1,\"event_id\":\"e\",\"event_type\":\"t\",\"occurred_at\":"
                  "\"2262-12-31T00:00:00Z\"}",
               RK_ERR_INVALID, "is out of range (1970..2261)");
    hook_fails(p, "{\"v\":1,\"event_id\":\"e\",\"event_type\":\"t\",\"occurred_at\":"
                  "\"2024-13-01T00:00:00Z\"}",
               RK_ERR_INVALID, "$.occurred_at: '2024-13-01T00:00:00Z' is not an RFC 3339");
}
END_TEST

/* Limits: long ids, deep nesting, long numbers, NULL arguments, providers. */
START_TEST(limits)
{
    char err[RK_ERROR_SIZE] = "";
    rk_adapt_event ev;
    char *b = malloc(4096), id[600];
    size_t i;

    ck_assert_ptr_nonnull(b);
    rk_adapt_event_init(&ev);
    memset(id, 'a', 513);
    id[513] = '\0';
    snprintf(b, 4096, "{\"type\":\"InvoiceCreated\",\"deliveryId\":\"%s\",\"timestamp\":1,"
                      "\"invoiceId\":\"I\"}", id);
    hook_fails("btcpay", b, RK_ERR_INVALID, "$.deliveryId: longer than 512 bytes");
    id[512] = '\0';
    snprintf(b, 4096, "{\"type\":\"InvoiceCreated\",\"deliveryId\":\"%s\",\"timestamp\":1,"
                      "\"invoiceId\":\"%s\"}", id, id);
    hook_has("btcpay", b, "\"refs\":{\"payment\":\"aaaa");
    /* nesting beyond the parser's depth is malformed, not a crash */
    for (i = 0; i < 200; i++)
        b[i] = '[';
    b[i] = '\0';
    hook_fails("generic", b, RK_ERR_INVALID, "generic: not JSON");
    snprintf(b, 4096, "{\"payment_id\":1,\"payment_status\":\"waiting\",\"updated_at\":1,"
                      "\"pay_currency\":\"btc\",\"pay_amount\":1.%070d}", 1);
    hook_fails("nowpayments", b, RK_ERR_INVALID, "nowpayments: not JSON");
    ck_assert_int_eq(rk_adapt_webhook("stripe", (const uint8_t *)"{}", 2, &ev, err),
                     RK_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err, "'stripe' is not a provider with an adapter"));
    ck_assert_int_eq(rk_adapt_webhook(NULL, (const uint8_t *)"{}", 2, &ev, err),
                     RK_ERR_INVALID);
    ck_assert_int_eq(rk_adapt_webhook("generic", NULL, 3, &ev, err), RK_ERR_INVALID);
    ck_assert_int_eq(rk_adapt_webhook_json("stripe", NULL, &ev, err), RK_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err, "'stripe' is not a provider with an adapter"));
    ck_assert_int_eq(rk_adapt_webhook_json("generic", NULL, &ev, err), RK_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err, "generic: no body"));
    ck_assert_int_eq(rk_adapt_api_read("generic", (const uint8_t *)"[]", 2, NULL, NULL, err),
                     RK_ERR_INVALID);
    ck_assert_int_eq(rk_adapt_api_read("btcpay", (const uint8_t *)"7", 1, render_item, NULL,
                                       err),
                     RK_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err, "btcpay: $: not an object or a list"));
    ck_assert(rk_adapt_known("coinbase-commerce") && rk_adapt_known("btcpay") &&
              rk_adapt_known("nowpayments") && rk_adapt_known("generic"));
    ck_assert(!rk_adapt_known("coinbase") && !rk_adapt_known(NULL) && !rk_adapt_known(""));
    rk_adapt_event_free(&ev);
    rk_adapt_event_free(NULL);
    free(b);
}
END_TEST

/* The amount text rules, directly. */
START_TEST(amount_text)
{
    static const struct {
        const char *json, *want;
        rk_err rc;
    } cases[] = {
        { "0", "0", RK_OK },
        { "0.000", "0", RK_OK },
        { "\"0.00\"", "0", RK_OK },
        { "15", "15", RK_OK },
        { "14.8106", "14.8106", RK_OK },
        { "0.09853637216235617", "0.09853637216235617", RK_OK },
        { "1e5", "100000", RK_OK },
        { "1.5E-3", "0.0015", RK_OK },
        { "1234.5e-2", "12.345", RK_OK },
        { "0.0e10", "0", RK_OK },
        { "120e-1", "12", RK_OK },
        { "\"100.00\"", "100", RK_OK },
        { "\"0.000000000000000001\"", "0.000000000000000001", RK_OK },
        { "\"99999999999999999999.999999999999999999\"",
          "99999999999999999999.999999999999999999", RK_OK },
        { "\"1e5\"", "", RK_ERR_INVALID },
        { "\"01\"", "", RK_ERR_INVALID },
        { "\".5\"", "", RK_ERR_INVALID },
        { "\"5.\"", "", RK_ERR_INVALID },
        { "\"\"", "", RK_ERR_INVALID },
        { "\"-1\"", "", RK_ERR_INVALID },
        { "-0.5", "", RK_ERR_INVALID },
        { "true", "", RK_ERR_INVALID },
        { "null", "", RK_ERR_INVALID },
        { "1e-31", "", RK_ERR_RANGE },
        { "1e38", "", RK_ERR_RANGE },
        { "\"123456789012345678901234567890.123456789\"", "", RK_ERR_RANGE },
        { "99999999999999999999999999999999999999", "99999999999999999999999999999999999999",
          RK_OK },
    };
    char out[RK_AMOUNT_STR_MAX], err[RK_ERROR_SIZE];
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *root = NULL;
        rk_err rc;

        ck_assert_int_eq(rk_json_parse(cases[i].json, strlen(cases[i].json), &root, err),
                         RK_OK);
        rc = rk_adapt_amount(root, out, "$.x", err);
        ck_assert_msg(rc == cases[i].rc, "%s: got %d (%s)", cases[i].json, (int)rc, err);
        if (rc == RK_OK)
            ck_assert_str_eq(out, cases[i].want);
        cJSON_Delete(root);
    }
}
END_TEST

/* ---- the api_read batch in a ledger -------------------------------------- */

static int64_t fixed_clock(void *ctx)
{
    (void)ctx;
    return 1709640000000000000LL;
}

static rk_err count_kinds(void *ctx, const rk_record *rec, const uint8_t *bytes, size_t len)
{
    size_t *counts = ctx;

    (void)bytes;
    (void)len;
    if (rec->kind < 16)
        counts[rec->kind]++;
    return RK_OK;
}

START_TEST(record_api_read)
{
    char *dir = rk_test_tmpdir(), err[RK_ERROR_SIZE] = "";
    rk_buf in = RK_BUF_INIT, rb = RK_BUF_INIT;
    rk_adapt_api_summary s;
    rk_ledger *l = NULL;
    rk_record rec;
    size_t counts[16] = { 0 };
    uint64_t size, seq;
    uint8_t h[RK_HASH_SIZE];

    ck_assert_int_eq(rk_ledger_create(dir, "test/adapt", 1, err), RK_OK);
    ck_assert_int_eq(rk_ledger_open(dir, 0, &l, err), RK_OK);
    rk_ledger_set_clock(l, fixed_clock, NULL);
    read_vec("cb_api_list", ".json", &in);
    ck_assert_int_eq(rk_adapt_record_api_read(l, "coinbase-commerce", in.data, in.len, &s, err),
                     RK_OK);
    ck_assert_uint_eq(s.items, 4);
    ck_assert_uint_eq(s.mapped, 1);
    ck_assert_uint_eq(s.added, 1);
    ck_assert_uint_eq(s.unchanged, 0);
    ck_assert_uint_eq(s.unmapped, 3);
    ck_assert_uint_eq(s.seq, 1);
    /* the api_read record: raw bytes exactly, the summary body */
    ck_assert_int_eq(rk_ledger_read(l, 1, &rb, &rec, err), RK_OK);
    ck_assert_uint_eq(rec.kind, RK_KIND_API_READ);
    ck_assert_uint_eq(rec.raw_len, in.len);
    ck_assert(memcmp(rec.raw, in.data, in.len) == 0);
    ck_assert_uint_eq(rec.ref_len, 0);
    {
        const char *want =
            "{\"items\":4,\"mapped\":1,\"provider\":\"coinbase-commerce\",\"unmapped\":["
            "{\"index\":1,\"reason\":\"status 'WEIRD' has no lifecycle mapping\"},"
            "{\"index\":2,\"reason\":\"$: no reference: no charge code and no order id in "
            "metadata\"},"
            "{\"index\":3,\"reason\":\"$.resource: 'checkout' is not a charge or an event\"}"
            "],\"v\":1}";
        ck_assert_msg(rec.body_len == strlen(want) && memcmp(rec.body, want, rec.body_len) == 0,
                      "body %.*s", (int)rec.body_len, (const char *)rec.body);
    }
    ck_assert_int_eq(rk_ledger_read(l, 2, &rb, &rec, err), RK_OK);
    ck_assert_uint_eq(rec.kind, RK_KIND_PROVIDER_EVENT);
    ck_assert_uint_eq(rec.ref_len, 5);
    ck_assert(memcmp(rec.ref, "INV-9", 5) == 0);
    /* the same read again: one more api_read record, no new event */
    ck_assert_int_eq(rk_adapt_record_api_read(l, "coinbase-commerce", in.data, in.len, &s, err),
                     RK_OK);
    ck_assert_uint_eq(s.added, 0);
    ck_assert_uint_eq(s.unchanged, 1);
    ck_assert_uint_eq(s.seq, 3);
    rk_ledger_head(l, &size, h);
    ck_assert_uint_eq(size, 4);
    ck_assert_int_eq(rk_ledger_scan(l, 0, UINT64_MAX, count_kinds, counts, err), RK_OK);
    ck_assert_uint_eq(counts[RK_KIND_API_READ], 2);
    ck_assert_uint_eq(counts[RK_KIND_PROVIDER_EVENT], 1);
    /* not JSON: nothing recorded */
    ck_assert_int_eq(rk_adapt_record_api_read(l, "coinbase-commerce", (const uint8_t *)"{", 1,
                                              &s, err),
                     RK_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err, "coinbase-commerce: not JSON"));
    ck_assert_int_eq(rk_adapt_record_api_read(l, "paypal", in.data, in.len, &s, err),
                     RK_ERR_INVALID);
    ck_assert_int_eq(rk_adapt_record_api_read(NULL, "generic", in.data, in.len, &s, err),
                     RK_ERR_INVALID);
    rk_ledger_head(l, &size, h);
    ck_assert_uint_eq(size, 4);
    ck_assert_int_eq(rk_ledger_find_event(l, "coinbase-commerce:api:LIST0001:"
                                             "0000",
                                          &seq, err),
                     RK_ERR_NOTFOUND);
    rk_ledger_close(l);
    rk_buf_free(&in);
    rk_buf_free(&rb);
    free(dir);
}
END_TEST

Suite *rk_test_suite(void)
{
    Suite *s = suite_create("adapt");
    TCase *tc = tcase_create("adapt");

    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, vectors_byte_for_byte, 0, (int)NVECTORS);
    tcase_add_loop_test(tc, vectors_truncated, 0, (int)NVECTORS);
    tcase_add_test(tc, coinbase_overpaid_is_needs_review);
    tcase_add_test(tc, coinbase_confirmation_spellings);
    tcase_add_test(tc, btcpay_redelivery_same_event_id);
    tcase_add_test(tc, btcpay_expiry_late_and_rbf);
    tcase_add_test(tc, nowpayments_cases);
    tcase_add_test(tc, coinbase_errors);
    tcase_add_test(tc, btcpay_errors);
    tcase_add_test(tc, generic_errors);
    tcase_add_test(tc, limits);
    tcase_add_test(tc, amount_text);
    tcase_add_test(tc, record_api_read);
    suite_add_tcase(s, tc);
    return s;
}
