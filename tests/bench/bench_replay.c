/*
 * bench_replay.c - replay throughput and peak memory against a baseline
 * measured in the same run: a raw sequential scan of the same records
 * through rk_ledger_scan doing nothing.  Prints; asserts nothing.
 *
 * The ledger: 102 100 payments (10 000 with --quick), each a commerce row,
 * a BTCPay-style ladder of provider events (some out of order, some
 * delivered twice, some joined only by the payment id), and finance rows
 * for most; a policy record first: just over 1 000 000 records in all (the
 * throughput target is stated over a million records; the quick ledger
 * has about 98 000).
 *
 * Memory is measured per fold (Linux: /proc/self/status, the peak reset
 * through /proc/self/clear_refs, freed heap returned with malloc_trim) and
 * split per open and per closed payment (see the end of main).
 *
 *   bench_replay [--quick]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "bytes.h"
#include "ledger.h"
#include "policy.h"
#include "record.h"
#include "replay.h"

#define BATCH 2000
#define T0 1767225600LL

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds of this process (user + system): the machine may be shared,
 * so rates are printed against CPU time as well as wall time. */
static double cpu(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static long maxrss_kb(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* A line "Name:   N kB" of /proc/self/status, in kB; -1 when unavailable. */
static long status_kb(const char *name)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    size_t n = strlen(name);
    long v = -1;

    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, name, n) == 0 && line[n] == ':') {
            v = strtol(line + n + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

/*
 * Start a memory measurement: give freed heap back to the system (glibc
 * keeps it otherwise, and a fold would reuse it without growing the RSS),
 * then reset the peak (VmHWM) to the current RSS (Linux: clear_refs 5).
 * Returns the current RSS in kB, or -1.
 */
static long rss_mark(void)
{
    FILE *f;

#ifdef __GLIBC__
    malloc_trim(0);
#endif
    f = fopen("/proc/self/clear_refs", "w");
    if (f != NULL) {
        fputs("5", f);
        fclose(f);
    }
    return status_kb("VmRSS");
}

static void die(const char *what, const char *err)
{
    fprintf(stderr, "bench_replay: %s: %s\n", what, err != NULL ? err : "failed");
    exit(2);
}

/* Pending items of one batch; bodies live in a fixed arena. */
struct batch {
    rk_append_item items[BATCH];
    char refs[BATCH][40];
    char *bodies;
    size_t used, n;
    rk_ledger *l;
    uint64_t total;
};

#define ARENA (BATCH * 640)

static void flush(struct batch *b)
{
    char err[RK_ERROR_SIZE] = "";

    if (b->n == 0)
        return;
    if (rk_ledger_append(b->l, b->items, b->n, err) != RK_OK)
        die("append", err);
    b->total += b->n;
    b->n = 0;
    b->used = 0;
}

static char *slot(struct batch *b, unsigned kind, const char *ref)
{
    rk_append_item *it;

    if (b->n == BATCH || b->used + 640 > ARENA)
        flush(b);
    it = &b->items[b->n];
    memset(it, 0, sizeof *it);
    it->kind = kind;
    snprintf(b->refs[b->n], sizeof b->refs[b->n], "%s", ref);
    it->ref = b->refs[b->n];
    it->body = (const uint8_t *)(b->bodies + b->used);
    return b->bodies + b->used;
}

static void commit(struct batch *b, int len)
{
    b->items[b->n].body_len = (size_t)len;
    b->used += (size_t)len + 1;
    b->n++;
}

static void fmt_time(long long sec, char out[RK_TIME_STR_MAX])
{
    rk_time_format(sec * 1000000000LL, out);
}

static const char *words[] = { "InvoiceCreated", "InvoiceReceivedPayment", "InvoiceProcessing",
                               "InvoiceSettled" };
static const char *states[] = { "awaiting_payment", "detected", "confirming", "confirmed" };

static void provider_event(struct batch *b, int k, int step, int conf, int by_pid_only)
{
    char order[32], when[RK_TIME_STR_MAX], *w;
    int len, wi = step < 4 ? step : 3;
    long long t = T0 + (long long)k * 3 + step * 600;

    snprintf(order, sizeof order, "ord-%07d", k);
    fmt_time(t, when);
    w = slot(b, RK_KIND_PROVIDER_EVENT, by_pid_only ? order + 4 : order);
    if (wi == 0)
        len = snprintf(w, 640,
                       "{\"event_id\":\"ev-%07d-%d\",\"event_type\":\"%s\",\"occurred_at\":"
                       "\"%s\",\"payments\":[],\"provider\":\"btcpay\",\"refs\":{%s%s%s"
                       "\"payment\":\"inv-%07d\"},\"source\":\"webhook\",\"state\":\"%s\","
                       "\"status\":\"%s\",\"v\":1}",
                       k, step, words[wi], when, by_pid_only ? "" : "\"order\":\"",
                       by_pid_only ? "" : order, by_pid_only ? "" : "\",", k, states[wi],
                       words[wi]);
    else
        len = snprintf(w, 640,
                       "{\"event_id\":\"ev-%07d-%d\",\"event_type\":\"%s\",\"occurred_at\":"
                       "\"%s\",\"payments\":[{\"amount\":\"0.00%06d\",\"asset\":\"BTC\","
                       "\"confirmations\":%d,\"network\":\"bitcoin\",\"tx\":\"%064d\"}],"
                       "\"provider\":\"btcpay\",\"refs\":{%s%s%s\"payment\":\"inv-%07d\"},"
                       "\"source\":\"%s\",\"state\":\"%s\",\"status\":\"%s\",\"v\":1}",
                       k, step, words[wi], when, 100000 + k % 1000, conf, k,
                       by_pid_only ? "" : "\"order\":\"", by_pid_only ? "" : order,
                       by_pid_only ? "" : "\",", k, step == 4 ? "api_read" : "webhook",
                       states[wi], words[wi]);
    commit(b, len);
}

static void commerce_row(struct batch *b, int k)
{
    char order[32], when[RK_TIME_STR_MAX], exp[RK_TIME_STR_MAX], *w;
    long long t = T0 + (long long)k * 3;

    snprintf(order, sizeof order, "ord-%07d", k);
    fmt_time(t, when);
    fmt_time(t + 3600, exp);
    w = slot(b, RK_KIND_COMMERCE_ROW, order);
    commit(b, snprintf(w, 640,
                       "{\"event\":\"created\",\"expected\":{\"amount\":\"0.00%06d\","
                       "\"asset\":\"BTC\",\"network\":\"bitcoin\"},\"expires_at\":\"%s\","
                       "\"occurred_at\":\"%s\",\"order\":\"%s\",\"price\":{\"amount\":"
                       "\"%d.00\",\"currency\":\"USD\"},\"row_id\":\"%s:created\",\"v\":1}",
                       100000 + k % 1000, exp, when, order, 97 + k % 1000, order));
}

static void finance_row(struct batch *b, int k, int credit)
{
    char order[32], when[RK_TIME_STR_MAX], *w;

    snprintf(order, sizeof order, "ord-%07d", k);
    fmt_time(T0 + (long long)k * 3 + 7200, when);
    w = slot(b, RK_KIND_FINANCE_ROW, order);
    commit(b, snprintf(w, 640,
                       "{\"account\":\"%s\",\"amount\":\"%s\",\"currency\":\"%s\",%s"
                       "\"order\":\"%s\",\"period\":\"2026-01\",\"recognised_at\":\"%s\","
                       "\"row_id\":\"je-%07d-%d\",\"side\":\"%s\",\"v\":1}",
                       credit ? "4000-revenue" : "1200-crypto-clearing",
                       credit ? "97.00" : "0.00100000", credit ? "USD" : "BTC",
                       credit ? "" : "\"fx_rate\":\"97000.00\",\"fx_source\":\"bench\",", order,
                       when, k, credit, credit ? "credit" : "debit"));
}

static void policy_record(struct batch *b)
{
    rk_policy *p = NULL;
    rk_buf body = RK_BUF_INIT;
    char err[RK_ERROR_SIZE] = "", *w;

    if (rk_policy_load("formats/policy/default.json", &p, err) != RK_OK)
        die("policy", err);
    if (rk_policy_record_body(p, &body, err) != RK_OK)
        die("policy", err);
    w = slot(b, RK_KIND_POLICY, "policy");
    memcpy(w, body.data, body.len);
    commit(b, (int)body.len);
    rk_buf_free(&body);
    rk_policy_free(p);
}

/*
 * Payments move through the ladder in waves of 1000, so many are in flight
 * at once, as in a live ledger.  Per payment: 1 commerce row, 5..8 provider
 * events (one in 8 arrives before its predecessor, one in 16 twice, one in
 * 5 of the later ones carry only the payment id), 2 finance rows for 9 in
 * 10 payments.
 */
static void build(struct batch *b, int npay)
{
    int g, k, s;

    policy_record(b);
    for (g = 0; g < npay; g += 1000) {
        int end = g + 1000 < npay ? g + 1000 : npay;
        for (k = g; k < end; k++)
            commerce_row(b, k);
        for (s = 0; s < 8; s++) {
            for (k = g; k < end; k++) {
                int steps = 5 + k % 4, conf = s < 2 ? 0 : (s - 1) * 2;
                if (s >= steps)
                    continue;
                if (k % 8 == 0 && s == 1) {
                    provider_event(b, k, 2, 2, 0); /* out of order */
                    provider_event(b, k, 1, 0, 0);
                    continue;
                }
                if (k % 8 == 0 && s == 2)
                    continue;
                provider_event(b, k, s, conf, s >= 2 && k % 5 == 0);
                if (k % 16 == 3)
                    provider_event(b, k, s, conf, s >= 2 && k % 5 == 0); /* redelivery */
            }
        }
        for (k = g; k < end; k++) {
            if (k % 10 == 9)
                continue;
            finance_row(b, k, 0);
            finance_row(b, k, 1);
        }
    }
    flush(b);
}

/* All records copied into memory, to time the fold without storage. */
struct mem {
    uint8_t **rec;
    size_t *len;
    size_t n, cap;
};

static rk_err keep(void *ctx, const rk_record *rec, const uint8_t *bytes, size_t len)
{
    struct mem *m = ctx;

    (void)rec;
    if (m->n == m->cap) {
        m->cap = m->cap == 0 ? 1024 : m->cap * 2;
        m->rec = realloc(m->rec, m->cap * sizeof *m->rec);
        m->len = realloc(m->len, m->cap * sizeof *m->len);
        if (m->rec == NULL || m->len == NULL)
            return RK_ERR_NOMEM;
    }
    m->rec[m->n] = malloc(len);
    if (m->rec[m->n] == NULL)
        return RK_ERR_NOMEM;
    memcpy(m->rec[m->n], bytes, len);
    m->len[m->n++] = len;
    return RK_OK;
}

/* Fold in-memory records; seconds. */
static double fold_memory(const struct mem *m)
{
    rk_planes *p = NULL;
    rk_record r;
    char err[RK_ERROR_SIZE] = "";
    double t0;
    size_t i;

    if (rk_planes_new(&p, err) != RK_OK)
        die("planes", err);
    t0 = now();
    for (i = 0; i < m->n; i++) {
        if (rk_record_decode(m->rec[i], m->len[i], &r, err) != RK_OK ||
            rk_planes_apply(p, &r, err) != RK_OK)
            die("fold", err);
    }
    t0 = now() - t0;
    rk_planes_free(p);
    return t0;
}

/* What one fold to a point holds and peaks at, in kB over the RSS before it. */
struct memrun {
    uint64_t records, open, closed;
    long held_kb, peak_kb; /* -1 when /proc is not there */
};

static rk_err apply_one(void *ctx, const rk_record *rec, const uint8_t *bytes, size_t len)
{
    char err[RK_ERROR_SIZE] = "";

    (void)bytes;
    (void)len;
    if (rk_planes_apply(ctx, rec, err) != RK_OK)
        die("fold", err);
    return RK_OK;
}

/* Fold records 0..at: the replay (compact 1), or a plain fold holding every
 * payment in full (compact 0). */
static void measure_fold(rk_ledger *l, uint64_t at, int compact, struct memrun *m)
{
    rk_replay_point pt = RK_REPLAY_POINT_END;
    rk_replay_at ra;
    rk_planes *p = NULL;
    rk_planes_stats st;
    char err[RK_ERROR_SIZE] = "";
    uint64_t expanded;
    long base, now_kb, hwm;

    pt.at = at;
    base = rss_mark();
    if (compact) {
        if (rk_replay_fold(l, &pt, &p, &ra, err) != RK_OK)
            die("replay", err);
    } else if (rk_planes_new(&p, err) != RK_OK ||
               rk_ledger_scan(l, 0, at + 1, apply_one, p, err) != RK_OK) {
        die("fold", err);
    }
    now_kb = status_kb("VmRSS");
    hwm = status_kb("VmHWM");
    rk_planes_stats_get(p, &st);
    rk_planes_compaction_stats(p, &m->open, &m->closed, &expanded);
    if (!compact)
        m->open = st.payments;
    m->closed = st.payments - m->open; /* compacted now, not compactions so far */
    m->records = st.records;
    m->held_kb = base >= 0 && now_kb >= 0 ? now_kb - base : -1;
    m->peak_kb = base >= 0 && hwm >= 0 ? hwm - base : -1;
    rk_planes_free(p);
}

static rk_err nothing(void *ctx, const rk_record *rec, const uint8_t *bytes, size_t len)
{
    (void)rec;
    (void)bytes;
    *(size_t *)ctx += len;
    return RK_OK;
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    int npay = quick ? 10000 : 102100;
    char dir[] = "/tmp/rk-bench-replay-XXXXXX", path[256], err[RK_ERROR_SIZE] = "";
    struct batch *b = calloc(1, sizeof *b);
    rk_replay_point end = RK_REPLAY_POINT_END;
    rk_replay_at at;
    rk_planes *p = NULL;
    rk_planes_stats st;
    rk_buf doc = RK_BUF_INIT;
    double t0, c0, t_build, t_scan = 1e30, t_replay = 1e30, t_doc, c_scan = 1e30,
                       c_replay = 1e30;
    long rss0, rss_scan, rss_replay;
    uint64_t size;
    uint8_t head[RK_HASH_SIZE];
    size_t bytes = 0;
    int round;
    char cmd[300], doc_hex[2 * RK_HASH_SIZE + 1];
    uint8_t doc_hash[RK_HASH_SIZE];

    if (b == NULL || mkdtemp(dir) == NULL)
        die("setup", "cannot create a temporary directory");
    b->bodies = malloc(ARENA);
    if (b->bodies == NULL)
        die("setup", "out of memory");
    snprintf(path, sizeof path, "%s/db", dir);
    if (rk_ledger_create(path, "bench.example/replay", T0 * 1000000000LL, err) != RK_OK ||
        rk_ledger_open(path, 0, &b->l, err) != RK_OK)
        die("ledger", err);
    rk_ledger_set_sync(b->l, 0);
    t0 = now();
    build(b, npay);
    t_build = now() - t0;
    rk_ledger_close(b->l);
    if (rk_ledger_open(path, RK_LEDGER_READONLY, &b->l, err) != RK_OK)
        die("reopen", err);
    rk_ledger_head(b->l, &size, head);
    printf("bench_replay: %llu records, %d payments (built in %.1f s, unsynced)\n",
           (unsigned long long)size, npay, t_build);

    rss0 = maxrss_kb();
    /*
     * Best of 3 rounds each, a scan and a fold in turn, scan first so both
     * see a warm cache: on a noisy machine the two measures of a round see
     * the same phase of the host, and the best round of each is the one the
     * host disturbed least.
     */
    rss_scan = 0;
    for (round = 0; round < 3; round++) {
        bytes = 0;
        t0 = now();
        c0 = cpu();
        if (rk_ledger_scan(b->l, 0, UINT64_MAX, nothing, &bytes, err) != RK_OK)
            die("scan", err);
        if (now() - t0 < t_scan)
            t_scan = now() - t0;
        if (cpu() - c0 < c_scan)
            c_scan = cpu() - c0;
        if (round == 0)
            rss_scan = maxrss_kb();
        if (p != NULL)
            rk_planes_free(p);
        t0 = now();
        c0 = cpu();
        if (rk_replay_fold(b->l, &end, &p, &at, err) != RK_OK)
            die("replay", err);
        if (now() - t0 < t_replay)
            t_replay = now() - t0;
        if (cpu() - c0 < c_replay)
            c_replay = cpu() - c0;
    }
    rss_replay = maxrss_kb();
    if (quick || getenv("RK_BENCH_PROFILE_FOLD") != NULL) {
        /* the fold without storage: every record copied into memory first */
        struct mem m = { NULL, NULL, 0, 0 };
        size_t i;
        double t_mem;
        if (rk_ledger_scan(b->l, 0, UINT64_MAX, keep, &m, err) != RK_OK)
            die("scan", err);
        t_mem = fold_memory(&m);
        if (getenv("RK_BENCH_PROFILE_FOLD") != NULL) /* for perf: fold a few more times */
            for (i = 0; i < 5; i++)
                (void)fold_memory(&m);
        printf("  %-34s %12.0f records/s  (%.2f s; records already in memory)\n",
               "fold alone (rk_planes_apply)", (double)m.n / t_mem, t_mem);
        for (i = 0; i < m.n; i++)
            free(m.rec[i]);
        free(m.rec);
        free(m.len);
    }
    t0 = now();
    if (rk_replay_document(p, &at, NULL, &doc, NULL, err) != RK_OK)
        die("document", err);
    t_doc = now() - t0;
    rk_planes_stats_get(p, &st);
    {
        /* "at" holds recorded-at times, which are the wall clock here */
        const uint8_t *ev = memchr(doc.data, '}', doc.len); /* the end of "at" */
        size_t off = ev != NULL ? (size_t)(ev - doc.data) : 0;
        rk_sha256(doc_hash, doc.data + off, doc.len - off);
    }
    rk_hex_encode(doc_hex, doc_hash, RK_HASH_SIZE);
    if (getenv("RK_BENCH_DUMP") != NULL) { /* the document, to compare two builds */
        FILE *f = fopen(getenv("RK_BENCH_DUMP"), "wb");
        if (f == NULL || fwrite(doc.data, 1, doc.len, f) != doc.len || fclose(f) != 0)
            die("dump", getenv("RK_BENCH_DUMP"));
    }

    printf("  %-34s %12.0f records/s  (%.2f s, %.0f MB read)\n", "baseline: raw scan",
           (double)size / t_scan, t_scan, (double)bytes / 1e6);
    printf("  %-34s %12.0f records/s  (%.2f s)  ratio to scan %.2f\n", "replay fold",
           (double)size / t_replay, t_replay, t_scan / t_replay);
    printf("  %-34s %12.0f records/s  (scan %.0f records/s of CPU time)\n",
           "replay fold per CPU second", (double)size / c_replay, (double)size / c_scan);
    printf("  %-34s %12.0f events/s   (%llu provider events, %llu duplicates, %llu "
           "reordered, %llu merges)\n",
           "replay fold, provider events", (double)st.events / t_replay,
           (unsigned long long)st.events, (unsigned long long)st.duplicates,
           (unsigned long long)st.reorders, (unsigned long long)st.merges);
    printf("  %-34s %12.2f s     (%llu payments, %.0f MB of JSON)\n", "render + digest",
           t_doc, (unsigned long long)st.payments, (double)doc.len / 1e6);
    /* what `reckon replay` does in all, short of printing: fold, then document */
    printf("  %-34s %12.0f records/s  (%.2f s: fold + render + digest)\n",
           "replay end to end", (double)size / (t_replay + t_doc), t_replay + t_doc);
    printf("  %-34s %12ld MB   (process peak; before scan %ld MB, after scan %ld MB)\n",
           "peak RSS (ru_maxrss)", rss_replay / 1024, rss0 / 1024, rss_scan / 1024);
    printf("  %-34s %s\n", "document sha256 (after \"at\")", doc_hex);
    printf("  target >= 1000000 records/s: %s (wall), %s (CPU)\n",
           (double)size / t_replay >= 1e6 ? "met" : "not met",
           (double)size / c_replay >= 1e6 ? "met" : "not met");
    rk_buf_free(&doc);
    rk_planes_free(p);
    {
        /*
         * Memory, each fold measured alone (freed heap given back first, the
         * peak reset): "held" is the RSS growth while the state is alive
         * after the fold, "peak" the growth at its highest during it (the
         * scanner's ring included).  First the replay as it runs, to half
         * the ledger and to all of it; then the same two folds without
         * compaction, where every payment is held with its lists.  In this
         * ledger the open payments grow with it (one in ten has no finance
         * row and never closes), so open and closed counts rise together and
         * cannot be told apart by the replay's points alone: the folds
         * without compaction price a payment held in full (the slope between
         * the two points), and what the replay holds beyond its open
         * payments at that price, over its closed payments, prices a closed
         * one.
         */
        struct memrun h, f, ph, pf;
        double per_open, base, per_closed;
        measure_fold(b->l, size / 2, 1, &h);
        measure_fold(b->l, size - 1, 1, &f);
        measure_fold(b->l, size / 2, 0, &ph);
        measure_fold(b->l, size - 1, 0, &pf);
        printf("  %-34s %8.1f MB held, %.1f MB peak (%llu records, %llu open, %llu "
               "closed)\n",
               "replay to half: RSS growth", (double)h.held_kb / 1024.0,
               (double)h.peak_kb / 1024.0, (unsigned long long)h.records,
               (unsigned long long)h.open, (unsigned long long)h.closed);
        printf("  %-34s %8.1f MB held, %.1f MB peak (%llu records, %llu open, %llu "
               "closed)\n",
               "replay to the end: RSS growth", (double)f.held_kb / 1024.0,
               (double)f.peak_kb / 1024.0, (unsigned long long)f.records,
               (unsigned long long)f.open, (unsigned long long)f.closed);
        printf("  %-34s %8.1f MB held (%llu payments) and %.1f MB held (%llu payments)\n",
               "without compaction, half and end", (double)ph.held_kb / 1024.0,
               (unsigned long long)ph.open, (double)pf.held_kb / 1024.0,
               (unsigned long long)pf.open);
        if (f.held_kb >= 0 && ph.held_kb >= 0 && pf.open > ph.open && f.closed > 0) {
            per_open = (double)(pf.held_kb - ph.held_kb) * 1024.0 / (double)(pf.open - ph.open);
            base = (double)pf.held_kb * 1024.0 - per_open * (double)pf.open;
            per_closed = ((double)f.held_kb * 1024.0 - base - per_open * (double)f.open) /
                         (double)f.closed;
            printf("  %-34s %12.0f bytes (slope of the folds without compaction)\n",
                   "RSS per open payment", per_open);
            printf("  %-34s %12.0f bytes (the replay's growth at the end beyond its open "
                   "payments and the constant %.1f MB)\n",
                   "RSS per closed payment", per_closed, base / 1048576.0);
        }
    }
    rk_ledger_close(b->l);
    free(b->bodies);
    free(b);
    if (getenv("RK_BENCH_KEEP") != NULL) { /* for profiling `reckon replay` on it */
        printf("  ledger kept in %s\n", path);
        return 0;
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_replay: could not remove %s\n", dir);
    return 0;
}
