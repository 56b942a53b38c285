/* replay_common.c - helpers of the replay, timeline and diff commands. */
#include <stdio.h>
#include <string.h>

#include "reckon.h"
#include "replay_common.h"

int rk_tool_point(const char *cmd, const char *opt, const char *seq_text,
                  const char *time_text, rk_replay_point *pt)
{
    unsigned long long n;
    int64_t t;

    pt->at = UINT64_MAX;
    pt->as_of = INT64_MAX;
    if (seq_text != NULL) {
        if (rk_parse_u64(seq_text, &n) != 0 || n == UINT64_MAX) {
            rk_tool_error(cmd, "%s '%s' is not a sequence number", opt, seq_text);
            return -1;
        }
        pt->at = n;
    }
    if (time_text != NULL) {
        if (rk_time_parse(time_text, &t) != RK_OK) {
            rk_tool_error(cmd, "'%s' is not an RFC 3339 time", time_text);
            return -1;
        }
        pt->as_of = t;
    }
    return 0;
}

int rk_tool_replay_args_parse(const char *cmd, int argc, char **argv, int need_ref,
                              rk_tool_replay_args *a)
{
    const char *at = NULL, *as_of = NULL;
    int i, r;

    a->db = NULL;
    a->ref = NULL;
    a->format = "json";
    for (i = 1; i < argc; i++) {
        if ((r = rk_opt_value(cmd, argc, argv, &i, "--db", &a->db)) != 0 ||
            (r = rk_opt_value(cmd, argc, argv, &i, "--at", &at)) != 0 ||
            (r = rk_opt_value(cmd, argc, argv, &i, "--as-of", &as_of)) != 0 ||
            (r = rk_opt_value(cmd, argc, argv, &i, "--ref", &a->ref)) != 0 ||
            (r = rk_opt_value(cmd, argc, argv, &i, "--format", &a->format)) != 0) {
            if (r < 0)
                return -1;
            continue;
        }
        rk_tool_error(cmd, "unknown option '%s'", argv[i]);
        return -1;
    }
    if (a->db == NULL || (need_ref && a->ref == NULL))
        return -1;
    if (at != NULL && as_of != NULL) {
        rk_tool_error(cmd, "give --at or --as-of, not both");
        return -1;
    }
    if (strcmp(a->format, "json") != 0 && strcmp(a->format, "table") != 0) {
        rk_tool_error(cmd, "'%s' is not a format (json, table)", a->format);
        return -1;
    }
    return rk_tool_point(cmd, "--at", at, as_of, &a->pt);
}

int rk_tool_replay_main(const char *cmd, int argc, char **argv, int need_ref, int json_lines,
                        int (*usage)(void), rk_tool_replay_fn run, rk_tool_table_fn table)
{
    char err[RK_ERROR_SIZE] = "";
    rk_tool_replay_args a;
    rk_ledger *l = NULL;
    rk_buf out = RK_BUF_INIT;
    int ret;
    rk_err rc;

    if (rk_tool_replay_args_parse(cmd, argc, argv, need_ref, &a) != 0)
        return usage();
    rc = rk_ledger_open(a.db, RK_LEDGER_READONLY, &l, err);
    if (rc == RK_OK)
        rc = run(l, &a, &out, err);
    if (rc == RK_OK && strcmp(a.format, "table") == 0) {
        ret = table(&out, err) == 0 ? RK_EXIT_OK : rk_tool_fail(cmd, RK_ERR_INVALID, err);
    } else if (rc == RK_OK && json_lines) {
        fwrite(out.data, 1, out.len, stdout);
        ret = RK_EXIT_OK;
    } else {
        ret = rk_tool_print_json(cmd, rc, err, &out);
    }
    rk_ledger_close(l);
    rk_buf_free(&out);
    return ret;
}

int rk_tool_print_json(const char *cmd, rk_err rc, const char *err, const rk_buf *out)
{
    if (rc != RK_OK)
        return rk_tool_fail(cmd, rc, err);
    fwrite(out->data, 1, out->len, stdout);
    fputc('\n', stdout);
    return RK_EXIT_OK;
}
