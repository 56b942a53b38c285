/*
 * cmd_import_rows.c - reckon import commerce | finance: append the rows of
 * a shop or accounting export (formats/import.md).
 *
 * Exit codes: 0 every row is good (imported or already there); 1 bad rows
 * (nothing imported, or with --skip-bad the good rows imported and the bad
 * ones listed); 2 usage or I/O error.
 */
#include <stdio.h>
#include <string.h>

#include "import.h"
#include "ledger.h"
#include "reckon.h"

static int usage(const char *what)
{
    fprintf(stderr, "usage: reckon import %s --db DIR [--format csv|jsonl|json] "
                    "[--skip-bad] FILE\n", what);
    return RK_EXIT_USAGE;
}

static const char *plural(size_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

static void summary(const rk_import_result *res, int imported)
{
    if (!imported && res->rows == 0 && res->bad == 0) {
        printf("import: nothing imported\n"); /* the file itself is at fault */
        return;
    }
    printf("import: %zu %s", res->rows, plural(res->rows, "row", "rows"));
    if (!imported) {
        printf(", %zu bad, nothing imported\n", res->bad);
        return;
    }
    printf(", %zu new, %zu unchanged, %zu %s", res->fresh, res->unchanged,
           res->corrections, plural(res->corrections, "correction", "corrections"));
    if (res->bad > 0)
        printf(", %zu skipped", res->bad);
    putchar('\n');
}

static int import_rows(rk_import_kind kind, const char *what, int argc, char **argv)
{
    const char *db = NULL, *format = NULL, *file = NULL;
    char err[RK_ERROR_SIZE] = "";
    rk_import_result res = RK_IMPORT_RESULT_INIT;
    rk_import_opts o;
    rk_ledger *l = NULL;
    size_t i;
    int a, r, ret;
    rk_err rc;

    memset(&o, 0, sizeof o);
    o.kind = kind;
    for (a = 1; a < argc; a++) {
        if ((r = rk_opt_value("import", argc, argv, &a, "--db", &db)) != 0 ||
            (r = rk_opt_value("import", argc, argv, &a, "--format", &format)) != 0) {
            if (r < 0)
                return usage(what);
            continue;
        }
        if (strcmp(argv[a], "--skip-bad") == 0) {
            o.skip_bad = 1;
        } else if (argv[a][0] == '-' && argv[a][1] != '\0') {
            rk_tool_error("import", "unknown option '%s'", argv[a]);
            return usage(what);
        } else if (file == NULL) {
            file = argv[a];
        } else {
            rk_tool_error("import", "one file at a time ('%s' and '%s')", file, argv[a]);
            return usage(what);
        }
    }
    if (db == NULL || file == NULL)
        return usage(what);
    if (format != NULL && rk_import_format_parse(format, &o.format) != RK_OK) {
        rk_tool_error("import", "'%s' is not a format (csv, jsonl, json)", format);
        return usage(what);
    }
    if (o.format == RK_IMPORT_AUTO && strcmp(file, "-") == 0) {
        rk_tool_error("import", "reading standard input needs --format");
        return usage(what);
    }
    rc = rk_ledger_open(db, 0, &l, err);
    if (rc != RK_OK)
        return rk_tool_fail("import", rc, err);
    rc = rk_import_file(l, &o, file, &res, err);
    for (i = 0; i < res.nmessages; i++)
        rk_tool_error("import", "%s", res.messages[i]);
    if (rc == RK_OK) {
        summary(&res, 1);
        ret = res.bad > 0 ? RK_EXIT_PROBLEM : RK_EXIT_OK;
    } else if (rc == RK_ERR_INVALID && res.nmessages > 0) {
        summary(&res, 0);
        ret = RK_EXIT_PROBLEM;
    } else {
        ret = rk_tool_fail("import", rc, err);
    }
    rk_import_result_free(&res);
    rk_ledger_close(l);
    return ret;
}

int cmd_import_commerce(int argc, char **argv)
{
    return import_rows(RK_IMPORT_COMMERCE, "commerce", argc, argv);
}

int cmd_import_finance(int argc, char **argv)
{
    return import_rows(RK_IMPORT_FINANCE, "finance", argc, argv);
}
