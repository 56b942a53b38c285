/*
 * adapt_generic.c - the generic provider: our own JSON event for in-house
 * providers (formats/adapters.md, "generic"), validated strictly: unknown
 * members, wrong types and bad values are rejected, never ignored.
 */
#include <stdio.h>
#include <string.h>

#include "adapt_int.h"

#define PROVIDER "generic"

static const char *const top_keys[] = {
    "v", "event_id", "event_type", "occurred_at", "order_seq", "refs", "state", "reason",
    "flag", "expected", "fiat", "payments", "payments_scope", NULL,
};
static const char *const ref_keys[] = { "order", "payment", "parent", NULL };
static const char *const expected_keys[] = { "amount", "asset", "network", "contract", NULL };
static const char *const fiat_keys[] = { "amount", "currency", NULL };
static const char *const payment_keys[] = { "amount", "asset",  "network", "contract",
                                            "tx",     "id",     "confirmations",
                                            "finalized", "memo", "status", NULL };

/* Reject members not in keys. */
static rk_err only(const cJSON *obj, const char *const *keys, const char *at, char *err)
{
    const cJSON *m;
    size_t i;

    if (!cJSON_IsObject(obj))
        return rk_seterr(err, RK_ERR_INVALID, "%s: not an object", at);
    cJSON_ArrayForEach(m, obj)
    {
        for (i = 0; keys[i] != NULL; i++)
            if (strcmp(keys[i], m->string) == 0)
                break;
        if (keys[i] == NULL)
            return rk_seterr(err, RK_ERR_INVALID, "%s: unknown member '%.64s'", at,
                             m->string);
    }
    return RK_OK;
}

/* Characters an identifier-like value may hold: ASCII [A-Za-z0-9._:-]. */
static int plain(const char *s, int upper_only, int lower_only)
{
    size_t i;

    for (i = 0; s[i] != '\0'; i++) {
        char c = s[i];

        if (c >= '0' && c <= '9')
            continue;
        if (c >= 'A' && c <= 'Z' && !lower_only)
            continue;
        if (c >= 'a' && c <= 'z' && !upper_only)
            continue;
        if ((c == '.' || c == '_' || c == '-' || c == ':') && !upper_only)
            continue;
        return 0;
    }
    return i > 0;
}

/*
 * Copy string member key (required or not) into dst, checked with plain()
 * when kind is 'A' (asset: upper case), 'n' (network: lower case).
 */
static rk_err copy_str(const cJSON *src, const char *key, int required, size_t max, int kind,
                       cJSON *dst, const char *at, char *err)
{
    const char *v;
    char path[128];
    rk_err rc;

    snprintf(path, sizeof path, "%s.%s", at, key);
    rc = rk_adapt_get_str(src, key, required, max, &v, path, err);
    if (rc != RK_OK || v == NULL)
        return rc;
    if ((kind == 'A' && !plain(v, 1, 0)) || (kind == 'n' && !plain(v, 0, 1)))
        return rk_seterr(err, RK_ERR_INVALID, "%s: '%.64s' is not an %s", path, v,
                         kind == 'A' ? "upper-case asset symbol" : "lower-case network id");
    return rk_adapt_put_str(dst, key, v, err);
}

static rk_err copy_amount(const cJSON *src, cJSON *dst, const char *at, char *err)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(src, "amount");
    char path[128], amount[RK_AMOUNT_STR_MAX];
    rk_err rc;

    snprintf(path, sizeof path, "%s.amount", at);
    if (n == NULL)
        return rk_seterr(err, RK_ERR_INVALID, "%s: missing", path);
    if (!cJSON_IsString(n)) /* our own format: amounts are strings */
        return rk_seterr(err, RK_ERR_INVALID, "%s: not a string", path);
    rc = rk_adapt_amount(n, amount, path, err);
    if (rc == RK_OK)
        rc = rk_adapt_put_str(dst, "amount", amount, err);
    return rc;
}

static rk_err copy_payment(const cJSON *p, cJSON *arr, const char *at, char *err)
{
    const cJSON *conf = cJSON_GetObjectItemCaseSensitive(p, "confirmations");
    const char *fin;
    char path[128];
    uint64_t c;
    cJSON *o;
    rk_err rc;

    rc = only(p, payment_keys, at, err);
    if (rc != RK_OK)
        return rc;
    o = cJSON_CreateObject();
    if (o == NULL)
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    cJSON_AddItemToArray(arr, o);
    rc = copy_amount(p, o, at, err);
    if (rc == RK_OK)
        rc = copy_str(p, "asset", 1, 16, 'A', o, at, err);
    if (rc == RK_OK)
        rc = copy_str(p, "network", 1, 32, 'n', o, at, err);
    if (rc == RK_OK)
        rc = copy_str(p, "contract", 0, 128, 0, o, at, err);
    if (rc == RK_OK)
        rc = copy_str(p, "tx", 0, RK_ADAPT_ID_MAX, 0, o, at, err);
    if (rc == RK_OK)
        rc = copy_str(p, "id", 0, RK_ADAPT_ID_MAX, 0, o, at, err);
    if (rc == RK_OK)
        rc = copy_str(p, "memo", 0, RK_ADAPT_ID_MAX, 0, o, at, err);
    if (rc == RK_OK)
        rc = copy_str(p, "status", 0, 64, 0, o, at, err);
    if (rc != RK_OK)
        return rc;
    if (conf != NULL) {
        if (rk_json_get_u64(p, "confirmations", &c, NULL) != RK_OK ||
            c > ((uint64_t)1 << 53) - 1)
            return rk_seterr(err, RK_ERR_INVALID, "%s.confirmations: not a count", at);
        rc = rk_adapt_put_int(o, "confirmations", c, err);
        if (rc != RK_OK)
            return rc;
    }
    snprintf(path, sizeof path, "%s.finalized", at);
    rc = rk_adapt_get_str(p, "finalized", 0, 8, &fin, path, err);
    if (rc != RK_OK)
        return rc;
    if (fin != NULL && strcmp(fin, "true") != 0 && strcmp(fin, "false") != 0)
        return rk_seterr(err, RK_ERR_INVALID, "%s: not \"true\" or \"false\"", path);
    if (fin != NULL)
        rc = rk_adapt_put_str(o, "finalized", fin, err);
    return rc;
}

static rk_err copy_refs(const cJSON *node, cJSON *ev, char *err)
{
    const cJSON *refs = cJSON_GetObjectItemCaseSensitive(node, "refs");
    cJSON *o;
    rk_err rc;

    if (refs == NULL)
        return rk_seterr(err, RK_ERR_INVALID, "$.refs: missing");
    rc = only(refs, ref_keys, "$.refs", err);
    if (rc != RK_OK)
        return rc;
    o = rk_adapt_put_obj(ev, "refs");
    if (o == NULL)
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    rc = copy_str(refs, "order", 0, RK_ADAPT_ID_MAX, 0, o, "$.refs", err);
    if (rc == RK_OK)
        rc = copy_str(refs, "payment", 0, RK_ADAPT_ID_MAX, 0, o, "$.refs", err);
    if (rc == RK_OK)
        rc = copy_str(refs, "parent", 0, RK_ADAPT_ID_MAX, 0, o, "$.refs", err);
    return rc;
}

static rk_err copy_objects(const cJSON *node, cJSON *ev, char *err)
{
    const cJSON *ex = cJSON_GetObjectItemCaseSensitive(node, "expected");
    const cJSON *fiat = cJSON_GetObjectItemCaseSensitive(node, "fiat");
    cJSON *o;
    rk_err rc;

    if (ex != NULL) {
        rc = only(ex, expected_keys, "$.expected", err);
        if (rc != RK_OK)
            return rc;
        o = rk_adapt_put_obj(ev, "expected");
        if (o == NULL)
            return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
        rc = copy_amount(ex, o, "$.expected", err);
        if (rc == RK_OK)
            rc = copy_str(ex, "asset", 1, 16, 'A', o, "$.expected", err);
        if (rc == RK_OK)
            rc = copy_str(ex, "network", 1, 32, 'n', o, "$.expected", err);
        if (rc == RK_OK)
            rc = copy_str(ex, "contract", 0, 128, 0, o, "$.expected", err);
        if (rc != RK_OK)
            return rc;
    }
    if (fiat != NULL) {
        rc = only(fiat, fiat_keys, "$.fiat", err);
        if (rc != RK_OK)
            return rc;
        o = rk_adapt_put_obj(ev, "fiat");
        if (o == NULL)
            return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
        rc = copy_amount(fiat, o, "$.fiat", err);
        if (rc == RK_OK)
            rc = copy_str(fiat, "currency", 1, 15, 'A', o, "$.fiat", err);
        if (rc != RK_OK)
            return rc;
    }
    return RK_OK;
}

static rk_err copy_payments(const cJSON *node, cJSON *ev, char *err)
{
    const cJSON *ps = cJSON_GetObjectItemCaseSensitive(node, "payments"), *p;
    const char *scope;
    char path[64];
    cJSON *arr;
    int i = 0;
    rk_err rc;

    if (ps == NULL)
        return rk_seterr(err, RK_ERR_INVALID, "$.payments: missing");
    if (!cJSON_IsArray(ps))
        return rk_seterr(err, RK_ERR_INVALID, "$.payments: not an array");
    rc = rk_adapt_get_str(node, "payments_scope", 0, 8, &scope, "$.payments_scope", err);
    if (rc != RK_OK)
        return rc;
    if (scope == NULL)
        scope = "all";
    if (strcmp(scope, "all") != 0 && strcmp(scope, "some") != 0 && strcmp(scope, "none") != 0)
        return rk_seterr(err, RK_ERR_INVALID, "$.payments_scope: '%s' is not all, some or "
                                              "none", scope);
    if (strcmp(scope, "none") == 0 && cJSON_GetArraySize(ps) > 0)
        return rk_seterr(err, RK_ERR_INVALID, "$.payments: not empty with scope none");
    arr = rk_adapt_put_arr(ev, "payments");
    if (arr == NULL)
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    cJSON_ArrayForEach(p, ps)
    {
        snprintf(path, sizeof path, "$.payments[%d]", i++);
        rc = copy_payment(p, arr, path, err);
        if (rc != RK_OK)
            return rc;
    }
    return rk_adapt_put_str(ev, "payments_scope", scope, err);
}

/* state, reason, flag -> the lifecycle mapping (generic words are state names). */
static rk_err copy_state(const cJSON *node, cJSON *ev, char *err)
{
    const char *state, *reason, *flag;
    rk_err rc;

    rc = rk_adapt_get_str(node, "state", 1, 32, &state, "$.state", err);
    if (rc == RK_OK)
        rc = rk_adapt_get_str(node, "reason", 0, 32, &reason, "$.reason", err);
    if (rc == RK_OK)
        rc = rk_adapt_get_str(node, "flag", 0, 32, &flag, "$.flag", err);
    if (rc != RK_OK)
        return rc;
    if (reason != NULL && flag != NULL)
        return rk_seterr(err, RK_ERR_INVALID, "$: both a reason and a flag");
    if (reason != NULL && strcmp(state, "needs_review") != 0)
        return rk_seterr(err, RK_ERR_INVALID, "$.reason: only with state needs_review");
    if (flag != NULL && strcmp(flag, "overpaid") != 0)
        return rk_seterr(err, RK_ERR_INVALID, "$.flag: '%.32s' is not a flag", flag);
    return rk_adapt_put_state(ev, PROVIDER, state, reason != NULL ? reason : flag, err);
}

rk_err rk_adapt_generic_map(const cJSON *node, int source, cJSON *ev, char *err)
{
    const cJSON *v, *seq;
    const char *id, *time;
    char when[RK_TIME_STR_MAX];
    uint64_t n;
    rk_err rc;

    rc = only(node, top_keys, "$", err);
    if (rc != RK_OK)
        return rc;
    v = cJSON_GetObjectItemCaseSensitive(node, "v");
    if (v == NULL)
        return rk_seterr(err, RK_ERR_INVALID, "$.v: missing");
    if (rk_json_get_u64(node, "v", &n, NULL) != RK_OK || n != 1)
        return rk_seterr(err, RK_ERR_INVALID, "$.v: not version 1");
    if (source == RK_ADAPT_API && cJSON_GetObjectItemCaseSensitive(node, "event_id") != NULL)
        return rk_seterr(err, RK_ERR_INVALID, "$.event_id: not allowed in an API read (the "
                                              "id is derived from the content)");
    if (source == RK_ADAPT_WEBHOOK) {
        rc = rk_adapt_get_str(node, "event_id", 1, RK_ADAPT_ID_MAX, &id, "$.event_id", err);
        if (rc == RK_OK)
            rc = rk_adapt_put_str(ev, "event_id", id, err);
        if (rc != RK_OK)
            return rc;
    }
    rc = copy_str(node, "event_type", 1, 128, 0, ev, "$", err);
    if (rc == RK_OK)
        rc = rk_adapt_get_str(node, "occurred_at", 1, 64, &time, "$.occurred_at", err);
    if (rc == RK_OK)
        rc = rk_adapt_time_text(time, when, "$.occurred_at", err);
    if (rc == RK_OK)
        rc = rk_adapt_put_str(ev, "occurred_at", when, err);
    if (rc != RK_OK)
        return rc;
    seq = cJSON_GetObjectItemCaseSensitive(node, "order_seq");
    if (seq != NULL) {
        if (rk_json_get_u64(node, "order_seq", &n, NULL) != RK_OK || n > ((uint64_t)1 << 53) - 1)
            return rk_seterr(err, RK_ERR_INVALID, "$.order_seq: not a count");
        rc = rk_adapt_put_int(ev, "order_seq", n, err);
        if (rc != RK_OK)
            return rc;
    }
    rc = copy_refs(node, ev, err);
    if (rc == RK_OK)
        rc = copy_state(node, ev, err);
    if (rc == RK_OK)
        rc = copy_objects(node, ev, err);
    if (rc == RK_OK)
        rc = copy_payments(node, ev, err);
    return rc;
}
