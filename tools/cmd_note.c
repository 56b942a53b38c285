/*
 * cmd_note.c - reckon note: record an operator note about a reference.
 *
 *   reckon note --db DIR --ref REF --author WHO TEXT    (TEXT "-": stdin)
 *
 * Prints the record's sequence number.  Exit codes: 0 recorded, 2 usage or
 * I/O error.
 */
#include <stdio.h>
#include <string.h>

#include "bytes.h"
#include "ledger.h"
#include "opnote.h"
#include "reckon.h"

#define CMD "note"

static int usage(void)
{
    fprintf(stderr, "usage: reckon note --db DIR --ref REF --author WHO TEXT|-\n");
    return RK_EXIT_USAGE;
}

int cmd_note(int argc, char **argv)
{
    const char *db = NULL, *ref = NULL, *author = NULL, *text = NULL;
    char err[RK_ERROR_SIZE] = "";
    rk_buf in = RK_BUF_INIT, check = RK_BUF_INIT;
    rk_ledger *l = NULL;
    uint64_t seq = 0;
    int i, r, ret = RK_EXIT_OK;
    rk_err rc;

    for (i = 1; i < argc; i++) {
        if ((r = rk_opt_value(CMD, argc, argv, &i, "--db", &db)) != 0 ||
            (r = rk_opt_value(CMD, argc, argv, &i, "--ref", &ref)) != 0 ||
            (r = rk_opt_value(CMD, argc, argv, &i, "--author", &author)) != 0) {
            if (r < 0)
                return usage();
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1] == '-') {
            rk_tool_error(CMD, "unknown option '%s'", argv[i]);
            return usage();
        }
        if (text != NULL)
            return usage();
        text = argv[i];
    }
    if (db == NULL || ref == NULL || author == NULL || text == NULL)
        return usage();
    if (strcmp(text, "-") == 0) {
        rc = rk_buf_read_file(&in, "-", RK_OPNOTE_TEXT_MAX, err);
        if (rc != RK_OK) {
            ret = rk_tool_fail(CMD, rc, err);
            goto out;
        }
        if (memchr(in.data, '\0', in.len) != NULL) {
            rk_tool_error(CMD, "note text contains a NUL byte");
            ret = RK_EXIT_USAGE;
            goto out;
        }
        text = (const char *)in.data;
    }
    /* validate before opening, so a bad note never touches the ledger */
    rc = rk_opnote_body(author, ref, text, "cli", NULL, &check, err);
    rk_buf_free(&check);
    if (rc == RK_OK)
        rc = rk_ledger_open(db, 0, &l, err);
    if (rc == RK_OK)
        rc = rk_opnote_append(l, author, ref, text, "cli", NULL, &seq, err);
    if (rc != RK_OK) {
        ret = rk_tool_fail(CMD, rc, err);
        goto out;
    }
    printf("%llu\n", (unsigned long long)seq);
out:
    rk_ledger_close(l);
    rk_buf_free(&in);
    return ret;
}
