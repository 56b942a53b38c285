/*
 * bench_serve.c - the webhook receiver in-process on loopback: 64
 * concurrent keep-alive connections post signed deliveries, each answered
 * only after its records are durable.  Printed beside the ledger's raw
 * durable append rate for the same records (one delivery per
 * rk_ledger_append call, 64 threads) measured in the same run, with the
 * ratio.  Both libmicrohttpd threading models are measured.  Asserts
 * nothing.
 *
 *   bench_serve [--quick]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

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

/* The bench's adapter: event key from the body's position, fixed event body. */
static rk_err bench_adapt(const char *provider, const uint8_t *body, size_t len,
                          rk_adapt_event *ev, char *err)
{
    const char *p = memmem(body, len, "\"id\":\"", 6), *q;

    (void)provider;
    if (p == NULL || (q = memchr(p + 6, '"', len - (size_t)(p + 6 - (const char *)body))) == NULL)
        return rk_seterr(err, RK_ERR_NOTFOUND, "no id");
    snprintf(ev->event_key, sizeof ev->event_key, "coinbase:%.*s", (int)(q - p - 6), p + 6);
    snprintf(ev->ref, sizeof ev->ref, "ORDER");
    return rk_buf_printf(&ev->body, "{\"event_id\":\"%.*s\",\"v\":1}", (int)(q - p - 6), p + 6);
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

static void *client(void *arg)
{
    struct job *j = arg;
    struct sockaddr_in a;
    rk_sig_params p;
    rk_sig_secret s = { (const uint8_t *)SECRET, sizeof SECRET - 1 };
    rk_buf h = RK_BUF_INIT;
    char body[2048], req[4096], resp[4096];
    size_t bl, rl, got;
    ssize_t n;
    int fd, i, one = 1;
    double t0;
    char *end, *cl;

    if (rk_sig_scheme_parse("coinbase-commerce", &p, NULL) != RK_OK)
        die("scheme", NULL);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
        die("connect", NULL);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    for (i = 0; i < j->n; i++) {
        bl = make_body(body, sizeof body, j->id, i);
        rk_buf_reset(&h);
        if (rk_sig_sign(&p, &s, NULL, 0, (const uint8_t *)body, bl, &h, NULL) != RK_OK)
            die("sign", NULL);
        h.data[h.len - 1] = '\0'; /* drop the line's newline */
        rl = (size_t)snprintf(req, sizeof req, "POST /webhooks/cb HTTP/1.1\r\nHost: b\r\n"
                              "%s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                              (char *)h.data, bl, body);
        t0 = now();
        if (send(fd, req, rl, MSG_NOSIGNAL) != (ssize_t)rl)
            die("send", NULL);
        got = 0;
        for (;;) {
            n = recv(fd, resp + got, sizeof resp - 1 - got, 0);
            if (n <= 0)
                die("recv", NULL);
            got += (size_t)n;
            resp[got] = '\0';
            end = strstr(resp, "\r\n\r\n");
            cl = strstr(resp, "Content-Length: ");
            if (end != NULL && cl != NULL &&
                got >= (size_t)(end + 4 - resp) + strtoul(cl + 16, NULL, 10))
                break;
        }
        j->lat[i] = now() - t0;
        if (strncmp(resp, "HTTP/1.1 200", 12) != 0)
            die("response", resp);
    }
    close(fd);
    rk_buf_free(&h);
    return NULL;
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

static double run_threads(void *(*fn)(void *), int per, double *p50, double *p99)
{
    pthread_t th[CONNS];
    struct job jobs[CONNS];
    double *all = calloc((size_t)CONNS * (size_t)per, sizeof *all), t;
    int i;

    t = now();
    for (i = 0; i < CONNS; i++) {
        jobs[i].id = i;
        jobs[i].n = per;
        jobs[i].lat = all + (size_t)i * (size_t)per;
        pthread_create(&th[i], NULL, fn, &jobs[i]);
    }
    for (i = 0; i < CONNS; i++)
        pthread_join(th[i], NULL);
    t = now() - t;
    if (p50 != NULL) {
        qsort(all, (size_t)CONNS * (size_t)per, sizeof *all, cmp_double);
        *p50 = all[(size_t)CONNS * (size_t)per / 2];
        *p99 = all[(size_t)CONNS * (size_t)per * 99 / 100];
    }
    free(all);
    return CONNS * per / t;
}

static double bench_server(const char *label, int tpc, unsigned threads, int per, double base)
{
    char text[1024], p[4200], err[RK_ERROR_SIZE] = "", name[64];
    rk_config *cfg = NULL;
    rk_server *s = NULL;
    rk_serve_opts o;
    double rate, p50, p99;
    FILE *f;

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
    snprintf(name, sizeof name, "srv-%s-%u", tpc ? "tpc" : "pool", threads);
    ledger = fresh_ledger(name);
    memset(&o, 0, sizeof o);
    o.clock = wall;
    o.adapt = bench_adapt;
    if (rk_serve_start(ledger, cfg, &o, &s, err) != RK_OK)
        die("serve", err);
    port = rk_serve_port(s);
    rate = run_threads(client, per, &p50, &p99);
    rk_serve_free(s);
    rk_ledger_close(ledger);
    rk_config_free(cfg);
    printf("%-36s %10.0f %8.2f %8.2f %10.0f %7.2f\n", label, rate, p50 * 1e3, p99 * 1e3, base,
           rate / base);
    return rate;
}

int main(int argc, char **argv)
{
    const char *tmp = getenv("TMPDIR");
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0, per = quick ? 10 : 60;
    char cmd[4200], label[64];
    double base;

    snprintf(workdir, sizeof workdir, "%s/reckon-bench-serve-XXXXXX",
             tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    if (mkdtemp(workdir) == NULL)
        die("mkdtemp", workdir);
    per_conn = per;
    ledger = fresh_ledger("raw");
    base = run_threads(raw_appender, per, NULL, NULL);
    rk_ledger_close(ledger);
    printf("receiver benchmark: %d keep-alive connections x %d signed deliveries, durable 2xx\n",
           CONNS, per);
    printf("baseline: rk_ledger_append of the same records, one delivery per call, %d threads\n",
           CONNS);
    printf("%-36s %10s %8s %8s %10s %7s\n", "measure", "deliv/s", "p50 ms", "p99 ms",
           "append/s", "ratio");
    bench_server("thread per connection", 1, 1, per, base);
    snprintf(label, sizeof label, "thread pool of %d", RK_CONFIG_DEFAULT_THREADS);
    bench_server(label, 0, RK_CONFIG_DEFAULT_THREADS, per, base);
    bench_server("thread pool of 16", 0, 16, per, base);
    bench_server("thread pool of 64", 0, 64, per, base);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", workdir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench: cannot remove %s\n", workdir);
    return 0;
}
