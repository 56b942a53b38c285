/*
 * cmd_append.c - reckon append: append one record (a low-level command for
 * scripts and tests; the server and the importers append evidence with
 * their own meaning).
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <string.h>

#include "bytes.h"
#include "canon.h"
#include "ledger.h"
#include "reckon.h"

static int usage(void)
{
    fprintf(stderr, "usage: reckon append --db DIR --kind KIND [--ref REF] "
                    "[--raw FILE] [--event-key KEY] < BODY.json\n"
                    "       reckon append --db DIR --kind KIND [--ref REF] --lines "
                    "< BODIES.jsonl\n");
    return RK_EXIT_USAGE;
}

/*
 * --lines: one record per input line, each appended durably on its own and
 * its sequence number printed (and flushed) only once the append returned,
 * so a reader of our output knows exactly which lines were acknowledged.
 */
static int append_lines(rk_ledger *l, unsigned kind, const char *ref)
{
    char *line = NULL, err[RK_ERROR_SIZE] = "";
    size_t cap = 0;
    ssize_t n;
    unsigned long lineno = 0;
    rk_buf body = RK_BUF_INIT;
    rk_append_item item;
    int ret = RK_EXIT_OK;
    rk_err rc;

    while ((n = getline(&line, &cap, stdin)) > 0) {
        lineno++;
        if (line[n - 1] == '\n')
            line[--n] = '\0';
        if (n == 0)
            continue;
        rk_buf_reset(&body);
        rc = rk_canon_normalize(line, (size_t)n, &body, err);
        if (rc != RK_OK) {
            rk_tool_error("append", "stdin:%lu: %s", lineno, err);
            ret = RK_EXIT_USAGE;
            break;
        }
        memset(&item, 0, sizeof item);
        item.kind = kind;
        item.ref = ref;
        item.body = body.data;
        item.body_len = body.len;
        rc = rk_ledger_append(l, &item, 1, err);
        if (rc != RK_OK) {
            ret = rk_tool_fail("append", rc, err);
            break;
        }
        printf("%llu\n", (unsigned long long)item.seq);
        fflush(stdout);
    }
    free(line);
    rk_buf_free(&body);
    return ret;
}

int cmd_append(int argc, char **argv)
{
    const char *db = NULL, *kind = NULL, *ref = NULL, *raw = NULL, *ekey = NULL;
    char err[RK_ERROR_SIZE] = "";
    rk_buf in = RK_BUF_INIT, body = RK_BUF_INIT, rawb = RK_BUF_INIT;
    rk_ledger *l = NULL;
    rk_append_item item;
    rk_kind k;
    int i, r, ret = RK_EXIT_USAGE, lines = 0;
    rk_err rc;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--lines") == 0) {
            lines = 1;
            continue;
        }
        if ((r = rk_opt_value("append", argc, argv, &i, "--db", &db)) != 0 ||
            (r = rk_opt_value("append", argc, argv, &i, "--kind", &kind)) != 0 ||
            (r = rk_opt_value("append", argc, argv, &i, "--ref", &ref)) != 0 ||
            (r = rk_opt_value("append", argc, argv, &i, "--raw", &raw)) != 0 ||
            (r = rk_opt_value("append", argc, argv, &i, "--event-key", &ekey)) != 0) {
            if (r < 0)
                return usage();
            continue;
        }
        rk_tool_error("append", "unknown option '%s'", argv[i]);
        return usage();
    }
    if (db == NULL || kind == NULL)
        return usage();
    if (rk_kind_parse(kind, &k) != RK_OK || k == RK_KIND_GENESIS) {
        rk_tool_error("append", "'%s' is not a record kind that can be appended", kind);
        return RK_EXIT_USAGE;
    }
    if (lines) {
        if (raw != NULL || ekey != NULL) {
            rk_tool_error("append", "--lines takes no --raw or --event-key");
            return RK_EXIT_USAGE;
        }
        rc = rk_ledger_open(db, 0, &l, err);
        if (rc != RK_OK)
            return rk_tool_fail("append", rc, err);
        ret = append_lines(l, k, ref);
        rk_ledger_close(l);
        return ret;
    }
    rc = rk_buf_read_file(&in, "-", RK_BODY_MAX, err);
    if (rc == RK_OK)
        rc = rk_canon_normalize((const char *)in.data, in.len, &body, err);
    if (rc == RK_OK && raw != NULL)
        rc = rk_buf_read_file(&rawb, raw, RK_RAW_MAX, err);
    if (rc == RK_OK)
        rc = rk_ledger_open(db, 0, &l, err);
    if (rc != RK_OK) {
        ret = rk_tool_fail("append", rc, err);
        goto out;
    }
    memset(&item, 0, sizeof item);
    item.kind = k;
    item.ref = ref;
    item.body = body.data;
    item.body_len = body.len;
    item.raw = raw != NULL ? rawb.data : NULL;
    item.raw_len = raw != NULL ? rawb.len : 0;
    item.event_key = ekey;
    rc = rk_ledger_append(l, &item, 1, err);
    if (rc != RK_OK) {
        ret = rk_tool_fail("append", rc, err);
        goto out;
    }
    if (item.status == RK_ERR_EXISTS) {
        printf("%llu\n", (unsigned long long)item.seq);
        rk_tool_error("append", "event key '%s' already recorded at seq %llu", ekey,
                      (unsigned long long)item.seq);
        ret = RK_EXIT_PROBLEM;
        goto out;
    }
    printf("%llu\n", (unsigned long long)item.seq);
    ret = RK_EXIT_OK;
out:
    rk_ledger_close(l);
    rk_buf_free(&in);
    rk_buf_free(&body);
    rk_buf_free(&rawb);
    return ret;
}
