/* cmd_init.c - reckon init: create a ledger with its genesis record. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ledger.h"
#include "reckon.h"

static int usage(void)
{
    fprintf(stderr, "usage: reckon init --db DIR [--origin NAME]\n");
    return RK_EXIT_USAGE;
}

int cmd_init(int argc, char **argv)
{
    const char *db = NULL, *origin = "reckon/ledger";
    char err[RK_ERROR_SIZE] = "";
    struct timespec ts;
    int i, r;
    rk_err rc;

    for (i = 1; i < argc; i++) {
        if ((r = rk_opt_value("init", argc, argv, &i, "--db", &db)) != 0 ||
            (r = rk_opt_value("init", argc, argv, &i, "--origin", &origin)) != 0) {
            if (r < 0)
                return usage();
            continue;
        }
        rk_tool_error("init", "unknown option '%s'", argv[i]);
        return usage();
    }
    if (db == NULL)
        return usage();
    clock_gettime(CLOCK_REALTIME, &ts);
    rc = rk_ledger_create(db, origin, (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec, err);
    if (rc != RK_OK)
        return rk_tool_fail("init", rc, err);
    printf("initialized ledger '%s' (origin %s)\n", db, origin);
    return RK_EXIT_OK;
}
