/*
 * adapt_btcpay.c - BTCPay Server: invoice webhooks and Greenfield invoice
 * reads to provider events (formats/adapters.md, "btcpay").
 *
 * Webhooks carry the invoice id but no order reference unless the invoice
 * metadata is included; the event id is the original delivery id, so a
 * redelivery maps to the event it repeats.
 */
#include <stdio.h>
#include <string.h>

#include "adapt_int.h"

#define PROVIDER "btcpay"

/* The invoice event types (swagger.template.webhooks.json). */
static const char *const invoice_types[] = {
    "InvoiceCreated", "InvoiceReceivedPayment", "InvoiceProcessing", "InvoiceExpired",
    "InvoiceSettled", "InvoiceInvalid",         "InvoicePaymentSettled", NULL,
};

/* The flags of a payload, by the precedence lifecycle.h documents. */
static const char *const flags[] = { "manuallyMarked", "afterExpiration", "partiallyPaid",
                                     "overPaid", NULL };

/* Payment method ids (new "-CHAIN"/"-LN" and legacy spellings) -> rail. */
static const rk_adapt_rail methods[] = {
    { "BTC", "BTC", "bitcoin" },
    { "BTC-CHAIN", "BTC", "bitcoin" },
    { "BTC-OnChain", "BTC", "bitcoin" },
    { "BTC-LN", "BTC", "lightning" },
    { "BTC-LNURL", "BTC", "lightning" },
    { "BTC-LightningNetwork", "BTC", "lightning" },
    { "BTC-LNURLPAY", "BTC", "lightning" },
    { "LTC", "LTC", "litecoin" },
    { "LTC-CHAIN", "LTC", "litecoin" },
    { "LTC-OnChain", "LTC", "litecoin" },
    { NULL, NULL, NULL },
};

/* Invoice currencies that are crypto assets (the rest are fiat). */
static const rk_adapt_rail crypto_currencies[] = {
    { "BTC", "BTC", "bitcoin" },
    { "LTC", "LTC", "litecoin" },
    { NULL, NULL, NULL },
};

static int is_invoice_type(const char *t)
{
    size_t i;

    for (i = 0; invoice_types[i] != NULL; i++)
        if (strcmp(invoice_types[i], t) == 0)
            return 1;
    return 0;
}

/* refs: metadata.orderId (string or number) and the invoice id */
static rk_err put_refs(const cJSON *obj, const char *id_key, const char *at, cJSON *ev,
                       char *err)
{
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    char path[96], order[RK_ADAPT_ID_MAX + 1], inv[RK_ADAPT_ID_MAX + 1];
    cJSON *refs;
    rk_err rc;

    snprintf(path, sizeof path, "%s.%s", at, id_key);
    rc = rk_adapt_get_id(obj, id_key, 0, inv, sizeof inv, path, err);
    if (rc != RK_OK)
        return rc;
    if (md != NULL && !cJSON_IsNull(md) && !cJSON_IsObject(md))
        return rk_seterr(err, RK_ERR_INVALID, "%s.metadata: not an object", at);
    snprintf(path, sizeof path, "%s.metadata.orderId", at);
    rc = rk_adapt_get_id(md, "orderId", 0, order, sizeof order, path, err);
    if (rc != RK_OK)
        return rc;
    refs = rk_adapt_put_obj(ev, "refs");
    if (refs == NULL)
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    if (order[0] != '\0') {
        rc = rk_adapt_put_str(refs, "order", order, err);
        if (rc != RK_OK)
            return rc;
    }
    if (inv[0] != '\0') {
        rc = rk_adapt_put_str(refs, "payment", inv, err);
        if (rc != RK_OK)
            return rc;
    }
    return RK_OK;
}

/* Asset and network of a payment method id; unknown ones keep their prefix. */
static void method_rail(const char *method, char *asset_buf, size_t cap, const char **asset,
                        const char **network)
{
    const char *dash;
    size_t n;

    if (rk_adapt_rail_find(methods, method, asset, network))
        return;
    dash = strchr(method, '-');
    n = dash != NULL ? (size_t)(dash - method) : strlen(method);
    if (n >= cap)
        n = cap - 1;
    memcpy(asset_buf, method, n);
    asset_buf[n] = '\0';
    rk_adapt_upper(asset_buf, asset_buf, cap);
    *asset = asset_buf;
    *network = "unknown";
}

/* "<64 hex>-<vout>" -> the transaction id; anything else is kept whole. */
static void payment_tx(const char *id, char *tx, size_t cap)
{
    size_t i, n = strlen(id);
    int ok = n > 65 && id[64] == '-';

    for (i = 0; ok && i < 64; i++)
        ok = (id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f');
    for (i = 65; ok && i < n; i++)
        ok = id[i] >= '0' && id[i] <= '9';
    n = ok ? 64 : n;
    if (n >= cap)
        n = cap - 1;
    memcpy(tx, id, n);
    tx[n] = '\0';
}

/*
 * One Greenfield Payment {id, receivedDate, value, fee, status, destination}
 * appended to arr; *latest is raised to its receivedDate.
 */
static rk_err put_payment(const cJSON *p, const char *method, const char *at, cJSON *arr,
                          uint64_t *latest, char *err)
{
    const char *id, *status, *asset, *network;
    char path[160], amount[RK_AMOUNT_STR_MAX], tx[RK_ADAPT_ID_MAX + 1], abuf[16];
    uint64_t when = 0;
    cJSON *o;
    rk_err rc;

    if (!cJSON_IsObject(p))
        return rk_seterr(err, RK_ERR_INVALID, "%s: not an object", at);
    snprintf(path, sizeof path, "%s.id", at);
    rc = rk_adapt_get_str(p, "id", 1, RK_ADAPT_ID_MAX, &id, path, err);
    if (rc != RK_OK)
        return rc;
    snprintf(path, sizeof path, "%s.value", at);
    rc = rk_adapt_amount(cJSON_GetObjectItemCaseSensitive(p, "value"), amount, path, err);
    if (rc != RK_OK)
        return rc;
    snprintf(path, sizeof path, "%s.status", at);
    rc = rk_adapt_get_str(p, "status", 0, 64, &status, path, err);
    if (rc != RK_OK)
        return rc;
    if (cJSON_GetObjectItemCaseSensitive(p, "receivedDate") != NULL) {
        if (rk_json_get_u64(p, "receivedDate", &when, NULL) != RK_OK)
            return rk_seterr(err, RK_ERR_INVALID, "%s.receivedDate: not a unix time", at);
        if (when > *latest)
            *latest = when;
    }
    method_rail(method, abuf, sizeof abuf, &asset, &network);
    payment_tx(id, tx, sizeof tx);
    o = cJSON_CreateObject();
    if (o == NULL)
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    cJSON_AddItemToArray(arr, o);
    rc = rk_adapt_put_str(o, "amount", amount, err);
    if (rc == RK_OK)
        rc = rk_adapt_put_str(o, "asset", asset, err);
    if (rc == RK_OK)
        rc = rk_adapt_put_str(o, "network", network, err);
    if (rc == RK_OK)
        rc = rk_adapt_put_str(o, "id", id, err);
    if (rc == RK_OK && strcmp(network, "lightning") != 0)
        rc = rk_adapt_put_str(o, "tx", tx, err);
    if (rc == RK_OK && status != NULL)
        rc = rk_adapt_put_str(o, "status", status, err);
    return rc;
}

static rk_err map_webhook(const cJSON *node, cJSON *ev, char *err)
{
    const char *type, *delivery, *original, *context = NULL, *method = NULL;
    const cJSON *payment;
    char when[RK_TIME_STR_MAX], path[64];
    uint64_t ts, latest = 0;
    int redelivery, on;
    cJSON *arr;
    size_t i;
    rk_err rc;

    rc = rk_adapt_get_str(node, "type", 1, 128, &type, "$.type", err);
    if (rc != RK_OK)
        return rc;
    if (!is_invoice_type(type))
        return rk_seterr(err, RK_ERR_NOTFOUND, "$.type: '%.64s' is not an invoice event",
                         type);
    rc = rk_adapt_get_str(node, "deliveryId", 1, RK_ADAPT_ID_MAX, &delivery, "$.deliveryId",
                          err);
    if (rc == RK_OK)
        rc = rk_adapt_get_str(node, "originalDeliveryId", 0, RK_ADAPT_ID_MAX, &original,
                              "$.originalDeliveryId", err);
    if (rc == RK_OK)
        rc = rk_adapt_get_bool(node, "isRedelivery", &redelivery, "$.isRedelivery", err);
    if (rc != RK_OK)
        return rc;
    if (cJSON_GetObjectItemCaseSensitive(node, "timestamp") == NULL)
        return rk_seterr(err, RK_ERR_INVALID, "$.timestamp: missing");
    if (rk_json_get_u64(node, "timestamp", &ts, NULL) != RK_OK)
        return rk_seterr(err, RK_ERR_INVALID, "$.timestamp: not a unix time in seconds");
    rc = rk_adapt_time_unix(ts, 1, when, "$.timestamp", err);
    if (rc != RK_OK)
        return rc;
    for (i = 0; flags[i] != NULL; i++) {
        snprintf(path, sizeof path, "$.%s", flags[i]);
        rc = rk_adapt_get_bool(node, flags[i], &on, path, err);
        if (rc != RK_OK)
            return rc;
        if (on && context == NULL)
            context = flags[i];
    }
    rc = rk_adapt_put_str(ev, "event_id", original != NULL ? original : delivery, err);
    if (rc == RK_OK)
        rc = rk_adapt_put_str(ev, "event_type", type, err);
    if (rc == RK_OK)
        rc = rk_adapt_put_str(ev, "occurred_at", when, err);
    if (rc == RK_OK)
        rc = put_refs(node, "invoiceId", "$", ev, err);
    if (rc == RK_OK)
        rc = rk_adapt_put_state(ev, PROVIDER, type, context, err);
    if (rc != RK_OK)
        return rc;
    arr = rk_adapt_put_arr(ev, "payments");
    if (arr == NULL)
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    payment = cJSON_GetObjectItemCaseSensitive(node, "payment");
    if (payment == NULL || cJSON_IsNull(payment))
        return rk_adapt_put_str(ev, "payments_scope", "none", err);
    rc = rk_adapt_get_str(node, "paymentMethodId", 1, 64, &method, "$.paymentMethodId", err);
    if (rc == RK_OK)
        rc = put_payment(payment, method, "$.payment", arr, &latest, err);
    if (rc == RK_OK)
        rc = rk_adapt_put_str(ev, "payments_scope", "some", err);
    return rc;
}

/* paymentMethods[] of an invoice read: each method's payments. */
static rk_err put_methods(const cJSON *node, cJSON *ev, uint64_t *latest, char *err)
{
    const cJSON *pms = cJSON_GetObjectItemCaseSensitive(node, "paymentMethods"), *pm, *ps, *p;
    const char *method;
    char path[128];
    cJSON *arr = rk_adapt_put_arr(ev, "payments");
    int i = 0, j;
    rk_err rc;

    if (arr == NULL)
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    if (pms == NULL || cJSON_IsNull(pms))
        return rk_adapt_put_str(ev, "payments_scope", "none", err);
    if (!cJSON_IsArray(pms))
        return rk_seterr(err, RK_ERR_INVALID, "$.paymentMethods: not an array");
    cJSON_ArrayForEach(pm, pms)
    {
        if (!cJSON_IsObject(pm))
            return rk_seterr(err, RK_ERR_INVALID, "$.paymentMethods[%d]: not an object", i);
        snprintf(path, sizeof path, "$.paymentMethods[%d].paymentMethodId", i);
        rc = rk_adapt_get_str(pm, "paymentMethodId", 0, 64, &method, path, err);
        if (rc == RK_OK && method == NULL) { /* before 2.0: paymentMethod */
            snprintf(path, sizeof path, "$.paymentMethods[%d].paymentMethod", i);
            rc = rk_adapt_get_str(pm, "paymentMethod", 1, 64, &method, path, err);
        }
        if (rc != RK_OK)
            return rc;
        ps = cJSON_GetObjectItemCaseSensitive(pm, "payments");
        if (ps != NULL && !cJSON_IsNull(ps) && !cJSON_IsArray(ps))
            return rk_seterr(err, RK_ERR_INVALID, "$.paymentMethods[%d].payments: not an "
                                                  "array", i);
        j = 0;
        cJSON_ArrayForEach(p, ps)
        {
            snprintf(path, sizeof path, "$.paymentMethods[%d].payments[%d]", i, j++);
            rc = put_payment(p, method, path, arr, latest, err);
            if (rc != RK_OK)
                return rc;
        }
        i++;
    }
    return rk_adapt_put_str(ev, "payments_scope", "all", err);
}

/* amount + currency: a crypto currency is what is expected, fiat the price. */
static rk_err put_price(const cJSON *node, cJSON *ev, char *err)
{
    const cJSON *an = cJSON_GetObjectItemCaseSensitive(node, "amount");
    const char *cur, *asset, *network;
    char amount[RK_AMOUNT_STR_MAX], up[16];
    cJSON *o;
    rk_err rc;

    if (an == NULL || cJSON_IsNull(an))
        return RK_OK;
    rc = rk_adapt_amount(an, amount, "$.amount", err);
    if (rc != RK_OK)
        return rc;
    rc = rk_adapt_get_str(node, "currency", 1, 15, &cur, "$.currency", err);
    if (rc != RK_OK)
        return rc;
    rk_adapt_upper(cur, up, sizeof up);
    if (rk_adapt_rail_find(crypto_currencies, up, &asset, &network)) {
        o = rk_adapt_put_obj(ev, "expected");
        if (o == NULL)
            return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
        rc = rk_adapt_put_str(o, "amount", amount, err);
        if (rc == RK_OK)
            rc = rk_adapt_put_str(o, "asset", asset, err);
        if (rc == RK_OK)
            rc = rk_adapt_put_str(o, "network", network, err);
        return rc;
    }
    return rk_adapt_put_fiat(ev, amount, up, err);
}

static rk_err get_time(const cJSON *node, const char *key, int required, uint64_t *out,
                       char *err)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(node, key);

    *out = 0;
    if (n == NULL || cJSON_IsNull(n)) {
        if (required)
            return rk_seterr(err, RK_ERR_INVALID, "$.%s: missing", key);
        return RK_OK;
    }
    if (rk_json_get_u64(node, key, out, NULL) != RK_OK)
        return rk_seterr(err, RK_ERR_INVALID, "$.%s: not a unix time in seconds", key);
    return RK_OK;
}

/*
 * A Greenfield invoice.  It has no "updated" time, so occurred_at is the
 * latest time it shows: createdTime, any payment's receivedDate, and
 * expirationTime once the status says the invoice expired or went invalid.
 */
static rk_err map_invoice(const cJSON *node, cJSON *ev, char *err)
{
    const char *status, *additional;
    char when[RK_TIME_STR_MAX];
    uint64_t created, expires, latest;
    rk_err rc;

    rc = rk_adapt_get_str(node, "status", 1, 64, &status, "$.status", err);
    if (rc == RK_OK)
        rc = rk_adapt_get_str(node, "additionalStatus", 0, 64, &additional,
                              "$.additionalStatus", err);
    if (rc == RK_OK)
        rc = get_time(node, "createdTime", 1, &created, err);
    if (rc == RK_OK)
        rc = get_time(node, "expirationTime", 0, &expires, err);
    if (rc != RK_OK)
        return rc;
    if (additional != NULL && strcmp(additional, "None") == 0)
        additional = NULL;
    latest = created;
    if ((strcmp(status, "Expired") == 0 || strcmp(status, "Invalid") == 0) &&
        expires > latest)
        latest = expires;
    rc = rk_adapt_put_str(ev, "event_type", "invoice", err);
    if (rc == RK_OK)
        rc = put_refs(node, "id", "$", ev, err);
    if (rc == RK_OK)
        rc = rk_adapt_put_state(ev, PROVIDER, status, additional, err);
    if (rc == RK_OK)
        rc = put_price(node, ev, err);
    if (rc == RK_OK)
        rc = put_methods(node, ev, &latest, err);
    if (rc == RK_OK)
        rc = rk_adapt_time_unix(latest, 1, when, "$.createdTime", err);
    if (rc == RK_OK)
        rc = rk_adapt_put_str(ev, "occurred_at", when, err);
    return rc;
}

rk_err rk_adapt_btcpay_map(const cJSON *node, int source, cJSON *ev, char *err)
{
    if (!cJSON_IsObject(node))
        return rk_seterr(err, RK_ERR_INVALID, "$: not an object");
    return source == RK_ADAPT_WEBHOOK ? map_webhook(node, ev, err) : map_invoice(node, ev, err);
}
