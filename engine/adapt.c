/*
 * adapt.c - dispatch by provider, the helpers every adapter shares, the
 * finishing of an event body, API-read walks and the api_read batch.
 * formats/provider-event.md is the output contract, formats/adapters.md the
 * per-provider mapping.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapt.h"
#include "adapt_int.h"
#include "lifecycle.h"

/* ---- dispatch ----------------------------------------------------------- */

/* What a provider's API read may look like around its items. */
#define LIST_ARRAY 1u       /* a bare JSON array of items */
#define LIST_DATA_ARRAY 2u  /* {"data":[items...], ...} */
#define LIST_DATA_OBJECT 4u /* {"data":{item}, ...} (Coinbase single reads) */

struct adapter {
    const char *name;
    rk_adapt_map_fn map;
    unsigned lists;
};

static const struct adapter adapters[] = {
    { "coinbase-commerce", rk_adapt_coinbase_map,
      LIST_ARRAY | LIST_DATA_ARRAY | LIST_DATA_OBJECT },
    { "btcpay", rk_adapt_btcpay_map, LIST_ARRAY },
    { "nowpayments", rk_adapt_nowpayments_map, LIST_ARRAY | LIST_DATA_ARRAY },
    { "generic", rk_adapt_generic_map, LIST_ARRAY | LIST_DATA_ARRAY },
    { NULL, NULL, 0 },
};

static const struct adapter *find_adapter(const char *provider)
{
    const struct adapter *a;

    if (provider == NULL)
        return NULL;
    for (a = adapters; a->name != NULL; a++)
        if (strcmp(a->name, provider) == 0)
            return a;
    return NULL;
}

int rk_adapt_known(const char *provider)
{
    return find_adapter(provider) != NULL;
}

void rk_adapt_event_init(rk_adapt_event *ev)
{
    rk_buf_init(&ev->body);
    ev->event_key[0] = '\0';
    ev->ref[0] = '\0';
}

void rk_adapt_event_free(rk_adapt_event *ev)
{
    if (ev == NULL)
        return;
    rk_buf_free(&ev->body);
    ev->event_key[0] = '\0';
    ev->ref[0] = '\0';
}

/* ---- reading ------------------------------------------------------------ */

rk_err rk_adapt_get_str(const cJSON *obj, const char *key, int required, size_t max,
                        const char **out, const char *path, char *err)
{
    const cJSON *n = cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
    size_t len;

    *out = NULL;
    if (n == NULL || cJSON_IsNull(n)) {
        if (required)
            return rk_seterr(err, RK_ERR_INVALID, "%s: missing", path);
        return RK_OK;
    }
    if (!cJSON_IsString(n) || n->valuestring == NULL)
        return rk_seterr(err, RK_ERR_INVALID, "%s: not a string", path);
    len = strlen(n->valuestring);
    if (len == 0) {
        if (required)
            return rk_seterr(err, RK_ERR_INVALID, "%s: empty", path);
        return RK_OK;
    }
    if (max > 0 && len > max)
        return rk_seterr(err, RK_ERR_INVALID, "%s: longer than %zu bytes", path, max);
    *out = n->valuestring;
    return RK_OK;
}

rk_err rk_adapt_get_id(const cJSON *obj, const char *key, int required, char *out,
                       size_t cap, const char *path, char *err)
{
    const cJSON *n = cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
    const char *text = NULL;
    size_t len, i;

    out[0] = '\0';
    if (n == NULL || cJSON_IsNull(n)) {
        if (required)
            return rk_seterr(err, RK_ERR_INVALID, "%s: missing", path);
        return RK_OK;
    }
    if (cJSON_IsString(n) && n->valuestring != NULL) {
        text = n->valuestring;
        if (text[0] == '\0') {
            if (required)
                return rk_seterr(err, RK_ERR_INVALID, "%s: empty", path);
            return RK_OK;
        }
    } else if (cJSON_IsNumber(n)) {
        text = rk_json_number_text(n);
        if (text == NULL)
            return rk_seterr(err, RK_ERR_INVALID, "%s: a number without source text", path);
        for (i = 0; text[i] != '\0'; i++)
            if (text[i] < '0' || text[i] > '9')
                return rk_seterr(err, RK_ERR_INVALID,
                                 "%s: '%s' is not a plain non-negative integer", path, text);
    } else {
        return rk_seterr(err, RK_ERR_INVALID, "%s: not a string or an integer", path);
    }
    len = strlen(text);
    if (len > RK_ADAPT_ID_MAX || len + 1 > cap)
        return rk_seterr(err, RK_ERR_INVALID, "%s: longer than %d bytes", path,
                         RK_ADAPT_ID_MAX);
    memcpy(out, text, len + 1);
    return RK_OK;
}

rk_err rk_adapt_get_bool(const cJSON *obj, const char *key, int *out, const char *path,
                         char *err)
{
    const cJSON *n = cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;

    *out = 0;
    if (n == NULL || cJSON_IsNull(n))
        return RK_OK;
    if (!cJSON_IsBool(n))
        return rk_seterr(err, RK_ERR_INVALID, "%s: not a boolean", path);
    *out = cJSON_IsTrue(n) ? 1 : 0;
    return RK_OK;
}

/* ---- amounts ------------------------------------------------------------ */

/*
 * Canonical amount text from a decimal literal: digits of the integer part
 * ip[0..ni), of the fraction fp[0..nf), and a power-of-ten exponent.
 */
static rk_err amount_from_parts(const char *ip, size_t ni, const char *fp, size_t nf,
                                long exp10, char out[RK_AMOUNT_STR_MAX], const char *path,
                                char *err)
{
    char digits[2 * RK_JSON_NUMBER_MAX + 2];
    size_t nd = 0, first, last, i, o = 0, frac;
    long point;
    rk_amount v;

    if (ni + nf >= sizeof digits)
        return rk_seterr(err, RK_ERR_RANGE, "%s: too many digits", path);
    memcpy(digits, ip, ni);
    memcpy(digits + ni, fp, nf);
    nd = ni + nf;
    point = (long)ni + exp10; /* the decimal point sits before digits[point] */
    for (first = 0; first < nd && digits[first] == '0'; first++)
        ;
    if (first == nd) {
        out[0] = '0';
        out[1] = '\0';
        return RK_OK;
    }
    for (last = nd; digits[last - 1] == '0'; last--)
        ;
    point -= (long)first;
    nd = last - first;
    memmove(digits, digits + first, nd);
    /* Fraction digits and significant digits decide the range. */
    frac = point >= (long)nd ? 0 : (size_t)((long)nd - point);
    if (frac > RK_AMOUNT_MAX_DECIMALS)
        return rk_seterr(err, RK_ERR_RANGE, "%s: more than %d fraction digits", path,
                         RK_AMOUNT_MAX_DECIMALS);
    if (point > RK_AMOUNT_MAX_DIGITS)
        return rk_seterr(err, RK_ERR_RANGE, "%s: more than %d integer digits", path,
                         RK_AMOUNT_MAX_DIGITS);
    if (point <= 0) {
        out[o++] = '0';
        out[o++] = '.';
        for (i = 0; i < (size_t)(-point); i++)
            out[o++] = '0';
        for (i = 0; i < nd; i++)
            out[o++] = digits[i];
    } else {
        for (i = 0; i < (size_t)point; i++)
            out[o++] = i < nd ? digits[i] : '0';
        if ((size_t)point < nd) {
            out[o++] = '.';
            for (i = (size_t)point; i < nd; i++)
                out[o++] = digits[i];
        }
    }
    out[o] = '\0';
    /* 38 significant digits at most, as rk_amount holds them. */
    if (rk_amount_parse(out, o, (unsigned)frac, &v, NULL) != RK_OK)
        return rk_seterr(err, RK_ERR_RANGE, "%s: more than %d significant digits", path,
                         RK_AMOUNT_MAX_DIGITS);
    return RK_OK;
}

rk_err rk_adapt_amount(const cJSON *node, char out[RK_AMOUNT_STR_MAX], const char *path,
                       char *err)
{
    const char *t, *ip, *fp = "";
    size_t ni, nf = 0;
    long exp10 = 0;
    int number;

    out[0] = '\0';
    if (cJSON_IsString(node) && node->valuestring != NULL) {
        t = node->valuestring;
        number = 0;
    } else if (cJSON_IsNumber(node)) {
        t = rk_json_number_text(node);
        if (t == NULL)
            return rk_seterr(err, RK_ERR_INVALID, "%s: a number without source text", path);
        number = 1;
    } else {
        return rk_seterr(err, RK_ERR_INVALID, "%s: not an amount (string or number)", path);
    }
    if (t[0] == '-')
        return rk_seterr(err, RK_ERR_INVALID, "%s: negative amount", path);
    /* int = "0" / [1-9]*DIGIT, as JSON and formats/amounts.md both write it */
    ip = t;
    for (ni = 0; ip[ni] >= '0' && ip[ni] <= '9'; ni++)
        ;
    if (ni == 0 || (ni > 1 && ip[0] == '0'))
        goto bad;
    t = ip + ni;
    if (*t == '.') {
        fp = ++t;
        for (nf = 0; fp[nf] >= '0' && fp[nf] <= '9'; nf++)
            ;
        if (nf == 0)
            goto bad;
        t = fp + nf;
    }
    if (number && (*t == 'e' || *t == 'E')) {
        int neg = 0;
        size_t ne = 0;

        t++;
        if (*t == '+' || *t == '-')
            neg = *t++ == '-';
        for (; *t >= '0' && *t <= '9'; t++, ne++) {
            if (exp10 > 1000) /* far beyond any amount: the range check rejects */
                continue;
            exp10 = exp10 * 10 + (*t - '0');
        }
        if (ne == 0)
            goto bad;
        if (neg)
            exp10 = -exp10;
    }
    if (*t != '\0')
        goto bad;
    return amount_from_parts(ip, ni, fp, nf, exp10, out, path, err);
bad:
    return rk_seterr(err, RK_ERR_INVALID, "%s: '%.64s' is not amount text", path,
                     number ? rk_json_number_text(node) : node->valuestring);
}

/* ---- times -------------------------------------------------------------- */

rk_err rk_adapt_time_text(const char *text, char out[RK_TIME_STR_MAX], const char *path,
                          char *err)
{
    int64_t ns;
    int year = 0, i;

    /*
     * Nothing a payment provider sends is older than 1970, and the int64
     * nanosecond clock ends in 2262: a narrower range than rk_time_parse's.
     */
    for (i = 0; i < 4 && text[i] >= '0' && text[i] <= '9'; i++)
        year = year * 10 + (text[i] - '0');
    if (i == 4 && (year < 1970 || year > 2261))
        return rk_seterr(err, RK_ERR_INVALID, "%s: '%.64s' is out of range (1970..2261)",
                         path, text);
    if (rk_time_parse(text, &ns) != RK_OK)
        return rk_seterr(err, RK_ERR_INVALID, "%s: '%.64s' is not an RFC 3339 time", path,
                         text);
    rk_time_format(ns, out);
    return RK_OK;
}

rk_err rk_adapt_time_unix(uint64_t v, unsigned per, char out[RK_TIME_STR_MAX],
                          const char *path, char *err)
{
    uint64_t ns_per = 1000000000ull / per;

    if (per == 0 || v > (uint64_t)INT64_MAX / ns_per)
        return rk_seterr(err, RK_ERR_INVALID, "%s: time %llu is out of range", path,
                         (unsigned long long)v);
    rk_time_format((int64_t)(v * ns_per), out);
    return RK_OK;
}

/* ---- names -------------------------------------------------------------- */

int rk_adapt_rail_find(const rk_adapt_rail *table, const char *code, const char **asset,
                       const char **network)
{
    const rk_adapt_rail *r;

    for (r = table; r->code != NULL; r++)
        if (strcmp(r->code, code) == 0) {
            *asset = r->asset;
            *network = r->network;
            return 1;
        }
    return 0;
}

char *rk_adapt_upper(const char *s, char *out, size_t cap)
{
    size_t i;

    for (i = 0; s[i] != '\0' && i + 1 < cap; i++)
        out[i] = (s[i] >= 'a' && s[i] <= 'z') ? (char)(s[i] - 'a' + 'A') : s[i];
    out[i] = '\0';
    return out;
}

/* ---- building ----------------------------------------------------------- */

rk_err rk_adapt_put_str(cJSON *obj, const char *key, const char *val, char *err)
{
    if (cJSON_AddStringToObject(obj, key, val) == NULL)
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    return RK_OK;
}

rk_err rk_adapt_put_int(cJSON *obj, const char *key, uint64_t val, char *err)
{
    if (val > ((uint64_t)1 << 53) - 1)
        return rk_seterr(err, RK_ERR_RANGE, "'%s' %llu is out of range", key,
                         (unsigned long long)val);
    if (cJSON_AddNumberToObject(obj, key, (double)val) == NULL)
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    return RK_OK;
}

cJSON *rk_adapt_put_obj(cJSON *obj, const char *key)
{
    return cJSON_AddObjectToObject(obj, key);
}

cJSON *rk_adapt_put_arr(cJSON *obj, const char *key)
{
    return cJSON_AddArrayToObject(obj, key);
}

rk_err rk_adapt_put_fiat(cJSON *ev, const char *amount, const char *currency, char *err)
{
    cJSON *o = rk_adapt_put_obj(ev, "fiat");
    char up[16];
    rk_err rc;

    if (o == NULL)
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    rc = rk_adapt_put_str(o, "amount", amount, err);
    if (rc == RK_OK)
        rc = rk_adapt_put_str(o, "currency", rk_adapt_upper(currency, up, sizeof up), err);
    return rc;
}

/* A provider word for a message: printable ASCII, '?' for the rest, cut. */
static const char *printable(const char *in, char *out, size_t cap)
{
    size_t i;

    for (i = 0; in[i] != '\0' && i + 1 < cap; i++)
        out[i] = (in[i] >= 0x20 && in[i] < 0x7f && in[i] != '\'') ? in[i] : '?';
    out[i] = '\0';
    return out;
}

rk_err rk_adapt_put_state(cJSON *ev, const char *provider, const char *status,
                          const char *context, char *err)
{
    rk_status_map_result m;
    char s[65], c[65];
    rk_err rc = rk_lifecycle_map_status(provider, status, context, &m, NULL);

    if (rc == RK_ERR_NOTFOUND) {
        if (context == NULL || context[0] == '\0')
            return rk_seterr(err, rc, "status '%s' has no lifecycle mapping",
                             printable(status, s, sizeof s));
        return rk_seterr(err, rc, "status '%s' with context '%s' has no lifecycle mapping",
                         printable(status, s, sizeof s), printable(context, c, sizeof c));
    }
    if (rc != RK_OK)
        return rk_seterr(err, rc, "internal: cannot map a status of '%s'", provider);
    rc = rk_adapt_put_str(ev, "status", status, err);
    if (rc == RK_OK && context != NULL && context[0] != '\0')
        rc = rk_adapt_put_str(ev, "context", context, err);
    if (rc == RK_OK)
        rc = rk_adapt_put_str(ev, "state", rk_state_name(m.state), err);
    if (rc == RK_OK && m.reason != NULL)
        rc = rk_adapt_put_str(ev, "reason", m.reason, err);
    if (rc == RK_OK && m.flag != NULL)
        rc = rk_adapt_put_str(ev, "flag", m.flag, err);
    return rc;
}

/* ---- finishing an event ------------------------------------------------- */

static const char *member_str(const cJSON *obj, const char *key)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(obj, key);

    return cJSON_IsString(n) ? n->valuestring : NULL;
}

/*
 * Check what every provider event has, set the reference, derive the event
 * id of an API read, write the canonical body and the event key.
 */
static rk_err finish(cJSON *ev, const char *provider, int source, rk_adapt_event *out,
                     char *err)
{
    static const char *const required[] = { "event_type", "occurred_at", "status",
                                            "state", NULL };
    const cJSON *refs = cJSON_GetObjectItemCaseSensitive(ev, "refs");
    const char *order = member_str(refs, "order"), *payment = member_str(refs, "payment");
    const char *id, *ref;
    uint8_t h[RK_HASH_SIZE];
    char hex[2 * RK_HASH_SIZE + 1];
    rk_buf tmp = RK_BUF_INIT, idb = RK_BUF_INIT;
    size_t i;
    int n;
    rk_err rc;

    if (order == NULL && payment == NULL)
        return rk_seterr(err, RK_ERR_NOTFOUND, "no reference: neither an order nor a "
                                               "payment id");
    for (i = 0; required[i] != NULL; i++)
        if (member_str(ev, required[i]) == NULL)
            return rk_seterr(err, RK_ERR_INVALID, "internal: event without '%s'",
                             required[i]);
    ref = order != NULL ? order : payment;
    if (strlen(ref) > RK_REF_MAX)
        return rk_seterr(err, RK_ERR_INVALID, "reference longer than %d bytes", RK_REF_MAX);
    if (source == RK_ADAPT_API) {
        /* Content-derived: an unchanged re-read maps to the same id. */
        cJSON_DeleteItemFromObjectCaseSensitive(ev, "event_id");
        rc = rk_canon_write(ev, 0, &tmp, err);
        if (rc != RK_OK)
            goto out;
        rk_sha256(h, tmp.data, tmp.len);
        rk_hex_encode(hex, h, sizeof h);
        rc = rk_buf_printf(&idb, "api:%s:%s", payment != NULL ? payment : order, hex);
        if (rc == RK_OK)
            rc = rk_adapt_put_str(ev, "event_id", (const char *)idb.data, err);
        else
            rk_seterr(err, rc, "out of memory");
        if (rc != RK_OK)
            goto out;
    }
    id = member_str(ev, "event_id");
    if (id == NULL || id[0] == '\0') {
        rc = rk_seterr(err, RK_ERR_INVALID, "internal: event without 'event_id'");
        goto out;
    }
    n = snprintf(out->event_key, sizeof out->event_key, "%s:%s", provider, id);
    if (n < 0 || (size_t)n >= sizeof out->event_key) {
        rc = rk_seterr(err, RK_ERR_INVALID, "event key longer than %d bytes",
                       RK_ADAPT_KEY_MAX);
        goto out;
    }
    memcpy(out->ref, ref, strlen(ref) + 1);
    rk_buf_reset(&out->body);
    rc = rk_canon_write(ev, 0, &out->body, err);
out:
    if (rc != RK_OK) {
        out->event_key[0] = '\0';
        out->ref[0] = '\0';
    }
    rk_buf_free(&tmp);
    rk_buf_free(&idb);
    return rc;
}

/* Map one node into out: a fresh event object, the adapter, finish. */
static rk_err map_one(const struct adapter *a, const cJSON *node, int source,
                      rk_adapt_event *out, char *err)
{
    cJSON *ev = cJSON_CreateObject();
    rk_err rc;

    if (ev == NULL)
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    rc = rk_adapt_put_int(ev, "v", 1, err);
    if (rc == RK_OK)
        rc = rk_adapt_put_str(ev, "provider", a->name, err);
    if (rc == RK_OK)
        rc = rk_adapt_put_str(ev, "source", source == RK_ADAPT_API ? "api_read" : "webhook",
                              err);
    if (rc == RK_OK)
        rc = a->map(node, source, ev, err);
    if (rc == RK_OK)
        rc = finish(ev, a->name, source, out, err);
    cJSON_Delete(ev);
    /* Out-of-range numbers and the like are malformed input, as documented. */
    if (rc != RK_OK && rc != RK_ERR_NOTFOUND && rc != RK_ERR_NOMEM)
        rc = RK_ERR_INVALID;
    return rc;
}

static rk_err parse(const struct adapter *a, const uint8_t *body, size_t len, cJSON **root,
                    char *err)
{
    rk_err rc;

    if (body == NULL && len > 0)
        return rk_seterr(err, RK_ERR_INVALID, "%s: no body", a->name);
    rc = rk_json_parse(len > 0 ? (const char *)body : "", len, root, err);
    if (rc != RK_OK) {
        /* A nesting or number too large is still a body we cannot read. */
        if (rc == RK_ERR_TOOBIG)
            rc = RK_ERR_INVALID;
        return rk_preferr(err, rc, "%s: not JSON", a->name);
    }
    return RK_OK;
}

static rk_err no_adapter(const char *provider, char *err)
{
    return rk_seterr(err, RK_ERR_INVALID, "'%s' is not a provider with an adapter",
                     provider != NULL ? provider : "(null)");
}

static rk_err webhook_tree(const struct adapter *a, const cJSON *root, rk_adapt_event *ev,
                           char *err)
{
    rk_err rc = map_one(a, root, RK_ADAPT_WEBHOOK, ev, err);

    if (rc != RK_OK && rc != RK_ERR_NOMEM)
        rk_preferr(err, rc, "%s", a->name);
    return rc;
}

rk_err rk_adapt_webhook(const char *provider, const uint8_t *body, size_t len,
                        rk_adapt_event *ev, char *err)
{
    const struct adapter *a = find_adapter(provider);
    cJSON *root = NULL;
    rk_err rc;

    if (a == NULL || ev == NULL)
        return no_adapter(provider, err);
    rc = parse(a, body, len, &root, err);
    if (rc != RK_OK)
        return rc;
    rc = webhook_tree(a, root, ev, err);
    cJSON_Delete(root);
    return rc;
}

rk_err rk_adapt_webhook_json(const char *provider, const struct cJSON *root,
                             rk_adapt_event *ev, char *err)
{
    const struct adapter *a = find_adapter(provider);

    if (a == NULL || ev == NULL)
        return no_adapter(provider, err);
    if (root == NULL)
        return rk_seterr(err, RK_ERR_INVALID, "%s: no body", a->name);
    return webhook_tree(a, root, ev, err);
}

/* The items of an API read: *items is an array or the single item itself. */
static rk_err api_items(const struct adapter *a, const cJSON *root, const cJSON **items,
                        int *single, char *err)
{
    const cJSON *data = cJSON_IsObject(root)
                            ? cJSON_GetObjectItemCaseSensitive(root, "data")
                            : NULL;

    *single = 0;
    if (cJSON_IsArray(root)) {
        if (!(a->lists & LIST_ARRAY))
            return rk_seterr(err, RK_ERR_INVALID, "%s: $: a list is not an API read of "
                                                  "this provider", a->name);
        *items = root;
        return RK_OK;
    }
    if (!cJSON_IsObject(root))
        return rk_seterr(err, RK_ERR_INVALID, "%s: $: not an object or a list", a->name);
    if (cJSON_IsArray(data) && (a->lists & LIST_DATA_ARRAY)) {
        *items = data;
        return RK_OK;
    }
    if (cJSON_IsObject(data) && (a->lists & LIST_DATA_OBJECT)) {
        *items = data;
        *single = 1;
        return RK_OK;
    }
    *items = root;
    *single = 1;
    return RK_OK;
}

rk_err rk_adapt_api_read(const char *provider, const uint8_t *body, size_t len,
                         rk_adapt_each_fn fn, void *ctx, char *err)
{
    const struct adapter *a = find_adapter(provider);
    const cJSON *items = NULL, *it;
    cJSON *root = NULL;
    char ierr[RK_ERROR_SIZE];
    rk_adapt_event ev;
    size_t index = 0;
    int single = 0;
    rk_err rc;

    if (a == NULL || fn == NULL)
        return rk_seterr(err, RK_ERR_INVALID, "'%s' is not a provider with an adapter",
                         provider != NULL ? provider : "(null)");
    rc = parse(a, body, len, &root, err);
    if (rc != RK_OK)
        return rc;
    rc = api_items(a, root, &items, &single, err);
    if (rc != RK_OK)
        goto out;
    rk_adapt_event_init(&ev);
    for (it = single ? items : items->child; it != NULL; it = single ? NULL : it->next) {
        ierr[0] = '\0';
        rc = map_one(a, it, RK_ADAPT_API, &ev, ierr);
        if (rc == RK_ERR_NOMEM) {
            rk_seterr(err, rc, "%s", ierr);
            break;
        }
        rc = rc == RK_OK ? fn(ctx, index, &ev, NULL) : fn(ctx, index, NULL, ierr);
        if (rc != RK_OK)
            break;
        index++;
    }
    rk_adapt_event_free(&ev);
out:
    cJSON_Delete(root);
    return rc;
}
