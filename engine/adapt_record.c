/*
 * adapt_record.c - one provider API read into the ledger: the api_read
 * record and its provider events in one batch (adapt.h,
 * rk_adapt_record_api_read).  Kept apart from adapt.c so that the adapters
 * alone link without the ledger (the fuzz targets do).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "adapt.h"
#include "canon.h"
#include "ledger.h"

/* ---- the api_read batch ------------------------------------------------- */

struct batch {
    rk_adapt_event *evs; /* mapped events, in item order */
    size_t nev, cap;
    cJSON *unmapped; /* [{"index","reason"}...] */
    size_t items;
};

static rk_err batch_add(void *ctx, size_t index, const rk_adapt_event *ev,
                        const char *item_err)
{
    struct batch *b = ctx;
    rk_adapt_event *e;
    cJSON *u;

    b->items = index + 1;
    if (ev == NULL) {
        u = cJSON_CreateObject();
        if (u == NULL)
            return RK_ERR_NOMEM;
        cJSON_AddItemToArray(b->unmapped, u);
        if (index > ((size_t)1 << 53) - 1 ||
            cJSON_AddNumberToObject(u, "index", (double)index) == NULL ||
            cJSON_AddStringToObject(u, "reason", item_err) == NULL)
            return RK_ERR_NOMEM;
        return RK_OK;
    }
    if (b->nev == b->cap) {
        size_t ncap = b->cap ? 2 * b->cap : 16;
        rk_adapt_event *n = realloc(b->evs, ncap * sizeof *n);

        if (n == NULL)
            return RK_ERR_NOMEM;
        b->evs = n;
        b->cap = ncap;
    }
    e = &b->evs[b->nev];
    rk_adapt_event_init(e);
    if (rk_buf_append(&e->body, ev->body.data, ev->body.len) != RK_OK)
        return RK_ERR_NOMEM;
    memcpy(e->event_key, ev->event_key, sizeof e->event_key);
    memcpy(e->ref, ev->ref, sizeof e->ref);
    b->nev++;
    return RK_OK;
}

rk_err rk_adapt_record_api_read(rk_ledger *l, const char *provider, const uint8_t *bytes,
                                size_t len, rk_adapt_api_summary *sum, char *err)
{
    struct batch b = { NULL, 0, 0, NULL, 0 };
    rk_append_item *items = NULL;
    cJSON *body = NULL;
    rk_buf canon = RK_BUF_INIT;
    size_t i;
    rk_err rc;

    if (sum != NULL)
        memset(sum, 0, sizeof *sum);
    if (l == NULL || !rk_adapt_known(provider))
        return rk_seterr(err, RK_ERR_INVALID, "'%s' is not a provider with an adapter",
                         provider != NULL ? provider : "(null)");
    if (len > RK_RAW_MAX)
        return rk_seterr(err, RK_ERR_TOOBIG, "api read of %zu bytes is over %u bytes", len,
                         RK_RAW_MAX);
    b.unmapped = cJSON_CreateArray();
    if (b.unmapped == NULL) {
        rc = rk_seterr(err, RK_ERR_NOMEM, "out of memory");
        goto out;
    }
    rc = rk_adapt_api_read(provider, bytes, len, batch_add, &b, err);
    if (rc == RK_ERR_NOMEM)
        rk_seterr(err, rc, "out of memory");
    if (rc != RK_OK)
        goto out;
    body = cJSON_CreateObject();
    if (body == NULL || cJSON_AddNumberToObject(body, "v", 1) == NULL ||
        cJSON_AddStringToObject(body, "provider", provider) == NULL ||
        cJSON_AddNumberToObject(body, "items", (double)b.items) == NULL ||
        cJSON_AddNumberToObject(body, "mapped", (double)b.nev) == NULL) {
        rc = rk_seterr(err, RK_ERR_NOMEM, "out of memory");
        goto out;
    }
    cJSON_AddItemToObject(body, "unmapped", b.unmapped);
    b.unmapped = NULL;
    rc = rk_canon_write(body, 0, &canon, err);
    if (rc != RK_OK)
        goto out;
    items = calloc(b.nev + 1, sizeof *items);
    if (items == NULL) {
        rc = rk_seterr(err, RK_ERR_NOMEM, "out of memory");
        goto out;
    }
    items[0].kind = RK_KIND_API_READ;
    items[0].body = canon.data;
    items[0].body_len = canon.len;
    items[0].raw = len > 0 ? bytes : NULL;
    items[0].raw_len = len;
    for (i = 0; i < b.nev; i++) {
        items[i + 1].kind = RK_KIND_PROVIDER_EVENT;
        items[i + 1].ref = b.evs[i].ref;
        items[i + 1].body = b.evs[i].body.data;
        items[i + 1].body_len = b.evs[i].body.len;
        items[i + 1].event_key = b.evs[i].event_key;
    }
    rc = rk_ledger_append(l, items, b.nev + 1, err);
    if (rc != RK_OK)
        goto out;
    if (sum != NULL) {
        sum->items = b.items;
        sum->mapped = b.nev;
        sum->unmapped = b.items - b.nev;
        sum->seq = items[0].seq;
        for (i = 1; i <= b.nev; i++) {
            if (items[i].status == RK_OK)
                sum->added++;
            else
                sum->unchanged++;
        }
    }
out:
    for (i = 0; i < b.nev; i++)
        rk_adapt_event_free(&b.evs[i]);
    free(b.evs);
    free(items);
    cJSON_Delete(b.unmapped);
    cJSON_Delete(body);
    rk_buf_free(&canon);
    return rc;
}
