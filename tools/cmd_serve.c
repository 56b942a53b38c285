/*
 * cmd_serve.c - reckon serve: run the webhook receiver until SIGTERM or
 * SIGINT, then stop gracefully (in-flight requests finish, the pending
 * delivery summary and a final checkpoint are written, the ledger is
 * closed).
 *
 * Exit codes: 0 after a clean stop, 2 for usage, configuration or I/O
 * errors (including a failure of the final writes).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <pthread.h>

#include "config.h"
#include "ledger.h"
#include "reckon.h"
#include "serve.h"

#define CMD "serve"

static int usage(void)
{
    fprintf(stderr, "usage: reckon serve --db DIR --config FILE\n");
    return RK_EXIT_USAGE;
}

static int64_t wall_clock(void *ctx)
{
    struct timespec ts;

    (void)ctx;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void log_line(void *ctx, const char *line)
{
    char when[RK_TIME_STR_MAX];

    (void)ctx;
    rk_time_format(wall_clock(NULL), when);
    fprintf(stderr, "%s reckon serve: %s\n", when, line);
}

int cmd_serve(int argc, char **argv)
{
    const char *db = NULL, *cfgpath = NULL;
    char err[RK_ERROR_SIZE] = "";
    rk_config *cfg = NULL;
    rk_ledger *l = NULL;
    rk_server *s = NULL;
    rk_serve_opts o;
    sigset_t set;
    int i, r, sig = 0, ret = RK_EXIT_OK;
    rk_err rc;

    for (i = 1; i < argc; i++) {
        if ((r = rk_opt_value(CMD, argc, argv, &i, "--db", &db)) != 0 ||
            (r = rk_opt_value(CMD, argc, argv, &i, "--config", &cfgpath)) != 0) {
            if (r < 0)
                return usage();
            continue;
        }
        rk_tool_error(CMD, "unknown option '%s'", argv[i]);
        return usage();
    }
    if (db == NULL || cfgpath == NULL)
        return usage();
    /* every thread the server starts inherits this mask: signals come to sigwait */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    rc = rk_config_load(cfgpath, &cfg, err);
    if (rc == RK_OK)
        rc = rk_ledger_open(db, 0, &l, err);
    if (rc != RK_OK) {
        ret = rk_tool_fail(CMD, rc, err);
        goto out;
    }
    memset(&o, 0, sizeof o);
    o.clock = wall_clock;
    o.log = log_line;
    rc = rk_serve_start(l, cfg, &o, &s, err);
    if (rc != RK_OK) {
        ret = rk_tool_fail(CMD, rc, err);
        goto out;
    }
    printf("reckon serve: listening on http://%s\n", rk_serve_address(s));
    fflush(stdout);
    while (sigwait(&set, &sig) != 0)
        ;
    fprintf(stderr, "reckon serve: %s, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    rc = rk_serve_stop(s, err);
    if (rc != RK_OK)
        ret = rk_tool_fail(CMD, rc, err);
out:
    rk_serve_free(s);
    rk_ledger_close(l);
    rk_config_free(cfg);
    if (ret == RK_EXIT_OK)
        fprintf(stderr, "reckon serve: stopped cleanly\n");
    return ret;
}
