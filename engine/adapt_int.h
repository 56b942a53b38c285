/*
 * adapt_int.h - what adapt.c shares with the adapters (adapt_<provider>.c).
 * Private to the adapt module: tools and other modules use adapt.h only.
 *
 * An adapter builds the event body as a cJSON object with these helpers and
 * hands it to rk_adapt_finish, which checks the members every provider event
 * must have, derives the record reference and the event key, computes the
 * content-derived event id of API reads and writes the canonical body
 * (formats/provider-event.md).
 *
 * Every helper that takes `path` names the JSON member it reads in its
 * message ("$.event.data.timeline[1].status"), with the provider in front
 * (added by the dispatcher).
 */
#ifndef RK_ADAPT_INT_H
#define RK_ADAPT_INT_H

#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "adapt.h"
#include "amount.h"
#include "canon.h"

/* Longest id or reference an adapter accepts, in bytes (the record's limit). */
#define RK_ADAPT_ID_MAX RK_REF_MAX

/* Where an event comes from: a webhook body or one item of an API read. */
enum { RK_ADAPT_WEBHOOK = 0, RK_ADAPT_API = 1 };

/*
 * One adapter: map `node` (the whole webhook body, or one API-read item) into
 * the event object `ev` that rk_adapt_new made.  RK_OK, RK_ERR_INVALID,
 * RK_ERR_NOTFOUND, RK_ERR_NOMEM as rk_adapt_webhook.
 */
typedef rk_err (*rk_adapt_map_fn)(const cJSON *node, int source, cJSON *ev, char *err);

rk_err rk_adapt_coinbase_map(const cJSON *node, int source, cJSON *ev, char *err);
rk_err rk_adapt_btcpay_map(const cJSON *node, int source, cJSON *ev, char *err);
rk_err rk_adapt_nowpayments_map(const cJSON *node, int source, cJSON *ev, char *err);
rk_err rk_adapt_generic_map(const cJSON *node, int source, cJSON *ev, char *err);

/* ---- reading the provider's JSON ---------------------------------------- */

/*
 * Member `key` of obj as a string.  Absent or null: RK_OK with *out NULL when
 * !required, RK_ERR_INVALID ("missing") when required.  Not a string, or
 * longer than max bytes (0: no limit), or empty when required:
 * RK_ERR_INVALID.  An empty optional string reads as absent.
 */
rk_err rk_adapt_get_str(const cJSON *obj, const char *key, int required, size_t max,
                        const char **out, const char *path, char *err)
    __attribute__((warn_unused_result));

/*
 * Member `key` as an id that providers send either as a string or as an
 * integer number (NOWPayments payment_id): copied into out (cap bytes), the
 * number from its source text.  Absent or null: *out = '\0' and RK_OK when
 * !required, RK_ERR_INVALID when required.  A number that is not a plain
 * non-negative integer literal, or an id longer than RK_ADAPT_ID_MAX:
 * RK_ERR_INVALID.
 */
rk_err rk_adapt_get_id(const cJSON *obj, const char *key, int required, char *out,
                       size_t cap, const char *path, char *err)
    __attribute__((warn_unused_result));

/*
 * Member `key` as a boolean: *out 0/1, 0 when absent or null; any other type
 * is RK_ERR_INVALID.
 */
rk_err rk_adapt_get_bool(const cJSON *obj, const char *key, int *out, const char *path,
                         char *err)
    __attribute__((warn_unused_result));

/*
 * The node (a JSON string of amount text or a JSON number, read from its
 * source text, never a double) as the canonical amount text of
 * formats/provider-event.md: no exponent, no leading zeros, no trailing
 * fraction zeros, "0" for zero.  RK_ERR_INVALID for another type, bad text or
 * a negative amount; RK_ERR_RANGE beyond 30 fraction digits or 38
 * significant digits.
 */
rk_err rk_adapt_amount(const cJSON *node, char out[RK_AMOUNT_STR_MAX], const char *path,
                       char *err)
    __attribute__((warn_unused_result));

/* RFC 3339 text to the 9-digit UTC form (RK_ERR_INVALID when not a time). */
rk_err rk_adapt_time_text(const char *text, char out[RK_TIME_STR_MAX], const char *path,
                          char *err)
    __attribute__((warn_unused_result));

/*
 * A count of seconds (per = 1) or milliseconds (per = 1000) since 1970 to
 * the 9-digit UTC form; RK_ERR_INVALID beyond year 2262 (int64 nanoseconds).
 */
rk_err rk_adapt_time_unix(uint64_t v, unsigned per, char out[RK_TIME_STR_MAX],
                          const char *path, char *err)
    __attribute__((warn_unused_result));

/* ---- asset and network names -------------------------------------------- */

/* One row of an adapter's name table: provider code -> asset, network. */
typedef struct rk_adapt_rail {
    const char *code;    /* the provider's spelling, exact */
    const char *asset;   /* formats/provider-event.md symbol */
    const char *network; /* formats/provider-event.md network id */
} rk_adapt_rail;

/*
 * Look code up in a table ending with a NULL code; 1 when found (*asset,
 * *network static), 0 when not.
 */
int rk_adapt_rail_find(const rk_adapt_rail *table, const char *code, const char **asset,
                       const char **network);

/* Copy s upper-cased (ASCII) into out of cap bytes, truncating; returns out. */
char *rk_adapt_upper(const char *s, char *out, size_t cap);

/* ---- building the event ------------------------------------------------- */

/* Add a string / integer (0 .. 2^53 - 1) / object / array member; RK_ERR_NOMEM. */
rk_err rk_adapt_put_str(cJSON *obj, const char *key, const char *val, char *err)
    __attribute__((warn_unused_result));
rk_err rk_adapt_put_int(cJSON *obj, const char *key, uint64_t val, char *err)
    __attribute__((warn_unused_result));
cJSON *rk_adapt_put_obj(cJSON *obj, const char *key); /* NULL on NOMEM */
cJSON *rk_adapt_put_arr(cJSON *obj, const char *key); /* NULL on NOMEM */

/* Add "fiat": {"amount": amount, "currency": currency upper-cased}. */
rk_err rk_adapt_put_fiat(cJSON *ev, const char *amount, const char *currency, char *err)
    __attribute__((warn_unused_result));

/*
 * Map the provider word with rk_lifecycle_map_status and add status,
 * context (when not empty), state, reason and flag.  RK_ERR_NOTFOUND when
 * the word has no row (err quotes it).
 */
rk_err rk_adapt_put_state(cJSON *ev, const char *provider, const char *status,
                          const char *context, char *err)
    __attribute__((warn_unused_result));

#endif
