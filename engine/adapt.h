/*
 * adapt.h - provider adapters: one provider payload in, normalized provider
 * events out (formats/provider-event.md, formats/adapters.md).
 *
 * One adapter per provider, one file each (adapt_coinbase.c, adapt_btcpay.c,
 * adapt_nowpayments.c, adapt_generic.c), dispatched by provider name in
 * adapt.c; rk_adapt_record_api_read lives in adapt_record.c, the only part
 * that needs the ledger.
 * Adapters are pure: bytes in, canonical JSON out; they never touch the
 * ledger and never read the clock.  A payload an adapter cannot map is
 * reported with a reason so that the caller records it as evidence; it is
 * never dropped.
 */
#ifndef RK_ADAPT_H
#define RK_ADAPT_H

#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "error.h"
#include "ledger.h"
#include "record.h"

#define RK_ADAPT_KEY_MAX 1024 /* bytes of an event key, as RK_EVENT_KEY_MAX */

/* One normalized provider event, ready to append as a provider_event record. */
typedef struct rk_adapt_event {
    rk_buf body;                          /* canonical JSON, formats/provider-event.md */
    char event_key[RK_ADAPT_KEY_MAX + 1]; /* "<provider>:<event_id>" */
    char ref[RK_REF_MAX + 1];             /* the record reference: refs.order, else refs.payment */
} rk_adapt_event;

void rk_adapt_event_init(rk_adapt_event *ev);
void rk_adapt_event_free(rk_adapt_event *ev); /* accepts NULL; leaves ev reusable */

/* Is provider one of "coinbase-commerce", "btcpay", "nowpayments", "generic"? */
int rk_adapt_known(const char *provider);

/*
 * Map one webhook body (the raw bytes whose signature was verified) to a
 * provider event.
 *   RK_OK           *ev filled
 *   RK_ERR_INVALID  the body is not the provider's JSON (err says where)
 *   RK_ERR_NOTFOUND the body is well formed but cannot be mapped (an event
 *                   type or status we do not know, no reference); err says why
 * In both error cases the caller records the delivery as unmapped with err.
 */
rk_err rk_adapt_webhook(const char *provider, const uint8_t *body, size_t len,
                        rk_adapt_event *ev, char *err)
    __attribute__((warn_unused_result));

/*
 * The same mapping for a body the caller parsed already: root is the tree
 * rk_json_parse (canon.h) made of the body (borrowed, not changed; its
 * numbers must carry their source text, so a tree from cJSON_Parse will not
 * do).  rk_adapt_webhook is rk_json_parse followed by this; the receiver
 * parses once for its own JSON check and maps the same tree.  Returns as
 * rk_adapt_webhook, except that it never reports a body that is not JSON.
 */
struct cJSON;
rk_err rk_adapt_webhook_json(const char *provider, const struct cJSON *root,
                             rk_adapt_event *ev, char *err)
    __attribute__((warn_unused_result));

/*
 * Map a provider API read (one payment object, a list, or the provider's
 * list envelope) to provider events with source "api_read": fn is called
 * once per payment, in the order of the payload.  An item that cannot be
 * mapped is passed to fn with item_err set (ev NULL) and the walk goes on.
 * fn returns RK_OK to go on; anything else stops the walk and is returned.
 */
typedef rk_err (*rk_adapt_each_fn)(void *ctx, size_t index, const rk_adapt_event *ev,
                                   const char *item_err);
rk_err rk_adapt_api_read(const char *provider, const uint8_t *body, size_t len,
                         rk_adapt_each_fn fn, void *ctx, char *err)
    __attribute__((warn_unused_result));

/*
 * Record one provider API read (the bytes of one poll response) in ONE
 * rk_ledger_append batch: an api_read record (kind RK_KIND_API_READ, raw =
 * the bytes exactly, body = {"v":1,"provider":P,"items":N,"mapped":M,
 * "unmapped":[{"index":i,"reason":"..."}...]}, no reference) followed by one
 * provider_event record per mapped item, each with its event key, so that an
 * unchanged re-read appends the api_read record alone (the ledger reports
 * RK_ERR_EXISTS for each event, counted as unchanged).
 *
 * sum (may be NULL) receives the counts.  Returns RK_OK when the batch was
 * written, unmapped items included (sum->unmapped tells); RK_ERR_INVALID
 * when provider is unknown or the bytes are not the provider's JSON at all
 * (nothing is written: there is no item to record); RK_ERR_TOOBIG beyond
 * RK_RAW_MAX bytes; the ledger's error otherwise.
 */
typedef struct rk_adapt_api_summary {
    size_t items;     /* items in the payload */
    size_t mapped;    /* items mapped to a provider event */
    size_t added;     /* provider events appended */
    size_t unchanged; /* provider events already in the ledger (same event key) */
    size_t unmapped;  /* items that could not be mapped (recorded with a reason) */
    uint64_t seq;     /* sequence number of the api_read record */
} rk_adapt_api_summary;

rk_err rk_adapt_record_api_read(rk_ledger *l, const char *provider, const uint8_t *bytes,
                                size_t len, rk_adapt_api_summary *sum, char *err)
    __attribute__((warn_unused_result));

#endif
