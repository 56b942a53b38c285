/* cmd_checkpoint.c - reckon checkpoint: sign, print and record a checkpoint. */
#include <stdio.h>

#include "ledger.h"
#include "note.h"
#include "reckon.h"

static int usage(void)
{
    fprintf(stderr, "usage: reckon checkpoint --db DIR --key FILE [--out FILE]\n");
    return RK_EXIT_USAGE;
}

int cmd_checkpoint(int argc, char **argv)
{
    const char *db = NULL, *key = NULL, *outp = NULL;
    char err[RK_ERROR_SIZE] = "";
    rk_signer *s = NULL;
    rk_ledger *l = NULL;
    rk_buf note = RK_BUF_INIT;
    uint64_t seq = 0;
    FILE *f;
    int i, r, ret = RK_EXIT_OK;
    rk_err rc;

    for (i = 1; i < argc; i++) {
        if ((r = rk_opt_value("checkpoint", argc, argv, &i, "--db", &db)) != 0 ||
            (r = rk_opt_value("checkpoint", argc, argv, &i, "--key", &key)) != 0 ||
            (r = rk_opt_value("checkpoint", argc, argv, &i, "--out", &outp)) != 0) {
            if (r < 0)
                return usage();
            continue;
        }
        rk_tool_error("checkpoint", "unknown option '%s'", argv[i]);
        return usage();
    }
    if (db == NULL || key == NULL)
        return usage();
    rc = rk_signer_load(key, &s, err);
    if (rc == RK_OK)
        rc = rk_ledger_open(db, 0, &l, err);
    if (rc == RK_OK)
        rc = rk_ledger_checkpoint(l, s, &note, &seq, err);
    if (rc != RK_OK) {
        ret = rk_tool_fail("checkpoint", rc, err);
        goto out;
    }
    fwrite(note.data, 1, note.len, stdout);
    if (outp != NULL) {
        f = fopen(outp, "wb");
        if (f == NULL || fwrite(note.data, 1, note.len, f) != note.len) {
            rk_tool_error("checkpoint", "cannot write '%s'", outp);
            ret = RK_EXIT_USAGE;
        }
        if (f != NULL && fclose(f) != 0)
            ret = RK_EXIT_USAGE;
    }
    fprintf(stderr, "reckon checkpoint: recorded at seq %llu\n", (unsigned long long)seq);
out:
    rk_ledger_close(l);
    rk_signer_free(s);
    rk_buf_free(&note);
    return ret;
}
