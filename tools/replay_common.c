/* replay_common.c - helpers of the replay, timeline and diff commands. */
#include <stdio.h>

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

void rk_tool_print_json(const rk_buf *b)
{
    fwrite(b->data, 1, b->len, stdout);
    fputc('\n', stdout);
}
