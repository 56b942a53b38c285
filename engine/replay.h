/*
 * replay.h - the deterministic replayer: three-plane state as of any record
 * or time, the timeline of one payment, and the difference between two
 * points (formats/replay.md is the output format, byte for byte).
 *
 * The replayer folds the ledger's records in sequence order into an
 * rk_planes state (engine/planes.h) and prints canonical JSON.  It reads no
 * clock: the same ledger and point give byte-identical output on every run,
 * and the state digest is the same for any arrival order of the same
 * provider events with any number of duplicates.  It keeps no snapshots:
 * every call folds from record 0.  During a fold, closed payments are
 * compacted and read back from l when a late record joins them
 * (formats/replay.md section 10); a state returned by rk_replay_fold no
 * longer needs l.
 */
#ifndef RK_REPLAY_H
#define RK_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "error.h"
#include "ledger.h"
#include "planes.h"

/*
 * A replay point: the records with sequence number <= at and recorded-at
 * <= as_of.  RK_REPLAY_POINT_END is the whole ledger.
 */
typedef struct rk_replay_point {
    uint64_t at;   /* last sequence number included; UINT64_MAX: no limit */
    int64_t as_of; /* recorded-at limit, UTC ns; INT64_MAX: no limit */
} rk_replay_point;

#define RK_REPLAY_POINT_END { UINT64_MAX, INT64_MAX }

/* Where a fold stopped. */
typedef struct rk_replay_at {
    uint64_t records;    /* records folded (the point is records - 1) */
    int64_t recorded_at; /* recorded-at of the last record folded */
    int has_as_of;       /* the point was given as a time */
    int64_t as_of;
} rk_replay_at;

/*
 * Fold the records of l up to pt into a new state (*out, freed with
 * rk_planes_free) and describe the point in *at.
 * RK_ERR_NOTFOUND when pt->at is beyond the last record;
 * RK_ERR_CORRUPT / RK_ERR_IO from the ledger scan; RK_ERR_NOMEM.
 */
rk_err rk_replay_fold(rk_ledger *l, const rk_replay_point *pt, rk_planes **out,
                      rk_replay_at *at, char *err)
    __attribute__((warn_unused_result));

/*
 * The replay document of formats/replay.md for state p at point at, appended
 * to out: {"at":{..},"evidence":{..},"state":{..},"state_digest":"HEX"}.
 * ref: NULL for all payments, else only that one (RK_ERR_NOTFOUND when the
 * state has no such payment).  digest_out (may be NULL) receives the 32-byte
 * state digest.
 */
rk_err rk_replay_document(rk_planes *p, const rk_replay_at *at, const char *ref,
                          rk_buf *out, uint8_t digest_out[RK_HASH_SIZE], char *err)
    __attribute__((warn_unused_result));

/* rk_replay_fold then rk_replay_document. */
rk_err rk_replay_run(rk_ledger *l, const rk_replay_point *pt, const char *ref,
                     rk_buf *out, char *err)
    __attribute__((warn_unused_result));

/*
 * The timeline of payment ref up to pt: one canonical JSON line (ending in
 * '\n') per record that touched it, appended to out (formats/replay.md
 * "Timeline").  RK_ERR_NOTFOUND when the state at pt has no payment ref.
 */
rk_err rk_replay_timeline(rk_ledger *l, const char *ref, const rk_replay_point *pt,
                          rk_buf *out, char *err)
    __attribute__((warn_unused_result));

/*
 * What changed between two points (formats/replay.md "Diff"), as one
 * canonical JSON document appended to out.  RK_ERR_INVALID when from lies
 * after to; RK_ERR_NOTFOUND when a point is beyond the last record.
 */
rk_err rk_replay_diff(rk_ledger *l, const rk_replay_point *from, const rk_replay_point *to,
                      rk_buf *out, char *err)
    __attribute__((warn_unused_result));

#endif
