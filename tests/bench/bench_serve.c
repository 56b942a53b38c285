/*
 * bench_serve.c - the webhook receiver in-process on loopback: 64
 * concurrent keep-alive connections post signed deliveries, each answered
 * only after its records are durable.  Printed beside the ledger's raw
 * durable append rate for the same records (one delivery per
 * rk_ledger_append call, 64 threads) measured in the same run, with the
 * ratio.  Both threading models of the server are measured.  Asserts
 * nothing.
 *
 *   bench_serve [--quick] [--profile]
 *
 * --profile runs the default server row alone, without the baseline, for
 * valgrind --tool=callgrind, strace -c -f or perf (per-delivery counts are
 * the totals divided by CONNS x deliveries).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>

#include "config.h"
#include "ledger.h"
#include "serve.h"
#include "sig.h"

#define CONNS 64
#define SECRET "bench-secret"

static char workdir[4096];
static int per_conn;
static uint16_t port;
static rk_ledger *ledger;
static int rounds;

static double tv_s(const struct timeval *tv)
{
    return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t wall(void *ctx)
{
    struct timespec ts;

    (void)ctx;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what, const char *err)
{
    fprintf(stderr, "bench: %s: %s\n", what, err != NULL ? err : "failed");
    exit(2);
}

/* A provider-shaped body of about 600 bytes with a unique event id. */
static size_t make_body(char *out, size_t n, int conn, int i)
{
    return (size_t)snprintf(out, n,
                            "{\"event\":{\"id\":\"evt-%d-%d\",\"type\":\"charge:confirmed\","
                            "\"data\":{\"code\":\"ORDER%06d\",\"pricing\":{\"local\":"
                            "{\"amount\":\"100.00\",\"currency\":\"USD\"}},\"payments\":[{"
                            "\"network\":\"ethereum\",\"transaction_id\":\"0x%064d\","
                            "\"value\":{\"crypto\":{\"amount\":\"0.0312\",\"currency\":\"ETH\"}}}],"
                            "\"timeline\":[{\"status\":\"NEW\"},{\"status\":\"PENDING\"},"
                            "{\"status\":\"COMPLETED\"}],\"pad\":\"%s\"}}}",
                            conn, i, i, i,
                            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
}

/*
 * The bench's adapter: event key from $.event.id of the tree the receiver
 * parsed, a fixed event body.  (The provider adapters' own cost is
 * measured by their tests, not here.)
 */
static rk_err bench_adapt(const char *provider, const cJSON *root, rk_adapt_event *ev,
                          char *err)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(root, "event"), "id");

    (void)provider;
    if (!cJSON_IsString(id))
        return rk_seterr(err, RK_ERR_NOTFOUND, "no id");
    snprintf(ev->event_key, sizeof ev->event_key, "coinbase:%s", id->valuestring);
    snprintf(ev->ref, sizeof ev->ref, "ORDER");
    return rk_buf_printf(&ev->body, "{\"event_id\":\"%s\",\"v\":1}", id->valuestring);
}

struct job {
    int id, n;
    double *lat;
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/*
 * The load generator: one thread, CONNS non-blocking keep-alive
 * connections on one epoll set, each with one request outstanding at a
 * time (like CONNS blocking clients, without CONNS threads competing with
 * the server for the two cores).  Every request is signed before the clock
 * starts: the provider's signing is not the receiver's work.
 */
struct conn {
    int fd;
    int next;        /* index of the request to send next */
    char *req;       /* all of this connection's requests, back to back */
    size_t *off;     /* per_conn + 1 offsets into req */
    size_t sent;     /* bytes of the current request sent */
    char resp[4096];
    size_t got;
    double t0;
};

static void build_requests(struct conn *c, int id, int n)
{
    rk_sig_params p;
    rk_sig_secret s = { (const uint8_t *)SECRET, sizeof SECRET - 1 };
    rk_buf h = RK_BUF_INIT, all = RK_BUF_INIT;
    char body[2048];
    size_t bl;
    int i;

    if (rk_sig_scheme_parse("coinbase-commerce", &p, NULL) != RK_OK)
        die("scheme", NULL);
    c->off = calloc((size_t)n + 1, sizeof *c->off);
    if (c->off == NULL)
        die("memory", NULL);
    for (i = 0; i < n; i++) {
        bl = make_body(body, sizeof body, id, i);
        rk_buf_reset(&h);
        if (rk_sig_sign(&p, &s, NULL, 0, (const uint8_t *)body, bl, &h, NULL) != RK_OK)
            die("sign", NULL);
        h.data[h.len - 1] = '\0'; /* drop the line's newline */
        c->off[i] = all.len;
        if (rk_buf_printf(&all, "POST /webhooks/cb HTTP/1.1\r\nHost: b\r\n%s\r\n"
                          "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                          (char *)h.data, bl, body) != RK_OK)
            die("memory", NULL);
    }
    c->off[n] = all.len;
    c->req = (char *)all.data;
    rk_buf_free(&h);
}

/* A whole response in c->resp: check it is a 200, and make room for the next. */
static int response_done(struct conn *c)
{
    char *end, *cl;

    c->resp[c->got] = '\0';
    end = strstr(c->resp, "\r\n\r\n");
    cl = strstr(c->resp, "Content-Length: ");
    if (end == NULL || cl == NULL ||
        c->got < (size_t)(end + 4 - c->resp) + strtoul(cl + 16, NULL, 10))
        return 0;
    if (strncmp(c->resp, "HTTP/1.1 200", 12) != 0)
        die("response", c->resp);
    return 1;
}

/* Send what the socket takes of the current request. */
static void pump_send(struct conn *c)
{
    size_t len = c->off[c->next + 1] - c->off[c->next];
    ssize_t n;

    while (c->sent < len) {
        n = send(c->fd, c->req + c->off[c->next] + c->sent, len - c->sent, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return; /* EPOLLOUT would tell; with ~1 KB requests it does not happen */
        if (n <= 0)
            die("send", strerror(errno));
        c->sent += (size_t)n;
    }
}

static double run_clients(int per, double *p50, double *p99)
{
    struct conn *cs = calloc(CONNS, sizeof *cs);
    double *all = calloc((size_t)CONNS * (size_t)per, sizeof *all), t;
    struct epoll_event ev, evs[CONNS];
    struct sockaddr_in a;
    int ep = epoll_create1(0), i, k, n, left = CONNS, one = 1;
    size_t done = 0;
    ssize_t got;

    if (cs == NULL || all == NULL || ep < 0)
        die("client setup", NULL);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (i = 0; i < CONNS; i++) {
        build_requests(&cs[i], i, per);
        cs[i].fd = socket(AF_INET, SOCK_STREAM, 0);
        if (cs[i].fd < 0 || connect(cs[i].fd, (struct sockaddr *)&a, sizeof a) != 0)
            die("connect", strerror(errno));
        setsockopt(cs[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        fcntl(cs[i].fd, F_SETFL, fcntl(cs[i].fd, F_GETFL) | O_NONBLOCK);
        ev.events = EPOLLIN;
        ev.data.u32 = (uint32_t)i;
        if (epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev) != 0)
            die("epoll", strerror(errno));
    }
    t = now();
    for (i = 0; i < CONNS; i++) {
        cs[i].t0 = now();
        pump_send(&cs[i]);
    }
    while (left > 0) {
        n = epoll_wait(ep, evs, CONNS, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            die("epoll_wait", strerror(errno));
        for (k = 0; k < n; k++) {
            struct conn *c = &cs[evs[k].data.u32];
            for (;;) {
                got = recv(c->fd, c->resp + c->got, sizeof c->resp - 1 - c->got, 0);
                if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                    break;
                if (got <= 0)
                    die("recv", got == 0 ? "connection closed" : strerror(errno));
                c->got += (size_t)got;
                if (!response_done(c))
                    continue;
                all[done++] = now() - c->t0;
                c->got = 0;
                c->sent = 0;
                if (++c->next == per) {
                    left--;
                    break;
                }
                c->t0 = now();
                pump_send(c);
                /*
                 * One request is outstanding per connection, so nothing
                 * more can be waiting: skip the recv that would only say
                 * EAGAIN (the epoll set is level-triggered).
                 */
                break;
            }
        }
    }
    t = now() - t;
    for (i = 0; i < CONNS; i++) {
        close(cs[i].fd);
        free(cs[i].req);
        free(cs[i].off);
    }
    close(ep);
    qsort(all, done, sizeof *all, cmp_double);
    *p50 = all[done / 2];
    *p99 = all[done * 99 / 100];
    free(all);
    free(cs);
    return (double)done / t;
}

static rk_ledger *fresh_ledger(const char *name)
{
    char p[4200], err[RK_ERROR_SIZE] = "";
    rk_ledger *l = NULL;

    snprintf(p, sizeof p, "%s/%s", workdir, name);
    if (rk_ledger_create(p, "bench/serve", 0, err) != RK_OK || rk_ledger_open(p, 0, &l, err) != RK_OK)
        die("ledger", err);
    return l;
}

/* The same records straight into the ledger: one delivery (2 records) per call. */
static void *raw_appender(void *arg)
{
    struct job *j = arg;
    char body[2048], dbody[4096], key[128], ebody[128], err[RK_ERROR_SIZE];
    rk_append_item it[2];
    size_t bl;
    int i;

    for (i = 0; i < j->n; i++) {
        bl = make_body(body, sizeof body, j->id, i);
        snprintf(dbody, sizeof dbody, "{\"endpoint\":\"cb\",\"headers\":[[\"host\",\"b\"],"
                 "[\"x-cc-webhook-signature\",\"%064d\"]],\"outcome\":\"accepted\","
                 "\"peer\":\"127.0.0.1:40000\",\"received_at\":\"2026-11-26T11:35:30.123456789Z\","
                 "\"size\":%zu,\"v\":1}", i, bl);
        snprintf(key, sizeof key, "coinbase:evt-%d-%d", j->id, i);
        snprintf(ebody, sizeof ebody, "{\"event_id\":\"evt-%d-%d\",\"v\":1}", j->id, i);
        memset(it, 0, sizeof it);
        it[0].kind = RK_KIND_WEBHOOK_DELIVERY;
        it[0].ref = "ORDER";
        it[0].body = (const uint8_t *)dbody;
        it[0].body_len = strlen(dbody);
        it[0].raw = (const uint8_t *)body;
        it[0].raw_len = bl;
        it[1].kind = RK_KIND_PROVIDER_EVENT;
        it[1].ref = "ORDER";
        it[1].body = (const uint8_t *)ebody;
        it[1].body_len = strlen(ebody);
        it[1].event_key = key;
        if (rk_ledger_append(ledger, it, 2, err) != RK_OK)
            die("append", err);
    }
    return NULL;
}

/* The baseline: CONNS threads appending the same records straight into a fresh ledger. */
static double run_baseline(int per)
{
    pthread_t th[CONNS];
    struct job jobs[CONNS];
    double t;
    int i;
    static int round;
    char name[32];

    snprintf(name, sizeof name, "raw-%d", round++);
    ledger = fresh_ledger(name);
    t = now();
    for (i = 0; i < CONNS; i++) {
        jobs[i].id = i;
        jobs[i].n = per;
        jobs[i].lat = NULL;
        pthread_create(&th[i], NULL, raw_appender, &jobs[i]);
    }
    for (i = 0; i < CONNS; i++)
        pthread_join(th[i], NULL);
    t = now() - t;
    rk_ledger_close(ledger);
    return CONNS * per / t;
}

/*
 * One row: the baseline, then the receiver with the same records, back to
 * back on fresh ledgers, so both see the same disk weather.
 */
static void bench_server(const char *label, int tpc, unsigned threads, int per, int nobase)
{
    char text[1024], p[4200], err[RK_ERROR_SIZE] = "", name[64];
    rk_config *cfg = NULL;
    rk_server *s = NULL;
    rk_serve_opts o;
    rk_ledger_stats st;
    double rate, p50, p99, base, t0, cpu;
    struct rusage ru0, ru1;
    FILE *f;

    base = nobase ? 1.0 : run_baseline(per);
    snprintf(p, sizeof p, "%s/cb.secret", workdir);
    f = fopen(p, "wb");
    fputs(SECRET, f);
    fclose(f);
    snprintf(text, sizeof text, "{\"listen\":\"127.0.0.1:0\",\"threads\":%u,"
             "\"thread_per_connection\":%s,\"endpoints\":{\"cb\":{\"provider\":"
             "\"coinbase-commerce\",\"secrets\":[{\"file\":\"cb.secret\"}]}}}",
             threads, tpc ? "true" : "false");
    if (rk_config_parse(text, strlen(text), workdir, &cfg, err) != RK_OK)
        die("config", err);
    snprintf(name, sizeof name, "srv-%s-%u-%d", tpc ? "tpc" : "pool", threads, rounds++);
    ledger = fresh_ledger(name);
    memset(&o, 0, sizeof o);
    o.clock = wall;
    o.adapt = bench_adapt;
    if (rk_serve_start(ledger, cfg, &o, &s, err) != RK_OK)
        die("serve", err);
    port = rk_serve_port(s);
    getrusage(RUSAGE_SELF, &ru0);
    t0 = now();
    rate = run_clients(per, &p50, &p99);
    getrusage(RUSAGE_SELF, &ru1);
    cpu = (tv_s(&ru1.ru_utime) + tv_s(&ru1.ru_stime) - tv_s(&ru0.ru_utime) - tv_s(&ru0.ru_stime)) /
          (now() - t0);
    rk_serve_free(s);
    rk_ledger_stats_get(ledger, &st);
    rk_ledger_close(ledger);
    rk_config_free(cfg);
    printf("%-26s %8.0f %7.2f %7.2f %6.1f %5.2f %9.0f %6.2f\n", label, rate, p50 * 1e3, p99 * 1e3,
           st.groups > 0 ? (double)(CONNS * per) / (double)st.groups : 0.0, cpu, base, rate / base);
}

int main(int argc, char **argv)
{
    const char *tmp = getenv("TMPDIR");
    int quick = 0, profile = 0, per, i;
    char cmd[4200], label[64];

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            quick = 1;
        } else if (strcmp(argv[i], "--profile") == 0) {
            profile = 1;
        } else {
            fprintf(stderr, "usage: bench_serve [--quick] [--profile]\n");
            return 2;
        }
    }
    per = quick ? 10 : 60;

    snprintf(workdir, sizeof workdir, "%s/reckon-bench-serve-XXXXXX",
             tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    if (mkdtemp(workdir) == NULL)
        die("mkdtemp", workdir);
    per_conn = per;
    printf("receiver benchmark: %d keep-alive connections x %d signed deliveries, durable 2xx\n",
           CONNS, per);
    printf("client: one epoll thread in this process, requests signed before the clock starts\n");
    printf("baseline (append/s): rk_ledger_append of the same records, one delivery per call,\n"
           "  %d threads, fresh ledger, measured just before each row\n", CONNS);
    printf("d/sync: deliveries per synced write group; cpus: CPU seconds per second of the\n"
           "  process (server and client) while the receiver ran, of 2 on this machine\n");
    printf("%-26s %8s %7s %7s %6s %5s %9s %6s\n", "measure", "deliv/s", "p50 ms", "p99 ms",
           "d/sync", "cpus", "append/s", "ratio");
    snprintf(label, sizeof label, "event-driven, %d threads", RK_CONFIG_DEFAULT_THREADS);
    bench_server(label, 0, RK_CONFIG_DEFAULT_THREADS, per, profile);
    if (!profile) {
        bench_server("event-driven, 2 threads", 0, 2, per, 0);
        bench_server("thread per connection", 1, 1, per, 0);
        /* the default again: the first and last rows show how much the machine drifted */
        bench_server(label, 0, RK_CONFIG_DEFAULT_THREADS, per, 0);
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", workdir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench: cannot remove %s\n", workdir);
    return 0;
}
