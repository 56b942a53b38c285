/*
 * reckon.h - what the command files share: one entry point per command
 * (git's builtin.h) and the exit codes every command documents.
 *
 * A command parses its arguments, calls the engine's public API and prints.
 * It never includes a private engine header and never touches RocksDB.
 */
#ifndef RK_TOOLS_RECKON_H
#define RK_TOOLS_RECKON_H

#include "error.h"

enum {
    RK_EXIT_OK = 0,      /* success */
    RK_EXIT_PROBLEM = 1, /* the check found a problem: damage, bad signature */
    RK_EXIT_USAGE = 2,   /* usage, input or I/O error */
};

/* Print "reckon <cmd>: <message>" to stderr. */
void rk_tool_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Exit code for an engine error that is not a finding: always 2. */
int rk_tool_fail(const char *cmd, rk_err rc, const char *err);

/*
 * Option parsing shared by every command: "--name value" or "--name=value".
 * rk_opt_value returns 1 and sets *val when argv[*i] is that option
 * (advancing *i past its value), 0 when it is not, -1 when the value is
 * missing (after printing a usage error).
 */
int rk_opt_value(const char *cmd, int argc, char **argv, int *i,
                 const char *name, const char **val);

/* Parse a decimal unsigned 64-bit number; 0 on success, -1 if not one. */
int rk_parse_u64(const char *s, unsigned long long *out);

int cmd_append(int argc, char **argv);
int cmd_checkpoint(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_import_commerce(int argc, char **argv);
int cmd_import_finance(int argc, char **argv);
int cmd_import_api_read(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_proof(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_help(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_sign_file(int argc, char **argv);
int cmd_webhook(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_timeline(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_note(int argc, char **argv);

#endif
