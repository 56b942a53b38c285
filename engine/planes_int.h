/*
 * planes_int.h - the fold split in two, shared by planes.c and replay.c
 * only (not a public header).
 *
 * rk_planes_apply checks a body's canonical form, reads its members, then
 * folds them.  The first half needs no state, so a replay does it on the
 * thread that reads the ledger (replay.c), ahead of the fold, and the fold
 * thread does the second half only.  rk_planes_apply is exactly
 * rk_planes_prepare followed by rk_planes_apply_prepared.
 */
#ifndef RK_PLANES_INT_H
#define RK_PLANES_INT_H

#include "canon.h"
#include "planes.h"
#include "record.h"

#define RK_PLANES_FIELDS 40 /* room for every field id of planes.c */

/* The members of one body that the fold reads, by field id (planes.c). */
typedef struct rk_planes_prep {
    int status;    /* 1 members read; 0 a kind whose body is not read here; -1 not canonical */
    uint64_t has;  /* bit f: field f present */
    rk_jv val[RK_PLANES_FIELDS]; /* views into rec->body */
} rk_planes_prep;

/*
 * Check rec's body and read its members into *out.  No state, no
 * allocation: safe on any thread.  The views point into rec->body, which
 * must stay as it is until rk_planes_apply_prepared has used them.
 */
void rk_planes_prepare(const rk_record *rec, rk_planes_prep *out);

/* rk_planes_apply for a record that rk_planes_prepare has read into prep. */
rk_err rk_planes_apply_prepared(rk_planes *p, const rk_record *rec,
                                const rk_planes_prep *prep, char *err)
    __attribute__((warn_unused_result));

/*
 * For tests: write the spill file (formats/replay.md section 10) in blocks
 * of `block` bytes instead of 256 KiB, so that small states go through the
 * file.  Only before the first compaction; block > 0.
 */
void rk_planes_spill_block(rk_planes *p, size_t block);

/*
 * For tests: compact on the calling thread, as when the compactor thread
 * cannot be started.  Only before the first compaction.
 */
void rk_planes_no_thread(rk_planes *p);

#endif
