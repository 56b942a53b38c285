/*
 * replay.c - the deterministic fold over the ledger, the replay document,
 * the timeline and the diff (formats/replay.md).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>

#include "canon.h"
#include "planes_int.h"
#include "replay.h"

/* A scan callback result that only means "the point is reached". */
#define STOP RK_ERR_CLOSED

/* Per-record hook for the timeline; NULL for plain folds. */
typedef rk_err (*fold_hook)(void *ctx, rk_planes *p, const rk_record *rec, int phase);

struct fold_ctx {
    rk_planes *p;
    const rk_replay_point *pt;
    rk_replay_at *at;
    int stopped;
    fold_hook hook;
    void *hook_ctx;
    char *err;
};

/* Fold one record; prep: its body read ahead (rk_planes_prepare), or NULL.
 * A prep the fold does not reach keeps what it holds (rk_planes_prep_clear). */
static rk_err fold_prepared(struct fold_ctx *c, const rk_record *rec, rk_planes_prep *prep)
{
    rk_err rc;

    if (rec->recorded_at > c->pt->as_of) {
        c->stopped = 1;
        return STOP;
    }
    if (c->hook != NULL && (rc = c->hook(c->hook_ctx, c->p, rec, 0)) != RK_OK)
        return rc;
    rc = prep != NULL ? rk_planes_apply_prepared(c->p, rec, prep, c->err)
                      : rk_planes_apply(c->p, rec, c->err);
    if (rc != RK_OK)
        return rc;
    c->at->records = rec->seq + 1;
    c->at->recorded_at = rec->recorded_at;
    if (c->hook != NULL && (rc = c->hook(c->hook_ctx, c->p, rec, 1)) != RK_OK)
        return rc;
    return RK_OK;
}

static rk_err fold_one(void *vctx, const rk_record *rec, const uint8_t *bytes, size_t len)
{
    (void)bytes;
    (void)len;
    return fold_prepared(vctx, rec, NULL);
}

/* ---- the scan on a thread of its own ------------------------------------ */

/*
 * A fold spends part of its time in RocksDB (iteration, block checksums,
 * decompression) and the rest in rk_planes_apply.  The two are independent
 * until a record reaches the fold, so a fold runs them on two threads: a
 * scanner thread runs rk_ledger_scan and copies each record into a chunk of
 * a small ring; the calling thread takes full chunks in order and folds
 * their records.  Checking a body and reading it into an event or row
 * (rk_planes_prepare) needs no state, so either thread can do it: the
 * scanner does it for the first `ahead` records of each chunk, the fold
 * for the rest (rk_planes_apply), and the split follows whichever thread
 * waits (below).  Everything the fold does (the planes, the hook, the
 * error buffer) stays on the calling thread, in sequence order, so output
 * and errors are the same as a scan that calls the fold directly: a scan
 * error travels as the end of the last chunk and is met only after every
 * record before it was folded, and a fold that stops early (the point is
 * reached, or it failed) never looks at what the scanner read beyond it.
 *
 * Chunks hand records over in groups so that the threads meet once per
 * PIPE_RECORDS records, not once per record.  The ring holds PIPE_CHUNKS
 * chunks, so the scanner reads at most that far ahead: memory stays
 * bounded whatever the size of the ledger.
 */
/*
 * 16 chunks: the fold is bursty (every IDLE_RECORDS records a sweep renders
 * the payments that closed meanwhile, a few thousand at once), and a ring
 * of 4 chunks left each thread waiting for the other about once in 13
 * chunks, with the CPUs 75% busy; 16 chunks wait a third as often (measured
 * on the full bench ledger: 0.62 -> 0.89 M records/s, two CPUs).  The ring
 * costs 16 x 256 KiB of record bytes, whatever the size of the ledger.
 */
#define PIPE_CHUNKS 16
#define PIPE_RECORDS 512
/*
 * A thread that has to wait for the other sleeps until PIPE_WAKE chunks are
 * ready for it (full, for the fold; free, for the scanner), not one: each
 * wake-up is a futex call and two context switches, and this halves them.
 * The end of the scan wakes the fold whatever is left.
 */
#define PIPE_WAKE 2
#define PIPE_BYTES (256 * 1024) /* a chunk's first allocation; grows for a big record */
/*
 * The split of the bodies between the threads moves by PIPE_STEP records
 * of a chunk each time one thread has to wait for the other: towards the
 * scanner when it finds the ring full (the fold is the slower), towards
 * the fold when the fold finds it empty.  Each body is read once, by the
 * same code, whichever thread reads it, so the output does not depend on
 * the split; it only keeps both CPUs busy as the mix of records and the
 * fold's compaction sweeps change the cost of each side.
 */
#define PIPE_STEP 16
/*
 * The fold asks for the key-map lines of the record PREFETCH records ahead
 * (rk_planes_prefetch): far enough for a load from memory to arrive, near
 * enough that the lines are still in cache when the record is folded.
 * (Asking also for the payments the slots name, a few records later, made
 * no measurable difference.)
 */
#define PREFETCH 8

struct chunk {
    rk_record rec[PIPE_RECORDS]; /* pointers into bytes */
    rk_planes_prep prep[PIPE_RECORDS]; /* the bodies read by the scanner */
    size_t n;
    size_t ahead;            /* records [0, ahead) have their prep; the fold reads the rest */
    uint8_t *bytes;
    size_t used, cap;
    int last;                /* the scan ended after these records, with rc */
    rk_err rc;
    char err[RK_ERROR_SIZE]; /* the scan's message when rc is an error */
};

struct pipe {
    pthread_mutex_t mu;
    pthread_cond_t filled;  /* a chunk became full, or the scan ended */
    pthread_cond_t emptied; /* a chunk became free, or the fold stopped */
    struct chunk chunk[PIPE_CHUNKS];
    size_t head;  /* the next chunk to fold */
    size_t full;  /* chunks full, from head on */
    size_t fill;  /* the chunk the scanner fills */
    int stop;     /* the fold needs no more records */
    int ended;    /* the scan ended: its last chunk is full */
    size_t share; /* `ahead` of the next chunk the scanner fills */
    char err[RK_ERROR_SIZE]; /* the scanner's own message buffer */
    rk_pool_cache pc; /* the scanner's blocks of the state's pool (pool.h) */
    rk_ledger *l;
    uint64_t from, to;
};

/* Scanner side: hand the chunk being filled over and wait for a free one.
 * 0, or -1 when the fold stopped. */
static int pipe_publish(struct pipe *q)
{
    int stop;

    pthread_mutex_lock(&q->mu);
    q->full++;
    q->fill = (q->fill + 1) % PIPE_CHUNKS;
    if (q->full == PIPE_WAKE)
        pthread_cond_signal(&q->filled); /* what a waiting fold waits for */
    if (q->full == PIPE_CHUNKS) {
        /* the scanner must wait: it takes more of the bodies from now on */
        q->share = q->share + PIPE_STEP < PIPE_RECORDS ? q->share + PIPE_STEP : PIPE_RECORDS;
        while (q->full > PIPE_CHUNKS - PIPE_WAKE && !q->stop)
            pthread_cond_wait(&q->emptied, &q->mu);
    }
    stop = q->stop;
    if (!stop) {
        struct chunk *c = &q->chunk[q->fill];
        c->n = 0;
        c->used = 0;
        c->ahead = q->share;
        c->last = 0;
    }
    pthread_mutex_unlock(&q->mu);
    return stop ? -1 : 0;
}

/* A record's pointer into bytes, moved to the same place in the copy. */
static const uint8_t *rebase(const uint8_t *ptr, const uint8_t *from, const uint8_t *to)
{
    return ptr != NULL ? to + (ptr - from) : NULL;
}

static rk_err pipe_take(void *ctx, const rk_record *rec, const uint8_t *bytes, size_t len)
{
    struct pipe *q = ctx;
    struct chunk *c = &q->chunk[q->fill];
    rk_record *r;
    uint8_t *copy;

    if (c->n == PIPE_RECORDS || (c->n > 0 && c->used + len > c->cap)) {
        if (pipe_publish(q) != 0)
            return STOP;
        c = &q->chunk[q->fill];
    }
    if (len > c->cap) {
        /* a record larger than a chunk: this chunk grows to hold it */
        uint8_t *nb = realloc(c->bytes, len);
        if (nb == NULL)
            return rk_seterr(q->err, RK_ERR_NOMEM, "out of memory");
        c->bytes = nb;
        c->cap = len;
    }
    copy = c->bytes + c->used;
    memcpy(copy, bytes, len);
    c->used += len;
    r = &c->rec[c->n++];
    *r = *rec;
    r->prev_hash = rebase(rec->prev_hash, bytes, copy);
    r->ref = (const char *)rebase((const uint8_t *)rec->ref, bytes, copy);
    r->body = rebase(rec->body, bytes, copy);
    r->raw = rebase(rec->raw, bytes, copy);
    r->hash = rebase(rec->hash, bytes, copy);
    /* this chunk's share of the bodies is read here, the rest by the fold */
    if (c->n - 1 < c->ahead)
        rk_planes_prepare(&q->pc, r, &c->prep[c->n - 1], NULL, 0);
    return RK_OK;
}

static void *pipe_scan(void *arg)
{
    struct pipe *q = arg;
    struct chunk *c;
    rk_err rc;

    rc = rk_ledger_scan(q->l, q->from, q->to, pipe_take, q, q->err);
    pthread_mutex_lock(&q->mu);
    if (!q->stop) {
        /* the chunk being filled is never one the fold holds: it ends the scan */
        c = &q->chunk[q->fill];
        c->last = 1;
        c->rc = rc;
        if (rc != RK_OK)
            memcpy(c->err, q->err, sizeof c->err);
        q->full++;
        q->ended = 1;
        pthread_cond_signal(&q->filled);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

static void pipe_free(struct pipe *q)
{
    size_t i, j;

    for (i = 0; i < PIPE_CHUNKS; i++) {
        /* records read ahead that the fold did not reach (it stopped, or
         * failed): a folded record's prep is already empty */
        for (j = 0; j < PIPE_RECORDS; j++)
            rk_planes_prep_clear(&q->chunk[i].prep[j]);
        free(q->chunk[i].bytes);
    }
    rk_pool_cache_flush(&q->pc); /* its blocks, for the state's later folds */
    pthread_cond_destroy(&q->filled);
    pthread_cond_destroy(&q->emptied);
    pthread_mutex_destroy(&q->mu);
    free(q);
}

/*
 * rk_ledger_scan(l, from, to, fold_one, fc, err) with the scan on its own
 * thread (or, when no thread can be started, on this one).
 */
static rk_err pipe_fold(rk_ledger *l, uint64_t from, uint64_t to, struct fold_ctx *fc,
                        char *err)
{
    struct pipe *q = calloc(1, sizeof *q);
    pthread_t th;
    struct chunk *c;
    size_t i;
    rk_err rc = RK_OK;

    if (q == NULL)
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->filled, NULL);
    pthread_cond_init(&q->emptied, NULL);
    for (i = 0; i < PIPE_CHUNKS; i++) {
        q->chunk[i].bytes = malloc(PIPE_BYTES);
        if (q->chunk[i].bytes == NULL) {
            pipe_free(q);
            return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
        }
        q->chunk[i].cap = PIPE_BYTES;
    }
    rk_pool_cache_init(&q->pc, rk_planes_pool(fc->p));
    q->l = l;
    q->from = from;
    q->to = to;
    q->share = q->chunk[0].ahead = PIPE_RECORDS / 2;
    if (pthread_create(&th, NULL, pipe_scan, q) != 0) {
        pipe_free(q);
        return rk_ledger_scan(l, from, to, fold_one, fc, err);
    }
    pthread_mutex_lock(&q->mu);
    for (;;) {
        if (q->full == 0) {
            /* the fold must wait: it takes more of the bodies from now on */
            q->share = q->share > PIPE_STEP ? q->share - PIPE_STEP : 0;
            while (q->full < PIPE_WAKE && !q->ended)
                pthread_cond_wait(&q->filled, &q->mu);
        }
        c = &q->chunk[q->head];
        pthread_mutex_unlock(&q->mu);
        /* the fold's share of the bodies first, so that every record of
         * the chunk is prepared and its look-ups can be prefetched */
        for (i = c->ahead; i < c->n; i++)
            rk_planes_prepare(rk_planes_cache(fc->p), &c->rec[i], &c->prep[i], NULL, 0);
        for (i = 0; i < c->n && rc == RK_OK; i++) {
            if (i + PREFETCH < c->n)
                rk_planes_prefetch(fc->p, &c->prep[i + PREFETCH], c->rec[i + PREFETCH].kind);
            rc = fold_prepared(fc, &c->rec[i], &c->prep[i]);
        }
        if (rc == RK_OK && c->last) {
            rc = c->rc;
            if (rc != RK_OK)
                memcpy(err, c->err, RK_ERROR_SIZE);
            break;
        }
        if (rc != RK_OK)
            break;
        /* one lock both gives this chunk back and takes the next */
        pthread_mutex_lock(&q->mu);
        q->head = (q->head + 1) % PIPE_CHUNKS;
        q->full--;
        if (q->full == PIPE_CHUNKS - PIPE_WAKE)
            pthread_cond_signal(&q->emptied); /* what a waiting scanner waits for */
    }
    pthread_mutex_lock(&q->mu);
    q->stop = 1;
    pthread_cond_signal(&q->emptied);
    pthread_mutex_unlock(&q->mu);
    pthread_join(th, NULL);
    pipe_free(q);
    return rc;
}

/*
 * Closed payments untouched for this many records are compacted during a
 * fold (formats/replay.md section 10): about as many as a sweep over the
 * payments costs, so sweeping stays a small part of the fold.
 */
#define IDLE_RECORDS 16384

static rk_err fetch_record(void *ctx, uint64_t seq, rk_buf *buf, rk_record *rec, char *err)
{
    return rk_ledger_read(ctx, seq, buf, rec, err);
}

/*
 * CPUs online (1 when unknown).  The fold already runs on two threads (the
 * reader and the fold); with two CPUs or fewer, a third for the compaction
 * (planes.c) only competes with them for a CPU, and rendering a payment on
 * another CPU than the sweep that just read it (pay_closed), then freeing
 * its lists back on the first, costs more than it saves.  Measured on the
 * full bench ledger (980 002 records, two CPUs shared with other work; 14
 * interleaved runs each): 8% less CPU time and 4% less wall time with the
 * fold thread compacting at the sweep.  So the compactor thread is kept
 * for machines with CPUs to spare.  Nothing in the output depends on it.
 */
static long cpus_online(void)
{
#ifdef _SC_NPROCESSORS_ONLN
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? n : 1;
#else
    return 1;
#endif
}

/* Fold into an existing state from record `from` on. */
static rk_err fold_range(rk_ledger *l, rk_planes *p, uint64_t from, const rk_replay_point *pt,
                         rk_replay_at *at, fold_hook hook, void *hook_ctx, char *err)
{
    struct fold_ctx c = { p, pt, at, 0, hook, hook_ctx, err };
    uint64_t size;
    uint8_t head[RK_HASH_SIZE];
    rk_err rc;

    rk_ledger_head(l, &size, head);
    if (pt->at != UINT64_MAX && pt->at >= size)
        return rk_seterr(err, RK_ERR_NOTFOUND, "seq %llu is beyond the last record %llu",
                         (unsigned long long)pt->at, (unsigned long long)(size - 1));
    at->has_as_of = pt->as_of != INT64_MAX;
    at->as_of = pt->as_of;
    if (cpus_online() <= 2)
        rk_planes_no_thread(p);
    rk_planes_set_source(p, fetch_record, l, IDLE_RECORDS);
    rc = pipe_fold(l, from, pt->at == UINT64_MAX ? size : pt->at + 1, &c, err);
    if (rc == STOP && c.stopped)
        rc = RK_OK;
    if (rc == RK_OK)
        rc = rk_planes_detach(p, err); /* the state outlives this call */
    else
        rk_planes_set_source(p, NULL, NULL, 0);
    return rc;
}

rk_err rk_replay_fold(rk_ledger *l, const rk_replay_point *pt, rk_planes **out,
                      rk_replay_at *at, char *err)
{
    rk_planes *p = NULL;
    rk_err rc;

    memset(at, 0, sizeof *at);
    rc = rk_planes_new(&p, err);
    if (rc != RK_OK)
        return rc;
    rc = fold_range(l, p, 0, pt, at, NULL, NULL, err);
    if (rc != RK_OK) {
        rk_planes_free(p);
        return rc;
    }
    *out = p;
    return RK_OK;
}

static cJSON *at_json(const rk_replay_at *at)
{
    cJSON *o = cJSON_CreateObject();
    char t[RK_TIME_STR_MAX];

    if (at->has_as_of) {
        rk_time_format(at->as_of, t);
        cJSON_AddStringToObject(o, "as_of", t);
    }
    if (at->records > 0) {
        rk_time_format(at->recorded_at, t);
        cJSON_AddStringToObject(o, "recorded_at", t);
        cJSON_AddNumberToObject(o, "seq", (double)(at->records - 1));
    }
    cJSON_AddNumberToObject(o, "records", (double)at->records);
    return o;
}

rk_err rk_replay_document(rk_planes *p, const rk_replay_at *at, const char *ref,
                          rk_buf *out, uint8_t digest_out[RK_HASH_SIZE], char *err)
{
    rk_buf sb = RK_BUF_INIT, eb = RK_BUF_INIT;
    uint8_t d[RK_HASH_SIZE];
    char hex[2 * RK_HASH_SIZE + 1];
    size_t out0 = out->len;
    cJSON *a = NULL;
    rk_err rc;

    /* members in key order: at, evidence, state, state_digest */
    rc = rk_planes_write(p, ref, &sb, &eb, err);
    if (rc != RK_OK)
        goto out;
    rk_sha256(d, sb.data, sb.len);
    rk_hex_encode(hex, d, RK_HASH_SIZE);
    a = at_json(at);
    if (a == NULL) {
        rc = rk_seterr(err, RK_ERR_NOMEM, "out of memory");
        goto out;
    }
    rc = rk_buf_append(out, "{\"at\":", 6);
    if (rc == RK_OK)
        rc = rk_canon_write(a, 0, out, err);
    if (rc == RK_OK)
        rc = rk_buf_append(out, ",\"evidence\":", 12);
    if (rc == RK_OK)
        rc = rk_buf_append(out, eb.data, eb.len);
    if (rc == RK_OK)
        rc = rk_buf_append(out, ",\"state\":", 9);
    if (rc == RK_OK)
        rc = rk_buf_append(out, sb.data, sb.len);
    if (rc == RK_OK)
        rc = rk_buf_printf(out, ",\"state_digest\":\"%s\"}", hex);
    if (rc != RK_OK) {
        out->len = out0;
        goto out;
    }
    if (digest_out != NULL)
        memcpy(digest_out, d, RK_HASH_SIZE);
out:
    cJSON_Delete(a);
    rk_buf_free(&sb);
    rk_buf_free(&eb);
    return rc;
}

rk_err rk_replay_run(rk_ledger *l, const rk_replay_point *pt, const char *ref, rk_buf *out,
                     char *err)
{
    rk_planes *p = NULL;
    rk_replay_at at;
    rk_err rc;

    rc = rk_replay_fold(l, pt, &p, &at, err);
    if (rc == RK_OK)
        rc = rk_replay_document(p, &at, ref, out, NULL, err);
    rk_planes_free(p);
    return rc;
}

/* ---- timeline ----------------------------------------------------------- */

struct tl_ctx {
    const char *ref;
    uint64_t *seqs; /* records that ended up in ref (sorted): events, duplicates */
    size_t nseqs;
    cJSON *last; /* the state of ref after the last line, or NULL */
    rk_buf *out;
    rk_buf line;
    char *err;
};

static int has_seq(const struct tl_ctx *t, uint64_t seq)
{
    size_t lo = 0, hi = t->nseqs, mid;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        if (t->seqs[mid] == seq)
            return 1;
        if (t->seqs[mid] < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

static rk_err collect_seqs(struct tl_ctx *t, const cJSON *evid)
{
    const cJSON *pay = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(evid, "payments"), t->ref);
    const cJSON *it;
    size_t n = 0;

    n += (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(pay, "provider"));
    n += (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(pay, "duplicates"));
    t->seqs = calloc(n + 1, sizeof *t->seqs);
    if (t->seqs == NULL)
        return rk_seterr(t->err, RK_ERR_NOMEM, "out of memory");
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(pay, "provider"))
        t->seqs[t->nseqs++] =
            (uint64_t)cJSON_GetObjectItemCaseSensitive(it, "seq")->valuedouble;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(pay, "duplicates"))
        t->seqs[t->nseqs++] = (uint64_t)it->valuedouble;
    qsort(t->seqs, t->nseqs, sizeof *t->seqs, u64_cmp);
    return RK_OK;
}

/* The state of one payment as a detached cJSON tree, or NULL when absent. */
static rk_err state_of(rk_planes *p, const char *ref, cJSON **out, char *err)
{
    cJSON *s = NULL;
    rk_err rc;

    *out = NULL;
    if (ref == NULL || !rk_planes_has(p, ref))
        return RK_OK;
    rc = rk_planes_render(p, ref, &s, NULL, err);
    if (rc != RK_OK)
        return rc;
    *out = cJSON_DetachItemFromObjectCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(s, "payments"), ref);
    cJSON_Delete(s);
    return RK_OK;
}

/* Names of the members of a and b whose values differ, sorted. */
static cJSON *changed_members(const cJSON *a, const cJSON *b)
{
    cJSON *arr = cJSON_CreateArray(), *names = cJSON_CreateObject();
    const cJSON *it, *other;

    cJSON_ArrayForEach(it, a)
    {
        other = cJSON_GetObjectItemCaseSensitive(b, it->string);
        if (other == NULL || !cJSON_Compare(it, other, 1))
            cJSON_AddTrueToObject(names, it->string);
    }
    cJSON_ArrayForEach(it, b)
    {
        if (cJSON_GetObjectItemCaseSensitive(a, it->string) == NULL &&
            cJSON_GetObjectItemCaseSensitive(names, it->string) == NULL)
            cJSON_AddTrueToObject(names, it->string);
    }
    /* members in key order: canonical writing sorts object keys, arrays keep
     * order, so sort by hand (few names) */
    {
        const cJSON *n;
        const char *prev = "";
        for (;;) {
            const char *best = NULL;
            cJSON_ArrayForEach(n, names)
            {
                if (strcmp(n->string, prev) > 0 && (best == NULL || strcmp(n->string, best) < 0))
                    best = n->string;
            }
            if (best == NULL)
                break;
            cJSON_AddItemToArray(arr, cJSON_CreateString(best));
            prev = best;
        }
    }
    cJSON_Delete(names);
    return arr;
}

static rk_err tl_hook(void *vctx, rk_planes *p, const rk_record *rec, int phase)
{
    struct tl_ctx *t = vctx;
    const char *joined;
    cJSON *after = NULL, *line = NULL;
    char when[RK_TIME_STR_MAX];
    rk_err rc;
    int touched;

    if (phase == 0)
        return RK_OK;
    joined = rk_planes_last_ref(p);
    touched = (joined != NULL && strcmp(joined, t->ref) == 0) ||
              (rec->kind == RK_KIND_PROVIDER_EVENT && has_seq(t, rec->seq));
    if (!touched && rec->kind != RK_KIND_POLICY)
        return RK_OK;
    rc = state_of(p, t->ref, &after, t->err);
    if (rc != RK_OK)
        return rc;
    if (!touched && (after == NULL || (t->last != NULL && cJSON_Compare(after, t->last, 1)))) {
        cJSON_Delete(after); /* a policy record that changed nothing here */
        return RK_OK;
    }
    line = cJSON_CreateObject();
    cJSON_AddItemToObject(line, "after", after != NULL ? cJSON_Duplicate(after, 1)
                                                       : cJSON_CreateNull());
    cJSON_AddItemToObject(line, "before", t->last != NULL ? t->last : cJSON_CreateNull());
    cJSON_AddItemToObject(line, "changed", changed_members(t->last, after));
    t->last = after;
    if (rec->kind == RK_KIND_PROVIDER_EVENT)
        cJSON_AddNumberToObject(line, "delivery_seq", (double)(rec->seq - 1));
    if (rk_planes_last_was_duplicate(p))
        cJSON_AddTrueToObject(line, "duplicate");
    if (joined != NULL)
        cJSON_AddStringToObject(line, "joined", joined);
    cJSON_AddStringToObject(line, "kind", rk_kind_name(rec->kind));
    rk_time_format(rec->recorded_at, when);
    cJSON_AddStringToObject(line, "recorded_at", when);
    cJSON_AddNumberToObject(line, "seq", (double)rec->seq);
    rk_buf_reset(&t->line);
    rc = rk_canon_write(line, 0, &t->line, t->err);
    if (rc == RK_OK)
        rc = rk_buf_append(t->out, t->line.data, t->line.len);
    if (rc == RK_OK)
        rc = rk_buf_putc(t->out, '\n');
    cJSON_Delete(line);
    return rc;
}

rk_err rk_replay_timeline(rk_ledger *l, const char *ref, const rk_replay_point *pt,
                          rk_buf *out, char *err)
{
    struct tl_ctx t;
    rk_planes *p = NULL;
    cJSON *state = NULL, *evid = NULL;
    rk_replay_at at;
    rk_err rc;

    memset(&t, 0, sizeof t);
    t.ref = ref;
    t.out = out;
    t.err = err;
    /* pass 1: which records ended up in ref */
    rc = rk_replay_fold(l, pt, &p, &at, err);
    if (rc == RK_OK)
        rc = rk_planes_render(p, ref, &state, &evid, err);
    if (rc == RK_OK)
        rc = collect_seqs(&t, evid);
    rk_planes_free(p);
    p = NULL;
    if (rc != RK_OK)
        goto out;
    /* pass 2: fold again and print the state around each of them */
    rc = rk_planes_new(&p, err);
    if (rc == RK_OK)
        rc = fold_range(l, p, 0, pt, &at, tl_hook, &t, err);
out:
    rk_planes_free(p);
    cJSON_Delete(state);
    cJSON_Delete(evid);
    cJSON_Delete(t.last);
    rk_buf_free(&t.line);
    free(t.seqs);
    return rc;
}

/* ---- diff ------------------------------------------------------------------ */

rk_err rk_replay_diff(rk_ledger *l, const rk_replay_point *from, const rk_replay_point *to,
                      rk_buf *out, char *err)
{
    rk_planes *p = NULL;
    rk_replay_at at_a, at_b;
    cJSON *sa = NULL, *sb = NULL, *doc = NULL, *added, *removed, *changed, *pa, *pb;
    const cJSON *it, *other;
    uint8_t da[RK_HASH_SIZE], db[RK_HASH_SIZE];
    char hex[2 * RK_HASH_SIZE + 1];
    rk_buf tmp = RK_BUF_INIT;
    rk_err rc;

    if (from->at > to->at || from->as_of > to->as_of)
        return rk_seterr(err, RK_ERR_INVALID, "diff: the first point lies after the second");
    rc = rk_replay_fold(l, from, &p, &at_a, err);
    if (rc != RK_OK)
        return rc;
    rc = rk_planes_render(p, NULL, &sa, NULL, err);
    if (rc != RK_OK)
        goto out;
    at_b = at_a;
    rc = fold_range(l, p, at_a.records, to, &at_b, NULL, NULL, err);
    if (rc == RK_OK)
        rc = rk_planes_render(p, NULL, &sb, NULL, err);
    if (rc != RK_OK)
        goto out;
    rc = rk_canon_write(sa, 0, &tmp, err);
    if (rc != RK_OK)
        goto out;
    rk_sha256(da, tmp.data, tmp.len);
    rk_buf_reset(&tmp);
    rc = rk_canon_write(sb, 0, &tmp, err);
    if (rc != RK_OK)
        goto out;
    rk_sha256(db, tmp.data, tmp.len);
    doc = cJSON_CreateObject();
    pa = cJSON_GetObjectItemCaseSensitive(sa, "payments");
    pb = cJSON_GetObjectItemCaseSensitive(sb, "payments");
    added = cJSON_AddArrayToObject(doc, "added");
    changed = cJSON_AddObjectToObject(doc, "changed");
    removed = cJSON_AddArrayToObject(doc, "removed");
    cJSON_ArrayForEach(it, pb)
    {
        other = cJSON_GetObjectItemCaseSensitive(pa, it->string);
        if (other == NULL) {
            cJSON_AddItemToArray(added, cJSON_CreateString(it->string));
        } else if (!cJSON_Compare(it, other, 1)) {
            cJSON *c = cJSON_AddObjectToObject(changed, it->string);
            cJSON *fa = cJSON_AddObjectToObject(c, "from"), *names = changed_members(other, it);
            cJSON *ta = cJSON_AddObjectToObject(c, "to");
            const cJSON *n;
            cJSON_ArrayForEach(n, names)
            {
                const cJSON *x = cJSON_GetObjectItemCaseSensitive(other, n->valuestring);
                const cJSON *y = cJSON_GetObjectItemCaseSensitive(it, n->valuestring);
                cJSON_AddItemToObject(fa, n->valuestring,
                                      x != NULL ? cJSON_Duplicate(x, 1) : cJSON_CreateNull());
                cJSON_AddItemToObject(ta, n->valuestring,
                                      y != NULL ? cJSON_Duplicate(y, 1) : cJSON_CreateNull());
            }
            cJSON_AddItemToObject(c, "members", names);
        }
    }
    cJSON_ArrayForEach(it, pa)
    {
        if (cJSON_GetObjectItemCaseSensitive(pb, it->string) == NULL)
            cJSON_AddItemToArray(removed, cJSON_CreateString(it->string));
    }
    {
        cJSON *f = at_json(&at_a), *t = at_json(&at_b);
        rk_hex_encode(hex, da, RK_HASH_SIZE);
        cJSON_AddStringToObject(f, "state_digest", hex);
        rk_hex_encode(hex, db, RK_HASH_SIZE);
        cJSON_AddStringToObject(t, "state_digest", hex);
        cJSON_AddItemToObject(doc, "from", f);
        cJSON_AddItemToObject(doc, "to", t);
    }
    rc = rk_canon_write(doc, 0, out, err);
out:
    rk_planes_free(p);
    cJSON_Delete(sa);
    cJSON_Delete(sb);
    cJSON_Delete(doc);
    rk_buf_free(&tmp);
    return rc;
}
