/*
 * bench_ledger.c - ledger throughput against baselines measured in the same
 * run: raw RocksDB writes of the same size with the same durability, raw
 * sequential RocksDB reads, raw SHA-256.  Prints ratios; asserts nothing.
 *
 * This program talks to RocksDB directly for the baselines only; the
 * measured side goes through the engine's public API.
 *
 *   bench_ledger [--quick]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rocksdb/c.h>

#include "bytes.h"
#include "ledger.h"
#include "record.h"
#include "verify.h"

#define BODY_SIZE 512

static char body[BODY_SIZE + 1];
static char workdir[4096];
static int quick;

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *err)
{
    fprintf(stderr, "bench: %s: %s\n", what, err != NULL ? err : "failed");
    exit(2);
}

static void make_body(void)
{
    /* {"pad":"xxx...x"}: canonical JSON of exactly BODY_SIZE bytes */
    memset(body, 'x', BODY_SIZE);
    memcpy(body, "{\"pad\":\"", 8);
    memcpy(body + BODY_SIZE - 2, "\"}", 2);
    body[BODY_SIZE] = '\0';
}

static void path_of(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", workdir, name);
}

/* ---- raw RocksDB baseline -------------------------------------------- */

struct raw {
    rocksdb_t *db;
    rocksdb_options_t *o;
    rocksdb_writeoptions_t *w;
};

static void raw_open(struct raw *r, const char *name, int sync)
{
    char p[4200], *err = NULL;

    path_of(p, sizeof p, name);
    r->o = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(r->o, 1);
    rocksdb_options_increase_parallelism(r->o, 2);
    r->db = rocksdb_open(r->o, p, &err);
    if (err != NULL)
        die("raw open", err);
    r->w = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(r->w, sync);
}

static void raw_close(struct raw *r)
{
    rocksdb_close(r->db);
    rocksdb_options_destroy(r->o);
    rocksdb_writeoptions_destroy(r->w);
}

static uint64_t raw_seq;
static pthread_mutex_t raw_mu = PTHREAD_MUTEX_INITIALIZER;

/* n batches of `per` puts of a record-sized value (body + header + hash). */
static void raw_put(struct raw *r, int n, int per)
{
    char val[BODY_SIZE + RK_RECORD_OVERHEAD], *err = NULL;
    uint8_t key[8];
    rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
    int i, j;

    memcpy(val, body, BODY_SIZE);
    memset(val + BODY_SIZE, 7, sizeof val - BODY_SIZE);
    for (i = 0; i < n; i++) {
        rocksdb_writebatch_clear(wb);
        for (j = 0; j < per; j++) {
            pthread_mutex_lock(&raw_mu);
            rk_put_be64(key, raw_seq++);
            pthread_mutex_unlock(&raw_mu);
            rocksdb_writebatch_put(wb, (char *)key, 8, val, sizeof val);
        }
        rocksdb_write(r->db, r->w, wb, &err);
        if (err != NULL)
            die("raw write", err);
    }
    rocksdb_writebatch_destroy(wb);
}

/* ---- ledger side ------------------------------------------------------ */

static rk_ledger *ledger_new(const char *name, int sync)
{
    char p[4200], err[RK_ERROR_SIZE] = "";
    rk_ledger *l = NULL;

    path_of(p, sizeof p, name);
    if (rk_ledger_create(p, "bench/ledger", 0, err) != RK_OK ||
        rk_ledger_open(p, 0, &l, err) != RK_OK)
        die("ledger", err);
    rk_ledger_set_sync(l, sync);
    return l;
}

static void ledger_put(rk_ledger *l, int n, int per)
{
    rk_append_item *items = calloc((size_t)per, sizeof *items);
    char err[RK_ERROR_SIZE] = "";
    int i, j;

    for (i = 0; i < n; i++) {
        for (j = 0; j < per; j++) {
            memset(&items[j], 0, sizeof items[j]);
            items[j].kind = RK_KIND_OPERATOR_NOTE;
            items[j].body = (const uint8_t *)body;
            items[j].body_len = BODY_SIZE;
        }
        if (rk_ledger_append(l, items, (size_t)per, err) != RK_OK)
            die("append", err);
    }
    free(items);
}

struct job {
    struct raw *raw;
    rk_ledger *l;
    int n;
};

static void *raw_thread(void *p)
{
    struct job *j = p;
    raw_put(j->raw, j->n, 1);
    return NULL;
}

static void *ledger_thread(void *p)
{
    struct job *j = p;
    ledger_put(j->l, j->n, 1);
    return NULL;
}

static void row(const char *name, double ours, double base, const char *basename)
{
    printf("%-34s %12.0f %12.0f %7.2f  %s\n", name, ours, base, ours / base, basename);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#define ROUNDS 5

/*
 * One measure: ROUNDS rounds, each timing the baseline then reckon back to
 * back, so that both see the same disk weather; the medians are printed.
 */
struct measure {
    const char *name, *basename;
    int threads, per, n; /* n calls of `per` records on each of `threads` */
};

static void run_raw(struct raw *r, const struct measure *m)
{
    pthread_t th[8];
    struct job jobs[8];
    int i;

    if (m->threads == 1) {
        raw_put(r, m->n, m->per);
        return;
    }
    for (i = 0; i < m->threads; i++) {
        jobs[i].raw = r;
        jobs[i].n = m->n;
        pthread_create(&th[i], NULL, raw_thread, &jobs[i]);
    }
    for (i = 0; i < m->threads; i++)
        pthread_join(th[i], NULL);
}

static void run_ledger(rk_ledger *l, const struct measure *m)
{
    pthread_t th[8];
    struct job jobs[8];
    int i;

    if (m->threads == 1) {
        ledger_put(l, m->n, m->per);
        return;
    }
    for (i = 0; i < m->threads; i++) {
        jobs[i].l = l;
        jobs[i].n = m->n;
        pthread_create(&th[i], NULL, ledger_thread, &jobs[i]);
    }
    for (i = 0; i < m->threads; i++)
        pthread_join(th[i], NULL);
}

static void bench_one(const struct measure *m, int idx)
{
    double ours[ROUNDS], base[ROUNDS], t, total = (double)m->threads * m->n * m->per;
    char rawname[32], ledname[32];
    struct raw r;
    rk_ledger *l;
    int k;

    snprintf(rawname, sizeof rawname, "raw%d", idx);
    snprintf(ledname, sizeof ledname, "led%d", idx);
    raw_open(&r, rawname, 1);
    l = ledger_new(ledname, 1);
    for (k = 0; k < ROUNDS; k++) {
        t = now();
        run_raw(&r, m);
        base[k] = total / (now() - t);
        t = now();
        run_ledger(l, m);
        ours[k] = total / (now() - t);
    }
    raw_close(&r);
    rk_ledger_close(l);
    qsort(ours, ROUNDS, sizeof ours[0], cmp_double);
    qsort(base, ROUNDS, sizeof base[0], cmp_double);
    row(m->name, ours[ROUNDS / 2], base[ROUNDS / 2], m->basename);
}

static void bench_append(void)
{
    int s = quick ? 1 : 4;
    const struct measure ms[] = {
        { "durable append, 1 record/call", "raw synced put, 1 per write", 1, 1, 50 * s },
        { "durable append, batches of 100", "raw synced batch of 100 puts", 1, 100, 10 * s },
        { "durable append, 2 threads", "raw synced put, 2 threads", 2, 1, 50 * s },
    };
    size_t i;

    for (i = 0; i < sizeof ms / sizeof ms[0]; i++)
        bench_one(&ms[i], (int)i);
}

static void bench_verify(void)
{
    int n = quick ? 20000 : 300000;
    char p[4200], err[RK_ERROR_SIZE] = "", *rerr = NULL;
    rk_ledger *l = ledger_new("verify", 0);
    rk_verify_opts o = { 0 };
    rk_verify_summary sum;
    rocksdb_options_t *opts;
    rocksdb_readoptions_t *ro;
    rocksdb_t *db;
    rocksdb_column_family_handle_t *cf[5];
    const char *names[5] = { "default", "records", "merkle", "ref", "event" };
    const rocksdb_options_t *cfo[5];
    rocksdb_iterator_t *it;
    uint8_t h[32];
    uint64_t bytes = 0, count = 0;
    double t, ours, base_read, base_sha;
    size_t len;
    int i;

    ledger_put(l, n / 100, 100);
    rk_ledger_close(l);
    path_of(p, sizeof p, "verify");

    /* baseline: sequential read of the records column family */
    opts = rocksdb_options_create();
    for (i = 0; i < 5; i++)
        cfo[i] = opts;
    db = rocksdb_open_for_read_only_column_families(opts, p, 5, names, cfo, cf, 0, &rerr);
    if (rerr != NULL)
        die("raw open", rerr);
    ro = rocksdb_readoptions_create();
    rocksdb_readoptions_set_fill_cache(ro, 0);
    t = now();
    it = rocksdb_create_iterator_cf(db, ro, cf[1]);
    for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
        rocksdb_iter_value(it, &len);
        bytes += len;
        count++;
    }
    base_read = (double)count / (now() - t);
    rocksdb_iter_destroy(it);
    /* baseline: raw SHA-256 over the same number of record-sized inputs */
    t = now();
    for (i = 0; i < (int)count; i++)
        rk_sha256(h, body, BODY_SIZE + RK_RECORD_HEADER);
    base_sha = (double)count / (now() - t);
    for (i = 0; i < 5; i++)
        rocksdb_column_family_handle_destroy(cf[i]);
    rocksdb_close(db);
    rocksdb_readoptions_destroy(ro);
    rocksdb_options_destroy(opts);

    t = now();
    if (rk_verify_ledger(p, &o, &sum, err) != RK_OK)
        die("verify", err);
    ours = (double)sum.records / (now() - t);
    row("verify (records/s)", ours, base_read, "raw sequential read of records");
    row("verify (records/s)", ours, base_sha, "raw SHA-256 of each record");
    (void)bytes;
}

int main(int argc, char **argv)
{
    const char *tmp = getenv("TMPDIR");
    char cmd[4200];

    quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    snprintf(workdir, sizeof workdir, "%s/reckon-bench-XXXXXX",
             tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    if (mkdtemp(workdir) == NULL)
        die("mkdtemp", workdir);
    make_body();
    printf("ledger benchmarks, %d-byte bodies, directory %s\n", BODY_SIZE, workdir);
    printf("append: median of %d rounds, each timing the baseline and reckon back to back\n",
           ROUNDS);
    printf("%-34s %12s %12s %7s  %s\n", "measure", "reckon/s", "baseline/s", "ratio",
           "baseline");
    bench_append();
    bench_verify();
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", workdir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench: cannot remove %s\n", workdir);
    return 0;
}
