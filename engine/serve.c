/* serve.c - the webhook receiver and operator API (formats/ingestion.md). */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>
#include <microhttpd.h>
#include <sodium.h>

#include "adapt.h"
#include "apikey.h"
#include "canon.h"
#include "note.h"
#include "opnote.h"
#include "serve.h"

#define NOTE_BODY_MAX (RK_OPNOTE_TEXT_MAX + RK_REF_MAX * 6 + 1024)
#define MAX_HEADERS 128
/*
 * A delivery holds its event key's stripe from the duplicate look-up until
 * its append is durable, so two different events that share a stripe wait
 * for each other's sync: enough stripes that concurrent deliveries almost
 * never share one (64 connections over 4096 stripes: a clash in ~40% of
 * bursts instead of nearly every one).
 */
#define EVENT_STRIPES 4096
#define FLOOD_PEERS 1024
#define FLOOD_ROWS 1024
#define WINDOW_NS (60LL * 1000000000LL)
#define STOP_WAIT_S 10
#define NAME_SHOWN_MAX 128 /* bytes of an unknown endpoint name we record */

enum outcome { OUT_ACCEPTED, OUT_DUPLICATE, OUT_REJECTED, OUT_UNMAPPED, OUT_COUNT };
static const char *const outcome_names[OUT_COUNT] = { "accepted", "duplicate", "rejected",
                                                      "unmapped" };

/* Upper bounds of the append latency histogram, seconds. */
static const double lat_bounds[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                     0.05, 0.1, 0.25, 0.5, 1, 2.5 };
#define LAT_BUCKETS (sizeof lat_bounds / sizeof lat_bounds[0])

struct flood_peer {
    char ip[INET6_ADDRSTRLEN];
    unsigned stored;
};

struct flood_row {
    char ip[INET6_ADDRSTRLEN];
    char endpoint[NAME_SHOWN_MAX + 1];
    char reason[64];
    uint64_t count;
};

/* Rejects of one window: which peers used their allowance, what was counted. */
struct flood_window {
    int64_t window; /* start / WINDOW_NS; -1 when empty */
    struct flood_peer peers[FLOOD_PEERS];
    size_t npeers;
    struct flood_row rows[FLOOD_ROWS];
    size_t nrows;
    uint64_t suppressed;
    uint64_t overflow; /* counted but not attributed: the row table was full */
};

struct rk_server {
    rk_ledger *l;
    const rk_config *cfg;
    rk_serve_opts o;
    struct MHD_Daemon *d;
    char address[INET6_ADDRSTRLEN + 16];
    uint16_t port;
    rk_signer *signer;
    pthread_mutex_t event_mu[EVENT_STRIPES];

    /* API keys, reloaded when the file changes */
    pthread_mutex_t keys_mu;
    rk_apikeys *keys;
    struct stat keys_st;

    /* requests in flight, for a graceful stop */
    pthread_mutex_t mu;
    pthread_cond_t cond;
    unsigned inflight;
    int stopping, stopped;

    /* the ticker: summaries and checkpoints */
    pthread_t ticker;
    int ticker_started;
    pthread_cond_t tick;
    struct timespec last_cp_mono;
    uint64_t cp_next_size; /* ledger size at which a count checkpoint is due */

    /* flood control */
    pthread_mutex_t flood_mu;
    struct flood_window *flood;

    /* metrics, under mu */
    uint64_t *deliveries; /* (nendpoints + 1) x OUT_COUNT; last row: unknown */
    uint64_t summarised;
    uint64_t lat_count[LAT_BUCKETS + 1];
    double lat_sum;
    uint64_t lat_total;
    uint64_t checkpoints;
    uint64_t append_failures;
};

/* One request's state (MHD's con_cls). */
enum req_kind { REQ_WEBHOOK, REQ_NOTES };

struct req {
    enum req_kind kind;
    const rk_config_endpoint *ep;
    char endpoint[NAME_SHOWN_MAX + 1];
    rk_buf body;
    size_t received;
    long long declared; /* Content-Length, -1 when absent */
    int too_large;
    int64_t received_at;
};

/* ---- small helpers ---------------------------------------------------- */

static void logf_(rk_server *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(rk_server *s, const char *fmt, ...)
{
    char line[1024];
    va_list ap;

    if (s->o.log == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    s->o.log(s->o.log_ctx, line);
}

/* Copy text we did not write (names, messages) as printable ASCII: others become '?'. */
static void copy_printable(char *dst, size_t size, const char *src)
{
    size_t i;

    for (i = 0; src[i] != '\0' && i + 1 < size; i++)
        dst[i] = (src[i] >= 0x20 && src[i] <= 0x7e) ? src[i] : '?';
    dst[i] = '\0';
}

/* An integer member, exact (cJSON numbers are doubles; canon keeps the text). */
static int add_int(cJSON *o, const char *key, long long v)
{
    char text[32];
    cJSON *n = NULL;

    snprintf(text, sizeof text, "%lld", v);
    if (rk_json_parse(text, strlen(text), &n, NULL) != RK_OK)
        return 0;
    cJSON_AddItemToObject(o, key, n);
    return 1;
}

static double mono_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void peer_of(struct MHD_Connection *c, char *ip, size_t ipn, char *peer, size_t pn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci != NULL ? ci->client_addr : NULL;
    unsigned port = 0;

    snprintf(ip, ipn, "unknown");
    if (sa != NULL && sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        inet_ntop(AF_INET, &in->sin_addr, ip, (socklen_t)ipn);
        port = ntohs(in->sin_port);
        snprintf(peer, pn, "%s:%u", ip, port);
        return;
    }
    if (sa != NULL && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, (socklen_t)ipn);
        port = ntohs(in6->sin6_port);
        snprintf(peer, pn, "[%s]:%u", ip, port);
        return;
    }
    snprintf(peer, pn, "unknown");
}

static enum MHD_Result respond(struct MHD_Connection *c, unsigned code, const char *ctype,
                               const char *body, const char *hname, const char *hval)
{
    struct MHD_Response *r;
    enum MHD_Result ret;

    r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", ctype);
    if (hname != NULL)
        MHD_add_response_header(r, hname, hval);
    ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result respond_json(struct MHD_Connection *c, unsigned code,
                                    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static enum MHD_Result respond_json(struct MHD_Connection *c, unsigned code,
                                    const char *fmt, ...)
{
    char body[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    return respond(c, code, "application/json", body, NULL, NULL);
}

/* ---- metrics ---------------------------------------------------------- */

static void count_delivery(rk_server *s, const rk_config_endpoint *ep, enum outcome out)
{
    size_t row = ep != NULL ? (size_t)(ep - s->cfg->endpoints) : s->cfg->nendpoints;

    pthread_mutex_lock(&s->mu);
    s->deliveries[row * OUT_COUNT + out]++;
    pthread_mutex_unlock(&s->mu);
}

/* rk_ledger_append, timed into the histogram. */
static rk_err timed_append(rk_server *s, rk_append_item *items, size_t n, char *err)
{
    double t0 = mono_now(), dt;
    size_t b;
    rk_err rc = rk_ledger_append(s->l, items, n, err);

    dt = mono_now() - t0;
    for (b = 0; b < LAT_BUCKETS && dt > lat_bounds[b]; b++)
        ;
    pthread_mutex_lock(&s->mu);
    s->lat_count[b]++;
    s->lat_sum += dt;
    s->lat_total++;
    if (rc != RK_OK)
        s->append_failures++;
    pthread_mutex_unlock(&s->mu);
    if (rc == RK_OK && s->signer != NULL && s->cfg->checkpoint_records > 0)
        pthread_cond_signal(&s->tick);
    return rc;
}

rk_err rk_serve_metrics(rk_server *s, rk_buf *out)
{
    uint64_t size, cum = 0;
    uint8_t h[RK_HASH_SIZE];
    size_t i, j;
    int rc = RK_OK;

    rk_ledger_head(s->l, &size, h);
    pthread_mutex_lock(&s->mu);
    rc |= rk_buf_puts(out, "# HELP reckon_deliveries_total Webhook deliveries by endpoint and outcome.\n"
                           "# TYPE reckon_deliveries_total counter\n");
    for (i = 0; i <= s->cfg->nendpoints; i++)
        for (j = 0; j < OUT_COUNT; j++)
            rc |= rk_buf_printf(out, "reckon_deliveries_total{endpoint=\"%s\",outcome=\"%s\"} %llu\n",
                                i < s->cfg->nendpoints ? s->cfg->endpoints[i].name : "_unknown",
                                outcome_names[j],
                                (unsigned long long)s->deliveries[i * OUT_COUNT + j]);
    rc |= rk_buf_printf(out, "# HELP reckon_rejects_summarised_total Rejected deliveries counted "
                             "into delivery_summary records instead of stored.\n"
                             "# TYPE reckon_rejects_summarised_total counter\n"
                             "reckon_rejects_summarised_total %llu\n",
                        (unsigned long long)s->summarised);
    rc |= rk_buf_puts(out, "# HELP reckon_append_seconds Durable ledger append latency.\n"
                           "# TYPE reckon_append_seconds histogram\n");
    for (i = 0; i < LAT_BUCKETS; i++) {
        cum += s->lat_count[i];
        rc |= rk_buf_printf(out, "reckon_append_seconds_bucket{le=\"%g\"} %llu\n", lat_bounds[i],
                            (unsigned long long)cum);
    }
    cum += s->lat_count[LAT_BUCKETS];
    rc |= rk_buf_printf(out, "reckon_append_seconds_bucket{le=\"+Inf\"} %llu\n"
                             "reckon_append_seconds_sum %.6f\nreckon_append_seconds_count %llu\n",
                        (unsigned long long)cum, s->lat_sum, (unsigned long long)s->lat_total);
    rc |= rk_buf_printf(out, "# HELP reckon_append_failures_total Appends the ledger refused (503).\n"
                             "# TYPE reckon_append_failures_total counter\n"
                             "reckon_append_failures_total %llu\n",
                        (unsigned long long)s->append_failures);
    rc |= rk_buf_printf(out, "# HELP reckon_ledger_size Records in the ledger (head seq + 1).\n"
                             "# TYPE reckon_ledger_size gauge\nreckon_ledger_size %llu\n",
                        (unsigned long long)size);
    rc |= rk_buf_printf(out, "# HELP reckon_checkpoints_total Checkpoints written by this server.\n"
                             "# TYPE reckon_checkpoints_total counter\n"
                             "reckon_checkpoints_total %llu\n",
                        (unsigned long long)s->checkpoints);
    pthread_mutex_unlock(&s->mu);
    return rc != RK_OK ? RK_ERR_NOMEM : RK_OK;
}

/* ---- delivery records -------------------------------------------------- */

struct hdrs {
    rk_sig_header h[MAX_HEADERS];
    size_t n;
    int overflow;
};

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    struct hdrs *hs = cls;

    (void)kind;
    if (hs->n >= MAX_HEADERS) {
        hs->overflow = 1;
        return MHD_NO;
    }
    hs->h[hs->n].name = key;
    hs->h[hs->n].value = value != NULL ? value : "";
    hs->n++;
    return MHD_YES;
}

static int redacted(const char *lname)
{
    return strcmp(lname, "authorization") == 0 || strcmp(lname, "cookie") == 0 ||
           strcmp(lname, "x-api-key") == 0 || strcmp(lname, "proxy-authorization") == 0;
}

/* [[name, value], ...]: names lower-cased, credentials redacted. */
static cJSON *headers_json(const struct hdrs *hs)
{
    cJSON *arr = cJSON_CreateArray(), *pair, *v;
    char lname[256];
    size_t i, k, n;
    char *b64;

    if (arr == NULL)
        return NULL;
    for (i = 0; i < hs->n; i++) {
        n = strlen(hs->h[i].name);
        for (k = 0; k < n && k + 1 < sizeof lname; k++)
            lname[k] = (char)((hs->h[i].name[k] >= 'A' && hs->h[i].name[k] <= 'Z')
                                  ? hs->h[i].name[k] + 32 : hs->h[i].name[k]);
        lname[k] = '\0';
        if (!rk_utf8_valid((const uint8_t *)lname, k))
            copy_printable(lname, sizeof lname, hs->h[i].name);
        pair = cJSON_CreateArray();
        if (pair == NULL)
            goto fail;
        cJSON_AddItemToArray(arr, pair);
        cJSON_AddItemToArray(pair, cJSON_CreateString(lname));
        if (redacted(lname)) {
            v = cJSON_CreateString("[redacted]");
        } else if (rk_utf8_valid((const uint8_t *)hs->h[i].value, strlen(hs->h[i].value))) {
            v = cJSON_CreateString(hs->h[i].value);
        } else {
            /* bytes that are not UTF-8 are kept, base64-encoded */
            n = rk_b64_encoded_size(strlen(hs->h[i].value));
            b64 = malloc(n);
            if (b64 == NULL)
                goto fail;
            rk_b64_encode(b64, n, (const uint8_t *)hs->h[i].value, strlen(hs->h[i].value));
            v = cJSON_CreateObject();
            if (v != NULL)
                cJSON_AddStringToObject(v, "base64", b64);
            free(b64);
        }
        if (v == NULL)
            goto fail;
        cJSON_AddItemToArray(pair, v);
    }
    return arr;
fail:
    cJSON_Delete(arr);
    return NULL;
}

struct delivery {
    struct req *r;
    const char *peer;
    const struct hdrs *hs;
    enum outcome outcome;
    char reason[RK_ERROR_SIZE];
    const rk_sig_result *sig; /* NULL when the signature was not checked */
    const char *event_key;
    long long duplicate_of; /* -1: none */
    int keep_raw;
};

static rk_err delivery_body(rk_server *s, const struct delivery *d, rk_buf *out, char *err)
{
    cJSON *o = cJSON_CreateObject(), *h;
    char when[RK_TIME_STR_MAX], reason[RK_ERROR_SIZE];
    int ok = o != NULL;
    rk_err rc;

    (void)s;
    if (!ok)
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    rk_time_format(d->r->received_at, when);
    ok = ok && cJSON_AddNumberToObject(o, "v", 1) != NULL;
    ok = ok && cJSON_AddStringToObject(o, "endpoint", d->r->endpoint) != NULL;
    if (d->r->ep != NULL)
        ok = ok && cJSON_AddStringToObject(o, "provider", d->r->ep->provider) != NULL;
    ok = ok && cJSON_AddStringToObject(o, "received_at", when) != NULL;
    ok = ok && cJSON_AddStringToObject(o, "peer", d->peer) != NULL;
    h = headers_json(d->hs);
    ok = ok && h != NULL;
    if (h != NULL)
        cJSON_AddItemToObject(o, "headers", h);
    ok = ok && cJSON_AddStringToObject(o, "outcome", outcome_names[d->outcome]) != NULL;
    if (d->outcome != OUT_ACCEPTED) {
        copy_printable(reason, sizeof reason, d->reason);
        ok = ok && cJSON_AddStringToObject(o, "reason", reason) != NULL;
    }
    if (d->sig != NULL) {
        ok = ok && cJSON_AddStringToObject(o, "signature", rk_sig_reason_str(d->sig->reason));
        if (d->sig->authentic)
            ok = ok && add_int(o, "secret_index", d->sig->secret_index);
        if (d->sig->has_msg_id) {
            copy_printable(reason, sizeof reason, d->sig->msg_id);
            ok = ok && cJSON_AddStringToObject(o, "msg_id", reason) != NULL;
        }
        if (d->sig->has_timestamp)
            ok = ok && add_int(o, "timestamp", d->sig->timestamp);
    }
    if (d->event_key != NULL)
        ok = ok && cJSON_AddStringToObject(o, "event_key", d->event_key) != NULL;
    if (d->duplicate_of >= 0)
        ok = ok && add_int(o, "duplicate_of", d->duplicate_of);
    ok = ok && add_int(o, "size", (long long)d->r->received);
    if (d->r->declared >= 0)
        ok = ok && add_int(o, "declared_size", d->r->declared);
    if (!ok) {
        cJSON_Delete(o);
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    }
    rc = rk_canon_write(o, 0, out, err);
    cJSON_Delete(o);
    return rc;
}

/* ---- flood control ------------------------------------------------------ */

/*
 * A reject that nobody authenticated (bad signature, unknown endpoint, too
 * large): store it (1) while the peer has allowance left this window, else
 * count it (0).
 */
static int flood_admit(rk_server *s, const char *ip, const char *endpoint,
                       const char *reason, int64_t now)
{
    struct flood_window *w = s->flood;
    int64_t win = now / WINDOW_NS;
    struct flood_peer *p = NULL;
    size_t i;
    int store;

    pthread_mutex_lock(&s->flood_mu);
    if (w->window != win && w->suppressed == 0) {
        /* nothing counted: start the new window in place */
        w->window = win;
        w->npeers = 0;
    }
    for (i = 0; i < w->npeers; i++)
        if (strcmp(w->peers[i].ip, ip) == 0) {
            p = &w->peers[i];
            break;
        }
    if (p == NULL && w->npeers < FLOOD_PEERS && w->window == win) {
        p = &w->peers[w->npeers++];
        snprintf(p->ip, sizeof p->ip, "%s", ip);
        p->stored = 0;
    }
    /*
     * A full peer table, or a window that still holds counts the ticker has
     * not written, counts rather than stores: the summary stays complete.
     */
    store = p != NULL && w->window == win && p->stored < s->cfg->rejects_per_minute;
    if (store) {
        p->stored++;
    } else {
        for (i = 0; i < w->nrows; i++)
            if (strcmp(w->rows[i].ip, ip) == 0 && strcmp(w->rows[i].endpoint, endpoint) == 0 &&
                strcmp(w->rows[i].reason, reason) == 0)
                break;
        if (i < w->nrows) {
            w->rows[i].count++;
        } else if (w->nrows < FLOOD_ROWS) {
            struct flood_row *row = &w->rows[w->nrows++];
            snprintf(row->ip, sizeof row->ip, "%s", ip);
            snprintf(row->endpoint, sizeof row->endpoint, "%.*s", (int)sizeof row->endpoint - 1, endpoint);
            snprintf(row->reason, sizeof row->reason, "%.*s", (int)sizeof row->reason - 1, reason);
            row->count = 1;
        } else {
            w->overflow++;
        }
        w->suppressed++;
    }
    pthread_mutex_unlock(&s->flood_mu);
    if (!store) {
        pthread_mutex_lock(&s->mu);
        s->summarised++;
        pthread_mutex_unlock(&s->mu);
    }
    return store;
}

static rk_err summary_body(const rk_server *s, const struct flood_window *w, rk_buf *out,
                           char *err)
{
    cJSON *o = cJSON_CreateObject(), *arr = cJSON_CreateArray(), *row;
    char when[RK_TIME_STR_MAX];
    size_t i;
    int ok = o != NULL && arr != NULL;
    rk_err rc;

    if (!ok) {
        cJSON_Delete(o);
        cJSON_Delete(arr);
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    }
    cJSON_AddItemToObject(o, "counts", arr);
    for (i = 0; ok && i < w->nrows; i++) {
        row = cJSON_CreateObject();
        ok = row != NULL;
        if (!ok)
            break;
        cJSON_AddItemToArray(arr, row);
        ok = add_int(row, "count", (long long)w->rows[i].count) &&
             cJSON_AddStringToObject(row, "endpoint", w->rows[i].endpoint) != NULL &&
             cJSON_AddStringToObject(row, "peer", w->rows[i].ip) != NULL &&
             cJSON_AddStringToObject(row, "reason", w->rows[i].reason) != NULL;
    }
    ok = ok && add_int(o, "limit", s->cfg->rejects_per_minute);
    ok = ok && add_int(o, "unattributed", (long long)w->overflow);
    ok = ok && add_int(o, "suppressed", (long long)w->suppressed);
    ok = ok && cJSON_AddNumberToObject(o, "v", 1) != NULL;
    rk_time_format(w->window * WINDOW_NS, when);
    ok = ok && cJSON_AddStringToObject(o, "window_start", when) != NULL;
    rk_time_format(w->window * WINDOW_NS + WINDOW_NS, when);
    ok = ok && cJSON_AddStringToObject(o, "window_end", when) != NULL;
    if (!ok) {
        cJSON_Delete(o);
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    }
    rc = rk_canon_write(o, 0, out, err);
    cJSON_Delete(o);
    return rc;
}

/*
 * Write the summary of a finished window (or of the current one when
 * force).  The counts are taken out under the lock and written after; if
 * the write fails they are put back, to be tried on the next tick.
 */
static rk_err flood_flush(rk_server *s, int force, char *err)
{
    struct flood_window *w = NULL, *cur = s->flood;
    int64_t now = s->o.clock(s->o.clock_ctx);
    rk_buf body = RK_BUF_INIT;
    rk_append_item it;
    rk_err rc = RK_OK;

    pthread_mutex_lock(&s->flood_mu);
    if (cur->suppressed > 0 && (force || cur->window != now / WINDOW_NS)) {
        w = malloc(sizeof *w);
        if (w != NULL) {
            memcpy(w, cur, sizeof *w);
            cur->window = now / WINDOW_NS;
            cur->npeers = cur->nrows = 0;
            cur->suppressed = cur->overflow = 0;
        }
    }
    pthread_mutex_unlock(&s->flood_mu);
    if (w == NULL)
        return RK_OK;
    rc = summary_body(s, w, &body, err);
    if (rc == RK_OK) {
        memset(&it, 0, sizeof it);
        it.kind = RK_KIND_DELIVERY_SUMMARY;
        it.body = body.data;
        it.body_len = body.len;
        rc = timed_append(s, &it, 1, err);
    }
    if (rc == RK_OK) {
        logf_(s, "delivery_summary seq %llu: %llu rejects counted",
              (unsigned long long)it.seq, (unsigned long long)w->suppressed);
    } else {
        /* merge back: the counts are not lost while the process lives */
        size_t i;
        pthread_mutex_lock(&s->flood_mu);
        cur->suppressed += w->suppressed;
        cur->overflow += w->overflow;
        for (i = 0; i < w->nrows; i++)
            cur->overflow += w->rows[i].count;
        pthread_mutex_unlock(&s->flood_mu);
    }
    rk_buf_free(&body);
    free(w);
    return rc;
}

/* ---- checkpoints -------------------------------------------------------- */

static rk_err checkpoint_now(rk_server *s, char *err)
{
    rk_buf note = RK_BUF_INIT;
    uint64_t seq = 0;
    rk_err rc = rk_ledger_checkpoint(s->l, s->signer, &note, &seq, err);

    rk_buf_free(&note);
    clock_gettime(CLOCK_MONOTONIC, &s->last_cp_mono);
    if (rc != RK_OK)
        return rc;
    pthread_mutex_lock(&s->mu);
    s->checkpoints++;
    pthread_mutex_unlock(&s->mu);
    s->cp_next_size = seq + 1 + s->cfg->checkpoint_records;
    logf_(s, "checkpoint seq %llu", (unsigned long long)seq);
    return RK_OK;
}

/* Records since the last checkpoint, as the ledger sees them. */
static uint64_t since_checkpoint(rk_server *s)
{
    uint64_t size;
    uint8_t h[RK_HASH_SIZE];
    rk_buf note = RK_BUF_INIT;
    uint64_t cp = 0;

    rk_ledger_head(s->l, &size, h);
    if (rk_ledger_latest_checkpoint(s->l, &note, &cp, NULL) != RK_OK)
        cp = 0; /* none: count from the genesis record */
    rk_buf_free(&note);
    return size - cp - 1;
}

static void maybe_checkpoint(rk_server *s)
{
    char err[RK_ERROR_SIZE] = "";
    struct timespec now;
    uint64_t size, n;
    uint8_t h[RK_HASH_SIZE];
    int due = 0;

    if (s->signer == NULL)
        return;
    rk_ledger_head(s->l, &size, h);
    if (s->cfg->checkpoint_records > 0 && size >= s->cp_next_size)
        due = 1;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (s->cfg->checkpoint_seconds > 0 &&
        (uint64_t)(now.tv_sec - s->last_cp_mono.tv_sec) >= s->cfg->checkpoint_seconds)
        due = 1;
    if (!due)
        return;
    n = since_checkpoint(s);
    if (n == 0) {
        s->last_cp_mono = now;
        return;
    }
    if (checkpoint_now(s, err) != RK_OK)
        logf_(s, "checkpoint failed: %s", err);
}

static void *ticker_main(void *arg)
{
    rk_server *s = arg;
    char err[RK_ERROR_SIZE] = "";
    struct timespec ts;

    pthread_mutex_lock(&s->mu);
    while (!s->stopped) {
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&s->tick, &s->mu, &ts);
        if (s->stopped)
            break;
        pthread_mutex_unlock(&s->mu);
        if (flood_flush(s, 0, err) != RK_OK)
            logf_(s, "delivery_summary failed: %s", err);
        maybe_checkpoint(s);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* ---- webhook deliveries ------------------------------------------------ */

static unsigned stripe_of(const char *key)
{
    uint32_t h = 2166136261u;

    for (; *key != '\0'; key++)
        h = (h ^ (uint8_t)*key) * 16777619u;
    return h % EVENT_STRIPES;
}

/* Append the delivery (and event) and answer.  Returns the HTTP status. */
static unsigned record_delivery(rk_server *s, struct delivery *d, rk_adapt_event *ev,
                                char *err)
{
    rk_buf body = RK_BUF_INIT;
    rk_append_item it[2];
    size_t n = 1;
    rk_err rc;

    memset(it, 0, sizeof it);
    rc = delivery_body(s, d, &body, err);
    if (rc != RK_OK)
        goto out;
    it[0].kind = RK_KIND_WEBHOOK_DELIVERY;
    it[0].ref = ev != NULL && ev->ref[0] != '\0' ? ev->ref : NULL;
    it[0].body = body.data;
    it[0].body_len = body.len;
    if (d->keep_raw && d->r->body.len > 0) {
        it[0].raw = d->r->body.data;
        it[0].raw_len = d->r->body.len;
    }
    if (ev != NULL && d->outcome == OUT_ACCEPTED) {
        it[1].kind = RK_KIND_PROVIDER_EVENT;
        it[1].ref = ev->ref[0] != '\0' ? ev->ref : NULL;
        it[1].body = ev->body.data;
        it[1].body_len = ev->body.len;
        it[1].event_key = ev->event_key;
        n = 2;
    }
    rc = timed_append(s, it, n, err);
    if (rc == RK_OK && n == 2 && it[1].status == RK_ERR_EXISTS)
        logf_(s, "seq %llu: event '%s' was recorded concurrently (seq %llu); "
                 "this delivery is a duplicate", (unsigned long long)it[0].seq, ev->event_key,
              (unsigned long long)it[1].seq);
out:
    rk_buf_free(&body);
    if (rc != RK_OK) {
        logf_(s, "append failed: %s", err);
        return 503;
    }
    count_delivery(s, d->r->ep, d->outcome);
    return 0;
}

static enum MHD_Result finish_webhook(rk_server *s, struct MHD_Connection *c, struct req *r)
{
    char ip[INET6_ADDRSTRLEN], peer[INET6_ADDRSTRLEN + 16], err[RK_ERROR_SIZE] = "";
    struct hdrs hs = { .n = 0 };
    struct delivery d;
    rk_sig_result res;
    rk_adapt_event ev;
    rk_serve_adapt_fn adapt = s->o.adapt != NULL ? s->o.adapt : rk_adapt_webhook;
    const rk_config_endpoint *ep = r->ep;
    cJSON *json = NULL;
    unsigned code = 0, fail;
    uint64_t dup = 0;
    int have_ev = 0, stripe = -1, authentic = 0;
    rk_err rc;

    memset(&d, 0, sizeof d);
    memset(&res, 0, sizeof res);
    d.r = r;
    d.hs = &hs;
    d.duplicate_of = -1;
    d.keep_raw = 1;
    peer_of(c, ip, sizeof ip, peer, sizeof peer);
    d.peer = peer;
    MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, &hs);

    if (r->too_large) {
        d.outcome = OUT_REJECTED;
        d.keep_raw = 0;
        snprintf(d.reason, sizeof d.reason, "body larger than %zu bytes", s->cfg->body_limit);
        code = 413;
    } else if (ep == NULL) {
        d.outcome = OUT_REJECTED;
        snprintf(d.reason, sizeof d.reason, "unknown endpoint");
        code = 404;
    } else if (hs.overflow) {
        d.outcome = OUT_REJECTED;
        snprintf(d.reason, sizeof d.reason, "more than %d headers", MAX_HEADERS);
        code = 400;
    } else {
        rc = rk_sig_verify(&ep->params, ep->secrets, ep->nsecrets, hs.h, hs.n,
                           r->body.data, r->body.len, r->received_at / 1000000000LL, &res, err);
        d.sig = &res;
        authentic = res.authentic;
        if (rc == RK_ERR_SIGNATURE || rc == RK_ERR_STALE) {
            d.outcome = OUT_REJECTED;
            snprintf(d.reason, sizeof d.reason, "%s", rk_sig_reason_str(res.reason));
            code = 401;
        } else if (rc != RK_OK) {
            /* validated at load, so this is memory or a bug: keep the evidence */
            d.outcome = OUT_REJECTED;
            snprintf(d.reason, sizeof d.reason, "cannot verify: %s", rk_sig_reason_str(res.reason));
            code = 500;
        } else if (rk_json_parse((const char *)r->body.data, r->body.len, &json, err) != RK_OK) {
            d.outcome = OUT_REJECTED;
            snprintf(d.reason, sizeof d.reason, "body is not JSON: %.400s", err);
            code = 400;
        }
    }
    cJSON_Delete(json);

    if (code != 0) {
        /* unauthenticated rejects are subject to the per-peer allowance */
        if (!authentic && !flood_admit(s, ip, r->endpoint,
                                       code == 413 ? "body too large"
                                       : code == 404 ? "unknown endpoint" : d.reason,
                                       r->received_at))
            return respond_json(c, code, "{\"outcome\":\"rejected\",\"recorded\":false}");
        fail = record_delivery(s, &d, NULL, err);
        if (fail != 0)
            return respond_json(c, fail, "{\"error\":\"the ledger cannot take the write\"}");
        if (code == 413)
            return respond(c, code, "application/json",
                           "{\"outcome\":\"rejected\",\"reason\":\"body too large\"}",
                           "Connection", "close");
        return respond_json(c, code, "{\"outcome\":\"rejected\",\"reason\":\"%s\"}",
                            code == 404 ? "unknown endpoint" : code == 400 ? "malformed"
                            : code == 401 ? "signature" : "internal");
    }

    /* authentic and JSON: map, then dedupe on the event key */
    memset(&ev, 0, sizeof ev);
    rk_buf_init(&ev.body);
    have_ev = 1;
    rc = adapt(ep->provider, r->body.data, r->body.len, &ev, err);
    if (rc != RK_OK) {
        d.outcome = OUT_UNMAPPED;
        snprintf(d.reason, sizeof d.reason, "%s", err[0] != '\0' ? err : rk_strerror(rc));
    } else {
        d.event_key = ev.event_key;
        stripe = (int)stripe_of(ev.event_key);
        pthread_mutex_lock(&s->event_mu[stripe]);
        rc = rk_ledger_find_event(s->l, ev.event_key, &dup, err);
        if (rc == RK_OK) {
            d.outcome = OUT_DUPLICATE;
            d.duplicate_of = (long long)dup;
            snprintf(d.reason, sizeof d.reason, "event already recorded");
        } else if (rc == RK_ERR_NOTFOUND) {
            d.outcome = OUT_ACCEPTED;
        } else {
            pthread_mutex_unlock(&s->event_mu[stripe]);
            rk_buf_free(&ev.body);
            logf_(s, "event lookup failed: %s", err);
            return respond_json(c, 503, "{\"error\":\"the ledger cannot take the write\"}");
        }
    }
    fail = record_delivery(s, &d, have_ev && d.event_key != NULL ? &ev : NULL, err);
    if (stripe >= 0)
        pthread_mutex_unlock(&s->event_mu[stripe]);
    if (have_ev)
        rk_buf_free(&ev.body);
    if (fail != 0)
        return respond_json(c, fail, "{\"error\":\"the ledger cannot take the write\"}");
    if (d.outcome == OUT_UNMAPPED)
        return respond_json(c, 202, "{\"outcome\":\"unmapped\"}");
    return respond_json(c, 200, "{\"outcome\":\"%s\"}", outcome_names[d.outcome]);
}

/* Content-Length beyond the limit: record and answer before reading the body. */
static enum MHD_Result too_large(rk_server *s, struct MHD_Connection *c, struct req *r)
{
    r->too_large = 1;
    return finish_webhook(s, c, r);
}

/* ---- operator notes ------------------------------------------------------ */

static void reload_keys(rk_server *s)
{
    struct stat st;
    rk_apikeys *ks = NULL;
    char err[RK_ERROR_SIZE] = "";

    if (stat(s->cfg->api_keys, &st) != 0)
        return;
    if (st.st_ino == s->keys_st.st_ino && st.st_size == s->keys_st.st_size &&
        st.st_mtim.tv_sec == s->keys_st.st_mtim.tv_sec &&
        st.st_mtim.tv_nsec == s->keys_st.st_mtim.tv_nsec)
        return;
    if (rk_apikeys_load(s->cfg->api_keys, &ks, err) != RK_OK) {
        /* keep the keys we have; a half-written file never shows (rename) */
        logf_(s, "api keys not reloaded: %s", err);
        return;
    }
    rk_apikeys_free(s->keys);
    s->keys = ks;
    s->keys_st = st;
}

static enum MHD_Result finish_note(rk_server *s, struct MHD_Connection *c, struct req *r)
{
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    const char *ref = NULL, *text = NULL;
    char name[RK_APIKEY_NAME_MAX + 1], id[RK_APIKEY_ID_SIZE], err[RK_ERROR_SIZE] = "";
    const rk_apikey *k = NULL;
    cJSON *json = NULL;
    rk_role role = 0;
    uint64_t seq = 0;
    enum MHD_Result ret;
    rk_err rc;

    if (s->cfg->api_keys == NULL)
        return respond_json(c, 404, "{\"error\":\"the API is not configured\"}");
    if (r->too_large)
        return respond(c, 413, "application/json", "{\"error\":\"body too large\"}",
                       "Connection", "close");
    if (auth == NULL || strncmp(auth, "Bearer ", 7) != 0)
        return respond(c, 401, "application/json", "{\"error\":\"a bearer key is required\"}",
                       "WWW-Authenticate", "Bearer");
    pthread_mutex_lock(&s->keys_mu);
    reload_keys(s);
    rc = s->keys != NULL ? rk_apikeys_verify(s->keys, auth + 7, strlen(auth + 7), &k)
                         : RK_ERR_NOTFOUND;
    if (rc == RK_OK) {
        memcpy(name, k->name, sizeof name);
        memcpy(id, k->id, sizeof id);
        role = k->role;
    }
    pthread_mutex_unlock(&s->keys_mu);
    if (rc != RK_OK)
        return respond(c, 401, "application/json", "{\"error\":\"unknown or revoked key\"}",
                       "WWW-Authenticate", "Bearer");
    if (role != RK_ROLE_OPERATOR && role != RK_ROLE_ADMIN)
        return respond_json(c, 403, "{\"error\":\"role %s may not write notes\"}",
                            rk_role_name(role));
    if (rk_json_parse((const char *)r->body.data, r->body.len, &json, err) != RK_OK ||
        !cJSON_IsObject(json) || cJSON_GetArraySize(json) != 2 ||
        rk_json_get_string(json, "ref", &ref, NULL) != RK_OK ||
        rk_json_get_string(json, "text", &text, NULL) != RK_OK) {
        cJSON_Delete(json);
        return respond_json(c, 400, "{\"error\":\"the body must be {\\\"ref\\\":REF,\\\"text\\\":TEXT}\"}");
    }
    rc = rk_opnote_append(s->l, name, ref, text, "api", id, &seq, err);
    cJSON_Delete(json);
    if (rc == RK_ERR_INVALID || rc == RK_ERR_TOOBIG) {
        char msg[RK_ERROR_SIZE];
        copy_printable(msg, sizeof msg, err);
        for (char *p = msg; *p != '\0'; p++)
            if (*p == '"' || *p == '\\')
                *p = '\'';
        return respond_json(c, 400, "{\"error\":\"%s\"}", msg);
    }
    if (rc != RK_OK) {
        logf_(s, "note append failed: %s", err);
        return respond_json(c, 503, "{\"error\":\"the ledger cannot take the write\"}");
    }
    ret = respond_json(c, 201, "{\"seq\":%llu}", (unsigned long long)seq);
    return ret;
}

/* ---- the MHD callbacks ---------------------------------------------------- */

static enum MHD_Result get_request(rk_server *s, struct MHD_Connection *c, const char *url)
{
    rk_buf out = RK_BUF_INIT;
    uint64_t size;
    uint8_t h[RK_HASH_SIZE];
    enum MHD_Result ret;

    if (strcmp(url, "/healthz") == 0) {
        rk_ledger_head(s->l, &size, h);
        return respond_json(c, 200, "{\"head_seq\":%llu,\"size\":%llu,\"status\":\"ok\"}",
                            (unsigned long long)(size - 1), (unsigned long long)size);
    }
    if (strcmp(url, "/metrics") == 0) {
        if (rk_serve_metrics(s, &out) != RK_OK) {
            rk_buf_free(&out);
            return MHD_NO;
        }
        ret = respond(c, 200, "text/plain; version=0.0.4", (const char *)out.data, NULL, NULL);
        rk_buf_free(&out);
        return ret;
    }
    return respond_json(c, 404, "{\"error\":\"not found\"}");
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version,
                               const char *upload_data, size_t *upload_data_size,
                               void **con_cls)
{
    rk_server *s = cls;
    struct req *r = *con_cls;
    const char *cl;
    size_t limit;
    char *end;

    (void)version;
    if (r == NULL) {
        int webhook = strncmp(url, "/webhooks/", 10) == 0;
        int notes = strcmp(url, "/api/notes") == 0;

        if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
            return get_request(s, c, url);
        if (strcmp(method, "POST") != 0 || (!webhook && !notes))
            return respond_json(c, webhook || notes ? 405 : 404,
                                "{\"error\":\"%s\"}",
                                webhook || notes ? "method not allowed" : "not found");
        r = calloc(1, sizeof *r);
        if (r == NULL)
            return MHD_NO;
        pthread_mutex_lock(&s->mu);
        s->inflight++;
        pthread_mutex_unlock(&s->mu);
        *con_cls = r;
        r->kind = webhook ? REQ_WEBHOOK : REQ_NOTES;
        r->received_at = s->o.clock(s->o.clock_ctx);
        r->declared = -1;
        if (webhook) {
            r->ep = rk_config_endpoint_find(s->cfg, url + 10);
            copy_printable(r->endpoint, sizeof r->endpoint, url + 10);
        }
        limit = webhook ? s->cfg->body_limit : NOTE_BODY_MAX;
        cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl != NULL && cl[0] >= '0' && cl[0] <= '9') {
            errno = 0;
            r->declared = (long long)strtoull(cl, &end, 10);
            if (errno != 0 || *end != '\0' || r->declared < 0)
                r->declared = LLONG_MAX;
            if ((unsigned long long)r->declared > limit) {
                if (webhook)
                    return too_large(s, c, r);
                r->too_large = 1;
                return finish_note(s, c, r);
            }
        }
        return MHD_YES;
    }
    limit = r->kind == REQ_WEBHOOK ? s->cfg->body_limit : NOTE_BODY_MAX;
    if (*upload_data_size > 0) {
        if (r->too_large) {
            /* the answer is queued already; discard */
            *upload_data_size = 0;
            return MHD_YES;
        }
        r->received += *upload_data_size;
        if (r->received > limit) {
            rk_buf_free(&r->body);
            *upload_data_size = 0;
            r->too_large = 1;
            /* answer now; if MHD cannot answer mid-body, close the connection */
            if ((r->kind == REQ_WEBHOOK ? finish_webhook(s, c, r) : finish_note(s, c, r)) != MHD_YES)
                return MHD_NO;
            return MHD_YES;
        }
        if (rk_buf_append(&r->body, upload_data, *upload_data_size) != RK_OK)
            return MHD_NO;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (r->too_large)
        return MHD_YES; /* answered already */
    if (r->body.data == NULL)
        rk_buf_append(&r->body, "", 0);
    return r->kind == REQ_WEBHOOK ? finish_webhook(s, c, r) : finish_note(s, c, r);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    rk_server *s = cls;
    struct req *r = *con_cls;

    (void)c;
    (void)toe;
    if (r == NULL)
        return;
    rk_buf_free(&r->body);
    free(r);
    *con_cls = NULL;
    pthread_mutex_lock(&s->mu);
    s->inflight--;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->mu);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    rk_server *s = cls;
    char line[1024];

    if (s->o.log == NULL)
        return;
    vsnprintf(line, sizeof line, fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    s->o.log(s->o.log_ctx, line);
}

/* ---- start and stop ------------------------------------------------------ */

static rk_err start_daemon(rk_server *s, char *err)
{
    const rk_config *cfg = s->cfg;
    struct sockaddr_in in4;
    struct sockaddr_in6 in6;
    struct sockaddr *sa;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_AUTO;
    const union MHD_DaemonInfo *di;
    char ip[INET6_ADDRSTRLEN];

    memset(&in4, 0, sizeof in4);
    memset(&in6, 0, sizeof in6);
    if (cfg->family == AF_INET6) {
        in6.sin6_family = AF_INET6;
        in6.sin6_port = htons(cfg->port);
        memcpy(&in6.sin6_addr, cfg->addr, 16);
        sa = (struct sockaddr *)&in6;
        flags |= MHD_USE_IPv6;
    } else {
        in4.sin_family = AF_INET;
        in4.sin_port = htons(cfg->port);
        memcpy(&in4.sin_addr, cfg->addr, 4);
        sa = (struct sockaddr *)&in4;
    }
    if (cfg->thread_per_connection) {
        flags |= MHD_USE_THREAD_PER_CONNECTION;
        s->d = MHD_start_daemon(flags, cfg->port, NULL, NULL, handler, s,
                                MHD_OPTION_SOCK_ADDR, sa,
                                MHD_OPTION_NOTIFY_COMPLETED, completed, s,
                                MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
                                MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
                                MHD_OPTION_END);
    } else {
        s->d = MHD_start_daemon(flags, cfg->port, NULL, NULL, handler, s,
                                MHD_OPTION_SOCK_ADDR, sa,
                                MHD_OPTION_THREAD_POOL_SIZE, cfg->threads,
                                MHD_OPTION_NOTIFY_COMPLETED, completed, s,
                                MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
                                MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
                                MHD_OPTION_END);
    }
    if (s->d == NULL)
        return rk_seterr(err, RK_ERR_IO, "cannot listen on %s (address in use, or not "
                         "an address of this host?)", cfg->listen);
    di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di != NULL ? di->port : cfg->port;
    inet_ntop(cfg->family, cfg->addr, ip, sizeof ip);
    if (cfg->family == AF_INET6)
        snprintf(s->address, sizeof s->address, "[%s]:%u", ip, s->port);
    else
        snprintf(s->address, sizeof s->address, "%s:%u", ip, s->port);
    return RK_OK;
}

rk_err rk_serve_start(rk_ledger *l, const rk_config *cfg, const rk_serve_opts *opts,
                      rk_server **out, char *err)
{
    rk_server *s;
    pthread_condattr_t ca;
    rk_buf note = RK_BUF_INIT;
    uint64_t cpseq = 0, size;
    uint8_t h[RK_HASH_SIZE];
    size_t i;
    rk_err rc;

    *out = NULL;
    if (opts == NULL || opts->clock == NULL)
        return rk_seterr(err, RK_ERR_INVALID, "the server needs a clock");
    s = calloc(1, sizeof *s);
    if (s == NULL)
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    s->l = l;
    s->cfg = cfg;
    s->o = *opts;
    s->flood = calloc(1, sizeof *s->flood);
    s->deliveries = calloc((cfg->nendpoints + 1) * OUT_COUNT, sizeof *s->deliveries);
    if (s->flood == NULL || s->deliveries == NULL) {
        free(s->flood);
        free(s->deliveries);
        free(s);
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    }
    s->flood->window = -1;
    for (i = 0; i < EVENT_STRIPES; i++)
        pthread_mutex_init(&s->event_mu[i], NULL);
    pthread_mutex_init(&s->keys_mu, NULL);
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->flood_mu, NULL);
    pthread_cond_init(&s->cond, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->tick, &ca);
    pthread_condattr_destroy(&ca);
    s->stopped = 1; /* until the daemon runs: rk_serve_free must not stop */
    *out = s;

    if (cfg->checkpoint_key != NULL) {
        rc = rk_signer_load(cfg->checkpoint_key, &s->signer, err);
        if (rc != RK_OK) {
            rk_preferr(err, rc, "checkpoint key");
            goto fail;
        }
        clock_gettime(CLOCK_MONOTONIC, &s->last_cp_mono);
        rk_ledger_head(l, &size, h);
        if (rk_ledger_latest_checkpoint(l, &note, &cpseq, NULL) != RK_OK)
            cpseq = 0;
        rk_buf_free(&note);
        s->cp_next_size = cpseq + 1 + cfg->checkpoint_records;
    }
    if (cfg->api_keys != NULL) {
        rc = rk_apikeys_load(cfg->api_keys, &s->keys, err);
        if (rc != RK_OK) {
            rk_preferr(err, rc, "api keys");
            goto fail;
        }
        stat(cfg->api_keys, &s->keys_st);
    }
    rc = start_daemon(s, err);
    if (rc != RK_OK)
        goto fail;
    s->stopped = 0;
    if (pthread_create(&s->ticker, NULL, ticker_main, s) != 0) {
        rc = rk_seterr(err, RK_ERR_NOMEM, "cannot start the ticker thread");
        goto fail;
    }
    s->ticker_started = 1;
    logf_(s, "listening on %s", s->address);
    return RK_OK;
fail:
    rk_serve_free(s);
    *out = NULL;
    return rc;
}

const char *rk_serve_address(const rk_server *s)
{
    return s->address;
}

uint16_t rk_serve_port(const rk_server *s)
{
    return s->port;
}

rk_err rk_serve_stop(rk_server *s, char *err)
{
    struct timespec until;
    char e2[RK_ERROR_SIZE] = "";
    rk_err rc = RK_OK, rc2;
    MHD_socket ls;

    if (s == NULL || s->d == NULL)
        return RK_OK;
    /* no new connections; requests in flight go on */
    ls = MHD_quiesce_daemon(s->d);
    if (ls != MHD_INVALID_SOCKET)
        close(ls);
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += STOP_WAIT_S;
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    while (s->inflight > 0)
        if (pthread_cond_timedwait(&s->cond, &s->mu, &until) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&s->mu);
    MHD_stop_daemon(s->d);
    s->d = NULL;
    pthread_mutex_lock(&s->mu);
    s->stopped = 1;
    pthread_cond_broadcast(&s->tick);
    pthread_mutex_unlock(&s->mu);
    if (s->ticker_started)
        pthread_join(s->ticker, NULL);
    s->ticker_started = 0;
    rc = flood_flush(s, 1, err);
    if (s->signer != NULL && since_checkpoint(s) > 0) {
        rc2 = checkpoint_now(s, rc == RK_OK ? err : e2);
        if (rc == RK_OK)
            rc = rc2;
    }
    logf_(s, "stopped");
    return rc;
}

void rk_serve_free(rk_server *s)
{
    size_t i;

    if (s == NULL)
        return;
    rk_serve_stop(s, NULL);
    for (i = 0; i < EVENT_STRIPES; i++)
        pthread_mutex_destroy(&s->event_mu[i]);
    pthread_mutex_destroy(&s->keys_mu);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->flood_mu);
    pthread_cond_destroy(&s->cond);
    pthread_cond_destroy(&s->tick);
    rk_signer_free(s->signer);
    rk_apikeys_free(s->keys);
    free(s->flood);
    free(s->deliveries);
    free(s);
}
