/*
 * cmd_replay.c - reckon replay: three-plane state as of a record or a time
 * (formats/replay.md).
 *
 *   reckon replay --db DIR [--at SEQ | --as-of TIME] [--ref REF]
 *                 [--format json|table]
 *
 * Exit codes: 0 printed; 2 usage, an unknown reference, a point beyond the
 * ledger, or a storage error.
 */
#include <stdio.h>

#include <cJSON.h>

#include "canon.h"
#include "ledger.h"
#include "reckon.h"
#include "replay.h"
#include "replay_common.h"

static int usage(void)
{
    fprintf(stderr, "usage: reckon replay --db DIR [--at SEQ | --as-of TIME] [--ref REF] "
                    "[--format json|table]\n");
    return RK_EXIT_USAGE;
}

static const char *str_or(const cJSON *o, const char *key, const char *dflt)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, key);

    return cJSON_IsString(m) ? m->valuestring : dflt;
}

/* One line per payment: reference, the three planes, the differences. */
static int print_table(const rk_buf *doc, char *err)
{
    cJSON *root = NULL;
    const cJSON *pays, *p, *d, *x;
    rk_err rc;

    rc = rk_json_parse((const char *)doc->data, doc->len, &root, err);
    if (rc != RK_OK)
        return -1;
    pays = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "state"),
                                            "payments");
    printf("%-24s %-14s %-16s %-12s %-8s %s\n", "REF", "EXPECTED", "STATE", "PROVIDER",
           "FINANCE", "DIFFERENCES");
    cJSON_ArrayForEach(p, pays)
    {
        const cJSON *pv = cJSON_GetObjectItemCaseSensitive(p, "provider");
        const cJSON *ex = cJSON_GetObjectItemCaseSensitive(p, "expected");
        char expected[96] = "-";
        int first = 1;

        if (ex != NULL)
            snprintf(expected, sizeof expected, "%s %s", str_or(ex, "amount", "?"),
                     str_or(ex, "asset", "?"));
        printf("%-24s %-14s %-16s %-12s %-8s ", p->string, expected,
               cJSON_IsObject(pv) ? str_or(pv, "state", "-") : "-",
               cJSON_IsObject(pv) ? str_or(pv, "provider_state", "-") : "-",
               cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(p, "finance")) ? "yes" : "no");
        cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(p, "differences"))
        {
            x = cJSON_GetObjectItemCaseSensitive(d, "kind");
            printf("%s%s", first ? "" : ",", cJSON_IsString(x) ? x->valuestring : "?");
            first = 0;
        }
        printf("%s\n", first ? "-" : "");
    }
    printf("state_digest %s\n", str_or(root, "state_digest", "?"));
    cJSON_Delete(root);
    return 0;
}

static rk_err run(rk_ledger *l, const rk_tool_replay_args *a, rk_buf *out, char *err)
{
    return rk_replay_run(l, &a->pt, a->ref, out, err);
}

int cmd_replay(int argc, char **argv)
{
    return rk_tool_replay_main("replay", argc, argv, 0, 0, usage, run,
                               print_table);
}
