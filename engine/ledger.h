/*
 * ledger.h - the append-only evidence ledger (formats/record.md,
 * formats/storage.md, formats/merkle.md).
 *
 * A ledger is a RocksDB store holding hash-chained records numbered from 0,
 * the genesis record.  Record i is leaf i of an RFC 6962 Merkle tree whose
 * perfect subtrees are stored as they complete, so proofs never rebuild the
 * tree.  Every append writes the record, its index entries, the new Merkle
 * nodes and the new head in one atomic, WAL-synced batch: when
 * rk_ledger_append returns RK_OK the records survive a crash.
 *
 * Thread safety: one rk_ledger may be used by many threads at once.
 * Concurrent appenders are group-committed: one sync serves every appender
 * waiting at that moment.  Readers do not block appenders.
 */
#ifndef RK_LEDGER_H
#define RK_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "error.h"
#include "merkle.h"
#include "note.h"
#include "record.h"

typedef struct rk_ledger rk_ledger;

#define RK_ORIGIN_MAX 255      /* bytes of an origin name */
#define RK_EVENT_KEY_MAX 1024  /* bytes of an event key */

/*
 * Create a ledger in dir (the directory may exist but must not hold a
 * ledger) with its genesis record.  origin names the ledger in checkpoints:
 * 1..RK_ORIGIN_MAX printable ASCII characters, no spaces (C2SP origin
 * rules), e.g. "reckon.example/ledger".  now_ns is the genesis time (UTC
 * nanoseconds).  RK_ERR_EXISTS when dir already holds a ledger.
 */
rk_err rk_ledger_create(const char *dir, const char *origin, int64_t now_ns,
                        char *err);

#define RK_LEDGER_READONLY 1u /* no appends; does not take the write lock */

/*
 * Open an existing ledger.  RK_ERR_NOTFOUND when dir is missing,
 * RK_ERR_VERSION for a storage format this build does not know,
 * RK_ERR_CORRUPT when the head meta data is damaged (rk_verify tells more),
 * RK_ERR_IO for storage errors (including a lock held by another process).
 */
rk_err rk_ledger_open(const char *dir, unsigned flags, rk_ledger **out, char *err);

/* Close: waits for in-flight appends to finish.  Accepts NULL. */
void rk_ledger_close(rk_ledger *l);

/* The origin name; valid until rk_ledger_close. */
const char *rk_ledger_origin(const rk_ledger *l);

/* Number of records (the next sequence number) and the last record's hash. */
void rk_ledger_head(rk_ledger *l, uint64_t *size, uint8_t hash[RK_HASH_SIZE]);

/* Merkle root over the whole ledger as of the last commit, and its size. */
void rk_ledger_root(rk_ledger *l, uint64_t *size, uint8_t root[RK_HASH_SIZE]);

/*
 * The wall clock used for recorded-at times; the default reads
 * CLOCK_REALTIME.  Tests set a fixed clock.  recorded-at never decreases
 * along the chain: an earlier clock reading is raised to the last time.
 */
typedef int64_t (*rk_clock_fn)(void *ctx);
void rk_ledger_set_clock(rk_ledger *l, rk_clock_fn fn, void *ctx);

/* With sync = 0 appends are not WAL-synced (benchmarks only). */
void rk_ledger_set_sync(rk_ledger *l, int sync);

/*
 * One record to append.  The caller fills the inputs; the ledger fills the
 * outputs.  body must be canonical JSON (formats/canonical-json.md).
 *
 * event_key, when not NULL, is a unique key (e.g. "coinbase:<event id>"):
 * if a record with that key exists, the item is not appended, status is
 * RK_ERR_EXISTS and seq is the existing record's sequence number.
 */
typedef struct rk_append_item {
    /* in */
    unsigned kind;
    const char *ref; /* NULL or NUL-terminated reference */
    const uint8_t *body;
    size_t body_len;
    const uint8_t *raw; /* NULL when there is no raw blob */
    size_t raw_len;
    const char *event_key;
    /* out */
    rk_err status;
    uint64_t seq;
    int64_t recorded_at;
    uint8_t hash[RK_HASH_SIZE];
} rk_append_item;

/*
 * Append n items in order, durably.  Returns RK_OK when the batch was
 * written (individual items may still have status RK_ERR_EXISTS), or the
 * error that failed the whole batch (nothing of it was written): RK_ERR_IO,
 * RK_ERR_INVALID / RK_ERR_TOOBIG for a bad item (its index is in err),
 * RK_ERR_CLOSED when the ledger is read-only or closing.
 */
rk_err rk_ledger_append(rk_ledger *l, rk_append_item *items, size_t n, char *err);

/* Read record seq: its bytes into buf, decoded into rec (borrowing buf). */
rk_err rk_ledger_read(rk_ledger *l, uint64_t seq, rk_buf *buf, rk_record *rec,
                      char *err);

/* Sequence number of the record holding event_key; RK_ERR_NOTFOUND if none. */
rk_err rk_ledger_find_event(rk_ledger *l, const char *event_key, uint64_t *seq,
                            char *err);

/*
 * Call fn for each sequence number whose record carries reference ref, in
 * increasing order.  fn returns RK_OK to go on; any other code stops the
 * walk and is returned.
 */
typedef rk_err (*rk_ref_fn)(void *ctx, uint64_t seq);
rk_err rk_ledger_for_ref(rk_ledger *l, const char *ref, rk_ref_fn fn, void *ctx,
                         char *err);

/*
 * Walk records [from, to) in order (to = UINT64_MAX: to the end), calling fn
 * with each decoded record (valid during the call).  fn returns RK_OK to go
 * on; any other code stops the walk and is returned.  A record that does not
 * decode stops the walk with RK_ERR_CORRUPT naming its sequence number.
 */
typedef rk_err (*rk_record_fn)(void *ctx, const rk_record *rec, const uint8_t *bytes,
                            size_t len);
rk_err rk_ledger_scan(rk_ledger *l, uint64_t from, uint64_t to, rk_record_fn fn,
                      void *ctx, char *err);

/* Merkle root of the first `size` records, from the stored subtrees. */
rk_err rk_ledger_root_at(rk_ledger *l, uint64_t size, uint8_t root[RK_HASH_SIZE],
                         char *err);
/* Leaf hash of record seq (SHA-256(0x00 || record hash)). */
rk_err rk_ledger_leaf(rk_ledger *l, uint64_t seq, uint8_t leaf[RK_HASH_SIZE],
                      char *err);
/* RFC 6962 inclusion proof of record seq in the tree of the first size records. */
rk_err rk_ledger_inclusion_proof(rk_ledger *l, uint64_t seq, uint64_t size,
                                 uint8_t proof[][RK_HASH_SIZE], size_t *n, char *err);
/* RFC 6962 consistency proof between tree sizes m <= size. */
rk_err rk_ledger_consistency_proof(rk_ledger *l, uint64_t m, uint64_t size,
                                   uint8_t proof[][RK_HASH_SIZE], size_t *n,
                                   char *err);

/*
 * Sign a checkpoint of the whole ledger with s and record it as a
 * checkpoint record.  The signed note (C2SP tlog-checkpoint in a signed
 * note) is written to note_out; *seq_out (may be NULL) is the sequence
 * number of the checkpoint record, which is itself covered by the next
 * checkpoint.
 */
rk_err rk_ledger_checkpoint(rk_ledger *l, const rk_signer *s, rk_buf *note_out,
                            uint64_t *seq_out, char *err);

/*
 * The latest checkpoint recorded: its signed note into note_out and the
 * checkpoint record's sequence number.  RK_ERR_NOTFOUND when there is none.
 */
rk_err rk_ledger_latest_checkpoint(rk_ledger *l, rk_buf *note_out, uint64_t *seq,
                                   char *err);

/* Counters for benchmarks and metrics. */
typedef struct rk_ledger_stats {
    uint64_t appends; /* items appended */
    uint64_t groups;  /* synced batches written */
} rk_ledger_stats;
void rk_ledger_stats_get(rk_ledger *l, rk_ledger_stats *st);

#endif
