/*
 * cmd_timeline.c - reckon timeline: every record that touched one payment,
 * with its state before and after (formats/replay.md "Timeline").
 *
 *   reckon timeline --db DIR --ref REF [--at SEQ | --as-of TIME]
 *                   [--format json|table]
 *
 * Exit codes: 0 printed; 2 usage, an unknown reference, a storage error.
 */
#include <stdio.h>
#include <string.h>

#include <cJSON.h>

#include "canon.h"
#include "ledger.h"
#include "reckon.h"
#include "replay.h"
#include "replay_common.h"

static int usage(void)
{
    fprintf(stderr, "usage: reckon timeline --db DIR --ref REF [--at SEQ | --as-of TIME] "
                    "[--format json|table]\n");
    return RK_EXIT_USAGE;
}

static const char *state_word(const cJSON *s)
{
    const cJSON *pv = cJSON_GetObjectItemCaseSensitive(s, "provider");
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(pv, "state");

    if (cJSON_IsNull(s) || s == NULL)
        return "(none)";
    return cJSON_IsString(st) ? st->valuestring : "-";
}

/* seq, kind, recorded-at, provider state before -> after, changed members. */
static int print_table(const rk_buf *lines, char *err)
{
    size_t start = 0, i;

    printf("%-8s %-16s %-30s %-33s %s\n", "SEQ", "KIND", "RECORDED_AT", "STATE", "CHANGED");
    for (i = 0; i < lines->len; i++) {
        cJSON *o = NULL;
        const cJSON *c, *n;
        char states[80];
        int first = 1;

        if (lines->data[i] != '\n')
            continue;
        if (rk_json_parse((const char *)lines->data + start, i - start, &o, err) != RK_OK)
            return -1;
        start = i + 1;
        snprintf(states, sizeof states, "%s -> %s",
                 state_word(cJSON_GetObjectItemCaseSensitive(o, "before")),
                 state_word(cJSON_GetObjectItemCaseSensitive(o, "after")));
        printf("%-8.0f %-16s %-30s %-33s ",
               cJSON_GetObjectItemCaseSensitive(o, "seq")->valuedouble,
               cJSON_GetObjectItemCaseSensitive(o, "kind")->valuestring,
               cJSON_GetObjectItemCaseSensitive(o, "recorded_at")->valuestring, states);
        c = cJSON_GetObjectItemCaseSensitive(o, "changed");
        cJSON_ArrayForEach(n, c)
        {
            printf("%s%s", first ? "" : ",", n->valuestring);
            first = 0;
        }
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "duplicate")))
            printf("%sduplicate", first ? "" : " ");
        else if (first)
            printf("-");
        printf("\n");
        cJSON_Delete(o);
    }
    return 0;
}

int cmd_timeline(int argc, char **argv)
{
    const char *db = NULL, *at = NULL, *as_of = NULL, *ref = NULL, *format = "json";
    char err[RK_ERROR_SIZE] = "";
    rk_replay_point pt;
    rk_ledger *l = NULL;
    rk_buf out = RK_BUF_INIT;
    int i, r, ret;
    rk_err rc;

    for (i = 1; i < argc; i++) {
        if ((r = rk_opt_value("timeline", argc, argv, &i, "--db", &db)) != 0 ||
            (r = rk_opt_value("timeline", argc, argv, &i, "--at", &at)) != 0 ||
            (r = rk_opt_value("timeline", argc, argv, &i, "--as-of", &as_of)) != 0 ||
            (r = rk_opt_value("timeline", argc, argv, &i, "--ref", &ref)) != 0 ||
            (r = rk_opt_value("timeline", argc, argv, &i, "--format", &format)) != 0) {
            if (r < 0)
                return usage();
            continue;
        }
        rk_tool_error("timeline", "unknown option '%s'", argv[i]);
        return usage();
    }
    if (db == NULL || ref == NULL)
        return usage();
    if (at != NULL && as_of != NULL) {
        rk_tool_error("timeline", "give --at or --as-of, not both");
        return usage();
    }
    if (strcmp(format, "json") != 0 && strcmp(format, "table") != 0) {
        rk_tool_error("timeline", "'%s' is not a format (json, table)", format);
        return usage();
    }
    if (rk_tool_point("timeline", "--at", at, as_of, &pt) != 0)
        return usage();
    rc = rk_ledger_open(db, RK_LEDGER_READONLY, &l, err);
    if (rc == RK_OK)
        rc = rk_replay_timeline(l, ref, &pt, &out, err);
    if (rc != RK_OK) {
        ret = rk_tool_fail("timeline", rc, err);
    } else if (strcmp(format, "table") == 0) {
        ret = print_table(&out, err) == 0 ? RK_EXIT_OK
                                          : rk_tool_fail("timeline", RK_ERR_INVALID, err);
    } else {
        fwrite(out.data, 1, out.len, stdout);
        ret = RK_EXIT_OK;
    }
    rk_ledger_close(l);
    rk_buf_free(&out);
    return ret;
}
