/*
 * cmd_verify.c - reckon verify: check a whole ledger.
 * Exit 0 intact, 1 one line per problem, 2 usage or I/O error.
 */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "bytes.h"
#include "note.h"
#include "reckon.h"
#include "verify.h"

static int usage(void)
{
    fprintf(stderr, "usage: reckon verify --db DIR [--pubkey FILE] "
                    "[--trusted CHECKPOINT_FILE]\n");
    return RK_EXIT_USAGE;
}

static void on_problem(void *ctx, const rk_problem *p)
{
    (void)ctx;
    if (p->seq == RK_VERIFY_NO_SEQ)
        printf("ledger: %s: %s\n", rk_damage_name(p->damage), p->what);
    else
        printf("seq %llu: %s: %s\n", (unsigned long long)p->seq,
               rk_damage_name(p->damage), p->what);
}

static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
    (void)ctx;
    fprintf(stderr, "\rverifying: %llu / %llu records", (unsigned long long)done,
            (unsigned long long)total);
}

static double now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int cmd_verify(int argc, char **argv)
{
    const char *db = NULL, *pub = NULL, *trusted = NULL;
    char err[RK_ERROR_SIZE] = "", hex[2 * RK_HASH_SIZE + 1];
    rk_verifier *v = NULL;
    rk_buf tbuf = RK_BUF_INIT;
    rk_verify_opts opts = { 0 };
    rk_verify_summary sum;
    double t0;
    int i, r, ret;
    rk_err rc = RK_OK;

    for (i = 1; i < argc; i++) {
        if ((r = rk_opt_value("verify", argc, argv, &i, "--db", &db)) != 0 ||
            (r = rk_opt_value("verify", argc, argv, &i, "--pubkey", &pub)) != 0 ||
            (r = rk_opt_value("verify", argc, argv, &i, "--trusted", &trusted)) != 0) {
            if (r < 0)
                return usage();
            continue;
        }
        rk_tool_error("verify", "unknown option '%s'", argv[i]);
        return usage();
    }
    if (db == NULL)
        return usage();
    if (pub != NULL)
        rc = rk_verifier_load(pub, &v, err);
    if (rc == RK_OK && trusted != NULL)
        rc = rk_buf_read_file(&tbuf, trusted, 1 << 20, err);
    if (rc != RK_OK) {
        ret = rk_tool_fail("verify", rc, err);
        goto out;
    }
    opts.pubkey = v;
    opts.trusted = trusted != NULL ? (const char *)tbuf.data : NULL;
    opts.trusted_len = tbuf.len;
    opts.on_problem = on_problem;
    opts.on_progress = isatty(2) ? on_progress : NULL;
    t0 = now_seconds();
    rc = rk_verify_ledger(db, &opts, &sum, err);
    if (opts.on_progress != NULL)
        fprintf(stderr, "\r\033[K");
    if (rc != RK_OK && rc != RK_ERR_CORRUPT) {
        ret = rk_tool_fail("verify", rc, err);
        goto out;
    }
    rk_hex_encode(hex, sum.root, RK_HASH_SIZE);
    printf("verify: %llu records, %llu checkpoints (%s), %llu bytes, %.2f s, root %s: %s\n",
           (unsigned long long)sum.records, (unsigned long long)sum.checkpoints,
           v != NULL ? "signatures checked" : "signatures not checked: no --pubkey",
           (unsigned long long)sum.bytes, now_seconds() - t0, hex,
           rc == RK_OK ? "intact" : err);
    ret = rc == RK_OK ? RK_EXIT_OK : RK_EXIT_PROBLEM;
out:
    rk_verifier_free(v);
    rk_buf_free(&tbuf);
    return ret;
}
