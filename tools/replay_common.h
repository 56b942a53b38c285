/*
 * replay_common.h - what the replay, timeline and diff commands share:
 * parsing a replay point (--at SEQ, --as-of TIME) and opening the ledger.
 */
#ifndef RK_TOOLS_REPLAY_COMMON_H
#define RK_TOOLS_REPLAY_COMMON_H

#include "replay.h"

/*
 * Parse a point given as a sequence number ("42") or an RFC 3339 time.
 * Returns 0, or -1 after printing a usage error naming the option.
 */
int rk_tool_point(const char *cmd, const char *opt, const char *seq_text,
                  const char *time_text, rk_replay_point *pt);

/* Print a canonical JSON buffer and a newline to stdout. */
void rk_tool_print_json(const rk_buf *b);

#endif
