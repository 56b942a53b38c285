/* serve.c - the webhook receiver and operator API (formats/ingestion.md). */
#include <arpa/inet.h>
#include <assert.h>
#include <stddef.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
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
#include <stdatomic.h>

#include "adapt.h"
#include "apikey.h"
#include "canon.h"
#include "note.h"
#include "opnote.h"
#include "serve.h"

#define NOTE_BODY_MAX (RK_OPNOTE_TEXT_MAX + RK_REF_MAX * 6 + 1024)
#define MAX_HEADERS 128
/*
 * Event keys of deliveries handed to the committer and not yet durable (the
 * claim table): buckets of a hash, enough that a chain is short with
 * thousands of connections.
 */
#define CLAIM_BUCKETS 4096
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
    int api; /* a call under /api/: endpoint is its path */
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

/*
 * The answers most requests get, as response objects made once when the
 * server starts and queued for any number of connections (libmicrohttpd
 * counts their references; the bodies are static, MHD_RESPMEM_PERSISTENT):
 * no allocation, copy or header list per answer.  Content-Length and Date
 * are still written per answer by libmicrohttpd.
 */
static const char *const fixed_bodies[] = {
    "{\"outcome\":\"accepted\"}",
    "{\"outcome\":\"duplicate\"}",
    "{\"outcome\":\"unmapped\"}",
    "{\"outcome\":\"rejected\",\"reason\":\"signature\"}",
    "{\"outcome\":\"rejected\",\"reason\":\"malformed\"}",
    "{\"outcome\":\"rejected\",\"reason\":\"unknown endpoint\"}",
    "{\"error\":\"the ledger cannot take the write\"}",
};
#define NFIXED (sizeof fixed_bodies / sizeof fixed_bodies[0])
enum { FIXED_ACCEPTED, FIXED_DUPLICATE, FIXED_UNMAPPED, FIXED_SIGNATURE, FIXED_MALFORMED,
       FIXED_UNKNOWN, FIXED_503 };
/* Answers of rejects that are not fixed responses (413 closes; 500 is a bug). */
static const char ANSWER_TOO_LARGE[] = "{\"outcome\":\"rejected\",\"reason\":\"body too large\"}";
static const char ANSWER_INTERNAL[] = "{\"outcome\":\"rejected\",\"reason\":\"internal\"}";

/*
 * One polling thread of the event-driven pool: a libmicrohttpd daemon with
 * one internal thread, and the number of connections the acceptor gave it
 * that are still open (see "accepting connections").
 */
struct worker {
    struct MHD_Daemon *d;
    atomic_uint conns;
};

struct rk_server {
    struct MHD_Response *fixed[NFIXED];
    rk_ledger *l;
    const rk_config *cfg;
    rk_serve_opts o;
    struct MHD_Daemon *d;    /* thread per connection: the daemon */
    struct worker *workers;  /* event-driven pool: cfg->threads of them */
    unsigned nworkers;       /* workers started */
    int running;             /* the daemon or the workers are started */
    /* the pool's acceptor (see "accepting connections"); -1 / 0 when none */
    int lfd;
    int wake[2];
    pthread_t acceptor;
    int acceptor_started;
    char address[INET6_ADDRSTRLEN + 16];
    uint16_t port;
    rk_signer *signer;
    rk_sig_verifier **verifiers; /* one per configured endpoint, same order */
    int pool; /* event-driven pool: requests are suspended, never block a thread */

    /*
     * The committer (see "the committer" below), under cmu: the queue of
     * requests to append, the claim table, and the count of requests handed
     * over whose handler has not run again yet.
     */
    pthread_mutex_t cmu;
    pthread_cond_t cwake; /* the committer: work queued, or stop */
    pthread_cond_t cdone; /* requests resolved (thread per connection), waiting == 0 */
    struct req *queue, *queue_tail;
    struct req *claims[CLAIM_BUCKETS];
    unsigned waiting;
    int cstop;
    pthread_t committer;
    int committer_started;
    rk_append_item *items; /* the committer's scratch: one batch's items */
    size_t items_cap;

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

/* A request's headers; the strings are libmicrohttpd's, valid for the request. */
struct hdrs {
    rk_sig_header h[MAX_HEADERS];
    size_t n;
    int overflow;
};

/*
 * One request's state (MHD's con_cls).  REQ_NOTES: POST /api/notes.
 * REQ_API: any other request under /api/, always rejected (404 or 405).
 */
enum req_kind { REQ_WEBHOOK, REQ_NOTES, REQ_API };

/*
 * Where a request stands with the committer.  NEW: still with its handler.
 * WAITING: queued for the committer, or parked behind another request that
 * claimed the same event key.  RETRY: the claim it was parked on is
 * released; the handler decides again.  DONE: appended (or failed); the
 * handler answers.  Once handed over, state changes only under cmu.
 */
enum req_state { ST_NEW, ST_WAITING, ST_RETRY, ST_DONE };

struct req {
    /*
     * Kept across the requests of one connection (see conn_notify): the
     * peer, and the buffers with their allocations, so that a keep-alive
     * request costs no allocation of its own, and the header table, which
     * decide_webhook refills.  Everything from `kind` on is reset for each
     * request.
     */
    char ip[INET6_ADDRSTRLEN];
    char peer[INET6_ADDRSTRLEN + 16];
    int peer_known;
    rk_buf body;        /* the request body */
    rk_buf rbody;       /* the delivery or note body */
    rk_buf evbody;      /* the provider event body (ev.body while have_ev) */
    struct hdrs hs;     /* the headers, collected (and reset) by decide_webhook */

    enum req_kind kind;
    struct MHD_Connection *c;
    const rk_config_endpoint *ep;
    char endpoint[NAME_SHOWN_MAX + 1]; /* an /api/ call: its path */
    size_t received;
    long long declared; /* Content-Length, -1 when absent */
    int too_large;
    int mid_body;       /* too large found while reading the body */
    int64_t received_at;

    /* the delivery, decided by the handler */
    enum outcome outcome;
    char reason[RK_ERROR_SIZE];
    rk_sig_result res;
    int checked;        /* res holds a signature check */
    int keep_raw;
    rk_adapt_event ev;
    int have_ev;        /* ev holds a mapped event (its key is the claim) */
    long long duplicate_of; /* -1: none */

    /* the job: records to append, answer once durable */
    enum req_state state;
    int counted;        /* counted in s->waiting */
    char note_ref[RK_REF_MAX + 1];
    rk_append_item it[2];
    size_t nit;
    struct req *next;   /* committer queue, or the list of a claim's waiters */
    struct req *claim_next; /* claim table chain, while this request holds a claim */
    struct req *waiters;    /* parked on this request's claim */
    int claimed;
    double t_handed;
    rk_err rc;
    unsigned code;      /* the answer when rc is RK_OK */
    const char *answer; /* its body: one of fixed_bodies, or ANSWER_*, or abuf */
    int close;

    /* a rejected /api/ call (REQ_NOTES or REQ_API), recorded as a delivery is */
    int api_reject;
    char method[16];
    char key_id[RK_APIKEY_ID_SIZE]; /* the key that authenticated it; "" when none */
    const char *hname, *hval;       /* one more header of the answer, or NULL */
    char abuf[2 * RK_ERROR_SIZE + 64];
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

/* Queue body (application/json) from a fixed response when it is one of them. */
static enum MHD_Result respond_body(rk_server *s, struct MHD_Connection *c, unsigned code,
                                    const char *body)
{
    size_t i;

    for (i = 0; i < NFIXED; i++)
        if (s->fixed[i] != NULL && body == fixed_bodies[i])
            return MHD_queue_response(c, code, s->fixed[i]);
    return respond(c, code, "application/json", body, NULL, NULL);
}

static rk_err fixed_make(rk_server *s, char *err)
{
    size_t i;

    for (i = 0; i < NFIXED; i++) {
        s->fixed[i] = MHD_create_response_from_buffer(strlen(fixed_bodies[i]),
                                                      (void *)fixed_bodies[i],
                                                      MHD_RESPMEM_PERSISTENT);
        if (s->fixed[i] == NULL ||
            MHD_add_response_header(s->fixed[i], "Content-Type", "application/json") != MHD_YES)
            return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    }
    return RK_OK;
}

static void fixed_free(rk_server *s)
{
    size_t i;

    for (i = 0; i < NFIXED; i++) {
        if (s->fixed[i] != NULL)
            MHD_destroy_response(s->fixed[i]);
        s->fixed[i] = NULL;
    }
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

/*
 * The delivery body is written straight in canonical form
 * (formats/canonical-json.md) rather than built as a cJSON tree and
 * serialised: it is the receiver's largest CPU cost per delivery otherwise.
 * Members are written in canonical order (sorted by key bytes), integers as
 * plain decimals, strings through rk_canon_put_string, which needs valid
 * UTF-8: every string written is ASCII by construction (copy_printable,
 * configuration names, times, addresses) or checked with rk_utf8_valid.
 * The ledger checks every body with rk_canon_check before appending it, so
 * a slip here is refused, never stored.
 */
static int put_key(rk_buf *out, int *first, const char *key)
{
    if (!*first && rk_buf_append(out, ",", 1) != RK_OK)
        return 0;
    *first = 0;
    return rk_canon_put_string(out, key, strlen(key)) == RK_OK &&
           rk_buf_append(out, ":", 1) == RK_OK;
}

static int put_str(rk_buf *out, int *first, const char *key, const char *v)
{
    return put_key(out, first, key) && rk_canon_put_string(out, v, strlen(v)) == RK_OK;
}

/* v in decimal, written digit by digit (a printf per member cost more than the rest) */
static int put_int(rk_buf *out, int *first, const char *key, long long v)
{
    char text[1 + RK_U64_TEXT_MAX];
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    size_t n = 0;

    if (v < 0)
        text[n++] = '-';
    n += rk_u64_text(text + n, u);
    return put_key(out, first, key) && rk_buf_append(out, text, n) == RK_OK;
}

/* [[name, value], ...]: names lower-cased, credentials redacted. */
static int put_headers(rk_buf *out, const struct hdrs *hs)
{
    char lname[256];
    size_t i, k, n;
    char *b64;
    const char *v;
    int ok = rk_buf_append(out, "[", 1) == RK_OK;

    for (i = 0; ok && i < hs->n; i++) {
        n = strlen(hs->h[i].name);
        for (k = 0; k < n && k + 1 < sizeof lname; k++)
            lname[k] = (char)((hs->h[i].name[k] >= 'A' && hs->h[i].name[k] <= 'Z')
                                  ? hs->h[i].name[k] + 32 : hs->h[i].name[k]);
        lname[k] = '\0';
        if (!rk_utf8_valid((const uint8_t *)lname, k))
            copy_printable(lname, sizeof lname, hs->h[i].name);
        ok = rk_buf_append(out, i == 0 ? "[" : ",[", i == 0 ? 1 : 2) == RK_OK &&
             rk_canon_put_string(out, lname, strlen(lname)) == RK_OK &&
             rk_buf_append(out, ",", 1) == RK_OK;
        v = hs->h[i].value;
        n = strlen(v);
        if (!ok)
            break;
        if (redacted(lname)) {
            ok = rk_canon_put_string(out, "[redacted]", 10) == RK_OK;
        } else if (rk_utf8_valid((const uint8_t *)v, n)) {
            ok = rk_canon_put_string(out, v, n) == RK_OK;
        } else {
            /* bytes that are not UTF-8 are kept, base64-encoded */
            k = rk_b64_encoded_size(n);
            b64 = malloc(k);
            if (b64 == NULL)
                return 0;
            rk_b64_encode(b64, k, (const uint8_t *)v, n);
            ok = rk_buf_append(out, "{\"base64\":", 10) == RK_OK &&
                 rk_canon_put_string(out, b64, strlen(b64)) == RK_OK &&
                 rk_buf_append(out, "}", 1) == RK_OK;
            free(b64);
        }
        ok = ok && rk_buf_append(out, "]", 1) == RK_OK;
    }
    return ok && rk_buf_append(out, "]", 1) == RK_OK;
}

/*
 * The webhook_delivery body of r (formats/ingestion.md); hs: its headers.
 * A rejected /api/ call has the same body, with its method, the status
 * answered, "via":"api" and the id (never the key) of the key that
 * authenticated it, if one did.
 */
static rk_err delivery_body(const struct req *r, const struct hdrs *hs, rk_buf *out, char *err)
{
    const rk_sig_result *sig = r->checked ? &r->res : NULL;
    char when[RK_TIME_STR_MAX], reason[RK_ERROR_SIZE], msg_id[RK_ERROR_SIZE];
    int first = 1, ok;

    if (r->have_ev && !rk_utf8_valid((const uint8_t *)r->ev.event_key, strlen(r->ev.event_key)))
        return rk_seterr(err, RK_ERR_INVALID, "event key is not valid utf-8");
    rk_time_format(r->received_at, when);
    copy_printable(reason, sizeof reason, r->reason);
    if (sig != NULL && sig->has_msg_id)
        copy_printable(msg_id, sizeof msg_id, sig->msg_id);
    /* members in canonical (byte) order of their keys */
    ok = rk_buf_append(out, "{", 1) == RK_OK;
    if (ok && r->declared >= 0)
        ok = put_int(out, &first, "declared_size", r->declared);
    if (ok && r->duplicate_of >= 0)
        ok = put_int(out, &first, "duplicate_of", r->duplicate_of);
    ok = ok && put_str(out, &first, "endpoint", r->endpoint);
    if (ok && r->have_ev)
        ok = put_str(out, &first, "event_key", r->ev.event_key);
    ok = ok && put_key(out, &first, "headers") && put_headers(out, hs);
    if (ok && r->api_reject && r->key_id[0] != '\0')
        ok = put_str(out, &first, "key_id", r->key_id);
    if (ok && r->api_reject)
        ok = put_str(out, &first, "method", r->method);
    if (ok && sig != NULL && sig->has_msg_id)
        ok = put_str(out, &first, "msg_id", msg_id);
    ok = ok && put_str(out, &first, "outcome", outcome_names[r->outcome]);
    ok = ok && put_str(out, &first, "peer", r->peer);
    if (ok && r->ep != NULL)
        ok = put_str(out, &first, "provider", r->ep->provider);
    if (ok && r->outcome != OUT_ACCEPTED)
        ok = put_str(out, &first, "reason", reason);
    ok = ok && put_str(out, &first, "received_at", when);
    if (ok && sig != NULL && sig->authentic)
        ok = put_int(out, &first, "secret_index", sig->secret_index);
    if (ok && sig != NULL)
        ok = put_str(out, &first, "signature", rk_sig_reason_str(sig->reason));
    ok = ok && put_int(out, &first, "size", (long long)r->received);
    if (ok && r->api_reject)
        ok = put_int(out, &first, "status", r->code);
    if (ok && sig != NULL && sig->has_timestamp)
        ok = put_int(out, &first, "timestamp", sig->timestamp);
    ok = ok && put_int(out, &first, "v", 1);
    if (ok && r->api_reject)
        ok = put_str(out, &first, "via", "api");
    ok = ok && rk_buf_append(out, "}", 1) == RK_OK;
    if (!ok)
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    return RK_OK;
}

/* ---- flood control ------------------------------------------------------ */

/*
 * A reject that nobody authenticated (bad signature, unknown endpoint, too
 * large): store it (1) while the peer has allowance left this window, else
 * count it (0).
 */
static int flood_admit(rk_server *s, const char *ip, int api, const char *endpoint,
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
            if (strcmp(w->rows[i].ip, ip) == 0 && w->rows[i].api == api &&
                strcmp(w->rows[i].endpoint, endpoint) == 0 &&
                strcmp(w->rows[i].reason, reason) == 0)
                break;
        if (i < w->nrows) {
            w->rows[i].count++;
        } else if (w->nrows < FLOOD_ROWS) {
            struct flood_row *row = &w->rows[w->nrows++];
            snprintf(row->ip, sizeof row->ip, "%s", ip);
            row->api = api;
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
        if (ok && w->rows[i].api)
            ok = cJSON_AddStringToObject(row, "via", "api") != NULL;
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

/* ---- the committer ------------------------------------------------------- */

/*
 * Every record the receiver writes for a request (a delivery, its provider
 * event, an operator note) is appended by one thread, the committer: it
 * takes every request queued since its last append and appends all their
 * records in one rk_ledger_append call (one WriteBatch, one WAL sync).  A
 * handler never waits for a sync on its own thread in the event-driven
 * pool: it hands the request over and suspends the connection
 * (MHD_suspend_connection), and the committer resumes it once the records
 * are durable or refused, so a few threads keep every connection moving
 * while a sync is in progress.  With a thread per connection the handler
 * sleeps until its request is resolved.  Either way the handler sends the
 * answer itself after the committer marked the request DONE, so a 2xx
 * never leaves before its records are durable.
 *
 * Duplicates.  A delivery whose event is mapped claims its event key in the
 * claim table (under cmu) before it looks the key up in the ledger, and
 * holds the claim until its records are durable or refused.  Another
 * delivery of the same key that finds the key claimed parks behind the
 * claim; when the claim is released it decides again: the first event is
 * now in the ledger (a duplicate), or the first append failed and this one
 * may be accepted.  One event is applied once however many deliveries of
 * it are in flight.  (The ledger also refuses a second record of an event
 * key, and the delivery says so in the log; the claim makes that path
 * unreachable from this server.)
 *
 * Lifetimes.  A request handed over stays alive until its handler ran
 * again: a suspended connection is neither timed out nor closed by
 * libmicrohttpd, and rk_serve_stop stops the daemon only once no request
 * is handed over (s->waiting == 0).
 */

static unsigned claim_bucket(const char *key)
{
    uint32_t h = 2166136261u; /* FNV-1a */

    for (; *key != '\0'; key++)
        h = (h ^ (uint8_t)*key) * 16777619u;
    return h % CLAIM_BUCKETS;
}

/* The request holding key's claim, or NULL.  Under cmu. */
static struct req *claim_find(rk_server *s, const char *key)
{
    struct req *r;

    for (r = s->claims[claim_bucket(key)]; r != NULL; r = r->claim_next)
        if (strcmp(r->ev.event_key, key) == 0)
            return r;
    return NULL;
}

/* Under cmu. */
static void claim_add(rk_server *s, struct req *r)
{
    unsigned b = claim_bucket(r->ev.event_key);

    r->claim_next = s->claims[b];
    s->claims[b] = r;
    r->claimed = 1;
}

/* Release r's claim; its waiters turn RETRY and join *wake.  Under cmu. */
static void claim_release(rk_server *s, struct req *r, struct req **wake)
{
    struct req **pp = &s->claims[claim_bucket(r->ev.event_key)], *w, *n;

    if (!r->claimed)
        return;
    while (*pp != r)
        pp = &(*pp)->claim_next;
    *pp = r->claim_next;
    r->claim_next = NULL;
    r->claimed = 0;
    for (w = r->waiters; w != NULL; w = n) {
        n = w->next;
        w->state = ST_RETRY;
        w->next = *wake;
        *wake = w;
    }
    r->waiters = NULL;
}

/*
 * Let the handlers of the requests on list (linked by next) run again.
 * Outside cmu: MHD_resume_connection takes libmicrohttpd's own lock.
 */
static void wake_all(rk_server *s, struct req *list)
{
    struct req *r, *n;

    if (!s->pool) {
        pthread_mutex_lock(&s->cmu);
        pthread_cond_broadcast(&s->cdone);
        pthread_mutex_unlock(&s->cmu);
        return;
    }
    for (r = list; r != NULL; r = n) {
        n = r->next; /* once resumed, r may be answered and freed */
        MHD_resume_connection(r->c);
    }
}

/*
 * Count r as handed over and, in the pool, suspend its connection, before
 * anything else can see r: resuming a connection that is not suspended is
 * undefined.  0 when the committer has stopped (the server is stopping): r
 * is DONE with RK_ERR_CLOSED and the handler answers 503 at once.
 */
static int enter_wait(rk_server *s, struct req *r)
{
    pthread_mutex_lock(&s->cmu);
    if (s->cstop) {
        r->state = ST_DONE;
        r->rc = RK_ERR_CLOSED;
        pthread_mutex_unlock(&s->cmu);
        return 0;
    }
    s->waiting++;
    r->counted = 1;
    pthread_mutex_unlock(&s->cmu);
    if (s->pool)
        MHD_suspend_connection(r->c);
    return 1;
}

/* r (handed over) is resolved without the committer: DONE with rc. */
static void resolve_now(rk_server *s, struct req *r, rk_err rc)
{
    struct req *wake = NULL;

    pthread_mutex_lock(&s->cmu);
    claim_release(s, r, &wake);
    r->state = ST_DONE;
    r->rc = rc;
    r->next = wake;
    wake = r;
    pthread_mutex_unlock(&s->cmu);
    wake_all(s, wake);
}

/* Queue r (handed over, its items ready) for the committer. */
static void enqueue(rk_server *s, struct req *r)
{
    pthread_mutex_lock(&s->cmu);
    if (s->cstop) {
        /* the committer may be gone: never queue behind it */
        pthread_mutex_unlock(&s->cmu);
        resolve_now(s, r, RK_ERR_CLOSED);
        return;
    }
    r->state = ST_WAITING;
    r->t_handed = mono_now();
    r->next = NULL;
    if (s->queue_tail != NULL)
        s->queue_tail->next = r;
    else
        s->queue = r;
    s->queue_tail = r;
    pthread_cond_signal(&s->cwake);
    pthread_mutex_unlock(&s->cmu);
}

/* r's handler runs again: it no longer counts as handed over.  Under cmu. */
static void settle_locked(rk_server *s, struct req *r)
{
    if (r->counted && r->state != ST_WAITING) {
        r->counted = 0;
        if (--s->waiting == 0)
            pthread_cond_broadcast(&s->cdone);
    }
}

/* Append the records of every request of batch: one call, one sync. */
static void commit_batch(rk_server *s, struct req *batch)
{
    char err[RK_ERROR_SIZE] = "";
    struct req *r;
    size_t n = 0, k, b;
    double now;
    int any = 0;
    rk_err rc;

    for (r = batch; r != NULL; r = r->next)
        n += r->nit;
    if (n > s->items_cap) {
        rk_append_item *p = realloc(s->items, n * sizeof *p);
        if (p == NULL) {
            for (r = batch; r != NULL; r = r->next)
                r->rc = RK_ERR_NOMEM;
            logf_(s, "append failed: out of memory");
            goto account;
        }
        s->items = p;
        s->items_cap = n;
    }
    for (k = 0, r = batch; r != NULL; k += r->nit, r = r->next)
        memcpy(s->items + k, r->it, r->nit * sizeof *r->it);
    rc = rk_ledger_append(s->l, s->items, n, err);
    if (rc == RK_ERR_INVALID || rc == RK_ERR_TOOBIG) {
        /* one request's records are refused: the others must not fail with it */
        for (r = batch; r != NULL; r = r->next) {
            r->rc = rk_ledger_append(s->l, r->it, r->nit, err);
            if (r->rc != RK_OK)
                logf_(s, "append failed: %s", err);
        }
    } else {
        for (k = 0, r = batch; r != NULL; k += r->nit, r = r->next) {
            memcpy(r->it, s->items + k, r->nit * sizeof *r->it);
            r->rc = rc;
        }
        if (rc != RK_OK)
            logf_(s, "append failed: %s", err);
    }
account:
    now = mono_now();
    pthread_mutex_lock(&s->mu);
    for (r = batch; r != NULL; r = r->next) {
        double dt = now - r->t_handed;
        for (b = 0; b < LAT_BUCKETS && dt > lat_bounds[b]; b++)
            ;
        s->lat_count[b]++;
        s->lat_sum += dt;
        s->lat_total++;
        if (r->rc != RK_OK) {
            s->append_failures++;
            continue;
        }
        any = 1;
        if (r->kind == REQ_WEBHOOK) {
            size_t row = r->ep != NULL ? (size_t)(r->ep - s->cfg->endpoints) : s->cfg->nendpoints;
            s->deliveries[row * OUT_COUNT + r->outcome]++;
        }
    }
    pthread_mutex_unlock(&s->mu);
    for (r = batch; r != NULL; r = r->next)
        if (r->rc == RK_OK && r->nit == 2 && r->it[1].status == RK_ERR_EXISTS)
            logf_(s, "seq %llu: event '%s' was recorded concurrently (seq %llu); "
                     "this delivery is a duplicate", (unsigned long long)r->it[0].seq,
                  r->ev.event_key, (unsigned long long)r->it[1].seq);
    if (any && s->signer != NULL && s->cfg->checkpoint_records > 0)
        pthread_cond_signal(&s->tick);
}

static void *committer_main(void *arg)
{
    rk_server *s = arg;
    struct req *batch, *r, *n, *wake;

    pthread_mutex_lock(&s->cmu);
    for (;;) {
        while (s->queue == NULL && !s->cstop)
            pthread_cond_wait(&s->cwake, &s->cmu);
        if (s->queue == NULL)
            break; /* stopping, and everything queued is done */
        batch = s->queue;
        s->queue = s->queue_tail = NULL;
        pthread_mutex_unlock(&s->cmu);
        commit_batch(s, batch);
        pthread_mutex_lock(&s->cmu);
        wake = NULL;
        for (r = batch; r != NULL; r = n) {
            n = r->next;
            claim_release(s, r, &wake);
            r->state = ST_DONE;
            r->next = wake;
            wake = r;
        }
        pthread_mutex_unlock(&s->cmu);
        wake_all(s, wake);
        pthread_mutex_lock(&s->cmu);
    }
    pthread_mutex_unlock(&s->cmu);
    return NULL;
}

/* ---- webhook deliveries ------------------------------------------------ */

/*
 * Everything about a delivery that does not depend on the ledger: the
 * signature, the JSON, the mapping.  Sets r->outcome (rejected, unmapped,
 * or accepted pending the duplicate check), r->code and r->answer.
 * Returns 0 when the delivery is to be recorded, else the HTTP status of a
 * reject counted into the peer's summary instead (nothing to append).
 */
static unsigned decide_webhook(rk_server *s, struct MHD_Connection *c, struct req *r)
{
    char err[RK_ERROR_SIZE] = "";
    struct hdrs *hs = &r->hs;
    rk_serve_adapt_fn adapt = s->o.adapt != NULL ? s->o.adapt : rk_adapt_webhook_json;
    const rk_config_endpoint *ep = r->ep;
    cJSON *json = NULL;
    unsigned code = 0;
    rk_err rc;

    r->duplicate_of = -1;
    r->keep_raw = 1;
    if (!r->peer_known) {
        peer_of(c, r->ip, sizeof r->ip, r->peer, sizeof r->peer);
        r->peer_known = 1;
    }
    hs->n = 0;
    hs->overflow = 0;
    MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, hs);

    if (r->too_large) {
        r->outcome = OUT_REJECTED;
        r->keep_raw = 0;
        snprintf(r->reason, sizeof r->reason, "body larger than %zu bytes", s->cfg->body_limit);
        code = 413;
    } else if (ep == NULL) {
        r->outcome = OUT_REJECTED;
        snprintf(r->reason, sizeof r->reason, "unknown endpoint");
        code = 404;
    } else if (hs->overflow) {
        r->outcome = OUT_REJECTED;
        snprintf(r->reason, sizeof r->reason, "more than %d headers", MAX_HEADERS);
        code = 400;
    } else {
        rc = rk_sig_verifier_verify(s->verifiers[ep - s->cfg->endpoints], hs->h, hs->n,
                                    r->body.data, r->body.len, r->received_at / 1000000000LL,
                                    &r->res, err);
        r->checked = 1;
        if (rc == RK_ERR_SIGNATURE || rc == RK_ERR_STALE) {
            r->outcome = OUT_REJECTED;
            snprintf(r->reason, sizeof r->reason, "%s", rk_sig_reason_str(r->res.reason));
            code = 401;
        } else if (rc != RK_OK) {
            /* validated at load, so this is memory or a bug: keep the evidence */
            r->outcome = OUT_REJECTED;
            snprintf(r->reason, sizeof r->reason, "cannot verify: %s",
                     rk_sig_reason_str(r->res.reason));
            code = 500;
        } else if (rk_json_parse((const char *)r->body.data, r->body.len, &json, err) != RK_OK) {
            r->outcome = OUT_REJECTED;
            snprintf(r->reason, sizeof r->reason, "body is not JSON: %.400s", err);
            code = 400;
        }
    }
    if (code != 0) {
        cJSON_Delete(json);
        r->code = code;
        r->close = code == 413;
        r->answer = code == 413 ? ANSWER_TOO_LARGE : code == 404 ? fixed_bodies[FIXED_UNKNOWN]
                    : code == 400 ? fixed_bodies[FIXED_MALFORMED]
                    : code == 401 ? fixed_bodies[FIXED_SIGNATURE] : ANSWER_INTERNAL;
        /* unauthenticated rejects are subject to the per-peer allowance */
        if (!r->res.authentic && !flood_admit(s, r->ip, 0, r->endpoint,
                                              code == 413 ? "body too large"
                                              : code == 404 ? "unknown endpoint" : r->reason,
                                              r->received_at))
            return code;
        return 0;
    }

    /*
     * Authentic and JSON: map the tree just parsed (one parse per body);
     * the duplicate check comes when the request is handed over.
     */
    r->ev.body = r->evbody; /* lent to ev, taken back in req_end */
    rk_buf_reset(&r->ev.body);
    rc = adapt(ep->provider, json, &r->ev, err);
    cJSON_Delete(json);
    r->evbody = r->ev.body;
    if (rc != RK_OK) {
        r->outcome = OUT_UNMAPPED;
        snprintf(r->reason, sizeof r->reason, "%s", err[0] != '\0' ? err : rk_strerror(rc));
        r->code = 202;
        r->answer = fixed_bodies[FIXED_UNMAPPED];
        return 0;
    }
    r->have_ev = 1;
    r->outcome = OUT_ACCEPTED;
    return 0;
}

/*
 * Hand a decided delivery over: claim its event key and check the ledger
 * for it (accepted or duplicate), build its records and queue them.
 * Returns 1 when r is handed over (in the pool its connection is
 * suspended), 0 when it is resolved already (DONE).
 */
static int step_webhook(rk_server *s, struct req *r)
{
    char err[RK_ERROR_SIZE] = "";
    struct req *holder;
    uint64_t dup = 0;
    rk_err rc;

    if (!enter_wait(s, r))
        return 0;
    if (r->have_ev) {
        pthread_mutex_lock(&s->cmu);
        holder = claim_find(s, r->ev.event_key);
        if (holder != NULL) {
            /* the same event is on its way into the ledger: wait for it */
            r->state = ST_WAITING;
            r->next = holder->waiters;
            holder->waiters = r;
            pthread_mutex_unlock(&s->cmu);
            return 1;
        }
        claim_add(s, r);
        pthread_mutex_unlock(&s->cmu);
        rc = rk_ledger_find_event(s->l, r->ev.event_key, &dup, err);
        if (rc == RK_OK) {
            r->outcome = OUT_DUPLICATE;
            r->duplicate_of = (long long)dup;
            snprintf(r->reason, sizeof r->reason, "event already recorded");
        } else if (rc == RK_ERR_NOTFOUND) {
            r->outcome = OUT_ACCEPTED;
            r->duplicate_of = -1;
        } else {
            logf_(s, "event lookup failed: %s", err);
            resolve_now(s, r, rc);
            return 1;
        }
        r->code = 200;
        r->answer = fixed_bodies[r->outcome == OUT_DUPLICATE ? FIXED_DUPLICATE : FIXED_ACCEPTED];
    }

    rk_buf_reset(&r->rbody);
    rc = delivery_body(r, &r->hs, &r->rbody, err);
    if (rc != RK_OK) {
        logf_(s, "append failed: %s", err);
        resolve_now(s, r, rc);
        return 1;
    }
    memset(r->it, 0, sizeof r->it);
    r->it[0].kind = RK_KIND_WEBHOOK_DELIVERY;
    r->it[0].ref = r->have_ev && r->ev.ref[0] != '\0' ? r->ev.ref : NULL;
    r->it[0].body = r->rbody.data;
    r->it[0].body_len = r->rbody.len;
    if (r->keep_raw && r->body.len > 0) {
        r->it[0].raw = r->body.data;
        r->it[0].raw_len = r->body.len;
    }
    r->nit = 1;
    if (r->have_ev && r->outcome == OUT_ACCEPTED) {
        r->it[1].kind = RK_KIND_PROVIDER_EVENT;
        r->it[1].ref = r->ev.ref[0] != '\0' ? r->ev.ref : NULL;
        r->it[1].body = r->ev.body.data;
        r->it[1].body_len = r->ev.body.len;
        r->it[1].event_key = r->ev.event_key;
        r->nit = 2;
    }
    enqueue(s, r);
    return 1;
}

/* Hand r over (1) or resolve it at once (0), as step_webhook. */
static int step(rk_server *s, struct req *r)
{
    if (r->kind == REQ_WEBHOOK || r->api_reject)
        return step_webhook(s, r); /* a delivery record, without an event */
    /* a note: its record is built already */
    if (!enter_wait(s, r))
        return 0;
    enqueue(s, r);
    return 1;
}

/* The answer of a request the committer (or the stop) resolved. */
static enum MHD_Result answer(rk_server *s, struct MHD_Connection *c, struct req *r, int upload)
{
    if (upload)
        return MHD_NO; /* mid-body: no answer can be queued now; close */
    if (r->rc != RK_OK)
        return respond_body(s, c, 503, fixed_bodies[FIXED_503]);
    if (r->kind == REQ_NOTES && !r->api_reject)
        return respond_json(c, 201, "{\"seq\":%llu}", (unsigned long long)r->it[0].seq);
    /* set with r->code by decide_webhook, step_webhook or api_reject */
    assert(r->answer != NULL);
    if (r->close)
        return respond(c, r->code, "application/json", r->answer, "Connection", "close");
    if (r->hname != NULL)
        return respond(c, r->code, "application/json", r->answer, r->hname, r->hval);
    return respond_body(s, c, r->code, r->answer);
}

/*
 * Run r until it is handed over (pool: return, the connection is
 * suspended) or can be answered.  upload: called with body bytes.
 */
static enum MHD_Result drive(rk_server *s, struct MHD_Connection *c, struct req *r, int upload)
{
    enum req_state st;

    for (;;) {
        pthread_mutex_lock(&s->cmu);
        while (!s->pool && r->state == ST_WAITING)
            pthread_cond_wait(&s->cdone, &s->cmu);
        settle_locked(s, r);
        st = r->state;
        pthread_mutex_unlock(&s->cmu);
        if (st == ST_WAITING)
            return MHD_YES; /* not reached: a suspended connection has no callbacks */
        if (st == ST_DONE)
            return answer(s, c, r, upload);
        /* ST_NEW, or ST_RETRY: the claim this delivery waited for is released */
        if (step(s, r) && s->pool)
            return MHD_YES;
    }
}

static enum MHD_Result finish_webhook(rk_server *s, struct MHD_Connection *c, struct req *r,
                                      int upload)
{
    unsigned code = decide_webhook(s, c, r);

    if (code != 0)
        return respond_json(c, code, "{\"outcome\":\"rejected\",\"recorded\":false}");
    return drive(s, c, r, upload);
}

/* Content-Length beyond the limit: record and answer before reading the body. */
static enum MHD_Result too_large(rk_server *s, struct MHD_Connection *c, struct req *r)
{
    r->too_large = 1;
    return finish_webhook(s, c, r, 0);
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

/* Copy msg into out as the characters of a JSON string: '"' and '\\' escaped. */
static void json_escape(char *out, size_t size, const char *msg)
{
    size_t n = 0;

    for (; *msg != '\0' && n + 3 < size; msg++) {
        if (*msg == '"' || *msg == '\\')
            out[n++] = '\\';
        out[n++] = *msg;
    }
    out[n] = '\0';
}

/*
 * Reject the /api/ call r with code: record it as a delivery is recorded
 * (formats/ingestion.md), then answer {"error":msg} once the record is
 * durable, or 503.  A call no key authenticated is subject to the peer's
 * allowance, as an unauthenticated webhook reject is: beyond it the call is
 * counted into the summary and answered at once, "recorded":false.  The
 * presented key is never passed here: msg and the record hold no credential
 * (the Authorization header's value is recorded "[redacted]").
 */
static enum MHD_Result api_reject(rk_server *s, struct MHD_Connection *c, struct req *r,
                                  unsigned code, const char *msg, int upload)
{
    char shown[RK_ERROR_SIZE], esc[2 * RK_ERROR_SIZE];

    copy_printable(shown, sizeof shown, msg);
    json_escape(esc, sizeof esc, shown);
    r->api_reject = 1;
    r->outcome = OUT_REJECTED;
    r->duplicate_of = -1;
    r->code = code;
    r->close = code == 413;
    r->hname = code == 401 ? "WWW-Authenticate" : NULL;
    r->hval = "Bearer";
    r->keep_raw = !r->too_large; /* a body past the limit was never kept */
    if (code == 413)
        snprintf(r->reason, sizeof r->reason, "body larger than %zu bytes", (size_t)NOTE_BODY_MAX);
    else
        snprintf(r->reason, sizeof r->reason, "%s", shown);
    if (r->key_id[0] == '\0' &&
        !flood_admit(s, r->ip, 1, r->endpoint, code == 413 ? "body too large" : shown,
                     r->received_at)) {
        snprintf(r->abuf, sizeof r->abuf, "{\"error\":\"%s\",\"recorded\":false}", esc);
        if (r->close)
            return respond(c, code, "application/json", r->abuf, "Connection", "close");
        return respond(c, code, "application/json", r->abuf, r->hname, r->hval);
    }
    snprintf(r->abuf, sizeof r->abuf, "{\"error\":\"%s\"}", esc);
    r->answer = r->abuf;
    return drive(s, c, r, upload);
}

/*
 * A request under /api/: a note, or a reject.  upload: called with body
 * bytes (the body passed the limit).
 */
static enum MHD_Result finish_api(rk_server *s, struct MHD_Connection *c, struct req *r,
                                  int upload)
{
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    const char *ref = NULL, *text = NULL;
    char name[RK_APIKEY_NAME_MAX + 1], err[RK_ERROR_SIZE] = "";
    const rk_apikey *k = NULL;
    cJSON *json = NULL;
    rk_role role = 0;
    rk_err rc;

    if (!r->peer_known) {
        peer_of(c, r->ip, sizeof r->ip, r->peer, sizeof r->peer);
        r->peer_known = 1;
    }
    r->hs.n = 0;
    r->hs.overflow = 0;
    MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, &r->hs);
    if (r->too_large)
        return api_reject(s, c, r, 413, "body too large", upload);
    if (r->hs.overflow) /* the record could not hold them all */
        return api_reject(s, c, r, 400, "more than 128 headers", upload);
    if (r->kind == REQ_API)
        return api_reject(s, c, r, strcmp(r->endpoint, "/api/notes") == 0 ? 405 : 404,
                          strcmp(r->endpoint, "/api/notes") == 0 ? "method not allowed"
                                                                 : "not found", upload);
    if (s->cfg->api_keys == NULL)
        return api_reject(s, c, r, 404, "the API is not configured", upload);
    if (auth == NULL || strncmp(auth, "Bearer ", 7) != 0)
        return api_reject(s, c, r, 401, "a bearer key is required", upload);
    pthread_mutex_lock(&s->keys_mu);
    reload_keys(s);
    rc = s->keys != NULL ? rk_apikeys_verify(s->keys, auth + 7, strlen(auth + 7), &k)
                         : RK_ERR_NOTFOUND;
    if (rc == RK_OK) {
        memcpy(name, k->name, sizeof name);
        memcpy(r->key_id, k->id, sizeof r->key_id);
        role = k->role;
    }
    pthread_mutex_unlock(&s->keys_mu);
    if (rc != RK_OK)
        return api_reject(s, c, r, 401, "unknown or revoked key", upload);
    /* from here on a key authenticated the call: its rejects are always stored */
    if (role != RK_ROLE_OPERATOR && role != RK_ROLE_ADMIN) {
        snprintf(err, sizeof err, "role %s may not write notes", rk_role_name(role));
        return api_reject(s, c, r, 403, err, upload);
    }
    if (rk_json_parse((const char *)r->body.data, r->body.len, &json, err) != RK_OK ||
        !cJSON_IsObject(json) || cJSON_GetArraySize(json) != 2 ||
        rk_json_get_string(json, "ref", &ref, NULL) != RK_OK ||
        rk_json_get_string(json, "text", &text, NULL) != RK_OK) {
        cJSON_Delete(json);
        return api_reject(s, c, r, 400, "the body must be {\"ref\":REF,\"text\":TEXT}",
                          upload);
    }
    rc = rk_opnote_body(name, ref, text, "api", r->key_id, &r->rbody, err);
    if (rc == RK_OK)
        snprintf(r->note_ref, sizeof r->note_ref, "%s", ref); /* checked: <= RK_REF_MAX */
    cJSON_Delete(json);
    if (rc == RK_ERR_INVALID || rc == RK_ERR_TOOBIG)
        return api_reject(s, c, r, 400, err, upload);
    if (rc != RK_OK) {
        logf_(s, "note append failed: %s", err);
        return respond_json(c, 503, "{\"error\":\"the ledger cannot take the write\"}");
    }
    memset(r->it, 0, sizeof r->it);
    r->it[0].kind = RK_KIND_OPERATOR_NOTE;
    r->it[0].ref = r->note_ref;
    r->it[0].body = r->rbody.data;
    r->it[0].body_len = r->rbody.len;
    r->nit = 1;
    return drive(s, c, r, upload);
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

/*
 * One struct req per connection, made when the connection opens and freed
 * when it closes (conn_notify), reset for each request on it: a keep-alive
 * request then needs no allocation, and the peer address is formatted once.
 * A connection carries one request at a time, and a request is completed
 * (completed(), below) before the next one on the same connection begins,
 * so the reuse never overlaps: the committer has let go of a request before
 * it completes (see "Lifetimes").
 */
#define REQ_BUF_KEEP (64 * 1024) /* a larger buffer is freed, not kept */

static void conn_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                        enum MHD_ConnectionNotificationCode toe)
{
    struct worker *w = cls; /* NULL with a thread per connection */
    struct req *r = *socket_context;

    (void)c;
    if (toe == MHD_CONNECTION_NOTIFY_CLOSED && w != NULL)
        atomic_fetch_sub(&w->conns, 1);
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        /* NULL on failure: the handler then refuses the connection's requests */
        *socket_context = calloc(1, sizeof *r);
        return;
    }
    if (r != NULL) {
        rk_buf_free(&r->body);
        rk_buf_free(&r->rbody);
        rk_buf_free(&r->evbody);
        free(r);
    }
    *socket_context = NULL;
}

/* The connection's struct req, reset for a new request; NULL if there is none. */
static struct req *req_begin(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    struct req *r = ci != NULL ? ci->socket_context : NULL;

    if (r == NULL)
        return NULL;
    /* reset everything but the peer, the buffers and the header table */
    memset((char *)r + offsetof(struct req, kind), 0, sizeof *r - offsetof(struct req, kind));
    rk_buf_reset(&r->body);
    rk_buf_reset(&r->rbody);
    rk_buf_reset(&r->evbody);
    return r;
}

/* A request is over: keep its buffers for the next one unless they grew large. */
static void req_end(struct req *r)
{
    if (r->body.cap > REQ_BUF_KEEP)
        rk_buf_free(&r->body);
    if (r->rbody.cap > REQ_BUF_KEEP)
        rk_buf_free(&r->rbody);
    if (r->evbody.cap > REQ_BUF_KEEP)
        rk_buf_free(&r->evbody);
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
        /* every request under /api/ is either a note or a reject that is recorded */
        int api = strcmp(url, "/api") == 0 || strncmp(url, "/api/", 5) == 0;
        int post = strcmp(method, "POST") == 0;

        if (!api && (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0))
            return get_request(s, c, url);
        if (!api && (!post || !webhook))
            return respond_json(c, webhook ? 405 : 404, "{\"error\":\"%s\"}",
                                webhook ? "method not allowed" : "not found");
        r = req_begin(c);
        if (r == NULL)
            return MHD_NO;
        pthread_mutex_lock(&s->mu);
        s->inflight++;
        pthread_mutex_unlock(&s->mu);
        *con_cls = r;
        r->c = c;
        r->kind = webhook ? REQ_WEBHOOK
                  : post && strcmp(url, "/api/notes") == 0 ? REQ_NOTES : REQ_API;
        r->state = ST_NEW;
        r->received_at = s->o.clock(s->o.clock_ctx);
        r->declared = -1;
        if (webhook) {
            r->ep = rk_config_endpoint_find(s->cfg, url + 10);
            copy_printable(r->endpoint, sizeof r->endpoint, url + 10);
        } else {
            copy_printable(r->endpoint, sizeof r->endpoint, url);
            copy_printable(r->method, sizeof r->method, method);
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
                return finish_api(s, c, r, 0);
            }
        }
        return MHD_YES;
    }
    if (r->state != ST_NEW) {
        /*
         * Called again after the committer (or the stop) resolved r, or
         * after the claim r waited for was released.  Body bytes now follow
         * a reject recorded mid-body: close rather than read on.
         */
        if (*upload_data_size > 0)
            *upload_data_size = 0;
        return drive(s, c, r, upload_data != NULL);
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
            r->mid_body = 1;
            /* record now; no answer can be queued mid-body, so the connection closes */
            if (r->kind == REQ_WEBHOOK)
                return finish_webhook(s, c, r, 1);
            return finish_api(s, c, r, 1);
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
    return r->kind == REQ_WEBHOOK ? finish_webhook(s, c, r, 0) : finish_api(s, c, r, 0);
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
    pthread_mutex_lock(&s->cmu);
    /* a request the committer still holds is never completed: see "Lifetimes" */
    assert(r->state != ST_WAITING && !r->claimed);
    settle_locked(s, r);
    pthread_mutex_unlock(&s->cmu);
    req_end(r);
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

/* ---- accepting connections ------------------------------------------------ */

/*
 * The event-driven pool is `threads` libmicrohttpd daemons of one polling
 * thread each (epoll), without listening sockets of their own.  One thread
 * of ours, the acceptor, accepts every connection and hands it with
 * MHD_add_connection to the daemon with the fewest open connections.
 *
 * Why not libmicrohttpd's own thread pool: it puts the listening socket in
 * every polling thread's epoll set and whichever thread wakes first accepts
 * all it can.  Measured with 64 connections opened at once, one thread of 4
 * took half of them and another almost none, so one thread did most of the
 * work while its connections queued behind each other and the others
 * idled.  (Its MHD_add_connection spreads by socket number modulo the pool
 * size, which a client's pattern of descriptors can defeat as well.)
 *
 * Counts: the acceptor adds one to a worker's count before handing it a
 * connection (and takes it back when the hand-over fails); conn_notify
 * takes it off when libmicrohttpd closes the connection.  A connection
 * libmicrohttpd takes but then fails to set up (out of memory) would stay
 * counted: the counts only steer the spread, they limit nothing (each
 * daemon enforces its own connection limit).
 *
 * The acceptor sleeps in poll() on the listening socket and on a pipe;
 * rk_serve_stop writes to the pipe, joins the thread and closes the
 * listening socket (no new connections; what MHD_quiesce_daemon did).
 */
static struct worker *least_busy(rk_server *s)
{
    struct worker *best = &s->workers[0];
    unsigned i, n, min = atomic_load(&best->conns);

    for (i = 1; i < s->nworkers; i++) {
        n = atomic_load(&s->workers[i].conns);
        if (n < min) {
            min = n;
            best = &s->workers[i];
        }
    }
    return best;
}

static void *acceptor_main(void *arg)
{
    rk_server *s = arg;
    struct pollfd pf[2];
    struct sockaddr_storage ss;
    struct worker *w;
    socklen_t sl;
    int fd;

    pf[0].fd = s->lfd;
    pf[0].events = POLLIN;
    pf[1].fd = s->wake[0];
    pf[1].events = POLLIN;
    for (;;) {
        if (poll(pf, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            logf_(s, "accept: poll: %s", strerror(errno));
            return NULL;
        }
        if (pf[1].revents != 0)
            return NULL; /* stopping */
        if (pf[0].revents == 0)
            continue;
        sl = sizeof ss;
        fd = accept(s->lfd, (struct sockaddr *)&ss, &sl);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* out of descriptors or memory: let connections close first */
                logf_(s, "accept: %s", strerror(errno));
                poll(&pf[1], 1, 100);
            }
            continue; /* EAGAIN, ECONNABORTED, EINTR, ... */
        }
        (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
        w = least_busy(s);
        atomic_fetch_add(&w->conns, 1);
        /* libmicrohttpd owns fd from here on (it makes it non-blocking), and closes it on failure */
        if (MHD_add_connection(w->d, fd, (struct sockaddr *)&ss, sl) != MHD_YES) {
            atomic_fetch_sub(&w->conns, 1);
            logf_(s, "accept: connection not taken: %s", strerror(errno));
        }
    }
}

/* Bind and listen on the configured address; the socket in s->lfd. */
static rk_err listen_socket(rk_server *s, const struct sockaddr *sa, socklen_t sl, char *err)
{
    int one = 1;

    s->lfd = socket(sa->sa_family, SOCK_STREAM, 0);
    if (s->lfd < 0)
        return rk_seterr(err, RK_ERR_IO, "cannot listen on %s: %s", s->cfg->listen,
                         strerror(errno));
    /* non-blocking: poll() may report a connection that is gone when we accept */
    (void)fcntl(s->lfd, F_SETFD, FD_CLOEXEC);
    if (fcntl(s->lfd, F_SETFL, fcntl(s->lfd, F_GETFL) | O_NONBLOCK) != 0)
        return rk_seterr(err, RK_ERR_IO, "cannot listen on %s: %s", s->cfg->listen,
                         strerror(errno));
    /* as libmicrohttpd does: rebind at once after a restart; IPv6 only on IPv6 */
    if (setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        (sa->sa_family == AF_INET6 &&
         setsockopt(s->lfd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0) ||
        bind(s->lfd, sa, sl) != 0 || listen(s->lfd, SOMAXCONN) != 0)
        return rk_seterr(err, RK_ERR_IO, "cannot listen on %s (address in use, or not "
                         "an address of this host?)", s->cfg->listen);
    return RK_OK;
}

static rk_err start_acceptor(rk_server *s, char *err)
{
    if (pipe(s->wake) != 0) {
        s->wake[0] = s->wake[1] = -1;
        return rk_seterr(err, RK_ERR_IO, "cannot make a pipe: %s", strerror(errno));
    }
    (void)fcntl(s->wake[0], F_SETFD, FD_CLOEXEC);
    (void)fcntl(s->wake[1], F_SETFD, FD_CLOEXEC);
    if (pthread_create(&s->acceptor, NULL, acceptor_main, s) != 0)
        return rk_seterr(err, RK_ERR_NOMEM, "cannot start the acceptor thread");
    s->acceptor_started = 1;
    return RK_OK;
}

/* No new connections: stop the acceptor and close the listening socket. */
static void stop_acceptor(rk_server *s)
{
    if (s->acceptor_started) {
        while (write(s->wake[1], "x", 1) < 0 && errno == EINTR)
            ;
        pthread_join(s->acceptor, NULL);
        s->acceptor_started = 0;
    }
    if (s->lfd >= 0)
        close(s->lfd);
    s->lfd = -1;
    if (s->wake[0] >= 0)
        close(s->wake[0]);
    if (s->wake[1] >= 0)
        close(s->wake[1]);
    s->wake[0] = s->wake[1] = -1;
}

/* ---- start and stop ------------------------------------------------------ */

/* Stop the daemon or the pool's daemons (no connection may be suspended). */
static void stop_daemons(rk_server *s)
{
    if (s->d != NULL)
        MHD_stop_daemon(s->d);
    s->d = NULL;
    while (s->nworkers > 0)
        MHD_stop_daemon(s->workers[--s->nworkers].d);
    s->running = 0;
}

static rk_err start_daemon(rk_server *s, char *err)
{
    const rk_config *cfg = s->cfg;
    struct sockaddr_in in4;
    struct sockaddr_in6 in6;
    struct sockaddr *sa;
    socklen_t sl;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_AUTO;
    const union MHD_DaemonInfo *di;
    char ip[INET6_ADDRSTRLEN];
    struct sockaddr_storage bound;
    socklen_t bl = sizeof bound;
    unsigned per;
    rk_err rc;

    memset(&in4, 0, sizeof in4);
    memset(&in6, 0, sizeof in6);
    if (cfg->family == AF_INET6) {
        in6.sin6_family = AF_INET6;
        in6.sin6_port = htons(cfg->port);
        memcpy(&in6.sin6_addr, cfg->addr, 16);
        sa = (struct sockaddr *)&in6;
        sl = sizeof in6;
        flags |= MHD_USE_IPv6;
    } else {
        in4.sin_family = AF_INET;
        in4.sin_port = htons(cfg->port);
        memcpy(&in4.sin_addr, cfg->addr, 4);
        sa = (struct sockaddr *)&in4;
        sl = sizeof in4;
    }
    if (cfg->thread_per_connection) {
        flags |= MHD_USE_THREAD_PER_CONNECTION;
        s->d = MHD_start_daemon(flags, cfg->port, NULL, NULL, handler, s,
                                MHD_OPTION_SOCK_ADDR, sa,
                                MHD_OPTION_NOTIFY_COMPLETED, completed, s,
                                MHD_OPTION_NOTIFY_CONNECTION, conn_notify, NULL,
                                MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
                                MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
                                MHD_OPTION_END);
        if (s->d == NULL)
            return rk_seterr(err, RK_ERR_IO, "cannot listen on %s (address in use, or "
                             "not an address of this host?)", cfg->listen);
        s->running = 1;
        di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
        s->port = di != NULL ? di->port : cfg->port;
    } else {
        /*
         * One daemon of one polling thread (epoll on Linux) per pool
         * thread, that suspend connections, fed by our acceptor
         * ("accepting connections").
         */
        rc = listen_socket(s, sa, sl, err);
        if (rc != RK_OK)
            return rc;
        s->workers = calloc(cfg->threads, sizeof *s->workers);
        if (s->workers == NULL)
            return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
        flags |= MHD_ALLOW_SUSPEND_RESUME | MHD_USE_NO_LISTEN_SOCKET;
        /*
         * libmicrohttpd's pool shared its default connection limit
         * (FD_SETSIZE - 4) among its threads: the same total here, so the
         * server still leaves descriptors to the ledger.
         */
        per = (FD_SETSIZE - 4) / cfg->threads;
        for (; s->nworkers < cfg->threads; s->nworkers++) {
            struct worker *w = &s->workers[s->nworkers];
            atomic_init(&w->conns, 0);
            w->d = MHD_start_daemon(flags, 0, NULL, NULL, handler, s,
                                    MHD_OPTION_CONNECTION_LIMIT, per > 0 ? per : 1u,
                                    MHD_OPTION_NOTIFY_COMPLETED, completed, s,
                                    MHD_OPTION_NOTIFY_CONNECTION, conn_notify, w,
                                    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
                                    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
                                    MHD_OPTION_END);
            if (w->d == NULL) {
                stop_daemons(s);
                return rk_seterr(err, RK_ERR_IO, "cannot start polling thread %u of %u",
                                 s->nworkers + 1, cfg->threads);
            }
        }
        if (getsockname(s->lfd, (struct sockaddr *)&bound, &bl) != 0)
            rc = rk_seterr(err, RK_ERR_IO, "cannot read the bound port: %s",
                           strerror(errno));
        else
            rc = start_acceptor(s, err);
        if (rc != RK_OK) {
            stop_daemons(s);
            return rc;
        }
        s->running = 1;
        s->port = ntohs(bound.ss_family == AF_INET6
                            ? ((struct sockaddr_in6 *)(void *)&bound)->sin6_port
                            : ((struct sockaddr_in *)(void *)&bound)->sin_port);
    }
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
    s->lfd = s->wake[0] = s->wake[1] = -1;
    s->pool = !cfg->thread_per_connection;
    pthread_mutex_init(&s->cmu, NULL);
    pthread_cond_init(&s->cwake, NULL);
    pthread_cond_init(&s->cdone, NULL);
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
    rc = fixed_make(s, err);
    if (rc != RK_OK)
        goto fail;
    /* each endpoint's secrets prepared once (sig.h, rk_sig_verifier) */
    s->verifiers = calloc(cfg->nendpoints + 1, sizeof *s->verifiers);
    if (s->verifiers == NULL) {
        rc = rk_seterr(err, RK_ERR_NOMEM, "out of memory");
        goto fail;
    }
    for (i = 0; i < cfg->nendpoints; i++) {
        rc = rk_sig_verifier_new(&cfg->endpoints[i].params, cfg->endpoints[i].secrets,
                                 cfg->endpoints[i].nsecrets, &s->verifiers[i], err);
        if (rc != RK_OK) {
            rk_preferr(err, rc, "endpoint '%s'", cfg->endpoints[i].name);
            goto fail;
        }
    }
    if (pthread_create(&s->committer, NULL, committer_main, s) != 0) {
        rc = rk_seterr(err, RK_ERR_NOMEM, "cannot start the committer thread");
        goto fail;
    }
    s->committer_started = 1;
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

static void stop_committer(rk_server *s)
{
    pthread_mutex_lock(&s->cmu);
    s->cstop = 1;
    pthread_cond_signal(&s->cwake);
    pthread_mutex_unlock(&s->cmu);
    if (s->committer_started)
        pthread_join(s->committer, NULL);
    s->committer_started = 0;
}

rk_err rk_serve_stop(rk_server *s, char *err)
{
    struct timespec until;
    char e2[RK_ERROR_SIZE] = "";
    rk_err rc = RK_OK, rc2;
    MHD_socket ls;

    if (s == NULL || !s->running)
        return RK_OK;
    /* no new connections; requests in flight go on */
    if (s->pool) {
        stop_acceptor(s);
    } else {
        ls = MHD_quiesce_daemon(s->d);
        if (ls != MHD_INVALID_SOCKET)
            close(ls);
    }
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += STOP_WAIT_S;
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    while (s->inflight > 0)
        if (pthread_cond_timedwait(&s->cond, &s->mu, &until) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&s->mu);
    /*
     * The committer appends everything queued and ends; requests handed
     * over later are answered 503 at once.  Then wait until every handed
     * over request ran its handler again: libmicrohttpd must not be
     * stopped with a connection suspended.  This wait has no timeout: each
     * such request is resolved already and needs only a polling thread.
     */
    stop_committer(s);
    pthread_mutex_lock(&s->cmu);
    while (s->waiting > 0)
        pthread_cond_wait(&s->cdone, &s->cmu);
    pthread_mutex_unlock(&s->cmu);
    stop_daemons(s);
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

    if (s == NULL)
        return;
    rk_serve_stop(s, NULL);
    stop_committer(s); /* when the daemon never started */
    stop_acceptor(s);
    fixed_free(s); /* after the daemon: no connection holds them any more */
    pthread_mutex_destroy(&s->cmu);
    pthread_cond_destroy(&s->cwake);
    pthread_cond_destroy(&s->cdone);
    free(s->items);
    free(s->workers);
    for (size_t i = 0; s->verifiers != NULL && i < s->cfg->nendpoints; i++)
        rk_sig_verifier_free(s->verifiers[i]);
    free(s->verifiers);
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
