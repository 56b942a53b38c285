/*
 * verify.h - whole-ledger verification and damage classification.
 *
 * rk_verify_ledger reads the store directly (read-only, so it works beside a
 * running server and on a ledger too damaged to open normally), recomputes
 * every record hash, every link, the sequence numbers, the Merkle tree and
 * every checkpoint, and reports each problem it finds with the sequence
 * number and the kind of damage.  It never stops at the first problem.
 */
#ifndef RK_VERIFY_H
#define RK_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "note.h"

/* Kinds of damage; the names are printed and documented in formats/verify.md. */
typedef enum rk_damage {
    RK_DAMAGE_MODIFIED = 0,    /* a record's bytes changed */
    RK_DAMAGE_MISSING = 1,     /* records absent from the middle of the chain */
    RK_DAMAGE_REORDERED = 2,   /* a record stored under another sequence number */
    RK_DAMAGE_INSERTED = 3,    /* a key or record that the chain does not account for */
    RK_DAMAGE_TRUNCATED = 4,   /* records absent at the end */
    RK_DAMAGE_ROLLED_BACK = 5, /* fewer records than a checkpoint covers */
    RK_DAMAGE_REWRITTEN = 6,   /* history differs from a signed checkpoint */
    RK_DAMAGE_BAD_SIGNATURE = 7, /* a checkpoint signature does not verify */
    RK_DAMAGE_UNSUPPORTED = 8, /* a record or meta value of an unknown version */
    RK_DAMAGE_META = 9,        /* head, Merkle or index data is damaged */
} rk_damage;

const char *rk_damage_name(rk_damage d); /* "modified", "rolled-back", ... */

#define RK_VERIFY_NO_SEQ UINT64_MAX /* a problem not tied to one record */

typedef struct rk_problem {
    uint64_t seq;      /* the record concerned, or RK_VERIFY_NO_SEQ */
    rk_damage damage;
    const char *what;  /* lowercase detail, valid during the callback */
} rk_problem;

typedef void (*rk_problem_fn)(void *ctx, const rk_problem *p);
/* Called about every 65536 records with records done and the head's count. */
typedef void (*rk_progress_fn)(void *ctx, uint64_t done, uint64_t total);

typedef struct rk_verify_opts {
    const rk_verifier *pubkey;  /* checks checkpoint signatures; NULL: not checked */
    const char *trusted;        /* a signed checkpoint kept by an auditor, or NULL */
    size_t trusted_len;
    rk_problem_fn on_problem;   /* may be NULL */
    rk_progress_fn on_progress; /* may be NULL */
    void *ctx;
} rk_verify_opts;

typedef struct rk_verify_summary {
    uint64_t records;          /* records read */
    uint64_t bytes;            /* record bytes read */
    uint64_t checkpoints;      /* checkpoint records found */
    uint64_t signatures;       /* checkpoint signatures verified good */
    uint64_t problems;         /* problems reported */
    uint64_t size;             /* chain length verified (head) */
    uint8_t root[32];          /* Merkle root recomputed over the records */
} rk_verify_summary;

/*
 * Verify the ledger in dir.  RK_OK: intact.  RK_ERR_CORRUPT: problems were
 * found and reported through opts->on_problem (summary->problems counts
 * them).  Other codes: the verification itself could not run (cannot open,
 * I/O error, a malformed trusted checkpoint), described in err.
 */
rk_err rk_verify_ledger(const char *dir, const rk_verify_opts *opts,
                        rk_verify_summary *summary, char *err)
    __attribute__((warn_unused_result));

#endif
