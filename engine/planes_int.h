/*
 * planes_int.h - the fold split in two, shared by planes.c and replay.c
 * only (not a public header).
 *
 * rk_planes_apply checks a body's canonical form, parses it into an event
 * or a row, then folds that.  The first half needs no state, so a replay
 * does it ahead of the fold, on whichever of its two threads has time
 * (replay.c), and the fold does the second half in sequence order.
 * rk_planes_apply is exactly rk_planes_prepare followed by
 * rk_planes_apply_prepared.
 */
#ifndef RK_PLANES_INT_H
#define RK_PLANES_INT_H

#include "canon.h"
#include "planes.h"
#include "pool.h"
#include "record.h"

/*
 * One body read ahead of the fold.  For provider events, commerce rows and
 * finance rows, rk_planes_prepare checks the canonical form and builds the
 * event or row the fold keeps (parsing amounts, times and status words,
 * copying strings); the fold then only joins it to its payment.
 */
typedef struct rk_planes_prep {
    int status;       /* 1 read; 0 a kind whose body is not read here; -1 not
                       * canonical */
    void *parsed;     /* status 1: the event or row, owned by the prep until applied */
    const char *why;  /* status 1, parsed NULL: why the body is skipped, or "out of memory" */
    rk_jv order;      /* rows: the order member, a view into rec->body (type 0: absent) */
    rk_pool_cache *pc;    /* where parsed came from, for rk_planes_prep_clear */
    /* The record's map keys, measured and hashed once (planes.c, prep_keys):
     * by rk_planes_prefetch, or by the fold when the record was not
     * prefetched.  rk_planes_prepare leaves them unset (keyed 0). */
    unsigned char keyed;  /* 1: key_n and key_h are set */
    uint32_t key_n[3];    /* lengths: the order; a provider event's provider and payment id */
    uint32_t key_h[2];    /* hashes: the "o" key; a provider event's "p" key */
} rk_planes_prep;

/*
 * Check rec's body and read it into *out.  No state but the block cache pc
 * the event or row is allocated from (pool.h; a cache of the pool of the
 * state it will be applied to, used by this thread only; NULL: malloc), so
 * safe on any thread that owns its cache.
 * A body of the shape the adapters and importers write is read without a
 * tape; any other goes through the generic check, which puts its entries
 * into tape[0..max) on the way (NULL: a tape of its own); a body with more
 * entries than max is read with a cursor instead, with the same result.  The views in *out point into rec->body, which
 * must also stay as it is until rk_planes_apply_prepared.  A prep that is
 * never applied is released with rk_planes_prep_clear.
 */
void rk_planes_prepare(rk_pool_cache *pc, const rk_record *rec, rk_planes_prep *out,
                       rk_jent *tape, size_t max);

/* Free what a prep that will not be applied holds, into the cache it came
 * from (which must not be in use by another thread); the prep is then empty
 * (clearing it again does nothing). */
void rk_planes_prep_clear(rk_planes_prep *prep);

/*
 * Ask the CPU for the cache lines of p's key map that the fold of a
 * prepared record of this kind will read first: the slots its keys hash
 * to.  For the fold thread only, a few records ahead of
 * rk_planes_apply_prepared; nothing in the state changes.  The keys'
 * hashes and lengths are kept in prep, for the fold not to compute them
 * again.
 */
void rk_planes_prefetch(const rk_planes *p, rk_planes_prep *prep, int kind);

/* The fold thread's own block cache of p's pool (rk_planes_prepare on it). */
rk_pool_cache *rk_planes_cache(rk_planes *p);

/* The pool a state's events and rows come from: a thread that prepares
 * records for it keeps a cache of it (rk_pool_cache_init). */
rk_pool *rk_planes_pool(rk_planes *p);

/* rk_planes_apply for a record that rk_planes_prepare has read into prep,
 * which it takes what it holds from (the prep is empty afterwards, on
 * every return). */
rk_err rk_planes_apply_prepared(rk_planes *p, const rk_record *rec, rk_planes_prep *prep,
                                char *err) __attribute__((warn_unused_result));

/*
 * For tests: write the spill file (formats/replay.md section 10) in blocks
 * of `block` bytes instead of 256 KiB, so that small states go through the
 * file.  Only before the first compaction; block > 0.
 */
void rk_planes_spill_block(rk_planes *p, size_t block);

/*
 * Compact on the calling thread, as when the compactor thread cannot be
 * started: tests, and replay.c on machines with two CPUs or fewer.  Only
 * before the first compaction.
 */
void rk_planes_no_thread(rk_planes *p);

#endif
