/*
 * planes.h - three-plane state per payment reference (formats/replay.md).
 *
 * An rk_planes handle folds evidence records, one at a time and in sequence
 * order, into one payment per reference with three views:
 *
 *   commerce  the latest version of each commerce row (formats/import.md)
 *   provider  the lifecycle state derived from the provider events
 *             (formats/provider-event.md, formats/lifecycle.md), the amounts
 *             paid per (asset, network, contract), confirmations
 *   finance   recognised amounts per currency and account, FX rates
 *
 * and the visible differences between them.  The join rule, the event
 * order, deduplication and every member rendered are specified in
 * formats/replay.md; this header says how to drive the handle.
 *
 * Determinism: the rendered state depends only on the set of folded
 * provider events (not their order, not how often each was folded), the
 * latest version of each commerce and finance row, and the policy in
 * force.  Sequence numbers appear only in the evidence rendering.
 *
 * The handle reads no clock and keeps no global state.  It is not thread
 * safe; use one per thread.  With a record source (rk_planes_set_source)
 * it renders compacted payments on a thread of its own, which touches only
 * what the handle hands it; the source's fetch is called on the caller's
 * thread only, and the thread ends with rk_planes_detach,
 * rk_planes_set_source(p, NULL, ...) or rk_planes_free.
 */
#ifndef RK_PLANES_H
#define RK_PLANES_H

#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "bytes.h"
#include "error.h"
#include "record.h"

typedef struct rk_planes rk_planes;

/* A new, empty state.  RK_ERR_NOMEM. */
rk_err rk_planes_new(rk_planes **out, char *err);

/* Free the handle and everything it holds.  Accepts NULL. */
void rk_planes_free(rk_planes *p);

/*
 * Fold one record.  Records must come in increasing sequence order.  Kinds
 * provider_event, commerce_row, finance_row and policy change the state;
 * every other kind is counted and otherwise ignored.  A body that does not
 * follow its format is not an error: the record is listed under
 * "skipped" in the evidence with the reason, and the fold goes on, so one
 * bad record cannot hide the rest of the ledger.
 *
 * Returns RK_OK, RK_ERR_NOMEM, or RK_ERR_INVALID when rec->seq is not
 * greater than the previous record's; with a record source
 * (rk_planes_set_source), RK_ERR_IO when the spill file cannot be created
 * or written, and the errors of the source.
 */
rk_err rk_planes_apply(rk_planes *p, const rk_record *rec, char *err)
    __attribute__((warn_unused_result));

/*
 * The reference of the payment the last folded record joined (after any
 * merge it caused), or NULL when it joined none (a policy record, another
 * kind, a skipped body).  Valid until the next rk_planes_apply or free.
 */
const char *rk_planes_last_ref(const rk_planes *p);

/*
 * 1 when the last folded record was a provider event already folded under
 * the same (provider, event_id): it only counted as a duplicate.
 */
int rk_planes_last_was_duplicate(const rk_planes *p);

/* Is ref (exactly) the reference of a payment in the state?  1 or 0. */
int rk_planes_has(const rk_planes *p, const char *ref);

/*
 * Render the state as two new cJSON trees, which the caller frees with
 * cJSON_Delete:
 *   *state     {"payments":{REF:{...}},"policy":...} - order independent,
 *              covered by the state digest (formats/replay.md);
 *   *evidence  {"payments":{REF:{...}},"policy_seq":N,"skipped":[...],...} -
 *              the sequence numbers behind each fact, duplicate counters.
 * ref: NULL for every payment, else only that one (RK_ERR_NOTFOUND when the
 * state has no such payment).  evidence may be NULL when not wanted.
 * RK_ERR_NOMEM; RK_ERR_IO when a compacted payment cannot be read back
 * from the spill file.
 */
rk_err rk_planes_render(rk_planes *p, const char *ref, cJSON **state,
                        cJSON **evidence, char *err)
    __attribute__((warn_unused_result));

/*
 * The same two documents as rk_planes_render, appended to state and
 * evidence (may be NULL) as canonical JSON bytes, without building trees:
 * what rk_replay_document prints.  RK_ERR_NOTFOUND as rk_planes_render;
 * RK_ERR_INVALID when two payments carry the same name (an order equal to
 * another payment's provider payment id); RK_ERR_NOMEM; RK_ERR_IO as
 * rk_planes_render.  On error both buffers are restored to their previous
 * length.
 */
rk_err rk_planes_write(rk_planes *p, const char *ref, rk_buf *state, rk_buf *evidence,
                       char *err) __attribute__((warn_unused_result));

/*
 * Compaction (formats/replay.md section 10).  With a record source, the
 * state keeps a closed payment that no record has joined for `idle`
 * records as its two renderings only, written to a spill file (created in
 * $TMPDIR, else /tmp, on the first compaction and unlinked at once; closed
 * with the handle), and drops its lists; a later record
 * for it (or a change of policy) expands it again by reading its records
 * back through fetch, so every output stays byte-identical to a fold
 * without compaction.  fetch reads record seq into rec (body borrowed from
 * buf) and returns RK_OK or the error it met.  fn NULL (the default): no
 * compaction.  The source must stay valid until rk_planes_detach or a call
 * with fn NULL, and the state must not be rendered after the source is
 * gone unless rk_planes_detach was called.
 */
typedef rk_err (*rk_planes_fetch_fn)(void *ctx, uint64_t seq, rk_buf *buf, rk_record *rec,
                                     char *err);
void rk_planes_set_source(rk_planes *p, rk_planes_fetch_fn fn, void *ctx, uint64_t idle);

/*
 * Expand every compacted payment whose renderings are stale (the policy in
 * force changed since they were written) and forget the source: from then
 * on the state never needs the ledger.  Errors from fetch; RK_ERR_NOMEM.
 */
rk_err rk_planes_detach(rk_planes *p, char *err) __attribute__((warn_unused_result));

/* Payments held with their lists (open), compactions and expansions so far. */
void rk_planes_compaction_stats(const rk_planes *p, uint64_t *open, uint64_t *compacted,
                                uint64_t *expanded);

/* Counters for benchmarks and reports. */
typedef struct rk_planes_stats {
    uint64_t records;     /* records folded */
    uint64_t events;      /* provider events folded, duplicates included */
    uint64_t duplicates;  /* provider events that were duplicates */
    uint64_t payments;    /* payments in the state */
    uint64_t merges;      /* payment-id payments merged into an order */
    uint64_t reorders;    /* events that arrived before one they sort after */
    uint64_t skipped;     /* bodies that did not follow their format */
} rk_planes_stats;
void rk_planes_stats_get(const rk_planes *p, rk_planes_stats *st);

#endif
