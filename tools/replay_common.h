/*
 * replay_common.h - what the replay, timeline and diff commands share:
 * parsing a replay point (--at SEQ, --as-of TIME) and opening the ledger.
 */
#ifndef RK_TOOLS_REPLAY_COMMON_H
#define RK_TOOLS_REPLAY_COMMON_H

#include "ledger.h"
#include "replay.h"

/*
 * Parse a point given as a sequence number ("42") or an RFC 3339 time.
 * Returns 0, or -1 after printing a usage error naming the option.
 */
int rk_tool_point(const char *cmd, const char *opt, const char *seq_text,
                  const char *time_text, rk_replay_point *pt);

/* The options replay and timeline share. */
typedef struct rk_tool_replay_args {
    const char *db, *ref, *format; /* format: "json" (default) or "table" */
    rk_replay_point pt;            /* from --at SEQ or --as-of TIME */
} rk_tool_replay_args;

/*
 * Parse argv[1..] of replay or timeline: --db DIR [--at SEQ | --as-of TIME]
 * [--ref REF] [--format json|table].  --db is required, and --ref too when
 * need_ref is set.  Returns 0, or -1 after printing what was wrong (the
 * caller then prints its usage line).
 */
int rk_tool_replay_args_parse(const char *cmd, int argc, char **argv, int need_ref,
                              rk_tool_replay_args *a);

/* What replay or timeline computes, into out. */
typedef rk_err (*rk_tool_replay_fn)(rk_ledger *l, const rk_tool_replay_args *a, rk_buf *out,
                                    char *err);

/* How --format table prints out; 0, or -1 with err set. */
typedef int (*rk_tool_table_fn)(const rk_buf *out, char *err);

/*
 * The body of replay and timeline: parse the options (usage() on a wrong
 * one), open the ledger read-only, run, print out as --format says (json:
 * as it is when json_lines, each line ended already, else with a newline
 * added; table: through table), close.  Returns the exit code.
 */
int rk_tool_replay_main(const char *cmd, int argc, char **argv, int need_ref, int json_lines,
                        int (*usage)(void), rk_tool_replay_fn run, rk_tool_table_fn table);

/* The end of a command that prints one JSON document: when rc is RK_OK,
 * out and a newline to stdout, else rc reported for cmd with err.  Returns
 * the exit code. */
int rk_tool_print_json(const char *cmd, rk_err rc, const char *err, const rk_buf *out);

#endif
