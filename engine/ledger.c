/*
 * ledger.c - append (group commit), read, indexes and Merkle state of the
 * evidence ledger (formats/storage.md).
 *
 * Group commit: an appender queues its request; if no leader is writing it
 * becomes the leader, takes every queued request, chains and encodes them
 * into one WriteBatch against a copy of the head state, writes it with one
 * WAL sync, and only then publishes the new head and wakes the others.  A
 * failed write publishes nothing, so the in-memory head always equals the
 * durable one.
 */
#include "ledger.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>

#include "canon.h"
#include "ledger_int.h"
#include "store.h"

#define STORAGE_VERSION RK_STORAGE_VERSION
#define HEAD_VERSION RK_HEAD_VERSION
#define MERKLE_KEY_SIZE RK_MERKLE_KEY_SIZE

static const char META_FORMAT[] = RK_META_FORMAT;
static const char META_ORIGIN[] = RK_META_ORIGIN;
static const char META_HEAD[] = RK_META_HEAD;
static const char META_CHECKPOINT[] = RK_META_CHECKPOINT;


struct request {
    rk_append_item *items;
    size_t n;
    rk_err rc;
    char *err;
    int done;
    struct request *next;
    pthread_cond_t cv; /* signalled when done, or when it is to lead */
};

struct rk_ledger {
    rk_store *store;
    int readonly;
    int sync;
    char origin[RK_ORIGIN_MAX + 1];
    rk_clock_fn clock;
    void *clock_ctx;

    pthread_mutex_t mu; /* guards everything below */
    pthread_cond_t cv;
    struct rk_head head;
    struct request *queue, *queue_tail;
    int leader;  /* a leader is writing */
    int closing;
    rk_ledger_stats stats;
    /* leader-only scratch, reused between groups */
    rk_store_batch *batch;
    rk_buf enc;
};

static int64_t wall_clock(void *ctx)
{
    struct timespec ts;

    (void)ctx;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t fixed_clock(void *ctx)
{
    return *(const int64_t *)ctx;
}

static int origin_ok(const char *o)
{
    size_t i, n = strlen(o);

    if (n == 0 || n > RK_ORIGIN_MAX)
        return 0;
    for (i = 0; i < n; i++)
        if (o[i] <= 0x20 || o[i] >= 0x7f)
            return 0;
    return 1;
}

void rk_merkle_key(uint8_t key[MERKLE_KEY_SIZE], unsigned level, uint64_t index)
{
    key[0] = (uint8_t)level;
    rk_put_be64(key + 1, index);
}

rk_err rk_head_encode(const struct rk_head *h, rk_buf *out)
{
    uint8_t fixed[1 + 8 + RK_HASH_SIZE + 8];

    fixed[0] = HEAD_VERSION;
    rk_put_be64(fixed + 1, h->size);
    memcpy(fixed + 9, h->hash, RK_HASH_SIZE);
    rk_put_be64(fixed + 9 + RK_HASH_SIZE, (uint64_t)h->last_time);
    rk_buf_reset(out);
    if (rk_buf_append(out, fixed, sizeof fixed) != RK_OK)
        return RK_ERR_NOMEM;
    return rk_merkle_frontier_encode(&h->frontier, out);
}

rk_err rk_head_decode(struct rk_head *h, const uint8_t *p, size_t len, char *err)
{
    const size_t fixed = 1 + 8 + RK_HASH_SIZE + 8;
    rk_err rc;

    if (len < fixed)
        return rk_seterr(err, RK_ERR_CORRUPT, "ledger head is %zu bytes, too short", len);
    if (p[0] != HEAD_VERSION)
        return rk_seterr(err, RK_ERR_VERSION, "ledger head version %u is not supported",
                         p[0]);
    h->size = rk_get_be64(p + 1);
    memcpy(h->hash, p + 9, RK_HASH_SIZE);
    h->last_time = (int64_t)rk_get_be64(p + 9 + RK_HASH_SIZE);
    rc = rk_merkle_frontier_decode(&h->frontier, p + fixed, len - fixed, err);
    if (rc != RK_OK)
        return rk_preferr(err, rc, "ledger head");
    if (h->frontier.size != h->size)
        return rk_seterr(err, RK_ERR_CORRUPT,
                         "ledger head says %llu records but its Merkle state %llu",
                         (unsigned long long)h->size,
                         (unsigned long long)h->frontier.size);
    return RK_OK;
}

/* ---- open / create / close ------------------------------------------ */

static rk_ledger *ledger_new(void)
{
    rk_ledger *l = calloc(1, sizeof *l);

    if (l == NULL)
        return NULL;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    l->clock = wall_clock;
    l->sync = 1;
    rk_buf_init(&l->enc);
    rk_merkle_frontier_init(&l->head.frontier);
    return l;
}

rk_err rk_ledger_open(const char *dir, unsigned flags, rk_ledger **out, char *err)
{
    rk_ledger *l;
    rk_buf v = RK_BUF_INIT;
    rk_err rc;

    *out = NULL;
    l = ledger_new();
    if (l == NULL)
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    l->readonly = (flags & RK_LEDGER_READONLY) != 0;
    rc = rk_store_open(dir, l->readonly ? RK_STORE_READONLY : 0, &l->store, err);
    if (rc != RK_OK)
        goto fail;
    rc = rk_store_get(l->store, RK_CF_META, META_FORMAT, sizeof META_FORMAT - 1, &v, err);
    if (rc == RK_ERR_NOTFOUND) {
        rc = rk_seterr(err, RK_ERR_CORRUPT, "'%s' is not a reckon ledger (no format key)",
                       dir);
        goto fail;
    }
    if (rc != RK_OK)
        goto fail;
    if (v.len != 1 || v.data[0] != STORAGE_VERSION) {
        rc = rk_seterr(err, RK_ERR_VERSION, "ledger '%s' has storage format %u, "
                       "this build reads %u", dir, v.len ? v.data[0] : 0, STORAGE_VERSION);
        goto fail;
    }
    rc = rk_store_get(l->store, RK_CF_META, META_ORIGIN, sizeof META_ORIGIN - 1, &v, err);
    if (rc == RK_OK && (v.len == 0 || v.len > RK_ORIGIN_MAX))
        rc = rk_seterr(err, RK_ERR_CORRUPT, "ledger origin is damaged");
    if (rc == RK_ERR_NOTFOUND)
        rc = rk_seterr(err, RK_ERR_CORRUPT, "ledger origin is missing");
    if (rc != RK_OK)
        goto fail;
    memcpy(l->origin, v.data, v.len);
    l->origin[v.len] = '\0';
    rc = rk_store_get(l->store, RK_CF_META, META_HEAD, sizeof META_HEAD - 1, &v, err);
    if (rc == RK_ERR_NOTFOUND)
        rc = rk_seterr(err, RK_ERR_CORRUPT, "ledger head is missing");
    if (rc != RK_OK)
        goto fail;
    rc = rk_head_decode(&l->head, v.data, v.len, err);
    if (rc != RK_OK)
        goto fail;
    if (!l->readonly) {
        l->batch = rk_store_batch_new(l->store);
        if (l->batch == NULL) {
            rc = rk_seterr(err, RK_ERR_NOMEM, "out of memory");
            goto fail;
        }
    }
    rk_buf_free(&v);
    *out = l;
    return RK_OK;
fail:
    rk_buf_free(&v);
    rk_ledger_close(l);
    return rc;
}

rk_err rk_ledger_create(const char *dir, const char *origin, int64_t now_ns, char *err)
{
    rk_store *s = NULL;
    rk_store_batch *b = NULL;
    rk_ledger *l = NULL;
    rk_buf body = RK_BUF_INIT, head = RK_BUF_INIT;
    struct rk_head h;
    rk_append_item item;
    uint8_t ver = STORAGE_VERSION;
    rk_err rc;

    if (!origin_ok(origin))
        return rk_seterr(err, RK_ERR_INVALID, "origin '%s' must be 1..%d printable "
                         "ASCII characters without spaces", origin, RK_ORIGIN_MAX);
    rc = rk_store_open(dir, RK_STORE_CREATE, &s, err);
    if (rc != RK_OK)
        return rc;
    /* an empty head first: genesis then goes through the normal append path */
    memset(&h, 0, sizeof h);
    rk_merkle_frontier_init(&h.frontier);
    h.last_time = now_ns;
    b = rk_store_batch_new(s);
    if (b == NULL || rk_head_encode(&h, &head) != RK_OK) {
        rc = rk_seterr(err, RK_ERR_NOMEM, "out of memory");
        goto out;
    }
    rk_store_batch_put(b, RK_CF_META, META_FORMAT, sizeof META_FORMAT - 1, &ver, 1);
    rk_store_batch_put(b, RK_CF_META, META_ORIGIN, sizeof META_ORIGIN - 1, origin,
                       strlen(origin));
    rk_store_batch_put(b, RK_CF_META, META_HEAD, sizeof META_HEAD - 1, head.data,
                       head.len);
    rc = rk_store_write(s, b, 1, err);
    rk_store_close(s);
    s = NULL;
    if (rc != RK_OK)
        goto out;
    rc = rk_ledger_open(dir, 0, &l, err);
    if (rc != RK_OK)
        goto out;
    /* origin passed origin_ok: no character needs escaping */
    if (rk_buf_printf(&body, "{\"created_at\":%lld,\"format\":%d,\"origin\":\"%s\"}",
                      (long long)now_ns, STORAGE_VERSION, origin) != RK_OK) {
        rc = rk_seterr(err, RK_ERR_NOMEM, "out of memory");
        goto out;
    }
    memset(&item, 0, sizeof item);
    item.kind = RK_KIND_GENESIS;
    item.body = body.data;
    item.body_len = body.len;
    rk_ledger_set_clock(l, fixed_clock, &now_ns);
    rc = rk_ledger_append(l, &item, 1, err);
out:
    rk_ledger_close(l);
    rk_store_batch_free(b);
    rk_store_close(s);
    rk_buf_free(&body);
    rk_buf_free(&head);
    return rc;
}

void rk_ledger_close(rk_ledger *l)
{
    if (l == NULL)
        return;
    pthread_mutex_lock(&l->mu);
    l->closing = 1;
    while (l->leader || l->queue != NULL)
        pthread_cond_wait(&l->cv, &l->mu);
    pthread_mutex_unlock(&l->mu);
    /* best effort: a failed flush loses nothing, the WAL still holds it all */
    if (!l->readonly && l->store != NULL)
        (void)rk_store_flush(l->store, NULL);
    rk_store_batch_free(l->batch);
    rk_store_close(l->store);
    rk_buf_free(&l->enc);
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

const char *rk_ledger_origin(const rk_ledger *l)
{
    return l->origin;
}

void rk_ledger_head(rk_ledger *l, uint64_t *size, uint8_t hash[RK_HASH_SIZE])
{
    pthread_mutex_lock(&l->mu);
    *size = l->head.size;
    if (hash != NULL)
        memcpy(hash, l->head.hash, RK_HASH_SIZE);
    pthread_mutex_unlock(&l->mu);
}

void rk_ledger_root(rk_ledger *l, uint64_t *size, uint8_t root[RK_HASH_SIZE])
{
    pthread_mutex_lock(&l->mu);
    *size = l->head.size;
    rk_merkle_frontier_root(&l->head.frontier, root);
    pthread_mutex_unlock(&l->mu);
}

void rk_ledger_set_clock(rk_ledger *l, rk_clock_fn fn, void *ctx)
{
    l->clock = fn != NULL ? fn : wall_clock;
    l->clock_ctx = ctx;
}

void rk_ledger_set_sync(rk_ledger *l, int sync)
{
    l->sync = sync;
}

void rk_ledger_stats_get(rk_ledger *l, rk_ledger_stats *st)
{
    pthread_mutex_lock(&l->mu);
    *st = l->stats;
    pthread_mutex_unlock(&l->mu);
}

/* ---- append ---------------------------------------------------------- */

struct emit_ctx {
    rk_store_batch *batch;
};

static rk_err emit_node(void *ctx, unsigned level, uint64_t index,
                        const uint8_t hash[RK_HASH_SIZE])
{
    struct emit_ctx *e = ctx;
    uint8_t key[MERKLE_KEY_SIZE];

    if (level < RK_MERKLE_STORED_LEVEL)
        return RK_OK; /* recomputed from the records when needed */
    rk_merkle_key(key, level, index);
    rk_store_batch_put(e->batch, RK_CF_MERKLE, key, sizeof key, hash, RK_HASH_SIZE);
    return RK_OK;
}

static rk_err check_item(const rk_append_item *it, size_t i, char *err)
{
    rk_err rc;

    if (it->kind > 255)
        return rk_seterr(err, RK_ERR_INVALID, "item %zu: kind %u out of range", i,
                         it->kind);
    if (it->body == NULL || it->body_len == 0)
        return rk_seterr(err, RK_ERR_INVALID, "item %zu: empty body", i);
    if (it->event_key != NULL &&
        (it->event_key[0] == '\0' || strlen(it->event_key) > RK_EVENT_KEY_MAX))
        return rk_seterr(err, RK_ERR_INVALID, "item %zu: event key must be 1..%d bytes",
                         i, RK_EVENT_KEY_MAX);
    if (it->ref != NULL && (it->ref[0] == '\0' || strlen(it->ref) > RK_REF_MAX))
        return rk_seterr(err, RK_ERR_INVALID, "item %zu: reference must be 1..%d bytes",
                         i, RK_REF_MAX);
    if (it->body_len > RK_BODY_MAX)
        return rk_seterr(err, RK_ERR_TOOBIG, "item %zu: body is %zu bytes, limit %u", i,
                         it->body_len, RK_BODY_MAX);
    if (it->raw_len > RK_RAW_MAX)
        return rk_seterr(err, RK_ERR_TOOBIG, "item %zu: raw blob is %zu bytes, limit %u",
                         i, it->raw_len, RK_RAW_MAX);
    rc = rk_canon_check((const char *)it->body, it->body_len, err);
    if (rc != RK_OK)
        return rk_preferr(err, rc, "item %zu: body is not canonical JSON", i);
    return RK_OK;
}

/* Is key already claimed by an earlier item of this group? */
static int claimed_in_group(struct request *group, struct request *upto, size_t upto_i,
                            const char *key, uint64_t *seq)
{
    struct request *r;
    size_t i;

    for (r = group; r != NULL; r = r->next) {
        for (i = 0; i < r->n; i++) {
            if (r == upto && i == upto_i)
                return 0;
            if (r->items[i].status == RK_OK && r->items[i].event_key != NULL &&
                strcmp(r->items[i].event_key, key) == 0) {
                *seq = r->items[i].seq;
                return 1;
            }
        }
    }
    return 0;
}

/* Chain, encode and batch one item against the working head h. */
static rk_err add_item(rk_ledger *l, struct rk_head *h, struct request *group,
                       struct request *r, size_t i, rk_buf *val, char *err)
{
    rk_append_item *it = &r->items[i];
    struct emit_ctx e = { l->batch };
    uint8_t key[8], leaf[RK_HASH_SIZE], seqbuf[8];
    size_t ref_len = it->ref != NULL ? strlen(it->ref) : 0;
    int64_t now;
    rk_err rc;

    it->status = RK_OK;
    if (it->event_key != NULL) {
        uint64_t existing;
        if (claimed_in_group(group, r, i, it->event_key, &existing)) {
            it->status = RK_ERR_EXISTS;
            it->seq = existing;
            return RK_OK;
        }
        rc = rk_store_get(l->store, RK_CF_EVENT, it->event_key, strlen(it->event_key),
                          val, err);
        if (rc == RK_OK && val->len == 8) {
            it->status = RK_ERR_EXISTS;
            it->seq = rk_get_be64(val->data);
            return RK_OK;
        }
        if (rc == RK_OK)
            return rk_seterr(err, RK_ERR_CORRUPT, "event index entry for '%s' is damaged",
                             it->event_key);
        if (rc != RK_ERR_NOTFOUND)
            return rc;
    }
    now = l->clock(l->clock_ctx);
    if (now < h->last_time)
        now = h->last_time;
    rk_buf_reset(&l->enc);
    rc = rk_record_encode(&l->enc, it->kind, h->size, now, h->hash, it->ref, ref_len,
                          it->body, it->body_len, it->raw, it->raw_len, it->hash, err);
    if (rc != RK_OK)
        return rc;
    it->seq = h->size;
    it->recorded_at = now;
    rk_put_be64(key, h->size);
    rk_store_batch_put(l->batch, RK_CF_RECORDS, key, sizeof key, l->enc.data, l->enc.len);
    if (ref_len > 0) {
        rk_buf_reset(val);
        if (rk_buf_append(val, it->ref, ref_len + 1) != RK_OK ||
            rk_buf_append(val, key, sizeof key) != RK_OK)
            return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
        rk_store_batch_put(l->batch, RK_CF_REF, val->data, val->len, "", 0);
    }
    if (it->event_key != NULL) {
        rk_put_be64(seqbuf, h->size);
        rk_store_batch_put(l->batch, RK_CF_EVENT, it->event_key, strlen(it->event_key),
                           seqbuf, sizeof seqbuf);
    }
    if (it->kind == RK_KIND_CHECKPOINT)
        rk_store_batch_put(l->batch, RK_CF_META, META_CHECKPOINT,
                           sizeof META_CHECKPOINT - 1, key, sizeof key);
    rk_merkle_leaf_hash(leaf, it->hash, RK_HASH_SIZE);
    rc = rk_merkle_frontier_append(&h->frontier, leaf, emit_node, &e);
    if (rc != RK_OK)
        return rk_seterr(err, rc, "cannot extend the Merkle tree");
    memcpy(h->hash, it->hash, RK_HASH_SIZE);
    h->last_time = now;
    h->size++;
    return RK_OK;
}

/* The leader's work: one batch, one sync, for every request in group. */
static rk_err commit_group(rk_ledger *l, struct request *group, struct rk_head *h,
                           char *err)
{
    struct request *r;
    rk_buf val = RK_BUF_INIT;
    size_t i;
    rk_err rc = RK_OK;

    rk_store_batch_clear(l->batch);
    for (r = group; r != NULL && rc == RK_OK; r = r->next)
        for (i = 0; i < r->n && rc == RK_OK; i++)
            rc = add_item(l, h, group, r, i, &val, err);
    if (rc == RK_OK && rk_head_encode(h, &val) != RK_OK)
        rc = rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    if (rc == RK_OK) {
        rk_store_batch_put(l->batch, RK_CF_META, META_HEAD, sizeof META_HEAD - 1,
                           val.data, val.len);
        rc = rk_store_write(l->store, l->batch, l->sync, err);
    }
    rk_store_batch_clear(l->batch);
    rk_buf_free(&val);
    return rc;
}

rk_err rk_ledger_append(rk_ledger *l, rk_append_item *items, size_t n, char *err)
{
    struct request me = { items, n, RK_OK, err, 0, NULL };
    struct request *group, *r;
    struct rk_head h;
    char gerr[RK_ERROR_SIZE] = "";
    size_t i, count = 0;
    rk_err rc;

    if (l->readonly)
        return rk_seterr(err, RK_ERR_CLOSED, "ledger is open read-only");
    for (i = 0; i < n; i++) {
        rc = check_item(&items[i], i, err);
        if (rc != RK_OK)
            return rc;
    }
    pthread_mutex_lock(&l->mu);
    if (l->closing) {
        pthread_mutex_unlock(&l->mu);
        return rk_seterr(err, RK_ERR_CLOSED, "ledger is closing");
    }
    /*
     * Each waiter sleeps on its own condition: a finished group wakes its
     * own members and the oldest queued request (the next leader), not
     * every thread waiting, which with dozens of appenders would be mostly
     * wasted context switches.
     */
    pthread_cond_init(&me.cv, NULL);
    if (l->queue_tail != NULL)
        l->queue_tail->next = &me;
    else
        l->queue = &me;
    l->queue_tail = &me;
    while (!me.done && l->leader)
        pthread_cond_wait(&me.cv, &l->mu);
    if (me.done) {
        pthread_mutex_unlock(&l->mu);
        pthread_cond_destroy(&me.cv);
        return me.rc;
    }
    /* lead: take every queued request, write without holding the lock */
    l->leader = 1;
    group = l->queue;
    l->queue = l->queue_tail = NULL;
    h = l->head;
    pthread_mutex_unlock(&l->mu);

    rc = commit_group(l, group, &h, gerr);

    pthread_mutex_lock(&l->mu);
    if (rc == RK_OK) {
        l->head = h;
        l->stats.groups++;
    }
    for (r = group; r != NULL; r = r->next) {
        r->rc = rc;
        if (rc != RK_OK && r->err != NULL)
            memcpy(r->err, gerr, RK_ERROR_SIZE);
        if (rc == RK_OK)
            for (i = 0; i < r->n; i++)
                count += r->items[i].status == RK_OK;
        r->done = 1;
        if (r != &me)
            pthread_cond_signal(&r->cv);
    }
    l->stats.appends += count;
    l->leader = 0;
    if (l->queue != NULL)
        pthread_cond_signal(&l->queue->cv); /* the next leader */
    pthread_cond_broadcast(&l->cv); /* rk_ledger_close waits on it */
    pthread_mutex_unlock(&l->mu);
    pthread_cond_destroy(&me.cv);
    return rc;
}

/* ---- read ------------------------------------------------------------ */

rk_err rk_ledger_read(rk_ledger *l, uint64_t seq, rk_buf *buf, rk_record *rec,
                      char *err)
{
    uint8_t key[8];
    rk_err rc;

    rk_put_be64(key, seq);
    rc = rk_store_get(l->store, RK_CF_RECORDS, key, sizeof key, buf, err);
    if (rc == RK_ERR_NOTFOUND)
        return rk_seterr(err, rc, "seq %llu: no such record", (unsigned long long)seq);
    if (rc != RK_OK)
        return rc;
    rc = rk_record_decode(buf->data, buf->len, rec, err);
    if (rc != RK_OK)
        return rk_preferr(err, rc, "seq %llu", (unsigned long long)seq);
    if (rec->seq != seq)
        return rk_seterr(err, RK_ERR_CORRUPT, "seq %llu: holds record %llu",
                         (unsigned long long)seq, (unsigned long long)rec->seq);
    return RK_OK;
}

rk_err rk_ledger_find_event(rk_ledger *l, const char *event_key, uint64_t *seq,
                            char *err)
{
    rk_buf v = RK_BUF_INIT;
    rk_err rc;

    rc = rk_store_get(l->store, RK_CF_EVENT, event_key, strlen(event_key), &v, err);
    if (rc == RK_OK && v.len != 8)
        rc = rk_seterr(err, RK_ERR_CORRUPT, "event index entry for '%s' is damaged",
                       event_key);
    if (rc == RK_OK)
        *seq = rk_get_be64(v.data);
    rk_buf_free(&v);
    return rc;
}

rk_err rk_ledger_for_ref(rk_ledger *l, const char *ref, rk_ref_fn fn, void *ctx,
                         char *err)
{
    rk_store_iter *it = NULL;
    size_t plen = strlen(ref) + 1, klen;
    const uint8_t *k;
    rk_err rc;
    rk_err stop = RK_OK;

    rc = rk_store_iter_new(l->store, RK_CF_REF, ref, plen, &it, err);
    if (rc != RK_OK)
        return rc;
    for (; rk_store_iter_valid(it) && !stop; rk_store_iter_next(it)) {
        k = rk_store_iter_key(it, &klen);
        if (klen != plen + 8 || memcmp(k, ref, plen) != 0)
            break;
        stop = fn(ctx, rk_get_be64(k + plen));
    }
    rc = stop != RK_OK ? stop : rk_store_iter_status(it, err);
    rk_store_iter_free(it);
    return rc;
}

/* rk_get_be64 of a records key, inlined: the scan reads one per record and
 * bytes.c's is a call (formats/storage.md, "Reading a run of records"). */
static inline uint64_t scan_seq(const uint8_t k[8])
{
    return (uint64_t)k[0] << 56 | (uint64_t)k[1] << 48 | (uint64_t)k[2] << 40 |
           (uint64_t)k[3] << 32 | (uint64_t)k[4] << 24 | (uint64_t)k[5] << 16 |
           (uint64_t)k[6] << 8 | (uint64_t)k[7];
}

rk_err rk_ledger_scan(rk_ledger *l, uint64_t from, uint64_t to, rk_record_fn fn,
                      void *ctx, char *err)
{
    rk_store_iter *it = NULL;
    uint8_t key[8];
    const uint8_t *k, *v;
    size_t klen, vlen;
    rk_record rec;
    uint64_t seq;
    rk_err rc;
    rk_err stop = RK_OK;

    rk_put_be64(key, from);
    rc = rk_store_iter_new(l->store, RK_CF_RECORDS, key, sizeof key, &it, err);
    if (rc != RK_OK)
        return rc;
    for (; rk_store_iter_valid(it) && !stop; rk_store_iter_next(it)) {
        k = rk_store_iter_key(it, &klen);
        if (klen != 8) {
            rc = rk_seterr(err, RK_ERR_CORRUPT, "records: a key of %zu bytes", klen);
            goto out;
        }
        seq = scan_seq(k);
        if (seq >= to)
            break;
        v = rk_store_iter_value(it, &vlen);
        rc = rk_record_decode(v, vlen, &rec, err);
        if (rc == RK_OK && rec.seq != seq)
            rc = rk_seterr(err, RK_ERR_CORRUPT, "holds record %llu",
                           (unsigned long long)rec.seq);
        if (rc != RK_OK) {
            rc = rk_preferr(err, rc, "seq %llu", (unsigned long long)seq);
            goto out;
        }
        stop = fn(ctx, &rec, v, vlen);
    }
    rc = stop != RK_OK ? stop : rk_store_iter_status(it, err);
out:
    rk_store_iter_free(it);
    return rc;
}

/* ---- Merkle ---------------------------------------------------------- */

/*
 * Hash of the perfect subtree of 2^level leaves starting at leaf first,
 * computed from the record hashes stored at the end of each record (below
 * RK_MERKLE_STORED_LEVEL nothing is stored: formats/storage.md).
 */
static rk_err subtree_from_records(rk_store *store, unsigned level, uint64_t first,
                                   uint8_t out[RK_HASH_SIZE], char *err)
{
    uint8_t stack[RK_MERKLE_STORED_LEVEL + 1][RK_HASH_SIZE], leaf[RK_HASH_SIZE];
    uint8_t key[8];
    uint64_t count = (uint64_t)1 << level, i;
    unsigned depth = 0, h;
    rk_store_iter *it = NULL;
    const uint8_t *k, *v;
    size_t klen, vlen;
    rk_err rc;

    rk_put_be64(key, first);
    rc = rk_store_iter_new(store, RK_CF_RECORDS, key, sizeof key, &it, err);
    for (i = 0; rc == RK_OK && i < count; i++, rk_store_iter_next(it)) {
        if (!rk_store_iter_valid(it)) {
            rc = rk_store_iter_status(it, err);
            if (rc == RK_OK)
                rc = rk_seterr(err, RK_ERR_CORRUPT, "seq %llu: record is missing",
                               (unsigned long long)(first + i));
            break;
        }
        k = rk_store_iter_key(it, &klen);
        v = rk_store_iter_value(it, &vlen);
        if (klen != 8 || rk_get_be64(k) != first + i || vlen < RK_RECORD_OVERHEAD) {
            rc = rk_seterr(err, RK_ERR_CORRUPT, "seq %llu: record is missing or damaged",
                           (unsigned long long)(first + i));
            break;
        }
        rk_merkle_leaf_hash(leaf, v + vlen - RK_HASH_SIZE, RK_HASH_SIZE);
        /* fold completed pairs: the stack holds one hash per finished level */
        memcpy(stack[depth++], leaf, RK_HASH_SIZE);
        for (h = (unsigned)__builtin_ctzll(i + 1); h > 0; h--, depth--)
            rk_merkle_node_hash(stack[depth - 2], stack[depth - 2], stack[depth - 1]);
    }
    if (rc == RK_OK)
        memcpy(out, stack[0], RK_HASH_SIZE);
    rk_store_iter_free(it);
    return rc;
}

rk_err rk_store_merkle_get(void *ctx, unsigned level, uint64_t index,
                           uint8_t out[RK_HASH_SIZE], char *err)
{
    rk_store *store = ctx;
    uint8_t key[MERKLE_KEY_SIZE];
    rk_buf v = RK_BUF_INIT;
    rk_err rc;

    if (level < RK_MERKLE_STORED_LEVEL)
        return subtree_from_records(store, level, index << level, out, err);
    rk_merkle_key(key, level, index);
    rc = rk_store_get(store, RK_CF_MERKLE, key, sizeof key, &v, err);
    if (rc == RK_OK && v.len != RK_HASH_SIZE)
        rc = rk_seterr(err, RK_ERR_CORRUPT, "merkle node (%u, %llu) is damaged", level,
                       (unsigned long long)index);
    else if (rc == RK_ERR_NOTFOUND)
        rc = rk_seterr(err, RK_ERR_CORRUPT, "merkle node (%u, %llu) is missing", level,
                       (unsigned long long)index);
    if (rc == RK_OK)
        memcpy(out, v.data, RK_HASH_SIZE);
    rk_buf_free(&v);
    return rc;
}

static rk_err check_size(rk_ledger *l, uint64_t size, char *err)
{
    uint64_t n;

    rk_ledger_head(l, &n, NULL);
    if (size > n)
        return rk_seterr(err, RK_ERR_RANGE, "tree size %llu is beyond the ledger's %llu "
                         "records", (unsigned long long)size, (unsigned long long)n);
    return RK_OK;
}

rk_err rk_ledger_root_at(rk_ledger *l, uint64_t size, uint8_t root[RK_HASH_SIZE],
                         char *err)
{
    rk_err rc = check_size(l, size, err);

    if (rc != RK_OK)
        return rc;
    if (size == 0) {
        rk_merkle_empty_root(root);
        return RK_OK;
    }
    return rk_merkle_range_root(rk_store_merkle_get, l->store, 0, size, root, err);
}

rk_err rk_ledger_leaf(rk_ledger *l, uint64_t seq, uint8_t leaf[RK_HASH_SIZE], char *err)
{
    return rk_store_merkle_get(l->store, 0, seq, leaf, err);
}

rk_err rk_ledger_inclusion_proof(rk_ledger *l, uint64_t seq, uint64_t size,
                                 uint8_t proof[][RK_HASH_SIZE], size_t *n, char *err)
{
    rk_err rc = check_size(l, size, err);

    if (rc != RK_OK)
        return rc;
    return rk_merkle_inclusion_proof(rk_store_merkle_get, l->store, seq, size, proof, n, err);
}

rk_err rk_ledger_consistency_proof(rk_ledger *l, uint64_t m, uint64_t size,
                                   uint8_t proof[][RK_HASH_SIZE], size_t *n, char *err)
{
    rk_err rc = check_size(l, size, err);

    if (rc != RK_OK)
        return rc;
    return rk_merkle_consistency_proof(rk_store_merkle_get, l->store, m, size, proof, n, err);
}

/* ---- checkpoints ----------------------------------------------------- */

rk_err rk_ledger_checkpoint(rk_ledger *l, const rk_signer *s, rk_buf *note_out,
                            uint64_t *seq_out, char *err)
{
    rk_checkpoint cp;
    rk_buf text = RK_BUF_INIT, body = RK_BUF_INIT;
    cJSON *obj = NULL;
    rk_append_item item;
    rk_err rc;

    memset(&cp, 0, sizeof cp);
    memcpy(cp.origin, l->origin, strlen(l->origin) + 1);
    rk_ledger_root(l, &cp.size, cp.root);
    rc = rk_checkpoint_format(&cp, &text);
    if (rc != RK_OK)
        goto out;
    rk_buf_reset(note_out);
    rc = rk_note_sign(s, (const char *)text.data, text.len, note_out, err);
    if (rc != RK_OK)
        goto out;
    obj = cJSON_CreateObject();
    if (obj == NULL || cJSON_AddStringToObject(obj, "note", (const char *)note_out->data) == NULL ||
        cJSON_AddNumberToObject(obj, "size", (double)cp.size) == NULL) {
        rc = rk_seterr(err, RK_ERR_NOMEM, "out of memory");
        goto out;
    }
    rc = rk_canon_write(obj, 0, &body, err);
    if (rc != RK_OK)
        goto out;
    memset(&item, 0, sizeof item);
    item.kind = RK_KIND_CHECKPOINT;
    item.body = body.data;
    item.body_len = body.len;
    rc = rk_ledger_append(l, &item, 1, err);
    if (rc == RK_OK && seq_out != NULL)
        *seq_out = item.seq;
out:
    cJSON_Delete(obj);
    rk_buf_free(&text);
    rk_buf_free(&body);
    return rc;
}

rk_err rk_ledger_latest_checkpoint(rk_ledger *l, rk_buf *note_out, uint64_t *seq,
                                   char *err)
{
    rk_buf v = RK_BUF_INIT, rbuf = RK_BUF_INIT;
    rk_record rec;
    cJSON *obj = NULL;
    const char *note;
    rk_err rc;

    rc = rk_store_get(l->store, RK_CF_META, META_CHECKPOINT, sizeof META_CHECKPOINT - 1,
                      &v, err);
    if (rc == RK_ERR_NOTFOUND) {
        rc = rk_seterr(err, rc, "the ledger has no checkpoint yet");
        goto out;
    }
    if (rc == RK_OK && v.len != 8)
        rc = rk_seterr(err, RK_ERR_CORRUPT, "latest checkpoint pointer is damaged");
    if (rc != RK_OK)
        goto out;
    *seq = rk_get_be64(v.data);
    rc = rk_ledger_read(l, *seq, &rbuf, &rec, err);
    if (rc != RK_OK)
        goto out;
    if (rec.kind != RK_KIND_CHECKPOINT) {
        rc = rk_seterr(err, RK_ERR_CORRUPT, "seq %llu: is not a checkpoint record",
                       (unsigned long long)*seq);
        goto out;
    }
    rc = rk_json_parse((const char *)rec.body, rec.body_len, &obj, err);
    if (rc == RK_OK)
        rc = rk_json_get_string(obj, "note", &note, err);
    if (rc != RK_OK) {
        rc = rk_preferr(err, RK_ERR_CORRUPT, "seq %llu: checkpoint body",
                        (unsigned long long)*seq);
        goto out;
    }
    rk_buf_reset(note_out);
    if (rk_buf_puts(note_out, note) != RK_OK)
        rc = rk_seterr(err, RK_ERR_NOMEM, "out of memory");
out:
    cJSON_Delete(obj);
    rk_buf_free(&v);
    rk_buf_free(&rbuf);
    return rc;
}
