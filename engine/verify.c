/*
 * verify.c - whole-ledger verification and damage classification.
 *
 * One pass over the records column family in key order.  For each key:
 *   - a key that is not 8 bytes, or a record past the head: inserted
 *   - a gap in the sequence numbers: missing (or truncated, at the end)
 *   - a record whose stored sequence number differs from its key: reordered
 *   - bytes that do not decode, or a stored hash that does not match: modified
 *   - prev_hash not equal to the previous record's hash: the chain is
 *     broken at this record (a record rewritten with a recomputed hash)
 * The Merkle tree is recomputed from the records (never read from the store)
 * and every checkpoint, in the ledger or kept by an auditor, is checked
 * against it: directly when its size is the current size, otherwise through
 * a consistency proof built from the stored subtrees and verified against
 * the recomputed root, which proves both the checkpoint and the stored tree.
 */
#include "verify.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "canon.h"
#include "ledger_int.h"
#include "merkle.h"
#include "record.h"
#include "store.h"

const char *rk_damage_name(rk_damage d)
{
    switch (d) {
    case RK_DAMAGE_MODIFIED: return "modified";
    case RK_DAMAGE_MISSING: return "missing";
    case RK_DAMAGE_REORDERED: return "reordered";
    case RK_DAMAGE_INSERTED: return "inserted";
    case RK_DAMAGE_TRUNCATED: return "truncated";
    case RK_DAMAGE_ROLLED_BACK: return "rolled-back";
    case RK_DAMAGE_REWRITTEN: return "rewritten";
    case RK_DAMAGE_BAD_SIGNATURE: return "bad-signature";
    case RK_DAMAGE_UNSUPPORTED: return "unsupported";
    case RK_DAMAGE_META: return "meta";
    }
    return "unknown";
}

struct vstate {
    const rk_verify_opts *opts;
    rk_verify_summary *sum;
    rk_store *store;
    char origin[256];
    int have_head;
    struct rk_head head;
    /* the recomputed chain */
    uint64_t expected;           /* next sequence number the chain needs */
    int linked;                  /* prev_hash is known: no gap or undecodable record */
    uint8_t prev_hash[RK_HASH_SIZE];
    int64_t prev_time;
    int tree_ok;                 /* frontier covers every record so far */
    rk_merkle_frontier frontier;
};

static void problem(struct vstate *v, uint64_t seq, rk_damage d, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void problem(struct vstate *v, uint64_t seq, rk_damage d, const char *fmt, ...)
{
    char what[RK_ERROR_SIZE];
    rk_problem p;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    v->sum->problems++;
    if (v->opts->on_problem == NULL)
        return;
    p.seq = seq;
    p.damage = d;
    p.what = what;
    v->opts->on_problem(v->opts->ctx, &p);
}

static void read_meta(struct vstate *v)
{
    rk_buf b = RK_BUF_INIT;
    char e[RK_ERROR_SIZE] = "";
    rk_err rc;

    rc = rk_store_get(v->store, RK_CF_META, RK_META_ORIGIN, strlen(RK_META_ORIGIN), &b, e);
    if (rc == RK_OK && b.len > 0 && b.len < sizeof v->origin)
        memcpy(v->origin, b.data, b.len);
    else
        problem(v, RK_VERIFY_NO_SEQ, RK_DAMAGE_META, "ledger origin is missing or damaged");
    rc = rk_store_get(v->store, RK_CF_META, RK_META_HEAD, strlen(RK_META_HEAD), &b, e);
    if (rc == RK_OK)
        rc = rk_head_decode(&v->head, b.data, b.len, e);
    else if (rc == RK_ERR_NOTFOUND)
        snprintf(e, sizeof e, "ledger head is missing");
    if (rc == RK_OK)
        v->have_head = 1;
    else
        problem(v, RK_VERIFY_NO_SEQ,
                rc == RK_ERR_VERSION ? RK_DAMAGE_UNSUPPORTED : RK_DAMAGE_META, "%s", e);
    rk_buf_free(&b);
}

/*
 * Does the checkpoint (size, root) describe the first `size` of the records
 * recomputed so far?  Direct comparison at the current size, otherwise a
 * consistency proof from the stored subtrees checked against our root.
 */
static rk_err checkpoint_matches(struct vstate *v, uint64_t size,
                                 const uint8_t root[RK_HASH_SIZE], char *e)
{
    uint8_t cur[RK_HASH_SIZE];
    uint8_t proof[2 * RK_MERKLE_MAX_LEVELS][RK_HASH_SIZE];
    size_t n = 0;
    rk_err rc;

    rk_merkle_frontier_root(&v->frontier, cur);
    if (size == v->frontier.size)
        return memcmp(cur, root, RK_HASH_SIZE) == 0 ? RK_OK : RK_ERR_SIGNATURE;
    rc = rk_merkle_consistency_proof(rk_store_merkle_get, v->store, size,
                                     v->frontier.size, proof, &n, e);
    if (rc != RK_OK)
        return rc;
    return rk_merkle_verify_consistency(size, v->frontier.size, root, cur,
                                        (const uint8_t(*)[RK_HASH_SIZE])proof, n);
}

/* Check one signed checkpoint note; `at` is the record holding it or NO_SEQ. */
static void check_note(struct vstate *v, uint64_t at, const char *note, size_t len,
                       const char *label, uint64_t *size_out)
{
    rk_checkpoint cp;
    char e[RK_ERROR_SIZE] = "";
    size_t text_len = 0;
    rk_err rc;

    rc = rk_note_text(note, len, &text_len, e);
    if (rc == RK_OK)
        rc = rk_checkpoint_parse(note, text_len, &cp, e);
    if (rc != RK_OK) {
        problem(v, at, RK_DAMAGE_MODIFIED, "%s does not parse: %s", label, e);
        return;
    }
    if (size_out != NULL)
        *size_out = cp.size;
    if (strcmp(cp.origin, v->origin) != 0)
        problem(v, at, RK_DAMAGE_REWRITTEN, "%s is for origin '%s', the ledger is '%s'",
                label, cp.origin, v->origin);
    if (v->opts->pubkey != NULL) {
        rc = rk_note_verify(v->opts->pubkey, note, len, &text_len, e);
        if (rc == RK_OK)
            v->sum->signatures++;
        else
            problem(v, at, RK_DAMAGE_BAD_SIGNATURE, "%s signature does not verify: %s",
                    label, e);
    }
    if (!v->tree_ok) {
        problem(v, at, RK_DAMAGE_META, "%s (size %llu) not checked: the chain before it "
                "is broken", label, (unsigned long long)cp.size);
        return;
    }
    if (cp.size > v->frontier.size) {
        problem(v, at, RK_DAMAGE_ROLLED_BACK, "%s covers %llu records but the ledger has "
                "%llu: truncated or rolled back", label, (unsigned long long)cp.size,
                (unsigned long long)v->frontier.size);
        return;
    }
    e[0] = '\0';
    rc = checkpoint_matches(v, cp.size, cp.root, e);
    if (rc == RK_OK)
        return;
    if (rc == RK_ERR_SIGNATURE)
        problem(v, at, RK_DAMAGE_REWRITTEN, "%s (size %llu): the records before it are "
                "not the ones it signed", label, (unsigned long long)cp.size);
    else
        problem(v, at, RK_DAMAGE_META, "%s (size %llu): cannot build a consistency proof "
                "from the stored tree: %s", label, (unsigned long long)cp.size, e);
}

static void check_checkpoint_record(struct vstate *v, const rk_record *r)
{
    cJSON *obj = NULL;
    const char *note = NULL;
    char e[RK_ERROR_SIZE] = "";
    uint64_t body_size = 0, note_size = UINT64_MAX;

    v->sum->checkpoints++;
    if (rk_json_parse((const char *)r->body, r->body_len, &obj, e) != RK_OK ||
        rk_json_get_string(obj, "note", &note, e) != RK_OK ||
        rk_json_get_u64(obj, "size", &body_size, e) != RK_OK) {
        problem(v, r->seq, RK_DAMAGE_MODIFIED, "checkpoint body is not valid: %s", e);
        goto out;
    }
    check_note(v, r->seq, note, strlen(note), "checkpoint", &note_size);
    if (note_size != UINT64_MAX && note_size != body_size)
        problem(v, r->seq, RK_DAMAGE_MODIFIED, "checkpoint body says size %llu, its note %llu",
                (unsigned long long)body_size, (unsigned long long)note_size);
out:
    cJSON_Delete(obj);
}

/*
 * One stored record under key seq.  pre is its hash (rk_record_compute_hash)
 * when the reader thread computed it, or NULL.
 */
static void check_record(struct vstate *v, uint64_t seq, const uint8_t *val, size_t len,
                         const uint8_t *pre)
{
    rk_record r;
    uint8_t h[RK_HASH_SIZE], leaf[RK_HASH_SIZE];
    char e[RK_ERROR_SIZE] = "";
    rk_err rc;

    v->sum->records++;
    v->sum->bytes += len;
    if (seq > v->expected) {
        if (seq - v->expected == 1)
            problem(v, v->expected, RK_DAMAGE_MISSING, "record is missing");
        else
            problem(v, v->expected, RK_DAMAGE_MISSING, "records %llu..%llu are missing",
                    (unsigned long long)v->expected, (unsigned long long)(seq - 1));
        v->linked = 0;
        v->tree_ok = 0;
    }
    v->expected = seq + 1;
    rc = rk_record_decode(val, len, &r, e);
    if (rc != RK_OK) {
        problem(v, seq, rc == RK_ERR_VERSION ? RK_DAMAGE_UNSUPPORTED : RK_DAMAGE_MODIFIED,
                "%s", e);
        v->linked = 0;
        v->tree_ok = 0;
        return;
    }
    if (r.seq != seq) {
        problem(v, seq, RK_DAMAGE_REORDERED, "holds record %llu",
                (unsigned long long)r.seq);
        v->linked = 0;
        v->tree_ok = 0;
        memcpy(v->prev_hash, r.hash, RK_HASH_SIZE);
        return;
    }
    /* decoded: len >= RK_RECORD_OVERHEAD, so the reader hashed these same bytes */
    if (pre != NULL)
        memcpy(h, pre, RK_HASH_SIZE);
    else
        rk_record_compute_hash(val, len, h);
    if (memcmp(h, r.hash, RK_HASH_SIZE) != 0) {
        problem(v, seq, RK_DAMAGE_MODIFIED, "record hash mismatch");
        v->tree_ok = 0;
    } else if (seq == 0 && r.kind != RK_KIND_GENESIS) {
        problem(v, seq, RK_DAMAGE_MODIFIED, "record 0 is a %s record, not genesis",
                rk_kind_name(r.kind));
    } else if (seq > 0 && r.kind == RK_KIND_GENESIS) {
        problem(v, seq, RK_DAMAGE_MODIFIED, "a second genesis record");
    } else if (rk_canon_check((const char *)r.body, r.body_len, e) != RK_OK) {
        /* the hash matches: whoever wrote it hashed a body the appender refuses */
        problem(v, seq, RK_DAMAGE_MODIFIED, "body is not canonical JSON: %s", e);
    }
    if (v->linked && memcmp(r.prev_hash, v->prev_hash, RK_HASH_SIZE) != 0)
        problem(v, seq, RK_DAMAGE_MODIFIED, "chain broken: prev_hash does not match "
                "record %llu (one of the two was rewritten)",
                (unsigned long long)(seq - 1));
    if (v->linked && seq > 0 && r.recorded_at < v->prev_time)
        problem(v, seq, RK_DAMAGE_MODIFIED, "recorded-at goes back in time");
    /* the stored hash carries the chain on, so one bad record is reported once */
    memcpy(v->prev_hash, r.hash, RK_HASH_SIZE);
    v->prev_time = r.recorded_at;
    v->linked = 1;
    if (v->tree_ok) {
        rk_merkle_leaf_hash(leaf, h, RK_HASH_SIZE);
        rk_merkle_frontier_append(&v->frontier, leaf, NULL, NULL);
    }
    if (r.kind == RK_KIND_CHECKPOINT)
        check_checkpoint_record(v, &r);
}

static void check_head(struct vstate *v)
{
    uint8_t a[RK_HASH_SIZE], b[RK_HASH_SIZE];

    if (!v->have_head)
        return;
    if (v->expected < v->head.size)
        problem(v, v->expected, RK_DAMAGE_TRUNCATED, "records %llu..%llu are missing at "
                "the end (the head says %llu records)", (unsigned long long)v->expected,
                (unsigned long long)(v->head.size - 1), (unsigned long long)v->head.size);
    if (v->expected == v->head.size && v->linked &&
        memcmp(v->head.hash, v->prev_hash, RK_HASH_SIZE) != 0)
        problem(v, v->head.size - 1, RK_DAMAGE_MODIFIED,
                "the head's hash is not this record's hash");
    if (v->tree_ok && v->frontier.size == v->head.size) {
        rk_merkle_frontier_root(&v->frontier, a);
        rk_merkle_frontier_root(&v->head.frontier, b);
        if (memcmp(a, b, RK_HASH_SIZE) != 0)
            problem(v, RK_VERIFY_NO_SEQ, RK_DAMAGE_META,
                    "the head's Merkle state does not match the records");
    }
}

/* One key/value of the records column family. */
static void check_key(struct vstate *v, const uint8_t *k, size_t klen, const uint8_t *val,
                      size_t vlen, const uint8_t *pre)
{
    uint64_t seq;

    if (klen != 8) {
        problem(v, RK_VERIFY_NO_SEQ, RK_DAMAGE_INSERTED,
                "records: a key of %zu bytes is not a sequence number", klen);
        return;
    }
    seq = rk_get_be64(k);
    if (v->have_head && seq >= v->head.size) {
        problem(v, seq, RK_DAMAGE_INSERTED, "record beyond the head (%llu records)",
                (unsigned long long)v->head.size);
        return;
    }
    check_record(v, seq, val, vlen, pre);
    if (v->opts->on_progress != NULL && (v->sum->records & 0xffff) == 0)
        v->opts->on_progress(v->opts->ctx, v->sum->records,
                             v->have_head ? v->head.size : 0);
}

/*
 * The reader thread: RocksDB iteration and decompression run on one core
 * while checking runs on the other.  The largest single cost of a check is
 * the record hash (SHA-256 over the whole record); measured, the checking
 * thread carries a little more than the reader, so the reader computes the
 * hash of every other record and the two carry about equal work.  It fills
 * batches of [key length BE32 | value length BE32 | key | value | flag (1) |
 * hash (32)] entries, handed over through a queue of RK_VERIFY_BATCHES
 * buffers.  Flag 1: the hash is SHA-256 of value[0 .. vlen-32), computed
 * only when vlen >= RK_RECORD_OVERHEAD; flag 0: the checker computes it.
 */
#define RK_VERIFY_BATCHES 4
#define RK_VERIFY_BATCH_BYTES (1u << 20)

struct batch {
    rk_buf data;
};

struct reader {
    rk_store *store;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct batch slots[RK_VERIFY_BATCHES];
    unsigned head, count;   /* full batches waiting: [head, head+count) */
    unsigned free_next;     /* next slot the reader fills */
    int eof, stop;
    rk_err rc;
    char err[RK_ERROR_SIZE];
};

static void *reader_main(void *arg)
{
    struct reader *r = arg;
    rk_store_iter *it = NULL;
    struct batch *b = NULL;
    const uint8_t *k, *val;
    size_t klen, vlen;
    uint8_t lens[8], h[1 + RK_HASH_SIZE];
    uint64_t n = 0;
    rk_err rc;

    rc = rk_store_iter_new(r->store, RK_CF_RECORDS, NULL, 0, &it, r->err);
    while (rc == RK_OK) {
        pthread_mutex_lock(&r->mu);
        while (r->count == RK_VERIFY_BATCHES && !r->stop)
            pthread_cond_wait(&r->cv, &r->mu);
        if (r->stop) {
            pthread_mutex_unlock(&r->mu);
            break;
        }
        b = &r->slots[r->free_next];
        pthread_mutex_unlock(&r->mu);
        rk_buf_reset(&b->data);
        for (; rk_store_iter_valid(it) && b->data.len < RK_VERIFY_BATCH_BYTES;
             rk_store_iter_next(it)) {
            k = rk_store_iter_key(it, &klen);
            val = rk_store_iter_value(it, &vlen);
            rk_put_be32(lens, (uint32_t)klen);
            rk_put_be32(lens + 4, (uint32_t)vlen);
            memset(h, 0, sizeof h);
            if ((n++ & 1) != 0 && vlen >= RK_RECORD_OVERHEAD) {
                h[0] = 1;
                rk_record_compute_hash(val, vlen, h + 1);
            }
            if (rk_buf_append(&b->data, lens, 8) != RK_OK ||
                rk_buf_append(&b->data, k, klen) != RK_OK ||
                rk_buf_append(&b->data, val, vlen) != RK_OK ||
                rk_buf_append(&b->data, h, sizeof h) != RK_OK) {
                rc = rk_seterr(r->err, RK_ERR_NOMEM, "out of memory");
                break;
            }
        }
        if (rc == RK_OK && !rk_store_iter_valid(it))
            rc = rk_store_iter_status(it, r->err);
        pthread_mutex_lock(&r->mu);
        r->free_next = (r->free_next + 1) % RK_VERIFY_BATCHES;
        r->count++;
        if (rc != RK_OK || !rk_store_iter_valid(it))
            r->eof = 1;
        pthread_cond_broadcast(&r->cv);
        pthread_mutex_unlock(&r->mu);
        if (r->eof)
            break;
    }
    pthread_mutex_lock(&r->mu);
    r->rc = rc;
    r->eof = 1;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    rk_store_iter_free(it);
    return NULL;
}

static rk_err reader_start(struct reader *r, rk_store *store, char *err)
{
    memset(r, 0, sizeof *r);
    r->store = store;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    if (pthread_create(&r->thread, NULL, reader_main, r) != 0) {
        pthread_cond_destroy(&r->cv);
        pthread_mutex_destroy(&r->mu);
        return rk_seterr(err, RK_ERR_NOMEM, "cannot start the reader thread");
    }
    return RK_OK;
}

/* The next full batch in order, or NULL when the reader is done. */
static struct batch *reader_next(struct reader *r)
{
    struct batch *b = NULL;

    pthread_mutex_lock(&r->mu);
    while (r->count == 0 && !r->eof)
        pthread_cond_wait(&r->cv, &r->mu);
    if (r->count > 0)
        b = &r->slots[r->head];
    pthread_mutex_unlock(&r->mu);
    return b;
}

static void reader_done(struct reader *r, struct batch *b)
{
    (void)b;
    pthread_mutex_lock(&r->mu);
    r->head = (r->head + 1) % RK_VERIFY_BATCHES;
    r->count--;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

static rk_err reader_stop(struct reader *r, char *err)
{
    unsigned i;
    rk_err rc;

    pthread_mutex_lock(&r->mu);
    r->stop = 1;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
    rc = r->rc;
    if (rc != RK_OK && err != NULL)
        memcpy(err, r->err, RK_ERROR_SIZE);
    for (i = 0; i < RK_VERIFY_BATCHES; i++)
        rk_buf_free(&r->slots[i].data);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    return rc;
}

rk_err rk_verify_ledger(const char *dir, const rk_verify_opts *opts,
                        rk_verify_summary *sum, char *err)
{
    struct vstate v;
    struct reader rd;
    struct batch *b;
    const uint8_t *k, *val;
    size_t off, klen = 0, vlen = 0;
    rk_err rc;

    memset(sum, 0, sizeof *sum);
    memset(&v, 0, sizeof v);
    v.opts = opts;
    v.sum = sum;
    v.linked = 1;
    v.tree_ok = 1;
    rk_merkle_frontier_init(&v.frontier);
    rc = rk_store_open(dir, RK_STORE_READONLY, &v.store, err);
    if (rc != RK_OK)
        return rc;
    read_meta(&v);
    rc = reader_start(&rd, v.store, err);
    if (rc != RK_OK)
        goto out;
    while ((b = reader_next(&rd)) != NULL) {
        for (off = 0; off < b->data.len; off += 8 + klen + vlen + 1 + RK_HASH_SIZE) {
            klen = rk_get_be32(b->data.data + off);
            vlen = rk_get_be32(b->data.data + off + 4);
            k = b->data.data + off + 8;
            val = k + klen;
            check_key(&v, k, klen, val, vlen, val[vlen] == 1 ? val + vlen + 1 : NULL);
        }
        reader_done(&rd, b);
    }
    rc = reader_stop(&rd, err);
    if (rc != RK_OK) {
        problem(&v, v.expected, RK_DAMAGE_META, "storage error after this record: %s", err);
        rc = RK_OK;
    }
    check_head(&v);
    if (opts->trusted != NULL)
        check_note(&v, RK_VERIFY_NO_SEQ, opts->trusted, opts->trusted_len,
                   "trusted checkpoint", NULL);
    sum->size = v.expected;
    rk_merkle_frontier_root(&v.frontier, sum->root);
    if (sum->problems > 0)
        rc = rk_seterr(err, RK_ERR_CORRUPT, "%llu problem%s found",
                       (unsigned long long)sum->problems, sum->problems == 1 ? "" : "s");
out:
    rk_store_close(v.store);
    return rc;
}
