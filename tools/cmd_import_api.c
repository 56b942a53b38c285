/*
 * cmd_import_api.c - reckon import api-read: record a provider API read
 * (a poll response saved to a file) as evidence, with the provider events
 * it maps to (formats/adapters.md, "API reads").
 *
 * Exit codes: 0 recorded, every item mapped; 1 recorded, but some item could
 * not be mapped (it is in the api_read record with its reason); 2 usage,
 * I/O error, or a file that is not the provider's JSON (nothing recorded).
 */
#include <stdio.h>
#include <string.h>

#include "adapt.h"
#include "ledger.h"
#include "reckon.h"

#define CMD "import api-read"

static int usage(void)
{
    fprintf(stderr, "usage: reckon import api-read --db DIR --provider PROVIDER FILE\n"
                    "       PROVIDER: coinbase-commerce, btcpay, nowpayments, generic\n");
    return RK_EXIT_USAGE;
}

int cmd_import_api_read(int argc, char **argv)
{
    const char *db = NULL, *provider = NULL, *file = NULL;
    char err[RK_ERROR_SIZE] = "";
    rk_buf in = RK_BUF_INIT;
    rk_adapt_api_summary sum;
    rk_ledger *l = NULL;
    int i, r, ret = RK_EXIT_USAGE;
    rk_err rc;

    for (i = 1; i < argc; i++) {
        r = rk_opt_value(CMD, argc, argv, &i, "--db", &db);
        if (r == 0)
            r = rk_opt_value(CMD, argc, argv, &i, "--provider", &provider);
        if (r < 0)
            return usage();
        if (r > 0)
            continue;
        if (argv[i][0] == '-' && argv[i][1] != '\0') {
            rk_tool_error(CMD, "unknown option '%s'", argv[i]);
            return usage();
        }
        if (file != NULL) {
            rk_tool_error(CMD, "one FILE only");
            return usage();
        }
        file = argv[i];
    }
    if (db == NULL || provider == NULL || file == NULL)
        return usage();
    if (!rk_adapt_known(provider)) {
        rk_tool_error(CMD, "'%s' is not a provider with an adapter", provider);
        return usage();
    }
    rc = rk_buf_read_file(&in, file, RK_RAW_MAX, err);
    if (rc != RK_OK) {
        ret = rk_tool_fail(CMD, rc, err);
        goto out;
    }
    rc = rk_ledger_open(db, 0, &l, err);
    if (rc != RK_OK) {
        ret = rk_tool_fail(CMD, rc, err);
        goto out;
    }
    rc = rk_adapt_record_api_read(l, provider, in.data, in.len, &sum, err);
    if (rc != RK_OK) {
        rk_tool_error(CMD, "'%s': %s", file, err[0] != '\0' ? err : rk_strerror(rc));
        ret = RK_EXIT_USAGE;
        goto out;
    }
    printf("api-read: %zu items, %zu new events, %zu unchanged, %zu unmapped\n", sum.items,
           sum.added, sum.unchanged, sum.unmapped);
    ret = sum.unmapped > 0 ? RK_EXIT_PROBLEM : RK_EXIT_OK;
out:
    rk_ledger_close(l);
    rk_buf_free(&in);
    return ret;
}
