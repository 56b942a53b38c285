/*
 * adapt_nowpayments.c - NOWPayments: IPN bodies and GET /payment reads to
 * provider events (formats/adapters.md, "nowpayments").
 *
 * NOWPayments sends amounts as JSON numbers with fractions; they are read
 * from their source text (rk_adapt_amount), never through a double.  There
 * is no event id: a retry of one status resends the same payment_id,
 * payment_status and updated_at, so the three together identify the event.
 */
#include <stdio.h>
#include <string.h>

#include "adapt_int.h"

#define PROVIDER "nowpayments"

/* pay_currency codes -> rail (codes as NOWPayments lists them, lower case). */
static const rk_adapt_rail currencies[] = {
    { "btc", "BTC", "bitcoin" },
    { "ltc", "LTC", "litecoin" },
    { "bch", "BCH", "bitcoincash" },
    { "doge", "DOGE", "dogecoin" },
    { "eth", "ETH", "ethereum" },
    { "trx", "TRX", "tron" },
    { "sol", "SOL", "solana" },
    { "xrp", "XRP", "xrp" },
    { "xlm", "XLM", "stellar" },
    { "maticmainnet", "POL", "polygon" },
    { "bnbbsc", "BNB", "bsc" },
    { "usdttrc20", "USDT", "tron" },
    { "usdterc20", "USDT", "ethereum" },
    { "usdtbsc", "USDT", "bsc" },
    { "usdtsol", "USDT", "solana" },
    { "usdtmatic", "USDT", "polygon" },
    { "usdc", "USDC", "ethereum" },
    { "usdcsol", "USDC", "solana" },
    { "usdcmatic", "USDC", "polygon" },
    { "usdcbsc", "USDC", "bsc" },
    { "usdcbase", "USDC", "base" },
    { NULL, NULL, NULL },
};

static void rail_of(const char *code, char *buf, size_t cap, const char **asset,
                    const char **network)
{
    if (rk_adapt_rail_find(currencies, code, asset, network))
        return;
    *asset = rk_adapt_upper(code, buf, cap);
    *network = "unknown";
}

/* updated_at: ms since 1970 as a number (IPN) or RFC 3339 text (API). */
static rk_err get_updated(const cJSON *node, const char *key, char *text, size_t cap,
                          char when[RK_TIME_STR_MAX], char *err)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(node, key);
    char path[32];
    uint64_t ms;
    size_t len;

    snprintf(path, sizeof path, "$.%s", key);
    text[0] = '\0';
    if (n == NULL || cJSON_IsNull(n))
        return rk_seterr(err, RK_ERR_INVALID, "%s: missing", path);
    if (cJSON_IsNumber(n)) {
        if (rk_json_get_u64(node, key, &ms, NULL) != RK_OK)
            return rk_seterr(err, RK_ERR_INVALID, "%s: not a time in milliseconds", path);
        snprintf(text, cap, "%llu", (unsigned long long)ms);
        return rk_adapt_time_unix(ms, 1000, when, path, err);
    }
    if (!cJSON_IsString(n))
        return rk_seterr(err, RK_ERR_INVALID, "%s: not a time", path);
    len = strlen(n->valuestring);
    if (len + 1 > cap)
        return rk_seterr(err, RK_ERR_INVALID, "%s: not a time", path);
    memcpy(text, n->valuestring, len + 1);
    return rk_adapt_time_text(n->valuestring, when, path, err);
}

static rk_err put_refs(const cJSON *node, const char *payment, cJSON *ev, char *err)
{
    char order[RK_ADAPT_ID_MAX + 1], parent[RK_ADAPT_ID_MAX + 1];
    cJSON *refs;
    rk_err rc;

    rc = rk_adapt_get_id(node, "order_id", 0, order, sizeof order, "$.order_id", err);
    if (rc == RK_OK)
        rc = rk_adapt_get_id(node, "parent_payment_id", 0, parent, sizeof parent,
                             "$.parent_payment_id", err);
    if (rc != RK_OK)
        return rc;
    refs = rk_adapt_put_obj(ev, "refs");
    if (refs == NULL)
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    if (order[0] != '\0')
        rc = rk_adapt_put_str(refs, "order", order, err);
    if (rc == RK_OK)
        rc = rk_adapt_put_str(refs, "payment", payment, err);
    if (rc == RK_OK && parent[0] != '\0')
        rc = rk_adapt_put_str(refs, "parent", parent, err);
    return rc;
}

/* An optional amount member: *have 0 when absent or null. */
static rk_err opt_amount(const cJSON *node, const char *key, char out[RK_AMOUNT_STR_MAX],
                         int *have, char *err)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(node, key);
    char path[40];

    *have = 0;
    if (n == NULL || cJSON_IsNull(n))
        return RK_OK;
    snprintf(path, sizeof path, "$.%s", key);
    *have = 1;
    return rk_adapt_amount(n, out, path, err);
}

/* expected (pay_amount), fiat (price_amount), payments (actually_paid). */
static rk_err put_amounts(const cJSON *node, cJSON *ev, char *err)
{
    char pay[RK_AMOUNT_STR_MAX], price[RK_AMOUNT_STR_MAX], paid[RK_AMOUNT_STR_MAX];
    char abuf[32];
    const char *cur = NULL, *fiatcur = NULL, *asset = NULL, *network = NULL, *tx, *memo;
    int have_pay, have_price, have_paid;
    cJSON *o, *arr;
    rk_err rc;

    rc = opt_amount(node, "pay_amount", pay, &have_pay, err);
    if (rc == RK_OK)
        rc = opt_amount(node, "price_amount", price, &have_price, err);
    if (rc == RK_OK)
        rc = opt_amount(node, "actually_paid", paid, &have_paid, err);
    if (rc == RK_OK)
        rc = rk_adapt_get_str(node, "pay_currency", have_pay || have_paid, 31, &cur,
                              "$.pay_currency", err);
    if (rc == RK_OK)
        rc = rk_adapt_get_str(node, "price_currency", have_price, 15, &fiatcur,
                              "$.price_currency", err);
    if (rc == RK_OK)
        rc = rk_adapt_get_str(node, "payin_hash", 0, RK_ADAPT_ID_MAX, &tx, "$.payin_hash",
                              err);
    if (rc == RK_OK)
        rc = rk_adapt_get_str(node, "payin_extra_id", 0, RK_ADAPT_ID_MAX, &memo,
                              "$.payin_extra_id", err);
    if (rc != RK_OK)
        return rc;
    if (cur != NULL)
        rail_of(cur, abuf, sizeof abuf, &asset, &network);
    if (have_pay) {
        o = rk_adapt_put_obj(ev, "expected");
        if (o == NULL)
            return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
        rc = rk_adapt_put_str(o, "amount", pay, err);
        if (rc == RK_OK)
            rc = rk_adapt_put_str(o, "asset", asset, err);
        if (rc == RK_OK)
            rc = rk_adapt_put_str(o, "network", network, err);
        if (rc != RK_OK)
            return rc;
    }
    if (have_price) {
        rc = rk_adapt_put_fiat(ev, price, fiatcur, err);
        if (rc != RK_OK)
            return rc;
    }
    arr = rk_adapt_put_arr(ev, "payments");
    if (arr == NULL || rk_adapt_put_str(ev, "payments_scope", "all", err) != RK_OK)
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    /* One payment per payment_id; actually_paid is its running total. */
    if (!have_paid || strcmp(paid, "0") == 0)
        return RK_OK;
    o = cJSON_CreateObject();
    if (o == NULL)
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    cJSON_AddItemToArray(arr, o);
    rc = rk_adapt_put_str(o, "amount", paid, err);
    if (rc == RK_OK)
        rc = rk_adapt_put_str(o, "asset", asset, err);
    if (rc == RK_OK)
        rc = rk_adapt_put_str(o, "network", network, err);
    if (rc == RK_OK && tx != NULL)
        rc = rk_adapt_put_str(o, "tx", tx, err);
    if (rc == RK_OK && memo != NULL)
        rc = rk_adapt_put_str(o, "memo", memo, err);
    return rc;
}

rk_err rk_adapt_nowpayments_map(const cJSON *node, int source, cJSON *ev, char *err)
{
    char payment[RK_ADAPT_ID_MAX + 1], updated[RK_ADAPT_ID_MAX + 1], when[RK_TIME_STR_MAX];
    const char *status;
    rk_buf id = RK_BUF_INIT;
    rk_err rc;

    if (!cJSON_IsObject(node))
        return rk_seterr(err, RK_ERR_INVALID, "$: not an object");
    rc = rk_adapt_get_id(node, "payment_id", 1, payment, sizeof payment, "$.payment_id", err);
    if (rc == RK_OK)
        rc = rk_adapt_get_str(node, "payment_status", 1, 64, &status, "$.payment_status",
                              err);
    if (rc == RK_OK) {
        /* a payment read may not have been updated since it was created */
        const char *key = "updated_at";

        if (source == RK_ADAPT_API &&
            cJSON_GetObjectItemCaseSensitive(node, "updated_at") == NULL &&
            cJSON_GetObjectItemCaseSensitive(node, "created_at") != NULL)
            key = "created_at";
        rc = get_updated(node, key, updated, sizeof updated, when, err);
    }
    if (rc != RK_OK)
        return rc;
    if (source == RK_ADAPT_WEBHOOK) {
        rc = rk_buf_printf(&id, "%s:%s:%s", payment, status, updated);
        if (rc != RK_OK)
            return rk_seterr(err, rc, "out of memory");
        rc = rk_adapt_put_str(ev, "event_id", (const char *)id.data, err);
        rk_buf_free(&id);
    }
    if (rc == RK_OK)
        rc = rk_adapt_put_str(ev, "event_type",
                              source == RK_ADAPT_WEBHOOK ? status : "payment", err);
    if (rc == RK_OK)
        rc = rk_adapt_put_str(ev, "occurred_at", when, err);
    if (rc == RK_OK)
        rc = put_refs(node, payment, ev, err);
    if (rc == RK_OK)
        rc = rk_adapt_put_state(ev, PROVIDER, status, NULL, err);
    if (rc == RK_OK)
        rc = put_amounts(node, ev, err);
    return rc;
}
