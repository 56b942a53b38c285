/*
 * fuzz_adapt_common.h - shared by the tests/fuzz/fuzz_adapt_<provider>.c
 * targets: the input is a webhook body and, whole again, an API read.
 *
 * Invariants checked: a mapped event has a canonical body (rk_canon_check),
 * an event key "<provider>:<event id>" within RK_ADAPT_KEY_MAX and a
 * non-empty reference within RK_REF_MAX; an API read calls back with exactly
 * one of event and reason; failures are only the documented codes.  Any
 * crash, leak or sanitizer report is a bug.
 */
#ifndef RK_FUZZ_ADAPT_COMMON_H
#define RK_FUZZ_ADAPT_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "adapt.h"
#include "canon.h"

static const char *fuzz_provider;

static void fuzz_check_event(const rk_adapt_event *ev)
{
    size_t plen = strlen(fuzz_provider);

    if (rk_canon_check((const char *)ev->body.data, ev->body.len, NULL) != RK_OK)
        abort();
    if (strncmp(ev->event_key, fuzz_provider, plen) != 0 || ev->event_key[plen] != ':' ||
        ev->event_key[plen + 1] == '\0' || strlen(ev->event_key) > RK_ADAPT_KEY_MAX)
        abort();
    if (ev->ref[0] == '\0' || strlen(ev->ref) > RK_REF_MAX)
        abort();
}

static rk_err fuzz_item(void *ctx, size_t index, const rk_adapt_event *ev,
                        const char *item_err)
{
    size_t *next = ctx;

    if (index != *next || (ev == NULL) == (item_err == NULL))
        abort();
    if (ev != NULL)
        fuzz_check_event(ev);
    else if (item_err[0] == '\0')
        abort();
    (*next)++;
    return RK_OK;
}

static int fuzz_adapt(const char *provider, const uint8_t *data, size_t size)
{
    char err[RK_ERROR_SIZE];
    rk_adapt_event ev;
    size_t next = 0;
    rk_err rc;

    fuzz_provider = provider;
    rk_adapt_event_init(&ev);
    err[0] = '\0';
    rc = rk_adapt_webhook(provider, data, size, &ev, err);
    if (rc == RK_OK)
        fuzz_check_event(&ev);
    else if ((rc != RK_ERR_INVALID && rc != RK_ERR_NOTFOUND) || err[0] == '\0')
        abort();
    rk_adapt_event_free(&ev);
    rc = rk_adapt_api_read(provider, data, size, fuzz_item, &next, err);
    if (rc != RK_OK && rc != RK_ERR_INVALID)
        abort();
    return 0;
}

#endif
