/*
 * adapt_coinbase.c - Coinbase Commerce: webhook events and charge reads to
 * provider events (formats/adapters.md, "coinbase-commerce").
 *
 * The state comes from the charge's timeline (its last entry's status and
 * context), never from the event type: an overpayment arrives as
 * charge:failed with a timeline ending UNRESOLVED/OVERPAID.
 */
#include <stdio.h>
#include <string.h>

#include "adapt_int.h"

#define PROVIDER "coinbase-commerce"

/* Payment `network` spellings -> network ids; asset comes from value.crypto. */
static const rk_adapt_rail networks[] = {
    { "bitcoin", NULL, "bitcoin" },
    { "bitcoincash", NULL, "bitcoincash" },
    { "litecoin", NULL, "litecoin" },
    { "dogecoin", NULL, "dogecoin" },
    { "ethereum", NULL, "ethereum" },
    { "polygon", NULL, "polygon" },
    { "base", NULL, "base" },
    { "solana", NULL, "solana" },
    { NULL, NULL, NULL },
};

/* metadata keys holding the merchant's order reference, first one wins */
static const char *const order_keys[] = { "order_id", "orderId", "order_reference",
                                          "customer_reference", NULL };

static rk_err map_refs(const cJSON *charge, const char *at, cJSON *ev, char *err)
{
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(charge, "metadata");
    const char *code = NULL, *order = NULL;
    char path[160], id[RK_ADAPT_ID_MAX + 1];
    cJSON *refs;
    size_t i;
    rk_err rc;

    snprintf(path, sizeof path, "%s.code", at);
    rc = rk_adapt_get_str(charge, "code", 0, RK_ADAPT_ID_MAX, &code, path, err);
    if (rc != RK_OK)
        return rc;
    if (md != NULL && !cJSON_IsNull(md) && !cJSON_IsObject(md))
        return rk_seterr(err, RK_ERR_INVALID, "%s.metadata: not an object", at);
    for (i = 0; order_keys[i] != NULL && order == NULL && cJSON_IsObject(md); i++) {
        snprintf(path, sizeof path, "%s.metadata.%s", at, order_keys[i]);
        /* merchants put numbers there too */
        rc = rk_adapt_get_id(md, order_keys[i], 0, id, sizeof id, path, err);
        if (rc != RK_OK)
            return rc;
        if (id[0] != '\0')
            order = id;
    }
    if (code == NULL && order == NULL)
        return rk_seterr(err, RK_ERR_NOTFOUND, "%s: no reference: no charge code and no "
                                               "order id in metadata", at);
    refs = rk_adapt_put_obj(ev, "refs");
    if (refs == NULL)
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    if (order != NULL) {
        rc = rk_adapt_put_str(refs, "order", order, err);
        if (rc != RK_OK)
            return rc;
    }
    if (code != NULL) {
        rc = rk_adapt_put_str(refs, "payment", code, err);
        if (rc != RK_OK)
            return rc;
    }
    return RK_OK;
}

/* The last timeline entry: status, context, occurred_at, order_seq. */
static rk_err map_timeline(const cJSON *charge, const char *at, cJSON *ev, char *err)
{
    const cJSON *tl = cJSON_GetObjectItemCaseSensitive(charge, "timeline"), *last;
    const char *status, *context, *time;
    char path[160], when[RK_TIME_STR_MAX];
    int n;
    rk_err rc;

    if (tl == NULL || cJSON_IsNull(tl))
        return rk_seterr(err, RK_ERR_INVALID, "%s.timeline: missing", at);
    if (!cJSON_IsArray(tl))
        return rk_seterr(err, RK_ERR_INVALID, "%s.timeline: not an array", at);
    n = cJSON_GetArraySize(tl);
    if (n == 0)
        return rk_seterr(err, RK_ERR_NOTFOUND, "%s.timeline: empty, no status", at);
    last = cJSON_GetArrayItem(tl, n - 1);
    if (!cJSON_IsObject(last))
        return rk_seterr(err, RK_ERR_INVALID, "%s.timeline[%d]: not an object", at, n - 1);
    snprintf(path, sizeof path, "%s.timeline[%d].status", at, n - 1);
    rc = rk_adapt_get_str(last, "status", 1, 64, &status, path, err);
    if (rc != RK_OK)
        return rc;
    snprintf(path, sizeof path, "%s.timeline[%d].context", at, n - 1);
    rc = rk_adapt_get_str(last, "context", 0, 64, &context, path, err);
    if (rc != RK_OK)
        return rc;
    snprintf(path, sizeof path, "%s.timeline[%d].time", at, n - 1);
    rc = rk_adapt_get_str(last, "time", 1, 64, &time, path, err);
    if (rc == RK_OK)
        rc = rk_adapt_time_text(time, when, path, err);
    if (rc == RK_OK)
        rc = rk_adapt_put_str(ev, "occurred_at", when, err);
    if (rc == RK_OK)
        rc = rk_adapt_put_int(ev, "order_seq", (uint64_t)(n - 1), err);
    if (rc == RK_OK)
        rc = rk_adapt_put_state(ev, PROVIDER, status, context, err);
    return rc;
}

/* pricing.local -> fiat */
static rk_err map_pricing(const cJSON *charge, const char *at, cJSON *ev, char *err)
{
    const cJSON *pricing = cJSON_GetObjectItemCaseSensitive(charge, "pricing"), *local;
    const char *cur;
    char path[160], amount[RK_AMOUNT_STR_MAX];
    rk_err rc;

    if (pricing == NULL || cJSON_IsNull(pricing))
        return RK_OK;
    if (!cJSON_IsObject(pricing))
        return rk_seterr(err, RK_ERR_INVALID, "%s.pricing: not an object", at);
    local = cJSON_GetObjectItemCaseSensitive(pricing, "local");
    if (local == NULL || cJSON_IsNull(local))
        return RK_OK;
    if (!cJSON_IsObject(local))
        return rk_seterr(err, RK_ERR_INVALID, "%s.pricing.local: not an object", at);
    snprintf(path, sizeof path, "%s.pricing.local.amount", at);
    rc = rk_adapt_amount(cJSON_GetObjectItemCaseSensitive(local, "amount"), amount, path,
                         err);
    if (rc != RK_OK)
        return rc;
    snprintf(path, sizeof path, "%s.pricing.local.currency", at);
    rc = rk_adapt_get_str(local, "currency", 1, 15, &cur, path, err);
    if (rc != RK_OK)
        return rc;
    return rk_adapt_put_fiat(ev, amount, cur, err);
}

/*
 * Confirmations: real traffic says `confirmations`, the docs say
 * `confirmations_accumulated`; either, on the payment or its `block`.
 */
static rk_err get_confirmations(const cJSON *p, const char *at, uint64_t *out, int *have,
                                char *err)
{
    static const char *const keys[] = { "confirmations", "confirmations_accumulated", NULL };
    const cJSON *block = cJSON_GetObjectItemCaseSensitive(p, "block");
    const cJSON *where[2];
    char path[192];
    size_t w, k;

    *have = 0;
    if (block != NULL && !cJSON_IsNull(block) && !cJSON_IsObject(block))
        return rk_seterr(err, RK_ERR_INVALID, "%s.block: not an object", at);
    where[0] = p;
    where[1] = cJSON_IsObject(block) ? block : NULL;
    for (w = 0; w < 2; w++) {
        for (k = 0; where[w] != NULL && keys[k] != NULL; k++) {
            const cJSON *n = cJSON_GetObjectItemCaseSensitive(where[w], keys[k]);
            rk_err rc;

            if (n == NULL || cJSON_IsNull(n))
                continue;
            snprintf(path, sizeof path, "%s%s.%s", at, w ? ".block" : "", keys[k]);
            rc = rk_json_get_u64(where[w], keys[k], out, NULL);
            if (rc != RK_OK || *out > ((uint64_t)1 << 53) - 1)
                return rk_seterr(err, RK_ERR_INVALID, "%s: not a confirmation count", path);
            *have = 1;
            return RK_OK;
        }
    }
    return RK_OK;
}

static rk_err map_payment(const cJSON *p, const char *at, cJSON *arr, char *err)
{
    const cJSON *value, *crypto;
    const char *net, *cur, *tx, *status, *asset, *network;
    char path[192], amount[RK_AMOUNT_STR_MAX], up[32];
    uint64_t conf = 0;
    int have = 0;
    cJSON *o;
    rk_err rc;

    if (!cJSON_IsObject(p))
        return rk_seterr(err, RK_ERR_INVALID, "%s: not an object", at);
    value = cJSON_GetObjectItemCaseSensitive(p, "value");
    crypto = cJSON_IsObject(value) ? cJSON_GetObjectItemCaseSensitive(value, "crypto") : NULL;
    if (!cJSON_IsObject(crypto))
        return rk_seterr(err, RK_ERR_INVALID, "%s.value.crypto: missing or not an object", at);
    snprintf(path, sizeof path, "%s.value.crypto.amount", at);
    rc = rk_adapt_amount(cJSON_GetObjectItemCaseSensitive(crypto, "amount"), amount, path,
                         err);
    if (rc != RK_OK)
        return rc;
    snprintf(path, sizeof path, "%s.value.crypto.currency", at);
    rc = rk_adapt_get_str(crypto, "currency", 1, 31, &cur, path, err);
    if (rc != RK_OK)
        return rc;
    snprintf(path, sizeof path, "%s.network", at);
    rc = rk_adapt_get_str(p, "network", 1, 64, &net, path, err);
    if (rc != RK_OK)
        return rc;
    snprintf(path, sizeof path, "%s.transaction_id", at);
    rc = rk_adapt_get_str(p, "transaction_id", 0, RK_ADAPT_ID_MAX, &tx, path, err);
    if (rc != RK_OK)
        return rc;
    snprintf(path, sizeof path, "%s.status", at);
    rc = rk_adapt_get_str(p, "status", 0, 64, &status, path, err);
    if (rc != RK_OK)
        return rc;
    rc = get_confirmations(p, at, &conf, &have, err);
    if (rc != RK_OK)
        return rc;
    if (!rk_adapt_rail_find(networks, net, &asset, &network))
        network = "unknown";
    o = cJSON_CreateObject();
    if (o == NULL)
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    cJSON_AddItemToArray(arr, o);
    rc = rk_adapt_put_str(o, "amount", amount, err);
    if (rc == RK_OK)
        rc = rk_adapt_put_str(o, "asset", rk_adapt_upper(cur, up, sizeof up), err);
    if (rc == RK_OK)
        rc = rk_adapt_put_str(o, "network", network, err);
    if (rc == RK_OK && tx != NULL)
        rc = rk_adapt_put_str(o, "tx", tx, err);
    if (rc == RK_OK && have)
        rc = rk_adapt_put_int(o, "confirmations", conf, err);
    if (rc == RK_OK && status != NULL)
        rc = rk_adapt_put_str(o, "status", status, err);
    return rc;
}

static rk_err map_payments(const cJSON *charge, const char *at, cJSON *ev, char *err)
{
    const cJSON *ps = cJSON_GetObjectItemCaseSensitive(charge, "payments"), *p, *list;
    char path[160];
    cJSON *arr;
    int i = 0;
    rk_err rc;

    if (ps != NULL && !cJSON_IsNull(ps) && !cJSON_IsArray(ps))
        return rk_seterr(err, RK_ERR_INVALID, "%s.payments: not an array", at);
    arr = rk_adapt_put_arr(ev, "payments");
    if (arr == NULL || rk_adapt_put_str(ev, "payments_scope", "all", err) != RK_OK)
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    list = cJSON_IsArray(ps) ? ps : NULL;
    cJSON_ArrayForEach(p, list)
    {
        snprintf(path, sizeof path, "%s.payments[%d]", at, i++);
        rc = map_payment(p, path, arr, err);
        if (rc != RK_OK)
            return rc;
    }
    return RK_OK;
}

static rk_err map_charge(const cJSON *charge, const char *at, cJSON *ev, char *err)
{
    rk_err rc;

    if (!cJSON_IsObject(charge))
        return rk_seterr(err, RK_ERR_INVALID, "%s: not a charge object", at);
    rc = map_refs(charge, at, ev, err);
    if (rc == RK_OK)
        rc = map_timeline(charge, at, ev, err);
    if (rc == RK_OK)
        rc = map_pricing(charge, at, ev, err);
    if (rc == RK_OK)
        rc = map_payments(charge, at, ev, err);
    return rc;
}

/* An event object {"id","type","data":charge}: webhook `event` or an event read. */
static rk_err map_event(const cJSON *event, const char *at, int with_id, cJSON *ev,
                        char *err)
{
    const char *id = NULL, *type;
    char path[96];
    rk_err rc;

    if (!cJSON_IsObject(event))
        return rk_seterr(err, RK_ERR_INVALID, "%s: missing or not an object", at);
    if (with_id) {
        snprintf(path, sizeof path, "%s.id", at);
        rc = rk_adapt_get_str(event, "id", 1, RK_ADAPT_ID_MAX, &id, path, err);
        if (rc != RK_OK)
            return rc;
    }
    snprintf(path, sizeof path, "%s.type", at);
    rc = rk_adapt_get_str(event, "type", 1, 128, &type, path, err);
    if (rc != RK_OK)
        return rc;
    if (strncmp(type, "charge:", 7) != 0)
        return rk_seterr(err, RK_ERR_NOTFOUND, "%s: '%.64s' is not a charge event", path,
                         type);
    if (id != NULL) {
        rc = rk_adapt_put_str(ev, "event_id", id, err);
        if (rc != RK_OK)
            return rc;
    }
    rc = rk_adapt_put_str(ev, "event_type", type, err);
    if (rc != RK_OK)
        return rc;
    snprintf(path, sizeof path, "%s.data", at);
    return map_charge(cJSON_GetObjectItemCaseSensitive(event, "data"), path, ev, err);
}

rk_err rk_adapt_coinbase_map(const cJSON *node, int source, cJSON *ev, char *err)
{
    const char *resource = NULL;
    rk_err rc;

    if (!cJSON_IsObject(node))
        return rk_seterr(err, RK_ERR_INVALID, "$: not an object");
    if (source == RK_ADAPT_WEBHOOK)
        return map_event(cJSON_GetObjectItemCaseSensitive(node, "event"), "$.event", 1, ev,
                         err);
    /* An API read holds charges, or events (GET /events) that carry one. */
    rc = rk_adapt_get_str(node, "resource", 0, 32, &resource, "$.resource", err);
    if (rc != RK_OK)
        return rc;
    if (resource != NULL && strcmp(resource, "event") == 0)
        return map_event(node, "$", 0, ev, err);
    if (resource != NULL && strcmp(resource, "charge") != 0)
        return rk_seterr(err, RK_ERR_NOTFOUND, "$.resource: '%.32s' is not a charge or an "
                                               "event", resource);
    rc = rk_adapt_put_str(ev, "event_type", "charge", err);
    if (rc == RK_OK)
        rc = map_charge(node, "$", ev, err);
    return rc;
}
