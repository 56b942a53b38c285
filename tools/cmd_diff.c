/*
 * cmd_diff.c - reckon diff: what changed in the three-plane state between
 * two points (formats/replay.md "Diff").
 *
 *   reckon diff --db DIR --from A --to B
 *
 * A and B are sequence numbers or RFC 3339 times (recorded-at), A before B.
 * Exit codes: 0 printed; 2 usage, a point beyond the ledger, a storage error.
 */
#include <stdio.h>
#include <string.h>

#include "ledger.h"
#include "reckon.h"
#include "replay.h"
#include "replay_common.h"

static int usage(void)
{
    fprintf(stderr, "usage: reckon diff --db DIR --from SEQ|TIME --to SEQ|TIME\n");
    return RK_EXIT_USAGE;
}

/* A sequence number is all digits; anything else is read as a time. */
static int point_of(const char *opt, const char *text, rk_replay_point *pt)
{
    size_t i;

    for (i = 0; text[i] >= '0' && text[i] <= '9'; i++)
        ;
    if (i > 0 && text[i] == '\0')
        return rk_tool_point("diff", opt, text, NULL, pt);
    return rk_tool_point("diff", opt, NULL, text, pt);
}

int cmd_diff(int argc, char **argv)
{
    const char *db = NULL, *from = NULL, *to = NULL;
    char err[RK_ERROR_SIZE] = "";
    rk_replay_point a, b;
    rk_ledger *l = NULL;
    rk_buf out = RK_BUF_INIT;
    int i, r, ret;
    rk_err rc;

    for (i = 1; i < argc; i++) {
        if ((r = rk_opt_value("diff", argc, argv, &i, "--db", &db)) != 0 ||
            (r = rk_opt_value("diff", argc, argv, &i, "--from", &from)) != 0 ||
            (r = rk_opt_value("diff", argc, argv, &i, "--to", &to)) != 0) {
            if (r < 0)
                return usage();
            continue;
        }
        rk_tool_error("diff", "unknown option '%s'", argv[i]);
        return usage();
    }
    if (db == NULL || from == NULL || to == NULL)
        return usage();
    if (point_of("--from", from, &a) != 0 || point_of("--to", to, &b) != 0)
        return usage();
    rc = rk_ledger_open(db, RK_LEDGER_READONLY, &l, err);
    if (rc == RK_OK)
        rc = rk_replay_diff(l, &a, &b, &out, err);
    ret = rk_tool_print_json("diff", rc, err, &out);
    rk_ledger_close(l);
    rk_buf_free(&out);
    return ret;
}
