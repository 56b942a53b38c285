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

/* A member's text (a string, or a number as written), or "?". */
static const char *str_of(const cJSON *o, const char *key)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, key);

    return (cJSON_IsString(m) || cJSON_IsNumber(m)) && m->valuestring != NULL ? m->valuestring
                                                                               : "?";
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
        /* rk_json_parse keeps a number's text in valuestring. */
        printf("%-8s %-16s %-30s %-33s ", str_of(o, "seq"), str_of(o, "kind"),
               str_of(o, "recorded_at"), states);
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

static rk_err run(rk_ledger *l, const rk_tool_replay_args *a, rk_buf *out, char *err)
{
    return rk_replay_timeline(l, a->ref, &a->pt, out, err);
}

int cmd_timeline(int argc, char **argv)
{
    return rk_tool_replay_main("timeline", argc, argv, 1, 1, usage, run,
                               print_table);
}
